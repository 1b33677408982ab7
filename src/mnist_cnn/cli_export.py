"""The command line's `export`: a trained model as a checked SavedModel, ONNX or LiteRT file, or a web page.

    mnist-cnn export runs/NAME --format onnx|litert|savedmodel [--int8] [--out PATH]
    mnist-cnn export runs/NAME --format web [--out DIR]      # a static page running it in the browser
"""

from __future__ import annotations

from .config import TrainConfig
from .console import shown, stderr_report
from .errors import UserError

DEFAULTS = TrainConfig()
# export.FORMATS + web, named here: --help imports no TensorFlow
FORMAT_CHOICES = ("savedmodel", "onnx", "litert", "web")


def add_commands(sub) -> None:
    from .cli_args import path_arg

    p = sub.add_parser("export", help="export a model to SavedModel, ONNX or LiteRT, checked on the test set",
                       description="Export a trained model for another runtime and check it: the 10,000 test images "
                                   "go through the exported file in its own runtime and must give the Keras model's "
                                   "digit on >= 99.99% of them (int8: test accuracy within 0.1 point of the float "
                                   "model's). The figures are saved next to it as FILE.check.json; a failed check "
                                   "keeps nothing and exits 1.")
    p.add_argument("model", metavar="RUN_DIR|MODEL.keras", type=path_arg, help="the trained model")
    p.add_argument("--format", required=True, metavar="{" + ",".join(FORMAT_CHOICES) + "}", type=path_arg,
                   help="savedmodel (TensorFlow), onnx (ONNX Runtime), litert (.tflite), or web: a static page that "
                        "runs the checked ONNX model in the browser (ONNX Runtime Web)")
    p.add_argument("--int8", action="store_true",
                   help="quantize to int8 after training, calibrated on 500 training images (onnx, litert; "
                        "default: float32)")
    p.add_argument("--out", metavar="PATH", type=path_arg,
                   help="where to write it (default: RUN_DIR/exports/model[.int8].onnx|.tflite|.savedmodel, or "
                        "beside MODEL.keras; web: RUN_DIR/exports/web)")
    p.add_argument("--data-dir", metavar="DIR", type=path_arg,
                   help="data folder (default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")


def cmd_export(args) -> int:
    from . import export

    if args.format not in FORMAT_CHOICES:
        raise UserError(f"--format: expected one of {', '.join(FORMAT_CHOICES)}, found {args.format!r}")
    if args.format == "web":
        return _export_web(args)
    result = export.export(args.model, args.format, int8=args.int8, out=args.out, data_dir=args.data_dir,
                           report=stderr_report)
    print(export.summary(result))
    _export_gate(args, result.path)
    _export_reader(args, result.path)
    return 0


def _export_gate(args, written) -> None:
    """A run's "not a digit" gates (gate.py: the gate, the piece gate) go with its model into the runtime it is
    exported for, in the run's exports/; written elsewhere, a note says the run's refusal rule stays behind."""
    from .gate import PIECE_STEM, export_gate, gate_paths
    from .models import model_path
    from .refusal import RULE_FILE, run_folder_of

    source = run_folder_of(model_path(args.model))
    if run_folder_of(written).resolve() != source.resolve():  # predict finds a run's rule from its export's place
        if (source / RULE_FILE).is_file():
            stderr_report(f"mnist-cnn: note: the refusal rule (honest confidence, \"not a digit\") stays in "
                          f"{shown(source)}: --model {shown(source)} uses it; {shown(written.name)} alone answers "
                          f"every picture with a digit")
        return
    if args.format in ("onnx", "litert") and gate_paths(source)["keras"].is_file() and written.parent.name == "exports":
        for path in export_gate(source, [args.format]):
            print(f"and its \"not a digit\" {'piece ' if PIECE_STEM in path.name else ''}gate: {shown(path)}")


def _export_reader(args, written) -> None:
    """A run's line reader (line_reader.py) goes with its model to ONNX: `read` uses it in either export's runtime."""
    from .line_fit import export_onnx
    from .refusal import run_folder_of
    from .rundir import RunDir

    from .extras import importable

    run = run_folder_of(written)
    if args.format in ("onnx", "litert") and RunDir(run).line_reader().is_file() and written.parent.name == "exports" \
            and importable("tf2onnx"):
        print(f"and its line reader: {shown(export_onnx(run))}")


COMMANDS = {"export": cmd_export}


def _export_web(args) -> int:
    from .web_export import export_web

    if args.int8:
        raise UserError("--int8: the web page runs the float32 ONNX model; leave --int8 out with --format web")
    folder = export_web(args.model, args.out, data_dir=args.data_dir, report=stderr_report)
    print(f"{shown(folder)}: the page, model.onnx (checked: model.onnx.check.json) and ONNX Runtime Web")
    print(f"open it through any static web server, e.g.: python -m http.server -d {shown(folder)} 8000")
    return 0
