"""punctuation.find: a point, comma, colon, dash or slash between the digits of a row (written among them), a plus,
equals or per cent sign (refused), on drawn marks (no model); punctuated.text: where the marks go."""

import cv2
import numpy as np
import pytest

from types import SimpleNamespace

from mnist_cnn import images, percent, punctuated, punctuation


def row(*extra):
    """Three digit-like bars 6 px wide, 60 tall (y 30-90), at x 60, 180, 300, and the extra marks drawn."""
    a = np.zeros((120, 400), np.float32)
    for x in (60, 180, 300):
        cv2.line(a, (x, 30), (x, 90), 1.0, 6)
    for draw in extra:
        draw(a)
    return a


def dot(x, y, r=4):
    return lambda a: cv2.circle(a, (x, y), r, 1.0, -1)


def ring(x, y, rx, ry, width=3):
    return lambda a: cv2.ellipse(a, (x, y), (rx, ry), 0, 0, 360, 1.0, width)


def bar(x0, x1, y, width=6):
    return lambda a: cv2.line(a, (x0, y), (x1, y), 1.0, width)


def stroke(x0, y0, x1, y1):
    return lambda a: cv2.line(a, (x0, y0), (x1, y1), 1.0, 6)


PLUS = [bar(104, 136, 60), stroke(120, 44, 120, 76)]
SLASH = stroke(255, 30, 225, 90)  # as tall as the digits, leaning right: a per cent sign's
RINGS = [lambda a: cv2.circle(a, (222, 42), 7, 1.0, 3), lambda a: cv2.circle(a, (258, 78), 7, 1.0, 3)]
PER_CENT = [SLASH, *RINGS]


@pytest.mark.parametrize("marks, char", [
    ([dot(120, 86)], "."),                                              # 3.95: a point on the baseline
    ([dot(120, 95)], "."),                                              # ...or a little under it
    ([lambda a: cv2.line(a, (124, 80), (116, 102), 1.0, 6)], ","),      # 12,50: a comma hanging from the baseline
    ([stroke(124, 70, 114, 102)], ","),                                 # 1,000: a long one, over half as tall
    ([stroke(124, 66, 116, 104)], ","),                                 # ...0.65 as tall (Purisa Bold's)
    ([stroke(132, 80, 106, 104)], ","),                                 # ...as wide as a point may not be
    ([stroke(122, 78, 119, 92)], ","),                                  # 1,250: a short tick, small as a point
    ([ring(120, 78, 10, 10, 8)], "."),                                  # 4.2: a ring round a pinhole, 0.45 as tall
    ([lambda a: cv2.fillPoly(a, [np.int32(cv2.boxPoints(((120, 76), (21, 21), 20)))], 1.0)], "."),  # a blot: 0.6
    ([lambda a: cv2.rectangle(a, (114, 78), (125, 92), 1.0, -1)], "."),  # a square point, taller where sheared
    ([lambda a: cv2.ellipse(a, (120, 84), (5, 7), 0, 0, 360, 1.0, -1)], "."),  # a tall dot (Humor Sans'), no tail
    ([lambda a: cv2.fillPoly(a, [np.array([(115, 78), (125, 78), (124, 92), (120, 92)])], 1.0)], ","),  # Seto's
    ([dot(120, 45), dot(120, 75)], ":"),                                # 7:39: a colon
    ([dot(124, 50), dot(116, 80)], ":"),                                # ...an italic one, its dots apart across
    ([lambda a: cv2.line(a, (100, 60), (140, 60), 1.0, 6)], "-"),       # 4-2, its dash close to its digits
    ([bar(180, 212, 30), bar(208, 250, 60)], "-"),                      # 7-1: the 7's bar over the dash's columns
    ([lambda a: cv2.line(a, (255, 12), (228, 94), 1.0, 6)], "/"),       # 12/05: taller than the digits, leaning
], ids=["point", "low point", "comma", "long comma", "longer comma", "wide comma", "tick comma", "big point", "blot",
        "square point", "tall dot", "wedge comma", "colon", "italic colon", "dash", "dash under a bar", "slash"])
