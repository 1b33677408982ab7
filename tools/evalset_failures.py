"""Pictures of what the generated real-world set (evalset.py) still gets wrong: the 28x28 images the model saw.

    PYTHONPATH=src python tools/evalset_failures.py RUN [--out evalset_failures.png] [--per-family 150]

Each tile: the family, the true digit and the answer ("-" = no digit found, "x" = refused as not a
digit). Pillow only (matplotlib belongs to plots.py); the tiles are refusal_failures.py's.
"""

import argparse
from collections import Counter

import numpy as np

from mnist_cnn import evalset
from mnist_cnn.images import candidates, more_readings
from mnist_cnn.predict import Predictor
from mnist_cnn.readings import decide_candidates
from mnist_cnn.errors import run_tool
from refusal_failures import _grid, _tile  # the same tiles as the refusal pictures (tools/ is on sys.path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--out", default="evalset_failures.png")
    ap.add_argument("--per-family", type=int, default=150, help="pictures per family (default: 150, as the README)")
    ap.add_argument("--max", type=int, default=60, help="tiles drawn (default: 60)")
    args = ap.parse_args()
    predictor = Predictor(args.run)
    images, labels, families = evalset.generate(args.per_family)
    seen = [None if c[0] is None else decide_candidates(predictor, [c], lambda _: more_readings(im))[0][0]
            for im, c in ((im, candidates(im)) for im in images)]  # what predict sees
    keep = [i for i, x in enumerate(seen) if x is not None]
    answers = {i: ("x" if d.rejected else str(d.digit))
               for i, d in zip(keep, predictor.decide(np.stack([seen[i] for i in keep])))}
    wrong = [i for i in range(len(images)) if answers.get(i, "-") != str(labels[i])]
    tiles = [_tile(seen[i] if seen[i] is not None else np.zeros((28, 28)),
                   f"{families[i][:8]} {labels[i]}>{answers.get(i, '-')}") for i in wrong]
    _grid(tiles[:args.max], f"generated real-world digits read wrong ({len(wrong)} of {len(images)}): "
                            f"family, true > answer").save(args.out)
    print(f"{args.out}: wrong by family {dict(Counter(families[i] for i in wrong))}")


if __name__ == "__main__":
    run_tool(main)
