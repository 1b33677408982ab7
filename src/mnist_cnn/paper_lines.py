"""Ruled, squared and form lines taken out of an image's ink, level or turned a little (a page photographed askew),
keeping a stroke's share where it crosses them: a step of images.ink_map (and so of to_mnist and `mnist-cnn read`).

    from mnist_cnn.paper_lines import drop_lines
    ink = drop_lines(ink, floor=0.1)    # (H, W) float32 ink >= 0 -> the same array, lines spanning it taken out
"""

import cv2
import numpy as np

from .lone_lines import margin, thin_rule

LINE_FILL = 0.95  # a row (column) with ink in >= 95% of its pixels may be a ruled, grid or form line...
LINE_THIN = 0.1  # ...if its band of such rows is at most 10% of the image's height thick (a "1" cropped tight: all)...
LINE_BANDS = 2  # ...and there are >= 2 such bands (a box, rules, a grid); one alone is a 7's bar in a tight crop
LINE_LEVEL = 10  # ...and is even: the LINE_LEVEL percentile of its strongest row is at least LINE_EVEN of its median
LINE_EVEN = 0.5  # (a stroke along a tight crop's edge fades at its ends)
KIN = 1.5  # ...or, uneven, when that percentile (its own level) is within 1.5x of the median of the even lines' on its
# axis, and it no thicker than they are (_kin)
LINE_CROSS = 0.25  # ink beside a line over this x its strength is a stroke crossing it (see _lift)
LINE_OVER = 1.5  # ink in a line's band over this x the line's own is a stroke lying along it; the line's own is the
LINE_CHUNKS = 8  # median of each eighth of it, as the light and the printer's pen vary along a line
LINE_FREE = 0.25  # a line is taken out by its own level only when at least this share of its length is free of
# strokes; with less, by the median level of the other lines on its axis (a grid's, rules'), when there are any
LINE_SLOPE = 0.15  # lines sloping up to this (rise over run; 8.5 degrees) are levelled first: a page photographed askew
SLOPE_RISE = 1.0  # px: lines rising less than this across the picture are level enough for its rows...
SLOPE_STEEP = 4.0  # ...and from this, a band of rows holds too short a part of each to be taken before the slope
SLOPE_STEP = 4.0  # px of rise across the picture between the slopes first tried...
SLOPE_FINE = 0.25  # ...then between those tried around the best: a 1-px line on 1,000 px must be levelled to ~1 px
SLOPE_PIXELS = 6_000  # inked pixels the slope is searched on, at most (every k-th): a 1,024 px page's lines hold more
SLOPE_SEEN = 0.5  # the first search's best slope must put this share of the width into one row pair, or no line
SLOPE_ROUNDS = 4  # a page in perspective: its rules' slopes looked for this many times at most
SLOPE_THICK = 5  # px: a turned page's lines are no thicker (a pen's bars in a tight crop of a boxy digit are)...
SLOPE_SHARE = 0.01  # ...or than 1% of the picture's height (a large photo's blurred rules: 7 px in 770)...
SLOPE_BARE = 0.1  # ...and hold all the ink of at least this share of the picture's columns (see _turned_bands)
SLOPE_PART = 0.1  # ...and then rows only this share inside the picture (a corner) count as lines when full there
SLIVER = 3  # px: a turned line's end along a side of the picture is no thicker (_drop_edge_slivers)
FRAME_BAND = 0.1  # a frame round one digit (a form's box): ink in >= LINE_FILL of the outer 10% of each side of the
# ink's box, taken out by drop_lines with ink left inside it (a Z's or a 7's bars have no sides: no frame)
CELLS = 2.0  # a frame at least 2x wider than tall holds a row of digits (a form's cells, a box round a number)...
CROSSED = 0.5  # ...which may cross its sides over up to half of each; one digit's frame must hold all its ink inside


