"""Reading a number written on one line (a meter reading, a year, a postcode) with a digit model.

    mnist-cnn read meter.jpg scans/ [--model runs/NAME] [--json | --csv] [--save-digits DIR]

    from mnist_cnn.predict import Predictor
    from mnist_cnn.read import read_image
    r = read_image(Predictor("runs/NAME"), images.load_image("meter.jpg"))
    r.text, r.confidence, r.rejected, [(d.digit, d.confidence, d.box) for d in r.digits]

segment.py finds the digits in the image's ink (images.ink_maps, or a dark plate's light writing: images.plate_map;
turned level by level.py when the row of digits is tilted); each goes through `images.to_mnist`, the preprocessing of
`mnist-cnn predict`, all of an image's candidates through the model at once. Where digits touch, segment.py and
lattice.py offer ways to split them and the one the model is surest of wins (the mean log-confidence of its digits). One
digit is read exactly as `predict` reads it (`images.candidates` of the whole image, readings.py): the same answer; so
is a picture refused for its ink's layout alone (specks, marks off the line) when `predict` finds a sure digit there
(ALONE_SURE). Files: read_io.py. The whole string is refused (`rejected`, text "") when the ink is not a row of digits,
or when the model's refusal rule refuses any one mark: a number with one wrong digit is worse than none; so is a sum,
brackets or a sign alone (5+3, (12), %, ?: punctuation.py) or a letter among digits (letters.py); `reason` says why.
A point, comma, colon, dash, slash or minus sign is written where it stands (punctuated.py: "3.95", not 395)."""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from . import images, lattice, letters, level, line_pieces, punctuated, punctuation, readings, segment, slant
from .refusal import NOT_A_DIGIT

PAD, MIN_PAD = 0.15, 2  # paper added round a digit's crop: this share of its longer side, 2 px at least (to_mnist)
UNSURE = 0.5  # a mark no wider than one digit is split only when the model is less sure than this of it whole...
SURE = 0.9  # ...and at least this sure of each piece; so is lattice.py of its pieces of a mark read whole as a digit
WHOLE_SURE = 0.999  # ...and never when it reads the mark whole this sure (the gate had found an open 4's strokes
# more digit-like, as 11): seed 5, 4 more numbers of 400 read right; seed 0, 1 more of 800, none lost (`best`); so
# sure of a short mark whole, it is read so where a cut made it 2+ digits (_short_whole)
PART_OF = 0.75  # two neighbouring marks, one shorter than 75% of the other and together one digit wide...
MERGE_GAIN = 0.2  # ...are read as one when the model is sure of it (SURE) and this much surer than of either part
FULL_BONUS = 0.03  # log-confidence per digit added to segment.py's cuts of a wide mark into full-height pieces against
# reading it whole, where that is offered (up to segment.WHOLE wide; not lattice.py's cuts: _choose)
TALL_PIECE = 0.8  # ...or when each piece is this tall (of the mark's height) and the cut crosses one stroke: two
# whole digits joined at one point (a 1 touching an 8), not one cut in halves (a 4's arm is shorter, a 0 crossed twice)
MAX_CROSSED = 2  # a wide mark is read as touching digits only along cuts through at most 2 strokes each (two round
# digits overlapping); more: a scribble (touching digits never need 3), or up to segment.WHOLE wide one digit (a 0)
NARROW_GATE = True  # a mark one digit wide is split only if the gate finds its pieces more digit-like than it whole
ARMS = 0.3  # ...and never into two 1s whose slants (slant.slant of what the model sees) differ by this, the left one
# leaning back: a V, U or Y's arms meeting at its foot, where touching 1s stand parallel (docs/reading.md, "Arms")
TWO_STROKES = 0.99  # a narrow mark refused whole is cut across 2 strokes into two pieces this sure, not 1 and 1
LINE_SURE, LINE_REFUSED = 0.9, 0.49  # a run's line reader (line_reader.py) reads a mark of touching digits when it
# is this sure of each digit and the piece gate refuses under half of the pieces cut between them (of two, none: a
# wide letter read as two digits; doodles: most pieces); else the cuts decide, as without it. 0.5 (one of two
# allowed): 3 points more touching numbers read, 0.5 points fewer non-numbers refused (seeds 5 and 20000, `best`)
LINE_VERY_SURE = 0.99  # ...but when it is this sure of every digit, the gate may refuse up to LINE_REFUSED_SURE of
LINE_REFUSED_SURE = 0.67  # the pieces (one of two, two of three): class D, `best`, touching numbers at seeds 0 and 5
# 85.5 -> 87.5%, 86.5 -> 88.0% (seed 9: 85.0 -> 84.5%), with letters.SHORT_MARK refusing the short letters it would
# let through (docs/reading.md, "Trusting a sure reader")
LINE_GATE = 0.95  # ...a piece counts as refused when the piece gate's P(not a digit) reaches this (gate.PIECE_STEM,
# trained on such pieces, stubs of their neighbours and all; class B, seed 5, touching 81.5 -> 86.5%, non-numbers at
# seeds 20000 and 30000 refused 93.0 -> 91.8%, 90.8 -> 90.2%; 0.5 -> 0.95 on class D: 82.0 -> 85.0%, 91.3 -> 91.2%)...
LINE_GATE_ONE = 0.3  # ...or this for a piece read as 1, as a cursive letter's cut strokes are (1776111177): 0.3 keeps
# real 1s' margin (docs/reading.md, "Handwriting faces in the piece gate's pieces")
TIGHT = 0.9  # a digit whose box spans this share of the picture's width or height is cropped tight (read_image)
MANY_MARKS = ("separate marks", "far wider")  # segment.py's refusals of several digits' worth of ink: never one digit
ALONE_SURE = 0.98  # a picture refused for its ink's layout (no ink map, specks, marks off one line, a mark much smaller
# than another) is answered as `predict` answers it when that is a digit this sure: of `evalset`'s 3,000 single digits
# 2,773 -> 2,857 read right (`make run`'s run; 0.9: 2,871, with 8 of 200 Fashion-MNIST clothes more read, not 3)