def test_punctuation_between_digits_is_found_where_it_stands(marks, char):
    found, why = punctuation.find(row(*marks))
    assert why is None and [m.char for m in found] == [char]
    digits = [SimpleNamespace(digit=d, box=(x - 3, 30, x + 3, 90)) for d, x in zip((1, 2, 3), (60, 180, 300))]
    assert punctuated.text(digits, found) in (f"1{char}23", f"12{char}3")
    ink, (x0, y0, x1, y1) = punctuated.without(row(*marks), found), found[0].box
    assert (ink[row() > 0] > 0).all() and not ink[y0:y1, x0:x1][found[0].ink].any()  # the mark's ink out, digits' in


def test_a_minus_sign_goes_before_the_digits_and_two_marks_between_two_digits_are_no_number():
    found, why = punctuation.find(row(bar(30, 48, 60), dot(240, 86)))
    digits = [SimpleNamespace(digit=d, box=(x - 3, 30, x + 3, 90)) for d, x in zip((1, 2, 3), (60, 180, 300))]
    assert why is None and punctuated.text(digits, found) == "-12.3"
    assert punctuated.text(digits, punctuation.find(row(dot(110, 86), dot(130, 86, 5)))[0]) is None  # 1..23
    assert punctuated.text(digits, punctuation.find(row(dot(350, 86)))[0]) == "123"  # a full stop: not looked at
    assert punctuated.text(digits[:1], found) is None  # the point after the only digit


@pytest.mark.parametrize("marks", [
    [stroke(112, 42, 128, 50), lambda a: cv2.line(a, (124, 80), (116, 102), 1.0, 6)],  # a 2 faded in its middle
    [ring(120, 48, 11, 11, 4), dot(120, 86)],                                         # a broken 8's loop over a point
    [dot(120, 40), bar(104, 136, 62)],                                               # a dash under a dot: a broken 5
], ids=["faded 2", "broken 8", "broken 5"])
def test_pieces_of_a_broken_digit_between_digits_refuse_the_row(marks):
    """Each piece alone a comma, point or dash (a receipt's 1728 was read 17,8); before, the row was refused too."""
    assert punctuation.find(row(*marks)) == ([], punctuated.BROKEN)


def test_a_mark_neither_point_nor_comma_refuses_and_so_does_one_no_check_took_beside_a_mark_found():
    """A point's place and size with a comma's tail but not its stroke (0.99 was read 099); a mark between two digits
    that no check took, beside a point found (a date's second point missed by a hair: 03.11.2017 read 0311.2017)."""
    assert punctuation.find(row(lambda a: cv2.line(a, (122, 78), (118, 94), 1.0, 2))) == ([], punctuated.UNREAD)
    assert punctuation.find(row(dot(120, 86), stroke(240, 38, 240, 50))) == ([], punctuated.UNREAD)
    assert punctuation.find(row(stroke(240, 38, 240, 50))) == ([], None)  # alone: left as it was
    leaning = [lambda a: a.__setitem__((slice(None), slice(170, 200)), 0), stroke(190, 30, 170, 90)]  # a 1 leaning
    assert punctuation.find(row(*leaning, dot(163, 70))) == ([], punctuated.UNREAD)  # a point in its box: 5.57


def test_a_tall_leaning_mark_that_is_not_straight_is_no_slash():
    """A face's italic f between digits stands as tall and leans as a slash does: 99f94 was read 99/94."""
    f = [stroke(255, 12, 228, 94), stroke(255, 12, 268, 16), stroke(234, 48, 256, 48)]  # its stem, hook and bar
    assert punctuation.find(row(*f)) == ([], punctuated.UNREAD)
    assert [m.char for m in punctuation.find(row(f[0]))[0]] == ["/"]


