"""The command line's `read`: the number written on one line in each image.

    mnist-cnn read meter.jpg scans/ [--model RUN_DIR|MODEL] [--json | --csv] [--save-digits DIR]

Split from cli_inference.py (predict, serve, bench) to keep each module small; read.py does the work.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .console import Progress, csv_text, json_text, print_results, shown, table, warn
from .errors import UserError

PROG = "mnist-cnn"
PROGRESS_EVERY = 50  # numbers between progress lines on a folder: a few a second at the measured rate
# One runtime thread: between read's small model calls its own Python (segmenting, cutting) runs, while a runtime's
# pool spun on the other core. 200 numbers, `best`, class D: ONNX 22-23 numbers/s either way at half the CPU (8.7
# against 17.6 s), Keras 12.1 -> 15.5 numbers/s; the same readings.
THREADS = 1


def add_commands(sub) -> None:
    from .cli_args import path_arg
    from .cli_inference import add_images_and_model, add_output_format

    p = sub.add_parser("read", help="read the number written in each image (files or folders)",
                       description="Read numbers written on one line (a meter reading, a year, a postcode): the "
                                   "digits are found in the ink, each turned into an MNIST-like 28x28 as by "
                                   "`predict`, and read left to right. Ink that is not digits is refused.")
    add_images_and_model(p)
    add_output_format(p)
    p.add_argument("--save-digits", metavar="DIR", type=path_arg,
                   help="also save each digit's 28x28 as the model saw it, NNNNN_FILE_K.png (NNNNN: the file's "
                        "place in the list, K: the digit's) (default: no)")


def cmd_read(args) -> int:
    from . import files, predict, read, read_io
    from .cli_inference import rule_note

    paths, missing = predict.find_images(args.paths)
    for path, why in missing:
        print(f"{PROG}: {shown(path)}: {why}", file=sys.stderr)
    if not paths and not (args.json or args.csv):
        if missing:  # each said why in its own line
            return 1
        raise UserError("no images to read", exit_code=1)
    save = Path(args.save_digits) if args.save_digits else None
    if save is not None:
        files.make_dir(save, "save_digits")
    predictor = predict.Predictor(args.model, args.out, runtime=args.runtime, threads=THREADS,
                                  report=warn) if paths else None
    if predictor is not None:
        rule_note(predictor, args.model)
    results, failed = [], len(missing)
    started = time.perf_counter()
    with Progress(on=len(paths) > PROGRESS_EVERY) as progress:
        for r in read_io.read_files(predictor, paths, save_digits=save):
            results.append(r)
            if r.error is not None:
                failed += 1
                progress.say(f"{PROG}: {shown(r.error)}")
            if len(results) % PROGRESS_EVERY == 0 or len(results) == len(paths):
                rate = len(results) / (time.perf_counter() - started)
                progress.show(f"{len(results)}/{len(paths)} images ({rate:.0f} numbers/s)")
    results = [read.Reading(path, error=f"{path}: {why}") for path, why in missing] + results  # as predict's
    if out := format_readings(results, args.json, args.csv):
        print_results(out)
    return 1 if failed else 0


def format_readings(results, as_json: bool = False, as_csv: bool = False) -> str:
    if as_json:
        return json_text([r.to_dict() for r in results])
    if as_csv:
        return csv_text([("path", "text", "confidence", "rejected", "message", "digits", "boxes", "error"),
                         *((r.path, r.text, "" if r.confidence is None else f"{r.confidence:.4f}",
                            str(r.rejected).lower(), r.message or "",
                            " ".join(f"{'-' if d.digit is None else d.digit}:{d.confidence:.4f}" for d in r.digits),
                            " ".join(",".join(map(str, d.box)) for d in r.digits), r.error or "") for r in results)])
    rows = [("path", "number", "confidence", "digits")]
    for r in results:
        if r.error is not None:
            continue
        if r.rejected:
            rows.append((r.path, "-", "-", f"refused: {r.reason}"))
        else:
            rows.append((r.path, r.text, f"{r.confidence:.1%}", "  ".join(f"{d.digit} {d.confidence:.0%}"
                                                                          for d in r.digits)))
    return table(rows) if len(rows) > 1 else ""  # every file failed: their lines on stderr say it all


COMMANDS = {"read": cmd_read}
