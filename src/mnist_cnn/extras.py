"""The optional Python packages, the extra of mnist-cnn that installs each (pyproject.toml), and the one line naming it
when one is missing. `pip install mnist-cnn` alone predicts, reads, serves and evaluates with an exported model (ONNX
Runtime, no TensorFlow); Keras work (train, calibrate, export, bench...) needs the `train` extra.

    from mnist_cnn import extras
    extras.require("tensorflow", "running runs/NAME in Keras")  # or a UserError: "... pip install 'mnist-cnn[train]'"
    extras.check(extras.TRAIN, "`mnist-cnn bench`")            # a UserError naming those of them not installed
    extras.missing(error, "`mnist-cnn train`")                 # that line for a ModuleNotFoundError of one (else None)
"""

from __future__ import annotations

import importlib
import importlib.util

from .errors import UserError

# module: (the pip package that provides it, the extra that installs it); tests/test_extras.py checks each pair against
# pyproject.toml. onnxruntime is no extra: it comes with the package (exports and the bundled line reader run in it).
PACKAGES = {
    "tensorflow": ("tensorflow-cpu", "train"),
    "keras": ("keras", "train"),
    "matplotlib": ("matplotlib", "train"),  # plots.py: a run's pictures
    "scipy": ("scipy", "train"),  # calibration.py: the temperature's fit
    "fontTools": ("fonttools", "train"),  # negatives_more.py: which characters a face draws (matplotlib needs it too)
    "tf2onnx": ("tf2onnx", "onnx"),
    "onnx": ("onnx", "onnx"),
    "ai_edge_litert": ("ai-edge-litert", "litert"),
    "tensorboard": ("tensorboard", "tensorboard"),
    "optuna": ("optuna", "sweep"),
    "sqlalchemy": ("sqlalchemy", "sweep"),
    "psycopg": ("psycopg", "sweep"),
}
TRAIN = tuple(module for module, (_, extra) in PACKAGES.items() if extra == "train")  # what Keras work needs


def importable(module: str) -> bool:
    """Whether `module` can be found, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent that fails to import; a module set to None in sys.modules
        return False


def line(modules: str | tuple, what: str) -> str:
    """The one line for `modules` (keys of PACKAGES) while doing `what`: those of them not installed (all of them when
    each is), their packages and the extras that install them."""
    given = (modules,) if isinstance(modules, str) else tuple(modules)
    named = [m for m in given if not importable(m)] or list(given)
    packages, extras = [PACKAGES[m][0] for m in named], ",".join(dict.fromkeys(PACKAGES[m][1] for m in named))
    them = ("s", "are", "them") if len(packages) > 1 else ("", "is", "it")
    return (f"{what} needs the Python package{them[0]} {', '.join(packages)}, which {them[1]} not installed; "
            f"install {them[2]} with: pip install 'mnist-cnn[{extras}]'")


def check(modules: tuple, what: str) -> None:
    """A UserError naming those of `modules` (keys of PACKAGES) not installed, if any (line())."""
    if any(not importable(m) for m in modules):
        raise UserError(line(modules, what))


def require(module: str, what: str):
    """Import `module` (a key of PACKAGES), or raise a UserError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if (said := missing(e, what)) is None:  # another module, missing inside it: a broken install, its traceback
            raise
        raise UserError(said) from None


def missing(error: ModuleNotFoundError, what: str) -> str | None:
    """line() when the package of PACKAGES that `error` failed to import (or one of its modules) is not installed; None
    for another module, or a module missing inside an installed package (versions that do not match: its traceback
    is the clue)."""
    top = (error.name or "").split(".")[0]
    return line(top, what) if top in PACKAGES and not importable(top) else None