@pytest.mark.parametrize("marks, kind", [
    (PLUS, "plus sign"),                                                # 5+3
    ([bar(104, 136, 55), bar(104, 136, 65)], "equals sign"),            # 5=5, its bars closer than a stroke
    (PER_CENT, "per cent sign"),                                        # 5%3
], ids=["plus", "equals", "per cent"])
def test_signs_between_digits_refuse_the_row(marks, kind):
    article = "an" if kind[0] in "aeiou" else "a"
    where = "" if kind == "per cent sign" else " between the digits"  # 50%, or a % alone: a per cent sign anywhere
    assert punctuation.find(row(*marks)) == ([], f"{article} {kind}{where} (not a digit)")


@pytest.mark.parametrize("marks", [
    [],
    [dot(120, 40)],                                              # high in the row: not where a point sits
    [dot(350, 86)],                                              # after the last digit: a full stop
    [lambda a: a.__setitem__((slice(85, 87), slice(120, 122)), 1.0)],  # dust
    [lambda a: cv2.line(a, (120, 70), (120, 95), 1.0, 1)],       # a squared page's stub of a line: thin
    [dot(186, 86)],                                              # on a digit's own column: a stroke of it
    [dot(113, 86), dot(124, 86)],                                # pieces of a broken stroke, close together
    [lambda a: cv2.line(a, (100, 33), (140, 33), 1.0, 6)],       # a bar along the top: a 5's hat, a 7's bar
    [lambda a: cv2.line(a, (100, 60), (140, 60), 1.0, 1)],       # a ruled line's thin stub
    [lambda a: cv2.line(a, (250, 30), (230, 90), 1.0, 6)],       # a slanted 1, as tall as the digits
    [lambda a: cv2.line(a, (240, 10), (240, 95), 1.0, 6)],       # a tall 1 standing upright
    [stroke(120, 62, 120, 96)],                                  # a short 1 standing on the baseline
    [lambda a: cv2.line(a, (252, 15), (235, 93), 1.0, 6)],       # a 1 leaning 12 degrees, 1.25x as tall
    [dot(68, 86)],                                               # a stroke's end broken off, touching its digit's box
    [ring(120, 76, 12, 14, 4)],                                  # a small 0 low in the row: a ring, not a point
    [ring(120, 74, 10, 10, 6)],                                  # ...in the digits' own 6 px pen (fills 58%)
    [ring(120, 64, 10, 10, 8)],                                  # a big round blob reaching over the row's middle
    [stroke(100, 40, 100, 62), bar(96, 144, 62), stroke(120, 40, 120, 90)],  # a 4 with a third stroke
    [bar(100, 124, 70), stroke(124, 40, 124, 90)],               # a 4 without its left stroke: its bar stops short
    PLUS[:1] + [stroke(120, 44, 120, 76), dot(103, 45, 3)],      # a plus shape with a piece close by: a broken 4
    [bar(100, 140, 33), bar(100, 140, 43)],                      # two bars at the top (a 5's hat and a stroke)
    PER_CENT[:2] + [dot(256, 74, 3), dot(256, 86, 3)],           # a slash with a piece either side, two below: a 4
    [stroke(232, 30, 262, 90), RINGS[0], ring(262, 104, 7, 7)],   # leaning left: no per cent sign
    [SLASH, bar(214, 240, 40), RINGS[1]],                         # a 7's bar lifted off its stem: no ring
    [SLASH, ring(208, 50, 14, 24), RINGS[1]],                     # a mark 0.8x the slash's height: no ring
    [SLASH, ring(215, 58, 10, 20), RINGS[1]],                     # reaching down past 3/4 of the slash: no ring
    [SLASH, ring(195, 42, 7, 7), RINGS[1]],                       # far to the left: the digit before's
    [ring(120, 60, 22, 28, 4), bar(112, 128, 55, 4), bar(112, 128, 65, 4)],  # two bars within a 0: none between digits
    [bar(104, 136, 60), stroke(120, 44, 120, 76), lambda a: cv2.line(a, (106, 40), (106, 58), 0.2, 6)],  # a pale 4
    [bar(100, 115, 55), bar(125, 140, 65)],                      # two flat marks side by side, not one over the other
    [bar(104, 136, 38), bar(104, 136, 86)],                      # far apart, not one sign
    [bar(114, 120, 55), bar(114, 120, 65)],                      # too short to be an equals sign's bars
    [bar(336, 368, 60), stroke(352, 44, 352, 76)],               # a cross after the last digit: not between two
    [bar(86, 154, 60), stroke(120, 47, 120, 73)],                # a long bar crossed by a short stroke: not a plus
    [bar(90, 150, 60), stroke(120, 25, 120, 98)],                # a cross taller than the digits: not a plus
], ids=["digits only", "high", "full stop", "dust", "stub", "on a digit", "broken stroke", "top bar", "rule stub",
        "slanted 1", "tall 1", "short 1", "tall leaning 1", "broken end", "small 0", "pen's small 0", "high blob", "4",
        "open 4",
        "broken 4", "two top bars", "broken diagonal 4", "backslash", "7 bar", "tall ring", "low ring", "far ring",
        "bars in a 0",
        "pale 4", "bars side by side", "bars far apart", "short bars", "cross at the end", "flat cross", "tall cross"])