def drop_lines(ink, floor: float, least: int = LINE_BANDS, faint=()):
    """The ink (H, W) float32 >= 0, changed in place and returned, without straight lines running across the whole
    image (ruled or squared paper, a form's box), level or sloping up to LINE_SLOPE. floor: the least 1 - line level
    a stroke's share is divided by; least: level lines are dropped when there are this many bands of them (1: a
    shade's step, images.py); faint: faint_lines' lines, taken out at their level where no line was found."""
    # Hand-written: OpenCV's Hough transform finds lines but not which pixels are the line's and which a stroke's
    # crossing it; a line spanning the image is the whole ink of its band where no stroke meets it (_lift).
    inked = cv2.compare(ink, 0, cv2.CMP_GT)  # 255 where ink (ink is >= 0): counted per row and column by OpenCV
    if drop_box(ink, floor, inked):
        inked = cv2.compare(ink, 0, cv2.CMP_GT)
    uneven = []
    bands = [(axis, band) for axis in (0, 1) for band in _bands(ink, inked, axis, uneven=uneven)]
    kin = _kin(ink, bands, uneven)
    bands += kin
    slope = _slope(inked)  # rules rising SLOPE_STEEP or more: rows hold only short parts of them, no level band
    steep = slope is not None and abs(slope) * ink.shape[1] >= SLOPE_STEEP and _drop_sloping(ink, inked, floor, slope)
    ruled = len(bands) >= least and any(axis == 0 for axis, _ in bands) or margin(ink.shape[1], bands, faint)
    if ruled and not steep:
        _lift(ink, bands, floor, kin)
    elif steep or slope is not None and _drop_sloping(ink, inked, floor, slope):  # no level rule: they may slope...
        upright = [(axis, band) for axis, band in bands if axis == 1]  # ...a grid's upright lines level still,
        if upright:  # when the rules rise a pixel across a picture wider than they do across its height
            _lift(ink, upright, floor, kin)
    elif len(bands) >= least:
        _lift(ink, bands, floor, kin)
    elif len(bands) == 1 and bands[0][0] == 0 and thin_rule(ink, bands[0][1][0] - 1, bands[0][1][1] + 1):
        trial = ink.copy()  # one thin level rule (not a 7's bar in a tight crop): a page in perspective, others sloping
        _lift(trial, bands, floor, kin)
        if _drop_sloping(trial, cv2.compare(trial, 0, cv2.CMP_GT), floor):
            np.copyto(ink, trial)
    for axis, (a, b), level in faint:  # each with the anti-aliased row either side, where no line was found
        if not any(other == axis and start < b and a < stop for other, (start, stop) in bands):
            _subtract((ink if axis == 0 else ink.T)[max(0, a - 1):b + 1], np.float32(level), floor)
    return ink


def drop_box(ink, floor: float, inked=None) -> bool:
    """Take a frame round all the ink, its sides short of the picture's (a bordered card, a form's row of cells), out
    of ink (H, W) float32 >= 0 in place, as drop_frame finds one; returns whether there was one. inked: ink > 0 as
    255s, when at hand."""
    x, y, w, h = cv2.boundingRect(cv2.compare(ink, 0, cv2.CMP_GT) if inked is None else inked)
    if 0 < w * h < ink.size and (inner := _framed(ink[y:y + h, x:x + w], floor)) is not None:
        ink[y:y + h, x:x + w] = inner
        return True
    return False


def drop_frame(ink, floor: float):
    """ink (H, W) float32 >= 0, cropped to its box -> the ink inside a frame round it (a form's box round one digit),
    the frame taken out (drop_lines: a stroke crossing it keeps its share) and cropped to what is left; else the same
    array. A frame: ink across >= LINE_FILL of the outer FRAME_BAND of every side, all four sides drop_lines's lines
    (thin, even; level), ink left strictly inside."""
    inner = _framed(ink, floor)
    if inner is None:
        return ink
    x, y, w, h = cv2.boundingRect(cv2.compare(inner, 0, cv2.CMP_GT))
    return inner[y:y + h, x:x + w]


