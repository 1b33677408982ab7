"""Score `mnist-cnn read` on written numbers with known answers, by style, against a naive baseline.

    PYTHONPATH=src python tools/read_eval.py --model runs/NAME [--n 200] [--seed 0] [--failures DIR] [--unseen-faces]
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --other-faces    # hands nothing here was built on
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --scale 0.35     # written small: digits 13-31 px
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --fade 0.25      # the pen pressed lighter to the right
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --shadow 0.45    # a sharp shadow over the right part
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --desk 40        # the sheet on a darker desk
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --plate 40       # light on a dark plate, on a wall
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --rule-slope 0.025   # ruled paper photographed askew
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --sideways       # turned a quarter: should be refused
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --dot-grid       # on a dot-grid notebook's page
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --skips 1        # a pen that skipped: ~1 gap a digit
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --gap 0.02,0.08  # digits written close together
    PYTHONPATH=src python tools/read_eval.py --n 100 --write numbers/    # the pictures only, as PNG files
    PYTHONPATH=src python tools/read_eval.py --model runs/NAME --no-lattice     # without lattice.py's cuts

Numbers of 2-6 digits are drawn from MNIST's *test* digits and, when installed, handwriting fonts
(Debian: fonts-breip fonts-dkg-handwriting fonts-humor-sans fonts-rufscript fonts-bwht),
in each style of number_images.STYLES; --n numbers per style and source. Printed as Markdown: whole-string
exact match, per-digit accuracy (1 - edit distance / length), and the same for the baseline, which splits
at empty columns only (no ruled-line removal, no stroke merging, no split of touching digits; the same
to_mnist and model). Then the refusal rate of ink that is no number (number_images.NON_DIGITS) and the
read speed (numbers per second, one process, model calls included). --failures saves the misread images.
--scale shrinks every picture (area-averaged, as a photo of a whole page reduced to 1,024 px would be): the
same numbers with digits --scale x 36-90 px tall. --fade X: the ink fades from full strength at the left edge to X
of it at the right (each pixel moved towards the picture's median, its paper), as a pen pressed ever more lightly.
--shadow X: a shadow with a sharp edge (3 px) across the right ~45% of each picture, letting through X of the light.
--skips X: about X slits of paper per digit cut across the ink (a ballpoint that skipped: each a twentieth of
the ink's height wide, under half a stroke, and 0.6 of it long, at a random angle through a random ink pixel).
--rule-slope X: ruled lines slope up to X (rise over run) either way instead of 0.003 (0.025: a page photographed
1.4 degrees askew; the writing stays level).
--desk PX: each picture a sheet laid on a darker (brown) desk showing at least PX pixels all round it, turned up to
--turn degrees either way (writing and any printed lines turned with it).
--plate PX: each picture as light writing on a dark plate (a house number, a label: inverted unless its paper is dark
already) on a light grey wall showing PX pixels all round it.
--dot-grid: each picture's paper printed with a dot grid under the ink (number_images.dotted; not the clean style's
black drawing pad).
--sideways: each picture turned a quarter, left or right at random, as a photo whose EXIF turn was lost: a number
on its side is no row of digits, so every one should be refused (the line after the table counts them).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from mnist_cnn import images, lattice, number_images
from mnist_cnn.data import load_mnist
from mnist_cnn.evalset_render import FONT_FILES
from mnist_cnn.number_images import NON_DIGITS, STYLES, Writer
from mnist_cnn.predict import Predictor
from mnist_cnn.read import read_image
from mnist_cnn.errors import run_tool

FONT_DIRS = ("/usr/share/fonts/truetype/breip",  # not femkeklaver: its digits are hollow outlines
             "/usr/share/fonts/truetype/fifthhorseman", "/usr/share/fonts/truetype/humor-sans",
             "/usr/share/fonts/truetype/rufscript", "/usr/share/fonts/opentype/bwht")
# Handwriting faces no model, gate, reader or choice of a setting here was made on (not Debian's fonts-cabinsketch,
# whose digits are hatched outlines, nor fonts-joscelyn, whose old-style 3, 4, 5, 7 and 9 swash far below the line)
OTHER_FONT_PACKAGES = "fonts-kristi fonts-klee fonts-ecolier-court fonts-dancingscript fonts-kaushanscript"  # Debian
OTHER_FONT_DIRS = ("/usr/share/fonts/truetype/kristi", "/usr/share/fonts/truetype/klee",
                   "/usr/share/fonts/truetype/ecolier-court", "/usr/share/fonts/opentype/dancingscript",
                   "/usr/share/fonts/opentype/kaushanscript")


def fonts(unseen: bool = False, other: bool = False) -> list[str]:
    """The handwriting faces installed; unseen: only those no model of a run trains on (not evalset_render.FONT_FILES,
    whose letters and digits the "not a digit" gate and its piece gate see; the line reader's are DejaVu and Comic
    Neue); other: those of OTHER_FONT_DIRS instead."""
    dirs = OTHER_FONT_DIRS if other else FONT_DIRS
    return sorted(f for d in dirs for f in glob.glob(f"{d}/*.[ot]tf") if not (unseen and f in FONT_FILES))


def distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def per_digit(truth: str, read: str) -> float:
    return max(0.0, 1 - distance(truth, read) / len(truth))


def shrunk(image: Image.Image, scale: float) -> Image.Image:
    if scale == 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BOX)


def skipped(image: Image.Image, skips: float, rng) -> Image.Image:
    """The picture with about `skips` slits of its paper per digit across its ink (see the module's --skips)."""
    if not skips:
        return image
    grey = np.asarray(image.convert("L"), np.float32)
    ys, xs = np.nonzero(np.abs(grey - np.median(grey)) > 60)
    if not len(ys):
        return image
    h = ys.max() - ys.min() + 1
    paper = [int(v) for v in np.median(np.asarray(image).reshape(-1, len(image.getbands())), axis=0)]
    out = image.copy()
    draw = ImageDraw.Draw(out)
    for k in rng.integers(len(ys), size=max(1, round(skips * (xs.max() - xs.min() + 1) / h))):
        turn = rng.uniform(0, np.pi)
        dx, dy = 0.3 * h * np.cos(turn), 0.3 * h * np.sin(turn)
        draw.line((xs[k] - dx, ys[k] - dy, xs[k] + dx, ys[k] + dy), fill=tuple(paper) if len(paper) > 1 else paper[0],
                  width=max(1, round(0.05 * h)))
    return out


def faded(image: Image.Image, fade: float) -> Image.Image:
    if fade == 1:
        return image
    a = np.asarray(image, np.float32)
    paper = np.median(a.reshape(-1, a.shape[2]), axis=0) if a.ndim == 3 else np.median(a)
    ramp = np.linspace(1, fade, a.shape[1], dtype=np.float32).reshape((1, -1) + (1,) * (a.ndim - 2))
    return Image.fromarray((paper + (a - paper) * ramp).round().clip(0, 255).astype(np.uint8), image.mode)


def shaded(image: Image.Image, light: float) -> Image.Image:
    if light == 1:
        return image
    a = np.asarray(image, np.float32)
    h, w = a.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 1 - (1 - light) / (1 + np.exp(-((x - 0.55 * w) + 0.4 * (y - 0.5 * h)) / 3))  # a straight edge, slanted
    shade = shade if a.ndim == 2 else shade[..., None]
    return Image.fromarray((a * shade).round().clip(0, 255).astype(np.uint8), image.mode)


def on_desk(image: Image.Image, margin: int, turn: float, rng) -> Image.Image:
    """The picture as a sheet turned up to `turn` degrees either way on a brown desk showing at least `margin` px."""
    if margin == 0:
        return image
    turned = image.convert("RGBA").rotate(float(rng.uniform(-turn, turn)), Image.BICUBIC, expand=True)
    desk = Image.new("RGB", (turned.width + 2 * margin, turned.height + 2 * margin), (90, 70, 50))
    desk.paste(turned, (margin, margin), turned)
    return desk


def on_plate(image: Image.Image, margin: int) -> Image.Image:
    """The picture's grey as light writing on a dark plate (inverted, unless its paper is dark already: the clean
    style's), on a light grey (220) wall showing `margin` px all round."""
    if margin == 0:
        return image
    grey = image.convert("L")
    wall = Image.new("L", (image.width + 2 * margin, image.height + 2 * margin), 220)
    wall.paste(ImageOps.invert(grey) if np.median(np.asarray(grey)) > 127 else grey, (margin, margin))
    return wall


def baseline(predictor, image) -> str:
    """Split the ink at empty columns only; each run of columns is one digit."""
    ink = images.ink_map(image)
    if ink is None:
        return ""
    used = (ink > 0).any(0)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], used.view(np.int8), [0]])))
    crops = [ink[:, a:b] for a, b in zip(edges[::2], edges[1::2])]
    xs = [x for x in (images.to_mnist(np.pad(c, 4)) for c in crops) if x is not None]
    if not xs:
        return ""
    return "".join(str(d) for d in predictor.probabilities(np.stack(xs)).argmax(1))  # no refusal: a plain baseline


def arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="run folder, .keras or export (default: the best run in runs/)")
    ap.add_argument("--n", type=int, default=200, help="numbers per style and source (default: 200)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the pictures (default: 0)")
    ap.add_argument("--failures", type=Path, help="save misread pictures here (default: no)")
    ap.add_argument("--write", type=Path, help="only write the pictures to this folder (STYLE-SOURCE-I-TRUTH.png), "
                                               "e.g. to time `mnist-cnn read` on them (default: no)")
    ap.add_argument("--styles", default=",".join(STYLES), help="comma-separated styles (default: all)")
    add_reader(ap)
    ap.add_argument("--scale", type=float, default=1.0, help="shrink every picture by this factor, 0.1-1 (default: 1)")
    ap.add_argument("--skips", type=float, default=0.0, help="slits of paper cut across the ink, about this many a "
                                                             "digit: a pen that skipped (default: 0)")
    ap.add_argument("--fade", type=float, default=1.0, help="the ink's strength at the right edge, 0.1-1, fading "
                                                            "from full at the left (default: 1, no fading)")
    ap.add_argument("--shadow", type=float, default=1.0, help="the light let through a sharp shadow over the right "
                                                              "~45%% of each picture, 0.1-1 (default: 1, no shadow)")
    ap.add_argument("--desk", type=int, default=0, help="lay each picture on a darker desk showing at least this "
                                                         "many px all round (default: 0, none)")
    ap.add_argument("--turn", type=float, default=0.0, help="with --desk: turn each sheet up to this many degrees "
                                                            "either way (default: 0)")
    ap.add_argument("--plate", type=int, default=0, help="each picture light on a dark plate, on a light wall "
                                                          "showing this many px all round (default: 0, none)")
    ap.add_argument("--gap", type=lambda t: tuple(float(v) for v in t.split(",")), default=number_images.GAP,
                    metavar="LOW,HIGH", help="the space between neighbouring digits (not the touching style's), a "
                                             f"share of the height drawn from LOW to HIGH (default: "
                                             f"{','.join(map(str, number_images.GAP))}; 0.02,0.08: close writing)")
    ap.add_argument("--rule-slope", type=float, default=number_images.RULE_SLOPE,
                    help="ruled lines slope up to this (rise over run) either way, 0-0.1 "
                         f"(default: {number_images.RULE_SLOPE}; 0.025 is a page photographed 1.4 degrees askew)")
    ap.add_argument("--dot-grid", action="store_true", help="print a dot grid on each picture's paper but the clean "
                    "style's (default: no)")
    ap.add_argument("--sideways", action="store_true", help="turn each picture a quarter, left or right at random "
                                                            "(default: upright)")
    ap.add_argument("--no-refusal", action="store_true", help="skip the refusal figures (default: measure them)")
    ap.add_argument("--no-lattice", action="store_true", help="read without lattice.py's cuts by recognition, to see "
                                                              "what they add (default: with them)")
    faces = ap.add_mutually_exclusive_group()
    faces.add_argument("--unseen-faces", action="store_true", help="font digits and letters only in the faces the "
                                                                   "gate never trains on (default: every face "
                                                                   "installed)")
    faces.add_argument("--other-faces", action="store_true", help="font digits and letters only in faces nothing here "
                                                                  f"was made on: Debian {OTHER_FONT_PACKAGES} "
                                                                  "(default: no)")
    args = ap.parse_args()
    if not 0.1 <= args.scale <= 1:
        ap.error(f"--scale: expected a factor from 0.1 to 1, found {args.scale}")
    if not 0.1 <= args.fade <= 1:
        ap.error(f"--fade: expected a strength from 0.1 to 1, found {args.fade}")
    if not 0.1 <= args.shadow <= 1:
        ap.error(f"--shadow: expected a share of the light from 0.1 to 1, found {args.shadow}")
    if not 0 <= args.desk <= 500:
        ap.error(f"--desk: expected 0 to 500 px, found {args.desk}")
    if not 0 <= args.turn <= 45:
        ap.error(f"--turn: expected 0 to 45 degrees, found {args.turn}")
    if not 0 <= args.rule_slope <= 0.1:
        ap.error(f"--rule-slope: expected 0 to 0.1, found {args.rule_slope}")
    if not 0 <= args.plate <= 500:
        ap.error(f"--plate: expected 0 to 500 px, found {args.plate}")
    if args.plate and args.desk:
        ap.error("--plate: the plate hangs on a wall, not on --desk; expected one of them, found both")
    if args.turn and not args.desk:
        ap.error("--turn: turns the sheet on --desk; expected --desk PX as well, found none")
    return args


