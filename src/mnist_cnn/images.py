"""Turn a person's own photo, scan or drawing of a digit into an MNIST digit.

MNIST digits are white ink on black, scaled so the ink's bounding box has a longer side of 20 px (aspect ratio kept,
anti-aliased) and shifted by whole pixels so the ink's centre of mass sits at pixel (14, 14) of a 28x28 frame.
A model trained on MNIST only works on images that look like that, so:

    img = load_image("photo.jpg")       # any format/mode Pillow reads -> "F" image in [0, 1] (imagefile.py)
    x = to_mnist(img)                   # (28, 28) float32 in [0, 1], or None if no ink
    xs = candidates(img)                # [x], or [x, readings with a shadow's shade for paper]: readings.choose
    more = more_readings(img)           # those readings, shadow or not: a refused reading's second look
    ink = ink_map(img)                  # the whole image's ink (paper removed), for finding several digits
    baseline = naive_resize(img)        # squash the whole image to 28x28, for comparison

`to_mnist` also accepts a PIL image of any mode or a 2-D array (uint8 0..255, or floats in [0, 1]):
real MNIST digits pass through essentially unchanged but for their slant, moved halfway to MNIST's median.
Its steps: `_grey` -> `_ink_and_box` (a sheet on a desk cut out, sheet.py; `paper_surface.fit`, noise cut,
`paper_lines.drop_lines`, `lone_lines.drop`, `dot_grid.drop`, `holes.drop_with_specks`) -> crop to the ink's box (in a
form's box: `drop_frame`) -> `thicken` thin lines -> 20 px box -> `_centre` -> `slant.deslant`. `ink_map` also
takes a shadow's sharp edge for paper after the fit (`shadow.paper`); `candidates` reads one digit with it too, and
`more_readings` with a fold's two papers (`fold.paper`).
Pillow decodes and resizes, OpenCV filters, NumPy does the rest: ~1 ms for a 280x280 drawing
(tools/preprocess_speed.py).
"""

import functools

import cv2
import numpy as np
from PIL import Image

from .faint_lines import faint_lines
from .imagefile import MAX_IMAGE_PIXELS, MAX_SIDE, grey as _grey, image_pixels, load_grey, load_image  # noqa: F401
from .ink_specks import COARSE, drop_specks, grid  # noqa: F401  (COARSE: tools/preprocess_ops.py)
from .paper_lines import LINE_BANDS, LINE_FILL, drop_box, drop_frame, drop_lines
from .paper_surface import NOISE_FLOOR
from . import chrome, dot_grid, fold, holes, lone_lines, paper_surface, shadow, sheet, surround
from .slant import deslant
from .thicken import stroke_width, thicken

# OpenCV, not scipy.ndimage: tools/preprocess_ops.py measured (1 thread, Xeon 4th gen) the 3x3 blur at 51 vs
# 433 us on a 280x280 drawing and 25 vs 227 ms on a 12 MP photo, disc dilation at 23 vs 362 us, labelling at
# 11 vs 44 us; block sums by area resizing take 52 us (NumPy: 487). `import cv2` costs ~20 ms, scipy.ndimage
# ~270. One thread per call: the server preprocesses several uploads at once, beside TensorFlow's threads.
cv2.setNumThreads(1)

