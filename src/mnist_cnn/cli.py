"""The `mnist-cnn` command line: a thin layer that parses argv, calls the library and prints.

    mnist-cnn run                       # the seed job: train the reference CNN, plots in mnist_plots/
    mnist-cnn data                      # fetch + verify MNIST, print where it is
    mnist-cnn train --model seed        # a run folder under runs/
    mnist-cnn evaluate runs/NAME        # test-set report of a saved model
    mnist-cnn predict photo.jpg dir/    # the digit in your own images
    mnist-cnn serve                     # draw-a-digit page + JSON API on http://127.0.0.1:8000/
    mnist-cnn bench                     # every recipe trained and timed side by side
    mnist-cnn runs                      # table of past runs

Keras is imported only inside the commands that need it, so `mnist-cnn --help` is instant.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from pathlib import Path

from .config import Config, merge
from .errors import UserError
from .models import RECIPES

PROG = "mnist-cnn"
DEFAULTS = Config()


class Parser(argparse.ArgumentParser):
    """argparse, but a bad flag gives one line (not the whole usage) and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None


def _port(text: str) -> int:
    port = _int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 1-65535, found {port}")
    return port


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {text!r}") from None


def _common_training(p: argparse.ArgumentParser, seed_job: bool) -> None:
    p.add_argument("--epochs", type=_int, metavar="N", help="training epochs (default: the recipe's; seed: 12)")
    p.add_argument("--batch-size", type=_int, metavar="N", help="images per step (default: the recipe's; seed: 128)")
    p.add_argument("--seed", type=_int, metavar="N", help=f"random seed for weights, split and order (default: {DEFAULTS.seed})")
    p.add_argument("--limit", type=_int, metavar="N",
                   help="use only N of the 60,000 training images, split 80/20 as usual (default: all)")
    p.add_argument("--data-dir", metavar="DIR", help="MNIST folder (default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")
    p.add_argument("--out", metavar="DIR", help=f"parent folder of run folders (default: {DEFAULTS.out})")
    p.add_argument("--name", metavar="NAME", help="run folder name (default: <model>-<date>-<time>)")
    if seed_job:
        p.add_argument("--plots-dir", metavar="DIR", help=f"where the PNGs go (default: {DEFAULTS.plots_dir})")
        p.add_argument("--num-examples", type=_int, metavar="N",
                       help=f"how many example_N.png and misclassified_N.png (default: {DEFAULTS.num_examples})")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Train, judge and use convolutional MNIST digit classifiers.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("run", help="the seed job: train the reference CNN, print test accuracy, save PNGs",
                       description="Train the user's reference CNN (Conv32-Pool-Dense128, adam) on an 80/20 "
                                   "split, print its summary and test accuracy, and save example and "
                                   "misclassified digits as PNGs. Same as `python mnist_cnn.py`.")
    _common_training(p, seed_job=True)
    p.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted seed job from its last whole epoch")

    p = sub.add_parser("data", help="fetch MNIST if needed, verify it, print where it is")
    p.add_argument("--data-dir", metavar="DIR", help="MNIST folder (default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")

    recipes = "\n".join(f"  {r.name:<17} {r.summary}" for r in RECIPES.values())
    p = sub.add_parser("train", help="train a recipe into a run folder (runs/NAME)",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=f"recipes:\n{recipes}")
    p.add_argument("--model", metavar="NAME", help=f"recipe: {', '.join(RECIPES)} (default: {DEFAULTS.model})")
    _common_training(p, seed_job=False)
    p.add_argument("--learning-rate", type=_float, metavar="X", help="peak learning rate (default: the recipe's; seed: 0.001)")
    p.add_argument("--schedule", metavar="NAME", help="constant, cosine, onecycle or step (default: the recipe's; seed: cosine)")
    p.add_argument("--precision", metavar="NAME",
                   help="float32 or mixed_bfloat16 (default: the recipe's; fast, best: mixed_bfloat16; others: float32)")
    p.add_argument("--validation-split", type=_float, metavar="F",
                   help="fraction held out for validation (default: the recipe's; seed: 0.2)")
    p.add_argument("--patience", type=_int, metavar="N",
                   help="stop after N epochs without a lower validation loss; 0 = off (default: 0)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last whole epoch")
    p.add_argument("--config", metavar="FILE", help="TOML (or saved config.json) with settings; flags win")
    p.add_argument("--tensorboard", action="store_true", default=None, help="also log to RUN_DIR/tensorboard (default: off)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress bar (default: shown)")

    p = sub.add_parser("evaluate", help="test-set report of a run folder or .keras file (several: an ensemble)")
    p.add_argument("paths", nargs="+", metavar="RUN_DIR|MODEL.keras",
                   help="one model, or several whose probabilities are averaged (an ensemble)")
    p.add_argument("--tta", action="store_true",
                   help="test-time augmentation: average over the image and its 1-pixel shifts (default: off)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON (default: a table)")
    p.add_argument("--data-dir", metavar="DIR", help="MNIST folder (default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")

    p = sub.add_parser("predict", help="predict the digit in your own images (files or folders)",
                       description="Predict the digit in photos, scans or drawings. Each image is turned into an "
                                   "MNIST-like 28x28 digit first (polarity, crop, 20 px box, centre of mass).")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (searched recursively)")
    p.add_argument("--model", metavar="RUN_DIR|MODEL.keras",
                   help="the model (default: the finished run in --out with the best validation accuracy)")
    p.add_argument("--out", metavar="DIR", default=DEFAULTS.out, help=f"where to look for runs (default: {DEFAULTS.out})")
    p.add_argument("--top-k", type=_int, default=3, metavar="K", help="how many ranked guesses to show (default: 3)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    fmt.add_argument("--csv", action="store_true", help="print CSV (default: a table)")
    p.add_argument("--save-preprocessed", metavar="DIR", help="also save the 28x28 image the model saw (default: no)")

    p = sub.add_parser("serve", help="draw-a-digit web page and JSON prediction API for a trained model")
    p.add_argument("--model", metavar="RUN_DIR|MODEL.keras",
                   help="the model (default: the finished run in --out with the best validation accuracy)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=_port, default=8000, help="port, 1-65535 (default: 8000)")
    p.add_argument("--out", metavar="DIR", default=DEFAULTS.out, help=f"where to look for runs (default: {DEFAULTS.out})")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer requests whose Host header is NAME, e.g. this machine's name on the network; "
                        "repeatable (default: the --host address, plus 127.0.0.1, localhost and [::1] when that "
                        "is loopback or 0.0.0.0)")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="let pages from ORIGIN (e.g. http://localhost:3000) call the API, with CORS headers; "
                        "repeatable (default: none, only this server's own page may POST)")

    p = sub.add_parser("bench", help="train and time every recipe side by side; Markdown table + JSON",
                       description="Train every recipe in this run on this machine and print a Markdown table of "
                                   "throughput, time-to-accuracy, inference speed, memory and the physical limit.")
    p.add_argument("--quick", action="store_true", help="every path on a tiny subset, in seconds (default: full)")
    p.add_argument("--only", metavar="NAME", help="run one entry (default: all)")
    p.add_argument("--seed", type=_int, default=DEFAULTS.seed, metavar="N", help=f"random seed (default: {DEFAULTS.seed})")
    p.add_argument("--data-dir", metavar="DIR", help="MNIST folder (default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")
    p.add_argument("--keep-runs", metavar="DIR",
                   help="keep each entry's run folder in DIR as bench-NAME-seedN (default: a temporary folder)")
    p.add_argument("--worker", metavar="NAME", help=argparse.SUPPRESS)
    p.add_argument("--load", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("runs", help="table of the runs in a folder")
    p.add_argument("--out", metavar="DIR", default=DEFAULTS.out, help=f"folder of run folders (default: {DEFAULTS.out})")
    return parser


def _overrides(args, *names) -> dict:
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


TRAINING_FLAGS = ("epochs", "batch_size", "seed", "limit", "data_dir", "out", "name")


def _no_flags_with_resume(args, *names) -> None:
    given = _overrides(args, *names)
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise UserError(f"--resume continues a run with its saved config.json; drop {flags}")


def cmd_run(args) -> int:
    from . import plots, train

    if args.resume:
        _no_flags_with_resume(args, *TRAINING_FLAGS, "plots_dir", "num_examples")
        result = train.train(Config(), resume=args.resume, on_model=lambda m: m.summary())
    else:
        cfg = Config(model="seed").replace(**_overrides(args, *TRAINING_FLAGS, "plots_dir", "num_examples"))
        result = train.train(cfg, on_model=lambda m: m.summary())
    if result.interrupted:
        return _interrupted(result, "run")
    print(f"Test accuracy: {result.metrics['test_accuracy']:.4f}")
    x, y, probabilities = result.test
    written = plots.seed_pictures(result.config.plots_dir, x, y, probabilities, result.config.num_examples)
    print(f"Saved {len(written)} pictures to {result.config.plots_dir}/ and the run to {result.run_dir}/")
    return 0


def cmd_data(args) -> int:
    from . import data

    folder = data.ensure_mnist(args.data_dir, report=data.stderr_report)
    print(f"MNIST verified (SHA-256) in {folder}")
    return 0


def cmd_train(args) -> int:
    from . import train

    if args.resume:
        _no_flags_with_resume(args, *TRAINING_FLAGS, "model", "learning_rate", "schedule", "precision",
                              "validation_split", "patience", "config", "tensorboard")
        result = train.train(Config(), resume=args.resume, verbose=0 if args.quiet else "auto")
    else:
        cfg = merge(Config(), args.config, _overrides(args, *TRAINING_FLAGS, "model", "learning_rate", "schedule",
                                                     "precision", "validation_split", "patience", "tensorboard"))
        result = train.train(cfg, verbose=0 if args.quiet else "auto")
    if result.interrupted:
        return _interrupted(result, "train")
    m = result.metrics
    print(f"Test accuracy: {m['test_accuracy']:.4f} (best epoch {m['best_epoch']} of {m['epochs_run']} by "
          f"validation loss; {m['train_seconds']:.1f} s of training)")
    print(f"Run folder: {result.run_dir}/")
    return 0


def _interrupted(result, command: str) -> int:
    done = len(result.history)
    print(f"\n{PROG}: interrupted; {done} whole epoch(s) of {result.config.epochs} are saved in "
          f"{result.run_dir}/checkpoint. Resume with: mnist-cnn {command} --resume {result.run_dir}", file=sys.stderr)
    return 130


def cmd_evaluate(args) -> int:
    import numpy as np

    from . import data, evaluate

    models = [evaluate.load_model(p) for p in args.paths]  # all loaded first: a bad path fails fast
    (_, _), (x_test, y_test) = data.load_mnist(args.data_dir, report=data.stderr_report)
    x_test = data.normalise(x_test)
    probabilities = [evaluate.predict_proba(model, x_test, tta=args.tta) for model in models]
    m = evaluate.metrics(y_test, np.mean(probabilities, axis=0))
    m["tta"] = args.tta
    if len(models) > 1:
        m["members"] = [{"path": p, "test_accuracy": evaluate.accuracy(y_test, pr)}
                        for p, pr in zip(args.paths, probabilities)]
        wrong = np.array([pr.argmax(1) != y_test for pr in probabilities])
        m["errors_of_every_member"], m["errors_of_any_member"] = int(wrong.all(0).sum()), int(wrong.any(0).sum())
    if args.json:
        print(json.dumps(m, indent=2))
        return 0
    for member in m.get("members", []):
        print(f"{member['path']}: test accuracy {member['test_accuracy']:.4f}")
    if "members" in m:
        print(f"{m['errors_of_every_member']} test digits are wrong in every member, "
              f"{m['errors_of_any_member']} in at least one")
    if len(models) > 1 or args.tta:
        what = f"ensemble of {len(models)} models" if len(models) > 1 else "one model"
        print(f"{what}{', test-time augmentation' if args.tta else ''}:\n")
    print(evaluate.format_report(m))
    return 0


def cmd_predict(args) -> int:
    from . import files, predict

    if not 1 <= args.top_k <= 10:
        raise UserError(f"--top-k: expected a whole number from 1 to 10, found {args.top_k}")
    images, missing = predict.find_images(args.paths)
    for path, why in missing:
        print(f"{PROG}: {path}: {why}", file=sys.stderr)
    if not images:
        raise UserError("no images to predict", exit_code=1)
    save = Path(args.save_preprocessed) if args.save_preprocessed else None
    if save is not None:
        files.make_dir(save, "--save-preprocessed")
    predictor = predict.Predictor(args.model, args.out)
    results, failed = [], len(missing)
    show_progress = len(images) > predict.BATCH
    started = time.perf_counter()
    for r in predict.predict_files(predictor, images, top_k=args.top_k, save_preprocessed=save):
        results.append(r)
        if r.failed:
            failed += 1
            print(f"{PROG}: {r.error}", file=sys.stderr)
        if show_progress and (len(results) % predict.BATCH == 0 or len(results) == len(images)):
            rate = len(results) / (time.perf_counter() - started)
            print(f"\r{len(results)}/{len(images)} images ({rate:.0f} images/s)", end="", file=sys.stderr, flush=True)
    if show_progress:
        print(file=sys.stderr)
    print(_format_predictions(results, args))
    return 1 if failed else 0


def _format_predictions(results, args) -> str:
    if args.json:
        return json.dumps([r.to_dict() for r in results], indent=2)
    rows = [r for r in results if not r.failed]
    if args.csv:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["path", "digit", "confidence", "top_k", "error"])
        for r in results:
            w.writerow([r.path, "" if r.digit is None else r.digit,
                        "" if r.confidence is None else f"{r.confidence:.4f}",
                        " ".join(f"{d}:{p:.4f}" for d, p in r.top_k), r.error or ""])
        return out.getvalue().rstrip("\n")
    width = max([len(r.path) for r in rows] + [4])
    lines = [f"{'path':<{width}}  digit  confidence  top-{args.top_k}"]
    for r in rows:
        if r.digit is None:
            lines.append(f"{r.path:<{width}}  -      -           {r.error}")
        else:
            lines.append(f"{r.path:<{width}}  {r.digit:<5}  {r.confidence:<10.1%}  "
                         + "  ".join(f"{d} {p:.1%}" for d, p in r.top_k))
    return "\n".join(lines)


