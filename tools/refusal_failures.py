"""Pictures of what a run's refusal rule still gets wrong: the 28x28 images the model saw.

    PYTHONPATH=src python tools/refusal_failures.py RUN [--out refusal_failures.png] [--runtime keras]

Top rows: held-out non-digits (negatives.HELD_OUT) that were answered with a digit, labelled with
their family and the digit given. Bottom rows: MNIST test digits rendered as uploads (uploads.py,
the same held-out stand-in as `mnist-cnn calibrate --compare`) that were refused. Pillow only
(matplotlib belongs to plots.py).
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mnist_cnn import negatives, uploads
from mnist_cnn.data import load_mnist
from mnist_cnn.images import to_mnist
from mnist_cnn.predict import Predictor
from mnist_cnn.refusal_fit import NEGATIVES, TEST_UPLOADS_SEED, UPLOADS
from mnist_cnn.errors import run_tool

CELL, SCALE, PER_ROW = 84, 3, 10  # each 28x28 image drawn 3x, with a caption strip


def _tile(x: np.ndarray, caption: str) -> Image.Image:
    tile = Image.new("L", (CELL, CELL + 14), 255)
    tile.paste(Image.fromarray(np.uint8(np.round(x * 255))).resize((CELL, CELL), Image.NEAREST), (0, 14))
    ImageDraw.Draw(tile).text((2, 1), caption[:14], fill=0)
    return tile


def _grid(tiles: list, title: str) -> Image.Image:
    rows = max(1, -(-len(tiles) // PER_ROW))
    img = Image.new("L", (PER_ROW * (CELL + 4), 18 + rows * (CELL + 18)), 255)
    ImageDraw.Draw(img).text((2, 3), title, fill=0)
    for i, t in enumerate(tiles):
        img.paste(t, ((i % PER_ROW) * (CELL + 4), 18 + (i // PER_ROW) * (CELL + 18)))
    return img


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--out", default="refusal_failures.png")
    ap.add_argument("--runtime", default="keras")
    ap.add_argument("--max", type=int, default=30, help="pictures per part (default: 30)")
    args = ap.parse_args()
    p = Predictor(args.run, runtime=args.runtime)
    accepted, counts = [], {}
    for family, xs in negatives.as_mnist(negatives.generate(negatives.HELD_OUT, NEGATIVES,
                                                             negatives.HELD_OUT_SEED)).items():
        seen = [x for x in xs if x is not None]
        decisions = p.decide(np.stack(seen)) if seen else []
        wrong = [(x, d) for x, d in zip(seen, decisions) if not d.rejected]
        counts[family] = len(wrong)
        accepted += [_tile(x, f"{family[:9]} {d.digit}") for x, d in wrong[:4]]
    (_, _), (x_test, y_test) = load_mnist()
    shown = [to_mnist(im) for im in uploads.render(x_test[:UPLOADS], y_test[:UPLOADS], TEST_UPLOADS_SEED,
                                                  "Liberation")]
    keep = [i for i, x in enumerate(shown) if x is not None]
    decisions = p.decide(np.stack([shown[i] for i in keep]))
    refused = [_tile(shown[i], f"{uploads.FAMILIES[i % len(uploads.FAMILIES)]} {y_test[i]}")
               for i, d in zip(keep, decisions) if d.rejected]
    top = _grid(accepted[:args.max], f"held-out non-digits answered as a digit ({sum(counts.values())} of "
                                     f"{NEGATIVES * len(counts)}): family, digit given")
    bottom = _grid(refused[:args.max], f"uploaded test digits refused ({len(refused)} of {len(keep)}): "
                                       f"rendering, true digit")
    out = Image.new("L", (top.width, top.height + bottom.height + 10), 255)
    out.paste(top, (0, 0))
    out.paste(bottom, (0, top.height + 10))
    out.save(Path(args.out))
    print(f"{args.out}: accepted non-digits by family {counts}; refused digits {len(refused)}")


if __name__ == "__main__":
    run_tool(main)
