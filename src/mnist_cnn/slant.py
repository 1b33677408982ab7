"""Bring a digit's slant halfway to MNIST's own: the last step of images.to_mnist.

    from mnist_cnn.slant import deslant, slant
    s = slant(x)              # (28, 28) or (N, 28, 28) float in [0, 1] -> its slant(s), float or (N,) float64
    y = deslant(x)            # (28, 28) float32 -> rows shifted: slant(y) ~ (slant(x) + MNIST_SLANT) / 2
    seen = as_seen(x_uint8)   # (N, 28, 28) MNIST digits -> float32 in [0, 1], as to_mnist gives them to a model

A digit's slant is its ink's second-moment ratio mu11 / mu02: columns moved per row down, negative when the
top leans right. Each row r is shifted along itself by SHARE * (slant - MNIST_SLANT) * (r - the ink's mean row)
px, linearly interpolated, the frame's edges treated as paper: the centre of mass stays where to_mnist put it.
The digits people write in an italic hand (a handwriting font's skinny 8 read as 0) then look more like
MNIST's; MNIST's own digits move a little towards their median and are read as well as before (docs/images.md,
"A digit's slant").
"""

import functools

import cv2
import numpy as np

MNIST_SLANT = -0.103  # median slant of the 60,000 MNIST training digits: np.median(slant(x_train / 255))
SHARE = 0.5  # of the way to MNIST_SLANT. All the way (1.0) read more written numbers but MNIST's test digits through
# to_mnist no better with `fast` (100 wrong, as before; halfway 92), and took a steep MNIST 8 so far from what a
# small model learnt that it read it less surely than two pieces cut from it (tests/test_read.py); docs/images.md
MAX_SLANT = 1.0  # a measured slant is clipped to 45 degrees (99.85% of MNIST's training digits are within it)
MIN_SPREAD = 1e-2  # mu02 below this (ink on about one row: a dash) has no slant to measure


def slant(x: np.ndarray):
    """mu11 / mu02 of each frame's ink (0 where the ink is on one row); x (28, 28) -> float, (N, 28, 28) -> (N,)."""
    if np.ndim(x) == 3:
        return np.array([slant(frame) for frame in x])
    return _moments(x)[0]


def _moments(frame: np.ndarray) -> tuple[float, float]:
    """(slant, mean row) of one frame's ink, from OpenCV's moments (in float64)."""
    m = cv2.moments(np.asarray(frame, np.float32))
    mean_row = m["m01"] / max(m["m00"], 1e-12)
    return (m["mu11"] / m["mu02"] if m["mu02"] > MIN_SPREAD else 0.0), mean_row


@functools.lru_cache(maxsize=4)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's start and each column's offset in a frame padded with w columns of paper on both sides."""
    return (np.arange(h) * 3 * w + w)[:, None], np.arange(w)[None]


def deslant(frame: np.ndarray) -> np.ndarray:
    """The (28, 28) frame sheared along its rows SHARE of the way to MNIST_SLANT, about the ink's mean row, peak 1;
    float32."""
    # The shear by hand, not cv2.warpAffine: OpenCV rounds each source position to 1/32 px, which the exported
    # page's JavaScript (web/web.js, deslant) could not copy; this is one linear interpolation per row, the same there.
    s, pivot = _moments(frame)
    shear = SHARE * (min(max(s, -MAX_SLANT), MAX_SLANT) - MNIST_SLANT)
    h, w = frame.shape
    starts, cols = _grid(h, w)
    shift = shear * (np.arange(h) - pivot)  # out[r, c] = frame[r, c + shift[r]]: one whole + fractional part a row
    whole = np.floor(shift)
    frac = (shift - whole)[:, None]
    # |shift| < w: within the paper. minimum/maximum, not np.clip: its integer bounds check cost more than the shear
    at = starts + np.minimum(np.maximum(whole, -w), w - 1).astype(np.intp)[:, None] + cols
    padded = np.zeros((h, 3 * w))
    padded[:, w:2 * w] = frame
    flat = padded.ravel()
    out = (1 - frac) * flat[at] + frac * flat[at + 1]
    return (out / max(out.max(), 1e-12)).astype(np.float32)  # the strongest ink stays 1, as in MNIST


def as_seen(x: np.ndarray) -> np.ndarray:
    """MNIST digits (N, 28, 28), uint8 or floats in [0, 1], as to_mnist hands them to a model: deslanted, float32.
    What a refusal rule is fitted on, since it judges what predict, read and the server see."""
    x = np.asarray(x)
    x = x.astype(np.float32) / 255 if x.dtype == np.uint8 else x.astype(np.float32)
    return np.stack([deslant(d) if d.max() > 0 else d for d in x]) if len(x) else x
