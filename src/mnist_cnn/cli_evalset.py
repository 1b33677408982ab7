"""The command line's `evalset`: write the generated real-world evaluation set, and score a model on it by family.

    mnist-cnn evalset make evalset/ [--per-family 150] [--seed 0] [--families tight-dol-grey,form-cell]
    mnist-cnn evalset score evalset/ [--model RUN_DIR|MODEL.keras|MODEL.onnx|MODEL.tflite] [--json | --markdown]

The set and the scoring live in evalset.py and evalset_score.py (usable from Python); this module parses
flags and prints.
"""

from __future__ import annotations

import os
import sys

from .config import TrainConfig
from .console import json_text, shown, stderr_report, table, warn
from .errors import UserError

PROG = "mnist-cnn"
DEFAULTS = TrainConfig()


def add_commands(sub) -> None:
    from . import evalset
    from .cli_args import Parser, path_arg, value_arg

    p = sub.add_parser("evalset", help="a generated real-world digit set (MNIST test digits as people send them); "
                                       "score a model on it by family",
                       description="Write the generated evaluation set (MNIST test digits drawn as tight crops, "
                                   "low-resolution scans, on lit, ruled or squared paper, in form cells, photos, "
                                   "handwriting fonts...) or score a model on a written set, family by family.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser, required=True)
    m = actions.add_parser("make", help="write the set: FAMILY/NNNN_LABEL.png|jpg and labels.csv (path,label,family)",
                           description="families: " + "; ".join(f"{k}: {v[0]}" for k, v in evalset.FAMILIES.items()))
    m.add_argument("folder", metavar="DIR", type=path_arg, help="where to write (created if missing)")
    m.add_argument("--per-family", metavar="N", type=value_arg(int), default=evalset.PER_FAMILY,
                   help=f"pictures per family (default: {evalset.PER_FAMILY})")
    m.add_argument("--seed", metavar="N", type=value_arg(int), default=evalset.SEED,
                   help=f"random seed; one seed gives the same files (default: {evalset.SEED})")
    m.add_argument("--families", metavar="A,B,...", type=path_arg,
                   help="only these families (default: all; see the description)")
    m.add_argument("--data-dir", metavar="DIR", type=path_arg,
                   help="data folder (default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")

    s = actions.add_parser("score", help="accuracy by family: predict's preprocessing (after), naive resize and the "
                                         "plain reference",
                           description="Predict every picture of a written set after three preprocessings: "
                                       "predict's (after: images.candidates, readings.py), a naive resize to "
                                       "28x28, and the plain reference (border median for polarity, crop, 20 px "
                                       "box, centre of mass). Prints the accuracy per family and overall.")
    s.add_argument("folder", metavar="DIR", type=path_arg, help="a set written by `mnist-cnn evalset make`")
    s.add_argument("--model", metavar="RUN_DIR|MODEL.keras|MODEL.onnx|MODEL.tflite", type=path_arg,
                   help="the model (default: the finished MNIST run in --out with the best validation accuracy)")
    s.add_argument("--runtime", metavar="{keras,onnx,litert}", type=path_arg,
                   help="what runs a run folder's model (default: the fastest checked export there, else keras)")
    s.add_argument("--out", metavar="DIR", type=path_arg, default=DEFAULTS.out,
                   help=f"where to look for runs (default: {DEFAULTS.out})")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    fmt.add_argument("--markdown", action="store_true", help="print a Markdown table (default: a text table)")


def cmd_evalset(args) -> int:
    return {"make": _make, "score": _score}[args.action](args)


def _make(args) -> int:
    from . import evalset

    if args.per_family < 1:
        raise UserError(f"--per-family: expected a whole number >= 1, found {args.per_family}")
    families = None
    if args.families is not None:
        families = [f.strip() for f in args.families.split(",") if f.strip()]
        unknown = [f for f in families if f not in evalset.FAMILIES]
        if unknown or not families:
            raise UserError(f"--families: expected names from {', '.join(evalset.FAMILIES)}, "
                            f"found {', '.join(unknown) or repr(args.families)}")
    n = evalset.write(args.folder, args.per_family, args.seed, families, report=stderr_report,
                      data_dir=args.data_dir)
    print(f"Wrote {n} pictures and {evalset.LABELS} to {shown(os.path.join(args.folder, ''))}")
    return 0


def _score(args) -> int:
    from . import evalset, evalset_score
    from .predict import Predictor

    images, labels, families = evalset.read(args.folder)  # a bad folder fails before the model loads
    predictor = Predictor(args.model, args.out, runtime=args.runtime, report=warn)
    result = evalset_score.score(predictor, images, labels, families)
    if args.json:
        print(json_text(result))
    else:
        print(table(evalset_score.rows(result), markdown=args.markdown))
    print(f"model: {shown(str(predictor.path))} ({predictor.runtime})", file=sys.stderr)
    return 0


COMMANDS = {"evalset": cmd_evalset}
