"""How well `mnist-cnn read` reads numbers photographed at a tilt: exact match by angle.

    PYTHONPATH=src python tools/read_tilted.py --model runs/NAME [--n 60] [--angles 0,5,10,15] [--seed 3]

The same photographed numbers (number_images.py's `photo` style: MNIST test digits, dark ink on lit
paper, JPEG) at each angle, turned about their centre with Pillow onto a canvas that holds them (paper
filling the corners), every other one the other way.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from mnist_cnn.data import load_mnist
from mnist_cnn.number_images import Writer
from mnist_cnn.predict import Predictor
from mnist_cnn.read import read_image
from mnist_cnn.errors import run_tool


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="run folder, .keras or export (default: the best run in runs/)")
    ap.add_argument("--n", type=int, default=60, help="numbers per angle (default: 60)")
    ap.add_argument("--angles", default="0,5,10,15", help="degrees, comma-separated (default: 0,5,10,15)")
    ap.add_argument("--seed", type=int, default=3, help="seed of the pictures (default: 3)")
    args = ap.parse_args()
    (_, _), (x, y) = load_mnist()
    predictor = Predictor(args.model)
    print(f"model: {predictor.path} ({predictor.runtime}); seed {args.seed}\n")
    print("| turned | numbers | exact match |\n|---|---|---|")
    for angle in (float(a) for a in args.angles.split(",")):
        writer, right = Writer(x, y, args.seed), 0
        for i in range(args.n):
            image, text = writer.number("photo")
            image = image.convert("L")
            paper = int(np.median(np.asarray(image)[:3]))
            image = image.rotate(angle if i % 2 else -angle, resample=Image.BICUBIC, expand=True, fillcolor=paper)
            right += read_image(predictor, image).text == text
        print(f"| {angle:g} degrees | {args.n} | {right / args.n:.1%} |")
    return 0


if __name__ == "__main__":
    run_tool(main)
