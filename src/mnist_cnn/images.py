"""Turn a person's own photo, scan or drawing of a digit into an MNIST digit.

MNIST digits are white ink on black, scaled so the ink's bounding box has a longer side of 20 px (aspect ratio kept,
anti-aliased) and shifted by whole pixels so the ink's centre of mass sits at pixel (14, 14) of a 28x28 frame.
A model trained on MNIST only works on images that look like that, so:

    img = load_image("photo.jpg")       # any format/mode Pillow reads -> "F" image in [0, 1] (imagefile.py)
    x = to_mnist(img)                   # (28, 28) float32 in [0, 1], or None if no ink
    ink = ink_map(img)                  # the whole image's ink (paper removed), for finding several digits
    baseline = naive_resize(img)        # squash the whole image to 28x28, for comparison

`to_mnist` also accepts a PIL image of any mode or a 2-D array (uint8 0..255, or floats in [0, 1]):
real MNIST digits pass through essentially unchanged but for their slant, moved halfway to MNIST's median.
Its steps: `_grey` -> `_ink_and_box` (a sheet on a desk cut out, sheet.py; `_paper` fit, noise cut,
`paper_lines.drop_lines`, `_drop_specks`) -> crop to the ink's box (inside a form's box round it: `drop_frame`) ->
`_thicken` thin lines -> 20 px box -> `_centre` -> `slant.deslant`. `ink_map` alone also takes a shadow's sharp
edge for paper after the fit (`shadow.paper`). Pillow decodes and resizes, OpenCV filters, NumPy does the rest: ~1 ms
for a 280x280 drawing (tools/preprocess_speed.py).
"""

import functools

import cv2
import numpy as np
from PIL import Image

from .imagefile import MAX_IMAGE_PIXELS, MAX_SIDE, grey as _grey, image_pixels, load_grey, load_image  # noqa: F401
from .ink_specks import COARSE, drop_specks, grid, pool  # noqa: F401  (COARSE: tools/preprocess_ops.py)
from .paper_lines import LINE_FILL, drop_frame, drop_lines
from . import sheet
from .shadow import paper as shaded_paper, polarity
from .slant import deslant

# OpenCV, not scipy.ndimage: tools/preprocess_ops.py measured (1 thread, Xeon 4th gen) the 3x3 blur at 51 vs
# 433 us on a 280x280 drawing and 25 vs 227 ms on a 12 MP photo, disc dilation at 23 vs 362 us, labelling at
# 11 vs 44 us; block sums by area resizing take 52 us (NumPy: 487). `import cv2` costs ~20 ms, scipy.ndimage
# ~270. One thread per call: the server preprocesses several uploads at once, beside TensorFlow's threads.
cv2.setNumThreads(1)

