"""The `mnist-cnn fit-reader` command: train a run's line reader, which `read` uses for touching digits.

    mnist-cnn fit-reader runs/NAME [--strings 200000] [--epochs 3] [--seed 0] [--data-dir DIR]
    mnist-cnn fit-reader runs/NAME --from runs/OTHER    # OTHER's reader copied, then NAME's piece gate fitted

Split from cli.py to keep each module small; the work is line_fit.py's, and refusal_fit.fit_piece_gate's: a run's
piece gate is trained here when it has a gate and none yet, rather than by every `calibrate`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .console import shown, stderr_report
from .errors import UserError


def add_commands(sub) -> None:
    from . import line_fit
    from .cli_args import path_arg, value_arg

    p = sub.add_parser("fit-reader", help="train a run's line reader for touching digits (RUN/linereader.keras)",
                       description="Train a small sequence reader (CTC) on synthetic strings of touching MNIST "
                                   "training digits and keep it in the run folder (linereader.keras, and "
                                   "exports/linereader.onnx when tf2onnx is installed); `mnist-cnn read` and "
                                   "/api/read then read a mark wider than one digit with it instead of the reader "
                                   "bundled with mnist-cnn. "
                                   "A run with a \"not a digit\" gate also gets its piece gate "
                                   "(notdigit-pieces.keras), which judges the pieces cut between the reader's "
                                   "digits.")
    p.add_argument("run", metavar="RUN_DIR", type=path_arg, help="a run folder (config.json)")
    p.add_argument("--strings", metavar="N", type=value_arg(int),
                   help=f"synthetic training strings (default: {line_fit.STRINGS})")
    p.add_argument("--epochs", metavar="N", type=value_arg(int), help=f"passes over them (default: {line_fit.EPOCHS})")
    p.add_argument("--seed", metavar="N", type=value_arg(int), help="seed of the strings and weights (default: 0)")
    p.add_argument("--from", dest="source", metavar="OTHER_RUN", type=path_arg,
                   help="copy that run's line reader instead of fitting one (it reads any run's marks: seconds "
                        "instead of the fit's tens of minutes), then fit this run's piece gate (default: fit one)")
    p.add_argument("--data-dir", metavar="DIR", type=path_arg,
                   help="data folder (default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")


def cmd_fit_reader(args) -> int:
    from . import line_fit, negatives
    from .gate import GATE_STEM, PIECE_STEM, gate_paths
    from .rundir import RunDir

    strings = line_fit.STRINGS if args.strings is None else args.strings
    epochs = line_fit.EPOCHS if args.epochs is None else args.epochs
    if strings < line_fit.BATCH:
        raise UserError(f"--strings: expected at least {line_fit.BATCH} (one batch), found {strings}")
    if epochs < 1:
        raise UserError(f"--epochs: expected at least 1, found {epochs}")
    run = Path(args.run)
    if gate_paths(run, GATE_STEM)["keras"].is_file() and not gate_paths(run, PIECE_STEM)["keras"].is_file():
        negatives.font_files("DejaVu")  # the piece gate's letters: checked before the reader's minutes, not after
    if args.source is not None:
        if {args.strings, args.epochs, args.seed} != {None}:
            raise UserError("--from: copies a reader, --strings, --epochs and --seed fit one: expected one or the "
                            "other, found both")
        written = line_fit.copy_reader(run, args.source)
        print(f"Copied the line reader of {shown(Path(args.source))}: " + ", ".join(shown(f) for f in written))
    else:
        r = line_fit.fit(run, strings, epochs, args.seed or 0, args.data_dir, report=stderr_report)
        print(f"Line reader: {r['strings']:,} strings x {r['epochs']} epochs in {r['seconds']:.0f} s; exact match on "
              f"{line_fit.VALIDATION:,} synthetic strings of its own kind: {r['synthetic_exact']:.1%}")
        print(f"Wrote {shown(run)}/linereader.keras" + (f" and {shown(r['onnx'])}" if "onnx" in r else ""))
    if RunDir(run).export_path("onnx").is_file() and not RunDir(run).line_reader("onnx").is_file():
        print("No ONNX export of the reader (tf2onnx: pip install 'mnist-cnn[onnx]'): `read` with the run's ONNX "
              "model uses the reader bundled with mnist-cnn instead")
    return _piece_gate(run, args.data_dir)


def _piece_gate(run: Path, data_dir) -> int:
    """The run's piece gate, trained after its reader (refusal_fit.fit_piece_gate), its outcome in one line."""
    from . import refusal_fit
    from .gate import PIECE_STEM

    try:
        written = refusal_fit.fit_piece_gate(run, data_dir, report=stderr_report)
    except (UserError, KeyboardInterrupt) as e:
        stopped = isinstance(e, KeyboardInterrupt)
        print(f"mnist-cnn: {'interrupted' if stopped else e}: the line reader is kept, without its piece gate; fit "
              f"it with: mnist-cnn calibrate {shown(run)}", file=sys.stderr)
        return 130 if stopped else 1
    if written is None:
        print(f"No piece gate: the run has no \"not a digit\" gate; `mnist-cnn calibrate {shown(run)}` fits both when "
              "its rule keeps one")
    elif written:
        print("Wrote the piece gate, which judges the pieces cut between the reader's digits: "
              + ", ".join(shown(path) for path in written))
    else:
        print(f"Kept the run's piece gate ({PIECE_STEM}.keras), judging the pieces cut between the reader's digits")
    return 0


COMMANDS = {"fit-reader": cmd_fit_reader}
