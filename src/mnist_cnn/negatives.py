"""Generated non-digits: what people send that is not a digit, rendered like an upload.

    from mnist_cnn.negatives import generate, VALIDATION, HELD_OUT
    images = generate(VALIDATION, n=40, seed=0)    # {family: [PIL "L" images]}, deterministic from the seed
    x = images.to_mnist(img)                       # what the model sees (None: "no digit found", also a refusal)

Families (each draws dark ink on light paper at photo-like sizes, 96-360 px, half of them inverted,
some saved as JPEG): letters rendered from the installed DejaVu/Liberation fonts (LETTERS: none a hand writes
as a digit; those nearest one, NEAR_LETTERS, also in a family of their own),
scribbles and doodles, shapes (stars, crosses, hatching, arrows, grids), blank or textured paper,
noise, and pictures of things (negatives_objects.py). VALIDATION
chooses the refusal rule; HELD_OUT reports it: its families are other generators (spirals, arrows,
ruled paper, blotches...) or other fonts, and its seeds differ, so no held-out image was seen while
choosing.
"""

from __future__ import annotations

import io
import itertools
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from . import negatives_more as more
from . import negatives_objects as objects
from .errors import UserError

# Letters nearest a digit that most hands still write apart from it: a D (round like a 0) has its straight back, a
# T (a 7's stem) its bar across, L t their foot and cross (1, 4), a d p y their stems (9, 4), and h (an open 6, among
# the letters before). Among the letters (so also in negatives_more's letter pairs and cut letters and in the piece
# gate's letters between digits, line_data.Composer.piece), and in a family of their own (840, as every family;
# placed fourth, it gives the families after it other pictures): class D, `best`, tools/read_refusal.py's numbers
# with a letter among their digits at six seeds, 363 -> 391 of 600 refused (T 0 -> 12 of 12, d 3 -> 10 of 18, D 1 ->
# 7 of 15), in faces nothing here was fitted on 346 -> 367 (docs/reading.md, "Letters nearest a digit").
NEAR_LETTERS = "DLTadhpty"
# Letters not shaped like a digit, and NEAR_LETTERS. Left out, as some digit's shape: O o Q (0), I l i j J (1),
# Z z (2), S s (5), B (8), G b (6), g q (9).
LETTERS = "ACEFHKMNPRUVWXYcefkmnruvwx" + NEAR_LETTERS
# Symbols and Greek letters, likewise without digit-like ones (! ? ( ) [ ] / | ~ θ σ δ β ζ ϑ left out).
SYMBOLS = "#@&%+=<>*$€£¥÷∞√ΣΩΨΦΠΛΞΔαεηκλμπφχψω"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
SIZES = (96, 360)  # image side in px: a phone crop to a scanned card, like real uploads
JPEG_SHARE = 0.3  # of images saved and reloaded as JPEG (quality 60-90), like photos
INVERTED_SHARE = 0.5  # light ink on dark paper (a blackboard, a screen capture)


def font_files(family: str) -> list[Path]:
    found = sorted(p for d in FONT_DIRS for p in d.glob(f"{family}*.ttf") if "Math" not in p.name)
    if not found:
        raise UserError(f"no {family} fonts in {', '.join(map(str, FONT_DIRS))} (on Debian and Ubuntu: apt-get "
                        f"install fonts-dejavu-core fonts-liberation)", exit_code=1)
    return found


def _canvas(rng, side=None):
    side = side or int(rng.integers(*SIZES))
    paper = int(rng.integers(200, 256))
    return Image.new("L", (side, side), paper), paper


def _ink(rng, paper: int) -> int:
    return int(rng.integers(0, max(1, paper - 120)))


def letter(rng, fonts: list[Path], chars: str = LETTERS) -> Image.Image:
    """One character, sometimes emboldened (a marker) and stretched (a hand's own proportions)."""
    img, paper = _canvas(rng)
    side = img.size[0]
    font = ImageFont.truetype(str(fonts[int(rng.integers(len(fonts)))]), int(side * rng.uniform(0.45, 0.8)))
    ch = chars[int(rng.integers(len(chars)))]
    d = ImageDraw.Draw(img)
    bold = int(side * rng.uniform(0, 0.02)) if rng.random() < 0.4 else 0
    box = d.textbbox((0, 0), ch, font=font, stroke_width=bold)
    x = (side - (box[2] - box[0])) / 2 - box[0] + rng.uniform(-0.1, 0.1) * side
    y = (side - (box[3] - box[1])) / 2 - box[1] + rng.uniform(-0.1, 0.1) * side
    ink = _ink(rng, paper)
    d.text((x, y), ch, fill=ink, font=font, stroke_width=bold, stroke_fill=ink)
    img = img.rotate(rng.uniform(-15, 15), resample=Image.BICUBIC, fillcolor=paper)
    if rng.random() < 0.3:
        img = img.resize((side, int(side * rng.uniform(0.7, 1.3))), Image.BICUBIC)
    return img


