"""A fold across a photo of dark ink: a straight step in the paper's light running off the picture at both ends (one
facet turned from the light, darkening towards the crease), the crease a thin dark line along it. No one surface
follows the step, and a closing fills the slope into it: a band of false ink along the crease, and the crease a
line through the digit (`predict` refused 26 of 28 photographed digits with a fold across them). Here each side of
the step gets its own paper surface, and the crease's faint line is paper too.

    paper, sigma = fold.paper(grey, smooth, cut)   # or None without a fold; as shadow.paper's
    nx, ny, c = fold.find(smooth)                  # the crease: nx x + ny y = c, in pixels; or None

A reading of `predict`'s second look at a refused picture (images.more_readings) and of `read`'s (images.fold_map).
Hand-written on OpenCV's morphology, Sobel filter and Hough transform: no library fits paper lit in two facets.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import lone_lines, paper_surface, shadow

LEAST_SIDE = 200  # px: a smaller picture is no photo of a folded sheet (an icon's outline looked like a crease)
SMALL = 200  # px: the step is looked for in the picture shrunk to about this on its shorter side, closed (no strokes)
STEP = 0.01  # where it changes by 1% of white a pixel or more (mottled paper: 99% of its pixels under 0.4%)...
PEAK = 2.0  # ...and twice as steeply as on average in the AROUND x AROUND pixels round it (a vignette's fall is as
AROUND = 11  # steep all along)...
RING = 2  # ...but for the RING pixels along the picture's edges (the closing's own edges)...
DENSE = 0.4  # ...on a straight line, its pixels (within NEAR px of it) 40% of its length in the picture or more (a
COVER = 0.8  # digit on it breaks it), spread over 80% of that length: from near one edge to near the other
NEAR = 1.5
SEGMENTS, ALONG = 8, 8  # the crease then fitted again to its dip in 8 stretches, the median of 8 profiles across each
DIP = 0.02  # a dip 2% of white deep in a stretch's profile is the crease; else its steepest step is...
CREASED = 0.5  # ...but without a dip in half the stretches the step is no fold
EVEN = 0.7  # and the two sides' paper along the crease within 70-100% of each other's light (a sheet's edge on a desk:
# a dark desk)
SAMPLES = 20_000  # pixels sampled to fit each side's paper surface (paper_surface's 6 terms)
GAP = 0.02  # of the shorter side: samples this near the crease are left out of the fits (its line and highlight)
ROUNDS = 4  # fits of each side's surface, each leaving out what the last shows to be ink (darker than NOISE x sigma)
NOISE = 3.0
LEAST = 60  # samples on each side, or no fold is fitted (10 per term)...
PAPER = 0.6  # ...and 60% of them or more paper, not ink
FAINT = 0.5  # within REACH of the crease, the picture darker than a side's paper by under half the strongest ink is
REACH = 0.01  # the crease's, not a pen's (of the shorter side, + 2 px)


def paper(grey, smooth, cut: float):
    """(paper, noise sigma) with each side of a fold's step fitted apart and its crease taken for paper, or None
    without a fold. grey, smooth: the picture and its 3x3 blur, (H, W) float32; cut: the least contrast that is ink."""
    if (found := find(smooth)) is None:
        return None
    nx, ny, c = found
    h, w = grey.shape
    y, x = np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32)
    off = np.add.outer(ny * y, nx * x) - np.float32(c)  # signed distance to the crease, px
    step = max(1, int(np.sqrt(h * w / SAMPLES)))
    at = off[::step, ::step]
    gap = GAP * min(h, w)
    surface, on = np.empty_like(smooth), np.abs(off) <= 1
    levels = []
    for mine, side in ((at > gap, off > 0), (at < -gap, off <= 0)):
        rows, cols = np.nonzero(mine)
        if len(rows) < LEAST:
            return None
        rows, cols = rows * step, cols * step
        if (coef := _fit(x[cols] / w, y[rows] / h, smooth[rows, cols])) is None:
            return None
        fitted = paper_surface._surface(coef, y / h, x / w)
        levels.append(float(np.median(fitted[on])) if on.any() else 0.0)
        np.copyto(surface, fitted, where=side)
    if min(levels) < EVEN * max(levels):
        return None
    dark = surface - smooth
    reach = REACH * min(h, w) + 2
    # The crease: faint, and paper beyond it on both sides (a stroke crossing it, faint or not, is no crease)
    crease = (np.abs(off) <= reach) & (dark < FAINT * float(dark.max()))
    for d in (2 * reach, -2 * reach):  # dark sampled at (x, y) + d (nx, ny)
        crease &= cv2.warpAffine(dark, np.float32([[1, 0, -d * nx], [0, 1, -d * ny]]), (w, h),
                                 flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE) < cut
    np.copyto(surface, np.minimum(smooth, grey), where=crease)  # no ink left there
    return shadow._as_paper(grey, surface, cut)


def find(smooth):
    """A fold's crease across the picture (its 3x3 blur `smooth`): (nx, ny, c), where nx x + ny y = c in pixels
    ((nx, ny) a unit vector), or None without one."""
    if min(smooth.shape) < LEAST_SIDE or (found := _step(smooth)) is None:
        return None
    return _refined(smooth, *found)


def _step(smooth):
    """The strongest straight step across the picture running off it at both ends, as (nx, ny, c, k) found in k x k
    blocks; None without one."""
    h, w = smooth.shape
    k = -(-min(h, w) // SMALL)
    small = cv2.resize(smooth, (w // k, h // k), interpolation=cv2.INTER_AREA) if k > 1 else smooth
    closed = shadow._closed(small, shadow.SQUARE)
    gx, gy = (cv2.Sobel(closed, cv2.CV_32F, dx, 1 - dx, ksize=3) / 8 for dx in (1, 0))  # 8: a Sobel's gain
    sh, sw = small.shape
    slope = cv2.magnitude(gx, gy)
    # A step, not a slope: steep, and PEAK x steeper than around it (a vignette's fall is as steep all along)
    around = cv2.blur(slope, (AROUND, AROUND), borderType=cv2.BORDER_REPLICATE)
    mask = cv2.bitwise_and(cv2.compare(slope, STEP, cv2.CMP_GT), cv2.compare(slope, PEAK * around, cv2.CMP_GT))
    mask[:RING], mask[-RING:], mask[:, :RING], mask[:, -RING:] = 0, 0, 0, 0  # the closing's edges: no step there
    found = cv2.HoughLines(mask, 1, np.pi / 360, max(2, int(DENSE * min(sw, sh))))
    if found is None:
        return None
    ys, xs = np.nonzero(mask)
    for rho, theta in found[:lone_lines.HOUGH, 0]:
        c, s = np.cos(theta), np.sin(theta)
        mine = np.abs(xs * c + ys * s - rho) <= NEAR
        along = ys[mine] * c - xs[mine] * s
        chord = np.subtract(*_ends(c, s, rho, sw, sh)[::-1])
        if np.count_nonzero(mine) >= DENSE * chord and np.ptp(along) >= COVER * chord:
            points = np.column_stack([xs[mine], ys[mine]]).astype(np.float32)
            vx, vy, cx, cy = cv2.fitLine(points, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
            cx, cy = (cx + 0.5) * k - 0.5, (cy + 0.5) * k - 0.5  # block centres in pixels
            return float(-vy), float(vx), float(-vy * cx + vx * cy), k
    return None


def _refined(smooth, nx: float, ny: float, c: float, k: int):
    """The crease (nx, ny, c) found in k x k blocks, fitted again in the picture's pixels: along SEGMENTS stretches of
    it, the median profile across it within 2k + 2 px, its dip (a black top-hat's peak) or else its steepest step; a
    line through those (Theil-Sen: a digit across a stretch or two moves it not). None when under CREASED of the
    stretches dip."""
    h, w = smooth.shape
    t = np.linspace(*_ends(nx, ny, c, w, h), SEGMENTS * ALONG, dtype=np.float32)[:, None]
    s = np.arange(-(r := 2 * k + 2), r + 1, dtype=np.float32)[None, :]
    px, py = c * nx - t * ny + s * nx, c * ny + t * nx + s * ny
    profiles = cv2.remap(smooth, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    profiles = np.median(profiles.reshape(SEGMENTS, ALONG, -1), axis=1).astype(np.float32)
    dips = cv2.morphologyEx(profiles, cv2.MORPH_BLACKHAT, np.ones((1, 7), np.uint8), borderType=cv2.BORDER_REPLICATE)
    steps = np.abs(np.gradient(profiles, axis=1))
    if np.count_nonzero(dipped := dips.max(1) >= DIP) < CREASED * SEGMENTS:
        return None  # a step with no crease along it: a shadow's edge, a thing's outline, the desk beyond the sheet
    at = np.where(dipped, dips.argmax(1), steps.argmax(1)) - r
    mid = t.reshape(SEGMENTS, ALONG).mean(1)
    i, j = np.triu_indices(SEGMENTS, 1)
    slope = float(np.median((at[j] - at[i]) / (mid[j] - mid[i])))
    shift = float(np.median(at - slope * mid))
    # the new line through its points at t = 0 and t = 1: c n + t (-ny, nx) + (slope t + shift) n
    ax, ay = (c + shift) * nx, (c + shift) * ny
    dx, dy = -ny + slope * nx, nx + slope * ny
    norm = np.hypot(dx, dy)
    nx2, ny2 = -dy / norm, dx / norm
    return float(nx2), float(ny2), float(nx2 * ax + ny2 * ay)


def _ends(nx: float, ny: float, c: float, w: int, h: int):
    """Where the line nx x + ny y = c enters and leaves a w x h picture, as t along (-ny, nx) from c (nx, ny); (0, 0)
    if it misses it."""
    t = np.linspace(-(d := np.hypot(w, h)), d, int(4 * d))
    x, y = c * nx - t * ny, c * ny + t * nx
    t = t[(x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)]
    return (float(t.min()), float(t.max())) if t.size else (0.0, 0.0)


def _fit(x, y, v):
    """A quadratic surface's 6 coefficients fitted to samples v at (x, y), leaving out ink (darker) in rounds; None
    when under PAPER of the samples are kept (a thing's dark body, no sheet of paper)."""
    # Normal equations by einsum, not lstsq: multi-threaded OpenBLAS collides with TensorFlow's threads (paper_surface)
    a = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y]).astype(np.float64)
    keep, coef = np.ones(len(v), bool), np.zeros(6)
    for _ in range(ROUNDS):
        ak = a[:, keep]
        gram = np.einsum("in,jn->ij", ak, ak) + paper_surface.RIDGE * np.eye(6)
        coef = np.linalg.solve(gram, np.einsum("in,n->i", ak, v[keep]))
        res = v - np.einsum("in,i->n", a, coef)
        sigma = 1.4826 * np.median(np.abs(res[keep] - np.median(res[keep])))
        keep = res > -NOISE * max(float(sigma), 1e-3)
        if np.count_nonzero(keep) < LEAST:
            break
    return coef.astype(np.float32) if np.count_nonzero(keep) >= PAPER * len(v) else None
