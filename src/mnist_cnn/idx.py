"""The IDX file format (MNIST's and Fashion-MNIST's): a strict reader.

    from mnist_cnn.idx import read_idx, parse_idx, read_bytes
    x = read_idx("train-images-idx3-ubyte.gz", (60000, 28, 28))   # uint8, read-only
    y = parse_idx(raw_bytes, "labels")                             # any IDX element type

An IDX file is two zero bytes, an element-type code, the number of dimensions, each dimension as
a big-endian 32-bit count, then the payload. Every check failure is a one-line `UserError` that
names the file, what was expected and what was found; a name ending in .gz is read gunzipped.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from .errors import UserError

# Element-type code -> numpy dtype, from the format's definition (multi-byte types are big-endian).
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


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
    """Read an IDX file of unsigned bytes (raw, or gzipped when its name ends in .gz), read-only.

    expected_shape: when given, any other shape is a UserError.
    """
    path = Path(path)
    array = parse_idx(read_bytes(path), str(path))
    if array.dtype != np.uint8:
        raise UserError(f"{path}: expected unsigned bytes (IDX type 0x08), found {array.dtype}")
    if expected_shape is not None and array.shape != tuple(expected_shape):
        raise UserError(f"{path}: expected shape {tuple(expected_shape)}, found {array.shape}")
    return array


def read_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of path, gunzipped when its name ends in .gz; a read failure is a UserError."""
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise UserError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