def polygon(rng) -> Image.Image:
    """An irregular polygon of 4-7 corners, filled (a blot, a sticker) or drawn round (a sketched shape)."""
    img, paper = _canvas(rng)
    side, c = img.size[0], img.size[0] / 2
    n = int(rng.integers(4, 8))
    a = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = side * rng.uniform(0.2, 0.42, n)
    pts = [(c + ri * math.cos(ai), c + ri * math.sin(ai)) for ri, ai in zip(r, a)]
    if rng.random() < 0.5:
        ImageDraw.Draw(img).polygon(pts, fill=_ink(rng, paper))
    else:
        _polyline(rng, img, paper, pts + [pts[0]])
    return img


def _polyline(rng, img, paper, points, width=None):
    side = img.size[0]
    width = width or max(2, int(side * rng.uniform(0.02, 0.06)))
    ImageDraw.Draw(img).line([tuple(p) for p in points], fill=_ink(rng, paper), width=width, joint="curve")


def scribble(rng) -> Image.Image:
    """A smooth curve through 8-16 random points: loops and crossings, like crossing something out."""
    img, paper = _canvas(rng)
    side = img.size[0]
    knots = rng.uniform(0.15, 0.85, (int(rng.integers(8, 17)), 2)) * side
    t = np.linspace(0, 1, 8)[:, None, None]
    p0, p1, p2, p3 = knots[:-3], knots[1:-2], knots[2:-1], knots[3:]
    curve = 0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                   + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3)  # Catmull-Rom through the knots
    _polyline(rng, img, paper, curve.transpose(1, 0, 2).reshape(-1, 2))
    return img


def zigzag(rng) -> Image.Image:
    img, paper = _canvas(rng)
    side = img.size[0]
    n = int(rng.integers(5, 12))
    xs = np.linspace(0.12, 0.88, n) * side
    ys = np.where(np.arange(n) % 2, 0.3, 0.7) * side + rng.normal(0, 0.04 * side, n)
    pts = np.stack([xs, ys], 1)
    if rng.random() < 0.5:
        pts = pts[:, ::-1]
    _polyline(rng, img, paper, pts)
    return img


def spiral(rng) -> Image.Image:
    img, paper = _canvas(rng)
    side = img.size[0]
    turns = rng.uniform(2.5, 4.5)
    t = np.linspace(0, turns * 2 * np.pi, 300)
    r = side * 0.4 * t / t[-1]
    _polyline(rng, img, paper, np.stack([side / 2 + r * np.cos(t), side / 2 + r * np.sin(t)], 1),
              width=max(2, int(side * rng.uniform(0.015, 0.03))))
    return img


def wave(rng) -> Image.Image:
    """Several wavy lines across the page, like a doodled sea."""
    img, paper = _canvas(rng)
    side = img.size[0]
    x = np.linspace(0.1, 0.9, 120) * side
    for k in range(int(rng.integers(2, 5))):
        y0 = side * (0.25 + 0.5 * k / 4) + rng.normal(0, 0.03 * side)
        y = y0 + side * 0.06 * np.sin(x / side * rng.uniform(12, 25) + rng.uniform(0, 6))
        _polyline(rng, img, paper, np.stack([x, y], 1))
    return img


def star(rng) -> Image.Image:
    img, paper = _canvas(rng)
    side, c = img.size[0], img.size[0] / 2
    k = int(rng.integers(5, 9))
    a = np.arange(2 * k) * np.pi / k + rng.uniform(0, np.pi)
    r = np.where(np.arange(2 * k) % 2, 0.17, 0.42) * side
    pts = [(c + ri * math.cos(ai), c + ri * math.sin(ai)) for ri, ai in zip(r, a)]
    d = ImageDraw.Draw(img)
    if rng.random() < 0.5:
        d.polygon(pts, fill=_ink(rng, paper))
    else:
        d.line(pts + [pts[0]], fill=_ink(rng, paper), width=max(2, int(side * 0.03)))
    return img


