"""Pictures of written numbers with known answers, for testing and measuring `mnist-cnn read`.

    from mnist_cnn.number_images import Writer, STYLES
    w = Writer(x_test, y_test, seed=0)               # digits from MNIST's test set (never its training set)
    w = Writer.from_fonts(FONT_FILES, seed=0)        # or rendered in handwriting fonts
    image, text = w.number("photo", digits=4)        # (PIL image, "4071"); styles: STYLES
    image = w.not_digits("letters")                  # no number: NON_DIGITS (letters, a doodle, textured paper...)
    image = w.not_digits("point")                    # or a number with a mark among its digits: MARKED (3.95, 7:39)
    image, letter = w.one_letter()                   # not_digits("one-letter"), and the letter among its digits
    image = dotted(image, rng)                       # the same page printed with a dot grid under the ink

Styles: `clean` (white ink on black, as the drawing pad), `photo` (dark ink on paper under uneven light,
sensor noise, JPEG), `ruled` (on ruled or squared paper, the number on a line), `touching` (neighbours
pushed into each other). Every number has a little slant and baseline wobble and its own size.
python tools/read_eval.py scores `read` on these.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

STYLES = ("clean", "photo", "ruled", "touching")
NON_DIGITS = ("letters", "doodle", "blank", "noise", "texture", "one-letter")
# Numbers with a mark that is no digit among their digits (a price, a time, a date, a sum): not a row of digits either.
# Kept apart from NON_DIGITS, whose figures the README quotes; tools/read_refusal.py --kinds measures them.
MARKED = {"point": ".", "comma": ",", "colon": ":", "slash": "/", "dash": "-", "sign": "+=%$#",
          "plus": "+", "equals": "=", "per-cent": "%", "dollar": "$", "hash": "#",  # sign: one of five; then each
          "brackets": "()", "minus": "-",  # round the digits, not among them: (305); before 1-5 of them: -42
          "date": "/"}  # day, month, year of 2 or 4 digits (a fifth of the 4-digit ones first): 7/12/2026, 2026/12/07
WRITTEN = ("point", "comma", "colon", "slash", "dash", "minus", "date")  # the marks `read` writes among the digits
# Words as a hand writes them (lower case shorter than capitals, letters close or joined): kept apart from NON_DIGITS
# too; tools/read_refusal.py --kinds words measures them. Everyday words, none a row of digit-like letters (lol, Oil).
WORDS = ("hello", "name", "total", "date", "yes", "milk", "house", "summer", "win", "run", "cat", "dog", "love",
         "June", "swim", "mail", "Anna", "Tom", "Mum", "bread", "eggs", "water", "paper", "seven", "nine", "ten",
         "apple", "tree", "happy", "thanks", "kitchen", "green", "Monday", "March", "Paris", "Kim", "max", "draw",
         "sign", "here", "men", "mum", "wow", "nun", "hum", "Hi", "WHO", "NEW", "MAX", "WWW")
SYMBOLS = "?!%#$&@*"  # a sign alone, no digit beside it (? read 7, % read 916): tools/read_refusal.py --kinds symbols
KINDS = (*NON_DIGITS, "words", "symbols", "letter", *MARKED)  # what not_digits draws; "letter": one of ALONE alone
# (a capital's strokes cut apart read 11, 16, 76: docs/reading.md, "A letter alone")
CENTRED = "-+=()"  # marks written around the row's middle, not on its baseline (a bracket taller than the digits
# stands on it, rising above them)
HEIGHT = (36, 90)  # digit heights in px: a phone photo of a form to a drawing pad
GAP = (0.12, 0.45)  # space between digits, as a fraction of the height
TOUCH = (-0.12, -0.02)  # touching: neighbours' ink boxes overlap by 2-12% of the height
WOBBLE = 0.06  # baseline wobble, fraction of the height
SLANT = 0.18  # shear, either way
RULE_SLOPE = 0.003  # ruled lines slope up to this either way (rise over run): printed or scanned a little askew
LIGHT = 0.3  # photos: the light falls by up to 30% across the page (a lamp to one side), plus a soft hot spot
MARGIN = (0.3, 0.9)  # paper around the number, in heights
LETTERS = "abcdefghkmnprstuvwxyzABCDEFGHKLMNPRSTUVWXYZ"  # no letters that are written like digits (o, l, I, q...)
# but b g s z B G S Z, which many hands write as 6 9 5 2 8 6 5 2: the gate does not learn them (negatives.LETTERS), and
# tools/read_refusal.py's count by letter shows them apart (docs/reading.md, "Letters nearest a digit")
ALONE = "".join(c for c in LETTERS if c not in "bgszBGSZ")  # the letter kind's: a letter alone is no digit's twin


class Writer:
    def __init__(self, x: np.ndarray, y: np.ndarray, seed: int = 0, fonts=None):
        """x: (N, 28, 28) uint8 MNIST digits with labels y; or fonts: handwriting font files (render digits)."""
        self.x, self.y, self.fonts = x, y, list(fonts or [])
        self.rng = np.random.default_rng(seed)

    @classmethod
    def from_fonts(cls, fonts, seed: int = 0) -> "Writer":
        return cls(None, None, seed, fonts)

    def number(self, style: str, digits: int | None = None, text: str | None = None):
        """A picture of a random number of `digits` digits (2-6 when None) in `style`, and its text; or of `text`,
        whose marks that are no digit (MARKED's) are drawn in the writer's font (DejaVu for MNIST's digits)."""
        rng = self.rng
        if text is None:
            text = "".join(str(d) for d in rng.integers(0, 10, digits or int(rng.integers(2, 7))))
        height = int(rng.integers(*HEIGHT))
        font = self.fonts[int(rng.integers(len(self.fonts)))] if self.fonts else None
        glyphs = [self._glyph(c, height, font) for c in text]
        ink = self._line(glyphs, height, touching=style == "touching")
        return _render(ink, style, height, rng), text

    def not_digits(self, kind: str):
        """A picture of ink that is not a number (NON_DIGITS, WORDS' "words", a sign of SYMBOLS alone, or a number with
        a mark of MARKED), in a random style."""
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {', '.join(KINDS)}, found {kind!r}")
        if kind == "one-letter":
            return self.one_letter()[0]
        rng = self.rng
        height = int(rng.integers(*HEIGHT))
        style = STYLES[int(rng.integers(3))]
        if kind in MARKED:
            return self._marked(kind, style)[0]
        if kind == "blank":
            return _render(np.zeros((int(height * 1.6), int(height * 4)), np.float32), style, height, rng)
        if kind == "texture":  # a page with no writing: grainy, blotchy or creased paper, or empty ruled paper
            return _textured(_render(np.zeros((int(height * 1.6), int(height * 4)), np.float32),
                                     "ruled" if rng.random() < 0.3 else "photo", height, rng), height, rng)
        if kind == "noise":
            a = (rng.random((int(height * 1.6), int(height * 4))) < 0.3).astype(np.float32)
            return _render(a, style, height, rng)
        if kind == "doodle":
            return _render(_doodle(height, rng), style, height, rng)
        font = self.fonts[int(rng.integers(len(self.fonts)))] if self.fonts else None
        if kind in ("words", "symbols", "letter"):  # drawn whole, in the font's own spacing and joins
            text = str(rng.choice({"words": WORDS, "symbols": list(SYMBOLS)}.get(kind, list(ALONE))))
            return _render(self._line([_font_glyph(text, height, font or _any_font())], height, False), style, height,
                           rng)
        word = [str(rng.choice(list(LETTERS))) for _ in range(int(rng.integers(2, 6)))]  # letters
        glyphs = [_font_glyph(c, height, font or _any_font()) for c in word]
        return _render(self._line(glyphs, height, False), style, height, rng)

    def marked(self, kind: str):
        """not_digits(kind) for a kind of MARKED, and the text drawn ("3.95", "(305)")."""
        self.rng.integers(*HEIGHT)  # drawn as not_digits draws it: the same pictures
        return self._marked(kind, STYLES[int(self.rng.integers(3))])

    def _marked(self, kind: str, style: str):
        rng = self.rng  # a minus sign before 1-5 digits (-7); the other marks among 2-5
        if kind == "date":
            return self.number(style, text=_date(rng))
        text = [str(d) for d in rng.integers(0, 10, int(rng.integers(1 if kind == "minus" else 2, 6)))]
        if kind in ("brackets", "minus"):
            text = ["(", *text, ")"] if kind == "brackets" else ["-", *text]
        else:
            text.insert(int(rng.integers(1, len(text))), str(rng.choice(list(MARKED[kind]))))
        return self.number(style, text="".join(text))

    def one_letter(self):
        """A picture of a number of 3-5 digits with one letter of LETTERS in place of a digit, in a random style,
        and the letter (not_digits("one-letter") is its picture)."""
        rng = self.rng
        height = int(rng.integers(*HEIGHT))
        style = STYLES[int(rng.integers(3))]
        font = self.fonts[int(rng.integers(len(self.fonts)))] if self.fonts else None
        text = [str(d) for d in rng.integers(0, 10, int(rng.integers(3, 6)))]
        glyphs = [self._glyph(c, height, font) for c in text]
        letter = str(rng.choice(list(LETTERS)))
        glyphs[int(rng.integers(len(glyphs)))] = _font_glyph(letter, height, font or _any_font())
        return _render(self._line(glyphs, height, False), style, height, rng), letter

    def _glyph(self, c: str, height: int, font) -> np.ndarray:
        if font is not None or not c.isdigit():
            a = _font_glyph(c, height, font or _any_font())
            lift = int(0.5 * height - a.shape[0] / 2) if c in CENTRED else 0  # rows under it: its middle at half height
            return np.pad(a, ((0, max(lift, 0)), (0, 0)))
        pick = self.rng.choice(np.flatnonzero(self.y == int(c)))
        a = self.x[pick].astype(np.float32) / 255
        rows, cols = np.flatnonzero(a.max(1) > 0.1), np.flatnonzero(a.max(0) > 0.1)
        a = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        scale = height / 20 * self.rng.uniform(0.9, 1.1)  # MNIST's longer side is 20 px
        size = (max(1, round(a.shape[1] * scale)), max(1, round(a.shape[0] * scale)))
        return np.asarray(Image.fromarray(a).resize(size, Image.Resampling.BICUBIC)).clip(0, 1)

    def _line(self, glyphs, height: int, touching: bool) -> np.ndarray:
        """Glyphs side by side on a wobbly baseline, sheared, as one ink map (white on black)."""
        rng = self.rng
        gaps = [rng.uniform(*(TOUCH if touching else GAP)) * height for _ in glyphs[1:]]
        width = int(sum(g.shape[1] for g in glyphs) + sum(gaps)) + 2 * height
        top = height // 2
        ink = np.zeros((2 * height + top, width), np.float32)
        x = float(height)
        for k, g in enumerate(glyphs):
            h, w = g.shape
            y = top + int(height - h + rng.uniform(-WOBBLE, WOBBLE) * height)
            y = min(max(y, 0), ink.shape[0] - h)
            region = ink[y:y + h, int(x):int(x) + w]
            np.maximum(region, g[:, :region.shape[1]], out=region)
            x += w + (gaps[k] if k < len(gaps) else 0)
        shear = rng.uniform(-SLANT, SLANT)
        m = np.float32([[1, -shear, shear * ink.shape[0] / 2], [0, 1, 0]])
        ink = cv2.warpAffine(ink, m, (ink.shape[1], ink.shape[0]), flags=cv2.INTER_LINEAR)
        rows, cols = np.flatnonzero(ink.max(1) > 0.05), np.flatnonzero(ink.max(0) > 0.05)
        if not len(rows):
            return ink
        return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _date(rng) -> str:
    """7/12/2026, 07/12/26, or a fifth of those with 4 digits year first (2026/12/07)."""
    day, month, year = (str(int(rng.integers(low, high))) for low, high in ((1, 32), (1, 13), (1900, 2100)))
    parts = [day.zfill(2) if rng.random() < 0.5 else day, month.zfill(2) if rng.random() < 0.5 else month,
             year if rng.random() < 0.5 else year[2:]]
    return "/".join(parts[::-1] if len(parts[2]) == 4 and rng.random() < 0.2 else parts)


_FONT_CACHE: dict = {}


def _any_font():
    return "DejaVuSans.ttf"


def _font_glyph(c: str, height: int, font) -> np.ndarray:
    """One character in a font, its ink cropped; digits come out `height` tall."""
    key = (str(font), height)
    if key not in _FONT_CACHE:
        _FONT_CACHE[key] = ImageFont.truetype(str(font), int(height * 1.4))
    f = _FONT_CACHE[key]
    img = Image.new("L", (height * (2 + 2 * len(c)), height * 3), 0)  # a word too
    ImageDraw.Draw(img).text((height // 2, height // 2), c, font=f, fill=255)
    a = np.asarray(img, np.float32) / 255
    rows, cols = np.flatnonzero(a.max(1) > 0.1), np.flatnonzero(a.max(0) > 0.1)
    a = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    if c.isdigit():  # fonts differ in digit height: bring each to `height`
        scale = height / a.shape[0]
        a = np.asarray(Image.fromarray(a).resize((max(1, round(a.shape[1] * scale)), height),
                                                 Image.Resampling.BICUBIC)).clip(0, 1)
    return a


def _doodle(height: int, rng) -> np.ndarray:
    """A scribble: a few random smooth loops across a number-sized area."""
    w, h = int(height * rng.uniform(2, 5)), int(height * 1.3)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    t = np.linspace(0, 2 * np.pi * rng.uniform(1.5, 4), 200)
    xs = w / 2 + w * 0.4 * np.sin(t * rng.uniform(0.3, 1.2) + rng.uniform(0, 6))
    ys = h / 2 + h * 0.4 * np.sin(t * rng.uniform(1, 3) + rng.uniform(0, 6))
    draw.line(list(zip(xs, ys)), fill=255, width=max(2, height // 12))
    return np.asarray(img, np.float32) / 255


def _textured(image: Image.Image, height: int, rng) -> Image.Image:
    """A page with paper texture: fibres and blotches (smoothed noise at two scales) and, sometimes, a crease."""
    page = np.asarray(image.convert("RGB"), np.float32) / 255
    h, w = page.shape[:2]
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.6, 2))
    blotch = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), height * rng.uniform(0.1, 0.4))
    shade = 1 - rng.uniform(0.03, 0.12) * grain / (grain.std() + 1e-6) - rng.uniform(0.05, 0.2) * blotch / (
        blotch.std() + 1e-6)
    if rng.random() < 0.5:  # a crease: a soft dark line across the page
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, np.pi)
        d = np.abs((xx - w / 2) * np.sin(a) - (yy - h / 2) * np.cos(a) - rng.uniform(-0.3, 0.3) * h)
        shade = shade - rng.uniform(0.1, 0.3) * np.exp(-(d / (height * 0.05)) ** 2)
    return Image.fromarray(np.round(np.clip(page * shade[..., None], 0, 1) * 255).astype(np.uint8))


def _render(ink: np.ndarray, style: str, height: int, rng) -> Image.Image:
    """An ink map on a page in `style`, with margins: a Pillow image (JPEG-decoded for `photo`)."""
    m = [int(rng.uniform(*MARGIN) * height) for _ in range(4)]
    ink = np.pad(ink, ((m[0], m[1]), (m[2], m[3])))
    h, w = ink.shape
    if style == "clean":
        return Image.fromarray(np.round(ink * 255).astype(np.uint8))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    paper = np.full((h, w), rng.uniform(0.85, 0.98), np.float32)
    if style == "ruled":
        paper = _rules(paper, ink, height, rng)
    pen = rng.uniform(0.05, 0.35)  # the ink's own brightness
    page = paper * (1 - ink) + pen * ink * paper
    if style == "photo":
        gx, gy = rng.uniform(-1, 1, 2)
        light = 1 - LIGHT * (gx * xx / w + gy * yy / h + 1) / 2 - LIGHT / 2 * ((xx / w - rng.uniform()) ** 2)
        page = page * light
        page = page + rng.normal(0, rng.uniform(0.01, 0.04), page.shape).astype(np.float32)
    rgb = np.stack([page * t for t in rng.uniform(0.85, 1.0, 3)], -1)
    img = Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    if style == "photo":
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(rng.integers(45, 85)))
        img = Image.open(io.BytesIO(buf.getvalue()))
        img.load()
    return img


