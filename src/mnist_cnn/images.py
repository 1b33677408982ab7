"""Turn a person's own photo, scan or drawing of a digit into an MNIST digit.

MNIST digits are white ink on black, scaled so the ink's bounding box has a
longer side of 20 px (aspect ratio kept, anti-aliased) and shifted by whole
pixels so the ink's centre of mass sits at pixel (14, 14) of a 28x28 frame.
A model trained on MNIST only works on images that look like that, so:

    img = load_image("photo.jpg")       # any format/mode Pillow reads -> "F" image in [0, 1]
    x = to_mnist(img)                   # (28, 28) float32 in [0, 1], or None if no ink
    baseline = naive_resize(img)        # squash the whole image to 28x28, for comparison

`to_mnist` also accepts a PIL image of any mode or a 2-D array (uint8 0..255,
or floats in [0, 1]), so real MNIST digits pass through essentially unchanged.
Pure numpy + Pillow.
"""

import io
import re
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import UserError

NO_DIGIT = "no digit found"  # the answer for an image without ink, shared by predict and serve
MAX_IMAGE_PIXELS = 40_000_000  # any phone photo or A4 scan at 600 dpi; takes ~1.3 GB to process; more is a bomb
FRAME = 28  # MNIST frame side
BOX = 20  # MNIST scales the ink's bounding box so its longer side is 20 px
CENTRE = 14.0  # mean ink centre of mass of the MNIST test set, in pixel indices (13.99, 14.00)
BORDER = 0.05  # the outer 5% of each side is taken as paper to fit; a digit touching one edge covers little of it
FIT_SAMPLES = 20_000  # pixels sampled to fit the paper surface: plenty for 6 coefficients, fast on any photo
RIDGE = 1e-6  # keeps the surface fit solvable when the border cannot show a slope (1xN images, uniform rows)
FIT_ROUNDS = 3  # refits of the paper surface, each leaving out what the last one shows to be ink
MIN_CONTRAST = 0.1  # ink weaker than 10% of full scale (after a 3x3 blur) is a blank page, not a faint digit
NOISE_SIGMAS = 5.0  # paper/JPEG noise is cut at 5 robust sigmas of the background: ~0 false pixels per megapixel
NOISE_FLOOR = 0.04  # ~10/255: always cut at least this much, so 8-bit rounding and faint halos never count as ink
SPECK_FRACTION = 0.02  # blobs with < 2% of the ink mass are dust or specks; a digit's detached stroke has far more
MIN_INK_PIXELS = 4  # fewer ink pixels than this is a speck, not a digit
COARSE = 128  # specks are found on a grid at most this big, so the pure-numpy labelling stays fast
STROKE = 2.3  # median MNIST stroke width in px, measured by _stroke_width on the test set
THIN = 0.6  # strokes that scaling would make thinner than 60% of STROKE are thickened to STROKE...
SHRINK = 0.5  # ...but only when shrinking by 2x or more: at MNIST size a thin stroke is as drawn, not an artefact
RESAMPLE = Image.Resampling.BOX  # area averaging: how MNIST anti-aliased its binary NIST strokes; no ringing


def load_image(source, *, name=None, max_pixels=MAX_IMAGE_PIXELS, max_side=None):
    """Read a path or bytes into a greyscale Pillow "F" image with values in [0, 1].

    Decodes fully, applies the EXIF orientation, takes the first frame of an
    animation and composites transparency so transparent pixels carry no ink.
    `name` names a bytes source in error messages (default "upload").
    `max_pixels` refuses larger images from their header, before decoding.
    `max_side` reads a larger image reduced so its longer side is at most that
    (a JPEG decoded at 1/2, 1/4 or 1/8 scale, then box-averaged), for callers
    that only need the digit's shape; `max_pixels` applies to the reduced decode.
    Raises UserError with one line naming the file on any bad input.
    """
    name, data = _bytes(source, name)
    with _reading(name, max_pixels):
        with Image.open(io.BytesIO(data)) as img:
            _check_size(img, name, max_pixels, max_side)
            img.load()
            img = ImageOps.exif_transpose(img)
            grey = _grey(_reduce(img, max_side) if max_side else img)
    return Image.fromarray(_shrink(grey, max_side) if max_side else grey)


def image_pixels(source, *, name=None, max_pixels=MAX_IMAGE_PIXELS, max_side=None) -> int:
    """The pixel count `load_image` with these arguments would decode, read from the header alone."""
    name, data = _bytes(source, name)
    with _reading(name, max_pixels):
        with Image.open(io.BytesIO(data)) as img:
            return _check_size(img, name, max_pixels, max_side)


