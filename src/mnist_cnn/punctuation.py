"""A written point, comma, colon, dash or slash between the digits of a row ("3.95", "12,50", "7:39", "4-2",
"12/05"): `read` refuses such a string rather than reading the digits around it (395 for 3.95 would be a wrong
number, not a missing one).

    ink, loose = images.ink_map(image, with_specks=True)   # loose: the ink before specks were dropped
    punctuation.find(loose)                                 # None, or why: "a point, comma or dash between..."

A pen's point holds under 2% of a number's ink, so images.ink_map drops it with the dust, and segment.py joins
a dash close to a digit to it as a stroke of that digit; this looks at the ink before either step. A mark is
punctuation when it is clear of every digit's columns (not a 5's hat, a broken 4 or a dotted 7), lies between
two digits (not a full stop after the number), a stroke's width from any other small mark (the pieces of a
broken 6 lie close together), at least a tenth of the digits' height both ways (not dust, noise or a ruled line's
thin stub), and:
- a point: small, solid, from the row's middle down to a little under its baseline (a colon's lower dot);
- a comma: a short thick stroke hanging from the row's middle or lower;
- a dash: a flat thick stroke around the row's middle;
- a slash: a narrow mark leaning right, taller than the digits and rising above them (one as tall as they are is
  a 1 to any reader: the model reads it so, and so would a person).
Hand-written on OpenCV's connected components: no library finds punctuation in handwriting.
"""

from __future__ import annotations

import cv2
import numpy as np

from .stroke_mask import HAIRLINE, MASK, stroke_width

TALL = 0.5  # a component at least half the tallest one's height is a digit (or most of one)
MIN_AREA = 0.3  # a mark holds at least 0.3 of a square of the strokes' width (a pen's dot ~0.8, less at their cut)
MIN_SIDE = 0.1  # ...and is at least 10% of the digits' height both ways (a hairline face's noisy crumbs are smaller,
# a ruled line's stub thinner)
CLEAR = 0.25  # punctuation shares at most a quarter of its width with any digit's columns
SMALL = 0.4  # a point is under 40% of the digits' median height both ways; a comma that wide at most
PEN = 0.75  # a point or comma is at least 0.75 of the strokes' width both ways (a dash may be finer)
SOLID = 0.35  # a point fills at least 35% of its box (a dot ~0.7; a thin slanted stub less)
BELOW = 0.35  # a point's middle is at most 35% of the digits' height under their baseline
THICK = 0.45  # a comma or dash is at least 0.45 of the strokes' width thick (a squared page's stub of a line: 0.42)
COMMA = 0.6  # a comma is under 60% of the digits' height
FLAT = 1.5  # a dash is 1.5x as wide as it is tall or more, and narrower than the digits are tall
MIDDLE = 0.25  # a dash's middle is within 25% of the digits' height of theirs
APART = 0.5  # a dash is half a stroke or more from the digits either side (a 5's hat beside a small body touches
# its box; a 7's bar cut off by a squared page's line is a line's width from its stem); a point or comma 1 px
SLASH_NARROW = 0.6  # a slash is at most 0.6x as wide as it is tall (as a 1 is, not a 4 or a 9)...
SLASH_TALL = 1.3  # ...1.3x as tall as the digits beside it and the row's median digit or more...
SLASH_RISE = 0.1  # ...its top 10% of their height above both neighbours'...
SLASH_SLANT = 0.2  # ...and it leans right, 0.2 px across per px up (its pixels' second moments)


