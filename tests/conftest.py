"""Shared fixtures: synthetic IDX files (with their hashes pinned for the test) and the real MNIST cache."""

from __future__ import annotations

import dataclasses
import hashlib

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


@pytest.fixture(scope="session")
def mnist_dir():
    """The real, verified MNIST (default cache; `make test` fetches it first)."""
    return data.ensure_mnist(report=print)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, mnist_dir):
    """A small seed-model run folder (12,000 images, 2 epochs: ~97% accurate), trained once per session."""
    from mnist_cnn.config import TrainConfig as Config
    from mnist_cnn.train import train

    out = tmp_path_factory.mktemp("runs")
    return train(Config(out=str(out), name="small", limit=12000, epochs=2, data_dir=str(mnist_dir)), verbose=0).run_dir
