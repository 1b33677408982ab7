"""A sheet of paper photographed on a darker desk: the desk all round the sheet is not the paper. Found before the
paper is fitted (images.py), so that the fit sees the sheet's own border.

    part, turn, holes = sheet.cut(grey)   # the sheet alone (turned level), turn: picture -> part pixels (2x3, or
                                          # 3x3 for a keystoned sheet), the share of its area in holes; or None
    part, turn, holes = sheet.plate(grey) # a dark plate on a lighter wall, as cut's sheet of the picture inverted

OpenCV: Otsu's threshold splits sheet from desk, a closing mends the sheet where printed lines cut it up, connected
components find the sheet, a flood fill closes the digits' holes in it.
"""

import cv2
import numpy as np

DESK = 0.6  # the picture's edges at least 60% on the dark side of Otsu's threshold: a desk all round...
MARGIN = 0.025  # ...each edge's line taken as the darkest of its outer 2.5% (a form's box 1-4 px in from a 200 px crop)
SHEET = 0.25  # ...and one light region touching at most one edge, its holes filled, at least 25% of the picture...
NOTE = 0.05  # ...or, in a photo (no canvas even all round), at least 5% of it with writing on it: a sticky note
WRITTEN = 0.005  # on a desk, WRITTEN of it or more in holes (a light bar, a bold white 1, has none), its rim dented
DENT = 0.03  # by at most DENT of its short side (the lit part of a sheet half in a sharp shadow: its edge cuts the
# writing)...
SOLID = 0.9  # ...filling at least 90% of its turned box (a digit's strokes, a bold 0 with its hole filled: ~80%)...
HOLES = 0.35  # ...with at most 35% of it in holes: the writing on a sheet; a lone 0 cropped tight is mostly hole
LINES = 0.02  # ruled or squared lines up to 2% of the picture's short side thick are closed over: they cut the sheet up
INSET = 0.03  # the sheet's edge, shaded and blurred, is no ink: this share of its short side is left out all round
TURNED = 1.0  # degrees: a sheet turned more is turned level (its ruled lines then run across its whole box)
HOLED = 0.1  # a "sheet" without ink on it and over 10% of it in holes is a bold light mark, read whole (images.py;
# MNIST test 0s 8077, 8513, white on black: holes 14 and 30%, were "no digit found"); a blank sheet has none
EDGE = 2  # px: a sheet's corner this near the picture's edge may be where the edge cuts the sheet (_cut_off)
QUAD = 0.02  # a sheet photographed from a slant (keystoned) fills too little of its turned box: its hull within 2% of
# its perimeter of four corners, filled SOLID, and holed at most HOLED (a bold light 0, its hole filled, is no sheet),
# is mapped to a rectangle. Keystoned sheets on a desk: 32 of 40 refused as "not a digit" before (their desk as ink).
PLATE_INK = 0.02  # a dark plate on a lighter wall (a house number, a label, a screen in dark mode) is cut as the sheet
# of the picture inverted when its light writing fills at least 2% of it (a marker's bold bar holds none); a blocky
# bold 0 or 8 on paper is such a "plate" too, its hole the writing, so images.py reads plates only as a second look at
# a picture refused (`predict`), or refused or read as several digits on the plate (`read`: images.ON_PLATE)
OVAL = 0.05  # a round or oval plate (a disc fills 79% of its box, under SOLID) fills the ellipse fitted to its rim
# within 5% of its area (a drawn disc: 0.3%; a rounded square: 6-9%)...
ROUND = 0.9  # ...and is no flatter than this (a disc seen 25 degrees askew: 0.91): bold digits touching, cropped tight
# (00, 06, 90: 1.5-2x as wide as tall) and bold 0s with a slit for a hole (0.8-0.9) are such ovals, their holes read as
# a 1 or a 0 at `predict`'s second look (reviews; docs/images.md, "A digit on a dark plate")


