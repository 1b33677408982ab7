"""A static draw-a-digit page that runs the model in the browser: no server, no Python, no TensorFlow.

    mnist-cnn export runs/NAME --format web [--out DIR]       # default: runs/NAME/exports/web
    python -m http.server -d DIR 8000                        # or any static host; open http://localhost:8000

    from mnist_cnn.web_export import export_web
    folder = export_web("runs/NAME", "site/")                 # -> Path("site")

The folder holds the page (web/index.html, web/web.js and the server page's pad.js and style.css), the model as
ONNX (exported and checked on the test set exactly as `--format onnx`, its check beside it), the
run's "not a digit" gate and refusal rule when it has them (gate.py, refusal.py), and ONNX Runtime
Web's WebAssembly build from its npm package (pinned by SHA-256, fetched once into the data folder's
cache with `npm pack`). web.js does predict's preprocessing of a drawing (images.to_mnist's steps that a
clean drawing reaches) and the rule's decision in JavaScript; tests/test_web_export.py checks in
Chromium that its 28x28 image, probabilities and refusals agree with Python's on the same drawings.
Browsers refuse to start WebAssembly from file:// pages, so the folder needs some static web server.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from . import data, fetch, files
from .console import Report, quiet
from .errors import ConfigError, UserError
from .refusal import RULE_FILE, Rule, run_folder_of

ORT_WEB = "onnxruntime-web@1.30.0"  # the npm package: MIT licensed; its WebAssembly CPU build only
ORT_FILES = {  # dist/ file -> SHA-256: the loader, its module glue and the SIMD WebAssembly (14 MB)
    "ort.wasm.min.js": "faece07e84faa9001f5104bbe4e5c70861d06cb2376a0dea1fa0ad33a67adc81",
    "ort-wasm-simd-threaded.mjs": "e13f7f94fc51b4ca72b12faeb1ee95f4ace6dfbc8939bc718aabdc0a27c4299b",
    "ort-wasm-simd-threaded.wasm": "3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2",
}
PAGE_FILES = {"web": ("index.html", "web.js"),
              "static": ("pad.js", "style.css", "favicon.svg")}  # package folder -> files
MODEL, GATE, RULE = "model.onnx", "notdigit.onnx", "rule.json"  # the names web.js loads


def ort_web(data_dir: str | os.PathLike | None = None, report: Report = quiet) -> Path:
    """The folder holding ORT_FILES, verified; fetched with `npm pack` into the data folder's cache first."""
    folder = Path(data_dir or data.default_data_dir()) / ORT_WEB.replace("@", "-")

    def load(where: Path, rep: Report):
        return where if all(fetch.verified(where, n, d, rep) for n, d in ORT_FILES.items()) else None

    return fetch.ensure(folder, ORT_FILES, [fetch.NpmPackage(ORT_WEB, subdir="package/dist")], load,
                        "ONNX Runtime Web", ", ".join(ORT_FILES) + f" from the npm package {ORT_WEB}", report)


def export_web(source: str | os.PathLike, out: str | os.PathLike | None = None,
               data_dir: str | os.PathLike | None = None, report: Report = quiet) -> Path:
    """Write the page for the run folder or .keras file `source` into `out` (replaced whole); return it."""
    from . import export
    from .models import model_path

    keras_file = model_path(source)
    run = run_folder_of(keras_file)
    dest = Path(os.path.abspath(out)) if out else run / "exports" / "web"  # absolute: "." has no name to rename by
    if dest.exists() and not dest.is_dir():
        raise UserError(f"{dest}: expected a folder for the web page, found a file")
    if dest == Path.cwd():
        raise ConfigError("out", "the page's folder is replaced whole, the current folder too; name a folder in it")
    if dest.is_dir() and (names := set(os.listdir(dest))) and not _is_page(names):
        others = sorted(names - _page_files()) or sorted(names)
        listed = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise ConfigError("out", f"{dest} holds other files ({listed}); expected a new folder or an earlier web "
                                 f"export, which is replaced whole")
    export.require_exporter("onnx", "exporting the web page")  # before fetching onnxruntime-web for it
    runtime_dir = ort_web(data_dir, report)
    files.make_dir(dest.parent, "out")
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    os.chmod(work, 0o755)  # mkdtemp's 0700 would hide the page from a web server running as another user
    try:
        result = export.export(keras_file, "onnx", out=work / MODEL, data_dir=data_dir, report=report)
        rule = _gate(run, work, report)
        files.write_json(work / RULE, {**rule.to_dict(), "model": _model_name(run, keras_file),
                                       "test_accuracy": result.check.get("test_accuracy")})
        for name in ORT_FILES:
            shutil.copyfile(runtime_dir / name, work / name)
        for package, names in PAGE_FILES.items():
            for name in names:
                (work / name).write_bytes(resources.files("mnist_cnn").joinpath(package, name).read_bytes())
        export._replace(work, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def _page_files() -> set[str]:
    """The names export_web writes into its folder."""
    from .export import check_path

    return {MODEL, check_path(Path(MODEL)).name, GATE, RULE, *ORT_FILES,
            *(name for group in PAGE_FILES.values() for name in group)}


def _is_page(names: set[str]) -> bool:
    """Whether a folder's file names are an earlier page's, to replace: its model, check and rule, and nothing else (a
    user's own site may hold an index.html too)."""
    from .export import check_path

    return {MODEL, check_path(Path(MODEL)).name, RULE} <= names <= _page_files()


def _gate(run: Path, work: Path, report: Report) -> Rule:
    """The run's refusal rule, with its gate exported as ONNX into `work` when the rule uses one."""
    from .gate import gate_paths, write_gate

    rule = Rule.read(run / RULE_FILE) if (run / RULE_FILE).is_file() else Rule()
    if rule.gate_threshold is not None:
        if not gate_paths(run)["keras"].is_file():
            raise UserError(f"{run / RULE_FILE}: its rule uses the \"not a digit\" gate, but "
                            f"{gate_paths(run)['keras']} is missing; refit both with: mnist-cnn calibrate {run}")
        report("Exporting the \"not a digit\" gate")
        write_gate(run, "onnx", work / GATE)
    return rule


def _model_name(run: Path, keras_file: Path) -> str:
    try:
        config = json.loads((run / "config.json").read_text())
        return f"{config.get('model', '?')} ({run.name})"
    except (OSError, ValueError):
        return keras_file.stem
