"""The line reader and piece gate bundled with the package (bundled.py), which `read` uses for a run without its own.

    PYTHONPATH=src pytest -q tests/test_bundled.py
"""

import shutil

import numpy as np
import pytest

from mnist_cnn import bundled, line_fit, line_reader, predict, read, segment
from mnist_cnn.data import load_mnist
from mnist_cnn.errors import UserError
from mnist_cnn.gate import PIECE_STEM, gate_paths
from mnist_cnn.line_data import Composer
from mnist_cnn.rundir import RunDir, sha256_file

pytestmark = pytest.mark.bundled_reader


def test_the_bundled_files_are_those_their_record_names():
    record = bundled.provenance()
    assert record["sha256"] == {p.name: sha256_file(p) for p in (bundled.READER, bundled.PIECE_GATE)}
    assert record["validation"]["same_text"] == 1.0 and record["validation"]["exact_onnx"] > 0.75
    assert bundled.available()


def test_the_bundled_reader_reads_strings_of_test_digits_it_never_saw(mnist_dir):
    """Strings composed as its training strings were, of MNIST *test* digits (it was fitted on training digits only):
    93.3% read exactly by the bundled reader (300 strings, seed 3; 79.3% with its fonts too)."""
    _, (x, y) = load_mnist(mnist_dir)
    xs, texts = Composer(x, y, [], 3).batch(300, line_fit.WIDTH, line_reader.HEIGHT)
    probs = line_reader.softmax(bundled.reader()._logits(xs[..., None]))
    read_as = [line_reader.decode(p)[0] for p in probs]
    assert np.mean([a == t for a, t in zip(read_as, texts)]) > 0.85


def test_a_run_without_a_reader_reads_touching_digits_with_the_bundled_one(trained_run, mnist_dir, monkeypatch):
    from test_read import glued

    (_, _), (x, y) = load_mnist(mnist_dir)
    image = glued(x[np.flatnonzero(y == 2)[0]], x[np.flatnonzero(y == 0)[0]], overlap=4)
    image = glued((image[20:-20, 20:-20] * 255).astype(np.uint8), x[np.flatnonzero(y == 3)[0]], overlap=4)
    assert len(segment.find(image).groups) == 1  # one wide mark
    p = predict.Predictor(trained_run)
    assert p.line_reader.bundled and p.line_reader.path == bundled.READER
    r = read.read_image(p, image)
    assert r.text == "203" and all(d.line for d in r.digits)
    monkeypatch.setattr(bundled, "available", lambda: False)
    p = predict.Predictor(trained_run)
    assert p.line_reader is None and not any(d.line for d in read.read_image(p, image).digits)


def test_a_runs_own_reader_for_the_runtime_comes_before_the_bundled_one(trained_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    own = RunDir(run).line_reader("onnx")
    own.parent.mkdir(exist_ok=True)
    shutil.copyfile(bundled.READER, own)
    found = line_reader.open_reader(run, "onnx")
    assert not found.bundled and found.path == own
    found = line_reader.open_reader(run, "keras")  # none for Keras: the package's, not cuts
    assert found.bundled and found.path == bundled.READER


def test_the_bundled_reader_brings_the_bundled_piece_gate(trained_run, mnist_dir, tmp_path):
    """A run with a "not a digit" gate judges the bundled reader's pieces with the bundled piece gate, not with a piece
    gate of its own (one fitted beside another reader; here a damaged file never opened): a digit cut from touching
    ones passes, ruled lines do not. Without a gate, the run's rule judges them (None)."""
    _, (x, y) = load_mnist(mnist_dir)
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    assert predict.Predictor(run).piece_not_digit(x[:1] / 255.0) is None
    gate_paths(run, PIECE_STEM)["keras"].write_bytes(b"not a model")
    p = predict.Predictor(run)
    p._gate = lambda batch: np.zeros(len(batch), np.float32)  # as a calibrated run's (fitting one takes minutes)
    lines = np.zeros((28, 28), np.float32)
    lines[4:24:3, 2:26] = 1.0
    found = p.piece_not_digit(np.stack([x[0] / 255.0, x[1] / 255.0, lines]).astype(np.float32))
    assert found[0] < 0.5 and found[1] < 0.5 and found[2] > 0.5


def test_a_damaged_bundled_reader_names_its_file_and_the_remedy(tmp_path, monkeypatch):
    damaged = tmp_path / "linereader.onnx"
    damaged.write_bytes(b"not a model")
    monkeypatch.setattr(bundled, "READER", damaged)
    with pytest.raises(UserError, match=f"{damaged}: not a line reader ONNX Runtime can load .*reinstall mnist-cnn"):
        bundled.reader()
