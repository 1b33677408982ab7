"""Thin strokes kept visible at MNIST's size: a 2 px pen line on a 1000 px drawing would shrink to a 0.05 px wisp in
MNIST's 20 px box. A step of images.to_mnist, after the crop and before the shrink.

    ink = thicken.thicken(ink, 20)    # (h, w) float32 ink cropped to its box, in [0, 1]; 20: the box it shrinks to
    width = thicken.stroke_width(ink) # mean stroke width in px of the ink >= 0.5
"""

import cv2
import numpy as np

from .ink_specks import pool

STROKE = 2.3  # median MNIST stroke width in px, measured by stroke_width on the test set
THIN = 0.6  # strokes that scaling would make thinner than 60% of STROKE are thickened to STROKE...
SHRINK = 0.5  # ...but only when shrinking by 2x or more: at MNIST size a thin stroke is as drawn, not an artefact


def stroke_width(ink):
    """Mean stroke width in px of the (lightly blurred) ink >= 0.5 mask: 2 * area / perimeter."""
    # Rows' and columns' edges overstate a diagonal's perimeter by up to sqrt(2); both diagonals' too (Crofton): none
    # OpenCV's compare, xor and count on uint8 masks: ~30% less time than NumPy's on booleans, same counts
    blurred = cv2.blur(ink, (3, 3), borderType=cv2.BORDER_REPLICATE)  # noise's pinholes would add perimeter
    m = cv2.compare(blurred, 0.5, cv2.CMP_GE)
    m = cv2.copyMakeBorder(m, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)  # with a 1 px frame of background
    shifts = [(m[1:], m[:-1]), (m[:, 1:], m[:, :-1]), (m[1:, 1:], m[:-1, :-1]), (m[1:, :-1], m[:-1, 1:])]
    edges = [cv2.countNonZero(cv2.bitwise_xor(a, b)) for a, b in shifts]  # pixels unlike their neighbour
    perimeter = (edges[0] + edges[1] + (edges[2] + edges[3]) / np.sqrt(2)) / (1 + np.sqrt(2))
    return 2 * cv2.countNonZero(m) / max(perimeter, 1)


def thicken(ink, box: int):
    """The ink cropped to its box, its strokes widened (a disc's dilation) so that shrunk to `box` px they keep MNIST's
    STROKE width; as it is when it shrinks less than SHRINK times or its strokes stay THIN x STROKE wide or more."""
    # Max-pooled to ~4x the output size, then dilated
    scale = box / max(ink.shape)
    if scale > SHRINK or stroke_width(ink) * scale >= THIN * STROKE:
        return ink
    ink = np.minimum(2 * ink, 1)  # a thin line's anti-aliased half-strength pixels are ink too
    ink = pool(ink, max(1, int(1 / (4 * scale))), "max")
    # Dilating by r widens the stroke by 2r but also the box by 2r; solve (w + 2r) * box / (L + 2r) = STROKE.
    radius = (STROKE * max(ink.shape) - box * stroke_width(ink)) / (2 * (box - STROKE))
    return _dilate(ink, radius) if radius >= 0.5 else ink


def _dilate(a, radius):
    """Grey dilation by a disc (offsets i, j with i^2 + j^2 <= radius^2 + 0.5); larger by the radius on every side."""
    i = np.arange(-(r := int(np.ceil(radius))), r + 1)
    disc = (i[:, None] ** 2 + i**2 <= radius * radius + 0.5).astype(np.uint8)  # not MORPH_ELLIPSE: that differs
    p = cv2.copyMakeBorder(a, r, r, r, r, cv2.BORDER_CONSTANT, value=0)
    return cv2.dilate(p, disc, borderType=cv2.BORDER_CONSTANT, borderValue=0)
