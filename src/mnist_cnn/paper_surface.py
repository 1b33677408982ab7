"""The paper under a photo's ink: a quadratic brightness surface fitted to the picture's border, or one level.

    paper, sigma, sign = paper_surface.fit(grey, smooth)   # grey and its 3x3 blur, (H, W) float32 in [0, 1]
    # paper: (H, W) float32 surface or a float32 level; sigma: the noise around it; sign: +1 dark ink, -1 light ink

Photos are lit unevenly: one paper level would call a shaded corner ink or hide ink in a bright one. A step of
images.to_mnist and images.ink_map (images.py), apart so that each module stays one job. Ink across two edges makes the
picture a tight crop, its paper one level (the surface would bend through the strokes), unless that level leaves more
faint ink than strong and the surface almost none while keeping the strokes (`_shaded`, `_kept`): brown paper under
uneven light, whose numbers were refused 30 of 30 times.
"""

import functools

import cv2
import numpy as np

from .shadow import polarity

BORDER = 0.05  # the outer 5% of each side is taken as paper to fit; a digit touching one edge covers little of it
FIT_SAMPLES = 20_000  # pixels sampled to fit the paper surface: plenty for 6 coefficients, fast on any photo
RIDGE = 1e-6  # keeps the surface fit solvable when the border cannot show a slope (1xN images, uniform rows)
TIGHT_SIDES = 2  # ink a quarter of the contrast off the border median on >= 2 sides: maybe a tight crop...
TIGHT_CUT = 8  # ...and off the fitted surface by > 1/8 of the contrast: the fit bends through a tight crop's border
# ink (test_tight_crops_read_like_the_digit: 95% look like the digit at 1/8, as before; 94% at 1/4; 91% at 1/2), while
# a photo's shaded edges, which the surface follows, stay within it
ROUGH = 0.03  # ...if the fit misses the border by > 3% of the contrast (uneven light: < 1%; tight crops: > 5%)
FAINT = 1.0  # ...unless one paper level leaves faint ink (cut to a third of the contrast) over more pixels than the
# strong ink's (evalset's tight, blurred and low-res crops: 90% at 0.6x, 3 of 700 over 1x; brown paper under uneven
# light, whose mottles the surface misses along two edges as it misses a tight crop's strokes: up to 25x)...
CLEAN = 0.1  # ...and the surface, cut at the noise its fit to the border leaves (mottles there raise it), leaves it
# in patches BROAD px wide over at most 10% of them (a fold's shaded side, which no surface follows: more)...
BROAD = 5  # px (not a page's thin rules: counted, all 12 of a probe's keystoned ruled pages under uneven light
# stayed tight crops, 3 read right; so, 7)
KEPT = 0.5  # ...and half its strong ink or more clears that cut (kraft, rules, folds: 90% of them at 0.86 or more;
# a review's light tight crops on dark mottled paper, their strokes lost: 75% at 0.42 or less, a 7 read 1)
NOISE_FLOOR = 0.04  # ~10/255: always cut at least this much, so 8-bit rounding and faint halos never count as ink
WHITE = 1.06  # sqrt(9/8): white noise's sigma over that of what a 3x3 mean takes away from it
FIT_ROUNDS = 3  # refits of the paper surface, each leaving out what the last one shows to be ink
NOISE_SIGMAS = 5.0  # paper/JPEG noise is cut at 5 robust sigmas of the background: ~0 false pixels per megapixel
SLOPED = 0.15  # light ink, but the picture reaching at least 0.15 as far below the border's level: dark ink if
# the light's slope taken out (_darker) it reaches CLEARLY x further below than above
CLEARLY = 3.0  # (faint pencil under steep light: 8.5-12; a bold light 9 cropped tight round its hole: 1.5)
LOCAL = 1 / 4  # the squares _darker takes the picture's mean over, as a share of its shorter side
TERMS = np.array([(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)])  # x, y powers in the paper surface's 6 terms


