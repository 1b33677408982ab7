"""dot_grid.drop: a dot-grid page's printed lattice of dots taken out of the ink map; writing, a number's points,
dot-matrix digits and scattered specks kept. And `to_mnist`/`ink_map` on such a page.

    PYTHONPATH=src python -m pytest -q tests/test_dot_grid.py
"""

import cv2
import numpy as np
import pytest
from PIL import Image

from mnist_cnn import dot_grid, images, number_images


def _lattice(a, pitch=60, radius=4, turn=0.0, rows=None, level=0.5, start=(15, 20)):
    """Dots every `pitch` px over the map (or only `rows`), turned `turn` degrees round its top-left corner."""
    h, w = a.shape
    t = np.deg2rad(turn)
    for i in range(-2, w // pitch + 3):
        for j in rows if rows is not None else range(-2, h // pitch + 3):
            u, v = start[0] + i * pitch, start[1] + j * pitch
            x, y = u * np.cos(t) - v * np.sin(t), u * np.sin(t) + v * np.cos(t)
            if 0 <= x < w and 0 <= y < h:
                cv2.circle(a, (int(round(x)), int(round(y))), radius, level, -1)


def _writing(a):
    cv2.line(a, (100, 60), (118, 250), 1.0, 8)  # a 1
    cv2.ellipse(a, (230, 160), (45, 85), 0, 0, 360, 1.0, 9)  # a 0
    cv2.circle(a, (170, 238), 6, 1.0, -1)  # a point between them, off the lattice


@pytest.mark.parametrize("turn", [0.0, 4.0, -9.0])
def test_a_dot_grid_goes_and_the_writing_and_its_point_stay(turn):
    a = np.zeros((300, 500), np.float32)
    _writing(a)
    kept = a.copy()
    _lattice(a, turn=turn)
    a[kept > 0] = kept[kept > 0]  # the writing over the dots
    clear = cv2.dilate((kept > 0).view(np.uint8), np.ones((15, 15), np.uint8)) == 0  # apart from the writing
    assert dot_grid.drop(a)
    np.testing.assert_array_equal(a[clear], 0)
    np.testing.assert_array_equal(a[kept > 0], kept[kept > 0])


def test_a_large_maps_grid_labelled_at_half_size_goes_to_its_last_pixel():
    """Over HALF px the pieces are labelled on the map halved (2x2 sums): the dots found there are taken out of the
    whole map, odd edges too, and the writing keeps every pixel."""
    a = np.zeros((901, 1203), np.float32)
    cv2.line(a, (300, 150), (330, 700), 1.0, 20)
    kept = a.copy()
    _lattice(a, pitch=150, radius=9, start=(31, 47))
    a[kept > 0] = kept[kept > 0]
    clear = cv2.dilate((kept > 0).view(np.uint8), np.ones((41, 41), np.uint8)) == 0
    assert max(a.shape) > dot_grid.HALF and dot_grid.drop(a)
    np.testing.assert_array_equal(a[clear], 0)
    np.testing.assert_array_equal(a[kept > 0], kept[kept > 0])


_FIVE = ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."]  # a dot-matrix 5, 5 x 7
_EIGHT = ["#####", "#...#", "#...#", "#####", "#...#", "#...#", "#####"]  # a square 8: a lattice's rows, not filled


@pytest.mark.parametrize("digit, unlit", [(_FIVE, 0.0), (_FIVE, 0.3), (_EIGHT, 0.0)])
def test_a_dot_matrix_digit_alone_keeps_its_lit_dots(digit, unlit):
    """A display's 5 drawn in dots 5.7x their size apart is all the ink there is: its rows 1 and 2 apart are no
    lattice's (CLOSER), and of one darkness a square 8's 23 dots, a lattice's, fill 23 of its 35 nodes (under FILL);
    with the 5's unlit dots faintly there (an LCD), its lit dots stay too (a review: the 5 read as nothing, or 3)."""
    a, kept = np.zeros((320, 240), np.float32), np.zeros((320, 240), np.float32)
    for (j, row), i in ((jr, i) for jr in enumerate(digit) for i in range(5)):
        lit = row[i] == "#"
        for m in (a, kept) if lit else (a,):
            if lit or unlit:
                cv2.circle(m, (30 + 40 * i, 30 + 40 * j), 3, 1.0 if lit else unlit, -1)
    found = dot_grid.drop(a)
    np.testing.assert_array_equal(a[kept > 0], kept[kept > 0])  # every lit dot
    if not unlit:
        assert not found


def test_a_large_maps_dark_points_are_weighed_by_their_own_peak():
    """A map over HALF px is labelled at half size, but each dot's darkness is its own peak on the whole map: small
    points as dark as the writing, split across the half map's blocks, stay (a review: 2x2 points went)."""
    a = np.zeros((700, 700), np.float32)
    cv2.line(a, (300, 150), (330, 600), 1.0, 20)
    for i, j in np.ndindex(4, 3):
        a[101 + 60 * i : 104 + 60 * i, 401 + 60 * j : 404 + 60 * j] = 1.0  # 3 x 3 points, off the 2x2 blocks
    kept = a.copy()
    dot_grid.drop(a)
    np.testing.assert_array_equal(a, kept)


def test_a_blank_dotted_page_is_all_grid():
    a = np.zeros((300, 500), np.float32)
    _lattice(a)
    assert dot_grid.drop(a) and not a.any()


def test_a_rectangular_grid_among_more_specks_than_dots_goes():
    """Steps that differ across and down (a page in perspective, a dot-grid of 5 x 6 mm) are each their own; specks
    under MIN_AREA are no dots, however many (a review: 50 specks beside 45 dots kept the whole grid)."""
    a = np.zeros((400, 500), np.float32)
    _writing(a)
    kept = a.copy()
    for i, j in np.ndindex(9, 6):
        cv2.circle(a, (20 + 58 * i, 25 + 70 * j), 4, 0.5, -1)
    a[kept > 0] = kept[kept > 0]  # the writing over the dots
    rng = np.random.default_rng(0)
    for x, y in zip(rng.integers(0, 500, 120), rng.integers(0, 400, 120)):
        if not kept[y, x] and not a[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].any():
            a[y, x] = 0.4  # a 1 px speck
    specks = (a > 0) & (kept == 0) & (cv2.dilate((a > 0.45).view(np.uint8), np.ones((3, 3), np.uint8)) == 0)
    clear = cv2.dilate((kept > 0).view(np.uint8), np.ones((15, 15), np.uint8)) == 0  # dots touching a stroke stay
    assert dot_grid.drop(a)
    assert not ((a >= 0.45) & clear).any()
    np.testing.assert_array_equal(a[kept > 0], kept[kept > 0])
    assert np.count_nonzero(a[specks]) == np.count_nonzero(specks)  # the specks are drop_specks' to weigh


@pytest.mark.parametrize("level, radius, on", [(0.5, 4, False), (1.0, 4, True), (0.5, 12, True)])
def test_points_stay_off_the_grids_nodes_and_on_them_when_dark_or_large(level, radius, on):
    """Only faint dots of the grid's size where its steps put one go (NODE, FAINTER, SIZE): points written among the
    grid's dots, as large as they and as faint, a third of a step from the nearest node and more, stay; points as dark
    as the writing stay on a node too, and so do faint blobs three times a dot's size (a pencil's heavy point)."""
    a = np.zeros((300, 500), np.float32)
    cv2.line(a, (100, 60), (118, 250), 1.0, 8)
    points = [(15 + 60 * i + 18, 20 + 60 * j + 30) for i, j in ((1, 1), (3, 2), (5, 1), (6, 3))]
    if on:
        points = [(15 + 60 * i, 20 + 60 * j) for i, j in ((3, 1), (5, 2), (6, 3))]
    grid = np.zeros_like(a)
    _lattice(grid)
    for p in points:
        cv2.circle(a, p, radius, level, -1)
    kept = a.copy()
    a = np.maximum(a, grid)
    assert dot_grid.drop(a)
    np.testing.assert_array_equal(a, kept)


@pytest.mark.parametrize("draw", ["dot-matrix", "dot-matrix-block", "points", "specks", "few", "ell", "strokes",
                                  "rings", "pairs", "row", "table"])
def test_what_is_no_dot_grid_stays(draw):
    """Dots a pen or a printer sets close (dot-matrix digits: SPARSE), a number's points and a colon, noise's specks
    of one size scattered at random, five dots of a lattice (fewer than DOTS), a row and one dot (under CORE), short
    strokes and small rings set out like a grid's dots (tally marks, o's: no dot is long or hollow), a grid's row
    alone (points in a row of prices: no second direction, CORE), a table's points as dark as its digits (FAINTER):
    none is a printed grid."""
    a = np.zeros((300, 500), np.float32)
    rng = np.random.default_rng(3)
    if draw == "dot-matrix":
        for k in range(7):
            cv2.circle(a, (200, 60 + 24 * k), 5, 1.0, -1)
            cv2.circle(a, (176 + 24 * (k % 3), 60), 5, 1.0, -1)
    elif draw == "points":
        _writing(a)
        for x, y in ((300, 240), (340, 240), (380, 240), (420, 200), (420, 240)):
            cv2.circle(a, (x, y), 6, 1.0, -1)
    elif draw == "specks":
        for x, y in zip(rng.integers(5, 495, 40), rng.integers(5, 295, 40)):
            cv2.circle(a, (int(x), int(y)), 3, 1.0, -1)
    elif draw == "few":  # two rows of two and one more
        _writing(a)
        for x, y in ((300, 20), (360, 20), (300, 80), (360, 80), (420, 80)):
            cv2.circle(a, (x, y), 4, 0.5, -1)
    elif draw == "ell":  # a row and one dot above its first: one dot with neighbours both ways, not CORE
        _writing(a)
        for x, y in ((290, 10), (290, 62), (340, 62), (390, 62), (440, 62), (490, 62)):
            cv2.circle(a, (x, y), 4, 0.5, -1)
    elif draw == "dot-matrix-block":  # a dot-matrix 8's 5 x 7 dots at 2.2x their size, all the ink there is
        for i, j in np.ndindex(5, 7):
            cv2.circle(a, (150 + 24 * i, 60 + 24 * j), 5, 1.0, -1)
    elif draw == "strokes":
        for i, j in np.ndindex(6, 4):
            cv2.line(a, (40 + 80 * i, 30 + 70 * j), (40 + 80 * i, 38 + 70 * j), 1.0, 2)
    elif draw == "pairs":  # each dot's nearest neighbour 20 or 70 degrees off the axes: along neither
        for k in range(8):
            t, (x, y) = np.deg2rad(20 + 50 * (k % 2)), (40 + 110 * (k % 4), 60 + 150 * (k // 4))
            cv2.circle(a, (x, y), 4, 1.0, -1)
            cv2.circle(a, (int(round(x + 50 * np.cos(t))), int(round(y + 50 * np.sin(t)))), 4, 1.0, -1)
    elif draw == "row":
        cv2.line(a, (100, 30), (110, 180), 1.0, 8)
        _lattice(a, pitch=70, rows=[2], start=(20, 40), level=0.5)  # the row at y=180, under the 1's foot
    elif draw == "table":
        cv2.line(a, (20, 10), (24, 40), 1.0, 5)  # the writing: the table's digits as dark as its points
        _lattice(a, pitch=60, level=1.0)
    elif draw == "rings":
        for i, j in np.ndindex(7, 4):
            cv2.circle(a, (40 + 60 * i, 30 + 70 * j), 5, 1.0, 1)
    kept = a.copy()
    assert not dot_grid.drop(a)
    np.testing.assert_array_equal(a, kept)


def test_a_number_on_a_dot_grid_page_is_inked_as_on_plain_paper():
    """number_images.dotted prints a grid under a photographed number's ink; ink_map takes it out again: the ink left
    lies where the plain page's does, and a blank dotted page has no digit (read had taken the dots for points)."""
    rng = np.random.default_rng(0)
    page = np.full((220, 480), 235, np.uint8)
    for x in (90, 200, 310):
        cv2.ellipse(page, (x + 40, 110), (32, 60), 0, 0, 360, 40, 7)
    plain = Image.fromarray(page)
    dotted = number_images.dotted(plain, rng)
    assert (np.asarray(dotted) < np.asarray(plain)).sum() > 200  # the dots are there
    ink, plain_ink = images.ink_map(dotted), images.ink_map(plain)
    assert np.count_nonzero((ink > 0) & (plain_ink == 0)) < 0.01 * np.count_nonzero(plain_ink)
    blank = number_images.dotted(Image.fromarray(np.full((220, 480), 235, np.uint8)), rng)
    assert images.to_mnist(blank) is None
