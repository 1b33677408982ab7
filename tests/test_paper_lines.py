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
