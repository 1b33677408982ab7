"""How often `mnist-cnn read` refuses pictures that hold no number, by kind, on held-out seeds.

    PYTHONPATH=src python tools/read_refusal.py --model runs/NAME [--n 100] [--seed 10000] [--failures DIR]
    PYTHONPATH=src python tools/read_refusal.py --model runs/NAME --kinds point,comma,colon,slash,dash,minus
    PYTHONPATH=src python tools/read_refusal.py --model runs/NAME --kinds plus,equals,per-cent,dollar,hash,brackets
    PYTHONPATH=src python tools/read_refusal.py --model runs/NAME --kinds symbols      # ? ! % # $ & @ * alone
    PYTHONPATH=src python tools/read_refusal.py --model runs/NAME --kinds letter       # one letter alone: A, K, x
    PYTHONPATH=src python tools/read_refusal.py --model runs/NAME --kinds slash,date   # 12/05, 7/12/2026 (dates.py)

Kinds (number_images.NON_DIGITS): handwritten-font or DejaVu letters, a doodle, a blank page, noise, textured
paper with no writing (grain, blotches, a crease, empty ruled paper) and a number of 3-5 digits with one
letter in it (a string with one mark that is not a digit is refused as a whole); with --kinds also words as a hand
writes them (number_images.WORDS: lower case shorter than capitals, letters close or joined), a sign alone
(number_images.SYMBOLS: ? ! % # $ & @ *), a letter alone (number_images.ALONE) and numbers of
2-5 digits with a mark of number_images.MARKED among them (3.95, 12,50, 7:39, 12/05, 4-2, and a minus sign before
1-5 digits, -7: `read` writes these among the digits, so "read exactly" counts what is right for them; sign: one of
+ = % $ #, or each alone: plus, equals, per-cent, dollar, hash; brackets: round the digits, (305)). Half of each
kind is drawn around MNIST test digits' sizes, half around the handwriting fonts' (tools/read_eval.py's
FONT_DIRS), each on clean, photographed or ruled paper. The seeds (default 10000, 10001) are apart from read_eval.py's
(0, 1) and from anything the model's refusal rule was fitted on (negatives.py's own seeds, other pictures).
--failures saves each picture read as a number (but the one drawn), named KIND-I-read-TEXT.png (a / as _); a line
after the table counts the one-letter kind's refusals letter by letter, and one the numbers with a mark `read`
writes read exactly from MNIST's digits (their marks in DejaVu) and from the faces (one hand's digits and marks);
--other-faces draws in the faces of read_eval.py --other-faces. The kinds draw in turn from the same writers, so a
kind's pictures depend on the kinds listed before it: the README's figures name their list.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from read_eval import OTHER_FONT_DIRS, OTHER_FONT_PACKAGES, add_reader, fonts, reader_name, use_reader

from mnist_cnn.data import load_mnist
from mnist_cnn.number_images import KINDS, MARKED, NON_DIGITS, WRITTEN, Writer
from mnist_cnn.predict import Predictor
from mnist_cnn.read import read_image
from mnist_cnn.errors import UserError, run_tool

SEED = 10_000  # held out: read_eval.py draws its numbers and non-numbers at seeds 0 and 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="run folder, .keras or export (default: the best run in runs/)")
    ap.add_argument("--n", type=int, default=100, help="pictures per kind (default: 100)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"seed of the pictures (default: {SEED})")
    ap.add_argument("--failures", type=Path, help="save pictures read as a number (but the one drawn) here "
                                                  "(default: no)")
    ap.add_argument("--kinds", default=",".join(NON_DIGITS),
                    help=f"kinds to draw, comma-separated, of {', '.join(NON_DIGITS)}, words, symbols, letter and the "
                         f"numbers with a mark {', '.join(MARKED)} (default: the first six)")
    add_reader(ap)
    ap.add_argument("--other-faces", action="store_true", help="font letters and digits only in faces nothing here "
                                                               "was made on (read_eval.py's; default: FONT_DIRS')")
    args = ap.parse_args()
    kinds = args.kinds.split(",")
    if unknown := [k for k in kinds if k not in KINDS]:
        ap.error(f"--kinds: expected kinds of {', '.join(KINDS)}, found {unknown[0]!r}")
    faces = fonts(other=args.other_faces)
    if not faces and args.other_faces:
        raise UserError(f"--other-faces: none of their faces is installed (looked in {', '.join(OTHER_FONT_DIRS)}; "
                        f"Debian: {OTHER_FONT_PACKAGES})")
    (_, _), (x, y) = load_mnist()
    writers = [Writer(x, y, args.seed)] + ([Writer.from_fonts(faces, args.seed + 1)] if faces else [])
    predictor = use_reader(Predictor(args.model), args.reader)
    if args.failures:
        args.failures.mkdir(parents=True, exist_ok=True)
    print(f"model: {predictor.path} ({predictor.runtime}); reader: {reader_name(predictor)}; seed {args.seed}\n")
    print("| not a number | pictures | refused | read exactly | read as a number, e.g. |\n|---|---|---|---|---|")
    total = refused_all = 0
    letters = {}  # the one-letter kind's letter -> [drawn, refused]
    by_source = {}  # a kind of WRITTEN -> numbers read exactly, [MNIST's digits, the faces']
    for kind in kinds:
        refused, exact, read_as = 0, 0, []
        for i in range(args.n):
            image, letter, text = _draw(writers[i % len(writers)], kind)
            r = read_image(predictor, image)
            refused += r.rejected
            exact += not r.rejected and r.text == text
            if text is not None:
                by_source.setdefault(kind, [0, 0])[i % len(writers)] += not r.rejected and r.text == text
            if letter:
                counts = letters.setdefault(letter, [0, 0])
                counts[0], counts[1] = counts[0] + 1, counts[1] + r.rejected
            if not r.rejected and r.text != text:
                read_as.append(r.text)
                if args.failures:
                    image.save(args.failures / f"{kind}-{i:04d}-read-{r.text.replace('/', '_')}.png")
        total, refused_all = total + args.n, refused_all + refused
        print(f"| {kind} | {args.n} | {refused / args.n:.1%} | {f'{exact / args.n:.1%}' if kind in WRITTEN else ''} | "
              f"{', '.join(read_as[:4])} |")
    print(f"| **all** | {total} | **{refused_all / total:.1%}** | | |")
    if by_source and len(writers) > 1:
        print("\nread exactly, MNIST's digits / the faces': " + ", ".join(
            f"{kind} {a}/{(args.n + 1) // 2} / {b}/{args.n // 2}" for kind, (a, b) in by_source.items()))
    if letters:
        by_share = sorted(letters.items(), key=lambda kv: (kv[1][1] / kv[1][0], kv[0]))
        print("\none-letter, refused of drawn by letter: " + ", ".join(f"{c} {r}/{n}" for c, (n, r) in by_share))
    return 0


def _draw(writer, kind: str):
    """(picture, the letter among its digits for the one-letter kind, else None, the number `read` should read for
    the marks it writes (number_images.WRITTEN), else None)."""
    if kind in WRITTEN:
        image, text = writer.marked(kind)
        return image, None, text
    return (*writer.one_letter(), None) if kind == "one-letter" else (writer.not_digits(kind), None, None)


if __name__ == "__main__":
    run_tool(main)
