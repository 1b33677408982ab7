"""Digits rendered like people's uploads (MNIST's, and digits in the gate's letter faces): what a refusal rule must
still accept.

    from mnist_cnn.uploads import hand_digits, render
    images = render(x_uint8, seed=0)      # [PIL images], one rendering per (28, 28) uint8 MNIST digit
    hands = hand_digits(300, seed=1)      # [PIL images]: digits in the handwriting faces of the gate's letters

Each digit gets one rendering, drawn in turn from FAMILIES: dark ink on paper with a light gradient,
small on a photo-sized page, cropped tight and upscaled (thick, blurry strokes), drawn with a thick
marker, printed in a font, light ink on a dark board; some saved as JPEG. Rendered from MNIST
*validation* digits it is validation data for choosing a refusal rule; from *test* digits, a
held-out stand-in for real-world digits (with fonts other than the validation ones).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FAMILIES = ("paper", "small", "tight", "marker", "font", "board")
JPEG_SHARE = 0.3  # as negatives.JPEG_SHARE: the same camera marks on digits and non-digits


def _ink_on_paper(digit: np.ndarray, side: int, rng, level: float | None = None) -> Image.Image:
    """The digit's ink (uint8 28x28, white on black) as dark ink on light paper, `side` px: with a light
    gradient, or plain paper of `level` (a patch pasted into a larger page of that level)."""
    ink = np.asarray(Image.fromarray(digit).resize((side, side), Image.BICUBIC), np.float32) / 255
    yy, xx = np.mgrid[0:side, 0:side] / side
    paper = level if level is not None else \
        rng.uniform(190, 250) + rng.uniform(-20, 20) * xx + rng.uniform(-20, 20) * yy
    tone = rng.uniform(0, 80)
    return Image.fromarray(np.clip(paper * (1 - ink) + tone * ink + rng.normal(0, 2, ink.shape), 0, 255)
                           .astype(np.uint8))


def _small(digit, rng):
    side = int(rng.integers(200, 400))
    level = int(rng.integers(200, 250))
    img = Image.new("L", (side, side), level)
    size = int(side * rng.uniform(0.15, 0.35))
    patch = _ink_on_paper(digit, size, rng, level)
    x, y = (int(rng.integers(0, side - size)) for _ in range(2))
    img.paste(patch, (x, y))
    return img


def _tight(digit, rng):
    ys, xs = np.nonzero(digit > 0)
    crop = Image.fromarray(digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
    k = int(rng.integers(64, 201)) / max(crop.size)
    big = crop.resize((max(1, round(crop.size[0] * k)), max(1, round(crop.size[1] * k))), Image.BICUBIC)
    return Image.eval(big, lambda v: 255 - v) if rng.random() < 0.5 else big


def _marker(digit, rng):
    thick = Image.fromarray(digit).filter(ImageFilter.MaxFilter(3))
    return _ink_on_paper(np.asarray(thick), int(rng.integers(96, 300)), rng)


def _font(label: int, rng, fonts) -> Image.Image:
    side = int(rng.integers(96, 300))
    img = Image.new("L", (side, side), int(rng.integers(200, 250)))
    font = ImageFont.truetype(str(fonts[int(rng.integers(len(fonts)))]), int(side * rng.uniform(0.5, 0.8)))
    d = ImageDraw.Draw(img)
    box = d.textbbox((0, 0), str(label), font=font)
    d.text(((side - box[2] - box[0]) / 2, (side - box[3] - box[1]) / 2), str(label), fill=int(rng.integers(0, 80)),
           font=font)
    return img.rotate(rng.uniform(-10, 10), resample=Image.BICUBIC, fillcolor=img.getpixel((0, 0)))


def render(x: np.ndarray, labels: np.ndarray, seed: int, font_family: str = "DejaVu") -> list[Image.Image]:
    """One upload-like rendering of each (28, 28) uint8 digit; deterministic from the seed."""
    from .negatives import font_files

    rng = np.random.default_rng(seed)
    fonts = font_files(font_family)
    out = []
    for i, (digit, label) in enumerate(zip(x, labels)):
        family = FAMILIES[i % len(FAMILIES)]
        if family == "paper":
            img = _ink_on_paper(digit, int(rng.integers(96, 360)), rng)
        elif family == "small":
            img = _small(digit, rng)
        elif family == "tight":
            img = _tight(digit, rng)
        elif family == "marker":
            img = _marker(digit, rng)
        elif family == "font":
            img = _font(int(label), rng, fonts)
        else:
            img = Image.eval(_ink_on_paper(digit, int(rng.integers(96, 360)), rng), lambda v: 255 - v)
        if rng.random() < JPEG_SHARE:
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=int(rng.integers(60, 91)))
            img = Image.open(io.BytesIO(buf.getvalue()))
            img.load()
        out.append(img)
    return out


def hand_digits(n: int, seed: int) -> list[Image.Image]:
    """n digits in the handwriting-style faces whose letters the "not a digit" gate trains against
    (negatives_more.hand_fonts), drawn and saved as those letters are (negatives.letter, negatives.generate): the gate
    then learns digits' shapes apart from letters', not a face's strokes apart from MNIST's. Deterministic."""
    from .negatives import generate, letter
    from .negatives_more import hand_fonts

    fonts = hand_fonts()
    return generate({"hand-digits": lambda rng: letter(rng, fonts, "0123456789")}, n, seed)["hand-digits"]
