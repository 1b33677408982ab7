"""Large phone-photo-like JPEGs of MNIST test digits, read at full size and reduced to images.MAX_SIDE.

    PYTHONPATH=src .venv/bin/python tools/big_photos.py --model runs/NAME/exports/model.onnx [--n 80] [--side 40,150]

Each picture: a 4000x3000 or 3000x2250 page (even light or a light gradient, noise, JPEG quality 70-91) with
one MNIST test digit drawn --side px tall in evalset's stroke styles and ink colours. Prints, for both ways of
reading, the share read right (a refusal counts as wrong) and the CPU milliseconds an image of decoding and
`to_mnist`. The figures in docs/images.md for MAX_SIDE come from this script.
"""

import argparse
import io
import time

import numpy as np
from PIL import Image

from mnist_cnn import evalset_render as r, images
from mnist_cnn.data import load_mnist
from mnist_cnn.predict import Predictor
from mnist_cnn.errors import run_tool


def pictures(n: int, low: int, high: int, seed: int = 7) -> tuple[list[bytes], np.ndarray]:
    (_, _), (x, y) = load_mnist()
    rng, out = np.random.default_rng(seed), []
    for i in range(n):
        w = int(rng.choice([3000, 4000]))
        h = w * 3 // 4
        ink = r.place(r.strokes(x[i], rng, r.STYLES[rng.integers(3)], int(rng.integers(low, high))), (h, w), rng)
        rgb = r.put_ink(r.paper(rng, (h, w), ["even", "lit"][i % 2]), ink, r.ink_colour(rng))
        rgb = rgb + rng.normal(0, rng.uniform(0.01, 0.03), (h, w, 1)).astype(np.float32)
        buf = io.BytesIO()
        Image.fromarray(r.to_rgb8(rgb), "RGB").save(buf, "JPEG", quality=int(rng.integers(70, 92)))
        out.append(buf.getvalue())
    return out, y[:n]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="a run folder, .keras or exported model")
    p.add_argument("--n", type=int, default=80, help="pictures (default: 80)")
    p.add_argument("--side", default="60,700", help="the digit's height in px, low,high (default: 60,700)")
    args = p.parse_args()
    low, high = map(int, args.side.split(","))
    data, truth = pictures(args.n, low, high)
    predictor = Predictor(args.model, threads=1)
    for max_side in (None, images.MAX_SIDE):
        started = time.process_time()
        xs = [images.to_mnist(images.load_grey(d, max_side=max_side)) for d in data]
        ms = 1000 * (time.process_time() - started) / len(data)
        right = [x is not None and not (d := predictor.decide(x[None])[0]).rejected and d.digit == t
                 for x, t in zip(xs, truth)]
        print(f"max_side={max_side}: {np.mean(right):.1%} read right, {ms:.0f} ms of CPU an image")


if __name__ == "__main__":
    run_tool(main)
