"""Compare test-time augmentation variants on a run's VALIDATION split (never the test set).

    .venv/bin/python tools/tta_variants.py runs/best-s1      # ~1 min on 2 cores

Rebuilds the run's own validation split from its config.json (same seed, same fraction), then prints
validation accuracy and errors for: no TTA, 1-pixel shifts (4 or 8 directions), +-5 and +-10 degree
rotations, +-10% zoom, the left-right mirror, and combinations. evaluate.TTA_SHIFTS was chosen from this
table, and evaluate.TTA's "shifts+mirror" for nets trained with flips.
"""

import argparse

import mnist_cnn  # noqa: F401  (quiets TensorFlow's start-up log before Keras loads)
import keras
import numpy as np

from mnist_cnn import data, evaluate
from mnist_cnn.errors import run_tool
from mnist_cnn.rundir import RunDir

SHIFTS4 = ["s-1,0", "s1,0", "s0,-1", "s0,1"]
VARIANTS = {
    "none": [],
    "shift 1 px, 4 directions (TTA_SHIFTS)": SHIFTS4,
    "shift 1 px, 8 directions": SHIFTS4 + ["s1,1", "s1,-1", "s-1,1", "s-1,-1"],
    "rotate +-5 deg": ["r5", "r-5"],
    "rotate +-10 deg": ["r10", "r-10"],
    "zoom +-10%": ["z0.9", "z1.1"],
    "shifts + rotate +-5 deg": SHIFTS4 + ["r5", "r-5"],
    "all of the above": SHIFTS4 + ["r5", "r-5", "z0.9", "z1.1"],
    "mirror (for nets trained with flips)": ["m"],
    "mirror + shifts of both (evaluate's shifts+mirror)": ["m", *SHIFTS4, *("m" + k for k in SHIFTS4)],
}


def affine(x: np.ndarray, degrees: float = 0.0, scale: float = 1.0) -> np.ndarray:
    """Rotate and zoom about the image centre (the RandomAffine warp, with fixed parameters)."""
    t = np.deg2rad(degrees)
    c, s = np.cos(t) / scale, np.sin(t) / scale
    centre = (x.shape[1] - 1) / 2
    row = np.array([c, -s, centre - c * centre + s * centre, s, c, centre - s * centre - c * centre, 0, 0], np.float32)
    return np.asarray(keras.ops.image.affine_transform(x, np.tile(row, (len(x), 1)), fill_mode="constant"))


def variant(x: np.ndarray, key: str) -> np.ndarray:
    if key.startswith("m"):
        return variant(x[:, :, ::-1], key[1:]) if key[1:] else x[:, :, ::-1]
    kind, arg = key[0], key[1:]
    if kind == "s":
        dy, dx = map(int, arg.split(","))
        return evaluate.shift(x, dy, dx)
    return affine(x, degrees=float(arg)) if kind == "r" else affine(x, scale=float(arg))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="a finished run folder")
    folder = RunDir.open(p.parse_args().run)
    cfg = folder.config()
    (x, y), _ = data.load_dataset(cfg.dataset, cfg.data_dir)
    _, val = data.split(len(x), cfg.validation_split, cfg.seed, cfg.limit)
    x_val, y_val = data.normalise(x[val]), y[val]
    model = folder.load_best()
    cache = {"id": evaluate.predict_proba(model, x_val)}
    for name, keys in VARIANTS.items():
        for k in keys:
            if k not in cache:
                cache[k] = evaluate.predict_proba(model, variant(x_val, k))
        p = np.mean([cache[k] for k in ["id", *keys]], axis=0)
        print(f"{name:<40} validation accuracy {evaluate.accuracy(y_val, p):.4%}, "
              f"{int((p.argmax(1) != y_val).sum())} errors of {len(y_val)}")


if __name__ == "__main__":
    run_tool(main)
