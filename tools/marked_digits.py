"""`mnist-cnn predict` and `mnist-cnn read` on one digit with a pen's mark round it, under it or through it, or light
on a dark plate.

    PYTHONPATH=src python tools/marked_digits.py --model runs/NAME [--n 100] [--seed 1] [--write DIR]

MNIST *test* digits, scaled to 140 px and drawn dark on a 260 px white page, as they are ("plain"), circled (a ring
of 105 px radius), underlined (a 120 px line 35 px under the digit's box), in a printed box (a 180 px square) and
struck through (a line across the middle), the pen 7 px wide, anti-aliased; or light (245) on a dark (40) plate on a
light (220) wall, as a house number or a label: a 200x220 px rectangle ("plate") or a disc of 110 px radius ("disc").
Printed: per kind, the share read right,
refused and read wrong by `predict`'s path (images.candidates, readings.decide_candidates) and by `read`. A struck
digit was crossed out by its writer: a refusal is as right as its digit there. --write DIR also saves the pictures,
KIND/NNNNN_LABEL.png (then `mnist-cnn predict DIR/KIND` gives the same answers).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from read_eval import add_reader, reader_name, use_reader

from mnist_cnn import images
from mnist_cnn.data import load_mnist
from mnist_cnn.errors import run_tool
from mnist_cnn.predict import Predictor
from mnist_cnn.read import read_image
from mnist_cnn.readings import decide_candidates

PAGE, DIGIT, TOP, PEN = 260, 140, 60, 7  # px: the page, the digit's 28x28 scaled, where it starts, the pen's width


def mark(digit: np.ndarray, kind: str) -> Image.Image:
    """A (28, 28) uint8 MNIST digit on a white page, with `kind`'s mark drawn by the same pen."""
    page = np.zeros((PAGE, PAGE), np.uint8)
    page[TOP:TOP + DIGIT, TOP:TOP + DIGIT] = cv2.resize(digit, (DIGIT, DIGIT), interpolation=cv2.INTER_CUBIC)
    middle, low = PAGE // 2, TOP + DIGIT
    if kind in ("plate", "disc"):
        wall = np.full((PAGE, PAGE), 220, np.uint8)
        if kind == "plate":
            cv2.rectangle(wall, (30, 20), (PAGE - 30, PAGE - 20), 40, -1)
        else:
            cv2.circle(wall, (middle, middle), 110, 40, -1)
        ink = page.astype(np.float32) / 255
        return Image.fromarray((wall * (1 - ink) + 245 * ink).astype(np.uint8))
    if kind == "circled":
        cv2.circle(page, (middle, middle), 105, 255, PEN, cv2.LINE_AA)
    elif kind == "underlined":
        cv2.line(page, (TOP + 10, low + 15), (low - 10, low + 12), 255, PEN, cv2.LINE_AA)
    elif kind == "boxed":
        cv2.rectangle(page, (40, 40), (PAGE - 40, PAGE - 40), 255, PEN, cv2.LINE_AA)
    elif kind == "struck":
        cv2.line(page, (TOP, middle + 10), (low, middle - 10), 255, PEN, cv2.LINE_AA)
    return Image.fromarray(255 - page)


KINDS = ("plain", "circled", "underlined", "boxed", "struck", "plate", "disc")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    ap.add_argument("--model", help="run folder or model file (default: the best run in runs/)")
    ap.add_argument("--n", type=int, default=100, help="MNIST test digits per kind (default: 100)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the picks (default: 1)")
    ap.add_argument("--write", type=Path, help="also save the pictures here (default: no)")
    add_reader(ap)
    args = ap.parse_args()
    (_, _), (x, y) = load_mnist()
    picks = np.random.default_rng(args.seed).choice(len(x), args.n, replace=False)
    predictor = use_reader(Predictor(args.model), args.reader)
    print(f"model: {predictor.path} ({predictor.runtime}); reader: {reader_name(predictor)}; seed {args.seed}\n")
    print("| kind | pictures | `predict` right | refused | wrong | `read` right | refused | wrong |\n"
          "|---|---|---|---|---|---|---|---|")
    for kind in KINDS:
        pictures = [mark(x[i], kind) for i in picks]
        if args.write:
            (args.write / kind).mkdir(parents=True, exist_ok=True)
            for i, p in zip(picks, pictures):
                p.save(args.write / kind / f"{i:05d}_{y[i]}.png")
        found = [images.candidates(p) for p in pictures]
        chosen = decide_candidates(predictor, found, lambda k: images.more_readings(pictures[k]))
        said = [None if d is None or d.rejected else str(d.digit) for _, d in chosen]
        read = [r.text or None for r in (read_image(predictor, p) for p in pictures)]
        row = [kind, str(args.n)]
        for answers in (said, read):
            right = sum(a == str(y[i]) for a, i in zip(answers, picks))
            refused = sum(a is None for a in answers)
            row += [f"{right / args.n:.0%}", f"{refused / args.n:.0%}", f"{(args.n - right - refused) / args.n:.0%}"]
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    run_tool(main)