def cut(grey: np.ndarray, oval: bool = False):
    """grey: (H, W) float32 in [0, 1]. The sheet lying on a darker desk, cut out: (part, turn, holes), part the sheet
    alone, turn the 2x3 affine map from the picture's pixels (x, y) to part's, holes the share of the sheet's area in
    holes (dark writing on it); or None (no desk showing: the picture is the sheet, or a drawing on one level). A
    sheet turned over TURNED degrees is turned level (bilinear); a keystoned one mapped to its rectangle (turn: a 3x3
    perspective map); else part is its box, the desk left in its corners painted the sheet's median, and turn a shift
    by whole pixels. oval: a round or oval sheet too (_oval; a plate, never paper: a bold light 0, its hole filled,
    is one)."""
    h, w = grey.shape
    if min(h, w) < 16:
        return None
    u8 = (grey * 255).astype(np.uint8)
    m, k = max(1, round(MARGIN * min(h, w))), 2 * int(LINES * min(h, w) / 2) + 1  # the edges' depth; the closing's
    canvas = _edge_level(u8, m)
    if canvas is not None and _canvas_without_sheet(u8, canvas, k):
        return None
    smallest = SHEET if canvas is not None else NOTE  # a drawing app's canvas, even all round, holds no sticky note
    _, light = cv2.threshold(u8, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    dark = 2 * (h + w) - sum(int(side.sum(axis).min()) for side, axis in
                             ((light[:m], 1), (light[-m:], 1), (light[:, :m], 0), (light[:, -m:], 0)))
    # Only a light sheet on a darker desk: a bold dark digit cropped tight is a dark "sheet" on light "desk" too.
    if dark < DESK * 2 * (h + w):
        return None
    on_sheet = cv2.morphologyEx(light, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    # The sheet's region holds >= (1 - HOLES) of its filled area, >= SHEET of the picture: too little light, no sheet
    # (a white-on-black drawing's strokes; skips the labelling, half of such a drawing's preprocessing time)
    if cv2.countNonZero(on_sheet) < (1 - HOLES) * smallest * h * w:
        return None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(on_sheet, connectivity=8)
    if n < 2:
        return None
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, bw, bh = stats[k, :4]
    # a light stroke running off the picture, no sheet
    if sum(map(int, (x == 0, y == 0, x + bw == w, y + bh == h))) > 1:
        return None
    region, filled = with_holes_filled(labels[y:y + bh, x:x + bw] == k)
    area = np.count_nonzero(filled)
    rim_points = max(cv2.findContours(filled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0], key=len)
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(rim_points)  # the sheet's rectangle, turned as it lies
    holes = (area - np.count_nonzero(region)) / area
    if area < smallest * h * w or area < SHEET * h * w and (holes < WRITTEN or _dented(rim_points, min(rw, rh))) \
            or holes > HOLES:
        return None
    # OpenCV gives the angle of a side; the turn to level is the nearest multiple of 90 away
    tilt = angle - 90 * (quarter := round(angle / 90))
    solid = area >= SOLID * rw * rh
    # Keystoned, or turned: its four corners, else its turned box; a square sheet running off the picture its box
    within = 0 < x and 0 < y and x + bw < w and y + bh < h
    if not solid or abs(tilt) > TURNED:
        corners = _corners(rim_points, area) if holes <= HOLED and (within or not solid) else None
        if corners is not None and not _cut_off(corners + np.float32([x, y]), w, h):
            return (*_unskewed(grey, corners + np.float32([x, y])), holes)
        if not solid:
            return _oval(grey, filled, (x, y), rim_points, area, holes) if oval else None
        return (*_levelled(grey, (cx + x, cy + y), (rh, rw) if quarter % 2 else (rw, rh), tilt), holes)
    boxed = _boxed(grey, filled, (x, y), min(rw, rh))
    return None if boxed is None else (*boxed, holes)


def with_holes_filled(mask):
    """The region (uint8), and it with its holes filled: the background flooded from the border, what the flood cannot
    reach are the region's holes."""
    region = mask.astype(np.uint8)
    outside = np.pad(region, 1)
    cv2.floodFill(outside, None, (0, 0), 2)
    return region, (outside[1:-1, 1:-1] != 2).view(np.uint8)


def _dented(rim, short: float) -> bool:
    """Whether the rim has a dent deeper than DENT of the region's short side: writing cut by the region's edge."""
    hull = cv2.convexHull(rim, returnPoints=False)
    try:
        defects = cv2.convexityDefects(rim, hull) if len(hull) > 3 else None
    except cv2.error:  # a rim that crosses itself: no clean outline
        return True
    return defects is not None and defects.size > 0 and float(defects.reshape(-1, 4)[:, 3].max()) / 256 > DENT * short


def plate(grey: np.ndarray):
    """cut's answer for a dark plate lying on a lighter wall, rectangular, round or oval: the sheet of the picture
    inverted, its part inverted too (the plate's light writing dark on light, as on a sheet), when writing fills
    PLATE_INK of it or more; else None."""
    inverted = np.float32(1) - grey
    if (found := cut(inverted, oval=True)) is None:
        return None
    # cut's holes are the writing left by its closing, which closes a fine pen's strokes over as it does ruled lines:
    # the writing is also the plate's pixels on the wall's side of Otsu's threshold, but for those touching the part's
    # edge (the wall in a turned box's corners: a marker's bar with round ends) (a thin-lettered 61 on a 170 px plate:
    # 4% of it, none left by the closing)
    threshold, _ = cv2.threshold((inverted * 255).astype(np.uint8), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    _, _, stats, _ = cv2.connectedComponentsWithStats((found[0] * 255 < threshold).view(np.uint8), connectivity=8)
    x, y, w, h, area = stats[1:].T
    inside = (x > 0) & (y > 0) & (x + w < found[0].shape[1]) & (y + h < found[0].shape[0])
    return found if max(found[2], area[inside].sum() / found[0].size) >= PLATE_INK else None


def _edge_level(u8, m: int):
    """The one level of a canvas even all round (its outer m rows and columns all at it, something else inside), or
    None: a drawing app's, never a photo's."""
    lo, hi = cv2.minMaxLoc(u8)[:2]
    levels = {cv2.minMaxLoc(side)[:2] for side in (u8[:m], u8[-m:], u8[:, :m], u8[:, -m:])}
    if lo == hi or len(levels) > 1 or (level := levels.pop())[0] != level[1]:
        return None  # one level (Otsu's threshold is 0 then), or no even canvas
    return level[0]


def _canvas_without_sheet(u8, level: int, k: int) -> bool:
    """Whether cut's answer is None for a drawing on a canvas at `level` all round (_edge_level), found without
    Otsu's threshold t and the closing (2/3 of cut's time on a 280x280 drawing), whatever t is. A canvas at the
    highest level: t below it leaves the picture light all round (no desk), t at it no light at all. At the lowest:
    t below it is that no-desk case, else the light is within the pixels above it, and their k x k dilation holds the
    light's closing (the erosion of its dilation, by a kernel holding its centre), so fewer of them than cut asks for
    leave too little light for a sheet. (t is usually in [lowest, highest): but stays 0 when every split leaves a
    class under FLT_EPSILON of the picture, a single pixel off the canvas's level in a 3000x3000 one.)"""
    lo, hi = cv2.minMaxLoc(u8)[:2]
    if level == hi:
        return True
    if level != lo:
        return False
    above = cv2.dilate(cv2.compare(u8, lo, cv2.CMP_GT), np.ones((k, k), np.uint8))
    h, w = u8.shape
    return cv2.countNonZero(above) < (1 - HOLES) * SHEET * h * w  # as cut computes it, rounding and all


def _oval(grey, filled, at, rim, area: float, holes: float):
    """cut's answer for a round or oval sheet (a plate): one filling the ellipse fitted to its rim within OVAL, its box
    with the wall round it painted its median (_boxed); else None."""
    if len(rim) < 5:
        return None
    _, (ew, eh), _ = cv2.fitEllipse(rim)
    if abs(area - np.pi / 4 * ew * eh) > OVAL * area or min(ew, eh) < ROUND * max(ew, eh):
        return None
    boxed = _boxed(grey, filled, at, min(ew, eh))
    return None if boxed is None else (*boxed, holes)


def _boxed(grey, filled, at, short: float):
    """cut's (part, turn) for a sheet lying level: its box INSET of its `short` side in from its edges, the desk left
    in the corners painted the sheet's median; `filled`: the sheet's region (holes filled) in its box at `at` (x, y)."""
    d = 2 * int(INSET * short) + 1
    inside = cv2.erode(filled, np.ones((d, d), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0).view(bool)
    rows, cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
    if rows.size == 0:
        return None
    inside = inside[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    y0, x0 = at[1] + rows[0], at[0] + cols[0]
    part = grey[y0:y0 + inside.shape[0], x0:x0 + inside.shape[1]].copy()
    part[~inside] = np.median(part[inside])
    return part, np.float64([[1, 0, -x0], [0, 1, -y0]])


def _levelled(grey, centre, size, tilt):
    """cut's answer for a sheet turned `tilt` degrees about `centre` (x, y), `size` (w, h) when level: the sheet
    turned level, INSET of its short side in from its edges."""
    inset = INSET * min(size)
    w, h = (max(1, int(side - 2 * inset)) for side in size)
    turn = cv2.getRotationMatrix2D(centre, tilt, 1.0)
    turn[:, 2] -= (centre[0] - w / 2, centre[1] - h / 2)
    return cv2.warpAffine(grey, turn, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), turn


def _corners(rim, area: float):
    """A keystoned sheet's four corners (top-left, top-right, bottom-right, bottom-left; float32 (4, 2)) from its rim's
    points: when the rim's hull is four-sided within QUAD and the sheet fills that four-gon by >= SOLID; else None."""
    hull = cv2.convexHull(rim)
    quad = cv2.approxPolyDP(hull, QUAD * cv2.arcLength(hull, True), True).reshape(-1, 2).astype(np.float32)
    if len(quad) != 4 or area < SOLID * cv2.contourArea(quad):
        return None
    (ax, ay), (bx, by) = quad[1] - quad[0], quad[2] - quad[1]
    if ax * by - ay * bx < 0:  # clockwise on the screen (y down), as the corners are listed
        quad = quad[::-1]
    return np.roll(quad, -int(np.argmin(quad.sum(1))), axis=0)  # from the top-left: the nearest turn to level


def _cut_off(corners, w: int, h: int) -> bool:
    """Whether two or more of the corners lie on the picture's edge (within EDGE px): the sheet runs off it, the
    corners there are where the edge cuts it, and a rectangle made of them is no sheet's shape (its ruled lines came
    out sloping). One there: a sheet touching the edge."""
    x, y = corners[:, 0], corners[:, 1]
    return int(np.count_nonzero((x <= EDGE) | (y <= EDGE) | (x >= w - 1 - EDGE) | (y >= h - 1 - EDGE))) >= 2


def _unskewed(grey, corners):
    """cut's answer for a sheet with these corners in grey: the sheet mapped to its rectangle (its sides' mean
    lengths), INSET of its short side in from its edges; turn is the 3x3 perspective map from grey to it."""
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)  # top, right, bottom, left
    size = ((sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2)
    inset = INSET * min(size)
    w, h = (max(1, int(side - 2 * inset)) for side in size)
    to = np.float32([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]]) - np.float32(inset)
    turn = cv2.getPerspectiveTransform(corners, to)
    return cv2.warpPerspective(grey, turn, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), turn