NO_DIGIT = "no digit found"  # the answer for an image without ink, shared by predict and serve
FRAME = 28  # MNIST frame side
BOX = 20  # MNIST scales the ink's bounding box so its longer side is 20 px
CENTRE = 14.0  # mean ink centre of mass of the MNIST test set, in pixel indices (13.99, 14.00)
LIT_FIT = 4  # a surface whose noise cut is under 1/4 of the contrast is a lit page: ink is cut after dividing by it at
# the cut's share of its mean (a faint grid's rules, cut before, were ink only where bright: no whole line to drop);
# a rougher fit (bold strokes cropped tight, taken for a sheet) has low parts that are no paper: cut before dividing
LIT_EVEN = 0.7  # ...if no paper is darker than 70% of the mean: the cut stays >= 3.5 sigmas (in a deep shade: noise)
MIN_CONTRAST = 0.1  # ink weaker than 10% of full scale (after a 3x3 blur) is a blank page, not a faint digit...
LIGHT_PAPER = 0.5  # ...but on paper at least this light, dark ink under 10% of full scale is ink when it reaches 10% of
# the paper's mean and the noise cut (light multiplies: a fine pencil line on paper at 0.66-0.80 was 0.069-0.088, no
# digit; 1.4-1.9x the cut, a blank noisy page's blurred noise 0.5x; dark pages' gradients stay blank at 10% of full
# scale), in strokes no wider than 1.5% of the picture's longer side (a pencil's 1-3 px; a soft stain's 2.4-12%)
FAINT_WIDTH = 0.015
MIN_INK_PIXELS = 4  # fewer ink pixels than this is a speck, not a digit
LEFT_OVER = 40  # lines taken out and fewer ink pixels left than this, covering under LEFT_SPREAD of their box: dots
LEFT_SPREAD = 0.02  # where lines crossed, no digit (a small digit's strokes fill a third of its box; a hairline 0 at
# 200 px, 1.5% with 600 pixels)
RESAMPLE = Image.Resampling.BOX  # area averaging: how MNIST anti-aliased its binary NIST strokes; no ringing
# ...but for a digit smaller than the 20 px box, BOX repeats pixels: blocky steps the "not a digit" gate takes for
# letters (MNIST test digits written 10-13 px tall: 2.4-3.2% called not a digit, 0.7-0.9% bilinear, 1.9% at 20 px)
PALE = 0.35  # more_readings' reading without the ink apart from the strokes: pieces holding nothing of 35% of the
# strongest ink but specks (a spiral's hole rims and wire, an eraser's ghost, JPEG blotches) widen the digit's box
UPSCALE = Image.Resampling.BILINEAR  # no ringing either, unlike bicubic or Lanczos
ON_PLATE = 0.5  # a plate's writing is the picture's (plate_map) unless a digit read without it lies mostly off the
# plate: a blocky bold 0 beside another is a "plate" holding a 1 (00 read 1). Marks touching the picture's edge do not
# count, nor does ink that is no digit: a door frame, a pipe or a shadow beside a house number's plate (a review)
PLATE_RIM = 0.05  # the plate's rim, which sheet.cut leaves out (sheet.INSET: 3% of its short side), counts as on it


def to_mnist(image, desk: bool = True):
    """Return a (28, 28) float32 MNIST-style digit in [0, 1] (white ink on black), or None if no ink. desk: look for
    a sheet lying on a desk first (sheet.py); False for ink already taken off its paper (`read`'s marks: a bold mark
    on its black margin looked like a light sheet on a dark desk, and only the inside of its stroke was read)."""
    found = _ink_and_box(_grey(image), desk=desk)
    return None if found is None else _digit(*found)


def candidates(image) -> list:
    """[to_mnist(image)], and after it, when a shadow's sharp edge crosses a photo of dark ink (shadow.py), the digit
    read with the shade for its paper, two ways (shadow.papers; each None when no ink; none when the plain reading
    is None). The model chooses (readings.choose): a shade's reading only when it is sure and the plain one refused or
    less digit-like (reading tight crops, thick or blurred digits with a shade's paper cost those 4-7 points,
    `mnist-cnn evalset`)."""
    found = _ink_and_box(_grey(image), shade=BOTH)
    return [None if f is None else _digit(*f) for f in (found if isinstance(found, list) else [found])]


def more_readings(image) -> list:
    """A second look at a digit `candidates` read and the model refused: read with the picture closed and with its
    median for paper as for a shadow's edge, whether or not one was found, and with a fold's step across the picture,
    a paper each side (fold.py) (each None when no ink; none for light ink, a drawing or a sheet on a desk); before
    the fold's, without the faint ink apart from the strokes (PALE; None when no ink; also for light ink, none for a
    drawing or a sheet on a desk). Light falling off faster than the fitted surface (a lamp close by, a phone's
    vignette) leaves a wedge of paper darker than a faint pencil digit: read, refused (readings.decide_candidates).
    And, last, the light writing on a dark plate lying on a lighter wall (sheet.plate), when one is found: only here,
    for a blocky bold dark 0 or 8 on paper is such a plate too, its hole the "writing" (a review)."""
    grey = _grey(image)
    found = _ink_and_box(grey, shade=AGAIN)
    again = [None if f is None else _digit(*f) for f in found] if isinstance(found, list) else []
    if (plate := sheet.plate(grey)) is not None and (on := _on_sheet(grey, *plate[:2], False, False)) is not None:
        again.append(_digit(*on))
    return again


