"""Brackets round a row of digits ("(12)", which `read` read as 1121): the last of punctuation.find's checks, so
`read` refuses the string. A bracket is one stroke bowed away from the digits; a written 1 is straight, or bent at
one end only by its flag, and the model reads a bracket as a 1.

    brackets.find(labels, boxes, tall)   # punctuation.find's connected components; None or why

Hand-written on the components' pixels (numpy): no library finds a bracket in handwriting. The thresholds were set on
the brackets of the handwriting faces tools/read_eval.py draws with (both its sets) and on MNIST's test digits:
tools/bracket_bows.py (docs/reading.md, "Brackets").
"""

from __future__ import annotations

import numpy as np

TALL = 0.8  # a bracket is the row's first or last mark, 0.8x the digits' height or more (the faces': 0.87-1.4)...
BOW = 0.06  # ...one stroke bowed away from the digits, its middle this share of its height off the line through its
# ends (the faces' 0.06-0.29; with the next checks 54 and 54 of MNIST's 10,000 test digits bow so to the left and to
# the right: a number would start with one and end with the other ~3 times in 100,000; tools/bracket_bows.py)...
NARROW = 0.5  # ...at most this share of its height wide across that line (faces' 0.16-0.46; Humor Sans' ")" 0.51)...
CLEAR = 0.25  # ...sharing at most a quarter of its width with its neighbour's columns (as punctuation.CLEAR)...
RUNS = 0.13  # ...crossed once by nearly every row: at most this share of its rows cross two strokes (a 6's loop)
WIDE = 2.0  # a mark wider than twice its height is no digit beside a bracket: a ruled or squared page's lines


def find(labels, boxes, tall) -> str | None:
    """Why the first and last tall marks are brackets round the digits ((12)), or None: each all but clear of its
    neighbour's columns (CLEAR), and bowed away from the digits (_bowed). labels, boxes: OpenCV's connected
    components and their (x, y, w, h); tall: which of them are digit-sized."""
    marks = np.flatnonzero(tall & (boxes[:, 2] <= WIDE * boxes[:, 3]))
    if len(marks) < 3:
        return None
    order = marks[np.argsort(boxes[marks, 0])]
    row = float(np.median(boxes[order[1:-1], 3]))
    x, w = boxes[:, 0], boxes[:, 2]
    first, second, before, last = order[0], order[1], order[-2], order[-1]
    if x[first] + w[first] - x[second] > CLEAR * w[first] or x[before] + w[before] - x[last] > CLEAR * w[last]:
        return None  # sharing more columns with its neighbour than a slanted row's brackets do: pieces of one digit
    if _bowed(labels, boxes, first, row, -1) and _bowed(labels, boxes, last, row, 1):
        return "brackets round the digits (not a digit)"
    return None


def _bowed(labels, boxes, i, row: float, side: int) -> bool:
    """Whether mark i is a bracket bowed to `side` (-1: left, as "("; 1: right, as ")"): TALL x `row` tall or
    more, each row crossed by one stroke, the middle of its middle rows BOW of its height or more that way off
    the chord, the line joining the middles of its top and bottom rows, and narrow measured along that chord (a
    sagitta and a width the same however the row is sheared)."""
    x, y, w, h = boxes[i]
    if h < max(TALL * row, 3):
        return False
    mark = labels[y:y + h, x:x + w] == i + 1
    runs = np.count_nonzero(np.diff(mark.view(np.int8), axis=1) == 1, axis=1) + mark[:, 0]  # strokes each row crosses
    if np.count_nonzero(runs > 1) > RUNS * h:
        return False
    centre = (mark * np.arange(w)).sum(1) / mark.sum(1)  # each row's: a component inks every row of its box
    end = max(1, h // 7)
    top, middle, bottom = (float(np.mean(centre[part])) for part in
                           (slice(0, end), slice(2 * h // 5, 3 * h // 5 + 1), slice(h - end, h)))
    ys, xs = np.nonzero(mark)
    first, last = (end - 1) / 2, h - 1 - (end - 1) / 2  # the rows the chord's ends stand for
    across = xs - (top + (bottom - top) * (ys - first) / (last - first))
    wide = float(across.max() - across.min() + 1)
    return side * (middle - (top + bottom) / 2) >= BOW * h and wide <= NARROW * h
