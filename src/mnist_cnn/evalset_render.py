"""Drawing helpers for the generated evaluation set (evalset.py): ink shapes, paper, lighting, compositing.

    ink = strokes(digit, rng, "lowres", side=120)   # float32 ink strength in [0, 1], white on black
    page = paper(rng, (h, w), "ruled")              # float32 RGB in [0, 1]
    rgb = put_ink(page, ink_on_page, colour)        # dark ink absorbs light: paper x (1 - ink x (1 - colour))

Every function takes a NumPy Generator, so one seed gives the same pictures byte for byte. OpenCV draws and
filters (fast, deterministic); Pillow encodes (evalset.py).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

STYLES = ("up", "lowres", "thick", "thin", "blur")  # how the digit's strokes look once enlarged
LOWRES = (8, 12)  # px: the scan's digit size before upscaling ("lowres": thick, blurry strokes)
SIDE = (64, 200)  # px: the enlarged digit's longer side, as cropped from a scan or a phone photo
FONT_FILES = (  # handwriting-style fonts from Debian packages (femkeklaver left out: its digits are outlines)
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",  # fonts-comic-neue
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf",
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Italic.otf",
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Light.otf",
    "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",  # fonts-dkg-handwriting
    "/usr/share/fonts/truetype/fifthhorseman/dkgBd.ttf",
    "/usr/share/fonts/truetype/fifthhorseman/dkgIt.ttf",
    "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",  # fonts-humor-sans
    "/usr/share/fonts/truetype/breip/Breip.ttf",  # fonts-breip
    "/usr/share/fonts/opentype/bwht/BecauseWeBuild-Regular.otf",  # fonts-bwht
    "/usr/share/fonts/opentype/bwht/BecauseWeConnect-Regular.otf",
    "/usr/share/fonts/opentype/bwht/BecauseWeCreate-Regular.otf",
    "/usr/share/fonts/opentype/bwht/BecauseWeLearn-Regular.otf",
    "/usr/share/fonts/opentype/bwht/BecauseWeOrganize-Regular.otf",
)
# The same packages' other faces: never in the evaluation set or in the gate's training, so letters in them are
# a held-out family of non-digits (negatives.HELD_OUT's "letters-hand")
HELD_OUT_FONT_FILES = (
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-BoldItalic.otf",
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-LightItalic.otf",
    "/usr/share/fonts/truetype/fifthhorseman/dkgBI.ttf",
    "/usr/share/fonts/truetype/breip/breipfont.ttf",
    "/usr/share/fonts/opentype/bwht/BecauseWeMentor-Regular.otf",
)
FONT_PACKAGES = "fonts-comic-neue fonts-dkg-handwriting fonts-humor-sans fonts-breip fonts-bwht"


def _resize(a, size, interpolation=cv2.INTER_CUBIC):
    return cv2.resize(a, (max(1, int(size[0])), max(1, int(size[1]))), interpolation=interpolation).clip(0, 1)


def _fit(a, side, interpolation=cv2.INTER_CUBIC):
    """Resize so the longer side is `side` px, aspect kept."""
    h, w = a.shape[:2]
    k = side / max(h, w)
    return _resize(a, (round(w * k), round(h * k)), interpolation)


def _disc(radius):
    r = int(np.ceil(radius))
    i = np.arange(-r, r + 1)
    return (i[:, None] ** 2 + i**2 <= radius * radius + 0.5).astype(np.uint8)


def strokes(digit, rng, style, side):
    """The digit's ink (float32, white on black, in [0, 1]) cropped to its box and enlarged to `side` px."""
    d = digit.astype(np.float32) / 255
    ys, xs = np.nonzero(d > 0)
    d = d[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    if style == "lowres":  # a small scan (8-12 px digit), upscaled by the viewer: thick and blurry
        d = _fit(_fit(d, rng.integers(LOWRES[0], LOWRES[1] + 1), cv2.INTER_AREA), side)
    else:
        d = _fit(d, side)
    if style == "thick":  # a marker: strokes 1.5-2.5x MNIST's
        r = side * rng.uniform(0.03, 0.06)
        d = cv2.dilate(cv2.copyMakeBorder(d, *[int(np.ceil(r))] * 4, cv2.BORDER_CONSTANT, value=0), _disc(r))
    elif style == "thin":  # a fine pen: the strokes' middle line, redrawn 1-4 px wide
        d = _thin(d, rng.uniform(1, 4))
    elif style == "blur":  # out of focus or a soft pencil
        s = side * rng.uniform(0.02, 0.05)
        d = cv2.GaussianBlur(d, (0, 0), s)
        d = d / max(float(d.max()), 1e-6)
    return d.clip(0, 1).astype(np.float32)


def _thin(d, width):
    """A thin pen's line along the strokes: the ridge of the distance to the background, dilated to `width`."""
    mask = (d >= 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    ridge = (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)) - 1) & (mask > 0)  # -1: joins the ridge up
    line = cv2.dilate(ridge.astype(np.float32), _disc(width / 2))
    return cv2.GaussianBlur(line, (0, 0), 0.6)  # anti-aliased


def tight(ink, rng, cut, sides):
    """Crop to where ink > `cut`, then give back a margin on all but `sides` (1-4) randomly chosen sides."""
    ys, xs = np.nonzero(ink > cut)
    box = [ys.min(), ys.max() + 1, xs.min(), xs.max() + 1]
    crop = ink[box[0] : box[1], box[2] : box[3]]
    free = rng.permutation(4)[: 4 - sides]  # top, bottom, left, right
    pad = [int(rng.uniform(0.05, 0.3) * max(crop.shape)) if k in free else 0 for k in range(4)]
    return cv2.copyMakeBorder(crop, *pad, cv2.BORDER_CONSTANT, value=0)


