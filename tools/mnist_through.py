"""MNIST's 10,000 test digits through `images.to_mnist`, then each model: how many it gets wrong.

    PYTHONPATH=src .venv/bin/python tools/mnist_through.py runs/FAST runs/BEST          # ~1 min
    PYTHONPATH=OLD_CHECKOUT/src .venv/bin/python tools/mnist_through.py runs/FAST        # the code before

`mnist-cnn evaluate` scores a model on the test digits as MNIST stores them; this scores it on what
`predict`, `read` and the server hand it for the same digits (today: deslanted halfway, slant.py), so a
change to the preprocessing can be checked not to cost MNIST's own digits. The code is whichever
`mnist_cnn` PYTHONPATH names.
"""

import argparse

import numpy as np

from mnist_cnn.data import load_dataset
from mnist_cnn.images import to_mnist
from mnist_cnn.predict import Predictor
from mnist_cnn.errors import run_tool


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="run folders, .keras files or exports")
    args = ap.parse_args()
    _, (x, y) = load_dataset("mnist")
    seen = [to_mnist(d) for d in x]
    blank = np.array([s is None for s in seen])  # "no digit found": wrong whatever the model
    seen = np.stack([np.zeros((28, 28), np.float32) if s is None else s for s in seen])[..., None]
    for model in args.models:
        wrong = int(((Predictor(model).probabilities(seen).argmax(1) != y) | blank).sum())
        print(f"{model}: {wrong} wrong of {len(y):,} ({100 * (1 - wrong / len(y)):.2f}%; {blank.sum()} of them "
              f"\"no digit found\")")


if __name__ == "__main__":
    run_tool(main)
