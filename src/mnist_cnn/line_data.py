"""Synthetic strings of touching digits, to train the line reader (line_reader.py) with CTC.

    from mnist_cnn.line_data import Composer
    c = Composer(x_train, y_train, fonts=training_fonts(), seed=0)   # MNIST *training* digits (read_eval uses test)
    ink, text = c.string()                                       # (h, w) float32 ink, white on black; "4071"
    x, labels = c.batch(1000)                                    # line_reader inputs, CTC label rows
    ink = c.piece(letter_font)       # a digit (or a letter in that font) cut from between touching digits, or None

A string is 1-6 digits side by side on a wobbly baseline, each its own size, from a small gap apart to
pushed a fifth of the height into its neighbours, sheared, its strokes thickened or thinned: the marks the
segmenter cannot cut cleanly. Digits come from MNIST's training set and, for a share of them, from
fonts (DejaVu, Comic Neue and five handwriting families, HAND_FONTS): never from the handwriting faces
tools/read_eval.py measures with. (The piece gate's Composer, refusal_fit._stubbed, also draws digits in the
hand-letter negatives' faces, some of read_eval's.)
"""

from __future__ import annotations

import glob

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

HEIGHT = 48  # px a digit is composed at, before line_reader.line_input scales the string to its height
DIGITS = (1, 2, 2, 3, 3, 4, 4, 5, 6)  # string lengths drawn from: touching groups are mostly 2-4 digits
GAP = (-0.2, 0.1)  # space between digits, fraction of the height (read_eval's touching style: -0.12..-0.02)
SIZE = (0.85, 1.12)  # each digit's height jitter
WOBBLE = 0.07  # baseline wobble, fraction of the height
SLANT = 0.25  # shear, either way (read_eval: 0.18)
FONT_SHARE = 0.4  # of the strings drawn in one print font rather than MNIST hands
FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVu*.ttf",  # fonts-dejavu-core: Debian's default faces
         "/usr/share/fonts/opentype/comic-neue/ComicNeue-*.otf")  # fonts-comic-neue: a hand; not read_eval's faces
# Handwriting faces nothing measures with (docs/reading.md, "A reader fitted on more hands"): fonts-tlwg-purisa-ttf,
# fonts-tomsontalks, fonts-seto (its -ex face has no digits), fonts-yozvox-yozfont, fonts-kiloji
HAND_FONTS = ("/usr/share/fonts/truetype/tlwg/Purisa*.ttf", "/usr/share/fonts/truetype/tomsontalks/*.ttf",
              "/usr/share/fonts/truetype/seto/setofont.ttf", "/usr/share/fonts/truetype/yozvox-yozfont/YOz[RB]N_.ttf",
              "/usr/share/fonts/truetype/kiloji/*.ttf")
STROKE = (-1, 3)  # px of dilation (negative: erosion) of the whole string at HEIGHT
PIECE_STROKE = (-1, 1)  # ...of a string cut into pieces for the gate (its glyphs at their true size): a pen's range


def training_fonts() -> list[str]:
    """The installed FONTS, then the installed HAND_FONTS (each sorted: the order the strings' draws index)."""
    return [f for patterns in (FONTS, HAND_FONTS)
            for f in sorted(f for pattern in patterns for f in glob.glob(pattern) if "Math" not in f)]


