"""Non-digits that are pictures of things, not writing (negatives.VALIDATION adds them): a shaded silhouette (a
garment, a bag, a bottle, a shoe: overlapping solid parts, shaded and textured inside, perhaps seamed or patterned)
and an icon (a shaded tile or disc with a symbol on it).

    from mnist_cnn.negatives import VALIDATION, generate   # these are among VALIDATION's families
    images = generate({"silhouettes": VALIDATION["silhouettes"]}, n=10, seed=0)

Made because the gate, trained on strokes, letters and drawn shapes only, took a photo of a dress or a folder icon
for a 0, 1 or 8 (docs/images.md, "Pictures of things"). Drawn from primitives, never from a data set of objects:
Fashion-MNIST and the system's icon themes stay held out to measure them with (tools/objects.py).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

PARTS = (2, 5)  # solid parts of a silhouette: a body with sleeves, two legs and a waist, a bag and its handle...
PART_SIZE = (0.18, 0.6)  # ...each this share of the side, across and along
SOLID = 0.45  # a silhouette fills at least this share of its box: thin bars alone would be 1s and 7s, rings 0s


def silhouette(rng) -> Image.Image:
    """Overlapping solid parts round the middle, one tone against the paper, shaded and textured inside."""
    side = int(rng.integers(96, 361))
    return _on_paper(rng, side, _solid_parts(rng, side), _shading(rng, side))


def _solid_parts(rng, side: int, tries: int = 20) -> Image.Image:
    """A mask of PARTS parts filling at least SOLID of their box (the last try if none does)."""
    for _ in range(tries):
        mask = _parts(rng, side)
        if solidity(mask) >= SOLID:
            break
    return mask


def solidity(mask: Image.Image) -> float:
    """The share of a mask's box that it fills (0 when empty)."""
    box = mask.getbbox()
    if not box:
        return 0.0
    return float((np.asarray(mask.crop(box)) > 127).mean())


def icon(rng) -> Image.Image:
    """A rounded tile or a disc, shaded, with a lighter or darker symbol on it (a ring, a triangle, bars, a dot)."""
    side = int(rng.integers(96, 361))
    mask = Image.new("L", (side, side), 0)
    d = ImageDraw.Draw(mask)
    m = side * rng.uniform(0.08, 0.2, 4)
    box = [m[0], m[1], side - m[2], side - m[3]]
    if rng.random() < 0.6:
        d.rounded_rectangle(box, radius=side * rng.uniform(0.02, 0.15), fill=255)
    else:
        d.ellipse(box, fill=255)
    tone = _shading(rng, side)
    symbol = Image.new("L", (side, side), 0)
    s = ImageDraw.Draw(symbol)
    cx, cy, r = side / 2, side / 2, side * rng.uniform(0.1, 0.22)
    kind = int(rng.integers(4))
    width = max(2, int(side * rng.uniform(0.03, 0.07)))
    if kind == 0:
        s.ellipse([cx - r, cy - r, cx + r, cy + r], outline=255, width=width)
    elif kind == 1:
        s.polygon([(cx - r, cy + r), (cx + r, cy + r), (cx, cy - r)], fill=255)
    elif kind == 2:
        for k in range(3):
            y = cy - r + k * r
            s.line([(cx - r, y), (cx + r * rng.uniform(0.2, 1), y)], fill=255, width=width)
    else:
        s.ellipse([cx - r / 2, cy - r / 2, cx + r / 2, cy + r / 2], fill=255)
    tone = np.where(np.asarray(symbol) > 0, 255 - tone, tone)
    return _on_paper(rng, side, mask, tone)


def _parts(rng, side: int) -> Image.Image:
    mask = Image.new("L", (side, side), 0)
    d = ImageDraw.Draw(mask)
    for _ in range(int(rng.integers(*PARTS))):
        w, h = side * rng.uniform(*PART_SIZE, 2)
        cx, cy = side * rng.uniform(0.35, 0.65, 2)
        turn = rng.uniform(-0.6, 0.6)
        corners = np.array([(-w, -h), (w, -h), (w, h), (-w, h)]) / 2
        if rng.random() < 0.4:  # a trapezoid: a skirt, a bottle's shoulders
            corners[:2, 0] *= rng.uniform(0.3, 0.9)
        if rng.random() < 0.3:
            d.ellipse([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], fill=255)
            continue
        rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        d.polygon([tuple(p) for p in corners @ rot.T + (cx, cy)], fill=255)
    return mask


def _shading(rng, side: int) -> np.ndarray:
    """(side, side) float tone: a base, a gradient, smoothed noise, and perhaps stripes or checks."""
    yy, xx = np.mgrid[0:side, 0:side] / side
    a = rng.uniform(0, 2 * np.pi)
    tone = rng.uniform(30, 225) + rng.uniform(0, 60) * (xx * np.cos(a) + yy * np.sin(a) - 0.5)
    grain = Image.fromarray((rng.random((side, side)) * 255).astype(np.uint8))
    grain = np.asarray(grain.filter(ImageFilter.GaussianBlur(side * rng.uniform(0.01, 0.05))), np.float64)
    tone += rng.uniform(0, 4) * (grain - grain.mean())
    if rng.random() < 0.35:  # stripes or checks: a shirt's pattern
        f = rng.uniform(4, 14)
        pattern = np.sin(2 * np.pi * f * xx) > 0
        if rng.random() < 0.5:
            pattern ^= np.sin(2 * np.pi * f * yy) > 0
        tone += rng.uniform(20, 60) * (pattern - 0.5)
    return np.clip(tone, 0, 255)


def _on_paper(rng, side: int, mask: Image.Image, tone: np.ndarray) -> Image.Image:
    """The tone inside the mask (its edge softened), plain paper around it; seams drawn on half of them."""
    paper = float(rng.integers(200, 256)) if rng.random() < 0.5 else float(rng.integers(0, 40))
    edge = np.asarray(mask.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2))), np.float64) / 255
    page = paper * (1 - edge) + tone * edge
    if rng.random() < 0.5:  # seams, inside the silhouette only
        seams = Image.new("L", (side, side), 0)
        d = ImageDraw.Draw(seams)
        box = mask.getbbox() or (0, 0, side, side)
        for _ in range(int(rng.integers(1, 4))):
            x = rng.uniform(box[0], box[2])
            d.line([(x, box[1]), (x + rng.uniform(-0.2, 0.2) * side, box[3])], fill=255, width=max(1, side // 100))
        seam = np.asarray(seams, np.float64) / 255 * edge
        page = page * (1 - seam) + np.clip(tone + rng.choice([-1, 1]) * 60, 0, 255) * seam
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))


VALIDATION = {"silhouettes": silhouette, "icons": icon}
