"""What a hand draws round one digit: a ring round it (a circled answer) or a line under it (an underlined 6 or 9),
found among the ink's 8-connected parts and taken out before the digit is scaled into MNIST's box.

    from mnist_cnn import surround
    ink = surround.drop(ink)          # (H, W) float32 >= 0 cropped to its ink -> without a ring or underline, cropped
    ring = surround.ring(parts, area) # of parts (label, x, y, w, h) and their pixel counts: the one round the others

images.to_mnist takes them out of one digit (`predict`, each of `read`'s marks); segment.py drops a ring round a whole
row of digits, or a box drawn round it with a bold pen (OUTLINE), and a line under two or more (FLAT) when it groups a
row's marks. Before this, `predict` refused all 100 MNIST test digits circled by a pen and read 19 of 100 underlined
ones wrong (docs/images.md, "A ring round a digit, a line under it"). A ring or a line that touches the digit is part
of its ink and stays.
"""

from __future__ import annotations

import cv2
import numpy as np

from .ink_specks import SPECK_FRACTION, grid, pool
from .stroke_mask import stroke_width

RING, RING_HELD, RING_TALLER = 0.15, 0.3, 1.3  # a mark round all the others, inked over under 15% of its box (a hand's
# ellipse: ~5%), round marks over 30% of its height and 1.3x shorter than it: a circle round the number, dropped
OUTLINE = 1.2  # ...or, in a row (segment.py), inked under 1.2 x its box's perimeter x the pen's width and hollow: a box
# drawn round a number with a bold pen inks 16-22% of its box (601 refused), its outline 0.5-1.0 x; a ring touching a
DEEP, INSIDE = 2.0, 0.05  # digit is one piece with it: hollow, under 5% of its pixels two strokes' width or more inside
# its convex hull (a review's pen outlines: none; rings joined to a digit: 8-24%, 596 read 96 without this test)
ROOM = 0.4  # round one digit, the box of what it holds at most 0.4 of its own (tools/marked_digits.py's circled digits:
# 0.2-0.3) and its centre at most CENTRED of the ring's width and height off the ring's (those: under 0.07). An outline
# drawing's 6, 9 or 8 (tests/preprocess_cases.py's thin pen) is an outer line round its loops' lines, off centre by
CENTRED = 0.1  # 0.16-0.26 (a review, 2026-12-06), or filling 0.53 of the outer box (a 0): the digit's own, kept
FLAT = 4  # a line under the rest: FLAT x as wide as tall or more, at least UNDER of their width (a stroke of the pen
UNDER = 0.5  # under the digit, not a dash beside it), and GAP of their height below them: a 2's base bar written apart
GAP = 0.05  # sits at its curve's foot (~3 px under an 86 px 2, a review), an underline below it (MNIST: 35 px of 100)