@dataclass
class Digit:
    digit: int | None  # None when the model refuses this mark
    confidence: float
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the image's pixels (exclusive ends)
    input: np.ndarray  # the (28, 28) float32 image the model saw
    ink: np.ndarray | None = field(default=None, repr=False)  # a whole mark's ink (not a piece cut from one)
    not_digit: float | None = field(default=None, repr=False)  # the gate's P(not a digit), if the model has one
    line: bool = field(default=False, repr=False)  # read by the line reader (its pieces were checked there)
    halved: bool = field(default=False, repr=False)  # a piece of a mark one digit wide, cut in two

    def to_dict(self) -> dict:
        return {"digit": self.digit, "confidence": self.confidence, "box": [int(v) for v in self.box]}


@dataclass
class Reading:
    path: str
    text: str = ""  # the digits read, "" when none or refused
    confidence: float | None = None  # the whole string's: the product of its digits'
    rejected: bool = False  # the ink is not (all) digits, or there is none
    digits: list[Digit] = field(default_factory=list)
    error: str | None = None  # why the file could not be read
    reason: str | None = None  # why it was rejected (`message`: predict's key for its refusals)
    layout: bool = field(default=False, repr=False)  # rejected for the ink's layout (segment.py), not a mark's look
    message = property(lambda self: self.reason if self.rejected else None)  # the JSON's and CSV's; None when read

    def to_dict(self) -> dict:
        return {"path": self.path, "text": self.text, "confidence": self.confidence, "rejected": self.rejected,
                "message": self.message, "digits": [d.to_dict() for d in self.digits], "error": self.error}