def _rules(paper: np.ndarray, ink: np.ndarray, height: int, rng) -> np.ndarray:
    """Blue-grey lines: one under the number (its baseline), others at the ruling's spacing; some squared."""
    h, w = paper.shape
    rows = np.flatnonzero(ink.max(1) > 0.1)
    base = int(rows[-1]) + int(rng.integers(-2, 4)) if len(rows) else h // 2
    spacing = height * rng.uniform(0.9, 1.3)
    tone = rng.uniform(0.55, 0.8)
    thick = int(rng.integers(1, 3))
    tilt = rng.uniform(-RULE_SLOPE, RULE_SLOPE)
    out = paper.copy()
    for k in range(-5, 6):
        y0 = base + k * spacing
        for t in range(thick):
            ys = np.round(y0 + t + tilt * np.arange(w)).astype(int)
            ok = (ys >= 0) & (ys < h)
            out[ys[ok], np.arange(w)[ok]] *= tone
    if rng.random() < 0.35:  # squared paper, its upright lines turned with the rules
        step, rows = spacing / 2, np.arange(h)
        for x0 in np.arange(rng.uniform(0, step), w, step):
            for t in range(thick):
                xs = np.round(int(x0) + t - tilt * rows).astype(int)
                ok = (xs >= 0) & (xs < w)
                out[rows[ok], xs[ok]] *= tone
    return out