def cross(rng) -> Image.Image:
    """An X or an asterisk of 3-4 strokes through one point."""
    img, paper = _canvas(rng)
    side, c = img.size[0], img.size[0] / 2
    n = 2 if rng.random() < 0.5 else int(rng.integers(3, 5))
    start = rng.uniform(0, np.pi) if n > 2 else np.pi / 4 + rng.uniform(-0.2, 0.2)
    for a in start + np.arange(n) * np.pi / n:
        dx, dy = 0.38 * side * math.cos(a), 0.38 * side * math.sin(a)
        _polyline(rng, img, paper, [(c - dx, c - dy), (c + dx, c + dy)])
    return img


def hatching(rng) -> Image.Image:
    img, paper = _canvas(rng)
    side = img.size[0]
    a, n = rng.uniform(0, np.pi), int(rng.integers(5, 12))
    width = max(2, int(side * 0.02))
    for angle in (a, a + np.pi / 2) if rng.random() < 0.5 else (a,):
        u, w = np.array([math.cos(angle), math.sin(angle)]), np.array([-math.sin(angle), math.cos(angle)])
        for off in np.linspace(-0.3, 0.3, n) * side:
            p = side / 2 + w * off
            _polyline(rng, img, paper, [p - u * side * 0.3, p + u * side * 0.3], width)
    return img


def arrow(rng) -> Image.Image:
    img, paper = _canvas(rng)
    side, c = img.size[0], img.size[0] / 2
    a = rng.uniform(0, 2 * np.pi)
    u, w = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    tail, tip = c - u * side * 0.38, c + u * side * 0.38
    _polyline(rng, img, paper, [tail, tip])
    for s in (1, -1):
        _polyline(rng, img, paper, [tip, tip - u * side * 0.18 + s * w * side * 0.14])
    return img


def grid(rng) -> Image.Image:
    """Tic-tac-toe or a small table: crossing lines."""
    img, paper = _canvas(rng)
    side = img.size[0]
    n = int(rng.integers(2, 5))
    width = max(2, int(side * 0.025))
    for t in np.linspace(0.15, 0.85, n + 2)[1:-1] * side:
        _polyline(rng, img, paper, [(t, side * 0.1), (t + rng.normal(0, 3), side * 0.9)], width)
        _polyline(rng, img, paper, [(side * 0.1, t), (side * 0.9, t + rng.normal(0, 3))], width)
    return img


def triangle(rng) -> Image.Image:
    img, paper = _canvas(rng)
    side, c = img.size[0], img.size[0] / 2
    a = rng.uniform(0, 2 * np.pi) + np.arange(3) * 2 * np.pi / 3
    pts = [(c + 0.4 * side * math.cos(t), c + 0.4 * side * math.sin(t)) for t in a]
    if rng.random() < 0.5:
        ImageDraw.Draw(img).polygon(pts, fill=_ink(rng, paper))
    else:
        _polyline(rng, img, paper, pts + [pts[0]])
    return img


def blank(rng) -> Image.Image:
    """Paper with a light gradient and grain: nothing on it."""
    side = int(rng.integers(*SIZES))
    yy, xx = np.mgrid[0:side, 0:side] / side
    g = rng.uniform(200, 245) + rng.uniform(-25, 25) * xx + rng.uniform(-25, 25) * yy
    return Image.fromarray(np.clip(g + rng.normal(0, 3, g.shape), 0, 255).astype(np.uint8))


def texture(rng) -> Image.Image:
    """Cardboard, fabric or wood grain: smoothed noise, sometimes stretched into fibres."""
    side = int(rng.integers(*SIZES))
    small = rng.normal(0, 1, (int(rng.integers(8, 40)), int(rng.integers(8, 40))))
    g = np.asarray(Image.fromarray(small.astype(np.float32)).resize((side, side), Image.BICUBIC))
    g = 170 + 30 * g / (np.abs(g).max() + 1e-9) + rng.normal(0, 6, (side, side))
    return Image.fromarray(np.clip(g, 0, 255).astype(np.uint8))


