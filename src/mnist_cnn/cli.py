"""The `mnist-cnn` command line: a thin layer that parses argv, calls the library and prints.

    mnist-cnn run                       # the seed job: train the reference CNN, plots in mnist_plots/
    mnist-cnn data                      # fetch + verify MNIST, print where it is
    mnist-cnn train --model seed        # a run folder under runs/
    mnist-cnn evaluate runs/NAME        # test-set report of a saved model
    mnist-cnn finetune runs/NAME --extra-data DIR   # continue a run on MNIST + your labelled PNGs
    mnist-cnn calibrate runs/NAME       # honest confidence and "not a digit" (RUN/refusal.json)
    mnist-cnn predict photo.jpg dir/    # the digit in your own images
    mnist-cnn serve                     # draw-a-digit page + JSON API on http://127.0.0.1:8000/
    mnist-cnn bench                     # every recipe trained and timed side by side
    mnist-cnn evalset make DIR          # a generated real-world digit set; `evalset score DIR` by family
    mnist-cnn runs                      # table of past runs

The training flags are generated from `config.TrainConfig`'s fields, their help from each field's
help and the recipes' real defaults. Keras is imported only inside the commands that need it, so
`mnist-cnn --help` is instant. Library errors name fields; this module turns them into `--flags`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import config, extras
from .cli_args import Parser, path_arg, value_arg
from .config import FIELDS, RECIPES, SUMMARIES, TYPES, ConfigError, typed
from .console import exit_now, print_results, shown, stderr_report, table, warn
from .errors import UserError

PROG = "mnist-cnn"
DEFAULTS = config.TrainConfig()
RUN_EXPORTS = ("onnx", "litert")  # run's and train's --export: the runtimes predict, read and serve use without TF
CALIBRATE_TIME = "~3.7 min on 2 cores, class C"  # refusal_fit.after_training's, measured (README, "Not a digit")
NO_CALIBRATE_HELP = (f"skip fitting the refusal rule and \"not a digit\" gate after a full MNIST run "
                     f"({CALIBRATE_TIME}); `mnist-cnn calibrate RUN` fits it later")  # train's, finetune's


def _shown_default(value) -> str:
    if value is None:
        return "unset"
    return json.dumps(value) if isinstance(value, dict) else str(value)


def default_text(name: str, command: str) -> str:
    """The real default: the seed job's for `run`; for `train` the recipes' own when they differ, and on another data
    set (config.FOR_DATASET) theirs there; unset: its help's."""
    unset = FIELDS[name].metadata["help"].partition("unset = ")[2]  # what leaving it unset means
    if command == "run" or name in config.RUN_ONLY:
        value = getattr(RECIPES["seed"], name)
        return f"default: {unset if value is None and unset else _shown_default(value)}"
    elsewhere = "".join(f"; on {dataset}: " + ", ".join(f"{r}: {_shown_default(v[name])}"
                                                       for r, v in recipes.items() if name in v)
                        for dataset, recipes in config.FOR_DATASET.items() if any(name in v for v in recipes.values()))
    if getattr(RECIPES["seed"], name) is None and unset:
        return f"default: {unset}{elsewhere}"
    values = {r: getattr(cfg, name) for r, cfg in RECIPES.items()}
    if len({json.dumps(v) for v in values.values()}) == 1:
        return f"default: {_shown_default(values['seed'])}{elsewhere}"
    return "default: the recipe's; " + ", ".join(f"{r}: {_shown_default(v)}" for r, v in values.items()) + elsewhere


def _config_flags(p: argparse.ArgumentParser, command: str, hidden=()) -> None:
    """A flag for each setting of `command`; those in `hidden` parse (for the command's own one-line refusal) but stay
    out of --help."""
    for name, f in FIELDS.items():
        if command not in f.metadata["commands"]:
            continue
        flag, kind = "--" + name.replace("_", "-"), TYPES[name]
        base = next((t for t in getattr(kind, "__args__", (kind,)) if t is not type(None)), kind)
        text = f"{f.metadata['help'].split('; unset = ')[0]} ({default_text(name, command)})"  # unset: the default
        text = argparse.SUPPRESS if name in hidden else text
        if base is bool:
            p.add_argument(flag, action="store_true", default=None, help=text)
        else:
            choices = f.metadata["choices"]
            folder = name.endswith("dir") or name in ("out", "extra_data")
            metavar = "{" + ",".join(choices) + "}" if choices else \
                {int: "N", float: "X", dict: "JSON"}.get(base, "DIR" if folder else "NAME")
            p.add_argument(flag, type=value_arg(base), metavar=metavar, help=text)


