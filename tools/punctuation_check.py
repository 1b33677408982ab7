"""punctuation.py's checks alone (no model): in how many plain numbers they find a mark, and which.

    PYTHONPATH=src python tools/punctuation_check.py --seeds 300,500,800 --n 300                 # read_eval.py's faces
    PYTHONPATH=src python tools/punctuation_check.py --seeds 400,600,700 --n 300 --other-faces
    PYTHONPATH=src python tools/punctuation_check.py --seeds 0,5 --n 100                         # read_eval.py's own
    PYTHONPATH=src python tools/punctuation_check.py --seeds 900 --n 100 --digits 6,8,10         # long ones (dates.py)

Draws the numbers exactly as `tools/read_eval.py --seed S --n N [--other-faces]` does (every style, MNIST's test
digits and the handwriting faces), runs `punctuation.find` on each, as `read` does first, and prints each number in
which it finds a mark or a reason to refuse (style, source, index, digits, the marks or why) and the count: every one
is a number `read` would get wrong or lose. --digits: numbers of these lengths in turn, not read_eval.py's 2-6 digits
(a date's two slashes need 6 marks or more: dates.py).
"""

from __future__ import annotations

import argparse
import sys

from read_eval import fonts

from mnist_cnn import images, punctuation
from mnist_cnn.data import load_mnist
from mnist_cnn.number_images import STYLES, Writer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0", help="comma-separated seeds of the pictures (default: 0)")
    ap.add_argument("--n", type=int, default=100, help="numbers per style and source (default: 100)")
    ap.add_argument("--other-faces", action="store_true", help="the faces of read_eval.py --other-faces "
                                                               "(default: its own)")
    ap.add_argument("--digits", help="comma-separated lengths of the numbers, drawn in turn (default: 2-6 digits at "
                                     "random, as read_eval.py draws them)")
    args = ap.parse_args()
    lengths = [int(n) for n in args.digits.split(",")] if args.digits else [None]
    (_, _), (x, y) = load_mnist()
    total = marked = 0
    for seed in (int(s) for s in args.seeds.split(",")):
        writers = {"mnist": Writer(x, y, seed)}
        if faces := fonts(other=args.other_faces):
            writers["fonts"] = Writer.from_fonts(faces, seed + 1)
        for style in STYLES:
            for source, writer in writers.items():
                for i in range(args.n):
                    image, truth = writer.number(style, lengths[i % len(lengths)])
                    found = images.ink_map(image, with_specks=True)
                    marks, why = punctuation.find(found[1]) if found is not None else ([], None)
                    total += 1
                    if marks or why:
                        marked += 1
                        print(f"seed {seed} {style} {source} {i}: {truth}: {why or ' '.join(m.char for m in marks)}")
    print(f"a mark found or refused in {marked} of {total} numbers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
