"""The command line's inference and measurement commands: `predict`, `serve` and `bench`.

    mnist-cnn predict photo.jpg scans/ [--model RUN_DIR|MODEL.keras|MODEL.onnx|MODEL.tflite] [--json | --csv]
    mnist-cnn serve [--model RUN_DIR] [--host 127.0.0.1] [--port 8000] [--feedback-dir DIR | --no-feedback]
                    [--workers N]
    mnist-cnn bench [--quick] [--only NAME] [--dataset NAME] [--keep-runs DIR]

Split from cli.py, which holds the training commands, to keep each module small.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from .cli_args import path_arg, value_arg
from .config import DATASETS, RECIPES, TrainConfig
from .console import Progress, csv_text, json_text, print_results, shown, stderr_report, table, warn
from .errors import UserError

PROG = "mnist-cnn"
DEFAULTS = TrainConfig()


def _seeds(text: str) -> list[int]:
    from .cli_sweep import seeds_list

    return seeds_list(text)


def _port(text: str) -> int:
    port = value_arg(int)(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 1-65535, found {port}")
    return port


HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(text: str) -> str:
    """A web origin as browsers send it in their Origin header (scheme://host[:port], the host in lower case, no
    default port, no trailing /), from what the user wrote: Starlette compares that header's text exactly, so another
    spelling (an upper-case host, :80) would never match, and the page would get no CORS headers."""
    import ipaddress
    from urllib.parse import urlsplit

    if text == "null":
        raise argparse.ArgumentTypeError("expected a web page's origin, found null: every sandboxed frame and file:// "
                                         "page sends it, so it would let them all in; serve the page and name its "
                                         "origin")
    try:
        url = urlsplit(text)
        port, host = url.port, url.hostname or ""  # .port raises for a port that is not a number
        host = f"[{ipaddress.IPv6Address(host).compressed}]" if ":" in host else host
    except ValueError:
        url = None
    if url is None or url.scheme.lower() not in DEFAULT_PORTS or url.netloc.endswith(":") or "@" in url.netloc \
            or not (HOST_NAME.fullmatch(host) or host.startswith("[")) or url.path not in ("", "/") or url.query \
            or url.fragment:
        raise argparse.ArgumentTypeError(f"expected an origin such as http://localhost:3000 (scheme://host[:port], "
                                         f"no path), found {text!r}")
    scheme = url.scheme.lower()
    return f"{scheme}://{host}" + ("" if port in (None, DEFAULT_PORTS[scheme]) else f":{port}")


def _host(text: str) -> str:
    """A host name or IP address as a Host header names it (a port after it is dropped there); else an argparse
    error."""
    import ipaddress

    from .http_guard import bare

    try:
        ipaddress.ip_address(bare(text))
        return text
    except ValueError:
        if HOST_NAME.fullmatch(bare(text).rstrip(".")) and not {"/", "@"} & set(text):
            return text
    raise argparse.ArgumentTypeError(f"expected a host name or IP address such as my-pc.local or 192.168.1.20, "
                                     f"found {text!r}")


def add_commands(sub) -> None:
    _add_predict(sub)
    _add_serve(sub)
    _add_bench(sub)


def add_images_and_model(p) -> None:
    """PATH..., --model, --runtime, --out: what `predict` and `read` read, and with which model."""
    p.add_argument("paths", nargs="+", metavar="PATH", type=path_arg,
                   help="image files or folders (searched recursively); - reads one image from standard input")
    p.add_argument("--model", metavar="RUN_DIR|MODEL.keras|MODEL.onnx|MODEL.tflite", type=path_arg,
                   help="the model: a run folder, a .keras file or an export (`mnist-cnn export`) "
                        "(default: the finished MNIST run in --out with the best validation accuracy)")
    p.add_argument("--runtime", metavar="{keras,onnx,litert}", type=path_arg,
                   help="what runs a run folder's model: keras (TensorFlow), or its checked onnx or litert export "
                        "(default: the fastest checked export there, else keras)")
    p.add_argument("--out", metavar="DIR", type=path_arg, default=DEFAULTS.out,
                   help=f"where to look for runs (default: {DEFAULTS.out})")


def rule_note(predictor, model_given) -> None:
    """One line on stderr when the best run was taken for --model and it has no refusal rule (`python mnist_cnn.py`
    without --calibrate fits none): every picture with ink then gets a digit, a letter or a doodle too."""
    from .refusal import Rule, run_folder_of

    if model_given is None and predictor.rule == Rule():
        run = shown(run_folder_of(predictor.path))
        print(f"{PROG}: note: {run} has no refusal rule, so nothing is answered \"not a digit\"; fit one with: "
              f"mnist-cnn calibrate {run}", file=sys.stderr)


def add_output_format(p) -> None:
    """--json | --csv (default: a table), for `predict` and `read`."""
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    fmt.add_argument("--csv", action="store_true", help="print CSV (default: a table)")


def _add_predict(sub) -> None:
    p = sub.add_parser("predict", help="predict the digit in your own images (files or folders)",
                       description="Predict the digit in photos, scans or drawings. Each image is turned into an "
                                   "MNIST-like 28x28 digit first (polarity, crop, 20 px box, centre of mass).")
    add_images_and_model(p)
    p.add_argument("--top-k", type=value_arg(int), default=3, metavar="K",
                   help="how many ranked guesses to show (default: 3)")
    add_output_format(p)
    p.add_argument("--save-preprocessed", metavar="DIR", type=path_arg,
                   help="also save the 28x28 image the model saw (default: no)")


def _add_serve(sub) -> None:
    p = sub.add_parser("serve", help="draw-a-digit web page and JSON prediction API for a trained model")
    p.add_argument("--model", metavar="RUN_DIR|MODEL.keras|MODEL.onnx|MODEL.tflite", type=path_arg,
                   help="the model: a run folder (its fastest checked export, else Keras), a .keras file or an export "
                        "(default: the finished MNIST run in --out with the best validation accuracy)")
    p.add_argument("--host", default="127.0.0.1", type=path_arg,
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=_port, default=8000, help="port, 1-65535 (default: 8000)")
    p.add_argument("--out", metavar="DIR", type=path_arg, default=DEFAULTS.out,
                   help=f"where to look for runs (default: {DEFAULTS.out})")
    p.add_argument("--runtime", metavar="{keras,onnx,litert}", type=path_arg,
                   help="run the model in this runtime (default: an export file's own; for a run folder its fastest "
                        "checked export, else keras)")
    p.add_argument("--workers", type=value_arg(int), default=1, metavar="N",
                   help="server processes sharing the port, each with its own model and (Linux) CPUs of its own; "
                        "about one per core, at most two per CPU (default: 1)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME", type=_host,
                   help="also answer requests whose Host header is NAME, e.g. this machine's name on the network; "
                        "repeatable (default: the --host address, plus 127.0.0.1, localhost and [::1] when that "
                        "is loopback or 0.0.0.0)")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN", type=_origin,
                   help="let pages from ORIGIN (e.g. http://localhost:3000) call the API, with CORS headers; "
                        "repeatable (default: none, only this server's own page may POST)")
    fb = p.add_mutually_exclusive_group()
    fb.add_argument("--feedback-dir", metavar="DIR", type=path_arg,
                    help="where the page's corrections (\"Wrong? Tell it\") are saved as labelled 28x28 PNGs "
                         "(default: feedback/ in the model's run folder)")
    fb.add_argument("--no-feedback", action="store_true",
                    help="save no corrections; the page hides its \"Wrong? Tell it\" button (default: saved)")


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="train and time every recipe side by side; Markdown table + JSON",
                       description="Train every recipe in this run on this machine and print a Markdown table of "
                                   "throughput, time-to-accuracy, inference speed, memory and the physical limit.")
    p.add_argument("--quick", action="store_true", help="every path on a tiny subset, in seconds (default: full)")
    p.add_argument("--only", metavar="NAME", type=path_arg, help=f"run one entry: {', '.join(RECIPES)} (default: all)")
    p.add_argument("--seed", type=value_arg(int), metavar="N", help=f"random seed (default: {DEFAULTS.seed})")
    p.add_argument("--seeds", type=_seeds, metavar="S1,S2,...",
                   help="the whole benchmark once per seed, then mean ± standard deviation per recipe "
                        "(default: --seed)")
    p.add_argument("--dataset", metavar="{" + ",".join(DATASETS) + "}", type=path_arg, default=DEFAULTS.dataset,
                   help=f"the data set (default: {DEFAULTS.dataset})")
    p.add_argument("--data-dir", metavar="DIR", type=path_arg,
                   help="data folder (default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")
    p.add_argument("--keep-runs", metavar="DIR", type=path_arg,
                   help="keep each entry's run folder in DIR as bench-NAME-seedN (default: a temporary folder)")
    p.add_argument("--results", metavar="DIR", type=path_arg,
                   help="where the JSON goes (default: bench/results for a full run, none for --quick)")


def cmd_predict(args) -> int:
    from . import files, predict
    from .preprocess_pool import Preprocessor

    if not 1 <= args.top_k <= 10:
        raise UserError(f"--top-k: expected a whole number from 1 to 10, found {args.top_k}")
    images, missing = predict.find_images(args.paths)
    for path, why in missing:
        print(f"{PROG}: {shown(path)}: {why}", file=sys.stderr)
    if not images and not (args.json or args.csv):
        if missing:  # each said why in its own line
            return 1
        raise UserError("no images to predict", exit_code=1)
    save = Path(args.save_preprocessed) if args.save_preprocessed else None
    if save is not None:
        files.make_dir(save, "save_preprocessed")
    started = time.perf_counter()  # the progress line's rate counts the pool's start and the model's load too
    results, failed = [], 0
    with Preprocessor(len(images)) as pool:
        read = pool.map(images)  # the workers read while the model loads
        # With workers reading the files, one runtime thread: a runtime's own pool would spin between batches on
        # the cores the workers need (ONNX Runtime's cost the folder of 2,000 PNGs ~15% of its rate).
        if images:
            predictor = predict.Predictor(args.model, args.out, runtime=args.runtime,
                                          threads=1 if pool.workers else None, report=warn)
            rule_note(predictor, args.model)
            results, failed = _predict_all(predictor, images, read, save, args, started)
    # --json and --csv answer for every path given: one that named nothing readable too (its line is on stderr)
    results = [predict.Prediction(path, error=f"{path}: {why}") for path, why in missing] + results
    if out := _format_predictions(results, args):
        print_results(out)
    number_note(results)
    return 1 if failed or missing else 0


NOTE_CHECKS = 20  # refused pictures looked at again for number_note: a folder of scribbles costs no more than this


def number_note(results) -> None:
    """One line on stderr naming refused pictures that hold several digit-sized marks in a row: a number, which
    `predict` (one digit a picture) answers "not a digit" and `read` reads."""
    from . import images, segment

    rows = []
    for r in [r for r in results if r.rejected and r.path != "-"][:NOTE_CHECKS]:
        try:
            if segment.several_digits(images.ink_map(images.load_grey(r.path, max_side=images.MAX_SIDE))):
                rows.append(shown(r.path))
        except UserError:  # the file changed since it was read: its answer stands, no note
            continue
    if rows:
        names = ", ".join(rows[:3]) + (f" and {len(rows) - 3} more" if len(rows) > 3 else "")
        print(f"{PROG}: note: {names}: several marks side by side, not one digit; `mnist-cnn read` reads numbers",
              file=sys.stderr)


def _predict_all(predictor, images, read, save, args, started) -> tuple[list, int]:
    """(predictions, how many files failed), with a progress line on stderr for more than one batch."""
    from . import predict

    results, failed = [], 0
    with Progress(on=len(images) > predict.BATCH) as progress:
        for r in predict.predict_files(predictor, images, top_k=args.top_k, save_preprocessed=save, read=read):
            results.append(r)
            if r.failed:
                failed += 1
                progress.say(f"{PROG}: {shown(r.error)}")
            if len(results) % predict.BATCH == 0 or len(results) == len(images):
                rate = len(results) / (time.perf_counter() - started)
                progress.show(f"{len(results)}/{len(images)} images ({rate:.0f} images/s)")
    return results, failed


def _format_predictions(results, args) -> str:
    from .refusal import NOT_A_DIGIT

    if args.json:
        return json_text([r.to_dict() for r in results])
    if args.csv:
        rows = [("path", "digit", "confidence", "top_k", "rejected", "message", "error")]
        for r in results:
            d = r.to_dict()
            rows.append((r.path, "" if r.digit is None else r.digit,
                         "" if r.confidence is None else f"{r.confidence:.4f}",
                         " ".join(f"{d}:{p:.4f}" for d, p in r.top_k), str(r.rejected).lower(), d["message"] or "",
                         d["error"] or ""))
        return csv_text(rows)
    rows = [("path", "digit", "confidence", f"top-{args.top_k}")]
    for r in results:
        if r.failed:
            continue
        if r.rejected:
            # no confidence: beside "not a digit" the top digit's would read as sure it is none; top-k still shows it
            rows.append((r.path, NOT_A_DIGIT, "-", "  ".join(f"{d} {p:.1%}" for d, p in r.top_k)))
        elif r.digit is None:
            rows.append((r.path, "-", "-", r.error))
        else:
            rows.append((r.path, str(r.digit), f"{r.confidence:.1%}", "  ".join(f"{d} {p:.1%}" for d, p in r.top_k)))
    return table(rows) if len(rows) > 1 else ""  # every file failed: their lines on stderr say it all


def cmd_serve(args) -> int:
    from . import serve

    return serve.run(args.model, host=args.host, port=args.port, out=args.out, allow_hosts=args.allow_host,
                     cors_origins=args.cors_origin, feedback_dir=args.feedback_dir, no_feedback=args.no_feedback,
                     workers=args.workers, runtime=args.runtime)


def cmd_bench(args) -> int:
    from . import bench, data

    if args.seeds and args.seed is not None:
        raise UserError("--seed and --seeds: give one")
    data.ensure_dataset(args.dataset, args.data_dir, report=stderr_report)
    results = []
    for seed in args.seeds or [DEFAULTS.seed if args.seed is None else args.seed]:
        results.append(bench.run(args.only, args.quick, seed, args.dataset, args.data_dir, report=stderr_report,
                                 keep_runs=args.keep_runs, results_dir=args.results))
        print(bench.markdown(results[-1]) + "\n", flush=True)
    if len(results) > 1:
        print(bench.seeds_markdown(results))
    return 0


COMMANDS = {"predict": cmd_predict, "serve": cmd_serve, "bench": cmd_bench}
