"""Dropping specks from an ink map (images.py's step after the noise cut), on a coarse grid of blocks.

    f = grid(ink.shape)              # the block side for an image of this shape
    ink = drop_specks(ink, f)        # the same array when every blob stays, else a copy without the specks
    blocks = pool(ink, f, "sum")     # f x f block sums (or "max"), zero-padded at the far edges

The grid is anchored at the image's top-left pixel, so a window of the image whose top-left corner is on
the grid, with no ink outside it, gives the same blobs as the whole image (images.py crops drawings so).
"""

import cv2
import numpy as np

SPECK_FRACTION = 0.02  # blobs with < 2% of the ink mass are dust or specks; a digit's detached stroke has far more
FAINT = 0.5  # a blob under half the strongest peak and larger than every blob above that is shading (a shadow's edge)
COARSE = 128  # specks are found on a grid at most this big: it joins strokes with small gaps, and is fast


def grid(shape) -> int:
    """The side of the blocks specks are found on in an image of `shape`: at most COARSE blocks a side."""
    return max(1, -(-max(shape) // COARSE))


def drop_specks(ink, f: int):
    # Dust, paper fibres and JPEG blotches far from the digit would blow up its
    # bounding box. Label 8-connected blobs on a coarse grid of f x f blocks
    # (which also joins strokes with small gaps) and keep those with real ink mass.
    mass = pool(ink, f, "sum")
    n, labels = cv2.connectedComponents((mass > 0).view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    sums = np.bincount(labels.ravel(), weights=mass.ravel()) if n > 2 else np.ones(n)  # one blob: it stays
    sums[0] = 0
    keep = sums >= SPECK_FRACTION * sums.sum()
    if n > 2 and keep[1:].sum() > 1:  # a shadow's edge left as a wide faint blob beside the digit's strong strokes
        peaks = np.zeros(n, np.float32)
        np.maximum.at(peaks, labels.ravel(), pool(ink, f, "max").ravel())
        area = np.bincount(labels.ravel(), minlength=n)
        strong = peaks >= FAINT * peaks.max()
        kept = strong & keep  # a strong speck is still a speck
        widest = area[kept].max() if kept.any() else area[np.argmax(peaks)]
        keep &= strong | (area <= widest)  # a faint piece of a stroke, a digit written lightly: no larger
    if keep[1:].all():  # every blob is kept; the background blocks hold no ink
        return ink
    keep = cv2.resize(keep[labels].view(np.uint8), None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST)
    return np.where(keep[: ink.shape[0], : ink.shape[1]], ink, np.float32(0))


def pool(a, f, reduce):
    """Reduce f x f blocks (zero-padded at the far edges) to their "sum" or "max"."""
    if f == 1:
        return a
    h, w = -(-a.shape[0] // f), -(-a.shape[1] // f)
    pad = (0, h * f - a.shape[0], 0, w * f - a.shape[1])
    p = cv2.copyMakeBorder(a, *pad, cv2.BORDER_CONSTANT, value=0) if any(pad) else a
    if reduce == "max":  # the max of the f x f block starting at each pixel, read at every f-th pixel
        return cv2.dilate(p, np.ones((f, f), np.uint8), anchor=(0, 0))[::f, ::f]
    return cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA) * np.float32(f * f)  # whole f x f blocks: means
