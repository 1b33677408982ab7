"""Ruled, squared and form lines taken out of an image's ink, level or turned a little (a page photographed askew),
keeping a stroke's share where it crosses them: a step of images.ink_map (and so of to_mnist and `mnist-cnn read`).

    from mnist_cnn.paper_lines import drop_lines
    ink = drop_lines(ink, floor=0.1)    # (H, W) float32 ink >= 0 -> the same array, lines spanning it taken out
"""

import cv2
import numpy as np

LINE_FILL = 0.95  # a row (column) with ink in >= 95% of its pixels may be a ruled, grid or form line...
LINE_THIN = 0.1  # ...if its band of such rows is at most 10% of the image's height thick (a "1" cropped tight: all)...
LINE_BANDS = 2  # ...and there are >= 2 such bands (a box, rules, a grid); one alone is a 7's bar in a tight crop
LINE_LEVEL = 10  # ...and is even: the LINE_LEVEL percentile of its strongest row is at least LINE_EVEN of its median
LINE_EVEN = 0.5  # (a stroke along a tight crop's edge fades at its ends)
LINE_CROSS = 0.5  # ink beside a line over this x its strength is a stroke crossing it (see _lift)...
LINE_OVER = 1.5  # ...and ink in its band over this x its own strength (the median of each of LINE_CHUNKS stretches
LINE_CHUNKS = 8  # of it: the light and the printer's pen vary along a line) a stroke lying along it
LINE_FREE = 0.25  # a line is taken out only when at least this share of its length is free of strokes
LINE_SLOPE = 0.15  # lines sloping up to this (rise over run; 8.5 degrees) are levelled first: a page photographed askew
SLOPE_RISE = 1.0  # px: lines rising less than this across the picture are level enough for its rows
SLOPE_STEP = 2.0  # px of rise across the picture between the slopes first tried...
SLOPE_FINE = 0.25  # ...then between those tried around the best: a 1-px line on 1,000 px must be levelled to ~0.5 px
SLIVER = 3  # px: a turned line's end along a side of the picture is no thicker (_drop_edge_slivers)
SLOPE_PIXELS = 20_000  # inked pixels the slope is searched on, at most (every k-th): ~1 ms a search


def drop_lines(ink, floor: float):
    """The ink (H, W) float32 >= 0, changed in place and returned, without straight lines running across the whole
    image (ruled or squared paper, a form's box), level or sloping up to LINE_SLOPE. floor: the least 1 - line level
    a stroke's share is divided by."""
    # Hand-written: OpenCV's Hough transform finds lines but not which pixels are the line's and which a stroke's
    # crossing it; a line spanning the image is the whole ink of its band where no stroke meets it (_lift).
    inked = cv2.compare(ink, 0, cv2.CMP_GT)  # 255 where ink (ink is >= 0): counted per row and column by OpenCV
    bands = _all_bands(ink, inked)
    if len(bands) >= LINE_BANDS and any(axis == 0 for axis, _ in bands):
        _lift(ink, bands, floor)
        return ink
    # No level line across: the lines may slope, the upright ones level still in a picture wider than it is tall
    if not _drop_sloping(ink, inked, floor) and len(bands) >= LINE_BANDS:
        _lift(ink, bands, floor)
    return ink


