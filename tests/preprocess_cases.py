"""A fixed, deterministic set of 44 varied digit images for the images.py equivalence test.

Each case renders one MNIST test digit (uint8 28x28, white on black) the way people hand
digits in: a drawing, a photo, a scan, a transparent PNG, a JPEG... `build(digits)` returns
{name: input}, where an input is bytes (to go through `load_image`), a PIL image or an array.
tools/preprocess_reference.py stored the digits and the outputs of the pure-NumPy images.py
(commit 735a661) in tests/data/preprocess_reference.npz; test_images.py rebuilds the inputs
from the stored digits and compares.
Everything is seeded, so the same Pillow/NumPy give the same inputs byte for byte.
"""

import io

import numpy as np
from PIL import Image

N_DIGITS = 44  # the first 44 MNIST test digits (every class at least twice), one case each


def inputs(case):
    """What `to_mnist` gets: bytes are decoded by `load_image` first."""
    from mnist_cnn.images import load_image

    return load_image(case) if isinstance(case, bytes) else case


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def alpha(digit, side, resample=Image.BICUBIC):
    """The digit scaled to `side` (longer side) as ink coverage in [0, 1]."""
    return np.asarray(Image.fromarray(digit).resize((side, side), resample), np.float32).clip(0, 255) / 255


def canvas(digit, size, side, at, ink=20.0, paper=235.0, cover=None):
    """A (h, w) float page of `paper` with the digit `side` px big at `at` (x, y) in `ink`."""
    w, h = size
    a = np.zeros((h, w), np.float32)
    cov = alpha(digit, side) if cover is None else cover
    a[at[1] : at[1] + cov.shape[0], at[0] : at[0] + cov.shape[1]] = cov
    return paper + (ink - paper) * a


def to_l(a):
    return Image.fromarray(np.asarray(a).clip(0, 255).round().astype(np.uint8))


def thin(digit, side, band=0.04):
    """An outline drawing: the 0.5 level of the upscaled digit as a 1-3 px pen line."""
    a = alpha(digit, side)
    return (np.abs(a - 0.5) < band).astype(np.float32)


def rng_for(i):
    return np.random.default_rng(1000 + i)


def dark_on_light(d, i):
    return to_l(canvas(d, (600, 600), 420, (90, 90)))


def drawing_280(d, i):  # the web page's canvas export: opaque RGBA PNG, white on black
    return encode(to_l(255 * alpha(d, 220, Image.BILINEAR)).crop((-30, -30, 250, 250)).convert("RGBA"), "PNG")


def drawing_160(d, i):
    return to_l(canvas(d, (160, 160), 130, (15, 10), ink=0, paper=255))


def thin_pen(d, i):
    return to_l(canvas(d, (1000, 1000), 0, (100, 100), ink=30, paper=240, cover=thin(d, 800)))


def thin_pen_wide(d, i):
    return to_l(canvas(d, (1400, 1000), 0, (300, 150), ink=50, paper=220, cover=thin(d, 700, 0.06)))


def noisy_photo(d, i, size=(640, 480), side=150, at=(420, 60)):
    rng = rng_for(i)
    page = canvas(d, size, side, at, ink=60, paper=185)
    rgb = np.stack([page, page * 0.97, page * 0.9], -1) + rng.normal(0, 8, (size[1], size[0], 1))
    return encode(Image.fromarray(rgb.clip(0, 255).astype(np.uint8)), "JPEG", quality=85)


def big_photo(d, i):  # big enough for load_image to decode a JPEG at reduced size
    return noisy_photo(d, i, size=(2400, 2100), side=900, at=(500, 700))


def lighting(d, i):
    h, w = 600, 800
    y, x = np.mgrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j]
    light = [0.4 + 0.6 * (x + 1) / 2, 1 - 0.3 * (x * x + y * y), 0.5 + 0.5 * (y + 1) / 2][i % 3]
    return to_l(canvas(d, (w, h), 420, (200, 90), ink=40, paper=230) * light)


def transparent(d, i):
    colour = [(0, 0, 0), (255, 255, 255), (200, 30, 30), (20, 40, 200)][i % 4]
    img = Image.new("RGBA", (300, 300), colour + (0,))
    a = canvas(d, (300, 300), 240, (30, 30), ink=255, paper=0)
    img.putalpha(to_l(a))
    return encode(img, "PNG")


def jpeg(d, i):
    page = canvas(d, (400, 400), 300, (50, 60), ink=30, paper=220)
    return encode(to_l(page), "JPEG", quality=[20, 40, 60, 90][i % 4])


def tiny(d, i):
    return [d, d.astype(np.float32) / 255, Image.fromarray(255 - d), d[..., None]][i % 4]


def wide(d, i):
    return to_l(canvas(d, (1200, 300), 260, (700, 20)))


def tall(d, i):
    return to_l(canvas(d, (300, 1200), 260, (20, 200), ink=200, paper=40))


def specks(d, i):
    rng = rng_for(i)
    page = canvas(d, (500, 500), 300, (100, 100))
    for x, y, r in zip(rng.integers(0, 497, 30), rng.integers(0, 497, 30), rng.integers(1, 4, 30)):
        page[y : y + r, x : x + r] = 30
    salt = rng.random(page.shape) < 0.0005
    return to_l(np.where(salt, 40, page))


def blank(d, i):
    rng = rng_for(i)
    y, x = np.mgrid[0:1:300j, 0:1:400j]
    pages = [
        np.full((300, 400), 240.0),
        200 + rng.normal(0, 10, (300, 400)),
        np.where(rng.random((300, 400)) < 0.00002, 20, 235.0),
        150 + 80 * x * y,
    ]
    return to_l(pages[i % 4])


def colour_photo(d, i):  # blue or red ballpoint on cream paper, saturated noise: JPEG colours clip
    rng = rng_for(i)
    a = alpha(d, 260)[..., None] * [[[0.75, 0.65, 0.1] if i % 2 else [0.1, 0.8, 0.75]]]
    page = np.zeros((360, 480, 3))
    page[50:310, 120:380] = a
    rgb = 255 * (1 - page) * [1.0, 0.95, 0.8] + rng.normal(0, 25, page.shape)
    return encode(Image.fromarray(rgb.clip(0, 255).astype(np.uint8)), "JPEG", quality=80)


RENDER = [  # (kind, how many digits use it)
    (dark_on_light, 3), (drawing_280, 3), (drawing_160, 2), (thin_pen, 3), (thin_pen_wide, 1),
    (noisy_photo, 3), (big_photo, 1), (lighting, 3), (transparent, 4), (jpeg, 4), (tiny, 4),
    (wide, 2), (tall, 2), (specks, 3), (blank, 4), (colour_photo, 2),
]


def build(digits):
    """{case name: input} for the first N_DIGITS digits, one rendering each, in a fixed order."""
    cases, i = {}, 0
    for render, count in RENDER:
        for _ in range(count):
            cases[f"{i:02d} {render.__name__}"] = render(digits[i], i)
            i += 1
    assert i == N_DIGITS
    return cases
