"""Flat bands along a picture's edges, and a margin round a pasted page, painted over before the paper is fitted
(images.py): a screenshot's title bar, a scan's white margin round a darker page. Taken for ink or paper, each moved
the digit's box or its paper: a drawing app's dark title bar read as a 7's bar over the digit (19 of 30 such
screenshots read 7: tools/screenshots.py), a grey page in a white margin read as a block of ink with the digit a
hole in it (refused).

    grey = chrome.painted(grey)   # (H, W) float32 in [0, 1] -> the same, each band at the level beside it

A margin: the picture's border all at one level, what lies off it a block written on away from that level (`pasted`;
a dark plate's light writing, on a wall, is sheet.plate's). A band: rows from the top or bottom (columns from a side),
each flat (BAND_FLAT of its pixels within TOL of its median) at one level, BAND_MIN to BAND_MAX of the side and at least
MIN_PX, met straight by at least as many flat rows at another level (STEP or more apart) nearer the picture's median
that hold nothing at the band's level, the band not at the level of most of the picture's border: a crisp step between
two flat areas, which no photo's paper (noisy, lit unevenly: its rows' levels drift), no pen stroke (its edge rows only
partly inked) and no stroke of a digit cropped tight (it meets the digit's other strokes; the paper beside a bold 1
is the border's level) shows. It is painted whole, with what it holds (a title's words, a scroll bar's thumb); a
margin only outside the page. Bands inside the picture (a phone app's header under its status bar) are left: a 1
cropped tight, its stroke crisp, is such a band.
"""

from __future__ import annotations

import cv2
import numpy as np

FLAT = 0.85  # of a pasted page's sides and inside off the margin's level, and of its edges at the paper's
BAND_FLAT = 0.75  # of a band's row within TOL of its median: a title bar's words and buttons take up to a fifth
TOL = 0.06  # grey levels in [0, 1]: a PNG screenshot's fills are exact, a scan's within a few levels
STEP = 0.05  # a white margin (1.0) round a light grey page (0.92) steps by 0.08
BAND_MIN = 0.02  # of the side: a phone's header is 6% of its height, a desktop title bar 3-10%, a margin 3-15%
BAND_MAX = 0.3  # a "band" wider than this is the page itself
CONTENT = 0.02  # a row's mean this far from the level beside the band: something else in the picture beyond it
MIN_PX = 4  # a printed rule or a bar drawn with a pen is thinner, and ruled lines are removed later (stroke_mask.py)
SAMPLES = 64  # pixels looked at across each row (evenly spaced): enough for BAND_FLAT's share, and cheap


def painted(grey: np.ndarray) -> np.ndarray:
    """grey with its pasted page's margin painted at the page's level, or else each band of rows, then of columns, at
    the level of the flat area beside it; the very same array when there is neither."""
    framed = _framed(grey)
    if framed is not None:
        return framed
    rows = _painted(grey, 0)
    cols = _painted(grey if rows is None else rows, 1)
    return cols if cols is not None else grey if rows is None else rows