def plate_map(image, boxes=()):
    """ink_maps' (ink, the same with its specks) for the light writing on a dark plate lying on a lighter wall
    (sheet.plate: a house number, a label), in the whole picture's pixels; None when no plate holds ink, or when one of
    `boxes` (x0, y0, x1, y1, exclusive: the digits read without a plate) clear of the picture's edge lies under
    ON_PLATE on the plate. `read`'s second look at a picture refused or read as several digits, as more_readings'
    last reading is `predict`'s."""
    grey = _grey(image)
    if (plate := sheet.plate(grey)) is None or (on := _on_sheet(grey, *plate[:2], True, False)) is None:
        return None
    if boxes:
        reach = 2 * int(PLATE_RIM * min(plate[0].shape)) + 7  # the plate's rim, which sheet.cut leaves out, and 3 px
        near = cv2.dilate(_to_picture(np.ones(plate[0].shape, np.uint8), plate[1], grey.shape), np.ones((reach,) * 2))
        h, w = grey.shape
        for x0, y0, x1, y1 in boxes:
            if 0 < x0 < x1 < w and 0 < y0 < y1 < h and near[y0:y1, x0:x1].mean() < ON_PLATE:
                return None
    return on[0], on[2]


def _digit(ink, box):
    """The 28x28 of ink in its box (x, y, w, h): a ring, underline, frame dropped, thin lines thickened, centred."""
    x, y, w, h = box
    ink = thicken(drop_frame(surround.drop(ink[y : y + h, x : x + w]), MIN_CONTRAST), BOX)
    h, w = ink.shape
    size = (BOX, max(1, round(BOX * h / w))) if w >= h else (max(1, round(BOX * w / h)), BOX)
    # Pillow's BOX, not cv2.INTER_AREA: at scales that are no whole number OpenCV weighs a pixel cut by a box
    # edge by its part inside, Pillow in or out by its centre (outputs up to 0.07 apart).
    resample = RESAMPLE if max(h, w) >= BOX else UPSCALE
    ink = np.ascontiguousarray(ink, np.float32)  # a float32 image by frombuffer: fromarray's checks took as long as it
    box = np.asarray(Image.frombuffer("F", (w, h), ink, "raw", "F", 0, 1).resize(size, resample)).clip(0, None)
    return deslant(_centre(box / box.max()))


def ink_map(image, with_specks: bool = False):
    """The whole image's ink strength as (H, W) float32 in [0, 1]: paper, noise and specks at 0 (white ink on
    black, as `to_mnist` sees it before cropping); None if there is no ink. Used to find several digits.
    with_specks: (ink, the same before specks were dropped, on the same scale; the very same array when no speck
    was), or None: a pen's point is a speck by mass (punctuation.py looks for it)."""
    found = _ink_and_box(_grey(image), crop=False, with_specks=with_specks, shade=True)
    return None if found is None else (found[0], found[2]) if with_specks else found[0]


def ink_maps(image) -> list:
    """[ink_map(image, with_specks=True)], and after it, when a shadow's sharp edge was taken for the paper, the ink
    without that step (each None when no ink): bold strokes cropped tight look like a shade, and closing them away
    breaks the digit, so `read` reads both (read.read_image keeps the second when one digit spans the picture)."""
    found = _ink_and_box(_grey(image), crop=False, with_specks=True, shade=EACH)
    return [None if f is None else (f[0], f[2]) for f in (found if isinstance(found, list) else [found])]


def fold_map(image):
    """ink_maps' (ink, the same with its specks) with each side of a fold across the picture (or the sheet on a desk
    in it) given its own paper (fold.py); None without a fold or ink. `read`'s second look at a picture refused."""
    found = _ink_and_box(_grey(image), crop=False, with_specks=True, shade=FOLD)
    return None if found is None else (found[0], found[2])


