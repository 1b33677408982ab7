"""A sequence reader for digits that touch: a small convolutional network trained with CTC.

    from mnist_cnn import line_reader
    x = line_reader.line_input(ink)             # a mark's ink -> (HEIGHT, w) float32, its height normalised
    reader = line_reader.open_reader(run, "onnx")           # a run's reader, else the package's (None: neither)
    [(text, confidences, spans)] = reader.read([ink])      # "4071", each digit's confidence and columns
    text, confidences, spans = line_reader.decode(probabilities)   # greedy CTC decoding, NumPy only

The network (line_fit.py builds and trains it, `mnist-cnn fit-reader RUN`): convolutions collapse the
height into a sequence of columns (one per STRIDE input columns); 1-D convolutions along it give each
column a view of its neighbours; per column, logits over blank + 10 digits. Only convolutions and
pooling: it exports to ONNX and reads marks of any width without Keras (onnxruntime).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .errors import UserError

HEIGHT = 32  # input rows: the ink's height is scaled to INNER, with MARGIN rows of black above and below
INNER = 28  # MNIST's frame
MARGIN = 2
SIDE = 4  # columns of black left and right
STRIDE = 2  # input columns per output step: a touching "11" at INNER rows is ~10 columns, 5 steps (CTC needs 3)
STRETCHES = (1.0, 0.8, 1.4)  # widths a mark is read at, as a share of its own: digits narrower or wider than the
# training strings' (a condensed hand) are read nearer the width the reader knows, and the reading whose least sure
# digit is surest stands. On touching numbers (`tools/read_eval.py --styles touching`, `best`) 153 -> 157 of 200 at
# seed 0 and 155 -> 162 at seed 5 (fonts +5 and +8, MNIST digits -1 each); 1.4 alone, 1.6 or three widths read as
# much or less
BLANK = 0  # CTC's blank class; digit d is class d + 1
CLASSES = 11


def line_input(ink: np.ndarray, height: int = HEIGHT, stretch: float = 1.0) -> np.ndarray:
    """A mark's ink (white on black, any size) -> (height, w) float32 in [0, 1]: cropped to the ink, scaled
    so the ink is INNER/HEIGHT of the rows (and its width `stretch` times more), black margins, w a multiple of
    STRIDE."""
    inner = round(height * INNER / HEIGHT)
    rows, cols = np.flatnonzero(ink.max(1) > 0), np.flatnonzero(ink.max(0) > 0)
    if not len(rows):
        return np.zeros((height, 2 * SIDE), np.float32)
    a = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float32)
    scale = inner / a.shape[0]
    w = max(1, round(a.shape[1] * scale * stretch))
    a = cv2.resize(a, (w, inner), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    a = a.clip(0, None) / max(float(a.max()), 1e-6)
    top = (height - inner) // 2
    right = SIDE + (-(w + 2 * SIDE)) % STRIDE
    return np.pad(a, ((top, height - inner - top), (SIDE, right)))


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def decode(probs: np.ndarray) -> tuple[str, list[float], list[tuple[int, int]]]:
    """Greedy CTC decoding of one (steps, CLASSES) probability array: the digits, each one's confidence (its
    class's highest probability over its run of steps) and its run of steps [first, last]."""
    best = probs.argmax(1)
    text, confidences, spans = "", [], []
    t = 0
    while t < len(best):
        c = best[t]
        end = t
        while end + 1 < len(best) and best[end + 1] == c:
            end += 1
        if c != BLANK:
            text += str(c - 1)
            confidences.append(float(probs[t:end + 1, c].max()))
            spans.append((t, end))
        t = end + 1
    return text, confidences, spans


def reader_paths(run: Path) -> dict:
    """Where a run keeps its line reader: Keras, and ONNX for the exported runtimes."""
    from .rundir import RunDir

    return {"keras": RunDir(run).line_reader("keras"), "onnx": RunDir(run).line_reader("onnx")}


def open_reader(run: Path, runtime: str, threads: int | None = None) -> "LineReader | None":
    """The run's line reader for a predictor in `runtime` (Keras for keras; ONNX Runtime for the exports, with the
    model's `threads`); where the run has none for it, the package's (bundled.py); None when neither can run here:
    `read` then cuts touching digits apart."""
    from . import bundled
    from .extras import importable

    path = reader_paths(run)["keras" if runtime == "keras" else "onnx"]
    if path.is_file() and (runtime == "keras" or importable("onnxruntime")):
        return LineReader(path, "keras" if runtime == "keras" else "onnx", threads)
    return bundled.reader(threads)


class LineReader:
    """A trained reader, called on marks' ink: Keras (a compiled forward pass) or an ONNX export."""

    def __init__(self, path, runtime: str = "keras", threads: int | None = None, bundled: bool = False):
        self.path, self.runtime, self.bundled = Path(path), runtime, bundled  # bundled: the package's (bundled.py)
        remedy = "reinstall mnist-cnn, whose file it is" if bundled else "re-make it with: mnist-cnn fit-reader RUN"
        if runtime == "keras":
            import tensorflow as tf
            import keras

            try:
                model = keras.saving.load_model(self.path, compile=False)
            except Exception as e:  # Keras' own errors: a damaged or foreign file
                raise UserError(f"{self.path}: not a line reader Keras can load ({str(e).splitlines()[0][:200]}); "
                                f"{remedy}") from None
            fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True,
                             input_signature=[tf.TensorSpec([None, HEIGHT, None, 1], tf.float32)])
            self._logits = lambda x: np.asarray(fn(x), np.float32)
        else:
            import onnxruntime as ort

            try:
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads or 0  # as the digit model's (runtime.OnnxModel)
                session = ort.InferenceSession(self.path.read_bytes(), options, providers=["CPUExecutionProvider"])
            except Exception as e:  # ONNX Runtime's own errors: a damaged or foreign file
                raise UserError(f"{self.path}: not a line reader ONNX Runtime can load ({str(e).splitlines()[0][:200]}"
                                f"); {remedy}") from None
            name = session.get_inputs()[0].name
            self._logits = lambda x: session.run(None, {name: x})[0]

    def read(self, inks: list[np.ndarray], stretches=STRETCHES) -> list[tuple[str, list[float], list[tuple]]]:
        """Each mark's digits, their confidences and their column ranges in the mark's ink (decimal columns): of its
        readings at each of `stretches` (all in one batch), the one whose least sure digit is surest."""
        xs = [line_input(ink, stretch=f) for ink in inks for f in stretches]
        width = max(x.shape[1] for x in xs)
        batch = np.zeros((len(xs), HEIGHT, width, 1), np.float32)
        for i, x in enumerate(xs):
            batch[i, :, :x.shape[1], 0] = x
        probs = softmax(self._logits(batch))
        out = []
        for k, ink in enumerate(inks):
            cols = np.flatnonzero(ink.max(0) > 0)
            rows = np.flatnonzero(ink.max(1) > 0)
            scale = round(HEIGHT * INNER / HEIGHT) / max(1, rows[-1] - rows[0] + 1) if len(rows) else 1.0
            first = cols[0] if len(cols) else 0
            readings = []
            for j, f in enumerate(stretches):
                x, p = xs[k * len(stretches) + j], probs[k * len(stretches) + j]
                text, confidences, spans = decode(p[:x.shape[1] // STRIDE])
                readings.append((min(confidences, default=0.0), -j, text, confidences,
                                 [(first + (a * STRIDE - SIDE) / (scale * f), first + ((b + 1) * STRIDE - SIDE) /
                                   (scale * f)) for a, b in spans]))
            out.append(max(readings)[2:])
        return out
