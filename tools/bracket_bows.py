"""How many digits brackets.py would take for a bracket, by digit: MNIST's test digits and the handwriting faces'
digits, and the faces' own brackets, each measured alone as brackets.py measures the first or last mark of a row.

    PYTHONPATH=src python tools/bracket_bows.py [--size 60]

Each picture is scaled to --size px tall (bicubic), its ink taken above HAIRLINE of its strongest and split into
OpenCV's connected components as punctuation.find does; its largest component is tried as a "(" (bowed left) and as a
")" (bowed right) beside digits of its own height. A number is refused only when its first mark passes as "(" and its
last as ")", so the two rates multiply (docs/reading.md, "Brackets").
"""

import argparse

import cv2
import numpy as np
from PIL import Image

from mnist_cnn import brackets
from mnist_cnn.data import load_mnist
from mnist_cnn.errors import run_tool
from mnist_cnn.number_images import _font_glyph
from mnist_cnn.stroke_mask import HAIRLINE

from read_eval import fonts


def bows(a: np.ndarray, size: int) -> tuple[bool, bool]:
    """(bowed left, bowed right) for a (H, W) float picture in [0, 1], white ink on black."""
    scale = size / a.shape[0]
    a = np.asarray(Image.fromarray(a.astype(np.float32)).resize((max(1, round(a.shape[1] * scale)), size),
                                                               Image.Resampling.BICUBIC)).clip(0, 1)
    a = np.pad(a, 2)
    n, labels, stats, _ = cv2.connectedComponentsWithStats((a > HAIRLINE * a.max()).view(np.uint8), connectivity=8,
                                                           ltype=cv2.CV_32S)
    boxes = stats[1:, :4].astype(np.int64)
    i = int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    row = float(boxes[i, 3])
    return brackets._bowed(labels, boxes, i, row, -1), brackets._bowed(labels, boxes, i, row, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=60, help="px tall each picture is scaled to (default: 60)")
    args = ap.parse_args()
    (_, _), (x, y) = load_mnist()
    found = np.array([bows(a / 255.0, args.size) for a in x])
    print(f"MNIST's {len(x):,} test digits: bowed left {found[:, 0].sum()}, right {found[:, 1].sum()}")
    for d in range(10):
        print(f"  {d}: left {found[y == d, 0].sum()}, right {found[y == d, 1].sum()} of {np.sum(y == d)}")
    faces = fonts(other=False) + fonts(other=True)
    digits = np.array([bows(_font_glyph(str(d), args.size, f), args.size) for f in faces for d in range(10)])
    print(f"the faces' digits ({len(faces)} faces): bowed left {digits[:, 0].sum()}, right {digits[:, 1].sum()}")
    pairs = [(bows(_font_glyph("(", args.size, f), args.size)[0], bows(_font_glyph(")", args.size, f), args.size)[1])
             for f in faces]
    print(f"the faces' brackets: '(' found {sum(p[0] for p in pairs)}, ')' found {sum(p[1] for p in pairs)} "
          f"of {len(faces)}")
    return 0


if __name__ == "__main__":
    run_tool(main)
