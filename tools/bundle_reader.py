"""Put a run's line reader and piece gate into the package (src/mnist_cnn/pretrained/), for runs without their own.

    .venv/bin/mnist-cnn fit-reader runs/NAME                          # ~45 min on 2 cores: the reader, its piece gate
    PYTHONPATH=src python tools/bundle_reader.py runs/NAME [--seed 0] [--strings 200000] [--epochs 3]

Checks RUN's ONNX reader against its Keras reader on the fit's validation strings (line_data.Composer at seed + 1:
the same text for every string, else it stops), then copies it and the piece gate (exported to ONNX here when RUN has
only its .keras) atomically into src/mnist_cnn/pretrained/, and writes pretrained/bundled.json: how they were made
(the commands, the run, the commit at bundling, the CPU, the date), the exact match and each file's SHA-256. --seed,
--strings and --epochs are the fit's, recorded as given (the run folder keeps no record of them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from mnist_cnn import bundled, files, line_fit, line_reader
from mnist_cnn.errors import UserError, run_tool
from mnist_cnn.gate import PIECE_STEM, gate_paths, write_gate
from mnist_cnn.hardware import cpu_info
from mnist_cnn.rundir import RunDir, sha256_file


def agreement(reader_keras: Path, reader_onnx: Path, seed: int, data_dir) -> dict:
    """The Keras reader and its ONNX export on line_fit.VALIDATION strings at seed + 1: exact match of each, and the
    share of strings both read the same."""
    import keras

    from mnist_cnn.data import load_mnist
    from mnist_cnn.line_data import Composer, training_fonts

    (x, y), _ = load_mnist(data_dir)
    vx, vt = Composer(x, y, training_fonts(), seed + 1).batch(line_fit.VALIDATION, line_fit.WIDTH, line_reader.HEIGHT)
    model = keras.saving.load_model(reader_keras, compile=False)
    keras_probs = line_reader.softmax(np.asarray(model.predict(vx[..., None], batch_size=256, verbose=0)))
    onnx_logits = line_reader.LineReader(reader_onnx, "onnx")._logits(vx[..., None])
    keras_text = [line_reader.decode(p)[0] for p in keras_probs]
    onnx_text = [line_reader.decode(p)[0] for p in line_reader.softmax(onnx_logits)]
    return {"strings": len(vt), "exact_keras": float(np.mean([a == t for a, t in zip(keras_text, vt)])),
            "exact_onnx": float(np.mean([a == t for a, t in zip(onnx_text, vt)])),
            "same_text": float(np.mean([a == b for a, b in zip(keras_text, onnx_text)]))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a run folder after `mnist-cnn fit-reader RUN`")
    ap.add_argument("--seed", type=int, default=0, help="the fit's --seed (default: 0)")
    ap.add_argument("--strings", type=int, default=line_fit.STRINGS, help=f"the fit's --strings (default: "
                    f"{line_fit.STRINGS})")
    ap.add_argument("--epochs", type=int, default=line_fit.EPOCHS, help=f"the fit's --epochs (default: "
                    f"{line_fit.EPOCHS})")
    ap.add_argument("--data-dir", type=Path, help="data folder (default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")
    args = ap.parse_args()
    run = RunDir.open(args.run).path
    reader, piece = {form: RunDir(run).line_reader(form) for form in ("keras", "onnx")}, gate_paths(run, PIECE_STEM)
    for path, what in ((reader["keras"], "line reader"), (reader["onnx"], "ONNX line reader"),
                       (piece["keras"], "piece gate")):
        if not path.is_file():
            raise UserError(f"{path}: expected the run's {what} (mnist-cnn fit-reader {run}), found none")
    if not piece["onnx"].is_file():
        write_gate(run, "onnx", piece["onnx"], PIECE_STEM)
    checked = agreement(reader["keras"], reader["onnx"], args.seed, args.data_dir)
    if checked["same_text"] < 1:
        raise UserError(f"{reader['onnx']}: expected the ONNX reader to read every validation string as the Keras "
                        f"one does, found {checked['same_text']:.1%}; export it again: mnist-cnn export {run} "
                        f"--format onnx")
    bundled.FOLDER.mkdir(exist_ok=True)
    for source, dest in ((reader["onnx"], bundled.READER), (piece["onnx"], bundled.PIECE_GATE)):
        with files.atomic_path(dest) as tmp:
            shutil.copyfile(source, tmp)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    record = {
        "made_by": f"mnist-cnn fit-reader RUN --strings {args.strings} --epochs {args.epochs} --seed {args.seed}; "
                   f"python tools/bundle_reader.py RUN --seed {args.seed}",
        "run": run.name, "bundled_at_commit": commit or None, "cpu": cpu_info().to_dict(),
        "date": time.strftime("%Y-%m-%d"), "validation": checked,
        "sha256": {p.name: sha256_file(p) for p in (bundled.READER, bundled.PIECE_GATE)},
    }
    files.write_json(bundled.PROVENANCE, record)
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    run_tool(main)
