"""A written point, comma, colon, dash or slash among the digits of a row ("3.95", "12,50", "7:39", "268-8549",
"12/05") or a minus sign before them ("-7"): found here so that `read` writes it among the digits it reads
(punctuated.py), where reading around it gave a wrong number (395 for 3.95, 7 for -7). A plus, equals or per cent
sign ("5+3", "7=21", "50%", a % alone), brackets round the digits ("(12)") or a point under a stroke ("?", "!")
refuse the string: no number.

    ink, loose = images.ink_map(image, with_specks=True)   # loose: the ink before specks were dropped
    marks, why = punctuation.find(loose)                    # [punctuated.Mark], why: None or "a plus sign between..."

A pen's point holds under 2% of a number's ink, so images.ink_map drops it with the dust, and segment.py joins a
dash close to a digit to it as a stroke of that digit; this looks at the ink before either step. A mark is
punctuation when it is clear of every digit's columns (not a 5's hat, a broken 4 or a dotted 7), lies between two
digits (not a full stop after the number), a stroke's width from any other small mark (the pieces of a broken 6), at
least a tenth of the digits' height both ways (not dust or a ruled line's stub; a point pressed flat, 6% one way and
at most twice as long: THIN_DOT), and: a dash, a flat thick stroke around the row's middle; a point, small and solid
(or low, round and filled: Purisa's ring round a pinhole, a marker's blot), from the row's middle down to a little
under its baseline, without a comma's tail (two dots one over the other: a colon); a comma, a short thick stroke
hanging from the middle or lower (a long one: _hanging); a slash, a narrow mark leaning right, taller than the digits
and rising above them (one as tall as they is a 1 to any reader; a date's two are found by their lean: dates.py).
Signs by their own shapes: _equals, _plus, percent.py, brackets.py, punctuated.dot_under. Hand-written on OpenCV's
connected components and line fits: no library finds punctuation in handwriting.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from . import brackets, dates, percent, punctuated, sheet
from .stroke_mask import HAIRLINE, MASK, remove_rulings, stroke_width

TALL = 0.5  # a component at least half the tallest one's height is a digit (or most of one)
MIN_AREA = 0.3  # a mark holds at least 0.3 of a square of the strokes' width (a pen's dot ~0.8, less at their cut)
MIN_SIDE = 0.1  # ...and is at least 10% of the digits' height both ways (a hairline face's noisy crumbs are smaller,
# a ruled line's stub thinner), or, a dash, as thick as PEN x the strokes' width (a font's dash: 7% of the height)
THIN_DOT = 0.06  # or, a point, this share of it one way, MIN_SIDE the other and at most twice as long as thin
# (Dancing Script's: 0.08 x 0.12; a ruled line's stub, a low dash or a thin 111's crumb is longer)
CLEAR = 0.25  # punctuation shares at most a quarter of its width with any digit's columns
SMALL = 0.4  # a point is under 40% of the digits' median height both ways; a comma that wide at most
PEN = 0.75  # a point or comma is at least 0.75 of the strokes' width both ways (a dash may be finer)
SOLID = 0.35  # a point fills at least 35% of its box (a dot ~0.7; a thin slanted stub less)
ROUND = 0.64  # ...or, under TALL, its top below the row's middle, round and filling 64% (Purisa's ring round a pinhole)
OVAL = 1.5  # ...round: at most 1.5x as wide as tall or the other way
BLOT = 0.5  # ...or filling half of it and enclosing under HOLE of it (a small 0's ring, a bold small 6's counter: 5%
HOLE = 0.02  # of its box, encloses more): a marker's blot, its rim soft in a photo (Purisa's point photographed fills
# 61-62% and encloses nothing: it was read as a 0)
TICK, LONG, STEEP = 0.18, 1.5, 1.15  # a mark 18% of the digits' height tall and 1.5x as tall as wide, or 1.15x with
# a tail (punctuated.tailed), is a comma, no point (docs/reading.md, "Numbers with punctuation")
BELOW = 0.35  # a point's middle is at most 35% of the digits' height under their baseline
THICK = 0.45  # a comma or dash is at least 0.45 of the strokes' width thick (a squared page's stub of a line: 0.42)
COMMA = 0.7  # a comma is under 70% of the digits' height (Purisa Bold's long one: 0.64)
INNER = 0.15  # a dash lying within a digit's rows but their outer 15% is measured from its ink, not its box (_room)
HANG = 0.15  # a mark over TALL hanging this share of the digits' height below their baseline is a long comma (_hanging)
FLAT = 1.5  # a dash is 1.5x as wide as it is tall or more, and narrower than the digits are tall
MIDDLE = 0.25  # a dash's middle is within 25% of the digits' height of theirs
APART = 0.5  # a dash is half a stroke or more from the digits either side (a 5's hat beside a small body touches
# its box; a 7's bar cut off by a squared page's line is a line's width from its stem); a point or comma 1 px
SLASH_NARROW = 0.6  # a slash is at most 0.6x as wide as it is tall (as a 1 is, not a 4 or a 9)...
SLASH_TALL = 1.3  # ...1.3x as tall as the digits beside it and the row's median digit or more...
SLASH_RISE = 0.1  # ...its top 10% of their height above both neighbours', and it leans right (punctuated.LEAN)
BAR = 0.25  # an equals sign: two flat thick strokes (FLAT, THICK) at least 0.25x the digits' height wide...
PAIR_OVERLAP = 0.5  # ...one above the other, sharing half the wider one's columns...
PAIR_GAP = 0.5  # ...under half the digits' height apart, their middle around the digits' (MIDDLE)
MAX_MARKS = 1000  # more marks than this is texture or noise (segment.py refuses it as speckled): none looked at
# (numbers leave ~15, punctuated ones ~230 with a JPEG comma's crumbs; a 6 px grid 10,000s: the pairs took minutes)
MAX_BARS = 24  # more flat marks than this is texture, not a sign (segment.MAX_DIGITS): no pair of them is looked at
CROSS_SIDES = 2.0  # a plus: a mark BAR to 1x the digits' height tall, at most 2x as wide as tall or tall as wide,
# whose strong ink (MASK) lies, CROSS_COVER of it, within CROSS_BAND of a stroke's width of two straight lines...
CROSS_COVER = 0.97
CROSS_BAND = 0.75
CROSS_STROKES, CROSS_REACH = 2, 0.2  # (each fitted to its strong pixels more than a stroke off the other's fullest row
# or column, and within 2 strokes + 20% of the mark's size of its own: the arms, not the crossing)...
CROSS_ANGLE = 0.5  # ...30 degrees or more apart (the sine of the angle between them)...
CROSS_ARM = 0.35  # ...that cross with 35% of its height (width) or more of the one (other) either side (a 4's bar
# stops short right of its stem, and its left stroke is a third line). Plus signs drawn in the faces: arms 0.39-0.49,
# cover 0.93-1 (some are missed on purpose); a 4 whose left stroke is faint: 0.31 (number_images, model-free)...
CROSS_FAINT = 0.9  # ...and with 90% of all its ink (down to HAIRLINE) within FAINT_REACH px more of them: a 4's faint
FAINT_REACH = 1  # left stroke counts against it, the strokes' anti-aliased edges do not


def find(loose: np.ndarray) -> tuple[list[punctuated.Mark], str | None]:
    """(the marks `read` writes among the digits of a (H, W) ink map before specks were dropped; why it refuses)."""
    top = float(loose.max())
    # Marks down to a fine pen's hairlines (a hairline digit falls into dots at the strokes' cut), a ruled page's
    # lines out first (segment.py's way, on the whole map: they joined the digits; 817:80 read 81780)
    strong, ink = (loose > MASK * top).view(np.uint8), (loose > HAIRLINE * top).view(np.uint8)
    ink = remove_rulings(ink, ink, stroke_width(strong))[0]
    x0, y0, w0, h0 = cv2.boundingRect(ink)
    # The ink's box (a photo of a page is mostly paper), and 1 px of paper: the distance transform's edge is ink
    strong, ink = (np.pad(a[y0:y0 + h0, x0:x0 + w0], 1) for a in (strong, ink))
    stroke = stroke_width(strong)  # the width strokes have at their own cut
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8, ltype=cv2.CV_32S)
    boxes = stats[1:, :4].astype(np.int64)
    if not 2 <= len(boxes) <= MAX_MARKS:
        return [], None
    areas = np.bincount(labels.ravel(), weights=strong.ravel(), minlength=n)[1:]  # each mark's strong ink
    tall = boxes[:, 3] >= TALL * boxes[:, 3].max()
    tall &= ~_hanging(boxes, tall)
    digits = boxes[tall]
    height = float(np.median(digits[:, 3]))
    inked = areas >= MIN_AREA * stroke * stroke  # not the noise at the hairlines' cut
    small = ~tall & inked
    w, h = boxes[:, 2], boxes[:, 3]
    dots = small & (np.minimum(w, h) >= PEN * stroke) & (np.maximum(w, h) < OVAL * np.minimum(w, h)) \
        & (areas >= SOLID * w * h)
    if why := punctuated.dot_under(labels, boxes, dots, tall, height, stroke):  # "?", "!"
        return [], why
    if why := percent.find(labels, strong, boxes, inked, height, stroke):  # 50%, or a % alone
        return [], why
    found = [("-", i) for i in _minus(boxes, areas, small, digits, height, stroke)]
    if len(digits) < 2 or len(boxes) < 3:
        return punctuated.marks(found, labels, boxes, (x0 - 1, y0 - 1))
    found += _small_marks(labels, boxes, areas, small, digits, height, stroke)
    thick = small & (areas >= THICK * stroke * np.hypot(boxes[:, 2], boxes[:, 3]))
    if why := (_equals(boxes, thick, digits, height) or _plus(labels, strong, boxes, inked, tall, height, stroke)
               or brackets.find(labels, boxes, tall)):
        return [], why
    if punctuated.broken(found, boxes, areas, small, height):
        return [], punctuated.BROKEN
    found += [("/" if punctuated.straight(labels[y:y + h, x:x + w] == i + 1, stroke) else punctuated.UNCLEAR, i)
              for i, (x, y, w, h) in ((i, boxes[i]) for i in _slashes(labels, boxes, tall))]
    found += [("/", i) for i in dates.slashes(labels, boxes, tall, stroke) if i not in {j for _, j in found}]
    return punctuated.marks(found, labels, boxes, (x0 - 1, y0 - 1))


def _small_marks(labels, boxes, areas, small, digits, height: float, stroke: float) -> list[tuple[str, int]]:
    """(char, index) of the small marks between two digits: a point, a colon's upper dot ("'"), a comma, a dash."""
    found, left, right = [], digits[:, 0], digits[:, 0] + digits[:, 2]
    for i in np.flatnonzero(small):
        (x, y, w, h), area = boxes[i], areas[i]
        if w >= height or h >= COMMA * height or min(w, h) < min(MIN_SIDE * height, PEN * stroke):  # no dash that wide
            continue
        sized = min(w, h) >= MIN_SIDE * height  # a point or comma; a dash may be thinner, a pen's width (FLAT, THICK)
        shared = np.minimum(right, x + w) - np.maximum(left, x)
        gap = _gaps(boxes[small], (x, y, w, h))
        if shared.max() > CLEAR * w or np.count_nonzero(gap < stroke) > 1:  # one: its own box
            continue
        near = _between(digits, x, w)
        if near is None:
            continue  # not between two digits: a full stop after a number, or a speck at its edge
        middle = float(np.mean(near[:, 1] + near[:, 3] / 2))
        base = float(np.mean(near[:, 1] + near[:, 3]))
        thick = area >= THICK * stroke * np.hypot(w, h)
        room = min(x - (near[0, 0] + near[0, 2]), near[1, 0] - (x + w))  # px to the digits either side
        pen = min(w, h) >= PEN * stroke and room >= 1
        dot = max(w, h) < SMALL * height and area >= SOLID * w * h
        mark = labels[y:y + h, x:x + w] == i + 1
        tick = h >= TICK * height and (h > LONG * w or punctuated.tailed(mark, h > STEEP * w))  # a point has no tail
        flat = max(w, h) >= MIN_SIDE * height and min(w, h) >= max(THIN_DOT * height, max(w, h) / 2)  # pressed flat
        low_round = y >= middle and max(w, h) < OVAL * min(w, h) and (  # a ring round a pinhole, a blot
            area >= ROUND * w * h or area >= BLOT * w * h and not _holed(mark))
        point = (sized or flat) and pen and middle <= y + h / 2 <= base + BELOW * height and (dot or low_round)
        if h < SMALL * height and w >= FLAT * h and thick and abs(y + h / 2 - middle) <= MIDDLE * height \
                and _room(labels, boxes, near, (x, y, w, h)) >= APART * stroke:
            found.append(("-", i))
        elif point and not tick:
            found.append((".", i))
        elif sized and pen and (w < SMALL * height or y + h >= base + HANG * height) and thick and middle <= y <= base:
            found.append((",", i))
        elif sized and pen and dot and float(near[:, 1].min()) <= y + h / 2 < middle:
            found.append(("'", i))  # high in the row: a colon's upper dot when a point lies under it
        else:  # a point but for its tail or room (refused: 5.57 read 557); a mark no check took ("": punctuated.marks)
            blot = dot and w < FLAT * h and middle <= y and y + h / 2 <= base + BELOW * height  # however light
            found.append((punctuated.UNCLEAR if point or blot else "", i))
    return found


