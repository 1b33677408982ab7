"""A fold across a photo of digits (fold.py): each side of the fold's step gets its own paper and the crease is no
ink. Synthetic photos (the fold a step in the light, darkening towards a thin dark crease, as a sheet kept folded
in a pocket shows under a lamp), checked against where the ink was drawn and, read with the small test model,
against the same digits without the fold.

    PYTHONPATH=src python -m pytest -q tests/test_fold.py
"""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from mnist_cnn import fold, images, predict, read, readings
from mnist_cnn.data import load_mnist
from mnist_cnn.number_images import Writer
from mnist_cnn.refusal import Rule

CLEAR = [0, 1, 2, 3, 4]  # the first MNIST test digits, 7 2 1 0 4: the small test model reads each of them


def _folded(ink, angle: float, through, seed: int = 0, jpeg: bool = True, shade=0.14, crease=0.25):
    """A photo of `ink` ((H, W) in [0, 1]) on paper folded along the line through `through` (x, y) at `angle`
    (radians from level): one side darkening by up to `shade` towards a crease `crease` dark, noise, a JPEG."""
    rng = np.random.default_rng(seed)
    h, w = ink.shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    d = (x - through[0]) * np.sin(angle) - (y - through[1]) * np.cos(angle)
    light = np.where(d > 0, 1 - shade * np.exp(-d / (0.15 * min(h, w))), 1.0) * (1 - crease * np.exp(-(d / 1.5) ** 2))
    page = np.clip(0.85 * light * (1 - 0.85 * ink) + rng.normal(0, 0.01, ink.shape), 0, 1)
    if not jpeg:
        return Image.fromarray((page * 255).astype(np.uint8))
    buf = io.BytesIO()
    Image.fromarray((page * 255).astype(np.uint8)).save(buf, "JPEG", quality=85)
    return Image.open(buf)


def _text(shape, text="4", at=(230, 420), scale=9.0, width=26):
    ink = np.zeros(shape, np.uint8)
    cv2.putText(ink, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, width, cv2.LINE_AA)
    return ink.astype(np.float32) / 255


@pytest.mark.parametrize("angle", [0.3, 1.2, -0.5])
def test_a_fold_through_a_digit_leaves_no_ink_but_the_digit(angle):
    """The plain paper (one surface) leaves the darker side's slope as a band of ink along the crease and the crease a
    line through the digit; each side's own paper leaves the digit alone."""
    ink = _text((600, 640))
    x0, y0, bw, bh = cv2.boundingRect((ink > 0).astype(np.uint8))
    photo = _folded(ink, angle, (x0 + bw / 2, y0 + bh / 2))
    found = images.fold_map(photo)[0]
    outside = found.copy()
    outside[y0 - 10:y0 + bh + 10, x0 - 10:x0 + bw + 10] = 0
    assert found[ink > 0.5].mean() > 0.5 and np.count_nonzero(outside) == 0
    y, x = np.mgrid[0:600, 0:640]
    on_crease = np.abs((x - x0 - bw / 2) * np.sin(angle) - (y - y0 - bh / 2) * np.cos(angle)) <= 4
    assert found[on_crease & (ink > 0.9)].min() > 0.3  # the strokes crossing the crease keep their ink there
    plain = images.ink_map(photo)
    plain[y0 - 10:y0 + bh + 10, x0 - 10:x0 + bw + 10] = 0
    assert np.count_nonzero(plain) > 500  # the fault fold.py is for


def test_a_light_stroke_across_the_crease_keeps_its_ink_there():
    """Within the crease's reach, what is fainter than half the strongest ink is the crease's, unless ink lies beyond
    it on both sides: a light digit beside a dark one (a pencil 1 beside a pen 4) keeps its stroke across it."""
    ink = 0.3 * _text((600, 640), "1", at=(330, 420)) + _text((600, 640), "4", at=(60, 420))
    photo = _folded(ink, 0.2, (420, 300))
    found = images.fold_map(photo)[0]
    y, x = np.mgrid[0:600, 0:640]
    on_crease = np.abs((x - 420) * np.sin(0.2) - (y - 300) * np.cos(0.2)) <= 3
    one = on_crease & (ink > 0.25) & (x > 300)
    assert one.any() and np.count_nonzero(found[one]) >= 0.8 * np.count_nonzero(one)  # 89%; 2% when taken as crease


@pytest.mark.parametrize("angle", [0.0, 0.4, 1.2, np.pi / 2])
def test_the_fold_is_found_where_it_runs(angle):
    h, w = 480, 640
    photo = _folded(_text((h, w), "7", at=(60, 300), scale=6.0, width=18), angle, (w / 2, h / 2), jpeg=False)
    grey = np.asarray(photo, np.float32) / 255
    nx, ny, c = fold.find(cv2.blur(grey, (3, 3)))
    # through the picture's middle within 3 px, at the fold's angle within a degree
    assert abs(nx * w / 2 + ny * h / 2 - c) <= 3
    assert abs(nx * np.sin(angle) - ny * np.cos(angle)) >= np.cos(np.radians(1))


def _page(shape, rules=False, vignette=False, seed=0):
    h, w = shape
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[-1:1:h * 1j, -1:1:w * 1j]
    light = 1 / (1 + 0.6 * (x ** 2 + y ** 2)) ** 2 if vignette else 1 - 0.1 * (x + y) / 2
    ink = _text(shape, "5", at=(200, 380), scale=7.0, width=20)
    if rules:
        for r in range(40, h, 36):
            cv2.line(ink, (0, r), (w - 1, r + 4), 0.4, 2)
    return np.clip(0.85 * light * (1 - 0.85 * ink) + rng.normal(0, 0.01, shape), 0, 1).astype(np.float32)