def find(loose: np.ndarray) -> str | None:
    """Why a (H, W) ink map (before specks were dropped) holds punctuation between its digits, or None."""
    top = float(loose.max())
    x0, y0, w0, h0 = cv2.boundingRect(cv2.compare(loose, HAIRLINE * top, cv2.CMP_GT))
    # The ink's box (a phone photo of a page is mostly paper), and 1 px of paper: OpenCV's distance transform
    # (stroke_width) takes the image's edge for more ink
    loose = np.pad(loose[y0:y0 + h0, x0:x0 + w0], 1)
    # Marks down to a fine pen's hairlines (stroke_mask.HAIRLINE): at the strokes' own cut, a hairline digit falls
    # apart into dot-sized pieces beside it
    n, labels, stats, _ = cv2.connectedComponentsWithStats((loose > HAIRLINE * top).view(np.uint8), connectivity=8,
                                                           ltype=cv2.CV_32S)
    boxes = stats[1:, :4].astype(np.int64)
    if len(boxes) < 3:
        return None
    strong = (loose > MASK * top).view(np.uint8)
    areas = np.bincount(labels.ravel(), weights=strong.ravel(), minlength=n)[1:]  # each mark's strong ink
    tall = boxes[:, 3] >= TALL * boxes[:, 3].max()
    digits = boxes[tall]
    if len(digits) < 2:
        return None
    height = float(np.median(digits[:, 3]))
    stroke = stroke_width(strong)  # the width strokes have at their own cut
    left, right = digits[:, 0], digits[:, 0] + digits[:, 2]
    small = ~tall & (areas >= MIN_AREA * stroke * stroke)  # not the noise at the hairlines' cut
    for (x, y, w, h), area in zip(boxes[small], areas[small]):
        if w >= height or h >= COMMA * height or min(w, h) < MIN_SIDE * height:  # no dash is that wide
            continue
        shared = np.minimum(right, x + w) - np.maximum(left, x)
        gap = np.maximum(np.maximum(boxes[small, 0] - (x + w), x - (boxes[small, 0] + boxes[small, 2])),
                         np.maximum(boxes[small, 1] - (y + h), y - (boxes[small, 1] + boxes[small, 3])))
        if shared.max() > CLEAR * w or np.count_nonzero(gap < stroke) > 1:  # one: its own box
            continue
        before, after = np.flatnonzero(right <= x + w / 2), np.flatnonzero(left >= x + w / 2)
        if not len(before) or not len(after):
            continue  # not between two digits: a full stop after a number, or a speck at its edge
        near = digits[[before[np.argmax(right[before])], after[np.argmin(left[after])]]]
        middle = float(np.mean(near[:, 1] + near[:, 3] / 2))
        base = float(np.mean(near[:, 1] + near[:, 3]))
        thick = area >= THICK * stroke * np.hypot(w, h)
        room = min(x - right[before].max(), left[after].min() - (x + w))  # px to the digits either side
        pen = min(w, h) >= PEN * stroke and room >= 1
        low = middle <= y + h / 2 <= base + BELOW * height
        if pen and max(w, h) < SMALL * height and area >= SOLID * w * h and low:
            return "a point between the digits (not a digit)"
        if pen and w < SMALL * height and thick and middle <= y <= base:
            return "a comma between the digits (not a digit)"
        level = abs(y + h / 2 - middle) <= MIDDLE * height
        if room >= APART * stroke and h < SMALL * height and w >= FLAT * h and thick and level:
            return "a dash between the digits (not a digit)"
    return _slash(labels, boxes, tall)


def _slash(labels, boxes, tall) -> str | None:
    """Why one of the tall marks is a slash (12/05), or None: taller than the digits beside it, rising above them,
    and slanted, where 1s stand as tall as their neighbours."""
    marks = np.flatnonzero(tall)
    row = float(np.median(boxes[marks, 3]))
    for i in marks:
        x, y, w, h = boxes[i]
        before = [j for j in marks if boxes[j, 0] + boxes[j, 2] <= x + w / 2]
        after = [j for j in marks if boxes[j, 0] >= x + w / 2]
        if not before or not after:
            continue
        near = boxes[[max(before, key=lambda j: boxes[j, 0] + boxes[j, 2]), min(after, key=lambda j: boxes[j, 0])]]
        if np.any((near[:, 0] < x + w) & (near[:, 0] + near[:, 2] > x)):
            continue  # a neighbour sharing its columns: a piece of the same digit (a 4's stem beside its diagonal)
        others = max(row, float(near[:, 3].max()))  # not pulled down by pieces of broken digits
        if w > SLASH_NARROW * h or h < SLASH_TALL * others or float(near[:, 1].min()) - y < SLASH_RISE * others:
            continue
        m = cv2.moments((labels[y:y + h, x:x + w] == i + 1).view(np.uint8), binaryImage=True)
        if m["mu02"] and -m["mu11"] / m["mu02"] >= SLASH_SLANT:
            return "a slash between the digits (not a digit)"
    return None
