"""The command line's `evaluate`: a run's (or an ensemble's) report on the test set.

    mnist-cnn evaluate runs/NAME [--tta] [--json]           # accuracy, per-class precision/recall/F1, confusions
    mnist-cnn evaluate runs/A runs/B runs/C                  # their ensemble (probabilities averaged)
    mnist-cnn evaluate --ensemble-from runs/sweeps/NAME --top 3

Split from cli.py, which holds the training commands, to keep each module small.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .cli import PROG
from .console import print_results, shown, stderr_report


def add_commands(sub) -> None:
    from .cli import default_text  # the training flags' own default texts
    from .cli_args import path_arg, value_arg
    from .runtime import RUNTIME_CHOICES

    p = sub.add_parser("evaluate", help="test-set report of a run folder, .keras file or export (several: an ensemble)")
    p.add_argument("paths", nargs="*", metavar="RUN_DIR|MODEL.keras|EXPORT", type=path_arg,
                   help="one model, or several whose probabilities are averaged (an ensemble); an export (.onnx, "
                        ".tflite) runs in its own runtime")
    p.add_argument("--runtime", metavar="{" + ",".join(RUNTIME_CHOICES) + "}", type=path_arg,
                   help="run each run folder's model in keras, or its checked onnx or litert export (default: keras "
                        "when TensorFlow is installed, else the run's fastest checked export)")
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

    if args.dataset is not None:
        data.get(args.dataset)  # a bad name fails before seconds of loading models
    args.paths = cli_sweep.ensemble_paths(args)  # the paths given, or the --top K of --ensemble-from
    runs, models = _models(args.paths, args.runtime)
    dataset = args.dataset or (next(iter(runs.values())).dataset if runs else "mnist")
    for path in (p for p, cfg in runs.items() if cfg.dataset != dataset):
        print(f"{PROG}: note: scoring on {dataset} {shown(path)}, trained on {runs[path].dataset}", file=sys.stderr)
    (_, _), (x_test, y_test) = data.load_dataset(dataset, args.data_dir, report=stderr_report)
    x_test, classes = data.normalise(x_test), data.class_names(dataset)
    tta = [evaluate.tta_kind(model) if args.tta else None for model in models]
    probabilities = [evaluate.predict_proba(model, x_test, tta=kind) for model, kind in zip(models, tta)]
    m = {**evaluate.metrics(y_test, sum(probabilities) / len(probabilities), classes), "tta": args.tta,
         "tta_kinds": sorted(set(tta) - {None}),
         "runtimes": [model.model.version if isinstance(model, evaluate.Exported) else "keras" for model in models]}
    m["calibration"] = evaluate.calibration_report(args.paths, y_test, sum(probabilities) / len(probabilities))
    if len(models) > 1:
        stats = evaluate.ensemble(y_test, probabilities)
        m["members"] = [{"path": p, "test_accuracy": a, "tta": kind}
                        for p, a, kind in zip(args.paths, stats.pop("member_accuracies"), tta)]
        m.update(stats)
    if args.json:
        print_results(json.dumps(m, indent=2))
        return 0
    exported = sorted(set(m["runtimes"]) - {"keras"})
    lines = [f"run in {' and '.join(['Keras'] * ('keras' in m['runtimes']) + exported)}"] if exported else []
    lines += [f"{shown(member['path'])}: test accuracy {member['test_accuracy']:.4f}"
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


def _models(paths: list, runtime: str | None) -> tuple[dict, list]:
    """({path: its run's TrainConfig}, [a Keras model or an evaluate.Exported per path]), all checked before any
    loads; Keras only where asked for, or where TensorFlow is installed and no runtime was."""
    from . import evaluate, extras, runtime as runtimes
    from .hardware import inference_policy
    from .models import load_model
    from .refusal import run_folder_of
    from .rundir import saved_config

    keras = "keras" if extras.importable("tensorflow") else None
    chosen = [runtimes.choose(p, runtime or (None if runtimes.kind_of(Path(p)) else keras)) for p in paths]
    runs = {p: cfg for p in paths if (cfg := saved_config(run_folder_of(p)))}  # a broken config.json: one line here
    if in_keras := [file for kind, file in chosen if kind == "keras"]:
        extras.check(("tensorflow", "keras"), f"evaluating {shown(in_keras[0])} in Keras")
    policy = inference_policy()

    def load(path, kind: str, file):
        if kind == "keras":
            return load_model(file, policy)
        flip = (runs[path].augment or {}).get("flip", 0) if path in runs else 0  # an export keeps no augmentation
        return evaluate.Exported(runtimes.open_export(file, kind), bool(flip))

    return runs, [load(path, *found) for path, found in zip(paths, chosen)]


COMMANDS = {"evaluate": cmd_evaluate}