def naive_resize(image):
    """Squash the whole image to 28x28 greyscale in [0, 1]: no inversion, cropping or centring (the baseline)."""
    return np.asarray(Image.fromarray(_grey(image)).resize((FRAME, FRAME), RESAMPLE), np.float32).clip(0, 1)


def _blur3(a):
    """3x3 mean, edge pixels repeated outwards."""
    return cv2.blur(a, (3, 3), borderType=cv2.BORDER_REPLICATE)


def _ink_and_box(grey, crop: bool = True, with_specks: bool = False, shade=False, desk: bool = True):
    """Ink in [0, 1] (paper, noise and specks at 0) and its box (x, y, w, h); None if there is no digit. crop: a
    drawing's ink only in the window around its strokes (_canvas). with_specks (whole images only, not crop): and,
    third, the ink before specks were dropped, on the same scale (the same array when none was). shade: a shadow's
    sharp edge is looked for (shadow.py): in a row of digits, whose strokes are thin beside the picture; not in one
    digit, often cropped tight, thick or blurred (1 in 6 of `mnist-cnn evalset`'s, mostly read worse); BOTH: a list
    of the answers without it and with it when one is found (else the one answer; None when the one without it
    is); EACH: with it, then without it; AGAIN: only the readings with a shade's papers (more_readings). desk: see
    to_mnist."""
    assert not (crop and with_specks), "_canvas's crop keeps no specks"
    if desk and (cut := sheet.cut(grey)) is not None:  # a sheet on a desk: the sheet's own border is the paper's...
        on = FOLD if shade is FOLD else shade in (True, EACH)
        if (found := _on_sheet(grey, *cut[:2], with_specks, on)) is not None or cut[2] < sheet.HOLED:
            return found  # ...but one with no ink on it, much of it holes, is a bold light mark: read whole
    found = _canvas(grey) if crop else _WHOLE
    if found is not _WHOLE:
        return found
    grey = chrome.painted(grey)  # a screenshot's title bar, a scan's margin: neither ink nor the paper
    # Computed in smooth's memory: on a 12 MP photo a fresh array costs as much as the arithmetic.
    smooth = _blur3(grey)
    paper, sigma, sign = paper_surface.fit(grey, smooth)  # paper: a surface or one level
    if shade is FOLD:
        folded = fold.paper(grey, smooth, MIN_CONTRAST) if sign > 0 else None
        return None if folded is None else _ink(grey, smooth, *folded, sign, with_specks)
    if shade is AGAIN:
        shades = shadow.papers(grey, smooth, paper, MIN_CONTRAST, always=True) if sign > 0 else []
        found = [_ink(grey, smooth.copy(), p, s, sign, with_specks, lines=1) for p, s in shades]
        found.append(_ink(grey, smooth.copy(), paper, sigma, sign, with_specks, floor=PALE))
        folded = fold.paper(grey, smooth, MIN_CONTRAST) if sign > 0 else None
        return found + ([] if folded is None else [_ink(grey, smooth, *folded, sign, with_specks)])
    if shade is BOTH and sign > 0 and (shades := shadow.papers(grey, smooth, paper, MIN_CONTRAST)):
        if (plain := _ink(grey, smooth.copy(), paper, sigma, sign, with_specks)) is None:
            return None  # no ink plainly: noise showed strokes with a shade's paper (a 1 at 0.95-1.0, a review)
        # A shade's paper, closed and blurred, leaves a line along the picture's sharp step: dropped though alone
        return [plain, *(_ink(grey, smooth.copy(), p, s, sign, with_specks, lines=1) for p, s in shades)]
    if shade in (True, EACH) and sign > 0:  # dark paper shows no shade; bold light strokes cropped tight look like one
        shaded, shaded_sigma = shadow.paper(grey, smooth, paper, MIN_CONTRAST, sigma)
        if shade is EACH and shaded is not paper:
            return [_ink(grey, smooth.copy(), shaded, shaded_sigma, sign, with_specks),
                    _ink(grey, smooth, paper, sigma, sign, with_specks)]
        paper, sigma = shaded, shaded_sigma
    return _ink(grey, smooth, paper, sigma, sign, with_specks)


