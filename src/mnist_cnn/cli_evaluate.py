"""The command line's `evaluate`: a run's (or an ensemble's) report on the test set.

    mnist-cnn evaluate runs/NAME [--tta] [--json]           # accuracy, per-class precision/recall/F1, confusions
    mnist-cnn evaluate runs/A runs/B runs/C                  # their ensemble (probabilities averaged)
    mnist-cnn evaluate --ensemble-from runs/sweeps/NAME --top 3

Split from cli.py, which holds the training commands, to keep each module small.
"""

from __future__ import annotations

import json
import sys

from .cli import PROG
from .console import print_results, shown, stderr_report


def add_commands(sub) -> None:
    from .cli import default_text  # the training flags' own default texts
    from .cli_args import path_arg, value_arg

    p = sub.add_parser("evaluate", help="test-set report of a run folder or .keras file (several: an ensemble)")
    p.add_argument("paths", nargs="*", metavar="RUN_DIR|MODEL.keras", type=path_arg,
                   help="one model, or several whose probabilities are averaged (an ensemble)")
    p.add_argument("--ensemble-from", metavar="DIR", type=path_arg,
                   help="the --top finished runs in DIR (a sweep's or runs/) by validation accuracy (default: no)")
    p.add_argument("--top", metavar="K", type=value_arg(int), help="how many for --ensemble-from (default: 3)")
    p.add_argument("--tta", action="store_true",
                   help="test-time augmentation: average over the image and its four 1-pixel shifts; for a model "
                        "trained with flips, over its left-right mirror and the mirror's shifts too (default: off)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON (default: a table)")
    p.add_argument("--dataset", metavar="NAME", type=path_arg,
                   help="the data set (default: the run's, else mnist)")
    p.add_argument("--data-dir", metavar="DIR", type=path_arg, help=f"data folder ({default_text('data_dir', 'run')})")


def cmd_evaluate(args) -> int:
    from . import cli_sweep, data, evaluate
    from .hardware import inference_policy
    from .models import load_model
    from .rundir import saved_config

    if args.dataset is not None:
        data.get(args.dataset)  # a bad name fails before seconds of loading models
    args.paths = cli_sweep.ensemble_paths(args)  # the paths given, or the --top K of --ensemble-from
    runs = {p: cfg for p in args.paths if (cfg := saved_config(p))}  # a broken config.json: one line before Keras loads
    policy = inference_policy()
    models = [load_model(p, policy) for p in args.paths]  # all loaded first: a bad path fails fast
    dataset = args.dataset or (next(iter(runs.values())).dataset if runs else "mnist")
    for path in (p for p, cfg in runs.items() if cfg.dataset != dataset):
        print(f"{PROG}: note: scoring on {dataset} {shown(path)}, trained on {runs[path].dataset}", file=sys.stderr)
    (_, _), (x_test, y_test) = data.load_dataset(dataset, args.data_dir, report=stderr_report)
    x_test, classes = data.normalise(x_test), data.class_names(dataset)
    tta = [evaluate.tta_kind(model) if args.tta else None for model in models]
    probabilities = [evaluate.predict_proba(model, x_test, tta=kind) for model, kind in zip(models, tta)]
    m = {**evaluate.metrics(y_test, sum(probabilities) / len(probabilities), classes), "tta": args.tta,
         "tta_kinds": sorted(set(tta) - {None})}
    m["calibration"] = evaluate.calibration_report(args.paths, y_test, sum(probabilities) / len(probabilities))
    if len(models) > 1:
        stats = evaluate.ensemble(y_test, probabilities)
        m["members"] = [{"path": p, "test_accuracy": a, "tta": kind}
                        for p, a, kind in zip(args.paths, stats.pop("member_accuracies"), tta)]
        m.update(stats)
    if args.json:
        print_results(json.dumps(m, indent=2))
        return 0
    lines = [f"{shown(member['path'])}: test accuracy {member['test_accuracy']:.4f}"
             f"{' (' + member['tta'] + ')' if member['tta'] else ''}" for member in m.get("members", [])]
    if "members" in m:
        lines.append(f"{m['errors_of_every_member']} test images are wrong in every member, "
                     f"{m['errors_of_any_member']} in at least one")
    if len(models) > 1 or args.tta:
        what = f"ensemble of {len(models)} models" if len(models) > 1 else "one model"
        views = f", test-time augmentation ({' and '.join(m['tta_kinds'])})" if args.tta else ""
        lines.append(f"{what}{views}:\n")
    lines += [evaluate.format_report(m, classes), evaluate.format_calibration(m["calibration"])]
    print_results("\n".join(lines))
    return 0


COMMANDS = {"evaluate": cmd_evaluate}