def _drop_sloping(ink, inked, floor):
    """drop_lines for a page photographed a little askew: no row is one line, so the ink is turned to level the
    lines (_slope), they are taken out there (_lift), and the pixels near them turned back; the rest is untouched.
    Returns whether it took any out."""
    h, w = ink.shape
    slope = _slope(inked)
    if slope is None:
        return False
    turn = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), float(np.degrees(np.arctan(slope))), 1.0)
    pad = (int(np.ceil(abs(slope) * h / 2)) + 1, int(np.ceil(abs(slope) * w / 2)) + 1)  # x, y: the corners stay in
    turn[:, 2] += pad
    size = (w + 2 * pad[0], h + 2 * pad[1])
    level = cv2.warpAffine(ink, turn, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Turned, a 1-px line stepping a row every 1/slope px is shared between two rows, unevenly along it: the bands
    # are looked for with each pixel the sum of its own and its two neighbours' across the line.
    # A line leaving through the top or bottom fills its row where the row is inside the picture (`inside`).
    inside = cv2.warpAffine(np.full((h, w), 255, np.uint8), turn, size, flags=cv2.INTER_NEAREST)
    bands = [(axis, band) for axis in (0, 1) for band in _bands(
        *_inked(cv2.boxFilter(level, -1, (1, 3) if axis == 0 else (3, 1), normalize=False)), axis, inside)]
    if len(bands) < LINE_BANDS:
        return False
    before = level.copy()
    _lift(level, bands, floor)
    near = cv2.warpAffine(cv2.compare(level, before, cv2.CMP_NE), turn, (w, h),
                          flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    near = cv2.dilate(near, np.ones((3, 3), np.uint8))  # what a line touched, and the pixels it was shared with
    back = cv2.warpAffine(level, turn, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    np.copyto(ink, back, where=near > 0)
    _drop_edge_slivers(ink)
    return True


def _drop_edge_slivers(ink):
    """Take out what a turned line leaves where it runs out through a side of the picture: a mark at most SLIVER px
    thick along that side, a quarter of it long or longer. There the line is too short a part of its row, and the
    paper's fit at the border weakens it, for _bands to find it."""
    h, w = ink.shape
    _, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.compare(ink, 0, cv2.CMP_GT), connectivity=8)
    for k, (x, y, bw, bh, _) in enumerate(stats[1:], 1):
        upright = bw <= SLIVER and bh >= h / 4 and (x == 0 or x + bw == w)
        lying = bh <= SLIVER and bw >= w / 4 and (y == 0 or y + bh == h)
        if upright or lying:
            ink[y:y + bh, x:x + bw][labels[y:y + bh, x:x + bw] == k] = 0


def _inked(ink):
    return ink, cv2.compare(ink, 0, cv2.CMP_GT)


def _lift(ink, bands, floor):
    """ink without the lines in `bands` [(axis, (start, stop))], changed in place: each line's level at each pixel is
    the pixel itself where no stroke crosses it or lies along it (_stroked), and elsewhere the level of the line
    either side of the stroke, interpolated along it; the stroke keeps its share, (ink - line) / (1 - line). A line
    stepping a row partway (a little askew) or turned level changes from one pixel to the next: a percentile of each
    eighth of the line, taken before 2026-12-03, left its steps behind as dashes (a blank squared page read 111)."""
    spans = [(axis, max(0, start - 1), min(ink.shape[axis], stop + 1)) for axis, (start, stop) in bands]
    lifts = []
    for axis, a, b in spans:  # every level is taken before any line is subtracted: a grid's lines cross each other
        view = ink if axis == 0 else ink.T
        band, zero = view[a:b], np.zeros(view.shape[1], np.float32)
        free = np.flatnonzero(~_stroked(band, np.maximum(view[a - 1] if a > 0 else zero,
                                                         view[b] if b < view.shape[0] else zero)))
        if len(free) < LINE_FREE * band.shape[1]:
            continue  # more stroke than line
        x = np.arange(band.shape[1])
        lifts.append((axis, a, b, np.stack([np.interp(x, free, row[free]) for row in band]).astype(np.float32)))
    for axis, a, b, level in lifts:
        part = (ink if axis == 0 else ink.T)[a:b]
        part -= level
        part /= np.maximum(1 - level, np.float32(floor))  # a pen over a printed line darkens what the line left
        part[part < level] = 0  # weaker than the line itself: the line's own unevenness, which would widen a box


def _stroked(band, beside):
    """Where along a line's band (rows, n) a stroke crosses it (`beside`, the ink either side of the band, over
    LINE_CROSS of the line's strength) or lies along it (the band's ink over LINE_OVER x the line's), and the
    anti-aliased pixel either side of those: (n,) bool."""
    sums = band.sum(0)  # a line shared between two rows keeps its sum
    chunks = np.array_split(sums, min(LINE_CHUNKS, len(sums)))
    middles = np.cumsum([0] + [len(c) for c in chunks])
    typical = np.interp(np.arange(len(sums)), (middles[:-1] + middles[1:] - 1) / 2, [np.median(c) for c in chunks])
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
    if np.count_nonzero(columns >= LINE_BANDS) < LINE_FILL * w:
        return None  # fewer than two lines cross the picture
    ys, xs = np.nonzero(inked)
    every = -(-len(ys) // SLOPE_PIXELS)
    ys, xs = ys[::every].astype(np.float32), xs[::every].astype(np.float32) - np.float32((w - 1) / 2)

    def counts(slopes):  # (len(slopes), rows): how many pixels fall in each row, sheared by each slope
        reach = int(np.ceil(np.abs(slopes).max() * w / 2)) + 1
        rows = np.rint(ys - slopes[:, None].astype(np.float32) * xs).astype(np.int64) + reach
        rows += np.arange(len(slopes))[:, None] * (h + 2 * reach)
        return np.bincount(rows.ravel(), minlength=len(slopes) * (h + 2 * reach)).reshape(len(slopes), -1)

    coarse = np.arange(-LINE_SLOPE, LINE_SLOPE + 1e-9, SLOPE_STEP / w)
    best = coarse[np.argmax((counts(coarse).astype(np.float64) ** 2).sum(1))]
    fine = best + np.arange(-SLOPE_STEP, SLOPE_STEP + 1e-9, SLOPE_FINE) / w
    found = counts(fine)
    sharp = (found.astype(np.float64) ** 2).sum(1)
    ties = np.flatnonzero(sharp == sharp.max())
    k = ties[len(ties) // 2]
    pairs = found[k, :-1] + found[k, 1:]  # a 1-px line half a row off its sheared row falls into two
    if abs(fine[k]) * w < SLOPE_RISE or pairs.max() * every < LINE_FILL * w:
        return None
    return float(fine[k])


def _all_bands(ink, inked):
    return [(axis, band) for axis in (0, 1) for band in _bands(ink, inked, axis)]


def _bands(ink, inked, axis, inside=None):
    """[(start, stop)] of the thin bands of rows (axis 0) or columns (1) with ink in >= LINE_FILL of their pixels
    (inked: 255 where ink, else 0), or of those `inside` (255) the picture, when inside is given: of rows at least
    half as long inside as the longest."""
    # cv2.reduce, not np.count_nonzero(axis=...): 10-20 us against ~100 on a 280x280 drawing
    inked = inked if inside is None else cv2.bitwise_and(inked, inside)
    counts = cv2.reduce(inked, 1 - axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255
    if inside is None:
        full = counts >= LINE_FILL * ink.shape[1 - axis]
    else:
        span = cv2.reduce(inside, 1 - axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255
        full = (counts >= LINE_FILL * span) & (span >= span.max() / 2)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], full.view(np.int8), [0]])))
    return [(a, b) for a, b in zip(edges[::2], edges[1::2])
            if b - a <= LINE_THIN * len(full) and _even(ink, axis, a, b, inside)]


def _even(ink, axis, start, stop, inside=None):
    """Whether the band's strongest row (column) is even like a printed line: its LINE_LEVEL percentile at least
    LINE_EVEN of its median (over its pixels `inside` the picture, if given). A curved stroke grazing a tight crop's
    edge fades out along it."""
    part = ink[start:stop] if axis == 0 else ink[:, start:stop].T
    k = np.argmax(np.median(part, axis=1))
    row = part[k] if inside is None else part[k][(inside[start:stop] if axis == 0 else inside[:, start:stop].T)[k] > 0]
    return np.percentile(row, LINE_LEVEL) >= LINE_EVEN * np.median(row)