def _holed(mark: np.ndarray) -> bool:
    """Whether a mark (its (h, w) bool mask) encloses HOLE of its box or more."""
    region, filled = sheet.with_holes_filled(mark)
    return cv2.countNonZero(filled) - cv2.countNonZero(region) >= HOLE * mark.size


def _room(labels, boxes, near, box) -> float:
    """Px between a mark and the digits either side (`near`, their boxes): between their boxes, or, for a digit whose
    rows reach INNER of its height past the mark's either way, between its ink and the mark's in the mark's own rows
    (a 7's bar over a dash leaves its stem a stroke or more away; a 5's hat beside its body's top is no dash)."""
    x, y, w, h = box
    band, gaps = labels[y:y + h], []
    for digit, side in zip(near, (-1, 1)):
        dx, dy, dw, dh = digit
        gaps.append(x - (dx + dw) if side < 0 else dx - (x + w))
        if dy + INNER * dh <= y and y + h <= dy + (1 - INNER) * dh:
            cols = np.flatnonzero((band == 1 + int(np.flatnonzero((boxes == digit).all(1))[0])).any(0))
            gaps[-1] = np.inf if cols.size == 0 else x - 1 - cols.max() if side < 0 else cols.min() - (x + w)
    return float(min(gaps))


def _hanging(boxes, tall) -> np.ndarray:
    """Which tall marks hang as a long comma does (a hand's or a face's, over TALL of the digits' height): under COMMA
    of the row's median height, their top below its middle and their foot HANG of it or more below its baseline."""
    row = boxes[tall]
    height = float(np.median(row[:, 3]))
    y, h = boxes[:, 1], boxes[:, 3]
    return tall & (h < COMMA * height) & (y >= np.median(row[:, 1] + row[:, 3] / 2)) \
        & (y + h >= np.median(row[:, 1] + row[:, 3]) + HANG * height)


