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


def test_missing_names_the_extra_only_for_a_package_that_is_not_installed(monkeypatch):
    error = ModuleNotFoundError("No module named 'tensorflow.python'", name="tensorflow.python")
    assert extras.missing(error, "x") is None  # installed, but not whole (versions that do not match): a traceback
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    assert extras.missing(error, "`mnist-cnn bench`") == ("`mnist-cnn bench` needs the Python package tensorflow-cpu, "
                                                          "which is not installed; install it with: "
                                                          "pip install 'mnist-cnn[train]'")
    assert extras.missing(ModuleNotFoundError("No module named 'h5py'", name="h5py"), "x") is None  # no extra of ours


def test_check_names_only_the_missing_packages_and_every_extra_they_need(monkeypatch):
    extras.check(extras.TRAIN, "x")  # all installed here: nothing to say
    monkeypatch.setitem(sys.modules, "keras", None)
    monkeypatch.setitem(sys.modules, "scipy", None)
    with pytest.raises(UserError) as e:
        extras.check(extras.TRAIN, "`mnist-cnn bench`")
    assert str(e.value) == ("`mnist-cnn bench` needs the Python packages keras, scipy, which are not installed; "
                            "install them with: pip install 'mnist-cnn[train]'")
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(UserError, match=r"packages optuna, keras, scipy, .*: pip install 'mnist-cnn\[sweep,train\]'$"):
        extras.check(("optuna", *extras.TRAIN), "a sweep")
