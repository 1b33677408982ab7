"""Letters among digits: the checks that refuse a string of marks read as digits when one of them is a letter, and
the one that reads a mark the single-digit rule doubts when the string vouches for it.

    from mnist_cnn import letters
    made = letters.strokes(made)                      # one mark's digits; its first refused if all are 1s
    made = letters.short_mark(made, 40, [60, 62])     # a mark read as 2+ digits, too short: its first refused
    digits = letters.judged_in_string(predictor, digits)   # the one refused mark read, when the model is sure of it
    digits = letters.refuse_letters(predictor, digits)   # the string's digits, a letter among them refused

Used by read.py on each mark and each string it reads (a Digit there has digit, confidence, box, input, ink, not_digit,
line and halved); a refused digit is the same Digit with digit None, so the whole string is refused.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from .refusal import gate_evidence

STRING_GATE = 0.9  # in a string of 2+ digits, a mark is refused when its evidence reaches this (as a probability):
STRING_WEIGHT = 4.0  # ...P(not a digit) averaged over VIEWS of it, + this x -log its confidence (gate_evidence).
# A letter among digits (a T read as 7) sways the gate under small turns and shifts more than a digit it doubts in one
# view does. Chosen on pictures apart from the tables' (docs/reading.md: the two sections on "a letter among digits").
STRING_PIECE = 0.9  # ...and a piece cut from a wider mark only when shorter than this x the string's median digit
# height (an m or w cut into 11; touching digits' full-height pieces carry stubs), and both halves of a narrow mark
VIEW_TURN = 12  # degrees each way; with VIEW_SCALE and VIEW_SHIFT, changes that leave a digit a digit (MNIST's own
VIEW_SCALE = 0.15  # ...slants and sizes vary more) but move a letter the gate is unsure of: larger and smaller by this,
VIEW_SHIFT = 2  # ...and shifted this many px right, left, down and up (to_mnist's box is 20 px)
ONES = 3  # a mark cut into this many pieces or more, each read as 1, is refused: the strokes of an m, w, H or M cut so
# ("Mum" read as 111111177). Three 1s written touching are rarer than two: 2 (a u or n as 11 too) lost 7 of 30 touching
# "11"s; 1s or 7s alike (cursive joins read 177211) lost a third of touching 117s and 1711s (docs/reading.md,
# "Words, and strokes read as 1s")

BARS = 5  # a string of this many digits or more, every one a 1, is refused: the bars of a barcode, a ruler's ticks,
# wood grain or stripes (a probe: 21 of 35 barcodes, 31 of 32 wood grains read as 1111...); a number of five 1s and
# nothing else is rarer than those

SHORT_MARK = 0.85  # a mark read as 2+ digits (cut apart, or by the line reader) is refused when shorter than this x
# the median height of the string's other marks: a lower-case m, n or u read as 177 or 11. Touching digits stand as tall
# as their neighbours (line reader: 2 of the 330 it read in numbers at seeds 0 and 5 are under 0.85, 14 of its 42 in
# letter strings; docs/reading.md, "Trusting a sure reader"; cut marks: the same, "Short marks read as digits")


IN_STRING = True  # in a string of 2+ digits, a whole mark that the single-digit rule alone refuses (the only one)
IN_STRING_SURE = 0.998  # ...is read as its digit when the model is this sure of it and the gate's P(not a digit),
IN_STRING_GATE = 0.73  # ...over views of it (as refuse_letters weighs it), stays under this: MNIST
# digits the gate doubts in one view (0.6% of the test set). `best`, class D: numbers 93.4 -> 94.1% at seeds 0 and 5
# (93.6); 700 non-numbers at each of seeds 10000-50000 refused 0 to 0.3 points less (docs/reading.md, "One doubted
# digit in a row")


def strokes(made: list) -> list:
    """One mark's digits (a way to cut it, or the line reader's reading), the first refused when there are ONES or
    more and every one is a 1."""
    if len(made) >= ONES and all(d.digit == 1 for d in made):
        return [replace(made[0], digit=None)] + made[1:]
    return made


def bars(digits: list) -> list:
    """A string's digits, the first refused when there are BARS or more and every one is a 1."""
    if len(digits) >= BARS and all(d.digit == 1 for d in digits):
        return [replace(digits[0], digit=None)] + digits[1:]
    return digits


