"""The command line's `evaluate`: a run's (or an ensemble's) report on the test set.

    mnist-cnn evaluate runs/NAME [--tta] [--json]           # accuracy, per-class precision/recall/F1, confusions
    mnist-cnn evaluate runs/A runs/B runs/C                  # their ensemble (probabilities averaged)
    mnist-cnn evaluate --ensemble-from runs/sweeps/NAME --top 3

Split from cli.py, which holds the training commands, to keep each module small.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .cli import PROG
from .console import json_text, print_results, shown, stderr_report


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
    members = _members(args.paths, args.runtime)
    models = [member.pop("model") for member in members]
    dataset = args.dataset or next((mb["dataset"] for mb in members if mb["dataset"]), "mnist")
    for member in (mb for mb in members if mb["dataset"] not in (None, dataset)):
        print(f"{PROG}: note: scoring on {dataset} {shown(member['path'])}, trained on {member['dataset']}",
              file=sys.stderr)
    (_, _), (x_test, y_test) = data.load_dataset(dataset, args.data_dir, report=stderr_report)
    x_test, classes = data.normalise(x_test), data.class_names(dataset)
    tta = [evaluate.tta_kind(model) if args.tta else None for model in models]
    probabilities = [evaluate.predict_proba(model, x_test, tta=kind) for model, kind in zip(models, tta)]
    m = {**evaluate.metrics(y_test, sum(probabilities) / len(probabilities), classes), "tta": args.tta,
         "tta_kinds": sorted(set(tta) - {None})}
    m["calibration"] = evaluate.calibration_report(args.paths, y_test, sum(probabilities) / len(probabilities))
    if len(models) > 1:
        stats = evaluate.ensemble(y_test, probabilities)
        m["members"] = [{**mb, "test_accuracy": a, "tta": kind}
                        for mb, a, kind in zip(members, stats.pop("member_accuracies"), tta)]
        m.update(stats)
    else:  # what ran: the file, its runtime and engine (a version; Keras' with its compute policy)
        m.update({key: members[0][key] for key in ("path", "file", "runtime", "engine")})
    if args.json:
        print_results(json_text(m))
        return 0
    lines = [f"{shown(mb['file'])} in {mb['engine']}" for mb in m.get("members", members)]
    if len(models) > 1:
        lines = [f"{line}: test accuracy {mb['test_accuracy']:.4f}{' (' + mb['tta'] + ')' if mb['tta'] else ''}"
                 for line, mb in zip(lines, m["members"])]
        lines.append(f"{m['errors_of_every_member']} test images are wrong in every member, "
                     f"{m['errors_of_any_member']} in at least one")
    if len(models) > 1 or args.tta:
        what = f"ensemble of {len(models)} models" if len(models) > 1 else "one model"
        views = f", test-time augmentation ({' and '.join(m['tta_kinds'])})" if args.tta else ""
        lines.append(f"{what}{views}:\n")
    lines += [evaluate.format_report(m, classes), evaluate.format_calibration(m["calibration"])]
    print_results("\n".join(lines))
    return 0


def _members(paths: list, runtime: str | None) -> list[dict]:
    """Per path: the model to judge (a Keras model, or an export as an evaluate.Exported), the file and what runs it,
    and the data set it learnt (its run's, else its check's; None: unknown). Keras only where asked for, or where
    TensorFlow is installed and no runtime was; every path and config.json is checked before anything loads."""
    from . import evaluate, extras, runtime as runtimes
    from .hardware import inference_policy
    from .models import load_model
    from .refusal import run_folder_of
    from .rundir import saved_config

    default = "keras" if extras.importable("tensorflow") else None
    chosen = [runtimes.choose(p, runtime or (None if runtimes.kind_of(Path(p)) else default)) for p in paths]
    configs = [saved_config(run_folder_of(p)) for p in paths]  # a broken config.json: one line here
    if in_keras := [file for kind, file in chosen if kind == "keras"]:
        unasked = "" if runtime else runtimes.NO_EXPORT  # said without TF only
        extras.check(("tensorflow", "keras"), f"evaluating {shown(in_keras[0])} in Keras{unasked}")
    policy = inference_policy()

    def member(path, config, kind: str, file) -> dict:
        found = {"path": str(path), "file": str(file), "runtime": kind, "dataset": config and config.dataset}
        if kind == "keras":
            import keras

            return {**found, "engine": f"Keras {keras.__version__} ({policy})", "model": load_model(file, policy)}
        export = runtimes.open_export(file, kind)
        check = export.check or {}
        # The check names the TTA its net takes (evaluate.tta_kind): an export keeps no augmentation layer to ask
        tta = check.get("tta", "shifts+mirror" if config and (config.augment or {}).get("flip") else "shifts")
        return {**found, "engine": export.version, "dataset": found["dataset"] or check.get("dataset"),
                "model": evaluate.Exported(export, tta)}

    return [member(path, config, *found) for path, config, found in zip(paths, configs, chosen)]


COMMANDS = {"evaluate": cmd_evaluate}
