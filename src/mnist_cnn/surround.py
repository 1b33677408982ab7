"""What a hand draws round one digit: a ring round it (a circled answer) or a line under it (an underlined 6 or 9),
found among the ink's 8-connected parts and taken out before the digit is scaled into MNIST's box.

    from mnist_cnn import surround
    ink = surround.drop(ink)          # (H, W) float32 >= 0 cropped to its ink -> without a ring or underline, cropped
    ring = surround.ring(parts, area) # of parts (label, x, y, w, h) and their pixel counts: the one round the others

images.to_mnist takes them out of one digit (`predict`, each of `read`'s marks); segment.py drops a ring round a whole
row of digits and a line under two or more (FLAT) when it groups a row's marks. Before this, `predict` refused all 100
MNIST test digits circled by a pen and read 19 of 100 underlined ones wrong (README, "Your own images").
"""

from __future__ import annotations

import cv2
import numpy as np

from .ink_specks import grid, pool

RING, RING_HELD, RING_TALLER = 0.15, 0.3, 1.3  # a mark round all the others, inked over under 15% of its box (a hand's
# ellipse: ~5%), round marks over 30% of its height and 1.3x shorter than it: a circle round the number, dropped
FLAT = 4  # a part FLAT x as wide as tall or more, wholly below the rest, across UNDER of its width: an underline
UNDER = 0.5  # (a 2's base bar is no lower than its curve's foot; a 5's hat is on top)
ROOM = 0.4  # ...and round one digit, the box of what it holds at most 0.4 of its own (a circled digit: ~0.25-0.3): a 0
# traced twice with a fine pen is two loops, the outer round the inner at 0.53 (tests/preprocess_cases.py's thin pen)
MIN_PART = 4  # pixels: smaller parts are specks, neither a ring nor what it holds


def ring(parts, area, room: float = 1.0):
    """The part of `parts` ((label, x, y, w, h), left to right or not) drawn round all the others, or None: the
    leftmost, thin (RING of its box inked, area[label] its pixels), holding every other inside its box, the tallest
    of them RING_HELD to 1 / RING_TALLER of its height, and the box of them all at most `room` of its own."""
    if len(parts) < 2:
        return None
    label, x, y, w, h = outer = min(parts, key=lambda p: p[1])
    rest = [p for p in parts if p is not outer]
    held = (max(p[1] + p[3] for p in rest) - min(p[1] for p in rest)) * \
        (max(p[2] + p[4] for p in rest) - min(p[2] for p in rest))
    if area[label] < RING * w * h and RING_HELD * h < max(p[4] for p in rest) <= h / RING_TALLER \
            and held <= room * w * h \
            and all(x < px and y < py and px + pw < x + w and py + ph < y + h for _, px, py, pw, ph in rest):
        return outer
    return None


def _underline(parts):
    """The lowest part when it is a line under all the others (FLAT, UNDER), or None."""
    if len(parts) < 2:
        return None
    low = max(parts, key=lambda p: p[2] + p[4])
    rest = [p for p in parts if p is not low]
    left, right = min(p[1] for p in rest), max(p[1] + p[3] for p in rest)
    _, _, y, w, h = low
    if w >= FLAT * h and y >= max(p[2] + p[4] for p in rest) and w >= UNDER * (right - left):
        return low
    return None


def drop(ink: np.ndarray) -> np.ndarray:
    """One digit's ink cropped to its box, without a ring drawn round it or a line drawn under it, cropped again to
    what is left; the same array when there is neither."""
    f = grid(ink.shape)  # parts are looked for only where the ink is apart on ink_specks' grid (a ring or a line under
    # the digit under ~1% of its size from it stays): one blob there, the usual digit, costs ~0.02 ms, not 0.04-3 ms
    coarse = pool(ink, f, "sum") if f > 1 else ink
    if cv2.connectedComponents(cv2.compare(coarse, 0, cv2.CMP_GT), connectivity=8)[0] < 3:
        return ink
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.compare(ink, 0, cv2.CMP_GT), connectivity=8)
    if n < 3:
        return ink
    parts = [(i, *stats[i, :4]) for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= MIN_PART]
    found = ring(parts, stats[:, cv2.CC_STAT_AREA], ROOM) or _underline(parts)
    if found is None:
        return ink
    kept = np.where(labels == found[0], np.float32(0), ink)
    x, y, w, h = cv2.boundingRect(cv2.compare(kept, 0, cv2.CMP_GT))
    return kept[y:y + h, x:x + w]