def test_digits_and_marks_that_are_no_point_between_them_are_not(marks):
    assert punctuation.find(row(*marks)) == ([], None)


def alone(*draw, width=160):
    """A (120, width) map with only the marks drawn: one character, no row of digits around it."""
    a = np.zeros((120, width), np.float32)
    for d in draw:
        d(a)
    return a


QUESTION_HOOK = [lambda a: cv2.ellipse(a, (80, 42), (16, 14), 0, 180, 450, 1.0, 6), stroke(80, 56, 80, 70)]


@pytest.mark.parametrize("ink", [
    alone(*QUESTION_HOOK, dot(80, 88, 5)),                       # "?": a hook, its point under its stem
    alone(stroke(80, 30, 80, 70), dot(80, 88, 5)),               # "!"
    alone(stroke(80, 30, 80, 70), dot(80, 88, 9)),               # "!" with a big point (Humor Sans': 0.46x as tall)
    row(stroke(360, 30, 360, 70), dot(360, 88)),                 # "123!"
    alone(stroke(95, 30, 75, 75), dot(74, 88, 4)),               # an italic "!": its point under its foot, left of
], ids=["question", "exclamation", "big point", "after digits", "italic"])  # its box's middle
def test_a_point_under_a_stroke_is_a_question_or_exclamation_mark(ink):
    assert punctuation.find(ink) == ([], punctuated.QUESTION)


@pytest.mark.parametrize("ink", [
    alone(bar(60, 100, 30), stroke(100, 30, 70, 90), dot(84, 86, 5)),  # "7.": the point beside the foot, under the bar
    alone(stroke(80, 30, 80, 70), dot(80, 78, 4)),               # a point closer to the stroke than UNDER of its height
    alone(stroke(80, 30, 80, 70), dot(80, 110, 4)),              # farther under it than FAR of its height: a speck
    alone(ring(80, 52, 14, 22, 6), dot(80, 90, 4)),              # under a 0's round bottom (no stroke's end)
    alone(stroke(80, 30, 80, 70), dot(100, 88, 5)),              # a point under the stroke's side, not its middle
    row(dot(300, 100)),                                          # under a digit, but as close as a low point
], ids=["7.", "close", "far", "under a 0", "aside", "low point"])
def test_a_point_beside_a_foot_or_close_under_it_is_no_question_mark(ink):
    assert punctuation.find(ink)[1] is None