def _minus(boxes, areas, small, digits, height: float, stroke: float) -> list[int]:
    """[the index of the mark that is a minus sign before the number (-7, -38)] or []: a dash (flat, thick, around
    the middle of the first digit) wholly left of its box and nearer than its height (a 7's bar cut off by a squared
    page's line is inside the 7's box), a stroke's width or more from any other small mark (a broken digit's pieces)."""
    first = digits[np.argmin(digits[:, 0])]
    middle = first[1] + first[3] / 2
    for i in np.flatnonzero(small):
        x, y, w, h = boxes[i]
        room = first[0] - (x + w)
        if not (1 <= room <= height and min(MIN_SIDE * height, PEN * stroke) <= h < SMALL * height
                and FLAT * h <= w < height and abs(y + h / 2 - middle) <= MIDDLE * height
                and areas[i] >= THICK * stroke * np.hypot(w, h)):
            continue
        gap = _gaps(boxes[small], (x, y, w, h))
        if np.count_nonzero(gap < stroke) == 1:  # its own box only
            return [i]
    return []


def _plus(labels, strong, boxes, inked, tall, height: float, stroke: float) -> str | None:
    """Why a mark between two digits is a plus sign (5+3), or None: two straight strokes crossing near their middles,
    a stroke's width or more from other small marks (a 4 has a third stroke, maybe broken off, or its bar stops at
    its stem)."""
    x, y, w, h = (boxes[:, k] for k in range(4))
    square = (w * CROSS_SIDES >= h) & (h * CROSS_SIDES >= w)
    for i in np.flatnonzero(inked & square & (h >= BAR * height) & (h <= height)):
        others = np.arange(len(boxes)) != i
        if _between(boxes[tall & others], x[i], w[i]) is None:
            continue  # a plus joins two numbers; any other such mark is the gate's
        gap = _gaps(boxes, boxes[i])
        if np.any(inked & ~tall & others & (gap < stroke)):
            continue  # a small piece of a 4 broken apart lies close by
        box = slice(y[i], y[i] + h[i]), slice(x[i], x[i] + w[i])
        if _crossed(labels[box] == i + 1, strong[box] > 0, stroke):
            return "a plus sign between the digits (not a digit)"
    return None


