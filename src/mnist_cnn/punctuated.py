"""A number written with punctuation ("3.95", "12,50", "7:39", "268-8549", "12/05", "-7"): the marks
punctuation.find finds are taken out of the ink before its digits are read, and written among them after.

    marks, why = punctuation.find(loose)       # [Mark] in the ink map's pixels, or why the row is refused
    ink = punctuated.without(ink, marks)        # the digits' ink alone
    punctuated.text(digits, marks)              # "3.95" from read.Digit's 3, 9, 5; None: a mark not between two
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

UPPER = "'"  # punctuation.find's dot high in the row: with a dot under it a colon, else nothing written
MINUS = "-"  # a dash before the first digit is a minus sign; any other mark stands between two digits
DOTS = (".", "'")
TAIL, TAPER, TAPER_ROWS, HOOK = 0.1, 0.8, 12, 0.2  # a comma's tail: its lower half 10% of its width left of its upper
# one, or its bottom third under 0.8 as wide as its top (12 rows or more: thirds of fewer are a pixel's noise); 20%
# left at any aspect (DejaVu Serif Italic's comma: 1.09x as tall, -0.34). 412 marks at seed 21: no point so (those
# 20% left are wider than tall); Humor Sans' tall points -0.06 to -0.08, Seto's commas leaning right, bottom 0.61-0.75
LEAN = 0.2  # a slash leans right, 0.2 px across per px up
STRAIGHT = 0.9  # a slash's pixels along its line (the review's slashes 0.997-1; a face's italic f, read 99/94: 0.82)
PIECE = 0.5  # a small mark over or under a point, comma or dash holding half its ink or more: a digit's other piece
BROKEN = "a digit's broken piece between the digits (not a digit)"
MISPLACED = "a mark between the digits where no number has one (not a number)"
UNCLEAR = "?"  # punctuation.find's mark placed and sized as a point, but with a comma's tail and no comma's stroke
UNREAD = "a mark between the digits that is no point, comma, colon or dash (not a digit)"
UNDER, FAR = 0.05, 0.6  # a dot under half the digits' height (DOT; Humor Sans' "!": 0.46) lying 5% to 60% of it
DOT = 0.5  # under a stroke's end (its lowest rows at most FOOT strokes wide: no 0, 3, 5, 6 or 8's round bottom),
FOOT = 2.0  # its middle within CENTRED of the mark's width (or its own width) of the foot's, is the point of a
CENTRED = 0.25  # ? or ! (a full stop beside a 7's foot is no lower than it; a hand's "!": 0.06 under, Humor's 0.5)
QUESTION = "a question or exclamation mark: a dot under a stroke (not a digit)"


@dataclass(frozen=True)
class Mark:
    char: str  # what `read` writes: . , : - /
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the ink map's pixels (exclusive ends)
    ink: np.ndarray = field(repr=False)  # (y1 - y0, x1 - x0) bool: the box's pixels that are the mark's

    @property
    def x(self) -> float:
        return (self.box[0] + self.box[2]) / 2


def marks(found, labels: np.ndarray, boxes: np.ndarray, offset: tuple[int, int]) -> tuple[list[Mark], str | None]:
    """(Marks, None) from punctuation.find's (char, index) pairs, or ([], why the row is refused): the index is the
    mark's in `boxes` (x, y, w, h; OpenCV's connected components, their labels 1 + index in `labels`), whose pixels
    lie `offset` (x, y) from the map's. Two dots (points or upper dots: a colon written high) one above the other,
    their middles at most the wider one's width apart across (an italic colon leans), are a colon. A mark UNCLEAR
    refuses the row; so does one no check took ("") or an upper dot left alone, beside marks found (one of two
    points of a date missed by a hair read 0311.2017): alone, either is left as it was (a speck)."""
    if any(c == UNCLEAR for c, _ in found):
        return [], UNREAD
    dots = sorted((i for c, i in found if c in DOTS), key=lambda i: boxes[i, 1])
    paired, made = set(), []
    for upper, i in ((u, i) for u in dots for i in dots):
        (ux, uy, uw, uh), (x, y, w, _) = boxes[upper], boxes[i]
        if not {upper, i} & paired and y >= uy + uh and abs(x + w / 2 - ux - uw / 2) <= max(w, uw):
            paired |= {upper, i}
            made.append(_mark(":", [upper, i], labels, boxes, offset))
    made += [_mark(c, [i], labels, boxes, offset) for c, i in found if i not in paired and c not in (UPPER, "")]
    if made and any(c in (UPPER, "") and i not in paired for c, i in found):
        return [], UNREAD
    return sorted(made, key=lambda m: m.x), None


def broken(found, boxes: np.ndarray, areas: np.ndarray, small: np.ndarray, height: float) -> bool:
    """Whether a point, comma, dash or upper dot found has another small mark over or under it (`small`, a bool per
    box, holding PIECE of its ink or more; under the digits' `height` away, their middles at most the wider one's
    width apart across) but for a colon's other dot: a digit broken apart (a receipt's faded 2: its foot a comma)."""
    dots = {i for c, i in found if c in DOTS}
    for i in (i for c, i in found if c in (".", ",", "-", UPPER)):
        x, y, w, h = boxes[i]
        for j in np.flatnonzero(small & (areas >= PIECE * areas[i])):
            u, v, uw, vh = boxes[j]
            if j != i and abs(u + uw / 2 - x - w / 2) <= max(w, uw) and max(v - y - h, y - v - vh) < height \
                    and not (i in dots and j in dots):
                return True
    return False


def dot_under(labels: np.ndarray, boxes: np.ndarray, dots: np.ndarray, tall: np.ndarray, height: float,
              stroke: float) -> str | None:
    """QUESTION when one of the `dots` (bool per box: pen-sized, round and solid) under DOT of the digits' `height`
    lies UNDER to FAR of it below a tall mark's lowest row that ends in a stroke's end (its ink in its lowest `stroke`
    rows at most FOOT strokes across), the dot's middle within CENTRED of the mark's width, or the dot's own width, of
    the middle of that foot (an italic !'s stem ends left of its box's middle) ("?" read 7, "!" read 1); None
    otherwise. `labels`: the boxes' connected components, 1 + index."""
    dots = dots & (np.maximum(boxes[:, 2], boxes[:, 3]) < DOT * height)
    if not dots.any():
        return None
    x, y, w, _ = boxes[dots].T[:, :, None]  # (4, dots, 1): a dot's row against every tall mark
    marks = np.flatnonzero(tall)
    u, v, uw, vh = boxes[marks].T
    rows = max(1, round(stroke))
    feet = [u0 + np.nonzero(labels[v0 + h0 - rows:v0 + h0, u0:u0 + w0] == i + 1)[1]
            for i, (u0, v0, w0, h0) in zip(marks, boxes[marks])]
    middle = np.array([f.mean() + 0.5 for f in feet])
    narrow = np.array([f.max() - f.min() + 1 <= FOOT * stroke for f in feet])
    gap = y - (v + vh)
    under = narrow & (gap >= UNDER * height) & (gap <= FAR * height) \
        & (np.abs(x + w / 2 - middle) <= np.maximum(CENTRED * uw, w))
    return QUESTION if under.any() else None