def _framed(ink, floor: float):
    """drop_frame's ink with the frame taken out, not cropped (a copy); None when there is no frame."""
    h, w = ink.shape
    inked = ink > 0
    t, u = max(1, round(FRAME_BAND * h)), max(1, round(FRAME_BAND * w))
    sides = (inked[:t].any(0), inked[-t:].any(0), inked[:, :u].any(1), inked[:, -u:].any(1))
    if min(h, w) < 3 * SLIVER or min(np.count_nonzero(side) / side.size for side in sides) < LINE_FILL:
        return None
    inner = drop_lines(ink.copy(), floor)
    x, y, bw, bh = cv2.boundingRect(cv2.compare(inner, 0, cv2.CMP_GT))
    if bw and 0 < x and x + bw < w and 0 < y and y + bh < h:
        return inner
    # A row of cells (a form's boxes for a number, a box round it): a digit crossing a side keeps its share there
    sides = (inner[0], inner[-1], inner[:, 0], inner[:, -1])
    return inner if bw and w >= CELLS * h and all(np.count_nonzero(s) <= CROSSED * s.size for s in sides) else None


def _drop_sloping(ink, inked, floor, slope=None) -> bool:
    """drop_lines for a page photographed askew: no row is one line, so the ink is turned to level the lines (_slope)
    on a canvas holding all of it, they are taken out there (_lift), and the pixels near them turned back; the rest
    is untouched. In perspective each rule has its own slope: looked for again, SLOPE_ROUNDS times at most, while
    some are found. slope: the first round's, when already searched (_slope). Returns whether it took any out."""
    found = False
    for _ in range(SLOPE_ROUNDS):
        if (slope := _slope(inked) if found or slope is None else slope) is None or not _drop_at(ink, floor, slope):
            break
        found, inked = True, cv2.compare(ink, 0, cv2.CMP_GT)
    return found


