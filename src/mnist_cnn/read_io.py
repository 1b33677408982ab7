"""Reading image files with read.py: each file decoded as `predict` decodes it, the boxes in its own pixels, and each
digit's 28x28 saved for `mnist-cnn read --save-digits DIR`.

    from mnist_cnn.read_io import read_files
    for r in read_files(Predictor("runs/NAME"), [Path("meter.jpg")], save_digits=None):
        r.path, r.text, r.error
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from . import files, images
from .errors import UserError
from .read import Reading, read_image

CLOSER = 2  # a large picture in which no ink was found reduced is read again at twice images.MAX_SIDE


def read_files(predictor, paths: list[Path], save_digits: Path | None = None) -> Iterator[Reading]:
    """Readings of image files in order, boxes in each file's own pixels (a large one is read reduced to
    images.MAX_SIDE); unreadable files come back with `error` set."""
    from .imagefile import load_sized

    for n, f in enumerate(paths):
        try:
            grey, size = load_sized(f, max_side=images.MAX_SIDE)
        except UserError as e:
            yield Reading(str(f), error=str(e))
            continue
        r = read_image(predictor, grey, str(f))
        if r.rejected and r.reason == images.NO_DIGIT and max(size) > max(grey.shape):  # reduced, and no ink seen
            grey, r = _closer(predictor, f, grey, r)
        r.digits = [replace(d, box=_scaled(d.box, grey.shape, size)) for d in r.digits]
        if save_digits is not None:
            _save(r, save_digits / files.short_stem(f"{n:05d}_{f.stem}", f"_{len(r.digits)}.png"))
        yield r


def _closer(predictor, f: Path, grey, refused: Reading):
    """(grey, reading) of a large picture read again at CLOSER x images.MAX_SIDE when reduced to it no ink was found:
    a number 40-60 px tall in a 4000x3000 photo is 10-15 px there, its strokes lost in the noise (a review's photos:
    "no digit found" for 2 of 10, both read right at 2x). Only then: reading a 12 MP photo whole takes 11-18 s. Kept
    only when it holds two digits or more: a lone speck closer up is a 1, and a lone mark comes back as `predict`'s
    answer for the whole picture (a review's 3x16 px tick on a blank 4000x3000 page read 1)."""
    from .imagefile import load_sized

    try:
        closer = load_sized(f, max_side=CLOSER * images.MAX_SIDE)[0]
    except UserError:  # the file changed since it was read: its answer stands
        return grey, refused
    again = read_image(predictor, closer, str(f))
    return (closer, again) if not again.rejected and len(again.digits) >= 2 else (grey, refused)


def _scaled(box, shape, size) -> tuple[int, int, int, int]:
    """A box (x0, y0, x1, y1; ends exclusive) in an array of `shape` (h, w), in the (w, h) `size` it came from."""
    fx, fy = size[0] / shape[1], size[1] / shape[0]
    return (math.floor(box[0] * fx), math.floor(box[1] * fy), min(size[0], math.ceil(box[2] * fx)),
            min(size[1], math.ceil(box[3] * fy)))


def _save(r: Reading, stem: Path) -> None:
    for k, d in enumerate(r.digits):
        with files.atomic_path(stem.parent / f"{stem.name}_{k}.png") as tmp:
            Image.fromarray(np.round(d.input * 255).astype(np.uint8)).save(tmp, format="PNG")
