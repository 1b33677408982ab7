"""A number on its side: digits standing one below the other, which segment.py would merge as the strokes of one.

    from mnist_cnn import column
    column.stacked((x0, y0, x1, y1), tall_boxes, stroke)   # -> how many digits stand in the column; 0: no column

A phone photo whose EXIF turn was lost shows a number turned a quarter: each digit a mark wider than tall, below the
last, their columns overlapping. segment.py joins marks whose columns overlap (a 5's hat, an 8's loops apart), so the
column became one tall "digit" the model read with confidence (a font's 2384 turned read 3). Written by hand on the
marks' boxes: no library looks for digits on their side.
"""

from __future__ import annotations

import numpy as np

COLUMN = 3  # digits in a column at least: two stacked marks may be one digit (an 8 whose loops do not touch)
OVERLAP = 0.35  # parts sharing more than this of the shorter's rows are one digit's (a 5 in two strokes, turned);
# less, digits one below the other (a turned 4's arm reaches a quarter into the next digit's rows)
WIDE = 0.9  # the digits on their side are, in the median, at least this wide for their height (MNIST's: 1.25-2); a
# dashed 1's dashes are narrower
MIN_TALL = 2.5  # ...and, in the median, at least this many stroke widths tall: a dotted or dot-matrix digit's dots are
# 1-2 (a 0 turned in a small, bold number: 2.7)
TALL = 1.5  # the column is at least this many times as tall as wide (three digits on their side: ~2; a 0 cut into
# three by two ruled lines: ~1.4)


def stacked(box, tall, stroke: float) -> int:
    """How many digits on their side stand in a mark's box (x0, y0, x1, y1), given the boxes of its digit-sized parts
    (`tall`, segment._merge's) and the stroke width in px; 0 when they are no column."""
    digits: list[list[int]] = []
    for b in sorted(tall, key=lambda b: b[1]):
        if digits and digits[-1][3] - b[1] > OVERLAP * min(digits[-1][3] - digits[-1][1], b[3] - b[1]):
            d = digits[-1]
            digits[-1] = [min(d[0], b[0]), min(d[1], b[1]), max(d[2], b[2]), max(d[3], b[3])]
        else:
            digits.append(list(b))
    if len(digits) < COLUMN or box[3] - box[1] < TALL * (box[2] - box[0]):
        return 0
    heights = np.array([d[3] - d[1] for d in digits], np.float32)
    widths = np.array([d[2] - d[0] for d in digits], np.float32)
    if np.median(heights) < MIN_TALL * stroke or np.median(widths / np.maximum(heights, 1)) < WIDE:
        return 0
    return len(digits)
