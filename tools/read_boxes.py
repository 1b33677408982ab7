"""`mnist-cnn read` on numbers written one digit per box of a form (a postcode's field, a comb's ticks), or circled.

    PYTHONPATH=src python tools/read_boxes.py --model runs/NAME [--n 60] [--seed 0] [--circled]

Draws --n numbers of 3-6 MNIST *test* digits, each in its own box on grey paper: half closed boxes, half combs
(a line under the digits with ticks between them, half a box high), box sides 2-5% of a box's width thick,
digits 75-95% of a box and a few px off its middle; --circled: no boxes, a pen's ellipse around the number
instead (4-8% of a box thick, clear of the digits). Prints how many `read_image` reads exactly, with the boxes
(or the circle) and for the same digits on the same paper without them (what the digits alone allow), and the
reasons given for the numbers refused.
"""

from __future__ import annotations

import argparse
import collections

import cv2
import numpy as np
from PIL import Image

from mnist_cnn.data import load_mnist
from mnist_cnn.predict import Predictor
from mnist_cnn.read import read_image
from mnist_cnn.errors import run_tool

PAPER, LINE, INK = 235.0, 120.0, 0.85  # grey levels: paper, printed box lines; the pen darkens 85% of the paper


def boxed(digits, x, y, rng, boxes: bool = True, circled: bool = False) -> Image.Image:
    """One picture: each digit (MNIST test images x, labels y) in its own box (circled: the number in a pen's ellipse),
    or without either."""
    cell = int(rng.integers(40, 90))
    pad = int(cell * 0.15)
    shape = (cell + 2 * pad, cell * len(digits) + 2 * pad)
    page = np.full(shape, PAPER) + rng.normal(0, 3, shape)
    line = max(1, int(cell * rng.uniform(0.02, 0.05)))
    closed = rng.random() < 0.5
    pen = max(2, int(cell * rng.uniform(0.04, 0.08))) if circled else 0
    if boxes and circled:
        page = np.pad(page, pad + cell // 2, constant_values=PAPER)
        middle = (page.shape[1] // 2, page.shape[0] // 2)
        cv2.ellipse(page, middle, (cell * len(digits) // 2 + cell // 2, cell // 2 + cell // 3), 0, 0, 360,
                    PAPER * (1 - INK), pen)
        pad += pad + cell // 2
    for i, d in enumerate(digits):
        x0 = pad + i * cell
        if boxes and not circled and closed:
            cv2.rectangle(page, (x0, pad), (x0 + cell, pad + cell), LINE, line)
        elif boxes and not circled:
            for side in (x0, x0 + cell):
                cv2.line(page, (side, pad + cell // 2), (side, pad + cell), LINE, line)
            cv2.line(page, (x0, pad + cell), (x0 + cell, pad + cell), LINE, line)
        g = x[rng.choice(np.flatnonzero(y == d))].astype(np.float32) / 255
        s = int(cell * rng.uniform(0.75, 0.95))
        g = cv2.resize(g, (s, s))
        ox, oy = x0 + (cell - s) // 2 + int(rng.integers(-3, 4)), pad + (cell - s) // 2 + int(rng.integers(-3, 4))
        page[oy:oy + s, ox:ox + s] *= 1 - INK * g
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="run folder, .keras or export (default: the best run in runs/)")
    ap.add_argument("--n", type=int, default=60, help="numbers (default: 60)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the pictures (default: 0)")
    ap.add_argument("--circled", action="store_true", help="a pen's ellipse around each number, no boxes (default: "
                                                           "boxes)")
    args = ap.parse_args()
    (_, _), (x, y) = load_mnist()
    predictor = Predictor(args.model)
    right, why = {True: 0, False: 0}, {True: collections.Counter(), False: collections.Counter()}
    for boxes in (True, False):
        rng = np.random.default_rng(args.seed)  # the same digits, sizes and paper either way
        for _ in range(args.n):
            digits = rng.integers(0, 10, int(rng.integers(3, 7)))
            r = read_image(predictor, boxed(digits, x, y, rng, boxes, args.circled))
            right[boxes] += r.text == "".join(map(str, digits))
            if r.rejected:
                why[boxes][r.reason] += 1
    for boxes in (True, False):
        refused = ", ".join(f"{n} {reason}" for reason, n in why[boxes].most_common())
        shown = ("circled" if args.circled else "in boxes") if boxes else "plain"
        print(f"{shown}: {right[boxes]} of {args.n} read exactly"
              f"{f' (refused: {refused})' if refused else ''}")
    return 0


if __name__ == "__main__":
    run_tool(main)