def read_image(predictor, image, path: str = "") -> Reading:
    """The number in a Pillow image or 2-D array (any polarity and size), read with a predict.Predictor; where a
    shadow's edge was taken for the paper, read without that step too (images.ink_maps), kept when one digit (TIGHT).
    Light writing on a dark plate lying on a lighter wall (a house number) is read off the plate (images.plate_map)
    when the picture as it is gives no number, or several digits on the plate: its outline cut up (81 read 120). A
    picture refused with a fold across it is read with a paper each side of the fold (images.fold_map)."""
    maps, one = images.ink_maps(image), functools.cache(lambda: images.candidates(image))
    again = functools.cache(lambda: images.more_readings(image))
    shaded, *plain = [_read_ink(predictor, path, found, one, again, 1 if k == 0 and len(maps) == 2 else 2)
                      for k, found in enumerate(maps)]
    # Without the shade, one digit across the picture: one cropped tight, read whole as `predict` reads it. A shade's
    # row of digits is mostly refused there (the shade one huge stroke), else read short (3555 as 35, 92294 as 2)
    if plain and not plain[0].rejected and len(plain[0].digits) == 1:
        (x0, y0, x1, y1), (h, w) = plain[0].digits[0].box, maps[1][0].shape
        if x1 - x0 >= TIGHT * w or y1 - y0 >= TIGHT * h:
            return plain[0]
    alone = shaded.layout and all(r.layout or len(r.digits) == 1 and not r.rejected for r in plain)  # no number there
    reading = _as_predict(predictor, shaded, one, again, image) if alone else shaded
    boxes = [d.box for d in reading.digits]
    if (reading.rejected or len(reading.digits) > 1) and (found := images.plate_map(image, boxes)) is not None:
        return _read_ink(predictor, path, found, one, again, 2)
    if reading.rejected and (found := images.fold_map(image)) is not None:  # a fold: read with a paper each side...
        folded = _read_ink(predictor, path, found, one, again, 0)  # (its own ink: `predict`'s view is the crease's)
        if not folded.rejected and folded.confidence >= readings.SECOND_SURE and all(  # ...as sure as a second look
                (d.not_digit or 0.0) < readings.SECOND_GATE for d in folded.digits):
            return folded
    return reading


def _as_predict(predictor, refused: Reading, one, again, image) -> Reading:
    """A picture refused for its ink's layout (and read as no number without a shade) answered as `predict` answers it
    (readings.py), when that is a digit ALONE_SURE sure that the run's gate let through (without a gate, `predict`
    reads noise as digits): its box the whole picture."""
    if one()[0] is None:
        return refused
    x, d = readings.decide_candidates(predictor, [one()], lambda _: again())[0]
    if d is None or d.rejected or d.not_digit is None or d.confidence < ALONE_SURE:
        return refused
    h, w = image.size[::-1] if isinstance(image, Image.Image) else np.shape(image)[:2]
    return Reading(refused.path, str(d.digit), d.confidence,
                   digits=[Digit(d.digit, d.confidence, (0, 0, w, h), x, not_digit=d.not_digit)])


