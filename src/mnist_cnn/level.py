"""A number photographed at a tilt, turned level before its digits are found: a step of `mnist-cnn read`.

    from mnist_cnn import level
    angle = level.row_angle(ink)                   # degrees the row of digits climbs to the right (0: level)
    flat, back = level.levelled(ink)               # the ink turned level, and a function box -> box in `ink`

A row's tilt is the slope of the line through the middles of its digit-sized marks (least squares). The
marks' middles, not the ink's principal axis: an italic hand shears each digit but leaves its middle
where it was, and the principal axis of a short row leans with the slant. With fewer than MIN_MARKS
marks (two digits, or digits that all touch) the wobble of a baseline cannot be told from a tilt, and the
ink is left as it is.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .stroke_mask import MASK  # over MASK of the image's strongest ink: a tilt is measured on the clearest strokes

MIN_MARKS = 3  # digit-sized marks needed to measure a tilt: two digits' wobble (+-7% of the height) is +-10 degrees
MIN_TURN = 3.0  # degrees: a row tilted less is read as it is (a hand's own baseline wobbles that much)
MAX_TURN = 25.0  # degrees: marks rising more steeply than this are no row of digits; left as they are
TALL = 0.5  # a mark at least half as tall as the tallest is digit-sized (not a 5's hat, a speck, a dot)


def row_angle(ink: np.ndarray) -> float:
    """Degrees the row of digits in an (H, W) ink map climbs to the right (image y grows downwards: a row
    falling to the right has a negative angle); 0.0 when there are too few digit-sized marks to tell."""
    mask = (ink > MASK * float(ink.max())).view(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n - 1 < MIN_MARKS:
        return 0.0
    x, y, w, h = (stats[1:, k].astype(np.float64) for k in range(4))
    tall = h >= TALL * h.max()
    if tall.sum() < MIN_MARKS:
        return 0.0
    cx, cy = x[tall] + w[tall] / 2, y[tall] + h[tall] / 2
    if np.ptp(cx) < np.median(h[tall]):  # marks one above another, not side by side
        return 0.0
    slope = np.polyfit(cx, cy, 1)[0]
    return -math.degrees(math.atan(slope))


def levelled(ink: np.ndarray):
    """(the ink turned level on a canvas that holds all of it, a function mapping a box (x0, y0, x1, y1) in the
    turned ink back to the ink's own pixels); the ink itself and the identity when its row is level already,
    or tilted more than MAX_TURN."""
    angle = row_angle(ink)
    if not MIN_TURN <= abs(angle) <= MAX_TURN:
        return ink, lambda box: box
    h, w = ink.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)  # OpenCV: positive turns counter-clockwise
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    size = (math.ceil(w * cos + h * sin), math.ceil(w * sin + h * cos))
    turn[:, 2] += (size[0] - w) / 2, (size[1] - h) / 2
    flat = cv2.warpAffine(ink, turn, size, flags=cv2.INTER_LINEAR, borderValue=0)
    undo = cv2.invertAffineTransform(turn)

    def back(box):
        x0, y0, x1, y1 = box
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], np.float64) @ undo.T
        (a, b), (c, d) = corners.min(0), corners.max(0)
        return (max(0, math.floor(a)), max(0, math.floor(b)), min(w, math.ceil(c)), min(h, math.ceil(d)))

    return flat.clip(0, 1), back
