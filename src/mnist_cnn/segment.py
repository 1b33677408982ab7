"""Finding the digits of a number written on one line: ink -> one crop per digit, left to right.

    from mnist_cnn import images, segment
    ink = images.ink_map(images.load_image("meter.jpg"))   # paper, light and noise removed (None: no ink)
    row = segment.find(ink)
    row.rejected                  # None, or why this ink is not a row of digits (one line)
    for group in row.groups:      # in reading order; options: [[Piece]] unsplit, then ways to split it
        group.options[0][0].box   # (x0, y0, x1, y1), x1/y1 exclusive, in the image's pixels

The steps, on a binary mask of the ink (stroke_mask.py: strong ink, faint ink holding one digit's strokes together,
ruled or squared paper lines removed but where strokes cross them): 8-connected components; specks, a ring round the
number and a bar along a side (a desk's edge) dropped; one digit's strokes not joined (a 5's hat, a broken 4) merged
when their columns overlap (three marks stacked: a number on its side, refused); a mark much wider than tall
(touching digits) offered even splits at the least ink for the model (read.py; lattice.py: uneven ones). No model
here; OpenCV, as no library segments handwritten digits."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from . import column, stroke_mask, surround
from .stroke_mask import RULE_THIN
from .surround import FLAT, RING_TALLER

MIN_PIXELS = 4  # a component of fewer pixels is noise, whatever the image size
MIN_HEIGHT = 8  # px: when even the tallest mark is shorter than this (MNIST's digits are 20 px)...
MIN_TALL = 3.0  # ...or than 3 stroke widths (a 1 is ~8), the page holds blots or noise, no digit: the page's width,
# or the median of its marks' own (one digit inked solid holds most of the page's ink: see _marks_width)
PART = 0.5  # a component under half the height of the tall ones is a part of a digit (a 5's hat), not one
NEAR = 0.15  # ...joined to the digit it overlaps most, or one at most 15% of the height away, but one surround.FLAT x
# as wide as tall or more, wholly below 2+ digits, across half the width of each or more, is an underline, dropped (639
# underlined was read 632; one digit's: surround.drop); a 5's hat reaching over a short neighbour is no underline
OVERLAP = 0.5  # two components whose columns overlap by half the narrower's width are strokes of one digit...
TALL, SAME = 0.75, 0.8  # ...unless both are that tall (of the median) and overlap less than SAME: two slanted digits
SPECK, SPECK_HEIGHT = 0.04, 0.3  # a group under 4% of the largest group's pixels and 30% of the tallest's height
SMALL_MARK = 0.4  # a group kept but under 40% of the row's median height is a mark, not a digit (a dash, a dot)
IN_ROW = 0.5  # each mark has half its height within the row (median centre +- half the median height)
SPLIT = 1.15  # a group wider than 1.15x its height holds touching digits (MNIST's widest 0s are ~1.0x)...
WHOLE = 1.8  # ...and one wider than 1.8x is never read as one digit (slanted 2s, 7s: 1.5x, a 5 written flat 1.7x); 1.8
# against 1.6 on read_eval.py: 4-7 more of 800 read right per seed and run, none lost, 0-1 of 300 non-numbers passed
MAYBE_SPLIT = 0.75  # ...one wider than 0.75x may (a 1 touching a 0): split if the model is unsure of it whole
DIGIT_WIDTH = 0.7  # a digit's typical width over its height, to guess how many touch in a group
MAX_PIECES = 6  # at most this many digits in one touching group
SPECKLE, SPECKLE_MIN = 10, 50  # more than 10 separate bits of ink per mark kept (50+ in all) is noise or texture:
# writing leaves few bits beside its marks (numbers measured: at most ~7 per mark, 25 in all)
EDGE_BAR = 0.95  # a part along the picture's left or right side over this share of its height, RING_TALLER x the rest
MAX_DIGITS = 24  # more groups than this is texture or noise, not a number
SHORT_PIECE = 0.6  # a cut leaving a piece under 0.6 of the mark's height cuts off a stroke (a 2's loop) or a loop of a
# slanted 8 (read as 69); against 0.5, seed 0: 3 more of 800 read right, 4 misread refused, none lost (`best`)
WINDOW = 1 / 3  # a cut is searched within a third of a piece's width around the even division
STEP_COST = 0.15  # a bent cut path pays this per column it moves sideways (in ink pixels): straight unless ink is saved


@dataclass
class Piece:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the image (exclusive ends)
    ink: np.ndarray  # the ink inside the box, other digits' strokes at 0


@dataclass
class Group:
    options: list[list[Piece]]  # the unsplit group (when plausible) and candidate splits, each left to right
    narrow: bool = False  # no wider than one digit can be: split only if the model is unsure of it whole
    crossings: list[int] = field(default_factory=list)  # per option, the most strokes one of its cuts crosses
    own: np.ndarray | None = field(default=None, repr=False)  # (h, w) bool: the mark's pixels in its box
    crop: np.ndarray | None = field(default=None, repr=False)  # its ink there, other marks' at 0
    box: tuple[int, int, int, int] = (0, 0, 0, 0)  # the mark's box in the image (exclusive ends)


@dataclass
class Row:
    groups: list[Group] = field(default_factory=list)
    rejected: str | None = None  # why the ink is not a row of digits
    rulings: int = 0  # ruled-paper lines removed


def find(ink: np.ndarray) -> Row:
    """The digits in an (H, W) ink map (images.ink_map), grouped and in reading order."""
    mask, hairlines, rulings, stroke = stroke_mask.find(ink, SPLIT)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_32S)
    low = max(MIN_HEIGHT, MIN_TALL * stroke)
    parts = [(i, *stats[i, :4]) for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= MIN_PIXELS]
    # Stubs of rules (what images.ink_map's own line removal leaves beside strokes): flat and thinner than a pen.
    parts = [p for p in parts if not (p[4] < RULE_THIN * stroke and p[3] > 2 * p[4])]
    if parts:  # specks first, so that none is joined to a digit as a stroke of it (a noisy shadow would be)
        parts = _unframed(parts, stats, mask.shape, stroke, labels)
    if not parts:
        return Row(rejected="no ink left once the paper's lines are removed" if rulings else None, rulings=rulings)
    groups = _drop_specks(_merge(parts, stats), stats)
    tallest = max(g["box"][3] - g["box"][1] for g in groups)
    if tallest < low and tallest < max(MIN_HEIGHT, MIN_TALL * _marks_width(groups, labels)):
        return Row(rulings=rulings)  # nothing digit-sized: blots or noise on a blank page
    groups.sort(key=lambda g: (g["box"][0] + g["box"][2]) / 2)
    if n - 1 >= SPECKLE_MIN and n - 1 > SPECKLE * len(groups):
        return Row(rejected=f"speckled ink ({n - 1} separate specks for {len(groups)} marks): noise or texture, "
                            f"not writing", rulings=rulings)
    row = Row(rulings=rulings, rejected=_not_a_row(groups, stroke))
    if row.rejected is None:
        for g in groups:
            x0, y0, x1, y1 = g["box"]
            own = np.isin(labels[y0:y1, x0:x1], g["labels"])
            crop = np.where(own, ink[y0:y1, x0:x1], np.float32(0))
            options, crossings = _options(g, own, crop, bool(hairlines[y0:y1, x0:x1][own].any()))
            row.groups.append(Group(options, _narrow(g), crossings, own, crop, (x0, y0, x1, y1)))
    return row


def several_digits(ink) -> bool:
    """Whether an ink map (images.ink_map; None: no ink) holds a row of two or more marks, or one mark wider than a
    digit (touching digits): what `read` takes for a number, where `predict` looks for one digit alone."""
    if ink is None:
        return False
    row = find(ink)
    return row.rejected is None and (len(row.groups) >= 2 or any(not g.narrow for g in row.groups))


def _unframed(parts, stats, shape, stroke: float = 0.0, labels=None):
    """The parts without specks (SPECK, SPECK_HEIGHT), a bar along the picture's left or right side (EDGE_BAR: a desk's
    edge, 257 read 1257) or a ring round all the others (surround.ring: a circle or a box drawn round the number; with
    the pen's `stroke` width and the parts' `labels`, a box drawn with a bold pen too). Once a ring goes, the specks
    are judged again against the rest: beside a bold frame, a 5's hat or a 9's broken loop was a speck (a review)."""
    def unspecked(parts):
        biggest, tallest = max(stats[p[0], cv2.CC_STAT_AREA] for p in parts), max(p[4] for p in parts)
        return [p for p in parts if stats[p[0], cv2.CC_STAT_AREA] >= SPECK * biggest or p[4] >= SPECK_HEIGHT * tallest]
    kept = framed = unspecked(parts)
    for bar in [p for p in kept if (p[1] == 0 or p[1] + p[3] == shape[1]) and p[4] >= EDGE_BAR * shape[0]]:
        if (rest := [p for p in framed if p is not bar]) and RING_TALLER * max(p[4] for p in rest) <= bar[4]:
            framed = rest
    if (ring := surround.ring(framed, stats[:, cv2.CC_STAT_AREA], stroke=stroke, labels=labels)) is None:
        return framed
    gone = {p[0] for p in kept} - {p[0] for p in framed} | {ring[0]}
    return unspecked([p for p in parts if p[0] not in gone])


def _merge(parts, stats):
    """Components -> groups: tall components whose columns overlap, then each small one joined to the group it
    overlaps most (or touches nearly), as the strokes of one digit."""
    tallest = max(p[4] for p in parts)
    height = float(np.median([p[4] for p in parts if p[4] >= PART * tallest]))
    big = sorted((p for p in parts if p[4] >= PART * height), key=lambda p: p[1])
    groups = []
    for label, x, y, w, h in big:
        box = [x, y, x + w, y + h]
        for g in reversed(groups[-3:]):  # only the last few can overlap, parts being sorted by left edge
            overlap, narrow = _overlap(g["box"], box), min(g["box"][2] - g["box"][0], w)
            both_tall = min(g["box"][3] - g["box"][1], h) >= TALL * height
            if overlap >= OVERLAP * narrow and (not both_tall or overlap >= SAME * narrow):
                _join(g, label, box, stats)
                g["tall"].append(box)
                break
        else:
            groups.append({"labels": [label], "box": box, "area": int(stats[label, cv2.CC_STAT_AREA]), "tall": [box]})
    for label, x, y, w, h in (p for p in parts if p[4] < PART * height):
        box = [x, y, x + w, y + h]
        under = [g for g in groups if _overlap(g["box"], box) >= OVERLAP * (g["box"][2] - g["box"][0])]
        if w >= FLAT * h and len(under) >= 2 and all(y >= g["box"][3] for g in under):
            continue  # a flat line below two digits or more: an underline, no stroke of one of them
        near = max(groups, key=lambda g: _overlap(g["box"], box), default=None)
        if near is not None and _overlap(near["box"], box) > -NEAR * height:
            _join(near, label, box, stats)
        else:
            groups.append({"labels": [label], "box": box, "area": int(stats[label, cv2.CC_STAT_AREA])})
    return groups


def _overlap(a, b) -> int:
    """How many columns two boxes share (negative: the gap between them)."""
    return min(a[2], b[2]) - max(a[0], b[0])


def _join(g, label, box, stats):
    g["labels"].append(label)
    g["box"] = [min(g["box"][0], box[0]), min(g["box"][1], box[1]), max(g["box"][2], box[2]), max(g["box"][3], box[3])]
    g["area"] += int(stats[label, cv2.CC_STAT_AREA])


def _marks_width(groups, labels) -> float:
    """The median of the marks' own stroke widths. The page's width is a high percentile over all its ink, which one
    digit inked solid (a filled loop, a marker) can hold alone: its thin neighbours were then taken for blots."""
    widths = []
    for g in groups:
        x0, y0, x1, y1 = g["box"]
        # a pixel of paper round the box, where the image has one: OpenCV's distance transform takes what lies
        # beyond the image for ink, as for the page's width (a shadow at the image's edge stays a blot)
        sides = slice(max(y0 - 1, 0), y1 + 1), slice(max(x0 - 1, 0), x1 + 1)
        widths.append(stroke_mask.stroke_width(np.isin(labels[sides], g["labels"]).view(np.uint8)))
    return float(np.median(widths))


def _drop_specks(groups, stats):
    biggest = max(g["area"] for g in groups)
    tallest = max(g["box"][3] - g["box"][1] for g in groups)
    return [g for g in groups if g["area"] >= SPECK * biggest or g["box"][3] - g["box"][1] >= SPECK_HEIGHT * tallest]


def _not_a_row(groups, stroke: float) -> str | None:
    """Why these groups (of ink whose strokes are `stroke` px wide) are clearly not one row of digits, or None."""
    if len(groups) > MAX_DIGITS:
        return f"{len(groups)} separate marks (a number has at most {MAX_DIGITS} digits)"
    for g in groups:
        if n := column.stacked(g["box"], g.get("tall", ()), stroke):
            return f"{n} separate marks stacked in a column (a number on its side?), not one digit"
    heights = np.array([g["box"][3] - g["box"][1] for g in groups])
    median = float(np.median(heights))
    if heights.min() < SMALL_MARK * median:
        return "a mark much smaller than the digits beside it"
    middle = float(np.median([(g["box"][1] + g["box"][3]) / 2 for g in groups]))
    for g in groups:
        inside = min(g["box"][3], middle + median / 2) - max(g["box"][1], middle - median / 2)
        if inside < IN_ROW * (g["box"][3] - g["box"][1]):
            return "the marks are not on one line"
        if g["box"][2] - g["box"][0] > (MAX_PIECES + 1) * DIGIT_WIDTH * (g["box"][3] - g["box"][1]):
            return "a mark far wider than a row of digits is tall"
    return None


def _narrow(g) -> bool:
    x0, y0, x1, y1 = g["box"]
    return x1 - x0 <= SPLIT * (y1 - y0)


def _options(g, own, crop, hairlines: bool) -> tuple[list[list[Piece]], list[int]]:
    """The group unsplit (if not too wide for one digit) and, if wide or held together by hairlines (two 1s joined by
    a faint stroke), candidate splits into touching digits; and how many strokes each option's cuts cross at most
    (two digits touching: one; a digit cut in two: two)."""
    x0, y0, x1, y1 = g["box"]
    whole = [Piece((x0, y0, x1, y1), crop)]
    w, h = x1 - x0, y1 - y0
    if w <= MAYBE_SPLIT * h and not hairlines:
        return [whole], [0]
    options = [whole] if w <= WHOLE * h else []
    crossings = [0] * len(options)
    guess = digits_in(w, h)
    top = 2 if w <= SPLIT * h else min(MAX_PIECES, guess + 1)  # one digit wide: two at most
    for k in range(max(2, guess - 1), top + 1):
        for cuts in _cuts(own, k):
            cut = pieces(crop, cuts, x0, y0)
            if min(p.box[3] - p.box[1] for p in cut) >= SHORT_PIECE * h:
                options.append(cut)
                crossings.append(max(crossed(own, c) for c in cuts))
    if not options:  # every cut leaves a stroke: the least bad, the straight cut at the least ink, strokes joined
        options, crossings = [_joined(crop, _cuts(own, max(2, guess))[0], x0, y0, h)], [0]
    return options, crossings


def digits_in(w, h) -> int:
    """How many digits likely touch in a mark w wide and h tall (pixels): 2 at least."""
    return max(2, round(w / (DIGIT_WIDTH * h)))


def _joined(crop, cuts, x0, y0, h) -> list[Piece]:
    """The pieces between `cuts`, each under SHORT_PIECE of the height h joined to its neighbour: a stroke cut off,
    or the stub of a ruled line that runs on from a digit's foot (it would be read as a mark that is no digit)."""
    cuts = list(cuts)
    while cuts:
        rows = [np.flatnonzero((between(crop.shape, cuts, i) & (crop > 0)).any(1)) for i in range(len(cuts) + 1)]
        short = [i for i, r in enumerate(rows) if not len(r) or r[-1] - r[0] + 1 < SHORT_PIECE * h]
        if not short:
            break
        del cuts[max(short[0] - 1, 0)]  # the first joins the one on its right, any other the one on its left
    return pieces(crop, cuts, x0, y0)


