"""More validation families of non-digits (negatives.VALIDATION adds them): word fragments, cut letters,
handwriting-font letters, joined-up loops, pencil dust, cloth, form marks, and the doodles people try a digit
reader with (faces, hearts, flowers, stick figures and houses, symbols in a hand).

    from mnist_cnn.negatives import VALIDATION, generate   # these are among VALIDATION's families
    images = generate({"cursive": VALIDATION["cursive"]}, n=10, seed=0)

Added to make the gate's training and the rule's validation more varied in general (issue 12, part 2);
none of them is one of negatives.HELD_OUT's generators. Split from negatives.py to keep it small.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont


def letter_pair(rng) -> Image.Image:
    """Two letters side by side, a fragment of a word (a name, a label) cut out as one image."""
    img, paper = base._canvas(rng)
    side = img.size[0]
    fonts = base.font_files("DejaVu")
    font = ImageFont.truetype(str(fonts[int(rng.integers(len(fonts)))]), int(side * rng.uniform(0.35, 0.55)))
    text = "".join(base.LETTERS[int(rng.integers(len(base.LETTERS)))] for _ in range(2))
    d = ImageDraw.Draw(img)
    box = d.textbbox((0, 0), text, font=font)
    x, y = (side - (box[2] - box[0])) / 2 - box[0], (side - (box[3] - box[1])) / 2 - box[1]
    d.text((x, y), text, fill=base._ink(rng, paper), font=font)
    return img.rotate(rng.uniform(-15, 15), resample=Image.BICUBIC, fillcolor=paper)


def partial_letter(rng) -> Image.Image:
    """A letter cut by the image's edge (a careless crop): a third to a half of it off the page."""
    img = base.letter(rng, base.font_files("DejaVu"))
    side = img.size[0]
    dx, dy = (rng.choice([-1, 1], 2) * rng.uniform(0.2, 0.4, 2) * side).astype(int) * (rng.random(2) < 0.7)
    paper = int(np.asarray(img)[0, 0])
    return img.transform(img.size, Image.AFFINE, (1, 0, int(dx), 0, 1, int(dy)), fillcolor=paper)


def hand_fonts(held_out: bool = False) -> list[Path]:
    """The handwriting-style faces of evalset_render.FONT_FILES (with held_out its HELD_OUT_FONT_FILES) installed;
    else DejaVu (Liberation)."""
    from .evalset_render import FONT_FILES, HELD_OUT_FONT_FILES

    fonts = [Path(f) for f in (HELD_OUT_FONT_FILES if held_out else FONT_FILES) if Path(f).exists()]
    return fonts or base.font_files("Liberation" if held_out else "DejaVu")


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


def _outline(rng, img, paper, points, filled: bool = False, width=None) -> None:
    """A closed curve through (N, 2) points: drawn by a pen, or filled in."""
    if filled:
        ImageDraw.Draw(img).polygon([tuple(p) for p in points], fill=base._ink(rng, paper))
    else:
        base._polyline(rng, img, paper, np.concatenate([points, points[:1]]), width)