NO_DIGIT = "no digit found"  # the answer for an image without ink, shared by predict and serve
FRAME = 28  # MNIST frame side
BOX = 20  # MNIST scales the ink's bounding box so its longer side is 20 px
CENTRE = 14.0  # mean ink centre of mass of the MNIST test set, in pixel indices (13.99, 14.00)
BORDER = 0.05  # the outer 5% of each side is taken as paper to fit; a digit touching one edge covers little of it
FIT_SAMPLES = 20_000  # pixels sampled to fit the paper surface: plenty for 6 coefficients, fast on any photo
RIDGE = 1e-6  # keeps the surface fit solvable when the border cannot show a slope (1xN images, uniform rows)
TIGHT_SIDES = 2  # ink a quarter of the contrast off the border median on >= 2 sides: maybe a tight crop...
TIGHT_CUT = 8  # ...and off the fitted surface by > 1/8 of the contrast: the fit bends through a tight crop's border
# ink (test_tight_crops_read_like_the_digit: 95% look like the digit at 1/8, as before; 94% at 1/4; 91% at 1/2), while
# a photo's shaded edges, which the surface follows, stay within it
ROUGH = 0.03  # ...if the fit misses the border by > 3% of the contrast (uneven light: < 1%; tight crops: > 5%)
WHITE = 1.06  # sqrt(9/8): white noise's sigma over that of what a 3x3 mean takes away from it
LIT_FIT = 4  # a surface whose noise cut is under 1/4 of the contrast is a lit page: ink is cut after dividing by it at
# the cut's share of its mean (a faint grid's rules, cut before, were ink only where bright: no whole line to drop);
# a rougher fit (bold strokes cropped tight, taken for a sheet) has low parts that are no paper: cut before dividing
LIT_EVEN = 0.7  # ...if no paper is darker than 70% of the mean: the cut stays >= 3.5 sigmas (in a deep shade: noise)
FIT_ROUNDS = 3  # refits of the paper surface, each leaving out what the last one shows to be ink
MIN_CONTRAST = 0.1  # ink weaker than 10% of full scale (after a 3x3 blur) is a blank page, not a faint digit
NOISE_SIGMAS = 5.0  # paper/JPEG noise is cut at 5 robust sigmas of the background: ~0 false pixels per megapixel
NOISE_FLOOR = 0.04  # ~10/255: always cut at least this much, so 8-bit rounding and faint halos never count as ink
MIN_INK_PIXELS = 4  # fewer ink pixels than this is a speck, not a digit
STROKE = 2.3  # median MNIST stroke width in px, measured by _stroke_width on the test set
THIN = 0.6  # strokes that scaling would make thinner than 60% of STROKE are thickened to STROKE...
SHRINK = 0.5  # ...but only when shrinking by 2x or more: at MNIST size a thin stroke is as drawn, not an artefact
TERMS = np.array([(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)])  # x, y powers in the paper surface's 6 terms
RESAMPLE = Image.Resampling.BOX  # area averaging: how MNIST anti-aliased its binary NIST strokes; no ringing
# ...but for a digit smaller than the 20 px box, BOX repeats pixels: blocky steps the "not a digit" gate takes for
# letters (MNIST test digits written 10-13 px tall: 2.4-3.2% called not a digit, 0.7-0.9% bilinear, 1.9% at 20 px)
UPSCALE = Image.Resampling.BILINEAR  # no ringing either, unlike bicubic or Lanczos


def to_mnist(image, desk: bool = True):
    """Return a (28, 28) float32 MNIST-style digit in [0, 1] (white ink on black), or None if no ink. desk: look for
    a sheet lying on a desk first (sheet.py); False for ink already taken off its paper (`read`'s marks: a bold mark
    on its black margin looked like a light sheet on a dark desk, and only the inside of its stroke was read)."""
    found = _ink_and_box(_grey(image), desk=desk)
    if found is None:
        return None
    ink, (x, y, w, h) = found
    ink = _thicken(drop_frame(ink[y : y + h, x : x + w], MIN_CONTRAST))
    h, w = ink.shape
    size = (BOX, max(1, round(BOX * h / w))) if w >= h else (max(1, round(BOX * w / h)), BOX)
    # Pillow's BOX, not cv2.INTER_AREA: at scales that are no whole number OpenCV weighs a pixel cut by a box
    # edge by its part inside, Pillow in or out by its centre (outputs up to 0.07 apart).
    resample = RESAMPLE if max(h, w) >= BOX else UPSCALE
    box = np.asarray(Image.fromarray(np.ascontiguousarray(ink, np.float32)).resize(size, resample)).clip(0, None)
    return deslant(_centre(box / box.max()))


def ink_map(image, with_specks: bool = False):
    """The whole image's ink strength as (H, W) float32 in [0, 1]: paper, noise and specks at 0 (white ink on
    black, as `to_mnist` sees it before cropping); None if there is no ink. Used to find several digits.
    with_specks: (ink, the same before specks were dropped, on the same scale; the very same array when no speck
    was), or None: a pen's point is a speck by mass (punctuation.py looks for it)."""
    found = _ink_and_box(_grey(image), crop=False, with_specks=with_specks, shade=True)
    return None if found is None else (found[0], found[2]) if with_specks else found[0]


def naive_resize(image):
    """Squash the whole image to 28x28 greyscale in [0, 1]: no inversion, cropping or centring (the baseline)."""
    return np.asarray(Image.fromarray(_grey(image)).resize((FRAME, FRAME), RESAMPLE), np.float32).clip(0, 1)


def _blur3(a):
    """3x3 mean, edge pixels repeated outwards."""
    return cv2.blur(a, (3, 3), borderType=cv2.BORDER_REPLICATE)


