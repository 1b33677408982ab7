"""A generated "real-world" evaluation set: MNIST *test* digits (never training digits) drawn as people send them.

    from mnist_cnn import evalset
    images, labels, families = evalset.generate(per_family=150, seed=0)   # "F" images, as load_image reads files
    evalset.write("evalset/", per_family=150, seed=0)                    # PNG/JPEG files + labels.csv
    images, labels, families = evalset.read("evalset/")

    mnist-cnn evalset make evalset/ [--per-family 150] [--seed 0] [--families tight-dol-grey,form-cell]
    mnist-cnn evalset score evalset/ --model runs/NAME        # accuracy by family (evalset_score.py)

Each family (FAMILIES) renders a picture from one test digit and a NumPy Generator seeded by (seed, family),
so a family's pictures do not change when others are added, and one seed gives the same files byte for byte.
Every picture is encoded (PNG or JPEG) and decoded by imagefile.load_image, so the Python API sees exactly
what `predict` reads from the written files. The "font" family needs handwriting fonts from Debian packages
(evalset_render.FONT_PACKAGES); without them it is skipped with a note.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from . import evalset_render as r
from .errors import UserError

PER_FAMILY = 150  # pictures per family: a family's accuracy to about +-2 points, the whole set in ~1 min
SEED = 0  # the set the table in docs/images.md was measured on
LABELS = "labels.csv"  # path,label,family; paths relative to the folder


def _scan(ink, rng, polarity, fmt):
    """Ink on a clean scan: dark on light ("dol") or light on dark ("wob"); grey PNG, RGBA or grey JPEG."""
    if fmt == "rgba":  # ink opaque, the background transparent; the ink's colour by polarity
        colour = r.ink_colour(rng) if polarity == "dol" else np.float32([rng.uniform(0.8, 1)] * 3)
        rgba = np.dstack([np.broadcast_to(colour, ink.shape + (3,)), ink])
        return Image.fromarray(r.to_rgb8(rgba), "RGBA"), "PNG"
    page, pen = rng.uniform(0.82, 1.0), rng.uniform(0.0, 0.3)
    if polarity == "wob":
        page, pen = 1 - page, 1 - pen
    img = Image.fromarray(r.to_rgb8(page + ink * (pen - page)), "L")
    return img, ("JPEG", int(rng.integers(50, 91))) if fmt == "jpeg" else "PNG"


def _tight(polarity, fmt, styles=r.STYLES):
    """A tight crop (ink touching 1-4 sides) of a digit in one of `styles`, as a clean scan."""
    def render(digit, rng):
        style = styles[rng.integers(len(styles))]
        ink = r.strokes(digit, rng, style, int(rng.integers(r.SIDE[0], r.SIDE[1] + 1)))
        ink = r.tight(ink, rng, cut=rng.uniform(0.02, 0.5), sides=int(rng.integers(1, 5)))
        return _scan(ink, rng, polarity, fmt)
    return render


def _on_paper(kind, jpeg=None, colour=None):
    """A digit (any style) with a margin on a page of `kind`, in a black or coloured pen; PNG or JPEG."""
    def render(digit, rng):
        style = r.STYLES[rng.integers(len(r.STYLES))]
        ink = r.margin(r.strokes(digit, rng, style, int(rng.integers(*r.SIDE))), rng)
        pen = colour(rng) if colour else np.float32([rng.uniform(0, 0.25)] * 3)
        rgb = r.put_ink(r.paper(rng, ink.shape, kind), ink, pen)
        if jpeg:
            rgb = rgb + rng.normal(0, rng.uniform(0.01, 0.04), rgb.shape[:2] + (1,)).astype(np.float32)
        return Image.fromarray(r.to_rgb8(rgb), "RGB"), ("JPEG", int(rng.integers(*jpeg))) if jpeg else "PNG"
    return render


def _colour_rgba(digit, rng):
    """Coloured ink on a transparent background, with a margin."""
    ink = r.margin(r.strokes(digit, rng, r.STYLES[rng.integers(len(r.STYLES))], int(rng.integers(*r.SIDE))), rng)
    rgba = np.dstack([np.broadcast_to(r.ink_colour(rng), ink.shape + (3,)), ink])
    return Image.fromarray(r.to_rgb8(rgba), "RGBA"), "PNG"


def _photo(kind):
    """A 20-48 px digit somewhere on a 480x360 to 1024x768 phone photo of paper lit as `kind`, as JPEG."""
    return lambda digit, rng: _photo_small(digit, rng, kind)


def _photo_small(digit, rng, kind):
    w = int(rng.integers(480, 1025))
    h = w * 3 // 4
    ink = r.place(r.strokes(digit, rng, r.STYLES[rng.integers(3)], int(rng.integers(20, 49))), (h, w), rng)
    rgb = r.put_ink(r.paper(rng, (h, w), kind), ink, r.ink_colour(rng))
    rgb = rgb + rng.normal(0, rng.uniform(0.01, 0.03), (h, w, 1)).astype(np.float32)
    return Image.fromarray(r.to_rgb8(rgb), "RGB"), ("JPEG", int(rng.integers(60, 91)))


def _form_cell(digit, rng):
    """A cell cut from a form: the digit inside box lines 1-12 px from the edges (some cut off), grey PNG or JPEG."""
    ink = r.strokes(digit, rng, r.STYLES[rng.integers(len(r.STYLES))], int(rng.integers(40, 121)))
    gap = rng.integers(2, max(3, ink.shape[0] // 5), 4)
    ink = r.tight(ink, rng, cut=0.3, sides=4)
    ink = np.pad(ink, [(gap[0], gap[1]), (gap[2], gap[3])])
    inset = rng.integers(-1, 8, 4)  # -1: that line fell outside the cut
    ink = np.pad(ink, [(max(inset[0], 0) + 1, max(inset[1], 0) + 1), (max(inset[2], 0) + 1, max(inset[3], 0) + 1)])
    ink = np.maximum(ink, r.box_lines(ink.shape, rng, inset) * rng.uniform(0.5, 1))
    img, fmt = _scan(ink, rng, "dol", "grey")
    return img, ("JPEG", int(rng.integers(60, 91))) if rng.random() < 0.5 else fmt


def _font(digit, rng, fonts):
    """A digit typed in a handwriting-style font, dark on light paper, cropped tight or with a margin."""
    ink = r.font_digit(fonts[rng.integers(len(fonts))], digit, rng, int(rng.integers(*r.SIDE)))
    ink = r.tight(ink, rng, cut=0.1, sides=int(rng.integers(1, 5))) if rng.random() < 0.5 else r.margin(ink, rng)
    return _scan(ink, rng, "dol" if rng.random() < 0.7 else "wob", "grey")


FAMILIES = {  # name: (what it is, render(MNIST digit or label for fonts, rng) -> (PIL image, "PNG" | ("JPEG", q)))
    "tight-dol-grey": ("tight crop, dark on light, grey PNG (any stroke style)", _tight("dol", "grey")),
    "tight-wob-grey": ("tight crop, light on dark, grey PNG", _tight("wob", "grey")),
    "tight-dol-rgba": ("tight crop, dark ink on a transparent background", _tight("dol", "rgba")),
    "tight-wob-rgba": ("tight crop, light ink on a transparent background", _tight("wob", "rgba")),
    "tight-dol-jpeg": ("tight crop, dark on light, grey JPEG", _tight("dol", "jpeg")),
    "tight-wob-jpeg": ("tight crop, light on dark, grey JPEG", _tight("wob", "jpeg")),
    "lowres": ("scanned at 8-12 px and upscaled: thick blurry strokes, tight", _tight("dol", "grey", ("lowres",))),
    "thick": ("marker strokes, tight", _tight("dol", "grey", ("thick",))),
    "thin": ("fine pen strokes 1-4 px, tight", _tight("dol", "grey", ("thin",))),
    "blurred": ("out of focus, tight", _tight("dol", "grey", ("blur",))),
    "lit": ("light gradient, shadow, vignette", _on_paper("lit")),
    "ruled": ("ruled paper", _on_paper("ruled")),
    "squared": ("squared paper", _on_paper("squared")),
    "jpeg-noise": ("noisy paper, JPEG quality 20-50", _on_paper("noisy", jpeg=(20, 51))),
    "colour-ink": ("blue, red or green pen on tinted paper", _on_paper("plain", colour=r.ink_colour)),
    "colour-rgba": ("coloured ink on a transparent background", _colour_rgba),
    "photo-small": ("a 20-48 px digit in a large JPEG photo, light gradient and vignette", _photo("even")),
    "photo-shadow": ("the same, often with a shadow's edge across the page", _photo("lit")),
    "form-cell": ("a cell cut from a form: box lines around the digit", _form_cell),
    "font": ("handwriting-style fonts (Debian packages)", None),
}


def fonts():
    """The handwriting fonts installed (evalset_render.FONT_FILES that exist)."""
    return [f for f in r.FONT_FILES if os.path.exists(f)]


def _chosen(names):
    if names is None:
        return list(FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise UserError(f"families: unknown {', '.join(unknown)} (expected some of {', '.join(FAMILIES)})")
    return list(names)


def render(per_family=PER_FAMILY, seed=SEED, families=None, report=None, data_dir=None):
    """Yield (family, index, label, encoded bytes, suffix) for every picture, family by family."""
    from .data import load_mnist

    if per_family < 1:
        raise UserError(f"per_family: expected a whole number >= 1, found {per_family}")
    chosen = _chosen(families)
    (_, _), (x_test, y_test) = load_mnist(data_dir)
    installed = fonts()
    for k, name in enumerate(FAMILIES):
        if name not in chosen:
            continue
        if name == "font" and not installed:
            if report:
                report(f"family font skipped: no handwriting fonts installed (apt-get install {r.FONT_PACKAGES})")
            continue
        rng = np.random.default_rng([seed, k])
        picks = rng.choice(len(x_test), per_family, replace=False)
        for i, at in enumerate(picks):
            label = int(y_test[at]) if name != "font" else int(rng.integers(10))
            img, fmt = _font(label, rng, installed) if name == "font" else FAMILIES[name][1](x_test[at], rng)
            buf = io.BytesIO()
            if isinstance(fmt, tuple):
                img.save(buf, "JPEG", quality=fmt[1])
            else:
                img.save(buf, "PNG")
            yield name, i, label, buf.getvalue(), ".jpg" if isinstance(fmt, tuple) else ".png"


def generate(per_family=PER_FAMILY, seed=SEED, families=None, report=None, data_dir=None):
    """(images: Pillow "F" images as load_image reads the files, labels: int array, families: list of names)."""
    from .imagefile import load_image

    out = ([], [], [])
    for name, i, label, data, suffix in render(per_family, seed, families, report, data_dir):
        out[0].append(load_image(data, name=f"{name}/{i:04d}{suffix}"))
        out[1].append(label)
        out[2].append(name)
    return out[0], np.array(out[1], np.int64), out[2]


def write(folder, per_family=PER_FAMILY, seed=SEED, families=None, report=None, data_dir=None):
    """Write the pictures as FOLDER/FAMILY/NNNN_LABEL.png|jpg and FOLDER/labels.csv; returns the number written."""
    from . import files

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: not a folder (expected a folder to write the set into)")
    rows = []
    for name, i, label, data, suffix in render(per_family, seed, families, report, data_dir):
        path = Path(name) / f"{i:04d}_{label}{suffix}"
        (folder / name).mkdir(parents=True, exist_ok=True)
        files.write_bytes(folder / path, data)
        rows.append((path.as_posix(), label, name))
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([("path", "label", "family"), *rows])
    files.write_text(folder / LABELS, text.getvalue())
    return len(rows)


def read_labels(folder):
    """[(path, label, family)] from FOLDER/labels.csv; UserError naming the file and line on a bad row."""
    path = Path(folder) / LABELS
    if not path.is_file():
        raise UserError(f"{path}: no such file (expected the labels.csv of `mnist-cnn evalset make`)")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != ["path", "label", "family"]:
        raise UserError(f"{path}: line 1: expected the header path,label,family, "
                        f"found {','.join(rows[0] if rows else [])!r}")
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != 3 or row[1] not in tuple("0123456789"):
            raise UserError(f"{path}: line {n}: expected path,label (a digit 0-9),family, found {','.join(row)!r}")
        out.append((Path(folder) / row[0], int(row[1]), row[2]))
    if not out:
        raise UserError(f"{path}: no rows (expected at least one labelled image)")
    return out


def read(folder):
    """(images, labels, families) of a written set, read with load_image (UserError naming a bad file)."""
    from .imagefile import load_image

    rows = read_labels(folder)
    return [load_image(p) for p, _, _ in rows], np.array([l for _, l, _ in rows], np.int64), [f for _, _, f in rows]