def between(shape, cuts, i) -> np.ndarray:
    """(h, w) bool: the pixels between cut i - 1 and cut i (the crop's edges for i = 0 and len(cuts))."""
    h, w = shape
    columns = np.arange(w)[None]
    left = cuts[i - 1][:, None] if i > 0 else np.zeros((h, 1), np.int64)
    right = cuts[i][:, None] if i < len(cuts) else np.full((h, 1), w)
    return (columns >= left) & (columns < right)


def crossed(own, cut) -> int:
    """How many separate strokes a cut (a column per row) runs through."""
    on = own[np.arange(len(cut)), np.clip(cut, 0, own.shape[1] - 1)].astype(np.int8)
    return int((np.diff(np.concatenate([[0], on])) == 1).sum())


def _cuts(own, k) -> list[np.ndarray]:
    """Candidate cuts splitting a group's mask into k pieces, near each even division, each an array of one
    column per row (left piece: x < cut[y]). Straight ones at the least ink (a vertical projection minimum) and
    where the outline from above or below reaches deepest (two round digits touching: the least ink is inside
    a loop, the junction is where the top and bottom dip); and a bent one, the path from top to bottom through
    the least ink (slanted digits overlap in columns: no straight cut separates them)."""
    h, w = own.shape
    inked = own.any(0)
    profile = cv2.blur(own.sum(0, dtype=np.float32)[None], (3, 1), borderType=cv2.BORDER_REPLICATE)[0]
    top = np.where(inked, own.argmax(0), h).astype(np.float32)  # first ink row per column
    bottom = np.where(inked, h - 1 - own[::-1].argmax(0), -1).astype(np.float32)
    step = w / k
    windows = [(max(1, int(j * step - step * WINDOW)), min(w - 1, int(np.ceil(j * step + step * WINDOW))))
               for j in range(1, k)]
    options = []
    for cost in (profile, -top, bottom):
        cuts = []
        for lo, hi in windows:
            lo = max(lo, cuts[-1] + 1 if cuts else 1)
            hi = max(lo + 1, hi)
            cuts.append(lo + int(np.argmin(cost[lo:hi])))
        options.append([np.full(h, c) for c in cuts])
    paths = []
    for lo, hi in windows:
        cut = path(own, lo, max(lo + 1, hi))
        paths.append(np.maximum(cut, paths[-1] + 1) if paths else cut)
    options.append(paths)
    unique = []
    for cuts in options:
        if not any(all(np.array_equal(a, b) for a, b in zip(cuts, u)) for u in unique):
            unique.append(cuts)
    return unique


