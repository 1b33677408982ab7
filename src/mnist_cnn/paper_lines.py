"""Ruled, squared and form lines taken out of an image's ink, keeping a stroke's share where it crosses them: a
step of images.ink_map (and so of to_mnist and `mnist-cnn read`).

    from mnist_cnn.paper_lines import drop_lines
    ink = drop_lines(ink, floor=0.1)    # (H, W) float32 ink >= 0 -> the same array, lines spanning it taken out
"""

import cv2
import numpy as np

LINE_FILL = 0.95  # a row (column) with ink in >= 95% of its pixels may be a ruled, grid or form line...
LINE_THIN = 0.1  # ...if its band of such rows is at most 10% of the image's height thick (a "1" cropped tight: all)...
LINE_BANDS = 2  # ...and there are >= 2 such bands (a box, rules, a grid); one alone is a 7's bar in a tight crop
LINE_LEVEL = 10  # percentile of a line's row taken as the line's strength: a digit crossing it covers far less
LINE_CHUNKS = 8  # ...taken along each eighth of the line (_line_level)
LINE_EVEN = 0.5  # a line's 10th percentile is at least half its median (a stroke along an edge fades at its ends)


def drop_lines(ink, floor: float):
    """The ink (H, W) float32 >= 0, changed in place and returned, without straight lines running across the whole
    image (ruled or squared paper, a form's box). floor: the least 1 - line level a stroke's share is divided by."""
    # Hand-written: OpenCV's Hough transform finds lines but not which pixels are the line's and which a stroke's
    # crossing it; a line spanning the image is the level of nearly every pixel of its rows, so subtract that.
    inked = cv2.compare(ink, 0, cv2.CMP_GT)  # 255 where ink (ink is >= 0): counted per row and column by OpenCV
    bands = [(axis, band) for axis in (0, 1) for band in _bands(ink, inked, axis)]
    if len(bands) < LINE_BANDS:
        return ink
    spans = [(axis, max(0, start - 1), min(ink.shape[axis], stop + 1)) for axis, (start, stop) in bands]  # with
    # the anti-aliased rows beside each; every level is taken before any line is subtracted: a grid's lines each
    # leave a gap in the lines crossing them, and two gaps in neighbouring eighths left the eighth between unlevelled
    levels = [_line_level(ink[a:b] if axis == 0 else ink[:, a:b].T) for axis, a, b in spans]
    for (axis, start, stop), level in zip(spans, levels):
        part = ink[start:stop] if axis == 0 else ink[:, start:stop]
        level = level if axis == 0 else level.T
        part -= level
        part /= np.maximum(1 - level, np.float32(floor))  # a pen over a printed line darkens what the line
        part[part < level] = 0  # left: the stroke's share is (ink - line) / (1 - line); weaker than the line itself
        # is the line's own unevenness (the paper fit bends a little along it), which would widen the digit's box
    return ink


def _line_level(band):
    """A line's strength at each pixel of its band of rows (rows, w): LINE_LEVEL percentile of each of LINE_CHUNKS
    stretches along it, the median of each three neighbours (a digit's stroke lying along the line for a stretch),
    interpolated between their middles. Light and the pen that printed it vary along a line; one level for its
    whole length left its stronger end behind as a stroke joining the digits there."""
    chunks = np.array_split(band, min(LINE_CHUNKS, band.shape[1]), axis=1)
    levels = np.stack([np.percentile(c, LINE_LEVEL, axis=1) for c in chunks], axis=1)
    edged = np.pad(levels, ((0, 0), (1, 1)), mode="edge")  # a median of three by hand: scipy.ndimage's would add
    # its import (~0.1 s) to every process that reads an image, for 8 numbers a row
    levels = np.median([edged[:, :-2], edged[:, 1:-1], edged[:, 2:]], axis=0)
    middles = np.cumsum([0] + [c.shape[1] for c in chunks])
    middles = (middles[:-1] + middles[1:] - 1) / 2
    x = np.arange(band.shape[1])
    return np.stack([np.interp(x, middles, row) for row in levels]).astype(np.float32)


def _bands(ink, inked, axis):
    """[(start, stop)] of the thin bands of rows (axis 0) or columns (1) with ink in >= LINE_FILL of their pixels
    (inked: 255 where ink, else 0)."""
    # cv2.reduce, not np.count_nonzero(axis=...): 10-20 us against ~100 on a 280x280 drawing
    counts = cv2.reduce(inked, 1 - axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255
    full = counts >= LINE_FILL * ink.shape[1 - axis]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], full.view(np.int8), [0]])))
    return [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b - a <= LINE_THIN * len(full) and _even(ink, axis, a, b)]


def _even(ink, axis, start, stop):
    """Whether the band's strongest row (column) is even like a printed line: its LINE_LEVEL percentile at least
    LINE_EVEN of its median. A curved stroke grazing a tight crop's edge fades out along it."""
    part = ink[start:stop] if axis == 0 else ink[:, start:stop].T
    row = part[np.argmax(np.median(part, axis=1))]
    return np.percentile(row, LINE_LEVEL) >= LINE_EVEN * np.median(row)
