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
        if max(size) > max(grey.shape):  # reduced
            grey, r = closer(predictor, f, grey, r)
        r.digits = [replace(d, box=_scaled(d.box, grey.shape, size)) for d in r.digits]
        if save_digits is not None:
            _save(r, save_digits / files.short_stem(f"{n:05d}_{f.stem}", f"_{len(r.digits)}.png"))
        yield r


def closer(predictor, source, image, reading: Reading, *, name: str | None = None,
           max_pixels: int | None = None) -> tuple:
    """(image, reading) of a picture read reduced to images.MAX_SIDE (`image`: that reduced picture, an array or a
    Pillow image; `source`: its file, or an upload's bytes named `name`), read again at CLOSER x that when reduced so no
    ink was found: a number 40-60 px tall in a 4000x3000 photo is 10-15 px there, its strokes lost in the noise (a
    review's photos: "no digit found" for 2 of 10, both read right at 2x). Only then: reading a 12 MP photo whole takes
    11-18 s. Kept only when it holds two digits or more: a lone speck closer up is a 1, and a lone mark comes back as
    `predict`'s answer for the whole picture (a review's 3x16 px tick on a blank 4000x3000 page read 1). Any other
    reading, or a picture no larger than it was read, is returned as it is. `mnist-cnn read` and POST /api/read both
    look closer, so they answer alike."""
    from .imagefile import MAX_IMAGE_PIXELS, load_sized

    if not (reading.rejected and reading.reason == images.NO_DIGIT):
        return image, reading
    try:
        near = load_sized(source, name=name, max_pixels=max_pixels or MAX_IMAGE_PIXELS,
                          max_side=CLOSER * images.MAX_SIDE)[0]
    except UserError:  # the file changed since it was read: its answer stands
        return image, reading
    if max(near.shape) <= max(image.size if hasattr(image, "getbbox") else image.shape):  # it was not reduced
        return image, reading
    again = read_image(predictor, near, name or str(source))
    return (near, again) if not again.rejected and len(again.digits) >= 2 else (image, reading)


def _scaled(box, shape, size) -> tuple[int, int, int, int]:
    """A box (x0, y0, x1, y1; ends exclusive) in an array of `shape` (h, w), in the (w, h) `size` it came from."""
    fx, fy = size[0] / shape[1], size[1] / shape[0]
    return (math.floor(box[0] * fx), math.floor(box[1] * fy), min(size[0], math.ceil(box[2] * fx)),
            min(size[1], math.ceil(box[3] * fy)))


def _save(r: Reading, stem: Path) -> None:
    for k, d in enumerate(r.digits):
        with files.atomic_path(stem.parent / f"{stem.name}_{k}.png") as tmp:
            Image.fromarray(np.round(d.input * 255).astype(np.uint8)).save(tmp, format="PNG")