def fit(grey, smooth):
    """The paper's brightness (a surface, or one level), the noise sigma around it, and the ink's sign (+1: dark)."""
    # Photos are lit unevenly: one paper level would call a shaded corner ink or
    # hide ink in a bright one. Fit a quadratic surface to the image's border,
    # mostly paper even when the digit touches an edge (the interior may be
    # mostly ink), leaving out border pixels more than halfway to the ink.
    y, x, at, terms, gram = border(*grey.shape)
    v = np.take(grey, at)
    even = v.min() == v.max()  # a drawing app's canvas: the fit is that level, to float precision
    level = float(v[0]) if even else median(v)
    low, high = cv2.minMaxLoc(smooth)[:2]
    dark, light = level - low, high - level
    sign = polarity(smooth, level, dark, light)  # +1: dark ink
    if even:
        return np.float32(level), 0.0, sign
    if sign < 0 and dark >= SLOPED * light and _darker(smooth):
        sign = 1
    spread = max(dark, light) / 2  # border pixels more than halfway to the ink are ink
    coef = _fit(terms, v, gram, sign, spread, level)
    res = v - np.einsum("in,i->n", terms, coef)
    sigma = 1.4826 * median(np.abs(res - np.float32(median(res))))
    if sigma > ROUGH * spread and _tight(smooth, v - np.take(smooth, at), coef, y, x, level, sign, spread):
        # A tight crop: ink crosses the border, the surface would bend through it. One level: the paper near the
        # median. Its noise is what the 3x3 blur removes there: the spread of levels would count the strokes'
        # blurred edges as noise, and the cut at NOISE_SIGMAS of them would break thick blurry strokes apart.
        near = at[np.abs(v - np.float32(level)) <= spread / 2]
        if near.size == 0:  # a border half ink, half paper (a form's box lines): its median is neither; paper's half
            near = at[sign * (np.float32(level) - v) <= 0]
        at_level = median(np.take(grey, near))
        noise = np.take(grey, near) - np.take(smooth, near)
        noise = WHITE * 1.4826 * median(np.abs(noise - np.float32(median(noise))))
        if _shaded(_inks(smooth, at_level, sign, noise), FAINT):
            surface = _surface(coef, y, x)
            inks = _inks(smooth, surface, sign, sigma)
            if not _shaded(inks, CLEAN, BROAD) and _kept(inks) >= KEPT:
                return surface, sigma, sign  # a page: the surface takes out the faint ink the level left
        return np.float32(at_level), noise, sign
    return _surface(coef, y, x), sigma, sign


def _surface(coef, y, x):
    """The TERMS' sum over the picture's (y, x) grid, as an outer product plus row and column terms."""
    c0, c1, c2, c3, c4, c5 = coef
    surface = np.multiply.outer(c4 * y, x)
    surface += (c0 + c2 * y + c5 * y * y)[:, None]
    surface += (c1 * x + c3 * x * x)[None, :]
    return surface


def _inks(smooth, paper, sign: int, sigma: float):
    """(the strong ink: a third of the contrast or more; the ink past the noise cut for `sigma`), 8-bit masks of how
    far the picture lies from the `paper` (one level, or a surface) towards the ink."""
    off = np.subtract(smooth, paper) if sign < 0 else np.subtract(paper, smooth)
    cut = max(NOISE_FLOOR, NOISE_SIGMAS * sigma)
    return cv2.compare(off, float(off.max()) / 3, cv2.CMP_GE), cv2.compare(off, cut, cv2.CMP_GT)


def _shaded(inks, share: float, wide: int = 1) -> bool:
    """Whether `inks` (_inks) hold faint ink (past the cut, not strong), in patches at least `wide` px across, over
    more than `share` of the strong ink's pixels."""
    strong, past = inks
    faint = cv2.subtract(past, strong)
    faint = cv2.erode(faint, np.ones((wide, wide), np.uint8)) if wide > 1 else faint
    return cv2.countNonZero(faint) > share * cv2.countNonZero(strong)


def _kept(inks) -> float:
    """The share of the strong ink in `inks` (_inks) past the noise cut."""
    strong, past = inks
    return cv2.countNonZero(cv2.bitwise_and(strong, past)) / max(1, cv2.countNonZero(strong))


def _darker(smooth) -> bool:
    """Whether the picture, less its mean over squares of LOCAL its shorter side (the light's slope, a bright side and
    a dim one, is in that mean; thin strokes hardly), reaches CLEARLY x further below it than above: dark ink after
    all, the light's own slope having made a side of paper look like light ink (faint pencil under uneven light: a
    wedge of paper read, refused). Only from light ink to dark, and not by a surface fitted to the border: a tight
    crop's light ink on the border bends that surface, and 12 white-on-black crops were taken for dark ink so."""
    side = max(3, int(LOCAL * min(smooth.shape)) | 1)
    low, high = cv2.minMaxLoc(smooth - cv2.blur(smooth, (side, side), borderType=cv2.BORDER_REPLICATE))[:2]
    return -low >= CLEARLY * high


def _tight(smooth, blurred_off, coef, y, x, level, sign, spread):
    """Whether ink crosses >= TIGHT_SIDES edges: more than spread/2 off the border's median there, and off the fitted
    surface by more than the noise and 1/TIGHT_CUT of the contrast. A shaded page's edges are off the median too, but
    the surface follows them. blurred_off: what the 3x3 blur removes at the border samples (their noise)."""
    if _sides(smooth, level, sign, spread / 2) < TIGHT_SIDES:
        return False
    c0, c1, c2, c3, c4, c5 = coef
    edges = (c0 - c2 + c5 + (c1 - c4) * x + c3 * x * x, c0 + c2 + c5 + (c1 + c4) * x + c3 * x * x,  # top, bottom,
             c0 - c1 + c3 + (c2 - c4) * y + c5 * y * y, c0 + c1 + c3 + (c2 + c4) * y + c5 * y * y)  # left, right
    noise = WHITE * 1.4826 * median(np.abs(blurred_off - np.float32(median(blurred_off))))
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
def border(h, w):
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


def median(v):
    """float(np.median(v)) for a 1-D float32 array, without np.median's overhead (8x slower here)."""
    part = np.partition(v, k := len(v) // 2)
    return float(part[k] if len(v) % 2 else (part[:k].max() + part[k]) / np.float32(2))