def ruled(rng) -> Image.Image:
    """Ruled or squared paper, empty."""
    img, paper = _canvas(rng)
    side = img.size[0]
    step = int(side * rng.uniform(0.08, 0.2))
    d, tone = ImageDraw.Draw(img), paper - int(rng.integers(40, 90))
    for t in range(step // 2, side, step):
        d.line([(0, t), (side, t)], fill=tone, width=max(1, side // 150))
        if rng.random() < 0.5:
            d.line([(t, 0), (t, side)], fill=tone, width=max(1, side // 150))
    return img


def noise(rng) -> Image.Image:
    side = int(rng.integers(*SIZES))
    return Image.fromarray(np.clip(rng.normal(128, rng.uniform(30, 80), (side, side)), 0, 255).astype(np.uint8))


def blotches(rng) -> Image.Image:
    """Salt-and-pepper or ink blots scattered over the page."""
    img, paper = _canvas(rng)
    side = img.size[0]
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(15, 60))):
        x, y, r = rng.uniform(0, side), rng.uniform(0, side), rng.uniform(1, side * 0.04)
        d.ellipse([x - r, y - r, x + r, y + r], fill=_ink(rng, paper))
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.5)))


def near_letter(rng) -> Image.Image:
    """One of NEAR_LETTERS, in a handwriting-style face (negatives_more.hand_fonts) or DejaVu."""
    return letter(rng, more.hand_fonts() + font_files("DejaVu"), NEAR_LETTERS)


def _letters(font_family: str, chars: str = LETTERS):
    return lambda rng: letter(rng, font_files(font_family), chars)


# Each split's families; HELD_OUT's are other generators (or, for letters, other fonts) than VALIDATION's.
VALIDATION = {"letters-dejavu": _letters("DejaVu"), "symbols": _letters("DejaVu", SYMBOLS), "scribble": scribble,
              "letters-near": near_letter,
              "zigzag": zigzag, "star": star, "cross": cross, "hatching": hatching, "polygon": polygon,
              "blank": blank, "noise": noise, **more.VALIDATION, **objects.VALIDATION}
HELD_OUT = {"letters-liberation": _letters("Liberation"), "letters-hand": lambda rng: more.hand_letters(rng, True),
            "spiral": spiral, "wave": wave, "arrow": arrow,
            "grid": grid, "triangle": triangle, "texture": texture, "ruled": ruled, "blotches": blotches}
VALIDATION_SEED, HELD_OUT_SEED = 0, 1_000  # the two splits never share a random stream


def _as_upload(rng, img: Image.Image) -> Image.Image:
    """Half inverted, some blurred a little and saved as JPEG: the camera's and the encoder's marks."""
    if rng.random() < INVERTED_SHARE:
        img = Image.eval(img, lambda v: 255 - v)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    if rng.random() < JPEG_SHARE:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(rng.integers(60, 91)))
        img = Image.open(io.BytesIO(buf.getvalue()))
        img.load()
    return img


def generate(families: dict, n: int, seed: int) -> dict[str, list[Image.Image]]:
    """{family: n images}; the same (families, n, seed) always gives the same pixels."""
    return {name: list(itertools.islice(_drawn(make, seed, k), n)) for k, (name, make) in enumerate(families.items())}


def _drawn(make, seed: int, k: int):
    """The k-th family's images, endless: its stream is [seed, k] whatever set it is drawn with."""
    rng = np.random.default_rng([seed, k])
    while True:
        yield _as_upload(rng, make(rng))


def generated_as_mnist(families: dict, n: int, seed: int) -> dict[str, list[np.ndarray | None]]:
    """as_mnist(generate(families, n, seed)), the same arrays; VALIDATION's and HELD_OUT's a family a task on a worker
    process a core (preprocess_pool.starmap; the gate's 21,000: ~77 s of one core, class C), which finds it by name
    and place in this module as imported, not as patched here."""
    from .preprocess_pool import starmap

    name = next((k for k in ("VALIDATION", "HELD_OUT") if globals()[k] is families), None)
    if name is None:
        return as_mnist(generate(families, n, seed))
    return dict(zip(families, starmap(_drawn_as_mnist, [(name, k, n, seed) for k in range(len(families))])))


def _drawn_as_mnist(name: str, k: int, n: int, seed: int) -> list[np.ndarray | None]:
    """_drawn's first n images through to_mnist as they come, until the parent wants no more."""
    from .images import to_mnist
    from .preprocess_pool import stopped
    drawn = _drawn(list(globals()[name].values())[k], seed, k)
    return [to_mnist(next(drawn)) for _ in range(n) if not stopped()]


def as_mnist(images: dict[str, list[Image.Image]]) -> dict[str, list[np.ndarray | None]]:
    """Each image through images.to_mnist, an upload's plain reading (the rule is fitted on it; `predict` may also read
    a shaded photo with the shade for paper, images.candidates): (28, 28) float32, or None ("no digit found")."""
    from .images import to_mnist

    return {name: [to_mnist(im) for im in ims] for name, ims in images.items()}
