"""How often `mnist-cnn predict` and `mnist-cnn read` refuse pictures of things: clothes, shoes and bags
(Fashion-MNIST's test images), an icon theme's icons and folders of photos, none of which anything here is fitted on.

    PYTHONPATH=src python tools/objects.py --model runs/NAME [--n 200] [--icons /usr/share/icons/Adwaita]
    PYTHONPATH=src python tools/objects.py --model runs/NAME --photos /usr/share/backgrounds FACES/ ...

Fashion-MNIST is fetched like `mnist-cnn data --dataset fashion-mnist`; each image is scaled to 140 px, half of them
dark on light (a photo on a white page) and half light on dark (as the data set has them). Icons: the PNGs of at least
3 kB under --icons (Debian's adwaita-icon-theme), laid on white paper, --n of them picked with the seed. Printed: the
share of each kind refused by `predict` (its rule: "not a digit" or "no digit found") and by `read` (text ""), with
what the rest were read as. --photos: each folder is one more kind, every picture in it and its subfolders (up to --n,
picked with the seed) read as `predict` reads a file (reduced to images.MAX_SIDE); a .npy file is a stack of grey
pictures (N, H, W), uint8 or floats in [0, 1], each scaled to 140 px. docs/images.md names the photos measured.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np
from PIL import Image
from read_eval import add_reader, reader_name, use_reader

from mnist_cnn import images
from mnist_cnn.data import load_dataset
from mnist_cnn.imagefile import MAX_SIDE, load_image
from mnist_cnn.predict import IMAGE_SUFFIXES, Predictor
from mnist_cnn.readings import decide_candidates
from mnist_cnn.read import read_image
from mnist_cnn.errors import UserError, run_tool

SIDE = 140  # px a Fashion-MNIST image is scaled to: a small photo
MIN_ICON = 3_000  # bytes: leaves out the 16 px glyphs, which are no picture of a thing


def fashion(n: int, rng) -> list[Image.Image]:
    (_, _), (x, _) = load_dataset("fashion-mnist")
    out = []
    for k, i in enumerate(rng.choice(len(x), n, replace=False)):
        a = x[i] if k % 2 else 255 - x[i]
        out.append(Image.fromarray(a).resize((SIDE, SIDE), Image.Resampling.BILINEAR))
    return out


def icons(folder: Path, n: int, rng) -> list[Image.Image]:
    files = sorted(f for f in folder.rglob("*.png") if f.stat().st_size >= MIN_ICON)
    out = []
    for i in rng.choice(len(files), min(n, len(files)), replace=False):
        im = Image.open(files[i]).convert("RGBA")
        page = Image.new("RGBA", im.size, (255, 255, 255, 255))
        page.alpha_composite(im)
        out.append(page.convert("RGB"))
    return out


def photos(folder: Path, n: int, rng) -> list[Image.Image]:
    if folder.suffix == ".npy":
        stack = np.load(folder)
        stack = stack if stack.dtype == np.uint8 else (np.clip(stack, 0, 1) * 255).round().astype(np.uint8)
        return [Image.fromarray(stack[i]).resize((SIDE, SIDE), Image.Resampling.BILINEAR)
                for i in sorted(rng.choice(len(stack), min(n, len(stack)), replace=False))]
    files = sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    out = []
    for i in sorted(rng.choice(len(files), min(n, len(files)), replace=False)):
        try:
            out.append(load_image(files[i], max_side=MAX_SIDE))
        except UserError as e:  # as `predict` would: one line, and on to the next
            print(f"note: left out {e}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    ap.add_argument("--model", help="run folder or model file (default: the best run in runs/)")
    ap.add_argument("--n", type=int, default=200, help="pictures per kind (default: 200)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the picks (default: 0)")
    ap.add_argument("--icons", type=Path, default=Path("/usr/share/icons/Adwaita"),
                    help="an icon theme's folder (default: /usr/share/icons/Adwaita)")
    ap.add_argument("--photos", type=Path, nargs="+", default=[], metavar="DIR",
                    help="folders of photos (or .npy stacks of grey pictures), each one more kind (default: none)")
    add_reader(ap)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    kinds = {"clothes (Fashion-MNIST test)": fashion(args.n, rng)}
    found = icons(args.icons, args.n, rng) if args.icons.is_dir() else []
    if found:
        kinds["icons"] = found
    else:
        print(f"note: no icon theme at {args.icons} (PNGs of at least {MIN_ICON:,} bytes; Debian: "
              "adwaita-icon-theme): icons left out")
    for folder in args.photos:
        if found := photos(folder, args.n, rng) if folder.exists() else []:
            kinds[f"photos in {folder}"] = found
        else:
            print(f"note: no pictures in {folder} (expected a folder of photos or a .npy stack): left out")
    predictor = use_reader(Predictor(args.model), args.reader)
    print(f"model: {predictor.path} ({predictor.runtime}); reader: {reader_name(predictor)}; seed {args.seed}\n")
    print("| kind | pictures | `predict` refused | read as | `read` refused | read as |\n|---|---|---|---|---|---|")
    for name, pictures in kinds.items():
        inked = [(p, c) for p, c in ((p, images.candidates(p)) for p in pictures) if c[0] is not None]
        chosen = decide_candidates(predictor, [c for _, c in inked], lambda k: images.more_readings(inked[k][0]))
        digits = collections.Counter(d.digit for _, d in chosen if not d.rejected)
        texts = collections.Counter(r.text for r in (read_image(predictor, p) for p in pictures) if not r.rejected)
        print(f"| {name} | {len(pictures)} | {1 - sum(digits.values()) / len(pictures):.1%} | "
              f"{', '.join(f'{d} ({c})' for d, c in digits.most_common(3))} | "
              f"{1 - sum(texts.values()) / len(pictures):.1%} | {', '.join(t for t, _ in texts.most_common(4))} |")
    return 0


if __name__ == "__main__":
    run_tool(main)
