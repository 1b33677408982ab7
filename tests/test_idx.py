"""The strict IDX reader: every malformed file is one UserError naming the file, expected and found."""

import gzip

import numpy as np
import pytest
from idx_files import idx_bytes, write_files

from mnist_cnn.errors import UserError
from mnist_cnn.idx import parse_idx, read_idx


def test_reads_raw_and_gzipped_idx(tmp_path, synthetic):
    write_files(tmp_path / "raw", synthetic)
    write_files(tmp_path / "gz", synthetic, gz=True)
    a = read_idx(tmp_path / "raw" / "train-images-idx3-ubyte", (50, 28, 28))
    b = read_idx(tmp_path / "gz" / "train-images-idx3-ubyte.gz", (50, 28, 28))
    assert a.dtype == np.uint8 and a.shape == (50, 28, 28)
    np.testing.assert_array_equal(a, b)


def test_parse_idx_decodes_big_endian_types():
    values = np.array([[1, -2, 300]], dtype=">i4")
    out = parse_idx(idx_bytes(values, code=0x0C), "ints")
    assert out.shape == (1, 3) and out.tolist() == [[1, -2, 300]]


def test_bad_magic_names_file_and_bytes(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x12\x34\x08\x01" + b"\x00\x00\x00\x01" + b"\x05")
    with pytest.raises(UserError, match=r"bad.*magic.*0x12 0x34"):
        read_idx(p)


def test_unknown_element_type(tmp_path):
    p = tmp_path / "t"
    p.write_bytes(bytes([0, 0, 0x07, 1]) + b"\x00\x00\x00\x01" + b"\x05")
    with pytest.raises(UserError, match="element type 0x07"):
        read_idx(p)


def test_wrong_dimensions_are_reported(tmp_path):
    p = tmp_path / "labels-as-images"
    p.write_bytes(idx_bytes(np.zeros((10,), np.uint8)))
    with pytest.raises(UserError, match=r"labels-as-images: expected shape \(10, 28, 28\), found \(10,\)"):
        read_idx(p, (10, 28, 28))


def test_truncated_payload(tmp_path):
    p = tmp_path / "short.gz"
    p.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-100]))
    with pytest.raises(UserError,
                       match=r"short.gz: payload size mismatch: dimensions 3x28x28 need 2352 bytes, found 2252"):
        read_idx(p)


def test_header_shorter_than_declared_dims(tmp_path):
    p = tmp_path / "h"
    p.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(UserError, match="3 dimensions"):
        read_idx(p)


def test_non_uint8_is_refused(tmp_path):
    p = tmp_path / "ints"
    p.write_bytes(idx_bytes(np.zeros((2,), ">i4"), code=0x0C))
    with pytest.raises(UserError, match="expected unsigned bytes"):
        read_idx(p)


def test_corrupt_gzip_is_one_line(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(b"not gzip at all")
    with pytest.raises(UserError, match="x.gz: cannot read"):
        read_idx(p)


def test_corrupt_deflate_data_inside_a_gzip_is_one_line(tmp_path):
    """A valid gzip header over garbled compressed bytes (zlib.error, not OSError) is a UserError too."""
    good = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8) % 7))
    p = tmp_path / "garbled.gz"
    p.write_bytes(good[:20] + bytes(b ^ 0x55 for b in good[20:40]) + good[40:])
    with pytest.raises(UserError, match="garbled.gz: cannot read"):
        read_idx(p)
