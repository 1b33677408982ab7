"""A lone straight line across the picture, clear of the writing: a legal pad's margin, a rule of a page photographed
in perspective (each rule its own slope, where paper_lines looks for one slope for all), a desk's or a board's edge.

    ink = lone_lines.drop(ink)     # (H, W) float32 ink >= 0, changed in place and returned: such lines set to 0

paper_lines.drop_lines takes out lines by the rows (columns) they fill, level or all at one slope; a margin drawn a
degree off upright fills no column, and alone it is no ruled page. Before this, a legal pad's red margin stayed in
the ink beside the digit and `predict` refused 38 of 40 photographed digits for it. A line here is one connected
piece of ink spanning LONE of the picture, straight within STRAIGHT of its length, with the rest of the ink (the
digits) under OVER of that length: a tight crop's 1 or a number's underline as wide as the digits stays.
Hand-written on OpenCV's connected components and cv2.fitLine: no library takes such a line out of an ink map.
"""

from __future__ import annotations

import cv2
import numpy as np

LONE = 0.9  # a line spans 90% of the picture's height or width...
STRAIGHT = 0.01  # ...its pixels (99% of them) within 1% of its length + 1 px of one straight line (a pen's 1: ~5%)...
OVER = 0.6  # ...and the other marks span under 60% of its length both ways (a tight crop's digits span it all)
BLOCK = 200  # px: pictures over this on their short side are looked at in blocks of (short side // BLOCK) px
MARK = 0.1  # the other marks: pieces of ink with at least 10% of the largest one's pixels (not the paper's specks)


def drop(ink):
    """The (H, W) float32 ink map, each lone straight line across it set to 0 in place."""
    h, w = ink.shape
    k = max(1, min(h, w) // BLOCK)  # labelled in k x k blocks (any ink): a 900 px photo's in ~1 ms, not ~10
    inked = cv2.compare(ink[:h // k * k, :w // k * k], 0, cv2.CMP_GT)  # whole blocks: OpenCV's fast area resize
    small = inked if k == 1 else cv2.compare(cv2.resize(inked, (w // k, h // k), interpolation=cv2.INTER_AREA), 0,
                                             cv2.CMP_GT)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(small, connectivity=8)
    sh, sw = small.shape
    spans = (stats[1:, cv2.CC_STAT_HEIGHT] >= LONE * sh) | (stats[1:, cv2.CC_STAT_WIDTH] >= LONE * sw)
    long, rest = np.flatnonzero(spans) + 1, np.flatnonzero(~spans) + 1
    if not long.size or not rest.size:
        return ink
    area = stats[rest, cv2.CC_STAT_AREA]
    marks = stats[rest[area >= MARK * area.max()], :4]
    span = max(np.max(marks[:, j] + marks[:, j + 2]) - np.min(marks[:, j]) for j in (0, 1))
    for i in long:
        x, y, bw, bh = stats[i, :4]
        length = float(np.hypot(bw, bh))
        if span >= OVER * length:
            continue
        ys, xs = np.nonzero(labels[y:y + bh, x:x + bw] == i)
        vx, vy, x0, y0 = cv2.fitLine(np.column_stack([xs, ys]).astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01).ravel()
        if np.percentile(np.abs((xs - x0) * vy - (ys - y0) * vx), 99) <= STRAIGHT * length + 1:
            line = cv2.resize((labels == i).view(np.uint8), inked.shape[::-1], interpolation=cv2.INTER_NEAREST)
            line = cv2.copyMakeBorder(line, 0, h - line.shape[0], 0, w - line.shape[1], cv2.BORDER_REPLICATE)
            ink[line > 0] = 0  # its blocks hold no other marks' ink (they are other pieces at this scale)
    return ink
