"""chrome.py: a screenshot's title bar and a scan's margin are painted over; strokes, rules and lit paper are not."""

import cv2
import numpy as np
import pytest

from mnist_cnn import chrome, images


def corr(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def two(h=180, w=170, paper=0.92, ink=0.15):
    """A 2 drawn with a pen on paper at `paper`, its strokes at `ink`, a little noise."""
    a = np.full((h, w), paper, np.float32)
    cv2.ellipse(a, (w // 2, h // 3), (w // 5, h // 6), 0, 180, 380, ink, 9)
    cv2.line(a, (w // 2 + w // 5, h // 3 + 10), (w // 4, h * 4 // 5), ink, 9)
    cv2.line(a, (w // 4, h * 4 // 5), (w * 3 // 4, h * 4 // 5), ink, 9)
    return np.clip(a + np.random.default_rng(0).normal(0, 0.01, a.shape).astype(np.float32), 0, 1)


def test_a_screenshots_dark_title_bar_is_no_part_of_the_digit():
    """A drawing app's window: a dark title bar across the top (with its name in white), a grey window, the white
    canvas with the digit. The bar read as a 7's bar over the digit (tools/screenshots.py: 19 of 30 read 7)."""
    canvas = two(paper=1.0)
    shot = np.full((420, 340), 0.9, np.float32)
    shot[80:260, 85:255] = canvas
    alone = shot.copy()
    shot[:40] = 0.24
    shot[12:26, 10:50] = 1.0  # "Notes"
    assert corr(images.to_mnist(shot), images.to_mnist(alone)) > 0.99
    painted = chrome.painted(shot)
    assert np.abs(painted[:40] - 0.9).max() < 0.01 and (painted[40:] == shot[40:]).all()  # its name too


@pytest.mark.parametrize("margin", [8, 30])
def test_a_page_pasted_in_a_white_margin_is_read_as_the_page(margin):
    """A grey page (a scan, a photo's crop) pasted on white with a margin: the page read as a block of ink with the
    digit a hole in it, refused. The margin is painted at the page's level."""
    page = two()
    got = images.to_mnist(np.pad(page, margin, constant_values=1.0))
    assert got is not None and corr(got, images.to_mnist(page)) > 0.98


def test_only_the_margin_round_a_pasted_page_is_painted():
    """The margin is painted at the page's own edge level; the page, its writing and noise, is left as it was."""
    page = two()
    painted = chrome.painted(np.pad(page, 8, constant_values=1.0))
    ring = np.concatenate([painted[:8].ravel(), painted[-8:].ravel(), painted[:, :8].ravel(), painted[:, -8:].ravel()])
    assert (painted[8:-8, 8:-8] == page).all() and np.ptp(ring) == 0 and abs(ring[0] - 0.92) < 0.02


def test_strokes_cropped_tight_and_plain_pages_are_left_alone():
    """Only a flat band at the picture's edge meeting another flat area, at nothing of its own level, is painted: a
    7's crisp bar cropped tight meets its stem (also at the picture's side); a 1 cropped tight is in the middle, and
    the paper beside a bold one is the border's level and has nothing beyond the 1; paper lit unevenly drifts; a page
    ruled with thin lines has none as thick as a band. (A review's binarized crops: the first version read the hooked 7
    as 1, found no digit in the bold 1 and lost the boxy 7's strokes.)"""
    seven = np.ones((200, 160), np.float32)
    seven[:16] = 0.0
    cv2.line(seven, (150, 16), (70, 199), 0.0, 12)
    one = np.ones((200, 40), np.float32)
    one[:, 18:24] = 0.0
    hook = np.ones((252, 212), np.float32)  # a 7 whose bar turns down at the picture's side (a review's)
    for p, q in (((16, 16), (196, 16)), ((196, 16), (196, 52)), ((196, 52), (76, 236))):
        cv2.line(hook, p, q, 0.0, 16)
    hook = hook[8:244, 8:204]
    bold = np.ones((200, 28), np.float32)
    bold[:, :22] = 0.0  # a bold 1 with paper down one side: the 1 is the picture's median
    boxy = np.zeros((200, 120), np.float32)
    boxy[:20], boxy[:, -20:] = 1.0, 1.0  # a segment-style 7, white on black
    lit = np.full((300, 400), 0.9, np.float32) * np.linspace(1.0, 0.5, 400, dtype=np.float32)
    ruled = np.full((300, 400), 0.94, np.float32)
    ruled[10::30] = 0.7
    for a in (seven, one, hook, bold, boxy, lit, ruled, two()):
        assert chrome.painted(a) is a
