"""The line reader and piece gate that ship inside the package: `read` uses them for a run without its own.

    from mnist_cnn import bundled
    reader = bundled.reader()       # a line_reader.LineReader on pretrained/linereader.onnx (None: no onnxruntime)
    gate = bundled.piece_gate()     # (N, 28, 28, 1) float32 pieces -> (N,) P(not a digit)
    bundled.provenance()            # pretrained/bundled.json: the commands, CPU and figures they came from

Neither sees a run's digit model (the reader reads a mark's ink, the piece gate judges the 28x28 pieces cut between
the reader's digits), so one fit serves every run. Fitting them takes most of an hour (`mnist-cnn fit-reader`) and
`make run` a few minutes, so the package carries one pair, made by `python tools/bundle_reader.py RUN` from a run after
`mnist-cnn fit-reader RUN` (docs/reading.md, "The bundled reader": what it changes, measured). A run's own reader for
the predictor's runtime comes first, with its own piece gate; the bundled one always goes with the bundled piece gate.
ONNX Runtime runs them, whatever the digit model's runtime (a dependency of the package; without it, no reader:
touching digits are cut apart).
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent / "pretrained"
READER = FOLDER / "linereader.onnx"
PIECE_GATE = FOLDER / "notdigit-pieces.onnx"
PROVENANCE = FOLDER / "bundled.json"


def available() -> bool:
    """Whether the bundled reader can run here: its files are in the package and ONNX Runtime is installed."""
    from .extras import importable

    return READER.is_file() and PIECE_GATE.is_file() and importable("onnxruntime")


def reader(threads: int | None = None):
    """The bundled line reader in ONNX Runtime (line_reader.LineReader, `bundled` True), or None when unavailable."""
    from .line_reader import LineReader

    return LineReader(READER, "onnx", threads, bundled=True) if available() else None


def piece_gate(threads: int | None = None):
    """The bundled piece gate: (N, 28, 28, 1) float32 -> (N,) P(not a digit), as gate.open_gate gives a run's."""
    from .runtime import OnnxModel

    model = OnnxModel(PIECE_GATE, classes=2, threads=threads)
    return lambda x: model.probabilities(x)[:, 1]


def provenance() -> dict:
    """How the bundled files were made (tools/bundle_reader.py): {} when the package carries none."""
    from .rundir import read_object

    return read_object(PROVENANCE) or {}