def short_mark(made: list, height: int, others: list[int]) -> list:
    """The digits of one mark `height` px tall read as 2+ digits, the first refused when the mark is shorter than
    SHORT_MARK x the median height of the string's other marks (`others`, px; none: a mark alone stands)."""
    return [replace(made[0], digit=None)] + made[1:] if too_short(made, height, others) else made


def too_short(made: list, height: int, others: list[int]) -> bool:
    """Whether short_mark refuses these digits of a mark `height` px tall."""
    return len(made) > 1 and bool(others) and height < SHORT_MARK * float(np.median(others))


def refuse_letters(predictor, digits: list) -> list:
    """The digits, the first mark of a string of several that the gate, over VIEWS of it, calls a letter refused
    (see STRING_GATE): whole marks, pieces cut from one when short, and both halves of a mark one digit wide; the
    line reader's digits are left to its own check (read.LINE_GATE)."""
    if len(digits) < 2 or any(d.digit is None for d in digits):
        return digits
    short = STRING_PIECE * float(np.median([d.box[3] - d.box[1] for d in digits]))
    marks = [k for k, d in enumerate(digits) if d.not_digit is not None and not d.line
             and (d.ink is not None or d.halved or d.box[3] - d.box[1] < short)]
    if not marks:
        return digits
    seen = np.stack([v for k in marks for v in views(digits[k].input)])
    not_digit = predictor.not_digit(seen).reshape(len(marks), -1).mean(axis=1)  # the gate alone: 1.1x read's time,
    # where the digit model on the views too made it 1.4x (`best`, loaded)
    evidence = gate_evidence(not_digit, [digits[k].confidence for k in marks], STRING_WEIGHT)
    refused = [k for k, e in zip(marks, evidence) if e >= math.log(STRING_GATE / (1 - STRING_GATE))]
    if not refused:
        return digits
    return [replace(d, digit=None) if k == refused[0] else d for k, d in enumerate(digits)]


def judged_in_string(predictor, digits: list) -> list:
    """The digits, a whole mark among them that the single-digit rule alone refused read as its likeliest digit
    when it is the only one refused (refuse_letters then judges it as it judges every mark of a string)."""
    refused = [k for k, d in enumerate(digits) if d.digit is None]
    if not IN_STRING or len(digits) < 2 or len(refused) != 1 or digits[refused[0]].ink is None \
            or digits[refused[0]].not_digit is None:
        return digits
    k = refused[0]
    d = digits[k]
    if d.confidence < IN_STRING_SURE:
        return digits
    not_digit = predictor.not_digit(np.stack(views(d.input))).mean()
    if gate_evidence(not_digit, d.confidence, STRING_WEIGHT) >= math.log(IN_STRING_GATE / (1 - IN_STRING_GATE)):
        return digits
    top = int(predictor.probabilities(d.input[None])[0].argmax())
    return digits[:k] + [replace(digits[k], digit=top)] + digits[k + 1:]


def views(x: np.ndarray) -> list[np.ndarray]:
    """A 28x28 as it is, turned VIEW_TURN degrees each way, scaled by 1 +- VIEW_SCALE and shifted VIEW_SHIFT px
    each way (OpenCV, about its centre, black paper filling in)."""
    x = np.asarray(x, np.float32)
    moves = [cv2.getRotationMatrix2D((14, 14), a, 1.0) for a in (-VIEW_TURN, VIEW_TURN)]
    moves += [cv2.getRotationMatrix2D((14, 14), 0, 1 + s) for s in (-VIEW_SCALE, VIEW_SCALE)]
    moves += [np.float32([[1, 0, dx], [0, 1, dy]]) for dx, dy in
              ((VIEW_SHIFT, 0), (-VIEW_SHIFT, 0), (0, VIEW_SHIFT), (0, -VIEW_SHIFT))]
    return [x] + [cv2.warpAffine(x, m, (28, 28)) for m in moves]
