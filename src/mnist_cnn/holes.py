"""A notebook's spiral holes: a row of like dots evenly spaced along one side of the picture, taken out of the ink.

    found = holes.drop(ink, box)     # ink: (H, W) float32 >= 0, such dots set to 0 in place; box: its cv2 rect

A page torn from a spiral notebook (or still in it) shows its binding's holes, the desk dark behind them, as a column
of dots along its side; squeezed into the 28x28 they are a 1, and a blank page's holes were read as a 1 at 0.99, a
digit beside them refused. A row of holes here: at least HOLES solid dots, each lying in the outer SIDE of the
picture along one side, of one size (within SIZE of their median), on one line (within their size of it), spaced
evenly and well apart (PITCH, EVEN) and spanning SPAN of that side. With the row go the other pieces lying wholly
beyond its inner edge: holes a wire's loop widened, a hole the picture's end cuts, the binding's end.
Hand-written on OpenCV's connected components: no library finds a binding's holes in an ink map.
"""

from __future__ import annotations

import cv2
import numpy as np

from .ink_specks import drop_specks

SIDE = 0.15  # the holes lie in the outer 15% of the picture's width (height) along one side
HOLES = 12  # at least 12 of them (a page's side has 20-35; a number 10 digits or fewer, a dot-matrix 1 7 dots)...
SPAN = 0.6  # ...spanning 60% of that side
SOLID = 0.65  # a hole is solid, the desk seen through it: it fills 65% of its box or more (a disc 79%; a regular
# printed or written digit well under, though a bold 0, 6, 8 or 9 fills 66-83%: a review's "20240615" near the top of
# a page was taken for holes at 40%)...
SIZE = 0.25  # ...each within 25% of the median hole's width and height...
ROW = 0.6  # ...on one line with 60% or more of the strip's solid dots (the rows of a dot-matrix number are several)...
PITCH = 1.2  # ...spaced at least 1.2x their own length apart (a binding's: 1.3-2x; a row of touching blobs: 1x)
EVEN = 0.25  # each gap within a quarter of the median gap of it, or of twice it (a hole hidden by a stroke)
LOOKS = 16  # lines along a side counted in for runs of ink before any labelling...
EDGE = 0.5  # ...those mostly ink being the page's dark edge beyond it
WRITING = 8  # px: a piece this tall or wide beside the holes is writing (segment.MIN_HEIGHT), less a hole's leftover
WIRE = 0.015  # of the side's length: a square this wide opens a spiral's wire loops (0.7%) away from its holes (3.5%)