def test_a_per_cent_sign_alone_is_refused_as_one_among_digits_is():
    """No digits either side: a % alone was read 916 (its rings 9 and 6, its slash a 1); a hand's % with one ring
    joined to the slash was read 7 (the other ring dropped as a speck)."""
    upper, lower = lambda a: cv2.circle(a, (62, 42), 7, 1.0, 3), lambda a: cv2.circle(a, (98, 78), 7, 1.0, 3)
    joined = lambda a: cv2.circle(a, (77, 42), 9, 1.0, 3)  # touching the slash
    for marks in ([upper, lower], [joined, lower], [upper, lambda a: cv2.circle(a, (82, 80), 9, 1.0, 3)]):
        assert punctuation.find(alone(stroke(95, 30, 65, 90), *marks)) == ([], "a per cent sign (not a digit)")
    nine = [ring(75, 45, 12, 12, 4), stroke(87, 45, 85, 90)]
    assert punctuation.find(alone(*nine, dot(96, 86))) == ([], None)  # "9.": a solid point, no ring
    assert punctuation.find(alone(*nine, lambda a: cv2.circle(a, (100, 84), 7, 1.0, 3))) == (
        [], "a per cent sign (not a digit)")  # a 9 with a small ring at its foot: as a % is drawn
    eight, small_zero = [ring(75, 35, 10, 10, 4), ring(75, 58, 12, 13, 4)], ring(100, 84, 7, 7, 3)
    for ink in (alone(*eight, small_zero),                               # an 8 has two holes: no ring joined
                alone(*nine, ring(108, 72, 9, 17, 4)),                   # "90", its 0 0.65x as tall as the 9
                alone(ring(75, 55, 12, 22, 4), small_zero)):             # "00", a small 0 low: its hole spans both
        assert punctuation.find(ink)[1] is None
    among = row(ring(225, 45, 12, 12, 4), stroke(237, 45, 235, 90), ring(252, 84, 7, 7, 3))  # "8007" was refused so
    assert punctuation.find(among)[1] != "a per cent sign (not a digit)"


def test_a_short_slash_between_rings_is_no_per_cent_sign():
    """Its lower ring, low and round but too thin for a point, refuses the row as a mark that is no punctuation."""
    assert punctuation.find(row(stroke(245, 45, 235, 75), *RINGS)) == ([], punctuated.UNREAD)


def test_a_ruled_line_joining_the_digits_is_left_out():
    """A ruled page's faint line along the digits' tops made them one mark: no point lay between two (817:80 read
    81780); it goes first, as segment.py removes it."""
    assert [m.char for m in punctuation.find(row(lambda a: cv2.line(a, (0, 31), (399, 31), 0.5, 1), dot(120, 86)))[0]] \
        == ["."]


def test_ink_map_keeps_the_specks_it_drops_for_the_punctuation_check():
    marks = np.zeros((120, 400), np.uint8)
    for x in (40, 110, 180, 250, 320):
        cv2.line(marks, (x, 20), (x, 100), 1, 10)
    cv2.circle(marks, (75, 97), 5, 1, -1)  # ~1.7% of the ink: a speck by mass
    page = np.where(marks > 0, 30, 230).astype(np.uint8)  # dark ink on paper
    ink, loose = images.ink_map(page, with_specks=True)
    assert np.array_equal(ink, images.ink_map(page))
    assert ink[92:104, 69:81].max() == 0 and loose[92:104, 69:81].max() == 1.0
    assert [m.char for m in punctuation.find(loose)[0]] == ["."]


def test_a_texture_of_thousands_of_marks_is_left_to_segment_without_pairing_them(monkeypatch):
    """The cells of a 6 px grid (29,241 marks, all as tall as each other: a fine mesh, a halftone) kept the slash
    check's pairs of tall marks busy for over 5 minutes, the small marks' pairwise gaps 36 s on dots; segment.py
    refuses such ink as speckled in a second."""
    for name in ("_slashes", "_plus", "_equals"):
        monkeypatch.setattr(punctuation, name, lambda *a, name=name: pytest.fail(f"{name} looked at a texture"))
    monkeypatch.setattr(percent, "find", lambda *a: pytest.fail("percent.find looked at a texture"))
    cells = np.ones((1024, 1024), np.float32)
    cells[::6], cells[:, ::6] = 0, 0
    assert punctuation.find(cells) == ([], None)
    monkeypatch.undo()
    dust = [dot(x, y, 1) for x in range(4, 396, 8) for y in (6, 112)]  # 98 specks: a number's marks still looked at
    assert punctuation.find(row(*PER_CENT, *dust)) == ([], "a per cent sign (not a digit)")