def _ink(grey, smooth, paper, sigma: float, sign: int, with_specks: bool, lines: int = LINE_BANDS, floor: float = 0):
    """_ink_and_box's answer from the paper (a surface or one level), the noise sigma around it and the ink's sign;
    writes over smooth (grey's 3x3 blur) and paper. lines: how many bands of lines across the picture are dropped;
    floor: pieces of ink with nothing but specks at this share of the strongest or more are paper (_paler_apart)."""
    level = (cv2.mean(paper)[0] if np.ndim(paper) else float(paper)) if sign > 0 else 0.0
    contrast, cut = _contrast(paper, smooth, sign), max(NOISE_FLOOR, paper_surface.NOISE_SIGMAS * sigma)
    if contrast < MIN_CONTRAST and (level < LIGHT_PAPER or contrast < max(MIN_CONTRAST * level, cut)):
        return None
    ink = np.subtract(*((paper, grey) if sign > 0 else (grey, paper)), out=smooth)
    above = cv2.compare(ink, 0, cv2.CMP_GT)  # before the cut, which leaves faint lines in dashes (faint_lines)
    lit = sign > 0 and np.ndim(paper) and LIT_FIT * cut < contrast  # a lit page's surface, fitted well...
    if lit and (lit := cv2.minMaxLoc(paper)[0] >= LIT_EVEN * level):  # ...and lit evenly
        cut /= max(level, MIN_CONTRAST)
    else:
        cv2.threshold(ink, cut, 0, cv2.THRESH_TOZERO, dst=ink)  # keeps ink > cut
    if sign > 0:  # light multiplies: relative to the paper, one pen is as dark in shade as in sun
        ink /= np.maximum(paper, np.float32(MIN_CONTRAST), out=paper if np.ndim(paper) else None)  # paper is done
    if lit:
        cv2.threshold(ink, cut, 0, cv2.THRESH_TOZERO, dst=ink)
    box = cv2.boundingRect(cv2.compare(ink, 0, cv2.CMP_GT))  # ink > 0 stays > 0 divided by paper >= MIN_CONTRAST
    # A line spans LINE_FILL of a row (column): with narrower ink, drop_lines would find none but a frame round it all
    narrow = box[2] < LINE_FILL * ink.shape[1] and box[3] < LINE_FILL * ink.shape[0]
    framed = narrow and drop_box(ink, MIN_CONTRAST)  # in place
    lined = ink if narrow else lone_lines.drop(drop_lines(ink, MIN_CONTRAST, lines, faint_lines(above, ink)))
    dotted = dot_grid.drop(lined)  # in place: a dot-grid page's printed dots
    kept, holed = holes.drop_with_specks(lined, box, grid(ink.shape))  # a spiral binding's holes down a side
    if (count := cv2.countNonZero(kept)) < MIN_INK_PIXELS:
        return None
    # Lines taken out, and a few dots left far apart, where they crossed: no digit (a blank ruled page's margin read 1)
    if not narrow and count < LEFT_OVER:
        if count < LEFT_SPREAD * np.prod(cv2.boundingRect(cv2.compare(kept, 0, cv2.CMP_GT))[2:]):
            return None
    top = kept.max()
    if with_specks:
        lined = lined if lined is kept else np.minimum(lined / top, 1)
    kept /= top
    if floor and (kept := _paler_apart(kept, floor)) is None:
        return None
    if contrast < MIN_CONTRAST and stroke_width(kept) > FAINT_WIDTH * max(kept.shape):
        return None  # faint ink on light paper (LIGHT_PAPER) is a digit only in thin lines: a soft stain is none
    same = kept is ink and narrow and not framed and not holed and not dotted and not floor  # nothing dropped: same box
    box = box if same else cv2.boundingRect(cv2.compare(kept, 0, cv2.CMP_GT))
    return (kept, box, lined) if with_specks else (kept, box)