def _ink_and_box(grey, crop: bool = True, with_specks: bool = False, shade: bool = False, desk: bool = True):
    """Ink in [0, 1] (paper, noise and specks at 0) and its box (x, y, w, h); None if there is no digit. crop: a
    drawing's ink only in the window around its strokes (_canvas). with_specks (whole images only, not crop): and,
    third, the ink before specks were dropped, on the same scale (the same array when none was). shade: a shadow's
    sharp edge is looked for (shadow.py): in a row of digits, whose strokes are thin beside the picture; not in one
    digit, often cropped tight, thick or blurred (1 in 6 of `mnist-cnn evalset`'s, mostly read worse). desk: see
    to_mnist."""
    assert not (crop and with_specks), "_canvas's crop keeps no specks"
    if desk and (cut := sheet.cut(grey)) is not None:  # a sheet on a desk: the sheet's own border is the paper's...
        if (found := _on_sheet(grey, *cut[:2], with_specks, shade)) is not None or cut[2] < sheet.HOLED:
            return found  # ...but one with no ink on it, much of it holes, is a bold light mark: read whole
    found = _canvas(grey) if crop else _WHOLE
    if found is not _WHOLE:
        return found
    # Computed in smooth's memory: on a 12 MP photo a fresh array costs as much as the arithmetic.
    smooth = _blur3(grey)
    paper, sigma, sign = _paper(grey, smooth)  # paper: a surface or one level
    if shade and sign > 0:  # dark paper shows no shade; bold light strokes cropped tight look like one
        paper, sigma = shaded_paper(grey, smooth, paper, MIN_CONTRAST, sigma)
    if (contrast := _contrast(paper, smooth, sign)) < MIN_CONTRAST:
        return None
    ink = np.subtract(*((paper, grey) if sign > 0 else (grey, paper)), out=smooth)
    cut = max(NOISE_FLOOR, NOISE_SIGMAS * sigma)
    lit = sign > 0 and np.ndim(paper) and LIT_FIT * cut < contrast  # a lit page's surface, fitted well...
    if lit and (lit := cv2.minMaxLoc(paper)[0] >= LIT_EVEN * (level := cv2.mean(paper)[0])):  # ...and lit evenly
        cut /= max(level, MIN_CONTRAST)
    else:
        cv2.threshold(ink, cut, 0, cv2.THRESH_TOZERO, dst=ink)  # keeps ink > cut
    if sign > 0:  # light multiplies: relative to the paper, one pen is as dark in shade as in sun
        ink /= np.maximum(paper, np.float32(MIN_CONTRAST), out=paper if np.ndim(paper) else None)  # paper is done
    if lit:
        cv2.threshold(ink, cut, 0, cv2.THRESH_TOZERO, dst=ink)
    box = cv2.boundingRect(cv2.compare(ink, 0, cv2.CMP_GT))  # ink > 0 stays > 0 divided by paper >= MIN_CONTRAST
    # A line spans LINE_FILL of a row (column): with narrower ink, drop_lines would find none
    narrow = box[2] < LINE_FILL * ink.shape[1] and box[3] < LINE_FILL * ink.shape[0]
    lined = ink if narrow else drop_lines(ink, MIN_CONTRAST)
    kept = drop_specks(lined, grid(ink.shape))
    if cv2.countNonZero(kept) < MIN_INK_PIXELS:
        return None
    top = kept.max()
    if with_specks:
        lined = lined if lined is kept else np.minimum(lined / top, 1)
    kept /= top
    same = kept is ink and narrow  # no line or speck dropped: the same box
    box = box if same else cv2.boundingRect(cv2.compare(kept, 0, cv2.CMP_GT))
    return (kept, box, lined) if with_specks else (kept, box)


