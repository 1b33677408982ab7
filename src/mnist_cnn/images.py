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
Its steps, one small function each: `_grey` (luminance in [0, 1]) -> `_ink`
(fit the paper's brightness with `_paper`, keep what differs by more than the
noise, `_drop_specks`) -> crop to the ink's box -> `_thicken` thin pen lines
-> `_box` (area-average to 20 px) -> `_centre` (centre of mass on (14, 14)).
Pillow decodes, OpenCV filters, labels and resizes (~1 ms for a 280x280
drawing; tools/preprocess_speed.py measures it), NumPy does the rest.
"""

import io
import re
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import UserError

# OpenCV, not scipy.ndimage, for the filters: tools/preprocess_ops.py measured (1 thread, Xeon) the 3x3 blur
# at 50 us vs 470 us on a 280x280 drawing and 22 vs 238 ms on a 12 MP photo, the disc dilation at 27 vs 470 us
# and area resizing 4x faster than Pillow; labelling ties (~50 us). `import cv2` costs ~20 ms, scipy.ndimage
# ~270 ms. One thread per call: the server preprocesses several uploads at once, beside TensorFlow's threads.
cv2.setNumThreads(1)

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
COARSE = 128  # specks are found on a grid at most this big: it joins strokes with small gaps, and is fast
STROKE = 2.3  # median MNIST stroke width in px, measured by _stroke_width on the test set
THIN = 0.6  # strokes that scaling would make thinner than 60% of STROKE are thickened to STROKE...
SHRINK = 0.5  # ...but only when shrinking by 2x or more: at MNIST size a thin stroke is as drawn, not an artefact
TERMS = np.array([(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)])  # x, y powers in the paper surface's 6 terms
RESAMPLE = Image.Resampling.BOX  # area averaging: how MNIST anti-aliased its binary NIST strokes; no ringing


def load_image(source, *, name=None):
    """Read a path or bytes into a greyscale Pillow "F" image with values in [0, 1].

    Decodes fully, applies the EXIF orientation, takes the first frame of an
    animation and composites transparency so transparent pixels carry no ink.
    A colour JPEG is decoded straight to its luma: a grey level or two off
    Pillow's RGB -> L in a few pixels, nothing the 28x28 digit shows.
    `name` names a bytes source in error messages (default "upload").
    Raises UserError with one line naming the file on any bad input.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, data = name or "upload", bytes(source)
    else:
        name = name or str(source)
        data = _read(Path(source), name)
    if not data:
        raise UserError(f"{name}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.size[0] * img.size[1] > MAX_IMAGE_PIXELS:
                    raise _too_large(f"{img.size[0] * img.size[1]:,} pixels", name)
                if img.format == "JPEG":
                    img.draft("L", None)  # colour JPEGs: the decoder's own luma (Y), ~2x faster than RGB then L
                img.load()
                grey = _grey(ImageOps.exif_transpose(img))
    except UnidentifiedImageError:
        raise UserError(f"{name}: not an image Pillow can read (cannot identify image file)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:  # Pillow's own, larger limit
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        raise _too_large(f"{int(pixels.group(1)):,} pixels" if pixels else str(e), name) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as e:
        raise UserError(f"{name}: truncated or corrupt image ({e})") from None
    return Image.fromarray(grey)


def to_mnist(image):
    """Return a (28, 28) float32 MNIST-style digit in [0, 1] (white ink on black), or None if no ink."""
    ink = _ink(_grey(image))
    if ink is None:
        return None
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    box = _box(_thicken(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]))
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


def _too_large(found, name):
    return UserError(f"{name}: image too large ({found}; limit {MAX_IMAGE_PIXELS:,})")


def _grey(image):
    """Any Pillow mode or 2-D array -> float32 luminance in [0, 1], transparency composited (may be read-only)."""
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
        alpha = rgba.getchannel("A")
        if alpha.getextrema()[0] < 255:  # else opaque (a canvas export): compositing would change nothing
            return _composite(_unit(np.asarray(rgba.convert("L"))), _unit(np.asarray(alpha)))
        image = rgba
    return _unit(np.asarray(image if image.mode == "L" else image.convert("L")))


def _unit(a):
    """Divide by the smallest of 1, 255, 65535 covering the data: [0, 1] floats stay, 8/16-bit ints map to [0, 1]."""
    if a.dtype.kind == "u":  # unsigned pixels: nothing to check but the top, then one pass
        top = int(a.max(initial=0))
        return np.divide(a, np.float32(next((f for f in (1, 255, 65535) if top <= f), top)), dtype=np.float32)
    a = a.astype(np.float32, copy=False)
    lo, hi = _range(a)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        a = np.nan_to_num(a)
        lo, hi = _range(a)
    if lo < 0:
        a, hi = a - np.float32(lo), float(np.float32(hi) - np.float32(lo))
    full = next((f for f in (1.0, 255.0, 65535.0) if hi <= f), hi)
    return a if full == 1.0 else a / np.float32(full)


def _range(a):
    return (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)


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


def _blur3(a):
    """3x3 mean, edge pixels repeated outwards."""
    return cv2.blur(a, (3, 3), borderType=cv2.BORDER_REPLICATE)


def _ink(grey):
    """Ink strength in [0, 1] with paper, noise and specks at 0; None if there is no digit."""
    # In place where it can be: on a 12 MP photo every fresh array costs as much as the arithmetic.
    smooth = _blur3(grey)
    paper, sigma, sign = _paper(grey, smooth)
    if _contrast(paper, smooth, sign) < MIN_CONTRAST:
        return None
    ink = np.subtract(*((paper, grey) if sign > 0 else (grey, paper)), out=smooth)
    cv2.threshold(ink, max(NOISE_FLOOR, NOISE_SIGMAS * sigma), 0, cv2.THRESH_TOZERO, dst=ink)  # keeps ink > cut
    if sign > 0:  # light multiplies: relative to the paper, one pen is as dark in shade as in sun
        ink /= np.maximum(paper, np.float32(MIN_CONTRAST), out=paper if np.ndim(paper) else None)
    ink = _drop_specks(ink)
    if cv2.countNonZero(ink) < MIN_INK_PIXELS:
        return None
    ink /= ink.max()
    return ink


def _contrast(paper, smooth, sign):
    """How far the (blurred) ink gets from the paper, at most; overwrites smooth."""
    if np.ndim(paper) == 0:  # one paper level: the extreme of the image decides
        return float(sign * (paper - np.float32(cv2.minMaxLoc(smooth)[0 if sign > 0 else 1])))
    return cv2.minMaxLoc(np.subtract(*((paper, smooth) if sign > 0 else (smooth, paper)), out=smooth))[1]


def _paper(grey, smooth):
    """The paper's brightness (a surface, or one level), the noise sigma around it, and the ink's sign (+1: dark)."""
    # Photos are lit unevenly: one paper level would call a shaded corner ink or
    # hide ink in a bright one. Fit a quadratic surface to the image's border,
    # mostly paper even when the digit touches an edge (the interior may be
    # mostly ink), leaving out border pixels more than halfway to the ink.
    grid = _border(*grey.shape)
    step, r, c = grid[:3]
    v = _strips(grey[::step, ::step], grid)
    even = v.min() == v.max()  # a drawing app's canvas: the fit is that level, to float precision
    level = float(v[0]) if even else _median(v)
    low, high = cv2.minMaxLoc(smooth)[:2]
    dark, light = level - low, high - level
    sign = 1 if dark > light else -1  # polarity: the ink is the extreme further from the paper
    if even:
        return np.float32(level), 0.0, sign
    y, x = (np.linspace(-1, 1, n, dtype=np.float32) for n in grey.shape)
    yy = _strips(np.broadcast_to(y[r, None], (len(r), len(c))), grid)
    xx = _strips(np.broadcast_to(x[c], (len(r), len(c))), grid)
    a = np.stack(_quadratic(yy, xx))  # (6, n): the surface's terms at the samples
    coef = _fit(a, v, _gram(y, x, grid), sign, max(dark, light) / 2, level)
    res = v - np.einsum("in,i->n", a, coef)
    sigma = 1.4826 * _median(np.abs(res - np.float32(_median(res))))
    return _surface(coef, y, x), sigma, sign


def _fit(a, v, gram, sign, spread, level):
    """The coefficients fitted to the samples not more than `spread` off the paper towards the ink, in rounds."""
    # Normal equations, not lstsq, `@` or cv2.gemm: those call multi-threaded OpenBLAS, whose spinning threads
    # collide with TensorFlow's and made this fit ~30x slower in the server. The sums over all samples
    # are taken once; each round subtracts the (usually few) samples it leaves out.
    a64 = a.astype(np.float64)
    rhs = np.einsum("in,n->i", a64, v.astype(np.float64))
    coef, dropped = np.float32([level, 0, 0, 0, 0, 0]), None
    for _ in range(FIT_ROUNDS):
        out = np.flatnonzero(sign * (np.einsum("in,i->n", a, coef) - v) > spread)
        if len(v) - len(out) < len(coef):
            break
        if dropped is not None and np.array_equal(out, dropped):
            break  # the same samples give the same coefficients
        dropped, ao = out, a64[:, out]
        g = gram - np.einsum("in,jn->ij", ao, ao) + RIDGE * np.eye(len(coef))  # ridge: 1-px borders have no slope
        coef = np.linalg.solve(g, rhs - np.einsum("in,n->i", ao, v[out])).astype(np.float32)
    return coef


def _border(h, w):
    """The pixels fitted, the outer BORDER of each side on a grid of every step-th row and column (~FIT_SAMPLES
    in all): (step, the grid's rows, its columns, which rows are inside, which columns are inside)."""
    ring = max(1, round(BORDER * min(h, w)))
    step = max(1, int(np.sqrt((h * w - max(0, h - 2 * ring) * max(0, w - 2 * ring)) / FIT_SAMPLES)))
    r, c = np.arange(0, h, step), np.arange(0, w, step)
    return step, r, c, (r >= ring) & (r < h - ring), (c >= ring) & (c < w - ring)


def _strips(a, grid):
    """The border's part of a grid-shaped array, flat: the top rows, the left and right ends of the middle rows,
    the bottom rows (whole rows where no column is inside)."""
    _, r, c, inside_r, inside_c = grid
    top = int(np.argmax(inside_r)) if inside_r.any() else len(r)
    left = int(np.argmax(inside_c)) if inside_c.any() else len(c)
    bottom, right = top + np.count_nonzero(inside_r), left + np.count_nonzero(inside_c)
    mid = a[top:bottom]
    return np.concatenate([a[:top].ravel(), mid[:, :left].ravel(), mid[:, right:].ravel(), a[bottom:].ravel()])


def _gram(y, x, grid):
    """Sums of products of the quadratic's terms over the border's samples, in float64: for each x^p y^q,
    the sum over the whole grid minus the sum over its inside, each a product of two 1-D sums."""
    _, r, c, inside_r, inside_c = grid
    px, py = (np.vander(t.astype(np.float64), 5, increasing=True) for t in (x[c], y[r]))  # t^0 .. t^4
    moments = np.outer(py.sum(0), px.sum(0)) - np.outer(py[inside_r].sum(0), px[inside_c].sum(0))  # [q, p]
    p, q = TERMS[:, 0], TERMS[:, 1]
    return moments[q[:, None] + q, p[:, None] + p]


def _median(v):
    """float(np.median(v)) for a 1-D float32 array, without np.median's overhead (8x slower here)."""
    k = len(v) // 2
    part = np.partition(v, k)
    return float(part[k] if len(v) % 2 else (part[:k].max() + part[k]) / np.float32(2))


def _quadratic(y, x):
    return [np.ones_like(x), x, y, x * x, x * y, y * y]  # the TERMS


def _surface(coef, y, x):
    """coef . (1, x, y, x^2, xy, y^2) over the whole (h, w) grid, as row + column terms plus one product."""
    c0, c1, c2, c3, c4, c5 = coef
    out = np.multiply.outer(c4 * y, x)
    out += (c0 + c2 * y + c5 * y * y)[:, None]
    out += (c1 * x + c3 * x * x)[None, :]
    return out


def _drop_specks(ink):
    # Dust, paper fibres and JPEG blotches far from the digit would blow up its
    # bounding box. Label 8-connected blobs on a coarse grid of f x f blocks
    # (which also joins strokes with small gaps) and keep those with real ink mass.
    f = max(1, -(-max(ink.shape) // COARSE))
    mass = _pool(ink, f, "sum")
    _, labels = cv2.connectedComponents((mass > 0).view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    sums = np.bincount(labels.ravel(), weights=mass.ravel())
    sums[0] = 0
    keep = sums >= SPECK_FRACTION * sums.sum()
    if keep[1:].all():  # every blob is kept; the background blocks hold no ink
        return ink
    keep = keep[labels].view(np.uint8)
    keep = cv2.resize(keep, (keep.shape[1] * f, keep.shape[0] * f), interpolation=cv2.INTER_NEAREST)
    return np.where(keep[: ink.shape[0], : ink.shape[1]], ink, np.float32(0))


def _pool(a, f, reduce):
    """Reduce f x f blocks (zero-padded at the far edges) to their "sum" or "max"."""
    if f == 1:
        return a
    h, w = -(-a.shape[0] // f), -(-a.shape[1] // f)
    p = cv2.copyMakeBorder(a, 0, h * f - a.shape[0], 0, w * f - a.shape[1], cv2.BORDER_CONSTANT, value=0)
    if reduce == "max":  # the max of the f x f block starting at each pixel, read at every f-th pixel
        return cv2.dilate(p, np.ones((f, f), np.uint8), anchor=(0, 0))[::f, ::f]
    return cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA) * np.float32(f * f)  # block means, exactly


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
    # Max-pool to ~4x the output size (the needed radius drops to a few px),
    # then dilate with a small disc.
    scale = BOX / max(ink.shape)
    if scale > SHRINK or _stroke_width(ink) * scale >= THIN * STROKE:
        return ink
    ink = np.minimum(2 * ink, 1)  # a thin line's anti-aliased half-strength pixels are ink too
    ink = _pool(ink, max(1, int(1 / (4 * scale))), "max")
    # Dilating by r widens the stroke by 2r but also the box by 2r; solve (w + 2r) * BOX / (L + 2r) = STROKE.
    radius = (STROKE * max(ink.shape) - BOX * _stroke_width(ink)) / (2 * (BOX - STROKE))
    return _dilate(ink, radius) if radius >= 0.5 else ink


def _dilate(a, radius):
    """Grey dilation by a disc (pixels within radius, + 0.5 px^2 of slack); the result is larger by the radius on every side."""
    r = int(np.ceil(radius))
    i, j = np.ogrid[-r : r + 1, -r : r + 1]
    disc = (i * i + j * j <= radius * radius + 0.5).astype(np.uint8)  # not MORPH_ELLIPSE: that shape differs
    p = cv2.copyMakeBorder(a, r, r, r, r, cv2.BORDER_CONSTANT, value=0)
    return cv2.dilate(p, disc, borderType=cv2.BORDER_CONSTANT, borderValue=0)


def _box(ink):
    """Area-average the ink's box so its longer side is BOX px, aspect ratio kept."""
    h, w = ink.shape
    size = (BOX, max(1, round(BOX * h / w))) if w >= h else (max(1, round(BOX * w / h)), BOX)
    box = np.asarray(Image.fromarray(np.ascontiguousarray(ink, np.float32)).resize(size, RESAMPLE))
    return box.clip(0, None)


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