def place(ink, shape, rng, margin=0.1):
    """The ink on a black canvas of `shape`, at a random spot at least `margin` of the canvas from its edges."""
    h, w = shape
    out = np.zeros(shape, np.float32)
    ih, iw = ink.shape
    top = rng.integers(int(margin * h), max(int(margin * h) + 1, h - ih - int(margin * h)))
    left = rng.integers(int(margin * w), max(int(margin * w) + 1, w - iw - int(margin * w)))
    out[top : top + ih, left : left + iw] = ink[: h - top, : w - left]
    return out


def margin(ink, rng, low=0.1, high=0.5):
    """The ink with a random black margin on every side (`low`-`high` of its longer side)."""
    pad = (rng.uniform(low, high, 4) * max(ink.shape)).astype(int)
    return cv2.copyMakeBorder(ink, *pad.tolist(), cv2.BORDER_CONSTANT, value=0)


def paper(rng, shape, kind="plain"):
    """A float32 RGB page in [0, 1]: "plain", "lit" (gradient, maybe a shadow, vignette), "even" (gradient and
    vignette, no shadow), "ruled", "squared", "noisy"."""
    h, w = shape
    tint = rng.uniform(0.8, 1.0) * np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.88, 1.0)], np.float32)
    page = np.broadcast_to(tint, (h, w, 3)).copy()
    if kind in ("ruled", "squared"):
        step = max(6, int(rng.uniform(0.12, 0.3) * min(h, w)))
        colour = np.array(rng.choice([[0.7, 0.8, 0.97], [0.72, 0.72, 0.72], [0.65, 0.85, 0.75]]), np.float32) * tint
        width = int(rng.integers(1, 3))
        for pos in range(int(rng.integers(0, step)), h, step):
            cv2.line(page, (0, pos), (w, pos), colour.tolist(), width)
        if kind == "squared":
            for pos in range(int(rng.integers(0, step)), w, step):
                cv2.line(page, (pos, 0), (pos, h), colour.tolist(), width)
    if kind in ("lit", "even"):
        page *= light(rng, shape, shadow=kind == "lit")[..., None]
    if kind == "noisy":
        page += rng.normal(0, rng.uniform(0.02, 0.06), (h, w, 1)).astype(np.float32)
    return page.clip(0, 1)


def light(rng, shape, shadow=True):
    """Uneven light (float32, 0.35-1): a gradient across the page, maybe a soft shadow's edge and a vignette."""
    h, w = shape
    y, x = np.mgrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    along = np.cos(a) * x + np.sin(a) * y
    out = 1 - rng.uniform(0.1, 0.4) * (along + 1) / 2
    if shadow and rng.random() < 0.6:  # a hand's or phone's shadow: a dark side behind a blurred straight edge
        b, at = rng.uniform(0, 2 * np.pi), rng.uniform(-0.8, 0.8)
        edge = (np.cos(b) * x + np.sin(b) * y - at) / rng.uniform(0.1, 0.4)
        out *= 1 - rng.uniform(0.15, 0.35) / (1 + np.exp(-edge))
    if rng.random() < 0.5:
        out *= 1 - rng.uniform(0.1, 0.3) * (x * x + y * y) / 2
    return out.astype(np.float32)


def put_ink(page, ink, colour):
    """Dark ink on the page: each channel keeps paper x (1 - ink x (1 - colour))."""
    return page * (1 - ink[..., None] * (1 - np.asarray(colour, np.float32)))


def ink_colour(rng):
    """A pen: black, dark grey, blue, red or green ballpoint."""
    return np.array(rng.choice([[0.05, 0.05, 0.05], [0.25, 0.25, 0.25], [0.1, 0.15, 0.6], [0.7, 0.1, 0.1],
                                [0.1, 0.45, 0.15]]), np.float32)


def box_lines(shape, rng, inset):
    """A form's cell: the four box lines (float32 ink) `inset` px in from each edge (negative: cut off)."""
    h, w = shape
    out = np.zeros(shape, np.float32)
    width = int(rng.integers(1, 4))
    for k, at in enumerate(inset):
        if at < 0:
            continue
        if k < 2:
            row = at if k == 0 else h - 1 - at
            out[max(0, row - width // 2) : row + (width + 1) // 2] = 1
        else:
            col = at if k == 2 else w - 1 - at
            out[:, max(0, col - width // 2) : col + (width + 1) // 2] = 1
    return out


def font_digit(path, digit, rng, side):
    """The digit in a font (float32 ink, white on black, cropped to its box, longer side `side`), tilted a little."""
    from PIL import ImageDraw, ImageFont

    font = ImageFont.truetype(path, 200)
    img = Image.new("L", (400, 400), 0)
    ImageDraw.Draw(img).text((200, 200), str(digit), fill=255, font=font, anchor="mm")
    img = img.rotate(rng.uniform(-10, 10), resample=Image.BICUBIC)
    a = np.asarray(img, np.float32) / 255
    ys, xs = np.nonzero(a > 0.05)
    return _fit(a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], side, cv2.INTER_AREA)


def to_rgb8(a):
    return (np.asarray(a, np.float32).clip(0, 1) * 255 + 0.5).astype(np.uint8)