def ring(parts, area, room: float = 1.0, centred: float = 1.0, stroke: float = 0.0, labels=None):
    """The part of `parts` ((label, x, y, w, h), left to right or not) drawn round all the others, or None: the
    leftmost, thin (RING of its box inked, area[label] its pixels; or, with `stroke`, the row's pen width, and
    `labels`, the parts' labelled image, under OUTLINE x its box's perimeter x the pen of the marks it holds (at most
    `stroke`) and an outline closed round them: _outline), holding every other inside its box, the tallest of them
    RING_HELD to 1 / RING_TALLER of its height, the box of them all at most `room` of its own and its centre at most
    `centred` of the ring's width and height off the ring's."""
    if len(parts) < 2:
        return None
    label, x, y, w, h = outer = min(parts, key=lambda p: p[1])
    rest = [p for p in parts if p is not outer]
    left, top = min(p[1] for p in rest), min(p[2] for p in rest)
    right, bottom = max(p[1] + p[3] for p in rest), max(p[2] + p[4] for p in rest)
    if not (RING_HELD * h < max(p[4] for p in rest) <= h / RING_TALLER
            and (right - left) * (bottom - top) <= room * w * h
            and abs(left + right - 2 * x - w) <= 2 * centred * w and abs(top + bottom - 2 * y - h) <= 2 * centred * h
            and all(x < px and y < py and px + pw < x + w and py + ph < y + h for _, px, py, pw, ph in rest)):
        return None
    if area[label] < RING * w * h:
        return outer
    if labels is None or not stroke:
        return None
    # The pen of the marks it holds, not the row's: a thick marker's frame sets the row's, and a digit joined to it was
    # shallow by that measure (dropped with the frame: 0635 read 63, a review)
    held = np.isin(labels[y:y + h, x:x + w], [p[0] for p in rest]).view(np.uint8)
    pen = min(stroke, stroke_width(held))
    centres = [(p[1] - x + p[3] // 2, p[2] - y + p[4] // 2) for p in rest]
    if area[label] < OUTLINE * 2 * (w + h) * pen and _outline(labels[y:y + h, x:x + w] == label, pen, centres):
        return outer
    return None


def _outline(mark, stroke: float, centres) -> bool:
    """Whether a mark ((h, w) bool) is an outline round the points `centres` ((x, y) in it): hollow (under INSIDE of
    its pixels a stroke's width x DEEP or more inside its convex hull: no digit joined to it) and closed round each
    point (a digit's strokes round a 5's hat beside it are neither)."""
    ys, xs = np.nonzero(mark)
    hull = np.zeros((mark.shape[0] + 2, mark.shape[1] + 2), np.uint8)  # a zero border: a box's hull is all its crop
    cv2.fillConvexPoly(hull, cv2.convexHull(np.column_stack([xs, ys]).astype(np.int32) + 1), 1)
    depth = cv2.distanceTransform(hull, cv2.DIST_L2, 3)[1:-1, 1:-1]
    if np.count_nonzero(depth[mark] > DEEP * stroke) > INSIDE * len(xs):
        return False
    _, regions = cv2.connectedComponents(cv2.copyMakeBorder((~mark).view(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT,
                                                            value=1), connectivity=4)
    return all(regions[cy + 1, cx + 1] not in (0, regions[0, 0]) for cx, cy in centres)


def _underline(parts):
    """The lowest part when it is a line under all the others (FLAT, UNDER, GAP), or None."""
    if len(parts) < 2:
        return None
    low = max(parts, key=lambda p: p[2] + p[4])
    rest = [p for p in parts if p is not low]
    left, right = min(p[1] for p in rest), max(p[1] + p[3] for p in rest)
    top, bottom = min(p[2] for p in rest), max(p[2] + p[4] for p in rest)
    _, _, y, w, h = low
    if w >= FLAT * h and w >= UNDER * (right - left) and y >= bottom + GAP * (bottom - top):
        return low
    return None


def drop(ink: np.ndarray) -> np.ndarray:
    """One digit's ink cropped to its box, without a ring drawn round it or a line drawn under it, cropped again to
    what is left (specks beyond it cut off); the same array when there is neither. Parts under SPECK_FRACTION of the
    largest one's pixels are specks: neither a ring, nor what one holds, nor a line."""
    f = grid(ink.shape)  # only ink apart on ink_specks' grid is looked at (a ring or a line under the digit one or two
    # blocks from it stays): one blob there, the usual digit, costs ~0.01-0.03 ms a crop (class A)
    if f > 1 and cv2.connectedComponents(cv2.compare(pool(ink, f, "sum"), 0, cv2.CMP_GT), connectivity=8)[0] < 3:
        return ink
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.compare(ink, 0, cv2.CMP_GT), connectivity=8)
    if n < 3:
        return ink
    areas = stats[:, cv2.CC_STAT_AREA]
    parts = [(i, *stats[i, :4]) for i in range(1, n) if areas[i] >= SPECK_FRACTION * areas[1:].max()]
    found = ring(parts, areas, ROOM, CENTRED) or _underline(parts)
    if found is None:
        return ink
    kept = [p for p in parts if p is not found]
    x0, y0 = min(p[1] for p in kept), min(p[2] for p in kept)
    x1, y1 = max(p[1] + p[3] for p in kept), max(p[2] + p[4] for p in kept)
    return np.where(labels[y0:y1, x0:x1] == found[0], np.float32(0), ink[y0:y1, x0:x1])
