"""A contact sheet of misread numbers (tools/read_eval.py --failures DIR): the picture, its truth and the reading.

    PYTHONPATH=src python tools/read_failures_sheet.py DIR docs/read_hardest.png [--per-style 3]

Takes the first --per-style failures of each style (by picture number, both sources mixed; file names
STYLE-SOURCE-I-TRUTH-read-TEXT.png), each scaled to one row height, captioned "truth -> read" ("none":
refused). Pillow only (plots.py keeps matplotlib).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from mnist_cnn import files
from mnist_cnn.number_images import STYLES

ROW = 90  # px: each picture's height on the sheet
WIDTH = 900  # px: the sheet's width; wider pictures are scaled down to it
CAPTION = 14  # px above each picture for its caption


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("failures", type=Path, help="folder written by read_eval.py --failures")
    ap.add_argument("out", type=Path, help="PNG file to write")
    ap.add_argument("--per-style", type=int, default=3, help="failures per style (default: 3)")
    args = ap.parse_args()
    picked = [f for style in STYLES for f in sorted(args.failures.glob(f"{style}-*.png"),
                                                    key=lambda f: f.stem.split("-")[2])[:args.per_style]]
    if not picked:
        print(f"{args.failures}: no failures (expected STYLE-...-read-TEXT.png files)", file=sys.stderr)
        return 1
    tiles = []
    for f in picked:
        im = Image.open(f).convert("L")
        scale = min(ROW / im.height, WIDTH / im.width)
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))))
        style, source, _, truth, _, got = f.stem.split("-", 5)
        tiles.append((f"{style}, {source} digits: {truth} -> {got}", im))
    sheet = Image.new("L", (WIDTH, sum(CAPTION + im.height + 4 for _, im in tiles)), 255)
    draw, y = ImageDraw.Draw(sheet), 0
    for caption, im in tiles:
        draw.text((2, y), caption, fill=0)
        sheet.paste(im, (0, y + CAPTION))
        y += CAPTION + im.height + 4
    with files.atomic_path(args.out) as tmp:
        sheet.save(tmp, format="PNG")
    return 0


if __name__ == "__main__":
    sys.exit(main())
