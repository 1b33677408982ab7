"""How a run reads MNIST test digits written at several heights: accuracy and the "not a digit" gate, by height.

    PYTHONPATH=src python tools/digit_sizes.py --model runs/NAME [--n 1500] [--heights 10,13,16,20,26,40,80]

Each digit's ink (its 20 px box) is resized to the height (OpenCV: area-averaged down, bicubic up), put on
black paper with an 8 px margin and read by `images.to_mnist`, as `predict` and `read` read a digit of that
size; then the run's model and rule (`predict.Predictor`). Printed per height: the share the gate alone calls "not
a digit" (P >= 0.5; the rule refuses at its own threshold, weighed with the model's confidence) and its mean P,
and the share read right and not refused by the rule. A small digit is one in a
photo of a whole page, a form's cell or a number written small; `read`'s pictures are 36-90 px tall.
"""

import argparse

import cv2
import numpy as np

from mnist_cnn import images
from mnist_cnn.data import load_dataset
from mnist_cnn.predict import Predictor
from mnist_cnn.errors import run_tool


def written(digit: np.ndarray, height: int) -> np.ndarray:
    """A uint8 28x28 MNIST digit's ink box resized to `height` px, on black paper: (H, W) float32 in [0, 1]."""
    a = digit.astype(np.float32) / 255
    rows, cols = np.flatnonzero(a.max(1) > 0.1), np.flatnonzero(a.max(0) > 0.1)
    a = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    k = height / a.shape[0]
    size = (max(1, round(a.shape[1] * k)), height)
    a = cv2.resize(a, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
    return np.pad(a.clip(0, 1), 8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a run folder or model file, as for `mnist-cnn predict --model`")
    ap.add_argument("--n", type=int, default=1500, help="test digits, drawn at random with seed 1 (default: 1500)")
    ap.add_argument("--heights", default="10,13,16,20,26,40,80",
                    help="digit heights in px (default: 10,13,16,20,26,40,80)")
    args = ap.parse_args()
    (_, _), (x, y) = load_dataset("mnist")
    pick = np.random.default_rng(1).choice(len(x), args.n, replace=False)
    predictor = Predictor(args.model)
    if predictor.not_digit(np.zeros((1, 28, 28), np.float32)) is None:
        ap.error(f"--model: {args.model} has no \"not a digit\" gate (mnist-cnn calibrate RUN fits one)")
    print(f"model: {predictor.path} ({predictor.runtime}); {args.n} MNIST test digits\n")
    print("| height px | gate: not a digit (P >= 0.5) | gate: mean P | read right, not refused |")
    print("|---|---|---|---|")
    for height in (int(h) for h in args.heights.split(",")):
        seen = np.stack([images.to_mnist(written(x[i], height)) for i in pick])
        not_digit = predictor.not_digit(seen)
        right = np.mean([not d.rejected and d.digit == y[i] for d, i in zip(predictor.decide(seen), pick)])
        print(f"| {height} | {np.mean(not_digit >= 0.5):.1%} | {not_digit.mean():.3f} | {right:.1%} |")


if __name__ == "__main__":
    run_tool(main)