def _crossed(mark, strong, stroke: float) -> bool:
    """Whether a mark's strong pixels are two straight strokes crossing near the middle of both, its fainter ones
    mostly along them too: lines fitted (OpenCV) to the strong pixels off the fullest row and column, within reach of
    that column and row."""
    ys, xs = np.nonzero(mark & strong)
    h, w = mark.shape
    row, col = np.argmax(np.bincount(ys, minlength=h)), np.argmax(np.bincount(xs, minlength=w))
    band = CROSS_BAND * stroke
    upright = (np.abs(ys - row) > band + stroke) & (np.abs(xs - col) <= CROSS_STROKES * stroke + CROSS_REACH * h)
    if len(np.unique(ys[upright])) < 2:  # no arm off the fullest row to fit a line to
        return False
    line, off = punctuated.line, punctuated.off
    v = line(xs[upright], ys[upright])
    level = (off(v, xs, ys) > band + stroke) & (np.abs(ys - row) <= CROSS_STROKES * stroke + CROSS_REACH * w)
    if len(np.unique(xs[level])) < 2:
        return False
    lines = (v, line(xs[level], ys[level]))
    on = [off(fitted, xs, ys) <= band for fitted in lines]
    fy, fx = np.nonzero(mark & ~strong)
    faint_off = np.count_nonzero(np.minimum(off(lines[0], fx, fy), off(lines[1], fx, fy)) > band + FAINT_REACH)
    if np.mean(on[0] | on[1]) < CROSS_COVER or faint_off > (1 - CROSS_FAINT) * (len(xs) + len(fx)):
        return False
    (dx, dy, px, py), (ex, ey, qx, qy) = lines
    if abs(dx * ey - dy * ex) < CROSS_ANGLE:  # parallel lines would not cross at all
        return False
    t = np.linalg.solve(np.array([[dx, -ex], [dy, -ey]]), np.array([qx - px, qy - py]))[0]
    cx, cy = px + t * dx, py + t * dy
    for (ux, uy, _, _), near, size in zip(lines, on, (h, w)):
        along = (xs[near] - cx) * ux + (ys[near] - cy) * uy
        if not along.size or min(-along.min(), along.max()) < CROSS_ARM * size:
            return False
    return True


