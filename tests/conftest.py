"""Shared fixtures: synthetic IDX files (with their hashes pinned for the test) and the real MNIST cache."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
from contextlib import contextmanager

import numpy as np
import pytest

from idx_files import idx_bytes
from mnist_cnn import data


@pytest.fixture
def synthetic(monkeypatch):
    """Tiny MNIST-shaped IDX files as bytes, pinned (for this test) as every data set's files.

    Returns {file name: raw IDX bytes}: 50 training and 20 test images, labels 0..9 cycling.
    """
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(50) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(20) % 10).astype(np.uint8),
    }
    raw = {name: idx_bytes(a) for name, a in arrays.items()}
    pins = {n: hashlib.sha256(b).hexdigest() for n, b in raw.items()}
    for name, ds in list(data.DATASETS.items()):
        monkeypatch.setitem(data.DATASETS, name, dataclasses.replace(ds, sha256=pins))
    return raw


@pytest.fixture(autouse=True)
def no_bundled_reader(request, monkeypatch):
    """In this process, no package line reader (bundled.py) for runs without their own, unless the test is marked
    bundled_reader: the tests of read.py's cuts and of a run's own reader mean a run without one. Subprocesses (the
    CLI, servers, the browser's page) use it, as a user's do."""
    if "bundled_reader" not in request.keywords:
        from mnist_cnn import bundled

        monkeypatch.setattr(bundled, "available", lambda: False)


@pytest.fixture(scope="session")
def mnist_dir():
    """The real, verified MNIST (default cache; `make test` fetches it first)."""
    return data.ensure_mnist(report=print)


def shared_folder(tmp_path_factory):
    """The session's temporary folder; under pytest-xdist, the one every worker's folder is in."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def exclusive(path):
    """Holds an exclusive lock on the file `path` (created if missing): one xdist worker at a time."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, mnist_dir):
    """A small seed-model run folder (12,000 images, 2 epochs: ~97% accurate), trained once per test run: the
    first xdist worker to need it trains it, the others wait for it (tests copy it before changing it)."""
    from mnist_cnn.config import TrainConfig as Config
    from mnist_cnn.rundir import RunDir
    from mnist_cnn.train import train

    shared = shared_folder(tmp_path_factory)
    run = shared / "trained_run" / "small"
    with exclusive(shared / "trained_run.lock"):
        if RunDir(run).metrics() is None:
            cfg = Config(out=str(run.parent), name=run.name, limit=12000, epochs=2, data_dir=str(mnist_dir))
            assert train(cfg, verbose=0).run_dir == run
    return run


# Test files by their measured time, longest first (pytest --durations, class C): `make test` runs the files on
# pytest-xdist workers in this order (--dist loadfile --no-loadscope-reorder), so that no long file starts
# last while the other workers sit idle. A file missing here runs after these, in the usual order.
LONGEST_FIRST = ("test_sweep.py", "test_bench.py", "test_train.py", "test_refusal.py", "test_rundir.py", "test_cli.py",
                 "test_distribute.py", "test_line_reader.py", "test_export.py", "test_web_export.py", "test_read.py",
                 "test_serve.py", "test_predict.py", "test_lattice.py", "test_serve_throughput.py", "test_hardware.py",
                 "test_extra_data.py", "test_preprocess_pool.py", "test_feedback.py")


def pytest_collection_modifyitems(items):
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file's tests keep their order
