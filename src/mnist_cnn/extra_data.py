"""Labelled 28x28 PNGs of one's own, for `mnist-cnn train --extra-data FOLDER` and `mnist-cnn finetune`.

    from mnist_cnn.extra_data import load_folder
    extra = load_folder("runs/NAME/feedback")     # extra.x uint8 (N, 28, 28), extra.y uint8 (N,), extra.not_digits

The layout (a `mnist-cnn serve` feedback folder is one; feedback.py writes it):

    FOLDER/<digit>/*.png        0..9: white ink on black, 8-bit grey (or RGB, made grey), exactly 28x28, as
                                MNIST and the model see digits (`mnist-cnn predict --save-preprocessed` and
                                the web page's "what the model saw" give such images)
    FOLDER/not-a-digit/*.png    counted and skipped: a 10-class model has no "not a digit" class

Hidden files (a server's unfinished `.NAME.part.png`) and files other than PNGs at the top level (a
README) are ignored; anything else that does not fit is a UserError naming the file or folder. The
images are added to the training split only (train.prepare), `extra_repeat` times each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError, UserError
from .feedback import LABEL_FOLDERS, NOT_A_DIGIT

LAYOUT = "FOLDER/<digit>/*.png (28x28, white on black) or FOLDER/not-a-digit/*.png"
MAX_IMAGES = 1_000_000  # 0.8 GB of 28x28 bytes: more than any hand-made set, far below a machine's memory


@dataclass
class Extra:
    x: np.ndarray  # uint8 (N, 28, 28)
    y: np.ndarray  # uint8 (N,)
    not_digits: int  # "not a digit" images skipped
    folder: Path


def load_folder(folder: str | os.PathLike) -> Extra:
    """Every digit PNG in `folder`'s label folders; UserError naming the first file or folder that does not fit."""
    folder = Path(folder)
    if not folder.is_dir():
        found = "a file" if folder.exists() else "nothing"
        raise ConfigError("extra_data", f"expected a folder of labelled PNGs, found {found} at {folder}")
    images, labels, not_digits = [], [], 0
    for path in _entries(folder):
        if path.is_dir():
            if path.name not in LABEL_FOLDERS:
                raise UserError(f"{path}: expected a label folder named 0-9 or not-a-digit, found {path.name!r} "
                                f"(layout: {LAYOUT})")
            label = LABEL_FOLDERS[path.name]
            for file in _entries(path):
                if label == NOT_A_DIGIT:
                    not_digits += _check_png(file) is not None
                    continue
                images.append(_check_png(file))
                labels.append(label)
                if len(images) > MAX_IMAGES:
                    raise UserError(f"{folder}: more than {MAX_IMAGES:,} images; use a smaller folder")
        elif path.suffix.lower() == ".png":
            raise UserError(f"{path}: a PNG outside a label folder; move it into {folder}/<digit>/ (layout: {LAYOUT})")
    if not images:
        skipped = f" ({not_digits} 'not a digit' images, which a 10-class model cannot learn)" if not_digits else ""
        raise ConfigError("extra_data", f"no labelled digit PNGs in {folder}{skipped}; expected {LAYOUT}")
    return Extra(np.stack(images), np.array(labels, np.uint8), not_digits, folder)


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as e:
        raise UserError(f"{folder}: cannot read the folder ({e.strerror or e})") from None


def _check_png(path: Path) -> np.ndarray:
    """The 28x28 grey image in PNG file `path`; UserError naming the file otherwise."""
    from PIL import Image, UnidentifiedImageError

    if path.is_dir():
        raise UserError(f"{path}: expected a 28x28 PNG, found a folder (label folders hold files only)")
    if path.suffix.lower() != ".png":
        raise UserError(f"{path}: expected a 28x28 PNG, found a {path.suffix or 'plain'} file")
    try:
        with Image.open(path) as img:
            if img.format != "PNG":
                raise UserError(f"{path}: expected a PNG, found {img.format or 'another format'} data")
            if img.size != (28, 28):
                raise UserError(f"{path}: expected 28x28 pixels, found {img.size[0]}x{img.size[1]}")
            return np.asarray(img.convert("L"), dtype=np.uint8)
    except UnidentifiedImageError:
        raise UserError(f"{path}: not a PNG image (cannot identify its contents)") from None
    except (OSError, ValueError, SyntaxError) as e:  # truncated or corrupt data: Pillow's errors vary by fault
        raise UserError(f"{path}: not a readable PNG ({str(e).splitlines()[0][:120] or type(e).__name__})") from None


def describe(extra: Extra, repeat: int) -> str:
    """One line for the training log."""
    counts = np.bincount(extra.y, minlength=10)
    per = ", ".join(f"{d}: {n}" for d, n in enumerate(counts) if n)
    line = (f"extra data: {len(extra.y)} images from {extra.folder} ({per}), each {repeat}x: "
            f"{len(extra.y) * repeat} added to the training split only")
    if extra.not_digits:
        line += f"; {extra.not_digits} 'not a digit' images skipped (a 10-class model has no such class)"
    return line