def drop(ink, box=None) -> bool:
    """Set each side's row of holes in the (H, W) float32 ink map to 0, in place; whether there was one. box: (x, y,
    w, h) bounding the ink, if known: a side it keeps SIDE off, or spans under SPAN of, is not looked at."""
    h, w = ink.shape
    x, y, bw, bh = box if box is not None else (0, 0, w, h)
    across, down = max(1, int(SIDE * w)), max(1, int(SIDE * h))
    sides = ((ink[:, :across], 1, True, x < across), (ink[:, w - across:], 1, False, x + bw > w - across),
             (ink[:down], 0, True, y < down), (ink[h - down:], 0, False, y + bh > h - down))  # views
    found = False
    for strip, axis, outer, near in sides:
        if not near or (bh < SPAN * h if axis else bw < SPAN * w):
            continue
        # Runs of ink along the side in a few lines along it, the most of any, or of those not mostly ink (the page's
        # dark edge) as one (a row turned a few degrees crosses no one line 12 times): no labelling for fewer marks
        along = strip if axis else strip.T
        inked = along[:, ::max(1, along.shape[1] // LOOKS)] > 0
        edge = inked.mean(axis=0) >= EDGE
        union = inked[:, ~edge].any(axis=1)
        runs = max((np.count_nonzero(inked[1:] & ~inked[:-1], axis=0) + inked[0]).max(),
                   np.count_nonzero(union[1:] & ~union[:-1]) + union[0])
        if runs >= HOLES:
            found |= _drop_row(along, outer)
    return found


def drop_with_specks(ink, box, f: int):
    """(the (H, W) float32 ink map without its specks (ink_specks.drop_specks on blocks of f px) and its row of holes,
    whether it had one); ink loses its holes in place when writing is left beside them. Specks are weighed against all
    the ink, holes too, so a blank page's leftovers beside its binding (a margin's dashes) are specks. Writing beside
    the holes (a piece WRITING px tall or wide) has its specks weighed again without them (a binding held 74-90% of a
    photo's ink: a thin 7 among bold digits was a speck, 2577 read 257), and what that brings back stays only in the
    writing's rows, within their height of its sides (a hole's leftover or a margin's dash was read as a digit)."""
    kept = drop_specks(ink, f)
    if not (holed := drop(kept, box)) or kept is ink:
        return kept, holed
    _, _, stats, _ = cv2.connectedComponentsWithStats(cv2.compare(kept, 0, cv2.CMP_GT), connectivity=8)
    writing = stats[1:][stats[1:, 2:4].max(axis=1) >= WRITING]
    if not len(writing) or not drop(ink, box):
        return kept, holed
    (x0, y0), (x1, y1) = writing[:, :2].min(axis=0), (writing[:, :2] + writing[:, 2:4]).max(axis=0)
    again = drop_specks(ink, f)
    n, labels, _, centres = cv2.connectedComponentsWithStats(cv2.compare(again, 0, cv2.CMP_GT), connectivity=8)
    x, y, h = centres[:, 0], centres[:, 1], y1 - y0
    near = (x >= x0 - h) & (x < x1 + h) & (y >= y0) & (y < y1) | (np.bincount(labels[kept > 0], minlength=n) > 0)
    near[0] = False
    return np.where(near[labels], again, np.float32(0)), True


def _drop_row(strip, outer: bool) -> bool:
    """Set to 0, in place, the holes running down one side's strip of the ink (a view; `outer`: the picture's side is
    its first column, else its last): dots clear of its inner edge (the picture's side may cut them). Holes a spiral's
    wire loops join to the page's dark edge are found in the strip opened by a square WIRE of its length a side (the
    loops thinner); they go, rims and all, with what joins them to the
    picture's side (loops, the edge), but nothing further in than a loop's tail (writing touching a hole, a rule's
    stub)."""
    inked = cv2.compare(np.ascontiguousarray(strip), 0, cv2.CMP_GT)
    if (found := _row(inked, outer)) is not None:
        strip[np.isin(found[0], np.union1d(*found[1:]) + 1)] = 0
        return True
    square = np.ones((max(3, int(WIRE * strip.shape[0]) | 1),) * 2, np.uint8)  # not a disc: 7x faster, as good
    if (found := _row(cv2.morphologyEx(inked, cv2.MORPH_OPEN, square), outer)) is None:
        return False
    holed = np.isin(found[0], found[1] + 1)
    cores = holed | np.isin(found[0], found[2] + 1)
    n, joined = cv2.connectedComponents(inked, connectivity=8)
    gone = np.isin(joined, np.unique(joined[cores]))
    across = np.flatnonzero(holed.any(axis=0))
    further = np.zeros_like(gone)
    further[:, slice(across[-1] + 1, None) if outer else slice(0, across[0])] = True  # further in than the holes
    # a piece reaching further in by a hole's area or more keeps that part (writing); less, a loop's tail, goes
    kept = np.bincount(joined[gone & further], minlength=n) >= np.count_nonzero(holed) / len(found[1])
    gone &= ~(further & kept[joined])
    own = cv2.bitwise_and(cv2.dilate(cores.view(np.uint8), square), inked) > 0  # the holes' own pixels, rims too
    strip[gone | own] = 0
    return True


def _row(inked, outer: bool):
    """(the labels of the 8-bit strip `inked`'s pieces, the indices (label - 1) of its row of holes, of the other
    pieces lying beyond the row's inner edge), or None."""
    n, labels, stats, centres = cv2.connectedComponentsWithStats(inked, connectivity=8)
    if n - 1 < HOLES:
        return None
    x, y, bw, bh, area = stats[1:].T
    whole = x + bw < inked.shape[1] if outer else x > 0
    dots = np.flatnonzero(whole & (area >= SOLID * bw * bh) & (bw <= 2 * bh) & (bh <= 2 * bw) & (area >= 4))
    if len(dots) < HOLES:
        return None
    mw, mh = np.median(bw[dots]), np.median(bh[dots])
    alike = dots[(np.abs(bw[dots] - mw) <= SIZE * mw) & (np.abs(bh[dots] - mh) <= SIZE * mh)]
    across = centres[alike + 1, 0]
    row = alike[np.abs(across - np.median(across)) <= max(mw, mh)] if len(alike) else alike
    if len(row) < max(HOLES, ROW * len(dots)):
        return None
    along = np.sort(centres[row + 1, 1])
    pitch = float(np.median(np.diff(along)))
    if along[-1] - along[0] < SPAN * inked.shape[0] or pitch < PITCH * mh:
        return None
    gaps = np.diff(along) / pitch
    steps = np.rint(gaps)
    if steps.min() < 1 or steps.max() > 2 or np.abs(gaps - steps).max() > EVEN:
        return None
    # Every other piece lying wholly beyond the row's inner edge where it lies (by half a hole; a line through the
    # holes' inner edges, slanting on a page turned a few degrees), solid or cut by the picture's side or end, goes
    # too: holes a wire's loop widened, a hole the picture's end cuts, the binding's end (a pen's stroke is neither:
    # the row's inner edge at its most, and any piece beyond it, took digits by a turned page's holes, a review)
    inner = x[row] + bw[row] if outer else x[row]
    edge = np.polyval(np.polyfit(centres[row + 1, 1], inner, 1), np.stack([y, y + bh]))
    pad = max(mw, mh) / 2
    within = x + bw <= edge.max(axis=0) + pad if outer else x >= edge.min(axis=0) - pad
    cut = (x == 0 if outer else x + bw == inked.shape[1]) | (y == 0) | (y + bh == inked.shape[0])
    beyond = np.flatnonzero(within & (cut | (area >= SOLID * bw * bh)))
    return labels, row, np.setdiff1d(beyond, row)