def _ring(c, rx, ry, turn=0.0, n=60) -> np.ndarray:
    """(n, 2) points round an ellipse about c, its axes rx and ry turned by `turn` radians."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x, y = rx * np.cos(t), ry * np.sin(t)
    return np.stack([c[0] + x * math.cos(turn) - y * math.sin(turn), c[1] + x * math.sin(turn) + y * math.cos(turn)], 1)


def face(rng) -> Image.Image:
    """A face drawn as a ring with eyes and a mouth, or a ring with a dot or a cross in it: the doodles people try a
    digit reader with, which the gate took for 0s. (A ring alone is a 0, and so is one slashed: both are left out.)"""
    img, paper = base._canvas(rng)
    side = img.size[0]
    c = side / 2 + rng.normal(0, 0.03 * side, 2)
    rx, ry = side * rng.uniform(0.3, 0.42, 2)
    width = max(2, int(side * rng.uniform(0.02, 0.045)))
    _outline(rng, img, paper, _ring(c, rx, ry), width=width)
    kind = rng.choice(["face", "face", "face", "dot", "cross"])
    if kind == "dot":
        _outline(rng, img, paper, _ring(c, *(rng.uniform(0.08, 0.2) * np.array([rx, rx]))), filled=True)
    elif kind == "cross":
        a, k = rng.uniform(0, np.pi / 2), rng.uniform(0.6, 1.0)
        for b in (a, a + np.pi / 2):
            u = np.array([math.cos(b) * rx, math.sin(b) * ry]) * k
            base._polyline(rng, img, paper, [c - u, c + u], width)
    else:
        eye_y, dx = c[1] - ry * rng.uniform(0.2, 0.4), rx * rng.uniform(0.3, 0.45)
        r = max(width, side * rng.uniform(0.02, 0.05))
        for s in (-1, 1):
            eye = np.array([c[0] + s * dx, eye_y])
            if rng.random() < 0.7:
                _outline(rng, img, paper, _ring(eye, r, r * rng.uniform(0.8, 1.6), n=16), filled=True)
            else:
                base._polyline(rng, img, paper, [eye - (0, 1.5 * r), eye + (0, r)], width)
        x = np.linspace(-1, 1, 20) * rx * rng.uniform(0.35, 0.6)
        bend = rng.choice([1.0, -1.0, 0.0]) * ry * rng.uniform(0.1, 0.25)  # a smile, a frown, a straight line
        mouth = np.stack([c[0] + x, c[1] + ry * rng.uniform(0.3, 0.5) + bend * (1 - (x / x.max()) ** 2)], 1)
        base._polyline(rng, img, paper, mouth - (0, bend), width)
    return img


def heart(rng) -> Image.Image:
    """A heart, outlined or filled, a little turned and stretched."""
    img, paper = base._canvas(rng)
    side = img.size[0]
    t = np.linspace(0, 2 * np.pi, 80, endpoint=False)
    x, y = 16 * np.sin(t) ** 3, -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    k, turn = side * rng.uniform(0.018, 0.026) * rng.uniform(0.85, 1.15, 2), rng.uniform(-0.35, 0.35)
    rotation = np.array([[math.cos(turn), math.sin(turn)], [-math.sin(turn), math.cos(turn)]])
    pts = np.stack([x * k[0], y * k[1]], 1) @ rotation
    _outline(rng, img, paper, pts + side / 2, filled=rng.random() < 0.3)
    return img


def flower(rng) -> Image.Image:
    """A flower (petal loops round a middle, perhaps on a stem) or a sun (a ring with rays)."""
    img, paper = base._canvas(rng)
    side = img.size[0]
    width = max(2, int(side * rng.uniform(0.015, 0.035)))
    stem = rng.random() < 0.5
    c = np.array([side / 2, side * (0.38 if stem else 0.5)])
    n, r = int(rng.integers(4, 9)), side * rng.uniform(0.09, 0.14)
    if rng.random() < 0.6:
        for a in np.arange(n) * 2 * np.pi / n + rng.uniform(0, np.pi):
            mid = c + 1.6 * r * np.array([math.cos(a), math.sin(a)])
            _outline(rng, img, paper, _ring(mid, 0.9 * r, 0.5 * r, turn=a, n=24), width=width)
    else:
        _outline(rng, img, paper, _ring(c, r, r), width=width)
        for a in np.arange(n + 3) * 2 * np.pi / (n + 3):
            u = np.array([math.cos(a), math.sin(a)])
            base._polyline(rng, img, paper, [c + 1.4 * r * u, c + 2.4 * r * u], width)
    if stem:
        base._polyline(rng, img, paper, [c + (0, 2.4 * r), (side / 2 + rng.normal(0, 0.03 * side), side * 0.92)], width)
    return img


def figure(rng) -> Image.Image:
    """A stick figure or a house: a child's drawing."""
    img, paper = base._canvas(rng)
    side = img.size[0]
    width = max(2, int(side * rng.uniform(0.015, 0.035)))

    def line(*pts):
        base._polyline(rng, img, paper, np.array(pts) * side, width)

    if rng.random() < 0.5:
        head = rng.uniform(0.08, 0.12)
        _outline(rng, img, paper, _ring((side / 2, side * (0.1 + head)), head * side, head * side), width=width)
        neck, hip = 0.1 + 2 * head, 0.62
        arms = neck + rng.uniform(0.02, 0.12)
        line((0.5, neck), (0.5, hip))
        line((0.5 - rng.uniform(0.15, 0.3), arms + rng.uniform(-0.1, 0.1)), (0.5, arms),
             (0.5 + rng.uniform(0.15, 0.3), arms + rng.uniform(-0.1, 0.1)))
        line((0.5 - rng.uniform(0.1, 0.25), 0.92), (0.5, hip), (0.5 + rng.uniform(0.1, 0.25), 0.92))
    else:
        top, w = rng.uniform(0.4, 0.55), rng.uniform(0.25, 0.38)
        line((0.5 - w, top), (0.5 - w, 0.9), (0.5 + w, 0.9), (0.5 + w, top), (0.5 - w, top))
        line((0.5 - w - 0.05, top + 0.02), (0.5, rng.uniform(0.1, 0.25)), (0.5 + w + 0.05, top + 0.02))
        if rng.random() < 0.7:
            door = rng.uniform(0.06, 0.1)
            line((0.5 - door, 0.9), (0.5 - door, 0.9 - 2.5 * door), (0.5 + door, 0.9 - 2.5 * door), (0.5 + door, 0.9))
    return img


# Symbols in the handwriting faces, none shaped like a digit (as base.SYMBOLS); not % < >: the dkg faces draw % and >
# as 7s (a crossed one, a plain one), and the BecauseWe faces have no < or > (Pillow draws a box or nothing)
HAND_SYMBOLS = "#@&+=*$"


@functools.lru_cache(maxsize=None)
def _in_face(font: Path, chars: str) -> str:
    """The chars the font file has a glyph for (fontTools, of the `train` extra): a missing one is drawn as a box."""
    from fontTools.ttLib import TTFont

    cmap = TTFont(str(font), lazy=True).getBestCmap() or {}
    return "".join(c for c in chars if ord(c) in cmap)


def hand_symbols(rng, held_out: bool = False) -> Image.Image:
    """A symbol in a handwriting-style font (hand_fonts): a hand's & or $ passed for an 8, its = for a 5."""
    fonts = hand_fonts(held_out)
    font = fonts[int(rng.integers(len(fonts)))]
    chars = _in_face(font, HAND_SYMBOLS)
    if not chars:  # a face with none of them
        font, chars = base.font_files("DejaVu")[0], HAND_SYMBOLS
    return base.letter(rng, [font], chars)


VALIDATION = {"letter-pairs": letter_pair, "partial-letters": partial_letter, "hand-letters": hand_letters,
              "cursive": cursive, "stipple": stipple, "fabric": fabric, "ticks": tick, "faces": face,
              "hearts": heart, "flowers": flower, "figures": figure, "hand-symbols": hand_symbols}

# Imported last: negatives.py imports this module for VALIDATION, and its helpers are looked up at call time.
from . import negatives as base
