"""A lone straight line across the picture, clear of the writing: a legal pad's margin (a degree off upright, maybe
joined to a rule), a stray rule; and paper_lines' tests for one line alone: `thin_rule` (a rule at its own slope, a
page in perspective) and `margin` (a faintly ruled page's margin).

    ink = lone_lines.drop(ink)     # (H, W) float32 ink >= 0, changed in place and returned: such lines set to 0

paper_lines.drop_lines takes out lines by the rows (columns) they fill, level or at a slope; a margin drawn a degree
off upright fills no column, and alone it is no ruled page. Before this, a legal pad's red margin stayed in the ink
beside the digit and `predict` refused 38 of 40 photographed digits for it. A line here: a piece of ink spanning
LONE of the picture, 75% of it (ON_LINE) on up to LINES straight lines (each under 2 x STRAIGHT of the picture's
longer side thick) that span LONE too, with the other marks (the digits) spanning under OVER of its length: a tight
crop's 1 or a number's underline as wide as the digits stays, and so does a line within SIDE of the picture's side
(a board's frame, a desk's edge: sheet.py and the crop deal with those; taking most of one out left a sliver that
the crop took for ink). With no digit beside it, a line is taken only when it runs off the picture at both ends and is
thinner than ALONE of its shorter side: a fold's crease across a blank photo was read as a 1 at 0.9997.
Hand-written on OpenCV's connected components and Hough transform: no library takes such a line out of an ink map.
"""

from __future__ import annotations

import cv2
import numpy as np

from .stroke_mask import MASK, stroke_width

LONE = 0.9  # a line spans 90% of the picture's height or width...
STRAIGHT = 0.01  # ...its pixels within 1% of the picture's longer side + 1 px of a straight line (a pen's 1: ~5%)...
ON_LINE = 0.75  # ...75% of them on such lines (LINES at most: a margin joined to a rule); a speck or a shade's
LINES = 3  # remnant hanging on to one stays
OVER = 0.6  # ...and the other marks span under 60% of its length both ways (a tight crop's digits span it all):
MARK = 0.1  # pieces of ink with at least 10% of the largest one's pixels (not the paper's specks)...
DIGIT = 0.1  # ...of which one is 10% of the line's length tall or wide, a digit (a 1 across a tight crop and a dot: no)
STRONG = 0.3  # ...holding ink over 30% of the strongest (a shade's soft grey in a corner holds none)
SIDE = 0.02  # a line within 2% of the picture's side along it is a frame's or a desk's edge, left to sheet.py
HOUGH = 24  # the Hough transform's strongest lines looked at (a thick line's neighbouring bins among them)
BLOCK = 200  # px: pictures over this on their short side are looked at in blocks of (short side // BLOCK) px
THIN = 0.75  # a lone line is under 0.75 of the marks' strokes thick (a 1 across a tight crop is a stroke)
ALONE = 0.012  # with no digit beside it, a line running off the picture at both ends under 1.2% of its shorter side
# thick is no digit's stroke: a fold's crease, a wire, a hair (a 1 across a tight crop: 2.5% and more)...
ALONE_ON = 0.95  # ...one line holding 95% of its piece's pixels (a thin 7's stem spanning a canvas has its bar)
LONE_RULE = 0.5  # paper_lines takes one rule alone at its slope when under half the writing's strokes thick...
ENDS, BESIDE = 0.1, 0.15  # ...and ink touches at most 15% of its first and last tenth
EDGE = 0.1  # ...and 10% of the picture's height or more inside it (a tight crop's 7 bar: 4-9%)
MARGIN = 0.25  # a faintly ruled page's margin: its one upright band within the outer quarter of the width