def dotted(image: Image.Image, rng) -> Image.Image:
    """The picture as if its paper were a dot-grid notebook's: a lattice of round dots every DOT_PITCH of its height,
    DOT_SIZE of that across, DOT_TONE of the paper's light, turned up to DOT_TURN degrees, under the ink (the light
    multiplied: a stroke over a dot darkens). On dark paper (the clean style's) the dots lighten it instead."""
    a = np.asarray(image, np.float32) / 255
    h, w = a.shape[:2]
    pitch = h * rng.uniform(*DOT_PITCH)
    radius, turn = pitch * rng.uniform(*DOT_SIZE) / 2, np.deg2rad(rng.uniform(-DOT_TURN, DOT_TURN))
    mask, scale = np.zeros((h * 4, w * 4), np.float32), 4  # drawn at 4x and area-averaged: round, anti-aliased dots
    reach, (du, dv) = int(np.hypot(h, w) / pitch) + 2, rng.uniform(0, pitch, 2)
    for i, j in np.ndindex(2 * reach, 2 * reach):
        u, v = (i - reach) * pitch + du, (j - reach) * pitch + dv
        x, y = u * np.cos(turn) - v * np.sin(turn) + w / 2, u * np.sin(turn) + v * np.cos(turn) + h / 2
        if -pitch < x < w + pitch and -pitch < y < h + pitch:
            cv2.circle(mask, (int(x * scale), int(y * scale)), max(1, int(radius * scale)), 1.0, -1)
    mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
    mask = mask if a.ndim == 2 else mask[..., None]
    tone = rng.uniform(*DOT_TONE)
    light = np.median(a) > 0.5
    out = a * (1 - mask * (1 - tone)) if light else np.maximum(a, mask * (1 - tone))
    return Image.fromarray(np.round(np.clip(out, 0, 1) * 255).astype(np.uint8), image.mode)


DOT_PITCH = (0.25, 0.5)  # of the picture's height: a 5 mm grid under digits written 1-1.6 of it tall
DOT_SIZE = (0.06, 0.15)  # a dot's width, of the pitch (printed dots of 0.3-0.75 mm)
DOT_TONE = (0.45, 0.8)  # the light a dot lets through: grey to dark grey
DOT_TURN = 2.0  # degrees either way: the page photographed a little askew