def _on_sheet(grey, part, turn, with_specks: bool, shade: bool):
    """_ink_and_box's answer for the sheet `part` of grey (sheet.cut: `turn` maps grey's pixels to part's, a shift by
    whole pixels or the sheet turned level), in the whole picture's pixels."""
    found = _ink_and_box(part, False, with_specks, shade)
    if found is None:
        return None
    whole = functools.partial(cv2.warpAffine, M=turn, dsize=grey.shape[::-1],
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    ink = whole(found[0])
    box = cv2.boundingRect(cv2.compare(ink, 0, cv2.CMP_GT))
    return (ink, box, ink if found[2] is found[0] else whole(found[2])) if with_specks else (ink, box)


_WHOLE = object()  # _canvas: this image needs the whole-image steps


def _canvas(grey):
    """_ink_and_box's answer for a drawing (its border at one level) from the window around the pixels off that level,
    its corner on the speck grid; _WHOLE for other images, and ink wide or tall enough to hold a line."""
    v = np.take(grey, _border(*grey.shape)[2])
    level = float(v[0])
    even = v.min() == v.max() and grey.size > 1  # (OpenCV takes a 1x1 image beside a number for two arrays)
    x, y, w, h = cv2.boundingRect(cv2.compare(grey, level, cv2.CMP_NE)) if even else (0, 0, 0, 0)
    if w == 0 or not (w < LINE_FILL * grey.shape[1] and h < LINE_FILL * grey.shape[0]):
        return _WHOLE
    f = grid(grey.shape)  # 1 px of canvas around the window: the 3x3 blur's reach
    part = grey[max(0, y - 1) // f * f : y + h + 1, max(0, x - 1) // f * f : x + w + 1]
    low, high = cv2.minMaxLoc(smooth := _blur3(part))[:2]
    low, high = (low, high) if part.shape == grey.shape else (min(low, level), max(high, level))  # canvas outside
    paper, sign = np.float32(level), 1 if level - low > high - level else -1  # as _paper for a one-level border
    if float(paper - np.float32(low) if sign > 0 else np.float32(high) - paper) < MIN_CONTRAST:
        return None
    ink = np.subtract(*((paper, part) if sign > 0 else (part, paper)), out=smooth)
    cv2.threshold(ink, NOISE_FLOOR, 0, cv2.THRESH_TOZERO, dst=ink)
    if sign > 0:
        ink /= np.maximum(paper, np.float32(MIN_CONTRAST))
    # Outside the window the ink is 0, and the window's corner is on the speck grid: the same blobs as the whole image
    kept = drop_specks(ink, f)
    if cv2.countNonZero(kept) < MIN_INK_PIXELS:
        return None
    return (kept := kept / kept.max()), cv2.boundingRect(cv2.compare(kept, 0, cv2.CMP_GT))


def _contrast(paper, smooth, sign) -> float:
    """How far the blurred image strays from the paper towards the ink (sign +1: dark); may overwrite smooth."""
    if np.ndim(paper) == 0:  # one level: that of the blurred image's extreme, as rounding to float32 keeps order
        low, high = cv2.minMaxLoc(smooth)[:2]
        return float(paper - np.float32(low) if sign > 0 else np.float32(high) - paper)
    return cv2.minMaxLoc(np.subtract(*((paper, smooth) if sign > 0 else (smooth, paper)), out=smooth))[1]


def _paper(grey, smooth):
    """The paper's brightness (a surface, or one level), the noise sigma around it, and the ink's sign (+1: dark)."""
    # Photos are lit unevenly: one paper level would call a shaded corner ink or
    # hide ink in a bright one. Fit a quadratic surface to the image's border,
    # mostly paper even when the digit touches an edge (the interior may be
    # mostly ink), leaving out border pixels more than halfway to the ink.
    y, x, at, terms, gram = _border(*grey.shape)
    v = np.take(grey, at)
    even = v.min() == v.max()  # a drawing app's canvas: the fit is that level, to float precision
    level = float(v[0]) if even else _median(v)
    low, high = cv2.minMaxLoc(smooth)[:2]
    dark, light = level - low, high - level
    sign = polarity(smooth, level, dark, light)  # +1: dark ink
    if even:
        return np.float32(level), 0.0, sign
    spread = max(dark, light) / 2  # border pixels more than halfway to the ink are ink
    c0, c1, c2, c3, c4, c5 = coef = _fit(terms, v, gram, sign, spread, level)
    res = v - np.einsum("in,i->n", terms, coef)
    sigma = 1.4826 * _median(np.abs(res - np.float32(_median(res))))
    if sigma > ROUGH * spread and _tight(smooth, v - np.take(smooth, at), coef, y, x, level, sign, spread):
        # A tight crop: ink crosses the border, the surface would bend through it. One level: the paper near the
        # median. Its noise is what the 3x3 blur removes there: the spread of levels would count the strokes'
        # blurred edges as noise, and the cut at NOISE_SIGMAS of them would break thick blurry strokes apart.
        near = at[np.abs(v - np.float32(level)) <= spread / 2]
        if near.size == 0:  # a border half ink, half paper (a form's box lines): its median is neither; paper's half
            near = at[sign * (np.float32(level) - v) <= 0]
        level = _median(np.take(grey, near))
        noise = np.take(grey, near) - np.take(smooth, near)
        return np.float32(level), WHITE * 1.4826 * _median(np.abs(noise - np.float32(_median(noise)))), sign
    surface = np.multiply.outer(c4 * y, x)  # the TERMS' sum, as an outer product plus row and column terms
    surface += (c0 + c2 * y + c5 * y * y)[:, None]
    surface += (c1 * x + c3 * x * x)[None, :]
    return surface, sigma, sign


def _tight(smooth, blurred_off, coef, y, x, level, sign, spread):
    """Whether ink crosses >= TIGHT_SIDES edges: more than spread/2 off the border's median there, and off the fitted
    surface by more than the noise and 1/TIGHT_CUT of the contrast. A shaded page's edges are off the median too, but
    the surface follows them. blurred_off: what the 3x3 blur removes at the border samples (their noise)."""
    if _sides(smooth, level, sign, spread / 2) < TIGHT_SIDES:
        return False
    c0, c1, c2, c3, c4, c5 = coef
    edges = (c0 - c2 + c5 + (c1 - c4) * x + c3 * x * x, c0 + c2 + c5 + (c1 + c4) * x + c3 * x * x,  # top, bottom,
             c0 - c1 + c3 + (c2 - c4) * y + c5 * y * y, c0 + c1 + c3 + (c2 + c4) * y + c5 * y * y)  # left, right
    noise = WHITE * 1.4826 * _median(np.abs(blurred_off - np.float32(_median(blurred_off))))
    return _sides(smooth, edges, sign, max(spread / TIGHT_CUT, NOISE_SIGMAS * noise)) >= TIGHT_SIDES


def _sides(smooth, level, sign, cut):
    """How many of the image's four outermost rows and columns (top, bottom, left, right) hold ink: more than `cut`
    off `level` (one level, or the paper along each of those four edges)."""
    levels = level if isinstance(level, tuple) else (level,) * 4
    edges = (smooth[0], smooth[-1], smooth[:, 0], smooth[:, -1])
    return sum(bool((sign * (p - e) > cut).any()) for p, e in zip(levels, edges))


def _fit(a, v, gram, sign, spread, level):
    """The surface's coefficients fitted to the samples at most `spread` off it towards the ink, in rounds."""
    # Normal equations by einsum, not lstsq, `@` or cv2.gemm: those call multi-threaded OpenBLAS, whose threads
    # collide with TensorFlow's (~30x slower in the server). Each round subtracts the few samples it leaves out.
    rhs = np.einsum("in,n->i", a, v, dtype=np.float64)
    coef, dropped = np.float32([level, 0, 0, 0, 0, 0]), None
    for _ in range(FIT_ROUNDS):
        out = np.flatnonzero(sign * (np.einsum("in,i->n", a, coef) - v) > spread)
        if len(v) - len(out) < len(coef):
            break
        if dropped is not None and np.array_equal(out, dropped):
            break  # the same samples give the same coefficients
        dropped, ao = out, a[:, out].astype(np.float64)
        g = gram - np.einsum("in,jn->ij", ao, ao) + RIDGE * np.eye(len(coef))  # ridge: 1-px borders have no slope
        coef = np.linalg.solve(g, rhs - np.einsum("in,n->i", ao, v[out])).astype(np.float32)
    return coef


@functools.lru_cache(maxsize=8)
def _border(h, w):
    """Where the paper is fitted in an h x w image: the outer BORDER of each side, every step-th row and column
    of it (~FIT_SAMPLES pixels). Returns the surface's y and x coordinates (-1 to 1), the flat indices of those
    pixels, the surface's TERMS there (6, n) and the sums of the terms' products over them (float64). Cached
    per size, so never write to them."""
    ring = max(1, round(BORDER * min(h, w)))
    step = max(1, int(np.sqrt((h * w - max(0, h - 2 * ring) * max(0, w - 2 * ring)) / FIT_SAMPLES)))
    r, c = np.arange(0, h, step), np.arange(0, w, step)
    inside_r, inside_c = (r >= ring) & (r < h - ring), (c >= ring) & (c < w - ring)
    edge, top, middle = c[~inside_c], np.count_nonzero(r < ring), np.count_nonzero(inside_r)
    rows = np.repeat(r, np.where(inside_r, len(edge), len(c)))  # row-major, as a full-size mask would give
    cols = np.concatenate([np.tile(c, top), np.tile(edge, middle), np.tile(c, len(r) - top - middle)])
    y, x = np.linspace(-1, 1, h, dtype=np.float32), np.linspace(-1, 1, w, dtype=np.float32)
    terms = np.stack([np.ones_like(cols, np.float32), x[cols], y[rows], x[cols] ** 2, x[cols] * y[rows], y[rows] ** 2])
    # sum of x^p y^q over the border = over the whole grid - over its inside, each a product of 1-D sums
    px, py = (np.vander(t.astype(np.float64), 5, increasing=True) for t in (x[c], y[r]))
    moments = np.outer(py.sum(0), px.sum(0)) - np.outer(py[inside_r].sum(0), px[inside_c].sum(0))  # [q, p]
    p, q = TERMS.T
    return y, x, rows * w + cols, terms, moments[q[:, None] + q, p[:, None] + p]


def _median(v):
    """float(np.median(v)) for a 1-D float32 array, without np.median's overhead (8x slower here)."""
    part = np.partition(v, k := len(v) // 2)
    return float(part[k] if len(v) % 2 else (part[:k].max() + part[k]) / np.float32(2))


def _stroke_width(ink):
    """Mean stroke width in px of the (lightly blurred) ink >= 0.5 mask: 2 * area / perimeter."""
    # Rows' and columns' edges overstate a diagonal's perimeter by up to sqrt(2); both diagonals' too (Crofton): none
    # OpenCV's compare, xor and count on uint8 masks: ~30% less time than NumPy's on booleans, same counts
    m = cv2.compare(_blur3(ink), 0.5, cv2.CMP_GE)  # blurred: noise's pinholes would add perimeter
    m = cv2.copyMakeBorder(m, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)  # with a 1 px frame of background
    shifts = [(m[1:], m[:-1]), (m[:, 1:], m[:, :-1]), (m[1:, 1:], m[:-1, :-1]), (m[1:, :-1], m[:-1, 1:])]
    edges = [cv2.countNonZero(cv2.bitwise_xor(a, b)) for a, b in shifts]  # pixels unlike their neighbour
    perimeter = (edges[0] + edges[1] + (edges[2] + edges[3]) / np.sqrt(2)) / (1 + np.sqrt(2))
    return 2 * cv2.countNonZero(m) / max(perimeter, 1)


def _thicken(ink):
    # A 2 px pen line on a 1000 px drawing would shrink to a 0.05 px wisp: max-pool to ~4x the output size, dilate.
    scale = BOX / max(ink.shape)
    if scale > SHRINK or _stroke_width(ink) * scale >= THIN * STROKE:
        return ink
    ink = np.minimum(2 * ink, 1)  # a thin line's anti-aliased half-strength pixels are ink too
    ink = pool(ink, max(1, int(1 / (4 * scale))), "max")
    # Dilating by r widens the stroke by 2r but also the box by 2r; solve (w + 2r) * BOX / (L + 2r) = STROKE.
    radius = (STROKE * max(ink.shape) - BOX * _stroke_width(ink)) / (2 * (BOX - STROKE))
    return _dilate(ink, radius) if radius >= 0.5 else ink


def _dilate(a, radius):
    """Grey dilation by a disc (offsets i, j with i^2 + j^2 <= radius^2 + 0.5); larger by the radius on every side."""
    i = np.arange(-(r := int(np.ceil(radius))), r + 1)
    disc = (i[:, None] ** 2 + i**2 <= radius * radius + 0.5).astype(np.uint8)  # not MORPH_ELLIPSE: that differs
    p = cv2.copyMakeBorder(a, r, r, r, r, cv2.BORDER_CONSTANT, value=0)
    return cv2.dilate(p, disc, borderType=cv2.BORDER_CONSTANT, borderValue=0)


def _centre(box):
    """Paste into a black 28x28 frame, shifted by whole pixels so the centre of mass lands on CENTRE (clipping)."""
    (h, w), total = box.shape, box.sum()
    com_r, com_c = (box.sum(1) @ np.arange(h)) / total, (box.sum(0) @ np.arange(w)) / total
    top, left = int(np.floor(CENTRE - com_r + 0.5)), int(np.floor(CENTRE - com_c + 0.5))
    frame = np.zeros((FRAME, FRAME), np.float32)
    r0, c0, r1, c1 = max(top, 0), max(left, 0), min(top + h, FRAME), min(left + w, FRAME)
    frame[r0:r1, c0:c1] = box[r0 - top : r1 - top, c0 - left : c1 - left]
    return frame