def drop(ink):
    """The (H, W) float32 ink map, each lone straight line across it set to 0 in place."""
    h, w = ink.shape
    k = max(1, min(h, w) // BLOCK)  # labelled in k x k blocks (any ink): a 900 px photo's in ~1 ms, not ~10
    whole = ink[:h // k * k, :w // k * k]  # whole blocks, in bytes: OpenCV's fast area resize
    scale = 255 / max(float(ink.max()), 1e-6)
    inked, level = cv2.compare(whole, 0, cv2.CMP_GT), cv2.convertScaleAbs(whole, alpha=scale)
    if k > 1:
        inked, level = (cv2.resize(a, (w // k, h // k), interpolation=cv2.INTER_AREA) for a in (inked, level))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.compare(inked, 0, cv2.CMP_GT), connectivity=8)
    sh, sw = inked.shape
    spans = (stats[1:, cv2.CC_STAT_HEIGHT] >= LONE * sh) | (stats[1:, cv2.CC_STAT_WIDTH] >= LONE * sw)
    strong = np.zeros(n, bool)
    strong[labels[level > STRONG * float(level.max())]] = True  # pieces holding strokes, not only shade or specks
    long, rest = np.flatnonzero(spans) + 1, np.flatnonzero(~spans & strong[1:]) + 1
    if not long.size:
        return ink
    area = stats[rest, cv2.CC_STAT_AREA]
    marks = stats[rest[area >= MARK * area.max()], :4] if rest.size else np.zeros((0, 4), stats.dtype)
    span = max(np.ptp(np.r_[marks[:, j], marks[:, j] + marks[:, j + 2]]) for j in (0, 1)) if len(marks) else 0
    tallest, stroke = int(marks[:, 2:].max(initial=0)), None
    for i in long:
        x, y, bw, bh = stats[i, :4]
        alone = tallest < DIGIT * max(bw, bh)  # no digit beside it: a crease or a wire, or a tight crop's 1
        if not alone and span >= OVER * float(np.hypot(bw, bh)):
            continue
        ys, xs = np.nonzero(labels[y:y + bh, x:x + bw] == i)
        ys, xs = ys + y, xs + x
        on, lines = _lines(xs, ys, sw, sh)
        if np.count_nonzero(on) < (ALONE_ON if alone else ON_LINE) * len(xs) or alone and (
                len(lines) > 1 or not _runs_off(xs[on], ys[on], sw, sh, k)):
            continue
        if alone:
            _take(ink, k, xs[on], ys[on], lines, STRAIGHT * max(sw, sh) + 1, ALONE * min(h, w))
        else:
            stroke = _marks_stroke(ink, marks, k) if stroke is None else stroke  # a distance transform: when needed
            _take(ink, k, xs[on], ys[on], lines, STRAIGHT * max(sw, sh) + 1, THIN * stroke)
    return ink


def _runs_off(xs, ys, w: int, h: int, k: int) -> bool:
    """Whether a line's pixels (xs, ys: k px blocks of a w x h picture) reach its edges at both ends: in the edge's
    block, or a pixel off it. A crease runs through them (a review's, 1-2 px short of a 400x300 photo's, read 1); a
    stroke drawn to a canvas's edge stops short (a review's 1 and 7 drawn to 1% inside were erased at 2%)."""
    vx, vy, cx, cy = cv2.fitLine(np.column_stack([xs, ys]).astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01).ravel()
    along = (xs - cx) * vx + (ys - cy) * vy
    near = 1 if k == 1 else 0
    return all(min(xs[e], ys[e], w - 1 - xs[e], h - 1 - ys[e]) <= near for e in (np.argmin(along), np.argmax(along)))


def _marks_stroke(ink, marks, k: int) -> float:
    """The strokes' width of the marks (their block boxes, k px blocks), at full resolution."""
    (x0, y0), (x1, y1) = marks[:, :2].min(0) * k, (marks[:, :2] + marks[:, 2:]).max(0) * k
    region = ink[y0:y1 + k, x0:x1 + k]
    return stroke_width(cv2.compare(region, MASK * float(region.max()), cv2.CMP_GT) // 255)


def _take(ink, k: int, xs, ys, lines, reach: float, thickest: float) -> None:
    """Set to 0 the ink of blocks (xs, ys) (k px a side) that lies on `lines` [(rho, theta, x0, y0)] (Hough's, in
    blocks from x0, y0; its pixels within `reach` blocks of one), each no thicker than `thickest` px (a pen's 1 is a
    stroke): each line fitted again to its own pixels and taken to 4x their distances' first quartile + 1.5 px (its
    half-thickness + 1, a digit touching it aside), so a stroke crossing it loses only that much."""
    h, w = ink.shape
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    blocks = np.zeros((y1 - y0, x1 - x0), np.uint8)
    blocks[ys - y0, xs - x0] = 1
    stop = (h if y1 * k >= h - k else y1 * k), (w if x1 * k >= w - k else x1 * k)  # the last blocks reach the edges
    blocks = cv2.resize(blocks, ((x1 - x0) * k, (y1 - y0) * k), interpolation=cv2.INTER_NEAREST)
    blocks = cv2.copyMakeBorder(blocks, 0, stop[0] - y1 * k, 0, stop[1] - x1 * k, cv2.BORDER_REPLICATE)
    part = ink[y0 * k:stop[0], x0 * k:stop[1]]
    py, px = np.nonzero((blocks > 0) & (part > 0))
    bx, by = (px + x0 * k + 0.5) / k - 0.5, (py + y0 * k + 0.5) / k - 0.5  # pixel centres, in blocks
    for rho, theta, lx, ly in lines:
        mine = np.abs((bx - lx) * np.cos(theta) + (by - ly) * np.sin(theta) - rho) <= reach
        if np.count_nonzero(mine) < 2:
            continue
        points = np.column_stack([px[mine], py[mine]]).astype(np.float32)
        vx, vy, cx, cy = cv2.fitLine(points, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        off = np.abs((px - cx) * vy - (py - cy) * vx)
        near = mine & (off <= 4 * np.percentile(off[mine], 25) + 1.5)
        along = np.ptp((px * vx + py * vy)[near]) + 1
        if np.count_nonzero(near) <= thickest * along:
            part[py[near], px[near]] = 0


def _lines(xs, ys, w: int, h: int):
    """(which of a piece's pixels (xs, ys) lie on straight lines spanning LONE of a w x h picture, the lines as
    (rho, theta, x0, y0)): up to LINES of them (a margin joined to a rule), found by OpenCV's Hough transform,
    strongest first (a speck or a shade's remnant may hang on to one); a line within SIDE of the picture's side along
    it is none of them."""
    x0, y0 = xs.min(), ys.min()  # the Hough transform over the piece's box alone: a margin's is narrow
    mask = np.zeros((ys.max() - y0 + 1, xs.max() - x0 + 1), np.uint8)
    mask[ys - y0, xs - x0] = 255
    found = cv2.HoughLines(mask, 1, np.pi / 360, max(2, int(LONE * min(w, h) / 2)))
    on, side, lines = np.zeros(len(xs), bool), np.zeros(len(xs), bool), []
    for rho, theta in [] if found is None else found[:HOUGH, 0]:  # strongest first: each line's neighbours follow it
        off = np.abs((xs - x0) * np.cos(theta) + (ys - y0) * np.sin(theta) - rho)
        near = ~on & ~side & (off <= STRAIGHT * max(w, h) + 1)
        (along, across), (length, width) = ((ys, xs), (h, w)) if abs(np.cos(theta)) > abs(np.sin(theta)) else \
            ((xs, ys), (w, h))
        if np.count_nonzero(near) < 2 or np.ptp(along[near]) < LONE * length:
            continue
        middle = float(np.median(across[near]))
        if min(middle, width - 1 - middle) < SIDE * width:
            side |= near
            continue
        on |= near
        lines.append((rho, theta, x0, y0))
        if len(lines) == LINES:
            break
    return on, lines


def thin_rule(level, a: int, b: int, inside=None) -> bool:
    """Whether the one rule paper_lines found (rows a:b of its ink `level`, 2 rows thicker; turned, `inside` 255 where
    the canvas holds the picture) is under LONE_RULE of the writing's strokes thick and EDGE of the picture's height
    or more from its top and bottom: a rule of a page in perspective, the others at other slopes (a tight crop's 7
    has a bar as thick as its stem, or along its top; a broad nib's hairline bar further down is taken for a rule)."""
    rows = np.flatnonzero(cv2.reduce(inside, 1, cv2.REDUCE_MAX).ravel()) if inside is not None else [0, len(level) - 1]
    if min(a + 1 - rows[0], rows[-1] - (b - 1)) < EDGE * (rows[-1] - rows[0] + 1):
        return False
    off = level.copy()
    off[max(0, a - 1):b + 1] = 0
    top = float(off.max())
    cols = np.flatnonzero(level[a:b].any(axis=0))
    beside = (off[max(0, a - 4):max(0, a - 1)].any(axis=0) | off[b + 1:b + 4].any(axis=0))[cols]  # ink touching it
    end = max(1, int(ENDS * len(cols)))
    if top <= 0 or beside[:end].mean() > BESIDE or beside[-end:].mean() > BESIDE:
        return False  # a rule's ends run free across the paper; a 7's bar ends in its stem
    return b - a - 2 <= LONE_RULE * stroke_width(cv2.compare(off, MASK * top, cv2.CMP_GT) // 255)


def margin(width: int, bands, faint) -> bool:
    """Whether the one band paper_lines found (in a picture `width` px wide) is a faintly ruled page's margin: upright,
    no thicker than twice the faint rules (+ 1 px), within MARGIN of a side (a 1 spanning a tight crop, or a 7's bar
    lying on a rule, is neither)."""
    rules = [b - a for axis, (a, b), _ in faint if axis == 0]
    if len(bands) != 1 or bands[0][0] != 1 or not rules:
        return False
    a, b = bands[0][1]
    return b - a <= 2 * max(rules) + 1 and min(a, width - b) <= MARGIN * width