def _drop_at(ink, floor, slope: float) -> bool:
    """One round of _drop_sloping: the lines at one slope."""
    h, w = ink.shape
    turn = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), float(np.degrees(np.arctan(slope))), 1.0)
    pad = (int(np.ceil(abs(slope) * h / 2)) + 1, int(np.ceil(abs(slope) * w / 2)) + 1)  # x, y
    turn[:, 2] += pad
    size = (w + 2 * pad[0], h + 2 * pad[1])
    level = cv2.warpAffine(ink, turn, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    bands = _turned_bands(level, cv2.warpAffine(np.full((h, w), 255, np.uint8), turn, size, flags=cv2.INTER_NEAREST))
    if not bands:
        return False
    before = level.copy()
    strength = _lift(level, bands, floor)
    near = cv2.warpAffine(cv2.compare(level, before, cv2.CMP_NE), turn, (w, h),
                          flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    near = cv2.dilate(near, np.ones((3, 3), np.uint8))  # what a line touched, and the pixels it was shared with
    back = cv2.warpAffine(level, turn, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    np.copyto(ink, back, where=near > 0)
    _drop_edge_slivers(ink, strength)
    return True


def _turned_bands(level, inside) -> list:
    """The bands of lines in the turned ink `level`, or [] unless they look like a page's rules: at least LINE_BANDS
    of them across at least half the picture, none thicker than SLOPE_THICK (SLOPE_SHARE), and the ink of at least
    SLOPE_BARE of the picture's columns inside them (the margins, the gaps between digits: a Z's or a box's bars leave
    none, or are a pen's width); or one such rule under half the writing's strokes thick (lone_lines.thin_rule).
    inside: 255 where the canvas holds the picture."""
    # Turned, a 1-px line stepping a row every 1/slope px is shared between two rows, unevenly along it: the bands
    # are looked for with each pixel the sum of its own and its two neighbours' across the line (so 2 rows thicker).
    sums = [cv2.boxFilter(level, -1, (1, 3) if axis == 0 else (3, 1), normalize=False) for axis in (0, 1)]
    inked = [cv2.compare(a, 0, cv2.CMP_GT) for a in sums]
    # A line leaving through the top or bottom holds only a part of its row inside the picture (SLOPE_PART)
    bands = [(axis, (a, b)) for axis in (0, 1) for a, b in _bands(sums[axis], inked[axis], axis, inside, SLOPE_PART)
             if b - a <= max(SLOPE_THICK, SLOPE_SHARE * level.shape[0]) + 2]
    span = cv2.reduce(inside, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    rules = [(a, b) for axis, (a, b) in bands if axis == 0 and span[a:b].max() >= span.max() / 2]
    if len(rules) < LINE_BANDS:  # one rule: the others at other slopes cross its bare columns
        return bands if rules and thin_rule(level, *rules[0], inside) else []
    off = level.copy()
    for a, b in rules:
        off[max(0, a - 1):b + 1] = 0
    columns = cv2.reduce(inside, 0, cv2.REDUCE_MAX)
    bare = cv2.bitwise_and(cv2.compare(cv2.reduce(off, 0, cv2.REDUCE_MAX), 0, cv2.CMP_EQ), columns)
    return bands if cv2.countNonZero(bare) >= SLOPE_BARE * cv2.countNonZero(columns) else []


def _drop_edge_slivers(ink, strength: float) -> None:
    """Take out what a turned line leaves where it runs out through a side of the picture: a mark at most SLIVER px
    thick along that side, a quarter of it long or longer, and no stronger than LINE_OVER x the lines (`strength`)
    (a pen's 1 at the side is stronger). There the line is too short a part of its row, and the paper's fit at the
    border weakens it, for _bands to find it."""
    h, w = ink.shape
    _, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.compare(ink, 0, cv2.CMP_GT), connectivity=8)
    for k, (x, y, bw, bh, _) in enumerate(stats[1:], 1):
        upright = bw <= SLIVER and bh >= h / 4 and (x == 0 or x + bw == w)
        lying = bh <= SLIVER and bw >= w / 4 and (y == 0 or y + bh == h)
        if upright or lying:
            mine = labels[y:y + bh, x:x + bw] == k
            if ink[y:y + bh, x:x + bw][mine].max() <= LINE_OVER * strength:
                ink[y:y + bh, x:x + bw][mine] = 0


def _lift(ink, bands, floor, kin=()):
    """ink without the lines in `bands` [(axis, (start, stop))], changed in place: each line's level at each pixel is
    the pixel itself where no stroke crosses it or lies along it (_stroked), and elsewhere the level of the line
    either side of the stroke, interpolated along it; the stroke keeps its share, (ink - line) / (1 - line). A line
    stepping a row partway (a little askew) or turned level changes from one pixel to the next: a percentile of each
    eighth of the line, taken before 2026-12-03, left its steps behind as dashes (a blank squared page read 111).
    A line with more stroke than line, or one of `kin` (_kin's), is taken out at the median level of the others on
    its axis: _stroked misses a thin pen along most of an eighth of a line, whose level it then takes for the line's.
    Returns the strongest line's strength among those taken out at their own level (0 when none was)."""
    spans, kin = [], {(axis, band) for axis, band in kin}
    for axis, (start, stop) in sorted(bands):  # with the anti-aliased row either side; two rules a row or two
        a, b = max(0, start - 1), min(ink.shape[axis], stop + 1)  # apart are one band (each is the other's side)
        under = (axis, (start, stop)) in kin
        if spans and spans[-1][0] == axis and a <= spans[-1][2]:
            _, a, _, was = spans.pop()
            under = under or was
        spans.append((axis, a, b, under))
    lifts, strengths, crowded = [], [0.0], []
    for axis, a, b, under in spans:  # every level is taken before any is subtracted: a grid's lines cross each other
        view = ink if axis == 0 else ink.T
        band, zero = view[a:b], np.zeros(view.shape[1], np.float32)
        sides = [view[r] if 0 <= r < view.shape[0] else zero for r in (a - 1, b)]  # no other line: merged above
        free = [] if under else np.flatnonzero(~_stroked(band, np.maximum(*sides)))
        if len(free) < LINE_FREE * band.shape[1]:
            crowded.append((axis, a, b))  # more stroke than line
            continue
        x = np.arange(band.shape[1])
        lifts.append((axis, a, b, np.stack([np.interp(x, free, row[free]) for row in band]).astype(np.float32)))
        strengths.append(float(np.median(band[:, free].max(0))))
    for axis, a, b in crowded:  # a stroke along most of a line (a digit's stem on a squared page's): the level of
        siblings = [(s, hi - lo) for (other, lo, hi, _), s in zip(lifts, strengths[1:]) if other == axis]  # the
        if siblings and b - a <= max(thick for _, thick in siblings) + 1:  # others, as thin (no shade's misfit)
            lifts.append((axis, a, b, np.full((b - a, ink.shape[1 - axis]), np.median([s for s, _ in siblings]),
                                              np.float32)))
    for axis, a, b, level in lifts:
        _subtract((ink if axis == 0 else ink.T)[a:b], level, floor)
    return max(strengths)


def _subtract(part, level, floor: float) -> None:
    """A line's `level` (an array like `part`, or one number) taken out of its band `part`, in place: a stroke
    crossing or along it keeps its share, (ink - line) / (1 - line)."""
    part -= level
    part /= np.maximum(1 - level, np.float32(floor))  # a pen over a printed line darkens what the line left
    part[part < level] = 0  # weaker than the line itself: the line's own unevenness, which would widen a box


def _stroked(band, beside):
    """Where along a line's band (rows, n) a stroke crosses it (`beside`, the ink either side of the band, over
    LINE_CROSS of the line's strength) or lies along it (the band's ink over LINE_OVER x the line's), and the
    anti-aliased pixel either side of those: (n,) bool."""
    sums = band.sum(0)  # a line shared between two rows keeps its sum
    k = min(LINE_CHUNKS, len(sums))
    step = len(sums) // k  # the last len % k pixels only follow their neighbours' median
    typical = np.interp(np.arange(len(sums)), (np.arange(k) + 0.5) * step - 0.5,
                        np.median(sums[:k * step].reshape(k, step), axis=1))
    stroked = (beside > LINE_CROSS * float(np.median(band.max(0)))) | (sums > LINE_OVER * typical)
    stroked[1:] |= stroked[:-1].copy()
    stroked[:-1] |= stroked[1:].copy()
    return stroked


def _slope(inked):
    """The slope (rise over run, |slope| <= LINE_SLOPE) of lines running across the whole image and rising at least
    SLOPE_RISE px over its width, or None: the slope at which the inked pixels fall into the fewest rows (the
    sharpest row counts), searched in steps of SLOPE_STEP px of rise, then SLOPE_FINE px around the best."""
    # Hand-written: a projection profile over sheared rows, one np.bincount per search. cv2.HoughLines finds a thick
    # line's slope anywhere across the plateau of slopes that keep one of its rows inside it.
    h, w = inked.shape
    columns = cv2.reduce(inked, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255
    if w < 2 * SLOPE_STEP or np.count_nonzero(columns >= LINE_BANDS) < LINE_FILL * w:
        return None  # fewer than two lines cross the picture
    ys, xs = np.nonzero(inked)
    every = -(-len(ys) // SLOPE_PIXELS)
    ys, xs = ys[::every].astype(np.float32), xs[::every].astype(np.float32) - np.float32((w - 1) / 2)

    def best(slopes):  # the sharpest of these slopes, and its most pixels in a pair of neighbouring rows
        reach = int(np.ceil(np.abs(slopes).max() * w / 2)) + 1
        rows = np.rint(ys - slopes[:, None].astype(np.float32) * xs).astype(np.int32) + reach
        rows += np.arange(len(slopes), dtype=np.int32)[:, None] * (h + 2 * reach)
        counts = np.bincount(rows.ravel(), minlength=len(slopes) * (h + 2 * reach)).reshape(len(slopes), -1)
        sharp = np.einsum("ij,ij->i", counts, counts)
        ties = np.flatnonzero(sharp == sharp.max())
        k = ties[len(ties) // 2]
        return float(slopes[k]), int((counts[k, :-1] + counts[k, 1:]).max()) * every  # a 1-px line half a row off

    coarse, seen = best(np.arange(-LINE_SLOPE, LINE_SLOPE + 1e-9, SLOPE_STEP / w))
    if seen < SLOPE_SEEN * w:
        return None
    fine = coarse + np.arange(-SLOPE_STEP, SLOPE_STEP + 1e-9, SLOPE_FINE) / w
    slope, seen = best(np.unique(np.clip(fine, -LINE_SLOPE, LINE_SLOPE)))
    if abs(slope) * w < SLOPE_RISE or seen < LINE_FILL * w:
        return None
    return slope


def _bands(ink, inked, axis, inside=None, least: float = 0.5, uneven=None):
    """[(start, stop)] of the thin bands of rows (axis 0) or columns (1) with ink in >= LINE_FILL of their pixels
    (inked: 255 where ink, else 0); when `inside` (255 where a turned canvas holds the picture) is given, of their
    pixels inside, in rows at least `least` as long inside as the longest, and 2 rows thicker (ink summed over 3).
    uneven: a list to add (axis, (start, stop)) to for each such band left out as uneven (_even)."""
    # cv2.reduce, not np.count_nonzero(axis=...): 10-20 us against ~100 on a 280x280 drawing
    inked = inked if inside is None else cv2.bitwise_and(inked, inside)
    counts = cv2.reduce(inked, 1 - axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255
    if inside is None:
        full, thin = counts >= LINE_FILL * ink.shape[1 - axis], LINE_THIN * ink.shape[axis]
    else:
        span = cv2.reduce(inside, 1 - axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255
        full = (counts >= LINE_FILL * span) & (span >= least * span.max())
        thin = LINE_THIN * np.count_nonzero(cv2.reduce(inside, 1 - axis, cv2.REDUCE_MAX).ravel()) + 2
    edges = np.flatnonzero(np.diff(np.concatenate([[0], full.view(np.int8), [0]])))
    thin_bands = [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b - a <= thin]
    even = [(a, b) for a, b in thin_bands if _even(ink, axis, a, b, inside)]
    if uneven is not None:
        uneven += [(axis, band) for band in thin_bands if band not in even]
    return even


def _even(ink, axis, start, stop, inside=None):
    """Whether the band's strongest row (column) is even like a printed line: its LINE_LEVEL percentile at least
    LINE_EVEN of its median (over its pixels `inside` the picture, if given). A curved stroke grazing a tight crop's
    edge fades out along it."""
    row = _strongest(ink, axis, start, stop, inside)
    return np.percentile(row, LINE_LEVEL) >= LINE_EVEN * np.median(row)


def _strongest(ink, axis, start, stop, inside=None):
    """The band's row (column) with the highest median ink, its pixels `inside` the picture only, if given."""
    part = ink[start:stop] if axis == 0 else ink[:, start:stop].T
    k = np.argmax(np.median(part, axis=1))
    return part[k] if inside is None else part[k][(inside[start:stop] if axis == 0 else inside[:, start:stop].T)[k] > 0]


def _kin(ink, bands, uneven) -> list:
    """The uneven bands (axis, (start, stop)) that are printed lines under a stroke lying along most of them (a
    digit's stem on a squared page's line: 15 of `mnist-cnn evalset`'s 18 squared digits misread or refused had one
    left whole): their LINE_LEVEL percentile, the line's own level, within KIN of the median level of the even bands
    on their axis, and no thicker than the thickest of those (+ 1 px: a band of shade's misfit is wider)."""
    kin = []
    for axis, (a, b) in uneven:
        lines = [band for other, band in bands if other == axis]
        if not lines or b - a > max(stop - start for start, stop in lines) + 1:
            continue
        level = np.median([np.median(_strongest(ink, axis, *band)) for band in lines])
        floor = np.percentile(_strongest(ink, axis, a, b), LINE_LEVEL)
        if floor > 0 and abs(np.log(floor / level)) <= np.log(KIN):
            kin.append((axis, (a, b)))
    return kin