def writers_for(args) -> dict | None:
    """{"mnist": Writer, "fonts": Writer (when faces are installed)}; None when --other-faces finds none."""
    (_, _), (x, y) = load_mnist()
    writers = {"mnist": Writer(x, y, args.seed)}
    faces = fonts(args.unseen_faces, args.other_faces)
    if not faces and args.other_faces:
        print(f"read_eval.py: --other-faces: none of their faces is installed (looked in {', '.join(OTHER_FONT_DIRS)}; "
              f"Debian: {OTHER_FONT_PACKAGES})",
              file=sys.stderr)
        return None
    if faces:
        writers["fonts"] = Writer.from_fonts(faces, args.seed + 1)
        print(f"fonts: {', '.join(Path(f).stem for f in faces)}")
    else:
        print("no handwriting faces installed: MNIST digits only (Debian: fonts-breip fonts-dkg-handwriting ...)")
    return writers


def score(predictor, writers, args, altered) -> tuple[float, int]:
    """Read every number, print the table by style and source; (seconds in read_image, numbers read)."""
    styles = args.styles.split(",")
    rows, totals, spent, count, refused = [], {}, 0.0, 0, 0
    if args.failures:
        args.failures.mkdir(parents=True, exist_ok=True)
    for style in STYLES:
        for source, writer in writers.items():
            if style not in styles:  # the same pictures for the styles measured, whichever are left out
                for i in range(args.n):
                    writer.number(style)
                continue
            exact = digit = b_exact = b_digit = 0.0
            for i in range(args.n):
                image, truth = writer.number(style)
                image = altered(image)
                t = time.perf_counter()
                got = read_image(predictor, image).text
                spent += time.perf_counter() - t
                count += 1
                refused += not got
                base = baseline(predictor, image)
                exact += got == truth
                digit += per_digit(truth, got)
                b_exact += base == truth
                b_digit += per_digit(truth, base)
                if got != truth and args.failures:
                    image.save(args.failures / f"{style}-{source}-{i:04d}-{truth}-read-{got or 'none'}.png")
            n = args.n
            rows.append((style, source, n, exact / n, digit / n, b_exact / n, b_digit / n))
            for key in (style, "all"):
                t = totals.setdefault(key, np.zeros(5))
                t += (n, exact, digit, b_exact, b_digit)
    print(f"model: {predictor.path} ({predictor.runtime}); reader: {reader_name(predictor)}; {os.cpu_count()} CPUs\n")
    print("| style | digits from | numbers | exact match | per digit | baseline exact | baseline per digit |")
    print("|---|---|---|---|---|---|---|")
    for style, source, n, *v in rows:
        print(f"| {style} | {source} | {n} | " + " | ".join(f"{a:.1%}" for a in v) + " |")
    for key, (n, *v) in totals.items():
        print(f"| **{key}** | both | {int(n)} | " + " | ".join(f"**{a / n:.1%}**" for a in v) + " |")
    print(f"\nnumbers refused (read as nothing): {refused} of {count} ({refused / max(count, 1):.1%})")
    return spent, count


