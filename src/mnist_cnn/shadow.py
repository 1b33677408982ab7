"""A shadow with a sharp edge across a photo of a row of digits (a hand's or a phone's): no smooth paper surface
follows a step, and the shade would be one huge stroke. A step of images.ink_map, and of images.candidates' further
readings of one digit (not of to_mnist's own), for dark ink only: dark paper shows a shade far less, and bold light
strokes cropped tight look like one.

    paper, sigma = shadow.paper(grey, smooth, fitted, cut, sigma)   # the fitted paper, or the picture closed
    shades = shadow.papers(grey, smooth, fitted, cut)               # [] or [closed, median]: (paper, sigma) each
    sign = shadow.polarity(smooth, level, dark, light)               # +1: dark ink (a shadow's lit side is no ink)

Grey morphology (OpenCV), not a finer surface: closing by a square wider than the strokes takes them out and keeps
the shade, edge and all.
"""

import cv2
import numpy as np

RIM = 0.1  # the fitted paper off the picture's edges over 10% of them may be a shadow's (a row of digits
# crosses them nowhere; a digit cropped tight in a few strokes' widths)...
WIDE = 1 / 4  # ...when the picture closed by a square this share of its shorter side (wider than any stroke)...
AREA = 0.1  # ...still parts from the fitted paper over 10% of it: then the paper is the picture closed by a square...
SQUARE = 1 / 8  # ...this share of its side, which follows the edge closer (`tools/read_eval.py`-style numbers under a
# sharp shadow, 40 of them: 0 read with the fitted paper, 38 with this, 35 at 1/4)
MEDIAN = 1 / 6  # one digit's second shade reading: the median over a square this share of the side (diagonal shades
# in a probe: 0 -> 8 of 10 read; `mnist-cnn evalset`'s photo-shadow 139 -> 143 of 150 alone, `fast`; 1/8 and 1/4
# read 7 and 0 of the 10; docs/reading.md, "A shadow across one digit")
BOTH = 0.5  # the picture reaches both ways from the border's level, the nearer extreme at least half as far: the ink
# is the side with SPARSE x fewer pixels past half of its way (a shadow over most of the border: its lit paper is the
SPARSE = 2.0  # far side; `evalset`: form cells 2.9-4.6x; tight crops and low-res digits flipped wrong at 1.0-1.6x)
SPECK = 0.02  # ...but brown paper's light mottles (kraft, cardboard) are sparse too: light pixels of which under
COHERENT = 0.8  # 80% lie in pieces of (2% of the shorter side)^2 or more are a texture, and dark ink as coherent, in
# pieces clear of the picture's edges, is the ink (a probe's red, blue and black digits on kraft: 0.21-0.70, every one
# refused or misread as light ink; `evalset`'s lit sides of shadows, light ink and tight crops: 0.94 or more; thin
# dark strokes can be under 0.1). A review's grainy chalk beside a board's dark frame, a shadow or a sponge's band
# (0.52-0.74) flipped to dark ink in 4 of 610 pictures while the dark side counted its pieces at the edges; 2 now


def paper(grey, smooth, fitted, cut: float, sigma: float):
    """(paper, noise sigma) under dark ink: `fitted` and `sigma` as they are, or the shade's. grey, smooth: the picture
    and its 3x3 blur, (H, W) float32; fitted: paper_surface.fit's surface or level; cut: the least contrast
    that is ink (not from the fit's noise, which a surface bent into a shade's step inflates)."""
    return _as_paper(grey, _closed(smooth, SQUARE), cut) if found(smooth, fitted, cut) else (fitted, sigma)


def papers(grey, smooth, fitted, cut: float, always: bool = False) -> list:
    """One digit's shade readings (images.candidates): [] without a shade, else (paper, sigma) of the picture closed
    (as `paper`) and of its median over a square of MEDIAN its shorter side, which follows a soft slanted edge where
    the closing leaves a wedge of shade for ink (the knee of its step, filled), but rounds a shade's corner. always:
    both, shade or not (images.more_readings: light falling off too steeply for the fitted surface)."""
    if not always and not found(smooth, fitted, cut):
        return []
    return [_as_paper(grey, _closed(smooth, SQUARE), cut), _as_paper(grey, _median(smooth, MEDIAN), cut)]