def arc(x, side, rx=20, ry=40, reach=55):
    """A bracket's stroke round the row's middle (y 60): "(" bowed left of x (side -1), ")" right (side 1)."""
    start = 180 - reach if side < 0 else -reach
    return lambda a: cv2.ellipse(a, (x, 60), (rx, ry), 0, start, start + 2 * reach, 1.0, 6)


OPEN, CLOSE = arc(40, -1), arc(320, 1)  # bowed by 0.12 of their height, as tall as the digits or more


def sheared(a, k):
    return cv2.warpAffine(a, np.float32([[1, -k, k * a.shape[0] / 2], [0, 1, 0]]), (a.shape[1], a.shape[0]))


@pytest.mark.parametrize("ink", [
    row(OPEN, CLOSE),
    sheared(row(arc(48, -1), arc(328, 1)), 0.25),                      # slanted: sharing a few columns with the digits
    row(OPEN, CLOSE, lambda a: cv2.rectangle(a, (3, 3), (396, 116), 1.0, 2)),  # a box drawn round it all: no digit
], ids=["upright", "slanted", "in a box"])
def test_brackets_round_the_digits_are_found(ink):
    assert punctuation.find(ink) == ([], "brackets round the digits (not a digit)")


@pytest.mark.parametrize("marks", [
    [OPEN],                                                       # one bracket: a bowed stroke first, nothing after
    [CLOSE],
    [arc(40, -1, rx=8), arc(320, 1, rx=8)],                       # bowed by 0.05: 1s written with a curve
    [OPEN, stroke(330, 30, 330, 90), stroke(330, 30, 318, 42)],   # a flagged 1 last: bent at one end only
    [ring(28, 60, 10, 33), ring(332, 60, 10, 33)],                # narrow 0s: not bowed either way
    [OPEN, ring(32, 80, 8, 10), CLOSE],                           # a narrow 6 first: its loop crosses rows twice
    [arc(40, -1, ry=22), arc(320, 1, ry=22)],                     # bows 0.64 of the digits' height: no brackets
    [arc(20, 1), arc(350, -1)],                                   # bowed toward the digits: ")" first, "(" last
], ids=["open only", "close only", "curved 1s", "flagged 1 last", "narrow 0s", "6 first", "short bows", "wrong way"])
def test_marks_that_are_no_brackets_round_the_digits_are_not(marks):
    assert punctuation.find(row(*marks)) == ([], None)


def written(text, lean=0.0, slash=0.43, gap=50):
    """A row of `text`, its digits 60 px tall, a character every `gap` px: 0 a ring, 1 an upright bar, / a straight
    stroke leaning `slash` px across per px up, each 0 and 1 leaning `lean` (an oblique hand); T a slash 1.4x as tall
    as the digits, rising above them, | an upright bar as tall, o a ring leaning 0.6 (no straight mark)."""
    a = np.zeros((160, 60 + gap * len(text)), np.float32)
    for k, c in enumerate(text):
        x, tilt, half = 50 + gap * k, 30 * (slash if c == "/" else lean), 30 * 1.4
        if c in "0o":
            cv2.ellipse(a, (x, 80), (14, 28), np.degrees(np.arctan(0.6 if c == "o" else lean)), 0, 360, 1.0, 5)
        elif c in "T|":
            t = half * (slash if c == "T" else 0.0)
            cv2.line(a, (round(x + t), round(110 - 2 * half)), (round(x - t), 110), 1.0, 6)
        else:
            cv2.line(a, (round(x + tilt), 50), (round(x - tilt), 110), 1.0, 6)
    return a


