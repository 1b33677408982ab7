"""Tests for the generated evaluation set (evalset.py), its scoring (evalset_score.py) and `mnist-cnn evalset`.

Real MNIST test digits (the session's cache), a few pictures per family; the scoring end to end with the
small trained run of conftest.py.
"""

import csv
import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from mnist_cnn import cli, data, evalset, evalset_render, evalset_score
from mnist_cnn.images import to_mnist

FEW = 3  # pictures per family: every renderer runs, in about a second


@pytest.fixture(scope="module")
def small_set(mnist_dir):
    return evalset.generate(FEW, seed=5, data_dir=mnist_dir)


def test_same_seed_same_pictures_other_seed_others(mnist_dir, small_set):
    images, labels, families = small_set
    again = evalset.generate(FEW, seed=5, data_dir=mnist_dir)
    assert families == again[2] and np.array_equal(labels, again[1])
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(images, again[0]))
    other = evalset.generate(FEW, seed=6, data_dir=mnist_dir)
    assert sum(np.asarray(a).shape == np.asarray(b).shape and np.array_equal(np.asarray(a), np.asarray(b))
               for a, b in zip(images, other[0])) == 0


def test_every_family_and_only_test_digits(mnist_dir, small_set):
    images, labels, families = small_set
    expected = [f for f in evalset.FAMILIES if f != "font" or evalset.fonts()]
    assert list(dict.fromkeys(families)) == expected
    assert all(families.count(f) == FEW for f in expected)
    assert all(im.mode == "F" and min(im.size) >= 8 for im in images)
    # the labels are the picked test digits' labels: re-draw the picks as render() does
    (_, _), (_, y_test) = data.load_mnist(mnist_dir)
    for k, name in enumerate(evalset.FAMILIES):
        if name == "font" or name not in families:
            continue
        picks = np.random.default_rng([5, k]).choice(len(y_test), FEW, replace=False)
        assert list(labels[np.array(families) == name]) == list(y_test[picks])


def test_labels_are_right(small_set):
    # Oracle without a model: each picture, preprocessed, looks more like MNIST test digits of its own label than
    # of any other (nearest class mean of 1,000 real test digits), for most pictures of the clean families.
    images, labels, families = small_set
    (_, _), (x, y) = data.load_mnist()
    x = np.stack([to_mnist(d) for d in x[:1000]])
    means = np.stack([x[y[:1000] == k].mean(0).ravel() for k in range(10)])
    clean = [i for i, f in enumerate(families) if f in ("thick", "colour-ink", "tight-dol-grey", "photo-small")]
    hits = [np.argmax(means @ to_mnist(images[i]).ravel() / np.linalg.norm(means, axis=1)) == labels[i]
            for i in clean]
    assert np.mean(hits) >= 0.75, hits


def test_tight_families_touch_the_border(small_set):
    images, _, families = small_set
    for im, fam in zip(images, families):
        if fam.startswith("tight-") and not fam.endswith("rgba"):
            g = np.asarray(im)
            paper = np.median(g)
            edges = [g[0], g[-1], g[:, 0], g[:, -1]]
            assert sum(np.abs(e - paper).max() > 0.2 for e in edges) >= 1, fam


def test_write_and_read_back(tmp_path, mnist_dir):
    n = evalset.write(tmp_path / "set", 2, seed=1, families=["tight-dol-jpeg", "form-cell"], data_dir=mnist_dir)
    assert n == 4
    rows = list(csv.reader(open(tmp_path / "set" / "labels.csv")))
    assert rows[0] == ["path", "label", "family"] and len(rows) == 5
    assert [r[2] for r in rows[1:]] == ["tight-dol-jpeg"] * 2 + ["form-cell"] * 2
    assert all(r[0].endswith(".jpg") for r in rows[1:3])
    assert Image.open(tmp_path / "set" / rows[1][0]).format == "JPEG"
    images, labels, families = evalset.read(tmp_path / "set")
    mem = evalset.generate(2, seed=1, families=["tight-dol-jpeg", "form-cell"], data_dir=mnist_dir)
    assert families == mem[2] and np.array_equal(labels, mem[1])
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(images, mem[0]))
    digest = lambda: hashlib.sha256(b"".join(p.read_bytes() for p in sorted((tmp_path / "set").rglob("*.*")))).digest()
    first = digest()
    evalset.write(tmp_path / "set", 2, seed=1, families=["tight-dol-jpeg", "form-cell"], data_dir=mnist_dir)
    assert digest() == first  # byte for byte