@pytest.mark.parametrize("kind", ["plain", "rules", "vignette"])
def test_no_fold_on_paper_without_one(kind):
    """A digit on paper lit unevenly or ruled: no step in the paper's light runs across it."""
    page = _page((480, 640), rules=kind == "rules", vignette=kind == "vignette")
    assert fold.find(cv2.blur(page, (3, 3))) is None


def test_a_step_is_no_fold_without_a_crease_nor_between_paper_and_a_desk_nor_in_a_small_picture():
    """A shadow's straight edge (a step, no crease along it), a sheet's creased edge on a dark desk (the two sides'
    light far apart) and an icon-sized picture (an outline looked like a crease): no fold."""
    ink = _text((480, 640), "7", at=(60, 300), scale=6.0, width=18)
    grey = lambda photo: cv2.blur(np.asarray(photo, np.float32) / 255, (3, 3))  # noqa: E731
    assert fold.find(grey(_folded(ink, 0.4, (320, 240), shade=0.3, crease=0.0))) is None
    assert fold.find(grey(_folded(ink, 0.4, (320, 240)))) is not None  # the same with its crease
    desk = grey(_folded(ink, 0.4, (320, 240), shade=0.65))
    assert fold.find(desk) is not None and fold.paper(desk, desk, images.MIN_CONTRAST) is None
    assert fold.find(grey(_folded(cv2.resize(ink, (160, 120)), 0.4, (80, 60)))) is None


def test_a_blank_folded_page_has_no_ink():
    assert images.fold_map(_folded(np.zeros((600, 800), np.float32), 0.6, (400, 300))) is None


@pytest.fixture(scope="module")
def predictor(trained_run):
    return predict.Predictor(trained_run)


@pytest.fixture(scope="module")
def digits(mnist_dir):
    (_, _), (x, y) = load_mnist(mnist_dir)
    return x[CLEAR], y[CLEAR]


def _big(digit, shape=(560, 480), side=280):
    """An MNIST digit ((28, 28) uint8) `side` px a side in the middle of a page of `shape`, as ink in [0, 1]."""
    ink = np.zeros(shape, np.float32)
    big = cv2.resize(digit.astype(np.float32) / 255, (side, side), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    top, left = (shape[0] - side) // 2, (shape[1] - side) // 2
    ink[top:top + side, left:left + side] = big
    return ink


def test_predicts_second_look_reads_a_digit_across_a_fold(predictor, digits, monkeypatch):
    """`predict`'s second look at a picture refused (images.more_readings, readings.decide_candidates) reads it with a
    paper each side of a fold: the small test model reads that reading right where the plain one is wrong or unsure,
    and `predict` answers with it where the model is as sure as a second look asks."""
    x, y = digits
    photos = [_folded(_big(d), a, (240, 260 + 20 * k)) for k, (d, a) in enumerate(zip(x, (0.4, 1.1, -0.3, 0.2, 1.4)))]
    monkeypatch.setattr(predictor, "rule", Rule(min_confidence=0.9))  # the small model has no gate: refuse unsure
    plain = predictor.decide(np.stack([images.candidates(p)[0] for p in photos]))
    folded = predictor.decide(np.stack([images.more_readings(p)[-1] for p in photos]))
    assert [d.digit for d in folded] == list(y) and all(d.rejected or d.digit != t for d, t in zip(plain, y))
    answers = lambda: [None if d.rejected else d.digit for _, d in readings.decide_candidates(  # noqa: E731
        predictor, [images.candidates(p) for p in photos], lambda i: images.more_readings(photos[i]))]
    sure = [d.confidence >= readings.SECOND_SURE for d in folded]
    assert any(sure) and [a for a, s in zip(answers(), sure) if s] == [t for t, s in zip(y, sure) if s]
    monkeypatch.setattr(fold, "paper", lambda *a: None)
    assert all(a is None for a, s in zip(answers(), sure) if s)


def test_read_reads_a_number_across_a_fold(predictor, digits, monkeypatch):
    """`read` reads a picture refused with a fold across it with a paper each side (images.fold_map), and answers
    with that when it is as sure as a second look; without, the band along the crease is a stroke joining the
    digits, and the number is refused."""
    writer = Writer(*digits, seed=3)
    cases = []
    for text, angle in (("40", 0.5), ("1017", 1.3), ("274", -0.8), ("72104", 1.0), ("7210", 0.7), ("41", -1.2),
                        ("2104", 0.3)):
        image, truth = writer.number("clean", text=text)
        ink = np.asarray(image.convert("L"), np.float32) / 255  # light digits on black
        ink = cv2.resize(ink, (ink.shape[1] * 4, ink.shape[0] * 4), interpolation=cv2.INTER_CUBIC).clip(0, 1)
        h, w = ink.shape
        ink = np.pad(ink, ((int(0.6 * h),) * 2, (int(0.3 * w),) * 2))  # on a page round it
        cases.append((_folded(ink, angle, (ink.shape[1] * 0.45, ink.shape[0] * 0.5)), truth))
    right = lambda: sum(read.read_image(predictor, photo).text == truth for photo, truth in cases)  # noqa: E731
    monkeypatch.setattr(readings, "SECOND_SURE", 0.8)  # the small test model is seldom 0.99 sure of a whole number
    assert right() >= 4  # the refused ones (a number read short or wrong stands: a fold is looked for in refusals)
    monkeypatch.setattr(readings, "SECOND_SURE", 1.0)  # a refused picture's fold reading answers only as sure as that
    assert right() == 0
    monkeypatch.setattr(readings, "SECOND_SURE", 0.8)
    monkeypatch.setattr(images, "fold_map", lambda image: None)
    assert right() == 0