def cmd_serve(args) -> int:
    from . import serve

    return serve.run(args.model, host=args.host, port=args.port, out=args.out, allow_hosts=args.allow_host,
                     cors_origins=args.cors_origin)


def cmd_bench(args) -> int:
    from . import bench, data

    if args.worker:
        print(json.dumps(bench.worker(args.worker, args.quick, args.seed, args.data_dir, args.load, args.keep_runs)))
        return 0
    data.ensure_mnist(args.data_dir, report=data.stderr_report)
    result = bench.run(args.only, args.quick, args.seed, args.data_dir, report=data.stderr_report,
                       keep_runs=args.keep_runs)
    print(bench.markdown(result))
    return 0


def cmd_runs(args) -> int:
    from . import runs

    rows = runs.list_runs(args.out)
    if not rows:
        print(f"no runs in {args.out}/ (train one with: mnist-cnn train)")
        return 0
    print(runs.format_table(rows))
    return 0


COMMANDS = {"run": cmd_run, "data": cmd_data, "train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "serve": cmd_serve, "bench": cmd_bench, "runs": cmd_runs}


def main(argv: list[str] | None = None) -> int:
    # TensorFlow's C++ start-up chatter (oneDNN notes, CPU feature lists, a tf.data attribute
    # warning) says nothing a user can act on; errors still surface as Python exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return COMMANDS[args.command](args)
    except UserError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(main())