def test_font_family_skipped_with_a_note_without_fonts(monkeypatch, mnist_dir):
    monkeypatch.setattr(evalset_render, "FONT_FILES", ("/nonexistent/font.ttf",))
    notes = []
    images, labels, families = evalset.generate(2, families=["font", "thick"], report=notes.append,
                                                data_dir=mnist_dir)
    assert families == ["thick", "thick"]
    assert len(notes) == 1 and "font" in notes[0] and "apt-get install" in notes[0]


@pytest.mark.skipif(not evalset.fonts(), reason="no handwriting fonts installed (.ci/run installs them)")
def test_font_family_renders_the_label(mnist_dir):
    images, labels, _ = evalset.generate(20, families=["font"], data_dir=mnist_dir)
    assert set(labels) <= set(range(10)) and len(set(labels)) >= 5
    assert all(to_mnist(im) is not None for im in images)


def test_reference_is_the_plain_recipe():
    digit = np.zeros((60, 40), np.float32)
    digit[10:50, 18:22] = 1  # a white bar on black: polarity from the border, crop, 20 px box, centred
    x = evalset_score.reference(digit)
    rows, cols = np.nonzero(x > 0.5)
    assert x.shape == (28, 28) and np.ptp(rows) + 1 == 20 and \
        abs(rows.mean() - 13.5) <= 1 and abs(cols.mean() - 14) <= 1
    assert np.allclose(evalset_score.reference(1 - digit), x)  # dark on light: the same
    assert evalset_score.reference(np.full((20, 20), 0.5, np.float32)) is None


def test_score_counts_no_digit_as_wrong():
    class Always3:
        def probabilities(self, x):
            return np.tile(np.eye(10, dtype=np.float32)[3], (len(x), 1))

    blank, three = np.zeros((28, 28), np.float32), np.ones((28, 28), np.float32)
    table = evalset_score.score(Always3(), [three, three, blank], [3, 4, 3], ["a", "a", "b"],
                                {"after": lambda im: None if im.max() == 0 else im})
    assert table == {"a": {"after": 0.5, "n": 2}, "b": {"after": 0.0, "n": 1}, "overall": {"after": 1 / 3, "n": 3}}


def test_cli_make_and_score_end_to_end(tmp_path, trained_run, mnist_dir, capsys):
    folder = tmp_path / "set"
    assert cli.main(["evalset", "make", f"{folder}/", "--per-family", "4", "--families", "thick,colour-ink",
                     "--data-dir", str(mnist_dir)]) == 0
    assert capsys.readouterr().out.strip() == f"Wrote 8 pictures and labels.csv to {folder}/"  # one slash, as typed
    assert cli.main(["evalset", "score", str(folder), "--model", str(trained_run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result) == ["thick", "colour-ink", "overall"]
    assert result["overall"]["n"] == 8 and set(result["overall"]) == {"after", "naive", "reference", "n"}
    assert result["overall"]["after"] >= 0.75  # the ~97% small run reads clean pictures; a naive resize does not
    assert result["overall"]["after"] > result["overall"]["naive"]
    assert cli.main(["evalset", "score", str(folder), "--model", str(trained_run)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["family", "n", "after", "naive", "reference"] and "overall" in out


@pytest.mark.parametrize("argv,expected", [
    (["make", "DIR", "--per-family", "0"], "mnist-cnn: --per-family: expected a whole number >= 1, found 0"),
    (["make", "DIR", "--families", "tight,thick"], "mnist-cnn: --families: expected names from tight-dol-grey"),
    (["score", "DIR"], "mnist-cnn: DIR/labels.csv: no such file (expected the labels.csv of `mnist-cnn evalset make`)"),
])
def test_cli_bad_input_is_one_line(tmp_path, capsys, argv, expected):
    argv = [str(tmp_path / "set") if a == "DIR" else a for a in argv]
    assert cli.main(["evalset", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(expected.replace("DIR", str(tmp_path / "set")))


@pytest.mark.parametrize("text,expected", [
    ("path,label\n", "line 1: expected the header path,label,family"),
    ("path,label,family\na.png,x,thick\n", "line 2: expected path,label (a digit 0-9),family, found 'a.png,x,thick'"),
    ("path,label,family\n", "no rows"),
    ("path,label,family\nmissing.png,3,thick\n", "missing.png: no such file"),
])
def test_bad_labels_file_is_one_line(tmp_path, capsys, text, expected):
    (tmp_path / "labels.csv").write_text(text)
    assert cli.main(["evalset", "score", str(tmp_path), "--model", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and expected in err