class Composer:
    def __init__(self, x: np.ndarray, y: np.ndarray, fonts=(), seed: int = 0, font_share: float = FONT_SHARE):
        """x: (N, 28, 28) uint8 MNIST training digits, y their labels; fonts: font files for font_share of strings."""
        self.rng = np.random.default_rng(seed)
        self.by_digit = [x[y == d] for d in range(10)]
        self.fonts = list(fonts)
        self.font_share = font_share
        self._glyphs: dict = {}

    def string(self, n: int | None = None) -> tuple[np.ndarray, str]:
        rng = self.rng
        n = n or int(rng.choice(DIGITS))
        text = "".join(str(d) for d in rng.integers(0, 10, n))
        font = self._font()
        glyphs = [self._glyph(int(c), font) for c in text]
        ink = _jitter_stroke(_line(glyphs, rng)[0], rng)
        return ink, text

    def piece(self, letter_font=None) -> np.ndarray | None:
        """The middle one of three touching digits (with letter_font, a letter of negatives.LETTERS in that font
        between two digits), cut out half-way between the glyphs' columns (line_pieces.line_cuts: one of the ways `read`
        cuts the line reader's digits apart), so it keeps their stubs; glyphs at their true size, letters as tall as
        digits.
        (h, w) float32 ink, white on black; None when a cut left it no ink. For the piece gate (gate.PIECE_STEM)."""
        from . import line_pieces, segment
        from .negatives import LETTERS

        rng = self.rng
        font = self._font()
        middle = LETTERS[int(rng.integers(len(LETTERS)))] if letter_font else int(rng.integers(10))
        glyphs = [self._glyph(int(rng.integers(10)), font, True), self._glyph(middle, letter_font or font, True),
                  self._glyph(int(rng.integers(10)), font, True)]
        line, spans = _line(glyphs, rng)
        ink = _jitter_stroke(line, rng, PIECE_STROKE)
        rows = np.flatnonzero((ink > 0.1).any(1))
        ink = ink[rows[0]:rows[-1] + 1]  # the mark's own height, as read's crop of it
        own = ink > 0.1
        parts = segment.pieces(np.where(own, ink, np.float32(0)), line_pieces.line_cuts(own, spans), 0, 0)
        return parts[1].ink if len(parts) == 3 else None

    def _font(self):
        """A font for font_share of the strings, else None (MNIST hands)."""
        rng = self.rng
        return self.fonts[int(rng.integers(len(self.fonts)))] if self.fonts and rng.random() < self.font_share else None

    def _glyph(self, d, font, true_size: bool = False) -> np.ndarray:
        """Digit d (a character, in a font) at its own size: MNIST's when font is None. A font's glyph is drawn at
        about a third of that unless true_size (the strings the reader was fitted on; they are scaled to the height)."""
        rng = self.rng
        height = HEIGHT * rng.uniform(*SIZE)
        if font is None:
            pool = self.by_digit[d]
            a = pool[int(rng.integers(len(pool)))].astype(np.float32) / 255
            scale = height / 20  # MNIST's longer side is 20 px, as number_images.Writer scales it
        else:
            a = self._font_digit(d, font)
            scale = height / a.shape[0]
        rows, cols = np.flatnonzero(a.max(1) > 0.1), np.flatnonzero(a.max(0) > 0.1)
        a = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        if font is not None and true_size:
            scale = height / a.shape[0]
        size = (max(1, round(a.shape[1] * scale)), max(1, round(a.shape[0] * scale)))
        return cv2.resize(a, size, interpolation=cv2.INTER_LINEAR).clip(0, 1)

    def _font_digit(self, d: int, font) -> np.ndarray:
        key = (font, d)
        if key not in self._glyphs:
            f = ImageFont.truetype(font, HEIGHT * 2)
            img = Image.new("L", (HEIGHT * 4, HEIGHT * 4), 0)
            ImageDraw.Draw(img).text((HEIGHT, HEIGHT), str(d), font=f, fill=255)  # a digit or a letter
            self._glyphs[key] = np.asarray(img, np.float32) / 255
        return self._glyphs[key]

    def batch(self, n: int, width: int, height: int) -> tuple[np.ndarray, list[str]]:
        """n strings as line_reader inputs (n, height, width) float32 (wider ones squeezed), and their texts."""
        from .line_reader import line_input

        xs = np.zeros((n, height, width), np.float32)
        texts = []
        for i in range(n):
            ink, text = self.string()
            x = line_input(ink, height)
            if x.shape[1] > width:
                x = cv2.resize(x, (width, height), interpolation=cv2.INTER_AREA)
            xs[i, :, :x.shape[1]] = x
            texts.append(text)
        return xs, texts


def _line(glyphs, rng) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Glyphs side by side on a wobbly baseline, overlapping or apart, sheared: one ink map, and each glyph's
    columns (x0, x1) at its middle row."""
    gaps = [rng.uniform(*GAP) * HEIGHT for _ in glyphs[1:]]
    width = int(sum(g.shape[1] for g in glyphs) + max(0.0, sum(gaps))) + 2 * HEIGHT
    top = HEIGHT // 2
    ink = np.zeros((2 * HEIGHT + top, width), np.float32)
    x = float(HEIGHT // 2)
    placed = []
    for k, g in enumerate(glyphs):
        h, w = g.shape
        y = top + int(HEIGHT - h + rng.uniform(-WOBBLE, WOBBLE) * HEIGHT)
        y = min(max(y, 0), ink.shape[0] - h)
        x0 = max(0, int(x))
        region = ink[y:y + h, x0:x0 + w]
        np.maximum(region, g[:, :region.shape[1]], out=region)
        placed.append((x0, x0 + w, y + h / 2))
        x = x0 + w + (gaps[k] if k < len(gaps) else 0)
    shear = rng.uniform(-SLANT, SLANT)
    m = np.float32([[1, -shear, shear * ink.shape[0] / 2], [0, 1, 0]])
    spans = [(a - shear * (mid - ink.shape[0] / 2), b - shear * (mid - ink.shape[0] / 2)) for a, b, mid in placed]
    return cv2.warpAffine(ink, m, (ink.shape[1], ink.shape[0]), flags=cv2.INTER_LINEAR), spans


def _jitter_stroke(ink: np.ndarray, rng, stroke=STROKE) -> np.ndarray:
    k = int(rng.integers(stroke[0], stroke[1] + 1))
    if k == 0:
        return ink
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(k) + 1,) * 2)
    out = cv2.dilate(ink, kernel) if k > 0 else cv2.erode(ink, kernel)
    return out if out.max() > 0.2 else ink