def _paler_apart(kept, floor: float):
    """kept (its strongest 1) without the ink apart from its strokes: pieces (8-connected) holding nothing of at least
    `floor` that is no speck (drop_specks); None when less than MIN_INK_PIXELS is left. A faint part joined to a
    stroke stays (a K's arms, a 7's bar: cut, they read 1 at 0.999, a review)."""
    strong = drop_specks(np.where(kept >= np.float32(floor), kept, np.float32(0)), grid(kept.shape))
    n, labels = cv2.connectedComponents(cv2.compare(kept, 0, cv2.CMP_GT), connectivity=8, ltype=cv2.CV_32S)
    joined = np.zeros(n, bool)
    joined[labels[strong > 0]] = True  # never 0: strong ink is ink
    kept = np.where(joined[labels], kept, np.float32(0))
    return kept / kept.max() if cv2.countNonZero(kept) >= MIN_INK_PIXELS else None


def _on_sheet(grey, part, turn, with_specks: bool, shade):
    """_ink_and_box's answer for the sheet `part` of grey (sheet.cut: `turn` maps grey's pixels to part's, a shift by
    whole pixels, the sheet turned level (2x3) or a keystoned sheet made square (3x3)), in the whole picture's
    pixels."""
    found = _ink_and_box(part, False, with_specks, shade)
    if found is None:
        return None
    whole = functools.partial(_to_picture, turn=turn, shape=grey.shape)
    ink = whole(found[0])
    box = cv2.boundingRect(cv2.compare(ink, 0, cv2.CMP_GT))
    return (ink, box, ink if found[2] is found[0] else whole(found[2])) if with_specks else (ink, box)


def _to_picture(a, turn, shape):
    """`a`, in the pixels of sheet.cut's part, in those of the whole picture (`shape`): `turn` undone."""
    warp = cv2.warpAffine if turn.shape[0] == 2 else cv2.warpPerspective
    return warp(a, turn, shape[::-1], flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


_WHOLE = object()  # _canvas: this image needs the whole-image steps
BOTH = "both"  # _ink_and_box's shade: the answers without a shadow's edge and with it (`candidates`)
AGAIN = "again"  # ...only those with the picture closed and its median for paper, shadow or not, and a fold's
# (`more_readings`)
EACH = "each"  # ...the answer with a shadow's edge (as shade=True) and without it, when one is found (`ink_maps`)
FOLD = "fold"  # ...only the answer with each side of a fold given its own paper, None without a fold (`fold_map`)


def _canvas(grey):
    """_ink_and_box's answer for a drawing (its border at one level) from the window around the pixels off that level,
    its corner on the speck grid; _WHOLE for other images, and ink wide or tall enough to hold a line."""
    v = np.take(grey, paper_surface.border(*grey.shape)[2])
    level = float(v[0])
    even = v.min() == v.max() and grey.size > 1  # (OpenCV takes a 1x1 image beside a number for two arrays)
    x, y, w, h = cv2.boundingRect(cv2.compare(grey, level, cv2.CMP_NE)) if even else (0, 0, 0, 0)
    wide = not (w < LINE_FILL * grey.shape[1] and h < LINE_FILL * grey.shape[0])
    if w == 0 or wide or chrome.pasted(grey, level, (x, y, w, h)) is not None:  # no strokes: a page in a margin
        return _WHOLE
    f = grid(grey.shape)  # 1 px of canvas around the window: the 3x3 blur's reach
    part = grey[max(0, y - 1) // f * f : y + h + 1, max(0, x - 1) // f * f : x + w + 1]
    low, high = cv2.minMaxLoc(smooth := _blur3(part))[:2]
    low, high = (low, high) if part.shape == grey.shape else (min(low, level), max(high, level))  # canvas outside
    paper, sign = np.float32(level), 1 if level - low > high - level else -1  # as paper_surface.fit for one level
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


def _centre(box):
    """Paste into a black 28x28 frame, shifted by whole pixels so the centre of mass lands on CENTRE (clipping)."""
    (h, w), total = box.shape, box.sum()
    com_r, com_c = (box.sum(1) @ np.arange(h)) / total, (box.sum(0) @ np.arange(w)) / total
    top, left = int(np.floor(CENTRE - com_r + 0.5)), int(np.floor(CENTRE - com_c + 0.5))
    frame = np.zeros((FRAME, FRAME), np.float32)
    r0, c0, r1, c1 = max(top, 0), max(left, 0), min(top + h, FRAME), min(left + w, FRAME)
    frame[r0:r1, c0:c1] = box[r0 - top : r1 - top, c0 - left : c1 - left]
    return frame