def _command_modules() -> list:
    """The modules adding further commands (add_commands, COMMANDS), in the order --help lists them."""
    import importlib

    return [importlib.import_module(f".{name}", __package__) for name in
            ("cli_evaluate", "cli_inference", "cli_read", "cli_export", "cli_finetune", "cli_evalset", "cli_calibrate",
             "cli_reader", "cli_sweep")]


def _add_run(sub) -> None:
    """The seed job's command, `python mnist_cnn.py`'s."""
    p = sub.add_parser("run", help="the seed job: train the reference CNN, print test accuracy, save PNGs",
                       description="Train the user's reference CNN (Conv32-Pool-Dense128, adam) on an 80/20 "
                                   "split, print its summary and test accuracy, and save example and "
                                   "misclassified digits as PNGs. Same as `python mnist_cnn.py`.")
    _config_flags(p, "run")
    p.add_argument("--resume", metavar="RUN_DIR", type=path_arg, help="finish an interrupted seed job from its last "
                                                                      "whole epoch (default: start a new one)")
    p.add_argument("--calibrate", action="store_true", help="then fit a full MNIST run's refusal rule and \"not a "
                   f"digit\" gate, so that predict, read and serve refuse what is no digit ({CALIBRATE_TIME}; `make "
                   "run` asks for it) (default: no, as the user's script)")
    _add_export(p, "`make run` asks for onnx", "none, as the user's script")


def _add_export(p, note: str, default: str) -> None:
    p.add_argument("--export", metavar="{" + ",".join(RUN_EXPORTS) + "}", type=path_arg,
                   help="then export the model (and its gates) for that runtime, checked on the test set, so that "
                        f"predict, read and serve run it without TensorFlow (~10 s; {note}) (default: {default})")


def _check_export(args) -> None:
    """--export's runtime and what exporting to it needs, checked before the training rather than after it."""
    if args.export not in (None, *RUN_EXPORTS):
        raise UserError(f"--export: expected one of {', '.join(RUN_EXPORTS)}, found {args.export!r}")
    if args.export:
        from .export import require_exporter

        require_exporter(args.export)


