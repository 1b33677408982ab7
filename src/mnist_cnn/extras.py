"""The optional Python packages, the extra of mnist-cnn that installs each (pyproject.toml), and the one line naming it
when one is missing. `pip install mnist-cnn` alone predicts, reads and serves with an exported model (ONNX Runtime,
no TensorFlow); Keras work (train, evaluate, calibrate, export, bench...) needs the `train` extra.

    from mnist_cnn import extras
    extras.require("tensorflow", "running runs/NAME in Keras")  # or a UserError: "... pip install 'mnist-cnn[train]'"
    extras.missing(error, "train")  # that line for a ModuleNotFoundError of such a package (None for another module)
"""

from __future__ import annotations

import importlib

from .errors import UserError

# module: (the pip package that provides it, the extra that installs it); tests/test_extras.py checks each pair against
# pyproject.toml. onnxruntime is no extra: it comes with the package (exports and the bundled line reader run in it).
PACKAGES = {
    "tensorflow": ("tensorflow-cpu", "train"),
    "keras": ("keras", "train"),
    "matplotlib": ("matplotlib", "train"),  # plots.py: a run's pictures
    "scipy": ("scipy", "train"),  # calibration.py: the temperature's fit
    "tf2onnx": ("tf2onnx", "onnx"),
    "onnx": ("onnx", "onnx"),
    "ai_edge_litert": ("ai-edge-litert", "litert"),
    "tensorboard": ("tensorboard", "tensorboard"),
    "optuna": ("optuna", "sweep"),
    "sqlalchemy": ("sqlalchemy", "sweep"),
    "psycopg": ("psycopg", "sweep"),
}


def line(module: str, what: str) -> str:
    """The one line for `module` missing while doing `what`."""
    package, extra = PACKAGES[module]
    return f"{what} needs the Python package {package}, which is not installed; install it with: " \
           f"pip install 'mnist-cnn[{extra}]'"


def require(module: str, what: str):
    """Import `module` (a key of PACKAGES), or raise a UserError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if missing(e, what) is None:  # another module, missing inside it: a broken install, keep its traceback
            raise
        raise UserError(line(module, what)) from None


def missing(error: ModuleNotFoundError, what: str) -> str | None:
    """line() for the package of PACKAGES whose import failed (or one of its modules'), else None."""
    top = (error.name or "").split(".")[0]
    return line(top, what) if top in PACKAGES else None
