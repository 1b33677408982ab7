"""A per cent sign, among the digits or alone ("50%", "%"): punctuation.find's check, so that `read` refuses it (no
number). Two forms: a slash leaning right with one compact mark in its upper half to its left and one in its lower
half to its right, apart from it; or, alone (no mark beside it over 0.7x its height), a hand's % written with one ring
joined to the slash: a mark with a hole in its upper (lower) half and a small ring (a compact mark with a hole) to its
lower right (upper left), however it leans (read 7 or 9, the ring dropped as a speck; "9." has a solid point there).

    why = percent.find(labels, strong, boxes, inked, height, stroke)   # connected components; None or why

Hand-written on OpenCV's connected components and moments: no library finds a per cent sign in handwriting.
"""

from __future__ import annotations

import cv2
import numpy as np

from .punctuated import leans_right

TALL = 0.7  # the slash at least 0.7x the digits' median height (punctuated.LEAN: leaning right)...
RING = 0.7  # ...with a mark at most 0.7x its height in its upper half, to its left, and one in its lower half, to
# its right (the two rings or dots, apart from the slash), each within...
REACH = 0.75  # ...the upper (lower) 3/4 of the slash's height...
SQUARE = 2.0  # ...and at most 2x as wide as tall or tall as wide (a 7's bar lifted off its stem: 5x)
MIN_SIDE = 0.1  # each mark at least 10% of the digits' height both ways (punctuation.MIN_SIDE)
HOLE = 0.25  # a ring's (or a joined ring's) hole holds a quarter of a square of the strokes' width or more
WHY = "a per cent sign (not a digit)"


def find(labels, strong, boxes, inked, height: float, stroke: float) -> str | None:
    """WHY when the marks (`boxes` x, y, w, h; `labels` 1 + index; `inked`: bool, not dust; `strong`: the map's strong
    ink, whose paper a ring's hole is: a small ring's faint rim fills it) hold a per cent sign in
    either form, else None (a digit holds no such pieces; a 4 broken by a photo's noise can leave its diagonal with a
    piece to its upper left, but its stem's below in two)."""
    x, y, w, h = (boxes[:, k] for k in range(4))
    marks = inked & (np.minimum(w, h) >= MIN_SIDE * height)
    compact = marks & (w <= SQUARE * h) & (h <= SQUARE * w)
    for i in np.flatnonzero(marks & (h >= TALL * height)):
        small = compact & (h <= RING * h[i]) & (np.arange(len(boxes)) != i)
        middle, cx = y[i] + h[i] / 2, x + w / 2
        upper = np.flatnonzero(small & (y + h / 2 < middle) & (y + h <= y[i] + REACH * h[i])
                               & (cx < x[i] + w[i] / 2) & (cx >= x[i] - w))
        lower = np.flatnonzero(small & (y + h / 2 > middle) & (y >= y[i] + (1 - REACH) * h[i])
                               & (cx > x[i] + w[i] / 2) & (cx <= x[i] + w[i] + w))
        alone = np.count_nonzero(marks & (h > RING * h[i])) == 1  # no digit beside it: "8007" had a % so
        if len(upper) == len(lower) == 1 and leans_right(labels, boxes, i) or alone and len(upper) + len(lower) == 1 \
                and _hole(labels, strong, boxes, (*upper, *lower)[0], stroke) \
                and _hole(labels, strong, boxes, i, stroke, half=1 if len(lower) else -1):  # a ring joined to the slash
            return WHY
    return None


def _hole(labels, strong, boxes, i, stroke: float, half: int = 0) -> bool:
    """Whether mark i encloses paper of HOLE x stroke^2 or more (half 1: wholly in its box's upper half, -1: lower;
    a 0's hole spans both: "00" with a small second 0 low beside the first is no %)."""
    x, y, w, h = boxes[i]
    box = np.s_[y:y + h, x:x + w]
    paper = np.pad((labels[box] != i + 1) | (strong[box] == 0), 1, constant_values=True).view(np.uint8)
    stats = cv2.connectedComponentsWithStats(paper, connectivity=4)[2][2:]  # label 1: the paper round it, from the pad
    top, bottom = stats[:, cv2.CC_STAT_TOP] - 1, stats[:, cv2.CC_STAT_TOP] - 1 + stats[:, cv2.CC_STAT_HEIGHT]
    inside = stats[:, cv2.CC_STAT_AREA] >= HOLE * stroke * stroke
    if half:
        inside &= bottom <= h / 2 if half > 0 else top >= h / 2
    return bool(inside.any())
