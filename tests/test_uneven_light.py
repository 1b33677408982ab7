"""Paper under uneven light: a vignette's edges (shadow.py's closed paper) and mottled brown paper lit from one
side (paper_surface.fit: a page, not a tight crop). Synthetic pictures, checked against where the ink was drawn.

    PYTHONPATH=src python -m pytest -q tests/test_uneven_light.py
"""

import io

import cv2
import numpy as np
from PIL import Image

from mnist_cnn import images, paper_surface, shadow


def _number(shape, text="5421", at=(300, 330), scale=4.0, width=14):
    ink = np.zeros(shape, np.uint8)
    cv2.putText(ink, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, width, cv2.LINE_AA)  # OpenCV's text: 8 bits
    return ink.astype(np.float32) / 255


def test_a_vignette_leaves_no_ink_along_the_pictures_edges():
    """Light falling off towards the corners faster than a quadratic surface follows, in a JPEG: the paper is the
    picture closed (shadow.py), whose edges, a valley for a closing, came out as strips of false ink (5,899 px)."""
    h, w = 600, 800
    y, x = np.mgrid[-1:1:h * 1j, -1:1:w * 1j]
    light = 1 / (1 + 0.6 * ((x - 0.2) ** 2 + (y * h / w) ** 2)) ** 2
    ink = _number((h, w), width=8)
    page = np.clip(0.88 * light * (1 - 0.85 * ink) + np.random.default_rng(0).normal(0, 0.012, (h, w)), 0, 1)
    jpeg = io.BytesIO()
    Image.fromarray((page * 255).astype(np.uint8)).save(jpeg, "JPEG", quality=85)
    found = images.ink_map(Image.open(jpeg))
    x0, y0, bw, bh = cv2.boundingRect((ink > 0).astype(np.uint8))
    outside = found.copy()
    outside[y0 - 10:y0 + bh + 10, x0 - 10:x0 + bw + 10] = 0
    assert found[ink > 0.5].mean() > 0.5 and np.count_nonzero(outside) == 0


def _mottled(rng, shape, tilt):
    h, w = shape
    y, x = np.mgrid[0:1:h * 1j, 0:1:w * 1j]
    mottle = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), 25)
    return 0.55 - tilt * (x + y) / 2 + 0.04 * mottle / mottle.std()


def test_brown_paper_under_uneven_light_is_a_page_not_a_tight_crop():
    """Mottled brown paper lit from one corner, a number running off its right edge: two of its edges are off the
    border's median and off the fitted surface like a tight crop's strokes, but one paper level would leave most of
    the dim side as faint ink: the surface stays (paper_surface._shaded)."""
    rng = np.random.default_rng(1)
    shape = (800, 800)
    ink = _number(shape, "668578", at=(80, 450), scale=3.9, width=10)
    page = np.clip(_mottled(rng, shape, 0.3) * (1 - 0.8 * ink) + rng.normal(0, 0.004, shape), 0, 1).astype(np.float32)
    paper, _, sign = paper_surface.fit(page, cv2.blur(page, (3, 3)))
    assert sign == 1 and np.ndim(paper) == 2


def test_light_strokes_cropped_tight_on_dark_mottled_paper_keep_one_level():
    """A tight crop of a chalk-like 7 on dark mottled paper lit from one side (a review's case): one level leaves more
    faint ink than strong, but the surface's noise cut, raised by the strokes across the border, would take most of
    the strokes too (a 7 read 1): the level stays (paper_surface.KEPT)."""
    rng = np.random.default_rng(0)
    h, w = 200, 160
    seven = np.zeros((h, w), np.uint8)
    cv2.polylines(seven, [np.array([[0, 8], [w - 10, 8], [40, h - 1]], np.int32)], False, 255, 18, cv2.LINE_AA)
    seven = cv2.GaussianBlur(seven.astype(np.float32) / 255, (0, 0), 3)
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    mottle = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 3)
    page = (0.06 + 0.06 * mottle / mottle.std() + 0.3 * seven) * (1 - 0.3 * x)
    page = np.clip(page + rng.normal(0, 0.005, page.shape), 0, 1).astype(np.float32)
    paper, _, sign = paper_surface.fit(page, cv2.blur(page, (3, 3)))
    assert sign == -1 and np.ndim(paper) == 0


def _kraft(rng, shape):
    """Brown paper's grey: horizontal fibres (noise blurred along rows), a slow mottle and grain, as a probe's kraft."""
    fibres = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), sigmaX=6, sigmaY=0.8)
    mottle = cv2.resize(rng.normal(0, 1, (shape[0] // 60, shape[1] // 60)).astype(np.float32), shape[::-1],
                        interpolation=cv2.INTER_CUBIC)
    return 0.5 + 0.03 * fibres / fibres.std() + 0.02 * mottle / mottle.std() + rng.normal(0, 0.01, shape)


def test_a_bold_digit_on_kraft_is_dark_ink_not_the_fibres_light_specks():
    """A bold dark 8 on kraft: the picture reaches both ways from the paper, and the dark side has many more pixels
    (the digit), so the sparse side, the fibres' light specks, was taken for light ink and the digit came out in
    fragments (a probe's kraft and cardboard photos: 20 of 32 refused or misread). Specks are no strokes
    (shadow.COHERENT): the ink is dark, and the digit is read whole."""
    rng = np.random.default_rng(3)
    shape = (800, 600)
    ink = _number(shape, "8", at=(140, 620), scale=14.0, width=60)
    page = np.clip(_kraft(rng, shape) * (1 - 0.5 * ink), 0, 1).astype(np.float32)
    smooth = cv2.blur(page, (3, 3))
    level = float(np.median(page))
    dark, light = level - smooth.min(), smooth.max() - level
    assert light >= shadow.BOTH * dark  # both ways: the sparse side decides
    assert paper_surface.fit(page, smooth)[2] == 1
    found = images.ink_map(page)
    assert found[ink > 0.5].mean() > 0.5 and np.count_nonzero(found[ink == 0]) < 0.05 * np.count_nonzero(ink)


def test_a_dark_frame_at_the_pictures_edge_is_no_coherent_dark_ink():
    """The dark side's coherence counts its pieces clear of the picture's edges only: a board's dark frame or a shadow
    along a side is no dark ink beside chalk broken up into specks (a review's chalk pictures flipped to dark ink, the
    frame read), while a digit inside is."""
    mask = np.zeros((300, 400), np.uint8)
    mask[:, :40] = 255  # a frame along the left side
    mask[100:104:2, 150:300:6] = 255  # specks inside
    speck = (shadow.SPECK * 300) ** 2
    assert shadow._coherent(mask, speck) > 0.9 and shadow._coherent(mask, speck, inside=True) == 0
    mask[60:240, 200:215] = 255  # a stroke inside
    assert shadow._coherent(mask, speck, inside=True) > 0.9