def _read_ink(predictor, path: str, found, one, again, rulings: int) -> Reading:
    """read_image's reading of one of the image's ink maps, (ink, the same with its specks) or None; one(), again():
    the image's images.candidates and more_readings; a single digit is read as `predict` reads it when under `rulings`
    ruled lines were found."""
    if found is None:
        return Reading(path, rejected=True, reason=images.NO_DIGIT, layout=True)
    marks, reason = punctuation.find(found[1])  # "3.95": a point the digits' ink has lost with the dust
    if reason:
        return Reading(path, rejected=True, reason=reason)
    # a number photographed at a tilt, turned level; back(box): in the image's pixels
    ink, back = level.levelled(punctuated.without(found[0], marks))
    row = segment.find(ink)
    if row.rejected or not row.groups:
        return Reading(path, rejected=True, reason=row.rejected or images.NO_DIGIT,  # not with marks taken out
                       layout=not marks and not any(m in (row.rejected or "") for m in MANY_MARKS))
    lines = line_pieces.read_marks(predictor, row.groups, piece_input, MAX_CROSSED)
    inputs = [[[piece_input(p.ink) for p in option] for option in g.options] for g in row.groups]
    # One digit: read whole, exactly as `predict` sees it (readings.choose); but on a grid (2+ lines) as segment.py
    # cleared it (`evalset`'s squared digits read 90.0% so, 83.3% as `predict` sees them; 86.0% this way). One line
    # may be a bold digit's own stroke along a tight crop's edge (a 9 read 4 by the tests' model, 9 by `predict`); in
    # a shade's map, none (its edge is one: a shaded 4 refused so); nor beside a mark taken out ("-7" read -2 so)
    if len(row.groups) == 1 and len(row.groups[0].options[0]) == 1 and row.rulings < rulings and not marks:
        inputs[0][0] = [readings.decide_candidates(predictor, [one()], lambda _: again())[0][0]]
    flat = [x for g in inputs for option in g for x in option if x is not None]
    line_xs = [x for *_, xs in lines.values() for x in xs]
    judged = _pieces_not_digit(predictor, line_xs)
    by_model = any(nd is None for nd in judged)  # no piece gate: the digit model's decisions judge the line's pieces
    flat += line_xs if by_model else []
    if not flat and not line_xs:
        return Reading(path, rejected=True, reason=images.NO_DIGIT, layout=True)
    decisions = iter(predictor.decide(np.stack(flat)) if flat else [])
    groups = [[_made(option, option_xs, decisions) for option, option_xs in zip(g.options, xs)]
              for g, xs in zip(row.groups, inputs)]  # in order: `decisions` is consumed group by group
    line_decisions, piece_gate, heard = decisions if by_model else itertools.repeat(None), iter(judged), {}
    for i, (text, confidences, pieces, xs) in lines.items():  # heard[i]: the line reader's digits, where they stand
        g, judges = row.groups[i], zip(line_decisions, piece_gate)
        made = [Digit(int(c), p, piece.box, x, None, (1.0 if d.rejected else d.not_digit) if nd is None else nd,
                      line=True) for c, p, piece, x, (d, nd) in zip(text, confidences, pieces, xs, judges)]
        if _line_sure(made, g.narrow) and not (len(g.options[0]) == 1 and _whole_surer(groups[i][0], made)):
            heard[i] = made
    even = [len(g.options) for g in row.groups]  # segment.py's ways to cut each mark; lattice.py's follow them
    lattice.add_cuts(predictor, row, groups, piece_input, _made, MAX_CROSSED, SURE, skip=heard)  # uneven widths
    digits = []
    for i, (g, options) in enumerate(zip(row.groups, groups)):
        others = [h.box[3] - h.box[1] for j, h in enumerate(row.groups) if j != i]
        chosen = heard[i] if i in heard else _choose(g, [(_score(made), made) for made in options], even[i])
        if i not in heard and g.narrow and len(chosen) > 1:
            chosen = [replace(d, halved=True) for d in chosen]
        made = letters.short_mark(chosen, g.box[3] - g.box[1], others)
        if letters.too_short(chosen, g.box[3] - g.box[1], others):  # a lower-case letter's strokes, or one short digit
            made = _short_whole(predictor, g, options[0], made)  # ...cut apart
        digits += letters.strokes(made)
    digits = letters.judged_in_string(predictor, _remerge(predictor, digits))
    digits = letters.bars(letters.refuse_letters(predictor, digits))
    return _reading(path, [replace(d, box=back(d.box)) for d in digits], marks)


def _made(option, xs, decisions) -> list[Digit]:
    """The digits of one way to cut a group, from the model's decisions on its pieces."""
    return [Digit(None if d.rejected else d.digit, d.confidence, p.box, x, p.ink if len(option) == 1 else None,
                  d.not_digit)
            for p, x, d in ((p, x, next(decisions)) for p, x in zip(option, xs) if x is not None)]