def _bytes(source, name):
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, data = name or "upload", bytes(source)
    else:
        name = name or str(source)
        data = _read(Path(source), name)
    if not data:
        raise UserError(f"{name}: empty file (0 bytes)")
    return name, data


@contextmanager
def _reading(name, max_pixels):
    """Pillow's and the decoders' exceptions -> UserError naming the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except UnidentifiedImageError:
        raise UserError(f"{name}: not an image Pillow can read (cannot identify image file)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:  # Pillow's own, larger limit
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        raise _too_large(f"{int(pixels.group(1)):,} pixels" if pixels else str(e), name, max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as e:
        raise UserError(f"{name}: truncated or corrupt image ({e})") from None


def _check_size(img, name, max_pixels, max_side):
    """Ask a JPEG decoder for a reduced decode (draft), then refuse over `max_pixels`; the pixels to decode."""
    if max_side and max(img.size) > max_side:
        w, h = img.size
        img.draft(None, (max(1, w * max_side // max(w, h)), max(1, h * max_side // max(w, h))))
    pixels = img.size[0] * img.size[1]
    if pixels > max_pixels:
        raise _too_large(f"{pixels:,} pixels", name, max_pixels)
    return pixels


def _reduce(img, max_side):
    """Box-average a decoded image by the smallest whole factor that brings its longer side to `max_side`
    or less, before the float conversion (cheaper); modes Pillow cannot average are left to `_shrink`."""
    f = -(-max(img.size) // max_side)
    if f <= 1:
        return img
    if img.mode in ("P", "PA", "1") or "transparency" in img.info:
        img = img.convert("RGBA")  # palette indices cannot be averaged; transparency becomes alpha
    return img.reduce(f) if img.mode in ("L", "LA", "RGB", "RGBA", "I", "F") else img


def _shrink(grey, max_side):
    """Box-average by the smallest whole factor that brings the longer side to `max_side` or less."""
    f = -(-max(grey.shape) // max_side)
    return grey if f <= 1 else np.asarray(Image.fromarray(grey).reduce(f))


def to_mnist(image):
    """Return a (28, 28) float32 MNIST-style digit in [0, 1] (white ink on black), or None if no ink."""
    ink = _ink(_grey(image))
    if ink is None:
        return None
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    ink = _thicken(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    h, w = ink.shape
    size = (BOX, max(1, round(BOX * h / w))) if w >= h else (max(1, round(BOX * w / h)), BOX)
    box = np.asarray(Image.fromarray(ink.astype(np.float32)).resize(size, RESAMPLE)).clip(0, None)
    return _centre(box / box.max())


def naive_resize(image):
    """Squash the whole image to 28x28 greyscale in [0, 1]: no inversion, cropping or centring (the baseline)."""
    grey = Image.fromarray(_grey(image)).resize((FRAME, FRAME), RESAMPLE)
    return np.asarray(grey, dtype=np.float32).clip(0, 1)


def _read(path, name):
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{name}: no such file (expected an image file)") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a directory (expected an image file)") from None
    except OSError as e:
        raise UserError(f"{name}: cannot read file ({e.strerror or e})") from None


def _too_large(found, name, limit):
    return UserError(f"{name}: image too large ({found}; limit {limit:,})")


def _grey(image):
    """Any Pillow mode or 2-D array -> float32 luminance in [0, 1], transparency composited."""
    if not isinstance(image, Image.Image):
        a = np.asarray(image)
        a = a[..., 0] if a.ndim == 3 and a.shape[-1] == 1 else a  # Keras-style (28, 28, 1)
        if a.ndim != 2:
            raise ValueError(f"expected a 2-D greyscale array, got shape {a.shape}")
        return _unit(a)
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        return _unit(np.asarray(image))
    if image.mode == "LAB":
        return _unit(np.asarray(image.getchannel("L")))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = (image.convert("LA") if image.mode == "La" else image).convert("RGBA")
        return _composite(_unit(np.asarray(rgba.convert("L"))), _unit(np.asarray(rgba.getchannel("A"))))
    return _unit(np.asarray(image.convert("L")))


def _unit(a):
    """Divide by the smallest of 1, 255, 65535 covering the data: [0, 1] floats stay, 8/16-bit ints map to [0, 1]."""
    a = np.nan_to_num(a.astype(np.float32))
    if a.size and a.min() < 0:
        a = a - a.min()
    top = a.max(initial=0.0)
    full = next((f for f in (1.0, 255.0, 65535.0) if top <= f), top)
    return a / np.float32(full)


def _composite(lum, alpha):
    # Transparent pixels must read as "no ink" whichever colour the ink is.
    # Mostly transparent: the opaque part is the ink, so fill with its opposite.
    # Mostly opaque: the transparent part is a hole in the paper, so fill with the paper.
    opaque = alpha > 0.5
    if not opaque.any():
        return np.zeros_like(lum)
    level = float(np.median(lum[opaque]))
    fill = level if opaque.mean() > 0.5 else float(level < 0.5)
    return lum * alpha + fill * (1 - alpha)


def _ink(grey):
    """Ink strength in [0, 1] with paper, noise and specks at 0; None if there is no digit."""
    smooth = _blur3(grey)
    paper, sigma, sign = _paper(grey, smooth)
    if float((sign * (paper - smooth)).max()) < MIN_CONTRAST:
        return None
    ink = sign * (paper - grey)
    ink = np.where(ink > max(NOISE_FLOOR, NOISE_SIGMAS * sigma), ink, 0).astype(np.float32)
    if sign > 0:  # light multiplies: relative to the paper, one pen is as dark in shade as in sun
        ink /= np.maximum(paper, MIN_CONTRAST)
    ink = _drop_specks(ink)
    if np.count_nonzero(ink) < MIN_INK_PIXELS:
        return None
    return ink / ink.max()


def _paper(grey, smooth):
    """The paper's brightness as a smooth surface, the noise sigma around it, and the ink's sign (+1: dark ink)."""
    # Photos are lit unevenly: one paper level would call a shaded corner ink or
    # hide ink in a bright one. Fit a quadratic surface to the image's border,
    # mostly paper even when the digit touches an edge (the interior may be
    # mostly ink), leaving out border pixels more than halfway to the ink.
    h, w = grey.shape
    y, x = np.linspace(-1, 1, h, dtype=np.float32)[:, None], np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    ring = max(1, round(BORDER * min(h, w)))
    on = np.ones((h, w), bool)
    on[ring:-ring, ring:-ring] = False
    step = max(1, int(np.sqrt(on.sum() / FIT_SAMPLES)))
    on &= (np.arange(h)[:, None] % step == 0) & (np.arange(w)[None, :] % step == 0)
    a = np.stack([np.broadcast_to(t, (h, w))[on] for t in _quadratic(y, x)], 1)
    v = grey[on]
    level = float(np.median(v))
    dark, light = level - float(smooth.min()), float(smooth.max()) - level
    sign = 1 if dark > light else -1  # polarity: the ink is the extreme further from the paper
    coef = np.float32([level, 0, 0, 0, 0, 0])
    # Normal equations summed with einsum, not lstsq or `@`: those call multi-threaded OpenBLAS,
    # whose spinning threads collide with TensorFlow's and made this fit ~30x slower in the server.
    for _ in range(FIT_ROUNDS):
        keep = sign * (np.einsum("ni,i->n", a, coef) - v) <= max(dark, light) / 2
        if keep.sum() < len(coef):
            break
        ak = a[keep].astype(np.float64)
        gram = np.einsum("ni,nj->ij", ak, ak) + RIDGE * np.eye(len(coef))  # a 1-px-wide border has no slope to fit
        coef = np.linalg.solve(gram, np.einsum("ni,n->i", ak, v[keep])).astype(np.float32)
    r = v - np.einsum("ni,i->n", a, coef)
    sigma = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    return sum(c * t for c, t in zip(coef, _quadratic(y, x))), sigma, sign


def _quadratic(y, x):
    return [np.float32(1), x, y, x * x, x * y, y * y]


def _blur3(a):
    p = np.pad(a, 1, mode="edge")
    h, w = a.shape
    return sum(p[i : i + h, j : j + w] for i in range(3) for j in range(3)) / 9


def _drop_specks(ink):
    # Dust, paper fibres and JPEG blotches far from the digit would blow up its
    # bounding box. Label 8-connected blobs on a coarse grid of f x f blocks
    # (which also joins strokes with small gaps) and keep those with real ink mass.
    f = max(1, -(-max(ink.shape) // COARSE))
    mass = _pool(ink, f, np.sum)
    labels = _label(mass > 0)
    sums = np.bincount(labels.ravel(), weights=mass.ravel())
    sums[0] = 0
    keep = sums >= SPECK_FRACTION * sums.sum()
    keep = np.repeat(np.repeat(keep[labels], f, 0), f, 1)[: ink.shape[0], : ink.shape[1]]
    return np.where(keep, ink, 0).astype(np.float32)


def _pool(a, f, reduce):
    """Reduce f x f blocks (zero-padded at the far edges) with `reduce` (np.sum, np.max)."""
    h, w = -(-a.shape[0] // f) * f, -(-a.shape[1] // f) * f
    p = np.zeros((h, w), a.dtype)
    p[: a.shape[0], : a.shape[1]] = a
    return reduce(p.reshape(h // f, f, w // f, f), axis=(1, 3))


def _label(mask):
    # No scipy: every blob pixel starts with its own index + 1 and repeatedly
    # takes the largest label among its 8 neighbours, then jumps to the label
    # its label's pixel holds (pointer jumping), so long strokes converge fast.
    labels = np.where(mask, np.arange(1, mask.size + 1).reshape(mask.shape), 0)
    while True:
        grown = np.where(mask, _max3(labels), 0)
        grown = np.where(mask, grown.ravel()[np.maximum(grown, 1).ravel() - 1].reshape(mask.shape), 0)
        if np.array_equal(grown, labels):
            return labels
        labels = grown


def _max3(a):
    p = np.pad(a, 1)
    h, w = a.shape
    return np.max([p[i : i + h, j : j + w] for i in range(3) for j in range(3)], axis=0)


def _stroke_width(ink):
    """Mean stroke width in px of the (lightly blurred) ink >= 0.5 mask: 2 * area / perimeter."""
    # Counting edges only along rows and columns overstates a diagonal's perimeter
    # by up to sqrt(2); adding both diagonals (Crofton) makes it direction-free.
    m = np.pad(_blur3(ink) >= 0.5, 1)  # the blur fills the pinholes noise leaves, which would add perimeter
    straight = np.count_nonzero(m[1:] != m[:-1]) + np.count_nonzero(m[:, 1:] != m[:, :-1])
    diagonal = np.count_nonzero(m[1:, 1:] != m[:-1, :-1]) + np.count_nonzero(m[1:, :-1] != m[:-1, 1:])
    perimeter = (straight + diagonal / np.sqrt(2)) / (1 + np.sqrt(2))
    return 2 * np.count_nonzero(m) / max(perimeter, 1)


def _thicken(ink):
    # A 2 px pen line on a 1000 px drawing would shrink to a faint 0.05 px wisp.
    # Pillow has no large round dilation, so max-pool to ~4x the output size
    # (the needed radius drops to a few px), then dilate with a small disc.
    scale = BOX / max(ink.shape)
    if scale > SHRINK or _stroke_width(ink) * scale >= THIN * STROKE:
        return ink
    ink = np.minimum(2 * ink, 1)  # a thin line's anti-aliased half-strength pixels are ink too
    f = max(1, int(1 / (4 * scale)))
    if f > 1:
        ink = _pool(ink, f, np.max)
    # Dilating by r widens the stroke by 2r but also the box by 2r; solve (w + 2r) * BOX / (L + 2r) = STROKE.
    radius = (STROKE * max(ink.shape) - BOX * _stroke_width(ink)) / (2 * (BOX - STROKE))
    return _dilate(ink, radius) if radius >= 0.5 else ink


def _dilate(a, radius):
    """Grey dilation by a disc; the result is larger by the radius on every side."""
    r = int(np.ceil(radius))
    p = np.pad(a, 2 * r)
    h, w = a.shape[0] + 2 * r, a.shape[1] + 2 * r
    out = np.zeros((h, w), a.dtype)
    for i in range(-r, r + 1):
        for j in range(-r, r + 1):
            if i * i + j * j <= radius * radius + 0.5:
                np.maximum(out, p[r + i : r + i + h, r + j : r + j + w], out=out)
    return out


def _centre(box):
    """Paste into a black 28x28 frame, shifted by whole pixels so the centre of mass lands on CENTRE (clipping)."""
    h, w = box.shape
    total = box.sum()
    com_r = (box.sum(1) @ np.arange(h)) / total
    com_c = (box.sum(0) @ np.arange(w)) / total
    top, left = int(np.floor(CENTRE - com_r + 0.5)), int(np.floor(CENTRE - com_c + 0.5))
    frame = np.zeros((FRAME, FRAME), np.float32)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, FRAME), min(left + w, FRAME)
    frame[r0:r1, c0:c1] = box[r0 - top : r1 - top, c0 - left : c1 - left]
    return frame
