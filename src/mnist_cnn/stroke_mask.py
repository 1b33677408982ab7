"""The stroke mask a row of digits is segmented on (segment.py): an ink map's strokes, a fine pen's hairlines held
in their digit, ruled and squared paper lines and a form's boxes around the digits removed.

    mask, rulings, stroke = stroke_mask.find(images.ink_map(image), one_digit=segment.SPLIT)

All on binary masks with OpenCV's primitives (thresholds, connected components, morphology).
"""

from __future__ import annotations

import cv2
import numpy as np

from .ink_specks import pool

MASK = 0.3  # ink stronger than 30% of the strongest near it is a stroke: faint shadows and halos join nothing...
LOCAL = 0.25  # ...near it: within a quarter of the ink's height (about one digit's strokes; its neighbours' beyond)...
FLOOR = 0.2  # ...and stronger than 20% of the image's strongest: a number whose last digits were written lighter keeps
# them (`tools/read_eval.py --fade 0.25`: 76.8 -> 86.5% of numbers, seed 5), a lone hairline at 20% joins nothing
HAIRLINE = 0.1  # ...but ink over 10% joining strokes into a mark no wider than one digit is part of it: a fine pen's
# hairlines (anti-aliased to a fraction of a pixel's ink) hold their digit together, where a Kristi 0 fell apart into 1s
STROKE_SHARE = 0.04  # ...joining strokes of at least 4% of the largest one's pixels (not specks in a shadow)...
MARGIN = 0.15  # ...and within 15% of the height of the box of the strokes it joins (a 0's hairline top above its sides)
RULE_MASK = 0.1  # ruled lines are looked for in ink down to 10%: pale print, unbroken there
RULE_LENGTH = 0.5  # a ruled line runs across at least half the image's width (a 2-digit number's 7 bar: 0.3)...
RULE_EDGE = 0.15  # ...and ends within 15% of the width of a side, or has a box's sides on it (a 7's bar: half a "17")
RULE_HEIGHT = 0.95  # ...a vertical one (squared paper) across its height: the digits leave a margin
STROKE_PERCENTILE = 90  # of the distance to the background: half the strokes' width (see remove_rulings)
RULE_MIN = 20  # ...and at least 20 px: in a 28x28 digit no stroke is taken for one
RULE_THIN = 0.75  # ...and is thinner than 75% of the strokes' width: a pen is bolder than the paper's print
BOX_SIDE = 0.3  # a form's box sides or a comb's ticks between the digits (one box per digit): thin straight vertical
# lines 30% of the image's height or more (thinner than RULE_THIN, as every line removed here)...
BOX_MIN = 10  # ...and at least 10 px long (so only in an image 34 px high or more)...
SIDE_REACH = 3  # ...an end within 3 px of a horizontal line (a ruled line's remains: the ink map has taken its level)
SIDE_THICK = 1.5  # ...and at most 1.5x as thick as that line, + 1 px: a printed box's sides are as thick as its top


def find(ink: np.ndarray, one_digit: float) -> tuple[np.ndarray, np.ndarray, int, float]:
    """(H, W) uint8 stroke mask of an ink map, the part of it that is hairlines (with_hairlines), how many paper lines
    were removed, and the strokes' width in px. one_digit: the widest a mark of one digit is, over its height."""
    top = float(ink.max())
    strong = (ink > _stroke_level(ink, top)).view(np.uint8)
    stroke = stroke_width(strong)
    joined = with_hairlines(ink, strong, one_digit)
    mask, rulings = remove_rulings(joined, (ink > RULE_MASK * top).view(np.uint8), stroke)
    return mask, joined & (1 - strong), rulings, stroke