def _gaps(boxes, box):
    """Each box's gap in px to `box` (x, y, w, h): the larger of the horizontal and vertical gaps (<= 0: overlap)."""
    x, y, w, h = box
    return np.maximum(np.maximum(boxes[:, 0] - (x + w), x - (boxes[:, 0] + boxes[:, 2])),
                      np.maximum(boxes[:, 1] - (y + h), y - (boxes[:, 1] + boxes[:, 3])))


def _between(digits, x, w):
    """The two digits nearest either side of a mark across columns x to x + w, or None when it is not between two."""
    left, right = digits[:, 0], digits[:, 0] + digits[:, 2]
    before, after = np.flatnonzero(right <= x + w / 2), np.flatnonzero(left >= x + w / 2)
    if not len(before) or not len(after):
        return None
    return digits[[before[np.argmax(right[before])], after[np.argmin(left[after])]]]


def _equals(boxes, thick, digits, height: float) -> str | None:
    """Why two marks are an equals sign (3=3), or None: two flat pen strokes (thick) one above the other, about as
    wide as each other, clear of the digits' columns, between two digits and around their middle. (The dash check
    takes two marks that close for the pieces of one digit, and a thin face's bars for crumbs.)"""
    x, y, w, h = (boxes[:, k] for k in range(4))
    bars = np.flatnonzero(thick & (w >= FLAT * h) & (w >= BAR * height) & (w < height) & (h < SMALL * height))
    if len(bars) > MAX_BARS:
        return None
    left, right = digits[:, 0], digits[:, 0] + digits[:, 2]
    for a, b in itertools.combinations(bars, 2):
        upper, lower = (a, b) if y[a] <= y[b] else (b, a)
        x0, x1 = min(x[a], x[b]), max(x[a] + w[a], x[b] + w[b])
        if min(x[a] + w[a], x[b] + w[b]) - max(x[a], x[b]) < PAIR_OVERLAP * max(w[a], w[b]) \
                or y[lower] - (y[upper] + h[upper]) > PAIR_GAP * height \
                or (np.minimum(right, x1) - np.maximum(left, x0)).max() > CLEAR * (x1 - x0):
            continue
        near, pair = _between(digits, x0, x1 - x0), (y[upper] + y[lower] + h[lower]) / 2
        if near is not None and abs(pair - float(np.mean(near[:, 1] + near[:, 3] / 2))) <= MIDDLE * height:
            return "an equals sign between the digits (not a digit)"
    return None


def _slashes(labels, boxes, tall) -> list[int]:
    """Which tall marks are slashes (12/05, 1/2/24): taller than the digits beside it, rising above them,
    and slanted, where 1s stand as tall as their neighbours."""
    marks, found = np.flatnonzero(tall), []
    row = float(np.median(boxes[marks, 3]))
    for i in marks:
        x, y, w, h = boxes[i]
        before = [j for j in marks if boxes[j, 0] + boxes[j, 2] <= x + w / 2]
        after = [j for j in marks if boxes[j, 0] >= x + w / 2]
        if not before or not after:
            continue
        near = boxes[[max(before, key=lambda j: boxes[j, 0] + boxes[j, 2]), min(after, key=lambda j: boxes[j, 0])]]
        if np.any((near[:, 0] < x + w) & (near[:, 0] + near[:, 2] > x)):
            continue  # a neighbour sharing its columns: a piece of the same digit (a 4's stem beside its diagonal)
        others = max(row, float(near[:, 3].max()))  # not pulled down by pieces of broken digits
        if w > SLASH_NARROW * h or h < SLASH_TALL * others or float(near[:, 1].min()) - y < SLASH_RISE * others:
            continue
        if punctuated.leans_right(labels, boxes, i):
            found.append(int(i))
    return found
