"""How often dotted.py finds a ! or ? (a point under the mark) in what the model sees: digits, where it must not, and
pictures of marks that are no digit, where it should.

    PYTHONPATH=src python tools/dotted_rate.py [--model RUN] [FOLDER ...]

Counts MNIST's 10,000 test digits as they are, the 3,000 digits of `mnist-cnn evalset` (seed 0) through
images.to_mnist, 400 pictures of a ! or ? drawn by negatives.letter in the handwriting faces and DejaVu (seed 0),
and each FOLDER's pictures (searched recursively) likewise; prints the count and the dotted ones. --model: and the
share of each set the run refuses, without dotted.py and with it.
"""

import argparse

import numpy as np

from mnist_cnn import data, evalset, images, negatives, negatives_more, predict
from mnist_cnn.dotted import dotted_each
from mnist_cnn.errors import run_tool

MARKS = 400


def refused(predictor, xs: np.ndarray, with_dots: bool) -> float:
    predict.dotted_each = dotted_each if with_dots else (lambda x: np.zeros(len(x), bool))
    try:
        return float(np.mean([d.rejected for d in predictor.decide(xs)]))
    finally:
        predict.dotted_each = dotted_each


def report(name: str, xs: list, labels: list, predictor=None) -> None:
    kept = [(x, label) for x, label in zip(xs, labels) if x is not None]
    found = dotted_each(np.stack([x for x, _ in kept])) if kept else np.zeros(0, bool)
    print(f"{name}: {int(found.sum())} dotted of {len(kept)}", [label for (_, label), f in zip(kept, found) if f][:20])
    if predictor is not None and kept:
        xs = np.stack([x for x, _ in kept])
        without, with_dots = refused(predictor, xs, False), refused(predictor, xs, True)
        print(f"  refused without dotted.py {without:.2%}, with it {with_dots:.2%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a run (default: none, no refusal figures)")
    ap.add_argument("folders", nargs="*")
    args = ap.parse_args()
    predictor = predict.Predictor(args.model) if args.model else None
    rng = np.random.default_rng(0)
    fonts = negatives_more.hand_fonts() + negatives.font_files("DejaVu")
    marks = [negatives.letter(rng, fonts, "!?") for _ in range(MARKS)]
    report("! and ?", [images.to_mnist(m) for m in marks], [f"#{i}" for i in range(MARKS)], predictor)
    (_, _), (x, y) = data.load_mnist()
    report("MNIST test", list(x.astype(np.float32) / 255), [f"#{i} ({d})" for i, d in enumerate(y)], predictor)
    pictures, labels, families = evalset.generate(evalset.PER_FAMILY, seed=0)
    report("evalset", [images.to_mnist(p) for p in pictures], [f"#{i} {f} ({d})" for i, (d, f) in
                                                               enumerate(zip(labels, families))], predictor)
    for folder in args.folders:
        paths, _ = predict.find_images([folder])
        report(folder, [images.to_mnist(images.load_grey(f, max_side=images.MAX_SIDE)) for f in paths],
               [str(f.relative_to(folder)) for f in paths], predictor)


if __name__ == "__main__":
    run_tool(main)
