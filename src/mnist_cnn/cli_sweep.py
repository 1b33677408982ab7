"""The command line of sweeps and seeds: `mnist-cnn sweep`, `train --seeds`, `evaluate --ensemble-from`.

    mnist-cnn sweep --model seed --space sweeps/fast.toml --trials 8 [--study NAME] [--storage URL]
                    [--seeds 1,2,3] [--timeout MIN] [--heartbeat S] [any train flag, fixed for every trial]
    mnist-cnn sweep NAME --status [--export-best best.toml] [--storage URL] [--out DIR]
    mnist-cnn train --model fast --seeds 1,2,3            # one run per seed; mean ± std
    mnist-cnn evaluate --ensemble-from runs/sweeps/NAME --top 3

cli.py registers these (add_commands, COMMANDS) and calls train_seeds / ensemble_paths; the work is
in sweep.py, seeds.py and rundir.top_runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli import PROG, _config_flags, flags_given
from .cli_args import path_arg, value_arg
from .config import TrainConfig
from .console import shown, table, warn
from .errors import UserError

MAX_SEED = 2**32 - 1  # TrainConfig.seed's range
TOP = 3  # evaluate --ensemble-from: three members, as docs/training.md's ensemble of three best runs


def seeds_list(text: str) -> list[int]:
    """argparse type: '1,2,3' -> [1, 2, 3] (ASCII digits, no repeats)."""
    parts = text.split(",")
    if any(not p.strip().isascii() or not p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected seeds as whole numbers separated by commas, such as 1,2,3; "
                                         f"found {text!r}")
    seeds = [int(p) for p in parts]
    if len(set(seeds)) != len(seeds) or max(seeds) > MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected different seeds from 0 to {MAX_SEED}, found {text!r}")
    return seeds


def _positive(kind):
    def parse(text: str):
        value = value_arg(kind)(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a number above 0, found {text!r}")
        return value
    parse.__name__ = kind.__name__
    return parse


def add_commands(sub) -> None:
    from .sweep import HEARTBEAT

    p = sub.add_parser("sweep", help="hyperparameter search: trials as run folders in a shared Optuna study",
                       description="Search the settings named in SPACE.toml with Optuna. Each trial is a run folder "
                                   "OUT/sweeps/NAME/trial-NNNN; the study lives in OUT/sweeps/NAME/study.db or "
                                   "--storage, shared by every process running the same command.")
    p.add_argument("study_name", nargs="?", metavar="NAME", type=path_arg, help="the study (same as --study)")
    p.add_argument("--model", metavar="NAME", type=path_arg, help="recipe every trial starts from (default: seed)")
    p.add_argument("--space", metavar="SPACE.toml", type=path_arg, help="the settings to search and their ranges "
                   "(required to run a sweep)")
    p.add_argument("--trials", metavar="N", type=_positive(int), help="trials this process runs "
                   "(required to run a sweep)")
    p.add_argument("--study", metavar="NAME", type=path_arg, help="study name (default: RECIPE-SPACE, e.g. seed-fast)")
    p.add_argument("--storage", metavar="URL", type=path_arg,
                   help="database URL shared by the workers, e.g. postgresql://USER:PASSWORD@HOST:5432/DB "
                        "(default: sqlite OUT/sweeps/NAME/study.db)")
    p.add_argument("--seeds", metavar="S1,S2,...", type=seeds_list,
                   help="train each trial once per seed; the objective is the mean (default: --seed only)")
    p.add_argument("--timeout", metavar="MIN", type=_positive(float),
                   help="start no new trial after MIN minutes (default: none)")
    p.add_argument("--heartbeat", metavar="S", type=_positive(int), default=HEARTBEAT,
                   help=f"seconds between a running trial's heartbeats; a trial silent for twice this is marked "
                        f"FAIL by another worker (default: {HEARTBEAT})")
    p.add_argument("--status", action="store_true", help="print the study's trials and the best (default: run)")
    p.add_argument("--export-best", metavar="FILE.toml", type=path_arg,
                   help="write the best trial's settings for `train --config FILE.toml` (default: no)")
    p.add_argument("--config", metavar="FILE", type=path_arg, help="TOML with settings fixed for all trials; flags win "
                   "(default: none)")
    _config_flags(p, "train", hidden=("name",))  # its runs are trial-NNNN: --name gets a line saying so


def cmd_sweep(args) -> int:
    from . import sweep, sweep_status

    if args.study_name and args.study and args.study_name != args.study:
        raise UserError(f"NAME {args.study_name} and --study {args.study} differ; give one")
    args.study = args.study or args.study_name
    if args.status or args.export_best:
        if args.space or args.trials:
            raise UserError("--status and --export-best read a study; drop --space and --trials")
        if not args.study:
            raise UserError("--status: expected the study's NAME (mnist-cnn sweep NAME --status)")
        return _show(args, sweep, sweep_status)
    if not args.space or not args.trials:
        raise UserError("expected --space SPACE.toml and --trials N (or NAME --status to see a study)")
    flags = flags_given(args, "train")
    if "name" in flags:
        raise UserError("--name: a sweep names its runs trial-NNNN; name the study with --study")
    if flags.get("distribute") == "multi-worker":
        raise UserError("--distribute multi-worker: a sweep's workers run different trials; use mirrored, or "
                        "one sweep worker per machine sharing --storage")
    if args.seeds and "seed" in flags:
        raise UserError("--seed and --seeds: give one")
    plan = sweep.make_plan(args.model, args.space, args.config, flags, args.seeds, args.study, args.storage,
                           args.heartbeat, args.timeout * 60 if args.timeout else None)
    print(f"study {plan.study} in {shown(sweep.shown_url(plan.storage))}; trial folders in {shown(plan.folder)}/",
          flush=True)
    outcome = sweep.run(plan, args.trials, report=lambda line: print(shown(line), flush=True))
    study = sweep.open_study(plan.study, plan.storage)
    best = sweep_status.best_trial(study)
    done = ", ".join(f"{n} {state}" for state, n in sorted(outcome.states.items())) or "none"
    print(f"this process: {done}; study: {len(study.trials)} trials"
          + (f", best trial {best.number} with validation accuracy {best.value:.2%}" if best else ""))
    if outcome.interrupted is not None:
        where = f"trial {outcome.interrupted} is marked FAIL" if outcome.interrupted >= 0 else "between trials"
        print(f"{PROG}: interrupted ({where}); the study is consistent. Go on with the same command.",
              file=sys.stderr)
        return 130
    return 0


def _show(args, sweep, sweep_status) -> int:
    folder = Path(args.out or TrainConfig().out) / "sweeps" / args.study
    if args.storage is None and not (folder / "study.db").is_file():
        raise UserError(f"{shown(folder / 'study.db')}: no such study (run a sweep first, or give --storage)")
    study = sweep.open_study(args.study, args.storage or sweep.default_storage(folder))
    if args.status or not args.export_best:
        print(table(sweep_status.status_rows(study)))
        states = {}
        for t in study.trials:
            states[t.state.name] = states.get(t.state.name, 0) + 1
        best = sweep_status.best_trial(study)
        print(f"\n{len(study.trials)} trials: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
        if best:
            print(f"best: {shown(sweep_status.trial_line(best))}")
    if args.export_best:
        settings = sweep_status.export_best(study, args.export_best)
        print(f"wrote {shown(args.export_best)} ({len(settings)} settings); train it with: "
              f"mnist-cnn train --config {shown(args.export_best)}")
    return 0


def train_seeds(args, cfg, verbose, on_model) -> int:
    """`train --seeds`: one run per seed, then mean ± standard deviation of test accuracy and seconds."""
    from . import seeds

    if getattr(args, "seed", None) is not None:
        raise UserError("--seed and --seeds: give one")
    results = seeds.train_seeds(cfg, args.seeds, verbose=verbose, on_model=on_model)
    for r in results:
        if r.interrupted:
            from .cli import _interrupted

            return _interrupted(r, "train")
        m = r.metrics
        print(f"seed {r.config.seed}: test accuracy {m['test_accuracy']:.4f}, validation {m['best_val_accuracy']:.4f}, "
              f"{m['train_seconds']:.1f} s of training; {shown(r.run_dir)}/")
    s = seeds.summary(results)

    def pm(pair, fmt):
        return f"{pair[0]:{fmt}} ± {pair[1]:{fmt}}" if pair[1] is not None else f"{pair[0]:{fmt}} ± -"

    print(f"Test accuracy over {s['n']} seeds: {pm(s['test_accuracy'], '.4f')} (mean ± standard deviation)")
    print(f"Training seconds: {pm(s['train_seconds'], '.1f')}")
    return 0


def ensemble_paths(args) -> list[str]:
    """evaluate's models: the paths given, or with --ensemble-from DIR the --top K finished runs in DIR with
    the highest validation accuracy."""
    from .rundir import top_runs

    if not args.ensemble_from:
        if args.top is not None:
            raise UserError("--top: picks from --ensemble-from DIR; give that too")
        if not args.paths:
            raise UserError("expected RUN_DIR, MODEL.keras or export paths, or --ensemble-from DIR")
        return args.paths
    if args.paths:
        raise UserError("give run folders or --ensemble-from DIR, not both")
    args.top = TOP if args.top is None else args.top
    if args.top < 1:
        raise UserError(f"--top: expected a whole number from 1, found {args.top}")
    rows = top_runs(args.ensemble_from, args.top, args.dataset, report=warn)
    if not rows:
        raise UserError(f"{shown(args.ensemble_from)}: no finished run with a validation accuracy")
    if len(rows) < args.top:
        print(f"{PROG}: only {len(rows)} finished runs in {shown(args.ensemble_from)}; using them all", file=sys.stderr)
    for r in rows:  # on stderr: stdout stays the report (or the JSON)
        print(f"{shown(r['path'])}: validation accuracy {r['val_accuracy']:.4f}", file=sys.stderr)
    return [r["path"] for r in rows]


COMMANDS = {"sweep": cmd_sweep}