def _choose(g, scored, even: int | None = None) -> list[Digit]:
    """The way to cut a group that the model is surest of, under the rules for narrow and wide marks. Ways from index
    `even` on are lattice.py's: no near-tie bonus, the best of so many cuts ties by chance (an open 0 read 17)."""
    if g.narrow:  # one digit wide: split only when the model cannot read it whole and is sure of each piece
        whole = scored[0][1]
        if whole and whole[0].digit is not None and whole[0].confidence >= WHOLE_SURE:
            return whole
        pairs = [(s, (crossed <= 1 or crossed == 2 and _two_strokes(whole, s[1])) and _tall(s[1], g.options[0][0].box))
                 for s, crossed in zip(scored[1:], g.crossings[1:]) if s[1] and not _arms(s[1])]
        sure = [(s, tall) for s, tall in pairs if min(d.confidence for d in s[1]) >= SURE]
        splits = [s for s, tall in sure if tall]
        if splits and NARROW_GATE and whole and whole[0].digit is not None and whole[0].not_digit is not None \
                and _gated(whole) >= max(_gated(made) for _, made in splits):
            scored = scored[:1]  # the gate finds the mark whole as much a digit as its pieces: a wide 0, a 4
        elif splits:
            scored = splits
        elif whole and whole[0].confidence < UNSURE:  # unsure of it whole: two tall pieces need not be sure
            scored = scored[:1] + [s for s, tall in pairs if tall] + [s for s, _ in sure]
        else:
            scored = scored[:1]
    else:  # wide: segment.py's way into full-height digits cut off across one stroke each wins near-ties
        box, even = g.options[0][0].box if len(g.options[0]) == 1 else None, len(scored) if even is None else even
        scored = [(score + (FULL_BONUS * len(made) if box and k < even and crossed <= 1 and _tall(made, box) else 0.0),
                   made) for k, ((score, made), crossed) in enumerate(zip(scored, g.crossings))]
        scored = [s for s, crossed in zip(scored, g.crossings) if crossed <= MAX_CROSSED]
        if not scored:  # no way to cut it but across loops: a scribble, not digits touching
            x = piece_input(g.crop)
            return [Digit(None, 0.0, g.box, np.zeros((28, 28), np.float32) if x is None else x)]
    return max(scored, key=lambda s: s[0])[1]


def _short_whole(predictor, g, whole: list[Digit], made: list[Digit]) -> list[Digit]:
    """A mark letters.short_mark refused for being cut into 2+ digits (`made`), read whole instead when the model reads
    it whole as one digit WHOLE_SURE sure: an open 4 beside a taller 0, a small 2 written flat (wider than
    segment.WHOLE, so never offered whole). With a gate, letters.refuse_letters then judges it as any whole mark."""
    if len(whole) != 1 or len(g.options[0]) != 1:
        x = piece_input(g.crop)
        if x is None:
            return made
        d = predictor.decide(x[None])[0]
        whole = [Digit(None if d.rejected else d.digit, d.confidence, g.box, x, g.crop, d.not_digit)]
    return whole if whole[0].digit is not None and whole[0].confidence >= WHOLE_SURE else made


def _arms(made: list[Digit]) -> bool:
    return len(made) == 2 and made[0].digit == made[1].digit == 1 and \
        slant.slant(made[0].input) - slant.slant(made[1].input) >= ARMS


def _two_strokes(whole: list[Digit], made: list[Digit]) -> bool:
    digits = [d.digit for d in made]
    return not (whole and whole[0].digit is not None) and len(made) == 2 and None not in digits and digits != [1, 1] \
        and min(d.confidence for d in made) >= TWO_STROKES


def _line_sure(made: list[Digit], narrow: bool = False) -> bool:
    """Whether the line reader's reading of a mark stands (else the cuts decide, as without it): not a V's arms."""
    refused = [d.not_digit >= (LINE_GATE_ONE if d.digit == 1 else LINE_GATE) for d in made if d.not_digit is not None]
    least = min(d.confidence for d in made)
    allowed = LINE_REFUSED_SURE if least >= LINE_VERY_SURE else LINE_REFUSED
    sure = least >= LINE_SURE and sum(refused) <= allowed * len(made)
    return sure and not (narrow and _arms(made))


def _whole_surer(whole: list[Digit], line: list[Digit]) -> bool:
    """Whether the digit model is surer of a mark read whole as one digit (mean log-confidence) than the line reader
    of its digits: the mark is then read as without a reader, the cuts against the mark whole (a wide open 0: 0 at
    0.9992, not 62 at 0.98 and 0.96; among other marks, an open 6 not 60, a flat 2 not 52); two touching digits the
    model doubts whole stay the line reader's."""
    return len(whole) == 1 and whole[0].digit is not None and _score(whole) >= _score(line)