def found(smooth, fitted, cut: float) -> bool:
    """Whether the fitted paper parts from the picture's edges (RIM) and from the picture closed (WIDE, AREA)."""
    rim = np.concatenate([smooth[0], smooth[-1], smooth[:, 0], smooth[:, -1]])
    level = fitted if np.ndim(fitted) == 0 else np.concatenate([fitted[0], fitted[-1], fitted[:, 0], fitted[:, -1]])
    if np.count_nonzero(np.abs(level - rim) > cut) <= RIM * rim.size:
        return False
    return np.count_nonzero(np.abs(fitted - _closed(smooth, WIDE)) > cut) > AREA * smooth.size


def _as_paper(grey, shade, cut: float):
    """(shade, the noise sigma of the picture around it)."""
    off = (grey - shade).ravel()
    near = off[np.abs(off) < cut]
    return shade, (1.4826 * float(np.median(np.abs(near - np.median(near)))) if near.size else 0.0)


def polarity(smooth, level: float, dark: float, light: float) -> int:
    """+1 when the ink is darker than the paper at the border's `level`, else -1: the extreme further from it (dark,
    light: how far the blurred picture `smooth` reaches below and above it), unless both reach far (BOTH) and one side
    has SPARSE x fewer pixels past half its way: that side (ink is sparse; a shadow's lit side is not), unless it is
    the light side in specks (COHERENT) and the dark side's pieces clear of the picture's edges are not in specks (dark
    ink on brown paper's light mottles)."""
    further = 1 if dark > light else -1
    if min(dark, light) < BOTH * max(dark, light):
        return further
    darker_mask = cv2.compare(smooth, float(level - dark / 2), cv2.CMP_LT)
    lighter_mask = cv2.compare(smooth, float(level + light / 2), cv2.CMP_GT)
    darker, lighter = cv2.countNonZero(darker_mask), cv2.countNonZero(lighter_mask)
    if SPARSE * darker < lighter:
        return 1
    if SPARSE * lighter < darker:
        speck = (SPECK * min(smooth.shape)) ** 2
        return 1 if _coherent(lighter_mask, speck) < COHERENT <= _coherent(darker_mask, speck, inside=True) else -1
    return further


def _coherent(mask, speck: float, inside: bool = False) -> float:
    """The share of `mask`'s pixels in 8-connected pieces of at least `speck` pixels (inside: of its pieces clear of
    the picture's edges)."""
    stats = cv2.connectedComponentsWithStats(mask, connectivity=8)[2][1:]
    if inside:
        x, y, w, h = (stats[:, k] for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
        stats = stats[(x > 0) & (y > 0) & (x + w < mask.shape[1]) & (y + h < mask.shape[0])]
    areas = stats[:, cv2.CC_STAT_AREA]
    return float(areas[areas >= speck].sum()) / max(1, int(areas.sum()))


def _median(smooth, share: float):
    """The picture's median over a square of `share` its shorter side, at most 255 px (OpenCV's on 8 bits, whose
    histograms count to 255^2), blurred."""
    side = min(255, max(3, int(share * min(smooth.shape)) | 1))
    out = cv2.medianBlur(np.clip(smooth * 255 + 0.5, 0, 255).astype(np.uint8), side).astype(np.float32) / 255
    return cv2.blur(out, (3, 3), borderType=cv2.BORDER_REPLICATE)


def _closed(smooth, share: float):
    """The picture without its dark strokes: closed by a square of `share` its shorter side, blurred."""
    side = max(3, int(share * min(smooth.shape)) | 1)
    out = cv2.morphologyEx(_extended(smooth, p := side // 2 + 1), cv2.MORPH_CLOSE, np.ones((side, side), np.uint8),
                           borderType=cv2.BORDER_REPLICATE)[p:-p, p:-p]
    return cv2.blur(out, (3, 3), borderType=cv2.BORDER_REPLICATE)


def _extended(a, p: int):
    """`a` with p pixels more on each side, its slope carried on (a point reflection through its edge): light
    falling off towards an edge stays falling off past it. Replicated or mirrored, the edge is a valley that a
    closing fills, and the paper there comes out brighter than it is: a strip of false ink along a vignette's edge."""
    edge = cv2.copyMakeBorder(a, p, p, p, p, cv2.BORDER_REPLICATE)
    return cv2.addWeighted(edge, 2, cv2.copyMakeBorder(a, p, p, p, p, cv2.BORDER_REFLECT_101), -1, 0)