def _stroke_level(ink, top: float):
    """The level above which ink is a stroke, per pixel: MASK of the strongest ink within about LOCAL of the height of
    all the ink (up to 1.25x that: maxima of blocks), never under FLOOR of the image's strongest. A digit written
    lighter than its neighbours keeps its strokes."""
    rows = np.flatnonzero(cv2.reduce(ink, 1, cv2.REDUCE_MAX).ravel() > 0)
    if not len(rows):
        return MASK * top
    r = max(1, int(LOCAL * (rows[-1] - rows[0] + 1)))
    f = max(1, r // 8)  # on f x f blocks' maxima: a square of side 2r + 1 cost ~40 ms on a 1024 x 768 ink map
    local = cv2.dilate(pool(ink, f, "max"), np.ones((2 * -(-r // f) + 1,) * 2, np.uint8))
    if f > 1:
        local = cv2.resize(local, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST)[:ink.shape[0], :ink.shape[1]]
    return np.maximum(MASK * local, np.float32(FLOOR * top), out=local)


def with_hairlines(ink, strong, one_digit: float):
    """The stroke mask with the fainter ink (over HAIRLINE) that joins two or more of its strokes into one mark no
    wider than one_digit x its height, near those strokes (hysteresis thresholding, as for Canny's edges, held to one
    digit). A mark whole in the stroke mask is left as it was: its soft edges would only blur the digit the model
    sees; in a wider mark the faint ink may be a halo bridging two digits or a paper line's stub; a shadow holding
    one stroke and the specks of its noise joins nothing. By hand on OpenCV's labels: scikit-image's
    apply_hysteresis_threshold keeps all faint ink joined to a stroke, which cost touching numbers (docs/reading.md)."""
    _, labels = cv2.connectedComponents((ink > HAIRLINE * float(ink.max())).view(np.uint8), connectivity=8)
    k, strokes, stats, _ = cv2.connectedComponentsWithStats(strong, connectivity=8)
    if k < 3:
        return strong
    area = stats[:, cv2.CC_STAT_AREA]
    big = area >= STROKE_SHARE * area[1:].max()
    big[0] = False
    ys, xs = np.nonzero(big[strokes] & (labels > 0))
    marks, ids = labels[ys, xs], strokes[ys, xs]
    order = np.argsort(marks, kind="stable")
    marks, ids, ys, xs = marks[order], ids[order], ys[order], xs[order]
    starts = np.flatnonzero(np.r_[True, marks[1:] != marks[:-1]])
    out = strong.copy()
    for start, end in zip(starts, np.r_[starts[1:], len(marks)]):
        if ids[start:end].min() == ids[start:end].max():  # one stroke: whole already
            continue
        x0, x1, y0, y1 = xs[start:end].min(), xs[start:end].max() + 1, ys[start:end].min(), ys[start:end].max() + 1
        if x1 - x0 > one_digit * (y1 - y0):
            continue
        pad = int(MARGIN * (y1 - y0))
        y0, x0 = max(0, y0 - pad), max(0, x0 - pad)
        out[y0:y1 + pad, x0:x1 + pad] |= (labels[y0:y1 + pad, x0:x1 + pad] == marks[start]).view(np.uint8)
    return out


def stroke_width(mask) -> float:
    """The strokes' width: twice the distance to the background along their middles (a high percentile: thin
    rules and the strokes' edges hold most pixels below it)."""
    if not mask.any():
        return 0.0
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    return 2 * float(np.percentile(dist[mask > 0], STROKE_PERCENTILE))


def _lines(faint, length: int, axis: int, least: int) -> list:
    """Straight lines of faint ink at least `length` (>= least) px long along axis 0 (horizontal) or 1: for each,
    (its mask, its box x, y, w, h, its median thickness)."""
    if length < least:
        return []
    kernel = np.ones((1, length) if axis == 0 else (length, 1), np.uint8)
    across, along = ((3, 1), (1, 3)) if axis == 0 else ((1, 3), (3, 1))
    tolerant = cv2.dilate(faint, np.ones(across, np.uint8))  # a slight tilt
    tolerant = cv2.morphologyEx(tolerant, cv2.MORPH_CLOSE, np.ones(along, np.uint8))  # a pixel lost to the noise cut
    opened = cv2.morphologyEx(tolerant, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_CONSTANT,
                              borderValue=0)  # not OpenCV's default: ink beyond the edges
    # Labelled before `& faint`, which would split a line at the gaps the close bridged
    k, lab, st, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    found = []
    for i in range(1, k):
        x, y, bw, bh = st[i, :4]
        one = (lab[y:y + bh, x:x + bw] == i) & (faint[y:y + bh, x:x + bw] > 0)
        rows, cols = np.flatnonzero(one.any(1)), np.flatnonzero(one.any(0))
        if not len(rows):
            continue
        one = one[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        across = one.sum(axis)  # its thickness at each column (rows, vertical)
        found.append((one, (x + cols[0], y + rows[0], one.shape[1], one.shape[0]),
                      float(np.median(across[across > 0]))))
    return found


def _box_sides(faint, horizontal: list, h: int, stroke: float) -> tuple[list, set]:
    """_lines' vertical lines BOX_SIDE of the height or longer with an end on a horizontal one (a box's sides, a
    comb's ticks), as thin as it is (SIDE_THICK), their thickness taken with the faint ink a stroke's width either
    side: a thin slice of a slanted thick stroke standing on a ruled line is no line, nor a thin-penned 1 on it.
    Also the indices of the horizontal lines they stand on."""
    reach, sides, bases = int(np.ceil(stroke)), [], set()
    for one, (x, y, bw, bh), _ in _lines(faint, int(BOX_SIDE * h), 1, BOX_MIN):
        on = [j for j, (_, (x0, y0, w0, h0), _) in enumerate(horizontal)
              if x0 - SIDE_REACH <= x + bw / 2 <= x0 + w0 + SIDE_REACH
              and min(abs(y - y0), abs(y - y0 - h0), abs(y + bh - y0), abs(y + bh - y0 - h0)) <= SIDE_REACH]
        around = float(np.median(faint[y:y + bh, max(0, x - reach):x + bw + reach].sum(1)))
        if on and around <= SIDE_THICK * max(horizontal[j][2] for j in on) + 1:
            sides.append((one, (x, y, bw, bh), around))
            bases.update(on)
    return sides, bases


def remove_rulings(mask, faint, stroke):
    """The mask without long thin horizontal/vertical lines (crossing strokes kept), and how many were removed.
    Lines are looked for in `faint`, a mask of weaker ink: a pale rule may be broken into dashes in `mask`."""
    h, w = mask.shape
    horizontal = _lines(faint, int(RULE_LENGTH * w), 0, RULE_MIN)  # (line mask, its box, its thickness)
    vertical = _lines(faint, int(RULE_HEIGHT * h), 1, RULE_MIN)
    # a squared page's lines, cut by the digits, are no boxes
    sides, bases = _box_sides(faint, horizontal, h, stroke) if horizontal and not vertical else ([], set())
    # A horizontal line ending far from both sides is a stroke (a 7's bar in a tight "17"), unless a box stands on it
    edge = [min(x, w - x - bw) <= RULE_EDGE * w for _, (x, _, bw, _), _ in horizontal]
    found = [line for j, line in enumerate(horizontal) if j in bases or edge[j]] + vertical
    if not found:
        return mask, 0
    removed = np.zeros_like(mask)
    for one, (x, y, bw, bh), _ in found:
        removed[y:y + bh, x:x + bw][one] = 1
    pen = stroke_width(mask & (1 - removed))  # the strokes that are no long line: the writing, if any
    thin = RULE_THIN * pen if pen else np.inf  # a page of lines only: all go
    # A box drawn round the writing with the pen (2+ sides, as bold as the strokes, on 2+ lines: its top and bottom)
    # keeps its top and bottom, no rules (its sides were read as 1s: 636 read 16363, a review); segment.py drops it
    # whole, as a ring round the digits. One line with bold strokes on it is a 7's bar or a 5's hat: as before
    drawn = len(sides) >= 2 and len(bases) >= 2 and all(thickness > thin for *_, thickness in sides)
    found = [line for j, line in enumerate(horizontal) if edge[j]] + vertical if drawn else found + sides
    removed[:] = 0
    count = 0
    for one, (x, y, bw, bh), thickness in found:
        if thickness <= thin:
            removed[y:y + bh, x:x + bw][one] = 1
            count += 1
    if not count:
        return mask, 0
    rest = mask & (1 - removed)
    # A stroke crossing a line is cut by its removal: close gaps up to the lines' thickness, inside the lines only.
    thick = int(np.ceil(max(2.0, RULE_THIN * (pen or stroke)))) + 2
    bridged = (cv2.morphologyEx(rest, cv2.MORPH_CLOSE, np.ones((thick, 1), np.uint8))
               | cv2.morphologyEx(rest, cv2.MORPH_CLOSE, np.ones((1, thick), np.uint8)))
    return rest | (bridged & removed), count
