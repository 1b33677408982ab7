"""The `mnist-cnn finetune` command: continue a finished run on MNIST plus one's own labelled images.

    mnist-cnn finetune runs/NAME --extra-data runs/NAME/feedback [--epochs 2] [--learning-rate 0.0003]
                       [--extra-repeat 20] [--out DIR] [--name NAME] [--data-dir DIR] [--quiet] [--no-calibrate]
                       [--export onnx|litert]

Split from cli.py to keep each module small; the work is finetune.py's and train.py's.
"""

from __future__ import annotations

from .config import FIELDS, TrainConfig
from .console import shown

PROG = "mnist-cnn"
DEFAULTS = TrainConfig()


def add_commands(sub) -> None:
    from . import finetune
    from .cli import NO_CALIBRATE_HELP, _add_export
    from .cli_args import path_arg, value_arg

    p = sub.add_parser("finetune", help="continue a finished run on MNIST plus your labelled images (a new run)",
                       description="Load RUN's model and train it for a few more epochs at a small learning rate "
                                   "on MNIST's training split plus the labelled 28x28 PNGs in --extra-data (each "
                                   "repeated --extra-repeat times), into a new run folder whose config.json names "
                                   "RUN. Validation and test stay MNIST's.")
    p.add_argument("run", metavar="RUN_DIR", type=path_arg, help="a finished run folder")
    p.add_argument("--extra-data", metavar="DIR", type=path_arg, required=True,
                   help=f"{FIELDS['extra_data'].metadata['help'].split('; unset')[0]} (required)")
    p.add_argument("--extra-repeat", metavar="N", type=value_arg(int),
                   help=f"{FIELDS['extra_repeat'].metadata['help']} (default: {DEFAULTS.extra_repeat})")
    p.add_argument("--epochs", metavar="N", type=value_arg(int),
                   help=f"epochs to continue (default: {finetune.EPOCHS})")
    p.add_argument("--learning-rate", metavar="X", type=value_arg(float),
                   help=f"starting learning rate, decayed to 0 over the epochs by a cosine (default: "
                        f"{finetune.LEARNING_RATE})")
    p.add_argument("--out", metavar="DIR", type=path_arg, help="parent folder of the new run (default: RUN's own)")
    p.add_argument("--name", metavar="NAME", type=path_arg,
                   help="the new run's folder name (default: <RUN>-ft-<date>-<time>)")
    p.add_argument("--data-dir", metavar="DIR", type=path_arg,
                   help="data folder (default: RUN's, else $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress (default: shown)")
    p.add_argument("--no-calibrate", action="store_true", help=f"{NO_CALIBRATE_HELP} (default: fit it: RUN's rule "
                                                               f"belongs to RUN's model)")
    _add_export(p, "as train's", "none: predict, read and serve then run the new run in Keras")


def cmd_finetune(args) -> int:
    from . import finetune, train
    from .cli import _check_export, _export, _interrupted
    from .rundir import RunDir

    _check_export(args)
    cfg = finetune.finetune_config(args.run, args.extra_data, epochs=args.epochs, learning_rate=args.learning_rate,
                                   extra_repeat=args.extra_repeat, out=args.out, name=args.name,
                                   data_dir=args.data_dir)
    before = RunDir(args.run).metrics()["test_accuracy"]
    result = train.train(cfg, verbose=train.progress_verbosity(args.quiet), refusal=not args.no_calibrate)
    if result.interrupted:
        return _interrupted(result, "train")
    m = result.metrics
    print(f"Test accuracy: {m['test_accuracy']:.4f} (was {before:.4f} for {shown(args.run)}; {m['n_extra']} extra "
          f"images, {m['epochs_run']} epoch(s), {m['train_seconds']:.1f} s of training)")
    print(f"Run folder: {shown(result.run_dir)}/")
    return _export(args, result, result.rule_interrupted)


COMMANDS = {"finetune": cmd_finetune}