def path(own, lo, hi) -> np.ndarray:
    """The column per row of the cheapest 8-connected path from the top row to the bottom one within columns
    [lo, hi): each ink pixel crossed costs 1, each sideways step STEP_COST. Hand-written (a dynamic programme
    over rows, the "drop-fall"/shortest-path cut of digit-string segmentation): OpenCV has no such primitive."""
    ink = own[:, lo:hi].astype(np.float32)
    h, w = ink.shape
    total = ink[0].copy()
    back = np.zeros((h, w), np.int8)
    for y in range(1, h):
        left = np.concatenate([[np.inf], total[:-1]]) + STEP_COST  # from x-1
        right = np.concatenate([total[1:], [np.inf]]) + STEP_COST  # from x+1
        choice = np.stack([left, total, right])
        back[y] = choice.argmin(0) - 1
        total = choice.min(0) + ink[y]
    path = np.empty(h, np.int64)
    path[-1] = int(np.argmin(total))
    for y in range(h - 1, 0, -1):
        path[y - 1] = path[y] + back[y, path[y]]
    return path + lo


def pieces(crop, cuts, x0, y0) -> list[Piece]:
    """The crop cut along these paths (a column per row), each piece trimmed to its ink."""
    return [p for i in range(len(cuts) + 1) if (p := piece(crop, cuts, i, x0, y0)) is not None]


def piece(crop, cuts, i, x0, y0) -> Piece | None:
    """The ink of crop (h, w) between cut i - 1 and cut i (each (h,) int64; the crop's edges for 0 and len(cuts)),
    trimmed to it, its box offset by (x0, y0); None if there is none."""
    part = np.where(between(crop.shape, cuts, i), crop, np.float32(0))
    rows, cols = np.flatnonzero(part.any(1)), np.flatnonzero(part.any(0))
    if not len(rows):
        return None
    return Piece((x0 + cols[0], y0 + rows[0], x0 + cols[-1] + 1, y0 + rows[-1] + 1),
                 part[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
