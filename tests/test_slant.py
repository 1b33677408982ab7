"""slant.deslant against OpenCV's affine warp (the oracle), and what it must keep: centre of mass, peak, upright
digits already at MNIST's slant. Synthetic frames drawn here, plus MNIST test digits when the data is there."""

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_cnn.slant import MAX_SLANT, MNIST_SLANT, SHARE, as_seen, deslant, slant

ROUNDING = 0.03  # OpenCV rounds each source position to 1/32 px: a pixel may differ by the ink's slope / 32


def stroke(top, bottom, width=3) -> np.ndarray:
    """A 28x28 white-on-black straight stroke from (x, y) `top` to `bottom`, anti-aliased."""
    img = Image.new("L", (112, 112), 0)
    ImageDraw.Draw(img).line([tuple(4 * v for v in top), tuple(4 * v for v in bottom)], fill=255, width=4 * width)
    x = np.asarray(img.resize((28, 28), Image.Resampling.BOX), np.float32) / 255
    return x / x.max()


def italic_eight() -> np.ndarray:
    img = Image.new("L", (112, 112), 0)
    d = ImageDraw.Draw(img)
    for box in ((40, 12, 76, 52), (28, 52, 68, 96)):
        d.ellipse(box, outline=255, width=10)
    x = np.asarray(img.transform((112, 112), Image.Transform.AFFINE, (1, 0.5, -28, 0, 1, 0)).resize((28, 28),
                   Image.Resampling.BOX), np.float32) / 255
    return x / x.max()


def oracle(x: np.ndarray) -> np.ndarray:
    """The same shear by cv2.warpAffine: out(c, r) = x(c + k (r - mean row), r)."""
    rows = np.arange(28)
    mean_row = (x.sum(1) @ rows) / x.sum()
    k = SHARE * (float(np.clip(slant(x), -MAX_SLANT, MAX_SLANT)) - MNIST_SLANT)
    m = np.float32([[1, k, -k * mean_row], [0, 1, 0]])
    out = cv2.warpAffine(x, m, (28, 28), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out / out.max()


def centre(x):
    i = np.arange(28)
    return (x.sum(1) @ i) / x.sum(), (x.sum(0) @ i) / x.sum()


FRAMES = {"upright 1": lambda: stroke((14, 4), (14, 24)), "leaning right": lambda: stroke((20, 4), (9, 24)),
          "leaning left": lambda: stroke((9, 4), (18, 24)), "italic 8": italic_eight,
          "from the left edge": lambda: stroke((0, 1), (16, 27), width=4)}  # shifted past the frame's edge


@pytest.mark.parametrize("name", FRAMES)
def test_matches_opencv_and_goes_halfway_to_mnist_slant(name):
    x = FRAMES[name]()
    y = deslant(x)
    assert y.dtype == np.float32 and y.shape == (28, 28) and y.min() >= 0 and y.max() == pytest.approx(1.0)
    assert np.abs(y - oracle(x)).max() <= ROUNDING, name
    assert slant(y) == pytest.approx(slant(x) + SHARE * (MNIST_SLANT - slant(x)), abs=0.03), name
    assert np.allclose(centre(y), centre(x), atol=0.05), name  # turned about the ink's mean row: no shift


def test_an_italic_digit_is_straightened_and_one_at_mnist_slant_stays():
    x = italic_eight()
    assert slant(x) < -0.4  # drawn leaning right, much more than MNIST's median
    y = x
    for _ in range(8):
        y = deslant(y)
    assert slant(y) == pytest.approx(MNIST_SLANT, abs=0.02)
    assert np.abs(deslant(y) - y).max() < ROUNDING  # at MNIST's slant: one more pass moves nothing


def test_ink_on_one_row_has_no_slant_and_is_kept():
    x = np.zeros((28, 28), np.float32)
    x[14, 4:24] = 1.0
    assert slant(x) == 0.0
    np.testing.assert_allclose(deslant(x), x, atol=1e-6)  # a shear along rows moves the row's own mean row 0 px


def test_batch_slants_equal_single_ones():
    xs = np.stack([f() for f in FRAMES.values()])
    np.testing.assert_allclose(slant(xs), [slant(x) for x in xs])


def test_mnist_test_digits_go_halfway_to_mnist_slant(mnist_dir):
    from mnist_cnn.data import load_dataset

    _, (x, _) = load_dataset("mnist", mnist_dir)
    x = x[:300].astype(np.float32) / 255
    y = np.stack([deslant(v) for v in x])
    inside = np.abs(slant(x)) < 0.8  # steeper ones lose ink over the frame's edge
    want = slant(x) + SHARE * (MNIST_SLANT - slant(x))
    assert np.median(np.abs(slant(y[inside]) - want[inside])) < 0.01
    assert max(np.abs(deslant(v) - oracle(v)).max() for v in x[:50]) <= ROUNDING


def test_mnist_digits_as_seen_are_what_to_mnist_gives_the_model(mnist_dir):
    from mnist_cnn.data import load_dataset
    from mnist_cnn.images import to_mnist

    _, (x, _) = load_dataset("mnist", mnist_dir)
    seen = as_seen(x[:20])
    assert seen.dtype == np.float32 and seen.shape == (20, 28, 28)
    through = np.stack([to_mnist(d) for d in x[:20]])
    assert np.abs(seen - through).mean() < 0.01  # to_mnist moves an MNIST digit by whole pixels at most
    assert np.abs(seen - x[:20] / 255).mean() > 0.005  # and deslanted, not the raw digits
