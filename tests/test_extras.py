"""extras.py against pyproject.toml (the owner of the extras), and the one line a missing package gives."""

import re
import sys
import tomllib
from pathlib import Path

import pytest

from mnist_cnn import extras
from mnist_cnn.errors import UserError

PROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]


def names(requirements) -> set:
    """The distribution names of requirement strings ("tensorflow-cpu>=2.16,<3" -> "tensorflow-cpu")."""
    return {re.match(r"[A-Za-z0-9_.-]+", r).group().lower() for r in requirements}


def test_each_package_is_in_the_extra_it_names_and_the_base_install_has_no_training_stack():
    extras_of = PROJECT["optional-dependencies"]
    for module, (package, extra) in extras.PACKAGES.items():
        assert package in names(extras_of[extra]), (module, package, extra)
    for extra in ("train", "onnx", "litert", "sweep", "tensorboard"):  # and every package of those extras is named
        assert names(extras_of[extra]) <= {p for p, _ in extras.PACKAGES.values()}, extra
    base = names(PROJECT["dependencies"])
    assert "onnxruntime" in base and not base & {"tensorflow-cpu", "tensorflow", "keras", "matplotlib", "scipy"}
    assert extras_of["dev"][0] == "mnist-cnn[train,tensorboard,onnx,litert,sweep]"  # `make` installs them all


def test_require_names_the_extra_and_keeps_a_broken_install_s_traceback(monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)
    with pytest.raises(UserError) as e:
        extras.require("keras", "training")
    assert str(e.value) == ("training needs the Python package keras, which is not installed; install it with: "
                            "pip install 'mnist-cnn[train]'")
    assert extras.require("json", "x") is sys.modules["json"]

    def broken(name):  # keras installed, one of its own dependencies not: that traceback is the clue
        raise ModuleNotFoundError("No module named 'h5py'", name="h5py")

    monkeypatch.setattr(extras.importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError, match="h5py"):
        extras.require("keras", "training")


def test_missing_names_the_extra_for_a_module_of_its_package_and_nothing_else():
    error = ModuleNotFoundError("No module named 'tensorflow.python'", name="tensorflow.python")
    assert extras.missing(error, "`mnist-cnn bench`") == ("`mnist-cnn bench` needs the Python package tensorflow-cpu, "
                                                          "which is not installed; install it with: "
                                                          "pip install 'mnist-cnn[train]'")
    assert extras.missing(ModuleNotFoundError("No module named 'h5py'", name="h5py"), "x") is None  # no extra of ours
