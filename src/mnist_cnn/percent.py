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
JOINED = 0.5  # the ring apart from a joined one is at most half the mark's height ("90" with a 0 0.65x as tall)
WHY = "a per cent sign (not a digit)"


def find(labels, strong, boxes, inked, height: float, stroke: float) -> str | None:
    """WHY when the marks (`boxes` x, y, w, h; `labels` 1 + index; `inked`: bool, not dust; `strong`: the map's strong
    ink, whose paper a ring's hole is: a small ring's faint rim fills it) hold a per cent sign in either form, else
    None (a digit holds no such pieces; a 4 broken by a photo's noise can leave its diagonal with a piece to its upper
    left, but its stem's below in two)."""
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
        if len(upper) == len(lower) == 1 and leans_right(labels, boxes, i) or _joined(
                labels, strong, boxes, marks, i, upper, lower, stroke):
            return WHY
    return None


def _joined(labels, strong, boxes, marks, i, upper, lower, stroke: float) -> bool:
    """Whether mark i, alone (no other of `marks` over RING of its height: "8007" was refused so), is a % with one ring
    joined to its slash: its one hole wholly in its upper (lower) half (an 8 has two; a 0's spans both: "00" with a
    small 0 low beside a bigger one) and the other ring, JOINED of its height or less, alone to its lower right (upper
    left) (`upper`, `lower`: the indices of the compact marks there)."""
    h = boxes[:, 3]
    if np.count_nonzero(marks & (h > RING * h[i])) != 1 or len(upper) + len(lower) != 1:
        return False
    ring = (*upper, *lower)[0]
    if h[ring] > JOINED * h[i] or not _holes(labels, strong, boxes, ring, stroke):
        return False
    holes = _holes(labels, strong, boxes, i, stroke)
    return len(holes) == 1 and (holes[0][1] <= h[i] / 2 if len(lower) else holes[0][0] >= h[i] / 2)


def _holes(labels, strong, boxes, i, stroke: float) -> list[tuple[int, int]]:
    """(top, bottom) rows, in mark i's box, of each hole in its strong ink holding HOLE x stroke^2 of paper or more."""
    x, y, w, h = boxes[i]
    box = np.s_[y:y + h, x:x + w]
    paper = np.pad((labels[box] != i + 1) | (strong[box] == 0), 1, constant_values=True).view(np.uint8)
    stats = cv2.connectedComponentsWithStats(paper, connectivity=4)[2][2:]  # label 1: the paper round it, from the pad
    return [(top - 1, top - 1 + rows) for top, rows, area in stats[:, [cv2.CC_STAT_TOP, cv2.CC_STAT_HEIGHT,
                                                                       cv2.CC_STAT_AREA]]
            if area >= HOLE * stroke * stroke]
