"""`mnist-cnn read` on numbers that are printed or lit, not written: type faces and seven-segment displays.

    PYTHONPATH=src python tools/printed_digits.py --model runs/NAME [--n 30] [--seed 3]    # ~1 min

Numbers of 2-5 digits, --n per kind: dark type on light paper in seven DejaVu and Liberation faces (40-90 px),
and seven-segment digits (a meter, a clock) drawn three ways: segments joined, segments apart by most of a stroke's
width (as on most displays), and light segments apart on a dark ground (an LED display). Prints how many of each are
read exactly and how many refused, and the first misreadings. The model reads handwriting; this says how far that
carries to print and to displays.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mnist_cnn.errors import run_tool
from mnist_cnn.predict import Predictor
from mnist_cnn.read import read_image

FACES = ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSansMono.ttf", "dejavu/DejaVuSans-Bold.ttf",
         "liberation/LiberationSans-Regular.ttf", "liberation/LiberationSerif-Regular.ttf",
         "liberation/LiberationMono-Regular.ttf")
SEGMENTS = {"0": "abcdef", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc", "5": "afgcd", "6": "afgedc", "7": "abc",
            "8": "abcdefg", "9": "abcdfg"}
DISPLAYS = ("joined", "apart", "led")


def typed(text: str, face: str, rng) -> Image.Image:
    size = int(rng.integers(40, 90))
    font = ImageFont.truetype(f"/usr/share/fonts/truetype/{face}", size)
    image = Image.new("L", (int(font.getlength(text)) + size, size * 2), int(rng.integers(200, 250)))
    ImageDraw.Draw(image).text((size // 2, size // 3), text, font=font, fill=int(rng.integers(0, 60)))
    return image


def displayed(text: str, kind: str, rng) -> Image.Image:
    h = int(rng.integers(50, 100))
    w, stroke = h * 0.5, max(3, int(h * rng.uniform(0.08, 0.15)))
    gap = 0 if kind == "joined" else stroke * 0.8
    dark = kind == "led"
    ground = 20 if dark else int(rng.integers(170, 230))
    image = Image.new("L", (int(len(text) * (w + h * 0.45) + h), int(h * 1.8)), ground)
    draw = ImageDraw.Draw(image)
    for k, c in enumerate(text):
        x, y = h * 0.5 + k * (w + h * 0.45), h * 0.4
        top, middle, bottom = y, y + h / 2, y + h
        ends = {"a": ((x, top), (x + w, top)), "b": ((x + w, top), (x + w, middle)),
                "c": ((x + w, middle), (x + w, bottom)), "d": ((x, bottom), (x + w, bottom)),
                "e": ((x, middle), (x, bottom)), "f": ((x, top), (x, middle)), "g": ((x, middle), (x + w, middle))}
        for s in SEGMENTS[c]:
            (xa, ya), (xb, yb) = ends[s]
            length = np.hypot(xb - xa, yb - ya)
            ux, uy = (xb - xa) / length * gap, (yb - ya) / length * gap
            lit = 230 if dark else int(rng.integers(10, 60))
            draw.line((xa + ux, ya + uy, xb - ux, yb - uy), fill=lit, width=stroke)
    return image


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="run folder, .keras or export (default: the best run in runs/)")
    ap.add_argument("--n", type=int, default=30, help="numbers per face and per display (default: 30)")
    ap.add_argument("--seed", type=int, default=3, help="seed of the pictures (default: 3)")
    args = ap.parse_args()
    predictor, rng = Predictor(args.model), np.random.default_rng(args.seed)
    kinds = [(face.split("/")[1][:-4], lambda t, f=face: typed(t, f, rng)) for face in FACES]
    kinds += [(f"seven-segment, {kind}", lambda t, k=kind: displayed(t, k, rng)) for kind in DISPLAYS]
    for name, draw in kinds:
        right = refused = 0
        wrong = []
        for _ in range(args.n):
            text = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(2, 6))))
            r = read_image(predictor, draw(text))
            right, refused = right + (r.text == text), refused + r.rejected
            if r.text != text and not r.rejected and len(wrong) < 4:
                wrong.append(f"{text} read {r.text}")
        print(f"{name:<34} read {right:>3} of {args.n}, refused {refused:>3}  {', '.join(wrong)}")
    return 0


if __name__ == "__main__":
    run_tool(main)