def _export(args, result, interrupted: bool) -> int:
    """run's and train's --export: the finished run exported as `mnist-cnn export RUN --format F` does; none after a
    Ctrl-C in the rule's fit (130). A failed export keeps the run and says how to export it later (1)."""
    from .cli_export import cmd_export

    if interrupted or not args.export:
        return 130 if interrupted else 0
    try:
        return cmd_export(argparse.Namespace(model=str(result.run_dir), format=args.export, int8=False, out=None,
                                             data_dir=result.config.data_dir))
    except UserError as e:
        raise UserError(f"{e}; the run is kept: export it with: mnist-cnn export {shown(result.run_dir)} --format "
                        f"{args.export}", exit_code=1) from None


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = Parser(prog=PROG, description="Train, judge and use convolutional MNIST digit classifiers.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    from . import cli_sweep

    _add_run(sub)

    p = sub.add_parser("data", help="fetch a data set if needed, verify it, print where it is")
    p.add_argument("--dataset", metavar="{" + ",".join(config.DATASETS) + "}", type=path_arg,
                   default=DEFAULTS.dataset, help=f"the data set (default: {DEFAULTS.dataset})")
    p.add_argument("--data-dir", metavar="DIR", type=path_arg, help=f"data folder ({default_text('data_dir', 'run')})")

    recipes = "\n".join(f"  {name:<17} {summary}" for name, summary in SUMMARIES.items())
    p = sub.add_parser("train", help="train a recipe into a run folder (runs/NAME)",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=f"recipes:\n{recipes}")
    p.add_argument("--model", metavar="NAME", type=path_arg,
                   help=f"recipe: {', '.join(RECIPES)} (default: {DEFAULTS.model})")
    _config_flags(p, "train")
    p.add_argument("--config", metavar="FILE", type=path_arg,
                   help="TOML (or a saved config.json) with settings; flags win (default: none)")
    p.add_argument("--resume", metavar="RUN_DIR", type=path_arg,
                   help="continue an interrupted run from its last whole epoch (default: start a new one)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress (default: shown)")
    p.add_argument("--no-calibrate", action="store_true", help=f"{NO_CALIBRATE_HELP} (default: fit it; --seeds never "
                                                               f"does)")
    _add_export(p, "one run, not with --seeds", "none")
    p.add_argument("--seeds", metavar="S1,S2,...", type=cli_sweep.seeds_list,
                   help="one run per seed (NAME-seedS), then mean ± standard deviation (default: --seed only)")

    for module in _command_modules():
        module.add_commands(sub)

    p = sub.add_parser("runs", help="table of the runs in a folder")
    p.add_argument("--out", metavar="DIR", type=path_arg, default=DEFAULTS.out,
                   help=f"folder of run folders (default: {DEFAULTS.out})")
    return parser


def flags_given(args, command: str) -> dict:
    """The TrainConfig fields given as flags, typed."""
    return {n: typed(n, getattr(args, n)) for n, f in FIELDS.items()
            if command in f.metadata["commands"] and getattr(args, n, None) is not None}


def _no_flags_with_resume(args, command: str, *extra) -> None:
    given = [n for n in (*flags_given(args, command), *extra) if getattr(args, n, None) not in (None, False)]
    if given:
        flags = ", ".join("--" + n.replace("_", "-") for n in given)
        raise UserError(f"--resume continues a run with its saved config.json; drop {flags}")


def _precision_line(model, precision) -> None:
    print(f"Precision: {precision.policy} ({precision.reason})", flush=True)


def cmd_run(args) -> int:
    from . import plots, train

    def on_model(model, precision):
        model.summary()
        _precision_line(model, precision)

    _check_export(args)
    verbose = train.progress_verbosity(False)
    if args.resume:
        _no_flags_with_resume(args, "run")
        result = train.train(resume=args.resume, on_model=on_model, verbose=verbose)
    else:
        result = train.train(config.resolve("seed", flags=flags_given(args, "run")), on_model=on_model,
                             verbose=verbose)
    if result.interrupted:
        return _interrupted(result, "run")
    print(f"Test accuracy: {result.metrics['test_accuracy']:.4f}")
    x, y, probabilities = result.test
    from .data import class_names
    written = plots.seed_pictures(result.config.plots_dir, x, y, probabilities, result.config.num_examples,
                                  class_names(result.config.dataset))
    print(f"Saved {len(written)} pictures to {shown(result.config.plots_dir)}/ and the run to {shown(result.run_dir)}/")
    if args.calibrate:  # after the script's own output, which stays as it was
        from .refusal_fit import after_training, gets_rule

        sys.stdout.flush()
        if not gets_rule(result.config):
            stderr_report(f"{PROG}: --calibrate: a refusal rule is fitted for full MNIST runs only; none for this one")
        return _export(args, result, after_training(result, stderr_report))
    return _export(args, result, False)


def cmd_data(args) -> int:
    from . import data

    folder = data.ensure_dataset(args.dataset, args.data_dir, report=stderr_report)
    print_results(f"{data.get(args.dataset).title} verified (SHA-256) in {shown(folder)}")
    return 0


def cmd_train(args) -> int:
    from . import cli_sweep, train

    _check_export(args)
    verbose = train.progress_verbosity(args.quiet)
    if args.resume:
        _no_flags_with_resume(args, "train", "model", "config", "seeds")
        result = train.train(resume=args.resume, verbose=verbose, on_model=_precision_line,
                             refusal=not args.no_calibrate)
    else:
        cfg = config.resolve(file=args.config, flags={**flags_given(args, "train"),
                                                      **({"model": args.model} if args.model else {})})
        if args.seeds:
            if cfg.distribute == "multi-worker":
                raise UserError("--seeds: with --distribute multi-worker, train one seed per command")
            if args.export:
                raise UserError("--export: one run at a time; with --seeds, export the one you keep with: "
                                "mnist-cnn export RUN --format " + args.export)
            return cli_sweep.train_seeds(args, cfg, verbose, _precision_line)
        result = train.train(cfg, verbose=verbose, on_model=_precision_line, refusal=not args.no_calibrate)
    if result.interrupted:
        return _interrupted(result, "train")
    if not result.chief:
        print("Trained as one of the multi-worker run's workers; its chief wrote the run folder")
        return 0
    m = result.metrics
    print(f"Test accuracy: {m['test_accuracy']:.4f} (best epoch {m['best_epoch']} of {m['epochs_run']} by "
          f"validation loss; {m['train_seconds']:.1f} s of training)")
    print(f"Run folder: {shown(result.run_dir)}/")
    return _export(args, result, result.rule_interrupted)


def _interrupted(result, command: str) -> int:
    saved = (f"{len(result.history)} whole epoch(s) of {result.config.epochs} are saved in "
             f"{shown(result.run_dir)}/checkpoint" if result.history else
             f"no epoch of {result.config.epochs} had ended; {shown(result.run_dir)} holds the run's settings")
    print(f"\n{PROG}: interrupted; {saved}. Resume with: mnist-cnn {command} --resume {shown(result.run_dir)}",
          file=sys.stderr)
    return 130


def cmd_runs(args) -> int:
    from .rundir import list_runs, runs_table

    out = Path(args.out)
    if out.exists() and not out.is_dir() or not out.exists() and out != Path(DEFAULTS.out):  # the default: none yet
        raise UserError(f"--out: expected a folder of run folders, found {'a file' if out.exists() else 'nothing'} at "
                        f"{shown(out)}")
    rows = list_runs(out, report=warn)
    print_results(table(runs_table(rows)) if rows else f"no runs in {shown(out)}/ (train one with: mnist-cnn train)")
    return 0


# All Keras work, and each prints, reads data or makes a folder before its first Keras import: the `train` extra is
# checked first (train and run fail on the import itself, having made nothing; sweep and export name more extras;
# evaluate judges an export without it)
KERAS_COMMANDS = ("calibrate", "fit-reader", "finetune", "bench")
QUICK_EXIT = ("predict", "read")  # the commands whose process ends by console.exit_now, its teardown skipped


def _user_error_line(e: UserError, args) -> str:
    """The error's one line; a ConfigError names the command's flag for its field (the config file's key where the
    value came from --config), or, for a field the command has no flag for, itself."""
    if isinstance(e, ConfigError):
        flag, config = hasattr(args, e.field), getattr(args, "config", None)
        if flag and (getattr(args, e.field) is not None or not config):
            return f"--{e.field.replace('_', '-')}: {e.what}"
        if config and e.field in FIELDS:
            return f"{config}: key {e.field!r}: {e.what}"
    return str(e)


def main(argv: list[str] | None = None) -> int:
    """The command line; argv None: this process's own (the `mnist-cnn` program), which QUICK_EXIT's commands end."""
    try:  # Ctrl-C while the parser's modules import, too
        commands = {"run": cmd_run, "data": cmd_data, "train": cmd_train, "runs": cmd_runs}
        for module in _command_modules():
            commands.update(module.COMMANDS)
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        try:
            if args.command in KERAS_COMMANDS:
                extras.check(extras.TRAIN, f"`{PROG} {args.command}`")
            code = commands[args.command](args)
        except UserError as e:
            print(f"{PROG}: {shown(_user_error_line(e, args))}", file=sys.stderr)  # one line: a file name's \n too
            code = e.exit_code
        except ModuleNotFoundError as e:  # an extra's package (extras.py): `pip install mnist-cnn` has no TensorFlow
            if (line := extras.missing(e, f"`{PROG} {args.command}`")) is None:
                raise
            print(f"{PROG}: {line}", file=sys.stderr)
            code = 2
        if argv is None and args.command in QUICK_EXIT:
            exit_now(code)
        return code
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(main())
