"""How a run's "not a digit" rule answers the doodles people try a digit reader with, as `mnist-cnn predict` would.

    PYTHONPATH=src python tools/doodles.py --model runs/NAME [--n 200] [--seed 5000]

Faces, hearts, flowers and suns, stick figures and houses, and symbols written in a hand (negatives_more.py's
families, which the gate trains on at gate.TRAIN_SEED and the rule is chosen on at negatives.VALIDATION_SEED),
drawn here at --seed, apart from both: the same generators, other pictures (not other kinds of doodle). The
symbols are drawn in the handwriting faces the gate never trains on (evalset_render.HELD_OUT_FONT_FILES: other
weights and slants of its typefaces; breipfont's symbols are Breip's). Printed: the share of each family refused
("not a digit" or "no digit found") and, for the rest, the digits they were read as.
"""

import argparse
import collections
from pathlib import Path

import numpy as np

from mnist_cnn import negatives, negatives_more
from mnist_cnn.evalset_render import FONT_PACKAGES, HELD_OUT_FONT_FILES
from mnist_cnn.predict import Predictor
from mnist_cnn.errors import run_tool

FAMILIES = {"faces": negatives_more.face, "hearts": negatives_more.heart, "flowers": negatives_more.flower,
            "figures": negatives_more.figure,
            "hand-symbols (held-out faces)": lambda rng: negatives_more.hand_symbols(rng, held_out=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a run folder or model file, as for `mnist-cnn predict --model`")
    ap.add_argument("--n", type=int, default=200, help="pictures per family (default: 200)")
    ap.add_argument("--seed", type=int, default=5_000, help="seed of the pictures (default: 5000)")
    args = ap.parse_args()
    if not any(Path(f).exists() for f in HELD_OUT_FONT_FILES):
        print(f"note: no held-out handwriting face installed: symbols in Liberation instead (Debian: {FONT_PACKAGES})")
    predictor = Predictor(args.model)
    seen = negatives.as_mnist(negatives.generate(FAMILIES, args.n, args.seed))
    print(f"model: {predictor.path} ({predictor.runtime}); {args.n} pictures a family, seed {args.seed}\n")
    print("| family | refused | read as (most often) |\n|---|---|---|")
    total = 0
    for name, xs in seen.items():
        inked = [x for x in xs if x is not None]
        decided = predictor.decide(np.stack(inked)) if inked else []
        read = collections.Counter(d.digit for d in decided if not d.rejected)
        refused = len(xs) - sum(read.values())
        total += refused
        common = ", ".join(f"{digit} ({count})" for digit, count in read.most_common(3))
        print(f"| {name} | {refused / len(xs):.1%} | {common} |")
    print(f"| **all** | **{total / (len(FAMILIES) * args.n):.1%}** | |")


if __name__ == "__main__":
    run_tool(main)
