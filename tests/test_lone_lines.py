"""lone_lines.drop: a straight line across the picture, clear of the writing (a legal pad's margin, a stray rule),
goes from the ink map; a tight crop's 1, a line touching the digits, a bent stroke and a line along the picture's side
stay."""

import cv2
import numpy as np
import pytest

from mnist_cnn import images, lone_lines


def digit(a, x=300, y=250):
    """A 0-like ring 120 px tall drawn into a."""
    cv2.ellipse(a, (x, y), (40, 60), 0, 0, 360, 1.0, 12)


@pytest.mark.parametrize("ends", [((80, 0), (92, 599)), ((0, 80), (699, 95)), ((650, 0), (650, 599))],
                         ids=["margin a degree off upright", "rule sloping", "edge upright"])
def test_a_lone_straight_line_across_the_picture_goes_and_the_digit_stays(ends):
    a = np.zeros((600, 700), np.float32)
    digit(a)
    kept = a.copy()
    cv2.line(a, *ends, 0.6, 3)
    np.testing.assert_array_equal(lone_lines.drop(a), kept)


def test_a_margin_joined_to_a_rule_goes_with_a_speck_hanging_on_to_it():
    a = np.zeros((600, 700), np.float32)
    digit(a)
    kept = a.copy()
    cv2.line(a, (80, 0), (92, 599), 0.6, 3)
    cv2.line(a, (0, 520), (699, 540), 0.6, 3)  # a rule crossing the margin: one piece of ink with it
    cv2.circle(a, (95, 200), 6, 0.3, -1)  # a speck on the margin
    out = lone_lines.drop(a)
    ys, xs = np.mgrid[:600, :700]
    speck = np.hypot(xs - 95, ys - 200) <= 7  # off the line, it stays: only the line's own band is taken
    assert not out[(kept == 0) & ~speck].any() and out[speck].any()
    np.testing.assert_array_equal(out[kept > 0], kept[kept > 0])


@pytest.mark.parametrize("draw", [
    lambda a: [cv2.line(a, (140, 0), (140, 599), 1.0, 12), cv2.ellipse(a, (400, 300), (90, 210), 0, 0, 360, 1.0, 12)],
    lambda a: [cv2.line(a, (80, 0), (92, 599), 0.6, 3), cv2.ellipse(a, (130, 250), (40, 60), 0, 0, 360, 1.0, 12)],
    lambda a: cv2.line(a, (300, 0), (300, 599), 0.6, 3),                      # a line through the digit
    lambda a: cv2.polylines(a, [np.array([[80, 0], [140, 300], [80, 599]], np.int32)], False, 0.6, 3),  # bent
    lambda a: cv2.line(a, (1, 0), (1, 599), 0.6, 3),                          # along the picture's side: a frame's
], ids=["a tight crop of 10", "a digit on the margin", "touching", "bent", "along the side"])
def test_what_is_no_lone_line_stays(draw):
    a = np.zeros((600, 700), np.float32)
    digit(a)
    draw(a)
    kept = a.copy()
    np.testing.assert_array_equal(lone_lines.drop(a), kept)


@pytest.mark.parametrize("shape, dot", [((200, 40), False), ((280, 280), True), ((600, 600), True)],
                         ids=["alone", "and a dot", "large, and a dot"])
def test_a_tight_crop_of_a_1_keeps_its_ink(shape, dot):
    a = np.zeros(shape, np.float32)
    h, w = shape
    cv2.line(a, (w // 2, 0), (w // 2, h - 1), 1.0, max(4, w // 35))
    if dot:
        cv2.circle(a, (w * 4 // 5, h * 4 // 5), 4, 1.0, -1)  # a speck: no digit beside the 1
    assert images.ink_map(1 - a) is not None and lone_lines.drop(a.copy()).sum() == a.sum()


def test_a_legal_pads_margin_beside_a_digit_is_no_part_of_its_28x28():
    paper = np.full((600, 700), 0.9, np.float32)
    ink = np.zeros_like(paper)
    digit(ink)
    alone = images.to_mnist(paper - 0.8 * ink)
    cv2.line(ink, (80, 0), (92, 599), 0.5, 3)  # red on yellow, in grey: fainter than the pen
    np.testing.assert_allclose(images.to_mnist(paper - 0.8 * ink), alone, atol=0.02)


@pytest.mark.parametrize("ends", [((200, 0), (90, 449)), ((0, 40), (599, 400)), ((30, 0), (599, 430))],
                         ids=["top to bottom", "side to side", "top to side"])
def test_a_thin_line_alone_running_off_the_picture_is_no_digit(ends):
    """A fold's crease, a wire or a hair across a blank photo: no digit beside it, thinner than any digit's stroke
    (1.2% of the picture's shorter side), running off both ends. `predict` read such a crease as 1 at 0.9997."""
    a = np.zeros((450, 600), np.float32)
    cv2.line(a, *ends, 0.8, 3)
    assert lone_lines.drop(a.copy()).sum() == 0
    assert images.to_mnist(1 - a) is None


@pytest.mark.parametrize("draw", [
    lambda a: cv2.line(a, (140, 30), (150, 250), 1.0, 3),  # a thin pen's 1 on a canvas: it ends inside
    lambda a: cv2.line(a, (140, 0), (150, 279), 1.0, 8),   # a 1 across a tight crop: a stroke's width
], ids=["ends inside", "thick"])
def test_a_1_alone_stays(draw):
    a = np.zeros((280, 280), np.float32)
    draw(a)
    kept = a.copy()
    np.testing.assert_array_equal(lone_lines.drop(a), kept)


@pytest.mark.parametrize("seven", [False, True], ids=["1", "7"])
def test_a_thin_pens_digit_drawn_to_near_a_canvas_edge_stays(seven):
    """A review's 1 and 7, a 5 px brush on an 800 px canvas ending 1% inside its top and bottom: no crease, which runs
    through the edges (before, within 2% of them was near enough, and the 7 lost its stem)."""
    a = np.zeros((800, 800), np.float32)
    cv2.line(a, (430, 8), (400, 791), 1.0, 5, cv2.LINE_AA)
    if seven:
        cv2.line(a, (250, 8), (430, 8), 1.0, 5, cv2.LINE_AA)
    kept = a.copy()
    np.testing.assert_array_equal(lone_lines.drop(a), kept)


def test_a_crease_fading_just_short_of_the_edges_goes():
    """A review's crease stopping a pixel inside the top and bottom of a 400x300 photo: read 1 at 0.9997 when the ends
    had to touch the edges."""
    a = np.zeros((300, 400), np.float32)
    cv2.line(a, (200, 1), (190, 298), 0.8, 1)
    assert lone_lines.drop(a.copy()).sum() == 0
