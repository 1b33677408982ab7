"""holes.drop: a spiral notebook's holes down one side of the ink map, taken out; dot-matrix digits and dotted lines
elsewhere kept.

    PYTHONPATH=src python -m pytest -q tests/test_holes.py
"""

import cv2
import numpy as np
import pytest

from mnist_cnn import holes, images


def _holes(a, side="left", n=14, radius=7):
    h, w = a.shape
    for k in range(n):
        at = 20 + k * (h - 40) // (n - 1) if side in ("left", "right") else 20 + k * (w - 40) // (n - 1)
        centre = {"left": (12, at), "right": (w - 13, at), "top": (at, 12), "bottom": (at, h - 13)}[side]
        cv2.circle(a, centre, radius, 1.0, -1)


def _digit(a):
    cv2.ellipse(a, (230, 260), (50, 90), 0, 0, 360, 1.0, 10)  # a 0


@pytest.mark.parametrize("side", ["left", "right", "top", "bottom"])
def test_a_spiral_bindings_holes_go_and_the_digit_stays(side):
    a = np.zeros((520, 460), np.float32)
    _digit(a)
    kept = a.copy()
    _holes(a, side)
    assert holes.drop(a)
    np.testing.assert_array_equal(a, kept)


def test_holes_a_spirals_wire_joins_to_the_pages_dark_edge_go_with_the_wire_and_the_edge():
    """A notebook photographed with its spiral: each hole's wire loop runs to the page's dark edge at the picture's
    side, which every row of the strip crosses; the holes are found with the loops opened away (holes.WIRE)."""
    a = np.zeros((520, 460), np.float32)
    _digit(a)
    kept = a.copy()
    a[:, :8] = 1.0  # the page's edge, the desk dark beyond it
    for k in range(16):
        y = 20 + k * 480 // 15
        cv2.circle(a, (34, y), 8, 1.0, -1)
        cv2.ellipse(a, (20, y - 2), (16, 6), 0, 180, 360, 1.0, 2)  # the wire's loop from the edge over to the hole
    assert holes.drop(a)
    np.testing.assert_array_equal(a, kept)


def test_writing_touching_a_wired_hole_keeps_what_lies_further_in():
    """Only the holes (rims and all) and what joins them to the picture's side go: a stroke touching a hole, or a
    rule's stub joined to one, keeps its part further in (a review: 9168 read 916, 801 read 501)."""
    a = np.zeros((520, 460), np.float32)
    a[:, :8] = 1.0
    for k in range(16):
        y = 20 + k * 480 // 15
        cv2.circle(a, (34, y), 8, 1.0, -1)
        cv2.ellipse(a, (20, y - 2), (16, 6), 0, 180, 360, 1.0, 2)
    cv2.line(a, (40, 244), (300, 244), 1.0, 6)  # a 7's bar drawn from the hole at y=244
    cv2.line(a, (300, 244), (200, 480), 1.0, 6)
    kept = a[:, 43:].copy()  # right of the holes' inner edge (x = 34 + 8)
    assert holes.drop(a)
    np.testing.assert_array_equal(a[:, 43:], kept)


def test_a_row_of_holes_turned_a_few_degrees_is_found():
    """No one line along the side crosses 12 holes of a row turned 3 degrees: the lines' runs are counted as one too
    (a review: 19 read 1 on a page photographed a little askew)."""
    a = np.zeros((520, 460), np.float32)
    _digit(a)
    kept = a.copy()
    for k in range(16):
        y = 20 + k * 480 // 15
        cv2.circle(a, (14 + round((y - 20) * np.tan(np.radians(3))), y), 7, 1.0, -1)
    assert holes.drop(a)
    np.testing.assert_array_equal(a, kept)


def test_a_blank_pages_holes_are_no_digit():
    """A blank page's holes, squeezed into the 28x28, were read as a 1 at 0.99."""
    a = np.zeros((600, 450), np.float32)
    _holes(a, n=16)
    a[:, 0] = 0  # cut by the picture's side: still holes
    assert images.to_mnist(1 - a) is None


@pytest.mark.parametrize("draw", [
    lambda a: [cv2.circle(a, (30, 15 + 30 * k), 10, 1.0, -1) for k in range(7)],           # a dot-matrix 1, cropped
    lambda a: [cv2.circle(a, (60 + 30 * k, 200), 6, 1.0, -1) for k in range(10)],          # a dotted line, inside
    lambda a: [cv2.circle(a, (12, 20 + 40 * k), 7, 1.0, -1) for k in range(4)] + [_digit(a)],  # 4 holes: too few
    lambda a: [cv2.circle(a, (12, 20 + 12 * k ** 2), 7, 1.0, -1) for k in range(7)] + [_digit(a)],  # unevenly spaced
], ids=["dot-matrix 1", "dotted line", "too few", "uneven"])
def test_what_is_no_row_of_holes_stays(draw):
    a = np.zeros((520, 460), np.float32)
    draw(a)
    kept = a.copy()
    assert not holes.drop(a)
    np.testing.assert_array_equal(a, kept)