def _painted(a: np.ndarray, axis: int) -> np.ndarray | None:
    """A copy of `a` with its bands of rows (axis 0) or columns (1) at its two ends painted; None when it has none."""
    v = a if axis == 0 else a.T
    h = v.shape[0]
    if h < 2 * MIN_PX or v.shape[1] < 2:
        return None
    across = max(1, v.shape[1] // SAMPLES)
    mean = v[:, ::across].mean(1)
    middle, least, out = float(np.median(mean)), int(max(MIN_PX, np.ceil(BAND_MIN * h))), None
    reach = int(BAND_MAX * h) + least
    for end in (slice(None), slice(None, None, -1)):  # from the top (left), then from the bottom (right)
        if abs(mean[end][0] - middle) < STEP:  # the usual picture: its edge's rows at its usual level
            continue
        rows = v[end][:reach, ::across]
        rim = float(np.median(np.concatenate([v[0], v[-1], v[:, 0], v[:, -1]])))  # the picture's border: its paper
        level = np.median(rows, 1)  # each row's level: a title bar's words move its mean
        flat = (np.abs(rows - level[:, None]) < TOL).mean(1) >= BAND_FLAT
        apart = np.flatnonzero(~flat | (np.abs(level - level[0]) >= STEP))  # the band's end: drift, writing or a step
        r = int(apart[0]) if apart.size else len(level)
        beside = level[r : r + least]
        # The run beside it: flat, at one level STEP or more from the band's, as long as least (ruled lines are
        # thinner), nearer the picture's median than the band (the band is the odd one), holding nothing at the band's
        # level (a 7's bar cropped tight meets its stem there, even at the picture's side), and followed by something
        # else (a canvas, writing; beside a bold 1 cropped tight, its paper the band, the 1 runs to the far side); and
        # the band is not at the level of most of the picture's border (the paper beside such a 1, paper all round)
        if not (least <= r <= BAND_MAX * h and len(beside) == least and flat[r : r + least].all()
                and np.ptp(beside) < STEP and abs(beside[0] - level[r - 1]) >= STEP
                and abs(beside[0] - middle) < abs(level[0] - middle) and abs(level[0] - rim) >= STEP
                and (np.abs(mean[end][r:] - float(np.median(beside))) >= CONTENT).any()
                and not _joined(v[end][r : r + least], level[0])):
            continue
        out = a.copy() if out is None else out
        (out if axis == 0 else out.T)[end][:r] = float(np.median(beside))  # with what it holds: a title's words
    return out


def pasted(grey: np.ndarray, level: float, box) -> float | None:
    """The paper's level of a page pasted on a canvas with a margin, or None: what lies off `level` in grey (the
    canvas level, all round its border), in its `box` (x, y, w, h), is a block (off that level along each side of the
    box and over FLAT of its inside: not a drawing's strokes nor a box drawn round a digit), blank along its edges
    (a bold 1 in coloured ink fills its box, its core darker), whose writing lies away from the margin's level and
    further from the page's than the margin does (a grey page's dark ink; not a dark plate's light writing on a
    lighter wall, which is sheet.plate's). images.py then reads the picture as a photo, the margin painted at the
    page's level."""
    x, y, w, h = box
    page = grey[y : y + h, x : x + w]
    if min(page.shape) < 3:
        return None
    sides = (page[0], page[-1], page[:, 0], page[:, -1])
    inside = page[:: max(1, h // 64), :: max(1, w // 64)]
    if not all(np.count_nonzero(s != level) >= FLAT * s.size for s in (*sides, inside)):
        return None
    edge = np.concatenate(sides)
    paper = float(np.median(edge))
    if np.count_nonzero(np.abs(edge - paper) < 2 * TOL) < FLAT * edge.size:  # written up to its edges: no page
        return None
    off = inside - paper
    writing = off[np.abs(off) > 2 * TOL]
    if not writing.size or (writing.mean() > 0) == (level > paper) or abs(writing.mean()) < abs(level - paper):
        return None
    return paper


def _framed(grey: np.ndarray) -> np.ndarray | None:
    """grey with the margin round a pasted page (`pasted`; the picture's border all at one level) painted at the
    page's level; None when there is no such margin."""
    level = grey[0, 0]
    rim = (grey[0], grey[-1], grey[:, 0], grey[:, -1])
    if min(grey.shape) < 3 or any(e.min() != level or e.max() != level for e in rim):
        return None
    box = x, y, w, h = cv2.boundingRect(cv2.compare(grey, float(level), cv2.CMP_NE))
    if w == 0 or (w, h) == grey.shape[::-1] or (paper := pasted(grey, level, box)) is None:
        return None
    out = np.full_like(grey, paper)
    out[y : y + h, x : x + w] = grey[y : y + h, x : x + w]
    return out


def _joined(rows: np.ndarray, level: float) -> bool:
    """Whether any of `rows` holds 3 pixels in a row at `level` (within TOL / 2: a page's noise reaches TOL from it)."""
    near = (np.abs(rows - level) < TOL / 2).astype(np.uint8)
    return bool(cv2.erode(near, np.ones((1, 3), np.uint8)).any())
