"""A ! or a ?: a mark with a pen's point under it, in what the model sees. No digit has one, but the model reads a !
as a 1 and a ? as a 7 or a 3 at 0.95-1.0, and the "not a digit" gate was trained without them (negatives.SYMBOLS:
without its point each is a digit to any reader). Predictor.not_digit answers 1 for them in place of the gate (a run
with a gate only: `predict`, `read` and the server then refuse them).

    from mnist_cnn.dotted import dotted, dotted_each
    dotted(x)          # x: (28, 28) float32 in [0, 1] (images.to_mnist) -> True when a point lies under the mark
    dotted_each(xs)    # (N, 28, 28) -> (N,) bool

tools/dotted_rate.py counts them (docs/images.md, "A ! or a ?"): of 400 ! and ? drawn in the handwriting faces 250 (the
others' points joined to the stem by the blur to 28x28, or dropped as dust), of MNIST's 10,000 test digits 3 (7s and
a 9 whose foot broke off in a blob), of `mnist-cnn evalset`'s 3,000 none. Hand-written on OpenCV's connected
components: no library finds a point under a mark.
"""

from __future__ import annotations

import cv2
import numpy as np

INK = 0.3  # in the 28x28, ink above this is stroke (a point's own anti-aliased rim stays out). 0.4 also split a point
# from its stem across the blur's faint bridge (! and ? dotted: 285 and 295 of 400 against 263 and 274), but took a
# stroke faded to 0.35-0.45 just above its foot (a pencil, a skipping pen) for a mark and its point: a review's 600
# such 1s, 4s, 7s and 9s through to_mnist, faded to 0.4, 15 dotted at 0.3 and 382 at 0.4 (docs/images.md)
TALL = 10  # px: the mark above the point is at least this tall (MNIST's digits are 20 px)
SIDES = (2, 5)  # px: a point is 2-5 px both ways (MNIST's strokes are ~2.3 px wide)...
FILL = 0.5  # ...fills half its box or more (a stroke's broken-off end, slanted, less)...
PEAK = 0.75  # ...holds ink this strong or more (a faint stroke's crumbs less)...
SHARE = 0.6  # ...and at most 0.6x as many pixels as the mark (a font's short ! stem: 0.3-0.5; Humor Sans' 0.54)
END = 2  # it lies an empty row or more under the mark, its middle under the middle of the mark's lowest 2 rows, or
STEM = 6  # where the line through its lowest 6 rows' middles (an italic !'s stem) meets its row, less than...
OFF = 1.0  # ...a pixel either way (a stroke cut off by a ruled line: 1.0-2.3 px off both ways; a !'s point 0-0.5),
APART = 2  # or between the two, this many empty rows or more under the mark (a ?'s hook curls back over its point;
# a 7's foot broken off in a blob lies 1 row under it, MNIST's test digit 9644)


def dotted_each(x: np.ndarray) -> np.ndarray:
    """(N, 28, 28[, 1]) -> (N,) bool: `dotted` of each, looked at only where an empty row parts the ink (most digits
    have none: ~1 us an image, not ~15)."""
    x = np.asarray(x).reshape(-1, 28, 28)
    rows = (x > INK).any(axis=2)
    below = np.flip(np.logical_or.accumulate(np.flip(rows, 1), axis=1), 1)  # ink in this row or under it
    parted = (rows[:, :-2] & ~rows[:, 1:-1] & below[:, 2:]).any(axis=1)
    found = np.zeros(len(x), bool)
    found[parted] = [dotted(v) for v in x[parted]]
    return found


def dotted(x: np.ndarray) -> bool:
    """Whether a (28, 28) digit image in [0, 1] is a mark with a point under its lower end (a ! or a ?)."""
    x = np.asarray(x).reshape(28, 28)
    n, labels, stats, _ = cv2.connectedComponentsWithStats((x > INK).view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    if n < 3:
        return False
    order = np.argsort(-stats[1:, cv2.CC_STAT_AREA], kind="stable") + 1  # ties: the same mark on every CPU
    _, top, _, height, area = stats[order[0]]
    bottom = top + height
    if height < TALL:
        return False
    for k in order[1:]:
        px, py, pw, ph, pa = stats[k]
        if (SIDES[0] <= min(pw, ph) and max(pw, ph) <= SIDES[1] and pa >= FILL * pw * ph and pa <= SHARE * area
                and py > bottom and not labels[bottom:py].any() and x[labels == k].max() >= PEAK
                and _under(labels == order[0], bottom, px + (pw - 1) / 2, py + (ph - 1) / 2, py - bottom)):
            return True
    return False


def _under(mark: np.ndarray, bottom: int, column: float, row: float, gap: int) -> bool:
    """Whether (column, row), `gap` empty rows under the lower end of a mark (bool mask, `bottom` its last row + 1),
    lies straight down from it or on along its stem (END, STEM, OFF), or between the two APART rows down or more."""
    rows = np.arange(bottom - STEM, bottom)  # all inked: the mark is one component, TALL >= STEM rows
    middles = np.array([np.nonzero(mark[r])[0].mean() for r in rows])
    if abs(column - middles[-END:].mean()) < OFF:
        return True
    slope, at = np.polyfit(rows, middles, 1)
    down, along = middles[-END:].mean(), slope * row + at
    return abs(column - along) < OFF or gap >= APART and min(down, along) < column < max(down, along)