@pytest.mark.parametrize("text, lean, slash", [
    ("10/10/0010", 0.0, 0.43), ("1/10/00", 0.0, 0.43), ("00/1/0100", 0.0, 0.43),  # day, month, year
    ("0010/10/01", 0.0, 0.43),                                                     # year first
    ("10/10/0010", 0.3, 0.6), ("10/1/10", -0.15, 0.3),                             # an oblique hand, a backhand
    ("10/1o/0010", 0.0, 0.43),                                                     # a ring leaning as far
    ("00T00T0000", 0.0, 0.43),                                                     # slashes punctuation.py finds too
    ("10T10T0010", 0.0, 0.15),                                                     # taller, leaning little
])
def test_a_dates_slashes_as_tall_as_its_digits_are_found(text, lean, slash):
    """A lone slash as tall as the digits is a leaning 1 (12/05 reads 12105), but two leaning more than the row,
    parting it into a day, a month and a year, are a date's (07/12/2026 read 0711212026)."""
    found, why = punctuation.find(written(text, lean, slash))
    assert why is None and [m.char for m in found] == ["/", "/"]
    assert [round(m.x / 50 - 1) for m in found] == [k for k, c in enumerate(text) if c in "/T"]


@pytest.mark.parametrize("text, lean, slash", [
    ("10/1000", 0.0, 0.43),      # one slash: a leaning 1 (12/05)
    ("100/1/100", 0.0, 0.43),    # no date's groups: 3, 1, 3
    ("10/10/100", 0.0, 0.43),    # a year of 3 digits
    ("1/1/1/10", 0.0, 0.43),     # three leaning marks
    ("10/10/0/0", 0.0, 0.43),    # ...or among four groups
    ("10/10/1010", 0.45, 0.43),  # an oblique hand's 1s, leaning with its row
    ("10/10/00001", 0.0, 0.43),  # a year of 5 digits
    ("100/10/10", 0.0, 0.43),    # a group of 3 first...
    ("10/100/10", 0.0, 0.43),    # ...between...
    ("0010/1/100", 0.0, 0.43),   # ...or last, year first
    ("010/10/10", 0.0, 0.43),
    ("10/10/0010", 0.0, 0.15),   # slashes leaning a little more than the row: 1s
    ("10|10|0010", 0.0, 0.43),   # tall upright bars
])
def test_leaning_1s_that_part_no_date_are_digits(text, lean, slash):
    assert punctuation.find(written(text, lean, slash)) == ([], None)


def test_a_dates_slashes_taller_than_its_digits_may_lean_no_more_than_its_row():
    """An italic face's (DKG's): its slashes lean with its digits, but rise above them, their boxes overlapping."""
    found, why = punctuation.find(written("11T11T1111", lean=0.45, slash=0.45, gap=30))
    assert why is None and [m.char for m in found] == ["/", "/"]


def test_a_dates_two_slashes_lean_alike():
    a = written("10/10/1010")
    assert [m.char for m in punctuation.find(a)[0]] == ["/", "/"]
    a[:, 265:335] = 0
    cv2.line(a, (round(300 + 30 * 0.9), 30), (round(300 - 30 * 0.9), 90), 1.0, 6)  # the second leaning twice as far
    assert punctuation.find(a) == ([], None)


def test_a_point_pressed_flat_is_a_point():
    """A face's point 0.08 of the digits' height tall, 0.12 wide (Dancing Script's, under MIN_SIDE): 3.95 read 395. A
    fine pen's row (strokes 3.8 px, digits 101 px), where THIN_DOT and not the pen's width bounds it."""
    def fine(x0, y0, x1, y1):
        a = np.zeros((160, 400), np.float32)
        for x in (60, 180, 300):
            cv2.line(a, (x, 20), (x, 118), 1.0, 2)
        return cv2.rectangle(a, (x0, y0), (x1, y1), 1.0, -1)

    assert [m.char for m in punctuation.find(fine(115, 110, 125, 116))[0]] == ["."]  # 11 x 7
    assert punctuation.find(fine(115, 111, 125, 116)) == ([], None)  # 11 x 6: thinner than THIN_DOT
    assert punctuation.find(fine(113, 110, 127, 116)) == ([], None)  # 15 x 7: a stub, over twice as long as thin