def tailed(mark: np.ndarray, steep: bool) -> bool:
    """Whether a (h, w) bool mark at least as tall as wide has a comma's tail: its lower half HOOK of its width or more
    left of its upper half; or, `steep`, TAIL of it, or, TAPER_ROWS tall or more, its bottom third's rows under TAPER
    as wide as its top third's (a point's halves lie one over the other)."""
    ys, xs = np.nonzero(mark)
    (h, w), rows = mark.shape, mark.sum(1)
    lower, third = ys >= h / 2, max(1, h // 3)
    if h < w or lower.all() or not lower.any():
        return False
    shift = (xs[lower].mean() - xs[~lower].mean()) / w
    return bool(shift <= -HOOK or steep and (shift <= -TAIL or h >= TAPER_ROWS
                                             and rows[-third:].mean() <= TAPER * rows[:third].mean()))


def straight(mark: np.ndarray, stroke: float) -> bool:
    """Whether a (h, w) bool mark lies along one line: STRAIGHT of its pixels within 0.75 of a stroke's width of the
    line fitted to them: a slash; an italic f is as tall and leans as one, but has its bar and hook."""
    ys, xs = np.nonzero(mark)
    return bool(np.mean(off(line(xs, ys), xs, ys) <= 0.75 * stroke) >= STRAIGHT)


def leans_right(labels: np.ndarray, boxes: np.ndarray, i: int) -> bool:
    """Whether mark i (`boxes` x, y, w, h; `labels` 1 + index) leans right by LEAN or more: a slash, a per cent
    sign's."""
    return lean(labels, boxes, i) >= LEAN


def lean(labels: np.ndarray, boxes: np.ndarray, i: int) -> float:
    """Mark i's lean to the right, px across per px up, from its pixels' second moments (0 for a mark one row
    high)."""
    x, y, w, h = boxes[i]
    m = cv2.moments((labels[y:y + h, x:x + w] == i + 1).view(np.uint8), binaryImage=True)
    return -m["mu11"] / m["mu02"] if m["mu02"] else 0.0


def line(xs, ys) -> np.ndarray:
    """(ux, uy, x, y): the least-squares line through these pixels (OpenCV), as a unit direction and a point on it."""
    return cv2.fitLine(np.column_stack([xs, ys]).astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01).ravel()


def off(fitted, xs, ys) -> np.ndarray:
    """Each pixel's distance from a line (`line`'s)."""
    ux, uy, px, py = fitted
    return np.abs((xs - px) * uy - (ys - py) * ux)


def _mark(char: str, indices, labels, boxes, offset) -> Mark:
    x0, y0 = (int(min(boxes[i, k] for i in indices)) for k in (0, 1))
    x1, y1 = (int(max(boxes[i, k] + boxes[i, k + 2] for i in indices)) for k in (0, 1))
    ink = np.isin(labels[y0:y1, x0:x1], [i + 1 for i in indices])
    dx, dy = offset
    return Mark(char, (x0 + dx, y0 + dy, x1 + dx, y1 + dy), ink)


def without(ink: np.ndarray, marks: list[Mark]) -> np.ndarray:
    """The (H, W) ink map with the marks' pixels set to 0 (a new array when there are marks)."""
    if not marks:
        return ink
    ink = ink.copy()
    for m in marks:
        x0, y0, x1, y1 = m.box
        ink[y0:y1, x0:x1][m.ink] = 0
    return ink


def text(digits, marks: list[Mark]) -> str | None:
    """The digits (read.Digit, boxes in the marks' pixels) as a string, each mark written where its middle falls
    among the digits' middles; None when a mark falls before the first digit (but a minus sign), after the last, or
    beside another mark (two marks between the same digits: 1.,5 or 4--2 is no number)."""
    order = sorted(digits, key=lambda d: (d.box[0] + d.box[2]) / 2)
    middles = [(d.box[0] + d.box[2]) / 2 for d in order]
    places = {}
    for m in marks:
        k = sum(c < m.x for c in middles)
        if k in places or k >= len(order) or k == 0 and m.char != MINUS:
            return None
        places[k] = m.char
    return "".join(places.get(k, "") + str(d.digit) for k, d in enumerate(order))
