"""Synthetic IDX files for the reader and fetcher tests: encode arrays, write them raw or gzipped."""

import gzip
import struct

import numpy as np


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """Encode an array as IDX: two zero bytes, the element-type code, ndim, big-endian dims, payload."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.tobytes()


def write_files(folder, raw: dict, gz: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, b in raw.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(b))
        else:
            (folder / name).write_bytes(b)
