"""More validation families of non-digits (negatives.VALIDATION adds them): word fragments, cut letters,
handwriting-font letters, joined-up loops, pencil dust, cloth, form marks.

    from mnist_cnn.negatives import VALIDATION, generate   # these are among VALIDATION's families
    images = generate({"cursive": VALIDATION["cursive"]}, n=10, seed=0)

Added to make the gate's training and the rule's validation more varied in general (issue 12, part 2);
none of them is one of negatives.HELD_OUT's generators. Split from negatives.py to keep it small.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont


def letter_pair(rng) -> Image.Image:
    """Two letters side by side, a fragment of a word (a name, a label) cut out as one image."""
    img, paper = base._canvas(rng)
    side = img.size[0]
    fonts = base._fonts("DejaVu")
    font = ImageFont.truetype(str(fonts[int(rng.integers(len(fonts)))]), int(side * rng.uniform(0.35, 0.55)))
    text = "".join(base.LETTERS[int(rng.integers(len(base.LETTERS)))] for _ in range(2))
    d = ImageDraw.Draw(img)
    box = d.textbbox((0, 0), text, font=font)
    x, y = (side - (box[2] - box[0])) / 2 - box[0], (side - (box[3] - box[1])) / 2 - box[1]
    d.text((x, y), text, fill=base._ink(rng, paper), font=font)
    return img.rotate(rng.uniform(-15, 15), resample=Image.BICUBIC, fillcolor=paper)


def partial_letter(rng) -> Image.Image:
    """A letter cut by the image's edge (a careless crop): a third to a half of it off the page."""
    img = base.letter(rng, base._fonts("DejaVu"))
    side = img.size[0]
    dx, dy = (rng.choice([-1, 1], 2) * rng.uniform(0.2, 0.4, 2) * side).astype(int) * (rng.random(2) < 0.7)
    paper = int(np.asarray(img)[0, 0])
    return img.transform(img.size, Image.AFFINE, (1, 0, int(dx), 0, 1, int(dy)), fillcolor=paper)


def hand_fonts(held_out: bool = False) -> list[Path]:
    """The handwriting-style faces of evalset_render.FONT_FILES (with held_out its HELD_OUT_FONT_FILES) installed;
    else DejaVu (Liberation)."""
    from .evalset_render import FONT_FILES, HELD_OUT_FONT_FILES

    fonts = [Path(f) for f in (HELD_OUT_FONT_FILES if held_out else FONT_FILES) if Path(f).exists()]
    return fonts or base._fonts("Liberation" if held_out else "DejaVu")


def hand_letters(rng, held_out: bool = False) -> Image.Image:
    """A letter in a handwriting-style font (hand_fonts)."""
    return base.letter(rng, hand_fonts(held_out))


def cursive(rng) -> Image.Image:
    """A row of loops like joined-up handwriting (a trochoid: eeee, llll, a signature)."""
    img, paper = base._canvas(rng)
    side = img.size[0]
    loops = rng.uniform(1.5, 4)
    t = np.linspace(0, loops * 2 * np.pi, 400)
    r, step = rng.uniform(0.12, 0.25) * side, 0.7 * side / (loops * 2 * np.pi)
    x = side * 0.15 + step * t - r * np.sin(t) * rng.uniform(0.6, 1.2)
    y = side / 2 + r * np.cos(t) + rng.normal(0, 0.01 * side) * np.sin(t / loops)
    base._polyline(rng, img, paper, np.stack([x, y], 1), width=max(2, int(side * rng.uniform(0.015, 0.04))))
    return img


def stipple(rng) -> Image.Image:
    """Pencil dust and eraser crumbs: many fine dots and short dashes, or a few marks far apart."""
    img, paper = base._canvas(rng)
    side = img.size[0]
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(4, 120))):
        x, y = rng.uniform(0.05, 0.95, 2) * side
        if rng.random() < 0.7:
            r = rng.uniform(0.5, side * 0.015)
            d.ellipse([x - r, y - r, x + r, y + r], fill=base._ink(rng, paper))
        else:
            a, n = rng.uniform(0, np.pi), rng.uniform(0.02, 0.08) * side
            d.line([(x, y), (x + n * math.cos(a), y + n * math.sin(a))], fill=base._ink(rng, paper),
                   width=max(1, int(side * 0.01)))
    return img


def fabric(rng) -> Image.Image:
    """Woven cloth, crumpled paper or a table top: crossed gratings and smoothed noise in one tone."""
    side = int(rng.integers(*base.SIZES))
    yy, xx = np.mgrid[0:side, 0:side] / side
    g = np.zeros((side, side))
    for _ in range(int(rng.integers(1, 4))):
        a, f = rng.uniform(0, np.pi), rng.uniform(6, 40)
        g += np.sin(2 * np.pi * f * (xx * math.cos(a) + yy * math.sin(a)) + rng.uniform(0, 6))
    g = rng.uniform(120, 210) + rng.uniform(8, 35) * g / np.abs(g).max() + rng.normal(0, rng.uniform(2, 12), g.shape)
    return Image.fromarray(np.clip(g, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.5)))


def tick(rng) -> Image.Image:
    """A check mark or a hand-drawn cross (the marks on a form), strokes bent a little."""
    img, paper = base._canvas(rng)
    side = img.size[0]
    if rng.random() < 0.5:
        pts = np.array([[0.2, 0.55], [0.42, 0.78], [0.82, 0.2]]) + rng.normal(0, 0.04, (3, 2))
        base._polyline(rng, img, paper, pts * side)
    else:
        for a, b in (([0.2, 0.2], [0.8, 0.8]), ([0.8, 0.2], [0.2, 0.8])):
            mid = (np.add(a, b) / 2 + rng.normal(0, 0.04, 2))
            base._polyline(rng, img, paper, np.array([a, mid, b]) * side)
    return img


VALIDATION = {"letter-pairs": letter_pair, "partial-letters": partial_letter, "hand-letters": hand_letters,
              "cursive": cursive, "stipple": stipple, "fabric": fabric, "ticks": tick}

# Imported last: negatives.py imports this module for VALIDATION, and its helpers are looked up at call time.
from . import negatives as base
