"""paper_lines.drop_lines: ruled and squared paper taken out of a picture's ink, level or photographed askew.

    PYTHONPATH=src pytest -q tests/test_paper_lines.py
"""

import cv2
import numpy as np
import pytest

from mnist_cnn import paper_lines
from mnist_cnn.images import ink_map

PAPER, TONE, PEN = 225, 0.6, 40  # grey paper, lines printed at 60% of it, a dark pen


def turned_page(w, h, slope, thick=1, squared=False, spacing=50):
    """A grey page ruled every `spacing` px, its lines (and a grid's upright ones) turned by `slope` and drawn a pixel
    at a time, as number_images draws them: 1-px steps along the line."""
    page = np.full((h, w), float(PAPER), np.float32)
    cols, rows = np.arange(w), np.arange(h)
    for y0 in line_starts(w, h, slope, spacing):
        for t in range(thick):
            ys = np.round(y0 + t + slope * cols).astype(int)
            ok = (ys >= 0) & (ys < h)
            page[ys[ok], cols[ok]] *= TONE
    if squared:
        for x0 in range(spacing // 4, w + spacing, spacing // 2):
            for t in range(thick):
                xs = np.round(x0 + t - slope * rows).astype(int)
                ok = (xs >= 0) & (xs < w)
                page[rows[ok], xs[ok]] *= TONE
    return page


def line_starts(w, h, slope, spacing):
    """Where each ruled line meets the left side (some above the picture, to fill it when turned)."""
    return np.arange(spacing // 3 - spacing * int(np.ceil(abs(slope) * w / spacing)), h + spacing, spacing)


def with_strokes(page, xs):
    """Upright pen strokes 8 px wide at xs, crossing the lines from 15% to 85% of the height."""
    h = page.shape[0]
    for x in xs:
        cv2.line(page, (x, int(0.15 * h)), (x, int(0.85 * h)), PEN, 8)
    return page.astype(np.uint8)


@pytest.mark.parametrize("w,h,slope,thick,squared", [
    (400, 140, 0.015, 1, False),  # 0.9 degrees: 6 px of rise across the picture
    (400, 140, -0.025, 1, True),
    (300, 160, 0.035, 2, True),
    (900, 160, 0.013, 3, False),  # wide: the slope must be right to ~0.5 px over 900
    (900, 200, -0.04, 1, True),  # lines leave through the top, bottom and sides
])
def test_lines_photographed_askew_go_and_the_strokes_crossing_them_stay(w, h, slope, thick, squared):
    ink = ink_map(with_strokes(turned_page(w, h, slope, thick, squared), (w // 4, w // 2 + 7)))
    strokes = np.flatnonzero((ink > 0.5).mean(axis=0) > 0.6)  # ink_map may leave out a margin: found, not assumed
    assert len(strokes) >= 2 * 6 and strokes.max() - strokes.min() > w // 5
    near = np.zeros(ink.shape[1], bool)
    for x in strokes:
        near[max(0, x - 6):x + 7] = True
    assert np.count_nonzero(ink[:, ~near] > 0.05) <= 6, "a line (or a part of one) is left"  # a few px of the
    # lines' crossings beside a stroke may stay, as faint specks
    y0, y1 = int(0.15 * h) + 4, int(0.85 * h) - 4
    rows = np.flatnonzero((ink[:, strokes] > 0.5).all(axis=1))
    assert rows.max() - rows.min() >= 0.9 * (y1 - y0), "a stroke was cut where it crosses a line"


def perspective_page(w, h, slopes, spacing=60, thick=2):
    """A grey page whose rules each slope their own way, as in a photo taken at an angle (a keystone): rule k at
    slopes[k], starting `spacing` px apart on the left side."""
    page = np.full((h, w), float(PAPER), np.float32)
    cols = np.arange(w)
    for k, slope in enumerate(slopes):
        for t in range(thick):
            ys = np.round((k + 1) * spacing + t + slope * cols).astype(int)
            ok = (ys >= 0) & (ys < h)
            page[ys[ok], cols[ok]] *= TONE
    return page


@pytest.mark.parametrize("slopes, spacing, thick", [
    ((0.02, 0.035, 0.05), 60, 2), ((-0.06, -0.045, -0.03, -0.015), 60, 2), ((0.0, 0.012, 0.024), 60, 2),
    ((0.011,) * 6, 120, 7),  # a large photo's blurred rules: 7 px thick, over SLOPE_THICK
], ids=["fanning down", "fanning up", "level at the top", "thick"])
def test_rules_photographed_in_perspective_go_each_at_its_own_slope(slopes, spacing, thick):
    w, h = 900, spacing * len(slopes) + 2 * spacing
    ink = ink_map(with_strokes(perspective_page(w, h, slopes, spacing, thick), (w // 3, w // 2 + 7)))
    near = np.zeros(ink.shape[1], bool)
    for x in np.flatnonzero((ink > 0.5).mean(axis=0) > 0.6):
        near[max(0, x - 6):x + 7] = True
    assert near.any() and np.count_nonzero(ink[:, ~near] > 0.05) <= 6, "a rule (or a part of one) is left"


@pytest.mark.parametrize("top", [8, 22, 30, 40])
def test_a_broad_nibs_7_keeps_its_hairline_bar_rising_across_a_tight_crop(top):
    """A review's 7: a 3 px bar rising 10 px across a 160 px crop, a 12 px stem. Under half the stem's width, the bar
    was taken for a page's one rule (and the stem then for a lone line: read 1 at 100%)."""
    a = np.full((200, 160), 0.88, np.float32)
    cv2.line(a, (0, top), (159, top + 10), 0.15, 3)
    cv2.line(a, (154, top + 10), (53, 199), 0.15, 12)
    ink = ink_map((np.random.default_rng(1).normal(a, 0.01).clip(0, 1) * 255).round().astype(np.uint8))
    assert (ink[:, :40] > 0.5).any(axis=1)[max(0, top - 3):top + 6].any(), "the bar's left end is gone"


def test_a_blank_page_photographed_askew_has_no_ink():
    """A squared page turned 0.3 degrees has no row or column that is one line; once they went its stubs were read
    as a row of 1s."""
    assert ink_map(turned_page(420, 200, 0.005, 1, squared=True).astype(np.uint8)) is None


def test_a_stroke_lying_along_a_turned_line_is_kept():
    """A 2's foot written along the ruled line it stands on is pen, not line (it is far darker than the line)."""
    w, h, slope = 400, 140, 0.02
    page = turned_page(w, h, slope, 1)
    y = int(round(line_starts(w, h, slope, 50)[2] + slope * 180))  # a line in the middle, at x = 180
    cv2.line(page, (180, y - 40), (180, y), PEN, 6)
    cv2.line(page, (180, y), (240, int(round(y + slope * 60))), PEN, 6)  # the foot, on the line
    cv2.line(page, (60, 20), (60, 120), PEN, 6)  # another digit, so the picture is a row of marks
    ink = ink_map(page.astype(np.uint8))
    foot = ink[y - 3:y + 5, 190:238]
    assert (foot > 0.5).any(axis=0).mean() > 0.95, "the foot was taken out with the line"


def test_the_slope_is_found_to_a_pixel_across_the_picture():
    """Close enough for the turned lines' bands, 3 rows wide (_drop_sloping), to hold them from end to end."""
    for w, slope, thick in ((1000, 0.013, 3), (1000, -0.0071, 1), (600, 0.047, 2), (420, -0.0035, 1)):
        page = turned_page(w, 150, slope, thick)
        inked = cv2.compare(np.float32(PAPER) - page, 1, cv2.CMP_GT)
        found = paper_lines._slope(inked)
        assert found is not None and abs(found - slope) * w <= 1, (w, slope, found)


def test_ink_without_lines_is_left_as_it_is():
    """A tight crop where every column holds ink twice (a 0) is looked at for turned lines, and left as it is."""
    ink = np.zeros((60, 40), np.float32)
    cv2.ellipse(ink, (20, 30), (17, 27), 0, 0, 360, 1.0, 5)
    assert np.array_equal(paper_lines.drop_lines(ink.copy(), 0.1), ink)


def test_a_ruled_sheet_turned_on_a_desk_keeps_its_strokes_and_loses_its_lines():
    """sheet.cut turns a sheet lying over TURNED degrees level, so its rules run across its whole box; cut out as it
    lay, they ended at its edges inside the box and stayed as ink."""
    from PIL import Image

    sheet = Image.fromarray(with_strokes(turned_page(300, 200, 0.0, 1, squared=True), (90, 200)))
    for degrees in (-8, 5):
        turned = sheet.convert("RGBA").rotate(degrees, Image.BICUBIC, expand=True)
        on_desk = Image.new("L", (turned.width + 80, turned.height + 80), 60)
        on_desk.paste(turned.convert("L"), (40, 40), turned)
        ink = ink_map(on_desk)
        _, _, stats, _ = cv2.connectedComponentsWithStats((ink > 0.05).astype(np.uint8), connectivity=8)
        marks = [s for s in stats[1:] if s[4] >= 20]
        assert len(marks) == 2 and all(h > 3 * w for _, _, w, h, _ in marks), (degrees, marks)


@pytest.fixture(scope="module")
def digits(mnist_dir):
    from mnist_cnn.data import load_mnist

    (_, _), (x, y) = load_mnist(mnist_dir)
    return x[:10], y[:10]


def on_paper(digit, box: int | None = 2, margin: int = 14, scale: int = 4):
    """An MNIST digit as dark ink on white paper, in a printed box `box` px thick `margin` px round its frame (None:
    no box), the box itself 10 px in from the picture's sides."""
    ink = cv2.resize(digit, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
    side = ink.shape[0] + 2 * margin
    page = np.zeros((side + 20, side + 20), np.float32)
    page[10 + margin:10 + margin + ink.shape[0], 10 + margin:10 + margin + ink.shape[1]] = ink
    if box:
        for edge in (slice(10, 10 + box), slice(10 + side - box, 10 + side)):
            page[edge, 10:10 + side] = page[10:10 + side, edge] = 1
    return (255 * (1 - 0.85 * page)).astype(np.uint8)


def test_a_forms_box_round_one_digit_is_taken_out(digits):
    """The digit inside a form's box reaches the model as it would without the box (predict refused all ten before)."""
    from mnist_cnn.images import to_mnist

    for digit in digits[0]:
        boxed, plain = to_mnist(on_paper(digit)), to_mnist(on_paper(digit, box=None))
        assert np.abs(boxed - plain).max() < 0.02


def test_what_is_no_frame_is_left_whole():
    """A Z's bars and a 7's have no sides; an empty box leaves nothing inside; a filled tile's sides are no thin
    lines."""
    z = np.zeros((60, 50), np.float32)
    z[:3], z[-3:] = 1, 1
    cv2.line(z, (49, 0), (0, 59), 1.0, 3)
    empty = np.zeros((60, 50), np.float32)
    empty[:2], empty[-2:], empty[:, :2], empty[:, -2:] = 1, 1, 1, 1
    tile = np.ones((60, 50), np.float32)
    cv2.circle(tile, (25, 30), 12, 0.0, 4)
    for ink in (z, empty, tile):
        assert paper_lines.drop_frame(ink, 0.1) is ink


@pytest.mark.parametrize("w, h", [(600, 300), (500, 250)])
def test_a_frame_round_all_the_writing_short_of_the_sides_is_taken_out(w, h):
    """A bordered card: a frame 10 px in from the sides. Its top and bottom fill 95% of their rows and went as ruled
    lines, while its sides, 93% of the height, stayed and were read as 1s (4071 as 140711)."""
    page = np.full((h, w), 255, np.uint8)
    cv2.rectangle(page, (10, 10), (w - 11, h - 11), 0, 4)
    for x in (w // 3, w // 2, 2 * w // 3):
        cv2.line(page, (x, h // 3), (x + 10, 2 * h // 3), 0, 8)
    ink = ink_map(page)
    assert ink[:, :30].max() == 0 and ink[:, -30:].max() == 0 and ink[:30].max() == 0 and ink[-30:].max() == 0
    for x in (w // 3, w // 2, 2 * w // 3):
        assert ink[h // 2, x:x + 12].max() > 0.9


def test_a_row_of_cells_within_the_margins_is_taken_out_with_digits_crossing_it():
    """A form's row of cells for a number, well inside the picture (narrower than any line across it), one stroke
    crossing a wall and one reaching its bottom side: its walls stayed and were read as 1s (63415 as 631415)."""
    page = np.full((220, 520), 245, np.uint8)
    x0, y0, cell, tall = 60, 50, 100, 110
    cv2.rectangle(page, (x0, y0), (x0 + 4 * cell, y0 + tall), 110, 2)
    for k in range(1, 4):
        cv2.line(page, (x0 + k * cell, y0), (x0 + k * cell, y0 + tall), 110, 2)
    strokes = [((x0 + 30, y0 + 20), (x0 + 60, y0 + 90)), ((x0 + cell + 50, y0 + 30), (x0 + 2 * cell + 20, y0 + 60)),
               ((x0 + 2 * cell + 50, y0 + 20), (x0 + 2 * cell + 50, y0 + tall)),
               ((x0 + 3 * cell + 30, y0 + 20), (x0 + 3 * cell + 70, y0 + 80))]
    for a, b in strokes:
        cv2.line(page, a, b, 20, 7)
    ink = ink_map(page)
    for k in (0, 1, 3, 4):  # the walls, away from the stroke crossing the second one
        assert ink[y0 + 70:y0 + tall - 5, x0 + k * cell - 2:x0 + k * cell + 3].max() == 0
    assert ink[y0 - 2:y0 + 3].max() == 0 and ink[y0 + tall - 2:y0 + tall + 3, :x0 + 2 * cell + 40].max() == 0
    for (ax, ay), (bx, by) in strokes:
        assert ink[(ay + by) // 2, (ax + bx) // 2 - 6:(ax + bx) // 2 + 7].max() > 0.9


@pytest.mark.parametrize("along", [0.7, 0.9])
def test_a_stroke_along_most_of_a_squared_pages_line_keeps_it_and_the_line_goes(along):
    """A digit's stem lying on one of a squared page's upright lines over `along` of its height: the line, uneven
    with the stroke on it and more stroke than line, stayed whole across the picture (a 4 came out a 4 on a stick, and
    `evalset`'s squared digits were refused 13 of 150)."""
    h, w = 200, 300
    page = turned_page(w, h, 0.0, 1, squared=True)
    x = 62  # one of the upright lines (every 25 px from 12)
    top, bottom = int((1 - along) / 2 * h), int((1 + along) / 2 * h)
    cv2.line(page, (x, top), (x, bottom), PEN, 5)
    cv2.line(page, (x - 30, h // 2), (x + 40, h // 2 + 10), PEN, 5)
    ink = ink_map(page.astype(np.uint8))
    assert ink[:top - 5, x - 2:x + 3].max() == 0 and ink[bottom + 5:, x - 2:x + 3].max() == 0
    assert ink[top + 5:bottom - 5, x].min() > 0.5 and ink[h // 2 + 5, x + 20] > 0.5  # drawn over, not on, the line


@pytest.mark.parametrize("thick, pen, along", [(1, 2, 0.5), (1, 3, 0.65), (2, 2, 0.5), (2, 3, 0.8)])
def test_a_thin_pen_along_a_squared_pages_line_is_kept(thick, pen, along):
    """A thin pen's stem over half or more of a line: the line's uneven band, taken out at its own level, took the
    pen (which _stroked misses along most of an eighth) for the line and erased the stem (a review's "1": no digit)."""
    h, w = 200, 300
    page = turned_page(w, h, 0.0, thick, squared=True)
    top, bottom = int((1 - along) / 2 * h), int((1 + along) / 2 * h)
    cv2.line(page, (62, top), (62, bottom), PEN, pen)  # on the upright line at x = 62
    ink = ink_map(page.astype(np.uint8))
    assert ink is not None and (ink[top + 5:bottom - 5, 59:66] > 0.5).any(axis=1).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_a_faint_grid_under_the_noise_cut_goes_not_in_dashes(seed):
    """A squared page whose lines are barely darker than the noise cut: they cleared it in dashes, never a whole row,
    so no line was found and the dashes, joined by the grid, boxed the digit in a grey block (a probe's graph paper:
    12 of 60 refused)."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    page = np.full((h, w), 200.0) + rng.normal(0, 2.5, (h, w))  # the noise cut: ~5 sigmas of the paper's noise
    for k in range(10, w, 24):
        page[:, k] -= 14  # lines ~1.1x the cut: most of their pixels clear it, not all
    for k in range(6, h, 24):
        page[k, :] -= 14
    strokes = np.full((h, w), 255, np.uint8)
    cv2.line(strokes, (140, 60), (150, 180), 0, 6)
    cv2.line(strokes, (110, 70), (190, 75), 0, 6)
    page = np.where(strokes == 0, 40.0, page)
    ink = ink_map(np.clip(page, 0, 255).astype(np.uint8))
    off = np.ones((h, w), bool)
    off[50:195, 100:200] = False  # the strokes and what the blur spreads round them
    assert ink[off].max() == 0
    assert ink[120, 140:152].max() > 0.9 and ink[72, 120:180].min() > 0.5


def faint_ruled(h, w, seed, spacing=40, drop=14, cols=False):
    """Grey paper (200, noise sigma 2.5) with rules `drop` levels darker every `spacing` px: ~1.1x the noise cut."""
    rng = np.random.default_rng(seed)
    page = np.full((h, w), 200.0) + rng.normal(0, 2.5, (h, w))
    for k in range(6, h, spacing):
        page[k, :] -= drop
    for k in range(10, w, spacing) if cols else ():
        page[:, k] -= drop
    return page


@pytest.mark.parametrize("seed", [0, 1])
def test_a_bar_on_a_faint_rule_and_a_stem_across_faint_rules_stay(seed):
    """Faint rules counted as rules so that a ruled page's margin, one upright line, goes with them: a review found a
    7's bar lying on a rule across a tight crop, and a 1 running its whole height, taken out as that one line."""
    h, w = 240, 160
    seven = [((0, 86), (w - 1, 86)), ((w - 1, 86), (w // 2, h - 10))]  # its bar on the rule at y = 86
    for strokes in (seven, [((80, 0), (80, h - 1)), ((80, 0), (55, 30))]):
        page, pen = faint_ruled(h, w, seed), np.full((h, w), 255, np.uint8)
        for a, b in strokes:
            cv2.line(pen, a, b, 0, 5)
        ink = ink_map(np.clip(np.where(pen == 0, 50.0, page), 0, 255).astype(np.uint8))
        (x0, y0), (x1, y1) = strokes[0]
        along = ink[y0 - 3:y0 + 4].max(axis=0) if y0 == y1 else ink[:, x0 - 3:x0 + 4].max(axis=1)
        assert (along > 0.3).mean() > 0.9


@pytest.mark.parametrize("seed", [0, 1])
def test_faint_rules_with_few_dashes_do_not_cut_the_strokes_crossing_them(seed):
    """Rules so faint that few dashes clear the noise cut: their level was the median of what was left there, the
    strokes crossing them (~0.7), and each stroke was cut at every rule (a review: 18 rows of a stem lost)."""
    h, w = 240, 320
    page, pen = faint_ruled(h, w, seed, spacing=24, drop=7, cols=True), np.full((h, w), 255, np.uint8)
    cv2.line(pen, (150, 40), (150, 200), 0, 5)
    cv2.line(pen, (100, 120), (200, 120), 0, 5)
    ink = ink_map(np.clip(np.where(pen == 0, 60.0, page), 0, 255).astype(np.uint8))
    assert (ink[40:200, 148:153].max(axis=1) > 0.3).all() and (ink[118:123, 100:200].max(axis=0) > 0.3).all()
