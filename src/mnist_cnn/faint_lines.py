"""Ruled or squared lines too faint to clear images.py's noise cut all along: it leaves them in dashes, no row is a
line to paper_lines.drop_lines, and the dashes, joined along a grid, spread the ink's box over the picture. Found
from where the ink was over the paper before the cut (a line: nearly all its row), taken out by drop_lines.

    above = cv2.compare(ink, 0, cv2.CMP_GT)               # before the cut
    ...                                                   # the cut, the ink divided by its paper
    drop_lines(ink, floor, faint=faint_lines(above, ink))  # [(axis, (start, stop), level)]
"""

import cv2
import numpy as np

from .paper_lines import LINE_THIN

FAINT = 0.95  # a row (column) whose ink before the noise cut is over the paper in >= 95% of its pixels is a line too
# faint to clear the cut all along, left in dashes (the paper's noise alone: ~50%)...
FAINT_BANDS = 3  # ...when 3+ such thin bands lie on its axis (a ruled or squared page; a 7's bar is one), evenly...
FAINT_EVEN = 0.25  # ...spaced: each gap within 25% of their median (or of twice it: a line lost under the writing)...
FAINT_APART = 4  # ...at least 4x as far apart as the thickest is thick (a tight crop's bold digit, a shadow's misfit
# and JPEG's blocks make bands too, bunched together or uneven)
DASHES = 0.2  # a faint line is taken out when its ink after the cut is in >= 20% of its strongest row; with fewer
# dashes, its level would be the strokes crossing it, and they would be cut there


def _spaced(bands) -> bool:
    """Whether the bands [(start, stop)] are spaced as a page's lines are: evenly (FAINT_EVEN), FAINT_APART apart."""
    gaps = np.diff([a for a, _ in bands])
    typical = np.median(gaps)
    even = (np.abs(gaps / typical - 1) <= FAINT_EVEN) | (np.abs(gaps / typical - 2) <= 2 * FAINT_EVEN)
    return bool(even.all()) and typical >= FAINT_APART * max(b - a for a, b in bands)


def faint_lines(above, ink) -> list:
    """[(axis, (start, stop), level)]: the lines too faint to clear the noise cut all along, from `above` (255 where
    the ink before the cut was over the paper, else 0) and the ink (H, W) float32 after it; level: the median of the
    ink left in the strongest row of the line (its dashes: at or over the line's own level)."""
    found = []
    for axis in (0, 1):
        counts = cv2.reduce(above, 1 - axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
        full = counts >= 255 * FAINT * above.shape[1 - axis]
        if not full.any():  # most pictures: ~25 us in all
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], full.view(np.int8), [0]])))
        bands = [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b - a <= LINE_THIN * above.shape[axis]]
        if len(bands) < FAINT_BANDS or not _spaced(bands):
            continue
        for a, b in bands:
            rows = ink[a:b] if axis == 0 else ink[:, a:b].T
            left = [row[row > 0] for row in rows]
            if max(r.size for r in left) >= DASHES * rows.shape[1]:
                found.append((axis, (a, b), float(max(np.median(r) for r in left if r.size))))
    return found