def refusals(predictor, writers, args, altered) -> None:
    print("\n| not a number | pictures | refused |\n|---|---|---|")
    writer = writers.get("fonts", writers["mnist"])
    refused_all = n_all = 0
    for kind in NON_DIGITS:
        refused = sum(read_image(predictor, altered(writer.not_digits(kind))).rejected for _ in range(args.n // 2))
        refused_all, n_all = refused_all + refused, n_all + args.n // 2
        print(f"| {kind} | {args.n // 2} | {refused / (args.n // 2):.1%} |")
    print(f"| **all** | {n_all} | **{refused_all / n_all:.1%}** |")


def add_reader(ap) -> None:
    ap.add_argument("--reader", help="a line reader file (line_reader.py) to read touching digits with in place of "
                                     "the run's own or the bundled one, or `none` to cut them apart (default: the "
                                     "run's, else the one bundled with mnist-cnn)")


def reader_name(predictor) -> str:
    reader = predictor.line_reader
    return "none" if reader is None else f"{reader.path}" + (" (bundled)" if reader.bundled else "")


def use_reader(predictor, reader: str | None):
    """The predictor, reading touching digits with the --reader given (read.py: `none` cuts them apart)."""
    if reader == "none":
        predictor.line_reader = None
    elif reader:
        from mnist_cnn.line_reader import LineReader

        predictor.line_reader = LineReader(reader, "onnx" if reader.endswith(".onnx") else "keras")
    return predictor


def main() -> int:
    args = arguments()
    number_images.RULE_SLOPE, number_images.GAP = args.rule_slope, args.gap
    if args.no_lattice:
        lattice.add_cuts = lambda *_, **__: None

    rng = np.random.default_rng(args.seed)

    def altered(image):
        paper = number_images.dotted(image, rng) if args.dot_grid and np.median(np.asarray(image)) > 127 else image
        on = on_desk(shaded(faded(skipped(paper, args.skips, rng), args.fade), args.shadow), args.desk, args.turn, rng)
        on = on.rotate(int(rng.choice([90, 270])), expand=True) if args.sideways else on
        return shrunk(on_plate(on, args.plate), args.scale)

    writers = writers_for(args)
    if writers is None:
        return 2
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        for style in STYLES:
            for source, writer in writers.items():
                for i in range(args.n):
                    image, truth = writer.number(style)
                    altered(image).save(args.write / f"{style}-{source}-{i:04d}-{truth}.png")
        return 0
    predictor = use_reader(Predictor(args.model), args.reader)
    spent, count = score(predictor, writers, args, altered)
    if not args.no_refusal:
        refusals(predictor, writers, args, altered)
    print(f"\nread speed: {count / spent:.1f} numbers/s ({count} numbers, {spent:.1f} s in read_image)")
    return 0


if __name__ == "__main__":
    run_tool(main)