def _pieces_not_digit(predictor, xs: list) -> list:
    """Predictor.piece_not_digit of each piece cut between the line reader's digits; None each without a gate."""
    judge = getattr(predictor, "piece_not_digit", None)
    found = judge(np.stack(xs)) if xs and judge is not None else None
    return [None] * len(xs) if found is None else [float(v) for v in found]


def _remerge(predictor, digits: list[Digit]) -> list[Digit]:
    """Neighbouring marks read as one digit where they are its separated strokes (a 5's hat far off, an open 4):
    one mark shorter than the other, both together one digit wide, and the model much surer of them joined."""
    pairs, inputs = [], []
    for i, (a, b) in enumerate(zip(digits, digits[1:])):
        if a.ink is None or b.ink is None:
            continue
        box = (min(a.box[0], b.box[0]), min(a.box[1], b.box[1]), max(a.box[2], b.box[2]), max(a.box[3], b.box[3]))
        ha, hb = a.box[3] - a.box[1], b.box[3] - b.box[1]
        if min(ha, hb) >= PART_OF * max(ha, hb) or box[2] - box[0] > segment.SPLIT * (box[3] - box[1]):
            continue
        joined = np.zeros((box[3] - box[1], box[2] - box[0]), np.float32)
        for d in (a, b):
            region = joined[d.box[1] - box[1]:d.box[3] - box[1], d.box[0] - box[0]:d.box[2] - box[0]]
            np.maximum(region, d.ink, out=region)
        x = piece_input(joined)
        if x is not None:
            pairs.append((i, box, joined))
            inputs.append(x)
    if not inputs:
        return digits
    out, skip = list(digits), set()
    for (i, box, joined), x, d in zip(pairs, inputs, predictor.decide(np.stack(inputs))):
        parts = min(digits[i].confidence if digits[i].digit is not None else 0.0,
                    digits[i + 1].confidence if digits[i + 1].digit is not None else 0.0)
        if i in skip or d.rejected or d.confidence < SURE or d.confidence < parts + MERGE_GAIN:
            continue
        out[i], out[i + 1] = Digit(d.digit, d.confidence, box, x, joined), None
        skip.add(i + 1)
    return [d for d in out if d is not None]


def _tall(made: list[Digit], box) -> bool:
    """Whether each of these pieces is nearly as tall as the mark they were cut from."""
    return all(d.box[3] - d.box[1] >= TALL_PIECE * (box[3] - box[1]) for d in made)


def _score(made: list[Digit]) -> float:
    """How sure the model is of a way to cut a group: mean log-confidence, a refused digit counting as 0."""
    return sum(math.log(max(d.confidence if d.digit is not None else 0.0, 1e-9)) for d in made) / len(made) \
        if made else -math.inf


def _gated(made: list[Digit]) -> float:
    """Mean of log-confidence + the gate's log P(digit): how much these look like digits, each alone."""
    return sum(math.log(max(d.confidence, 1e-9)) + math.log(max(1 - (d.not_digit or 0.0), 1e-9))
               for d in made) / len(made)


def _reading(path: str, digits: list[Digit], marks=()) -> Reading:
    if any(d.digit is None for d in digits):
        return Reading(path, rejected=True, digits=digits, reason=f"a mark is {NOT_A_DIGIT}")
    if (text := punctuated.text(digits, marks)) is None:
        return Reading(path, rejected=True, digits=digits, reason=punctuated.MISPLACED)
    return Reading(path, text, float(np.prod([d.confidence for d in digits])), digits=digits)


def piece_input(ink: np.ndarray) -> np.ndarray | None:
    """One digit's ink (white on black, neighbours removed) -> its 28x28, with a margin of black paper around it."""
    pad = max(MIN_PAD, round(PAD * max(ink.shape)))
    return images.to_mnist(np.pad(ink, pad), desk=False)