def _number_at_top(a):
    text = np.zeros(a.shape, np.uint8)
    cv2.putText(text, "20240615", (20, 70), cv2.FONT_HERSHEY_SIMPLEX, 2.6, 255, 9, cv2.LINE_AA)  # 8 bits only
    a += text.astype(np.float32) / 255


@pytest.mark.parametrize("shape, draw", [
    ((520, 560), _number_at_top),
    ((120, 600), lambda a: [cv2.circle(a, (10, 10 + 16 * k), 6, 1.0, -1) for k in range(7)]),
    ((500, 1000), lambda a: [cv2.ellipse(a, (35 + 95 * k, 40), (12, 18), 0, 0, 360, 1.0, 16) for k in range(10)]),
    ((500, 500), lambda a: [cv2.circle(a, (30 + 48 * k, 25), 14, 1.0, -1) for k in range(10)]
     + [cv2.circle(a, (462 - 30 * k, 25 + 50 * k), 14, 1.0, -1) for k in range(1, 10)]),
], ids=["a number near the top", "a dot-matrix 1 near the side", "ten bold 0s near the top", "a 7 drawn in dots"])
def test_a_reviews_digits_near_a_side_stay(shape, draw):
    """Reviews' cases: a row of printed digits near the top, alike and evenly spaced (a number read as 1), a
    dot-matrix 1's 7 dots by the side of a wide strip (refused), ten bold 0s along the top and a 7 drawn in dots (its
    bar taken)."""
    a = np.zeros(shape, np.float32)
    draw(a)
    kept = a.copy()
    assert not holes.drop(a)
    np.testing.assert_array_equal(a, kept)


def test_the_pieces_beyond_the_rows_inner_edge_go_with_it():
    """A hole the picture's top cuts, one a wire's loop widened, and the binding's end at the bottom are no hole of the
    row but lie beyond its inner edge: left, each was a mark beside the writing (4279 refused, a 7 read in a corner
    of its box)."""
    a = np.zeros((520, 460), np.float32)
    _digit(a)
    kept = a.copy()
    for k in range(15):
        cv2.circle(a, (14, 30 + k * 32), 7, 1.0, -1)
    cv2.circle(a, (14, -2), 7, 1.0, -1)  # cut by the top
    cv2.ellipse(a, (12, 94), (11, 7), 0, 0, 360, 1.0, -1)  # a hole its wire's loop widened, over the row's one
    a[500:, 6:20] = 1.0  # the binding's end
    assert holes.drop(a)
    np.testing.assert_array_equal(a, kept)



def test_a_stroke_beside_a_turned_pages_holes_stays():
    """On a page turned 4 degrees the holes' inner edge slants: a stroke by the holes at the end where they lean in lies
    beyond the row's innermost edge but not beyond its own (a review: 48 read 4, 28 read 8), and is no hole's."""
    a = np.zeros((520, 460), np.float32)
    for k in range(15):
        y = 20 + k * 32
        cv2.circle(a, (14 + round((y - 20) * np.tan(np.radians(4))), y), 7, 1.0, -1)
    cv2.line(a, (46, 40), (38, 120), 1.0, 3)  # a 1 written close to the top holes, slanted
    stroke = a[30:130, 30:60].copy()
    assert holes.drop(a)
    np.testing.assert_array_equal(a[30:130, 30:60], stroke)

def test_a_thin_digit_beside_bold_ones_is_no_speck_beside_a_binding():
    """A binding's holes, weighed with the writing, made a thin stroke among bold digits under 2% of the ink
    (ink_specks.SPECK_FRACTION): 2577 read 257. Once writing is found beside the holes, its specks are weighed
    without them."""
    ink = np.zeros((480, 640), np.float32)
    for k in range(16):
        cv2.circle(ink, (16, 20 + k * 29), 12, 1.0, -1)
    for x in (300, 380, 520):  # bold 0s
        cv2.ellipse(ink, (x, 250), (28, 45), 0, 0, 360, 1.0, 10)
    cv2.line(ink, (470, 205), (440, 295), 1.0, 2)  # a thin 1
    found = images.ink_map(0.9 - 0.8 * ink)
    assert found is not None and found[240:260, 440:470].max() > 0.5
    assert found[:, :40].max() == 0
