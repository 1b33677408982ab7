"""`mnist-cnn predict` on people-like images made from real MNIST test digits."""

import csv
import errno
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_cnn import cli, imagefile, images, predict, readings, runtime
from mnist_cnn.data import load_mnist
from mnist_cnn.errors import UserError
from mnist_cnn.refusal import Decision

SRC = Path(__file__).resolve().parents[1] / "src"

def as_photo(digit: np.ndarray, rng, size=(400, 300), scale=6) -> Image.Image:
    """A real MNIST digit the way a person might photograph it: dark ink on grey paper, small,
    off-centre, slightly noisy."""
    ink = Image.fromarray(digit).resize((28 * scale, 28 * scale), Image.BILINEAR)
    paper = np.full((size[1], size[0]), 215.0) + rng.normal(0, 6, (size[1], size[0]))
    x0, y0 = rng.integers(0, size[0] - 28 * scale), rng.integers(0, size[1] - 28 * scale)
    patch = paper[y0:y0 + 28 * scale, x0:x0 + 28 * scale]
    paper[y0:y0 + 28 * scale, x0:x0 + 28 * scale] = patch * (1 - np.asarray(ink) / 255 * 0.85)
    return Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def test_digits(mnist_dir):
    (_, _), (x, y) = load_mnist(mnist_dir)
    return x[:150], y[:150]


def test_proper_preprocessing_beats_naive_resize(trained_run, test_digits):
    p = predict.Predictor(trained_run)
    rng = np.random.default_rng(0)
    x, y = test_digits
    photos = [as_photo(d, rng) for d in x]
    proper = np.stack([images.to_mnist(ph) for ph in photos])
    naive = np.stack([images.naive_resize(ph) for ph in photos])
    clean = (p.probabilities(x / 255.0).argmax(1) == y).mean()
    acc_proper = (p.probabilities(proper).argmax(1) == y).mean()
    acc_naive = (p.probabilities(naive).argmax(1) == y).mean()
    assert acc_proper >= clean - 0.05, (acc_proper, clean)
    assert acc_proper >= acc_naive + 0.5, (acc_proper, acc_naive)


def under_a_shade(digit: np.ndarray, edge: int = 150) -> Image.Image:
    """A 320 px photo of an MNIST digit (160 px, dark ink on grey paper) whose left `edge` px lie in a sharp shade
    letting 45% of the light through, blurred a little (a phone's or a hand's shadow)."""
    from PIL import ImageFilter

    ink = np.asarray(Image.fromarray(digit).resize((160, 160), Image.BILINEAR), np.float64) / 255
    paper = np.full((320, 320), 200.0)
    paper[80:240, 80:240] *= 1 - 0.8 * ink
    paper[:, :edge] *= 0.45
    paper += np.random.default_rng(1).normal(0, 5, paper.shape)
    return Image.fromarray(paper.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2))


def test_a_digit_under_a_shadows_sharp_edge_is_read_with_the_shade_for_paper(trained_run, test_digits):
    """The plain reading takes the shade for one huge stroke; images.candidates' second, the picture closed for
    paper, is the digit (readings.choose takes it where the plain one is refused). No shade: one candidate."""
    p = predict.Predictor(trained_run)
    x, y = test_digits[0][:20], test_digits[1][:20]
    found = [images.candidates(under_a_shade(d)) for d in x]
    assert all(len(c) == 3 for c in found)  # plain, closed, median
    right = [sum(c[k] is not None and p.probabilities(c[k][None]).argmax() == t for c, t in zip(found, y))
             for k in (0, 1, 2)]
    assert right[0] <= 5 and right[1] >= 17 and right[2] >= 15, right
    lit = images.candidates(under_a_shade(x[0], edge=0))
    assert len(lit) == 1 and np.array_equal(lit[0], images.to_mnist(under_a_shade(x[0], edge=0)))


def test_predict_and_the_api_answer_a_shaded_digit_with_the_shades_reading(trained_run, test_digits, tmp_path):
    """Through predict_files (and --save-preprocessed) and POST /api/predict, with a model that refuses the plain
    reading (the small test run has no refusal rule of its own): the chosen reading, its answer, the same both ways."""
    import warnings
    from dataclasses import replace

    from mnist_cnn import serve

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    p = predict.Predictor(trained_run)
    x, y = test_digits
    k = next(i for i in range(20) if p.probabilities(images.candidates(under_a_shade(x[i]))[1][None]).argmax() == y[i])
    under_a_shade(x[k]).save(path := tmp_path / "shaded.png")
    xs = images.candidates(imagefile.load_grey(path, max_side=images.MAX_SIDE))
    plain_decide = p.decide
    p.decide = lambda batch: [replace(d, digit=None, rejected=True) if np.array_equal(xi, xs[0]) else d
                              for d, xi in zip(plain_decide(batch), np.asarray(batch).reshape(-1, 28, 28))]
    (saved := tmp_path / "seen").mkdir()
    r = next(predict.predict_files(p, [path], save_preprocessed=saved))
    assert r.digit == y[k] and not r.rejected  # the plain reading refused, a shade's read
    chosen, _ = readings.decide_candidates(p, [xs])[0]
    assert any(np.array_equal(chosen, c) for c in xs[1:])
    assert np.abs(np.asarray(Image.open(next(saved.iterdir())), np.float32) / 255 - chosen).max() <= 0.5 / 255
    with TestClient(serve.create_app(p), base_url="http://127.0.0.1") as client:
        answer = client.post("/api/predict", files={"file": ("shaded.png", path.read_bytes(), "image/png")}).json()
    assert answer["digit"] == y[k] and not answer["rejected"]
    assert np.abs(np.array(answer["input"]) - chosen).max() <= 1e-3


def test_the_shades_reading_answers_only_where_the_plain_one_is_refused_or_less_digit_like():
    """readings.choose: a hand's shadow read with a 1 made it a 6 at 0.98 (the gate 0.77) while the shade's reading
    was a 1 at 0.999 (0.001): a sure shade's reading answers when the plain one is refused or less digit-like."""
    x, y = np.zeros((28, 28), np.float32), np.ones((28, 28), np.float32)

    def decided(rejected, confidence=0.99, not_digit=None):
        return Decision(None if rejected else 3, confidence, rejected, np.full(10, 0.1, np.float32), not_digit)

    assert readings.choose([x], [decided(True)]) == 0  # no shade found
    assert readings.choose([x, None], [decided(True), None]) == 0  # the shade's reading found no ink
    assert readings.choose([None, y], [None, decided(False)]) == 0  # no ink plainly: noise, not a digit under a shade
    assert readings.choose([x, y], [decided(False), decided(False)]) == 0  # the plain reading stands when as good
    assert readings.choose([x, y], [decided(False, 0.98, 0.77), decided(False, 0.999, 0.001)]) == 1  # less digit-like
    assert readings.choose([x, y], [decided(False, 0.996, 0.04), decided(False, 0.986, 0.155)]) == 0  # more
    assert readings.choose([x, y], [decided(False, 0.9, 0.3), decided(False, 0.94, 0.0)]) == 0  # the shade's unsure
    assert readings.choose([x, y], [decided(True), decided(True)]) == 0
    assert readings.choose([x, y], [decided(True), decided(False)]) == 1
    assert readings.choose([x, y], [decided(True), decided(False, not_digit=0.1)]) == 1
    assert readings.choose([x, y], [decided(True), decided(False, confidence=0.9)]) == 0  # a second reading: sure...
    assert readings.choose([x, y], [decided(True), decided(False, not_digit=0.6)]) == 0  # ...and clear of the gate

    class Refuses:  # the model: refuses the plain reading (x), not the shade's (y)
        def decide(self, batch):
            return [decided(bool((b == 0).all())) for b in batch]

    assert readings.choose([x, y, 2 * y], [decided(True), decided(False, 0.96), decided(False, 0.99)]) == 2  # surer
    chosen = readings.decide_candidates(Refuses(), [[x, y], [y], [x, None]])
    assert [(k.max(), d.rejected) for k, d in chosen] == [(1, False), (1, False), (0, True)]
    assert readings.decide_candidates(Refuses(), []) == []
    asked = []

    def again(i):  # images.more_readings of image i
        asked.append(i)
        return [2 * y, None]

    chosen = readings.decide_candidates(Refuses(), [[x], [y], [x, None], [x], [x, x], [x, y]], again)
    assert asked == [0, 2, 3, 4]  # the answer refused (with a shadow's readings too), not an accepted one
    assert [(k.max(), d.rejected) for k, d in chosen] == [(2, False), (1, False), (2, False), (2, False), (2, False),
                                                         (1, False)]


def test_a_second_look_reads_a_dark_digit_with_the_picture_closed_and_its_median_for_paper(test_digits):
    """images.more_readings: the readings with a shade's papers, shadow or not, for dark ink on a photo, and the plain
    paper's with its faint ink cut (images.PALE); none for a drawing on one level (no such paper to take)."""
    x, _ = test_digits
    photo = as_photo(x[0], np.random.default_rng(0))
    plain, found = images.to_mnist(photo), images.more_readings(photo)
    assert len(found) == 3 and all(np.corrcoef(f.ravel(), plain.ravel())[0, 1] > 0.7 for f in found)
    assert images.more_readings(Image.fromarray(x[0])) == []  # white on black: light ink
    assert images.more_readings(Image.fromarray(255 - x[0])) == []  # a drawing: its border on one level


def test_a_second_look_cuts_a_faint_blotch_that_widened_the_digits_box(test_digits):
    """The last of images.more_readings (no fold found) drops the ink apart from the strokes, pieces with nothing of
    PALE of the strongest, and crops again: a faint blotch beside a photographed digit (an eraser's ghost, a hole's
    rim) widened the plain reading's box, and the digit came out small in a corner; without it, it reads as the digit
    alone. Faint ink joined to the strokes stays: the digit alone reads as its plain reading."""
    x, _ = test_digits
    rng = np.random.default_rng(1)
    alone = np.asarray(as_photo(x[0], rng, size=(400, 300)), np.float32)
    blotched = alone.copy()
    blotched[250:280, 350:385] *= 0.8  # a blotch at a fifth of the ink's strength, far from the digit
    clean, picture = (Image.fromarray(a.astype(np.uint8)) for a in (alone, blotched))
    corr = lambda a, b: np.corrcoef(a.ravel(), b.ravel())[0, 1]  # noqa: E731
    assert corr(images.to_mnist(picture), images.to_mnist(clean)) < 0.5
    assert corr(images.more_readings(picture)[-1], images.more_readings(clean)[-1]) > 0.99
    assert np.abs(images.more_readings(clean)[-1] - images.to_mnist(clean)).max() < 0.02


def test_find_images(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    Image.new("L", (5, 5)).save(tmp_path / "a" / "b" / "x.PNG")
    (tmp_path / "a" / "notes.txt").write_text("hi")
    (tmp_path / "empty").mkdir()
    files, errors = predict.find_images([tmp_path / "a", tmp_path / "empty", tmp_path / "nope.png"])
    assert files == [tmp_path / "a" / "b" / "x.PNG"]
    assert [e[0] for e in errors] == [str(tmp_path / "empty"), str(tmp_path / "nope.png")]
    assert "no images in this folder" in errors[0][1] and "no such file" in errors[1][1]


def test_find_images_walks_folders_in_path_order(tmp_path):
    """Path's order (by parts: "a/z.png" before "a-b/..." though "-" sorts before "/"), folders found through a
    symlink neither walked nor taken for files, a symlink to a picture found, "..png" a PNG (Path's suffix)."""
    names = ["a/z.png", "a-b/c.jpg", "a/b/y.png", "a.png", "B/x.png", "a/b-c/w.png", "a/b/c/v.gif", "a/..png"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (5, 5)).save(tmp_path / name, format="GIF" if name.endswith(".gif") else "PNG")
    (tmp_path / "link.png").symlink_to(tmp_path / "a.png")
    (tmp_path / "folder.png").symlink_to(tmp_path / "a", target_is_directory=True)
    found, errors = predict.find_images([tmp_path])
    assert found == sorted(tmp_path / n for n in names + ["link.png"]) and not errors


def test_every_suffix_a_folder_is_searched_for_is_a_format_that_is_read(tmp_path):
    """Each of IMAGE_SUFFIXES, saved by Pillow (HEIF/AVIF as JPEG bytes: their encoders are extras): found in a
    folder and read to the same pixels."""
    a = np.zeros((32, 32), np.uint8)  # an icon's size: .ico keeps it as it is
    a[6:26, 12:16] = 255
    fallback = {".heic": "JPEG", ".heif": "JPEG", ".avif": "JPEG", ".apng": "PNG", ".jp2": "JPEG2000", ".dib": "BMP"}
    for suffix in predict.IMAGE_SUFFIXES:
        Image.fromarray(a).convert("RGB" if suffix == ".qoi" else "L").save(tmp_path / f"x{suffix}",
                                                                             format=fallback.get(suffix))
    found, errors = predict.find_images([tmp_path])
    assert not errors and sorted(p.suffix for p in found) == sorted(predict.IMAGE_SUFFIXES)
    for p in found:
        lossy = p.suffix in (".jpg", ".jpeg", ".jpe", ".jfif", ".heic", ".heif", ".avif", ".jp2", ".webp")
        grey = imagefile.load_grey(p)
        assert np.abs(grey - a / 255).max() <= (0.25 if lossy else 1e-6), p.name


def test_find_images_names_what_it_cannot_read(tmp_path, monkeypatch):
    """A folder it may not list (inside the one given, too), a file under it, a symlink loop, a FIFO: one error
    each naming it, not a traceback, a silent gap or "no such file". Permissions are made by patching os.scandir and
    Path.stat: the tests run as root, who may read anything."""
    photos = tmp_path / "photos"
    (photos / "locked").mkdir(parents=True)
    Image.new("L", (5, 5)).save(photos / "a.png")
    Image.new("L", (5, 5)).save(photos / "locked" / "b.png")
    (tmp_path / "loop.png").symlink_to(tmp_path / "loop.png")
    os.mkfifo(tmp_path / "fifo.png")  # reading it would wait for a writer for ever
    scandir, stat = os.scandir, Path.stat

    def denied(path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(os, "scandir", lambda p=".": denied(p) if Path(p).name == "locked" else scandir(p))
    monkeypatch.setattr(Path, "stat", lambda self, **kw: denied(self) if self.parent.name == "locked" else
                        stat(self, **kw))
    found, errors = predict.find_images([photos, photos / "locked" / "b.png", tmp_path / "loop.png",
                                         tmp_path / "fifo.png"])
    assert found == [photos / "a.png"]
    assert errors[:2] == [(str(photos / "locked"), "cannot read folder (Permission denied)"),
                          (str(photos / "locked" / "b.png"), "cannot read (Permission denied)")]
    assert errors[2][0] == str(tmp_path / "loop.png") and errors[2][1].startswith("cannot read (")
    assert errors[3] == (str(tmp_path / "fifo.png"), "not a regular file (expected an image file or a folder)")
    assert len(errors) == 4


def test_find_images_names_what_it_cannot_read_inside_a_folder(tmp_path):
    """A FIFO or a broken link named like a picture inside a folder is an error naming it, not skipped in silence
    (the FIFO is never opened: that would block); other files are found as ever."""
    Image.new("L", (5, 5)).save(tmp_path / "a.png")
    os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    (tmp_path / "notes.txt").write_text("not a picture")
    found, errors = predict.find_images([tmp_path])
    assert found == [tmp_path / "a.png"]
    assert sorted(errors) == [(str(tmp_path / "fifo.png"), "not a regular file (expected an image file)"),
                              (str(tmp_path / "gone.jpg"), "cannot read (No such file or directory)")]


def test_cli_predicts_good_files_and_names_bad_ones(tmp_path, trained_run, test_digits, capsys):
    rng = np.random.default_rng(1)
    x, y = test_digits
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    as_photo(x[0], rng).save(folder / "a.png")
    as_photo(x[1], rng).convert("RGB").save(folder / "sub" / "b.jpg", quality=85)
    Image.new("L", (300, 200), 230).save(folder / "blank.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (folder / "empty.jpg").write_bytes(b"")
    save = tmp_path / "seen"
    code = cli.main(["predict", str(folder), "--model", str(trained_run), "--json", "--save-preprocessed", str(save)])
    out, err = capsys.readouterr()
    assert code == 1
    results = {r["path"].split("/")[-1]: r for r in json.loads(out)}
    assert results["a.png"]["digit"] == y[0] and results["b.jpg"]["digit"] == y[1]
    assert len(results["a.png"]["top_k"]) == 3 and \
        results["a.png"]["confidence"] == results["a.png"]["top_k"][0]["probability"]
    assert results["blank.png"]["digit"] is None and results["blank.png"]["message"] == "no digit found"
    assert results["blank.png"]["error"] is None and "no digit found" not in err  # an answer, as the API's
    assert "broken.png" in err and "empty.jpg: empty file" in err and "Traceback" not in err
    assert len([l for l in err.splitlines() if l.strip()]) == 2
    seen = sorted(save.iterdir())
    assert len(seen) == 2 and all(Image.open(f).size == (28, 28) for f in seen)


@pytest.fixture
def piped(monkeypatch):
    """pipe(data): standard input becomes a pipe holding data (imagefile reads it once a process: forgotten after)."""
    def pipe(stream):
        imagefile._stdin.cache_clear()
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stream if isinstance(stream, io.BytesIO) else
                                                           io.BytesIO(stream)))
    yield pipe
    imagefile._stdin.cache_clear()


def test_a_dash_reads_one_image_from_standard_input(tmp_path, trained_run, test_digits, piped, capsys):
    x, y = test_digits
    as_photo(x[0], np.random.default_rng(2)).save(tmp_path / "a.png")
    piped((tmp_path / "a.png").read_bytes())
    for command, answer in (("predict", "digit"), ("read", "text")):  # the second reads what the first did
        assert cli.main([command, "-", str(tmp_path / "a.png"), "--model", str(trained_run), "--json"]) == 0
        from_pipe, from_file = json.loads(capsys.readouterr().out)
        assert from_pipe["path"] == "-" and str(from_pipe[answer]) == str(y[0])
        # the same image twice in one batch: equal up to the kernels' rounding, which may differ by row (2e-10 seen
        # after other tests had set the runtime's threads)
        assert _close({**from_pipe, "path": None}, {**from_file, "path": None})


def _close(a, b) -> bool:
    """Two JSON answers alike, numbers within 1e-6."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_close, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6
    return a == b


def test_json_and_csv_answer_for_a_path_that_names_nothing_readable(tmp_path, trained_run, test_digits, capsys):
    """One object (row) for every path given, as for a file that is no image: a script can match them up."""
    as_photo(test_digits[0][0], np.random.default_rng(3)).save(tmp_path / "a.png")
    given = [str(tmp_path / "a.png"), str(tmp_path / "nope.png")]
    for command in ("predict", "read"):
        assert cli.main([command, *given, "--model", str(trained_run), "--json"]) == 1
        out, err = capsys.readouterr()
        by_path = {r["path"]: r for r in json.loads(out)}
        assert set(by_path) == set(given) and by_path[given[0]]["error"] is None
        assert by_path[given[1]]["error"] == f"{given[1]}: no such file or folder"
        assert err == f"mnist-cnn: {given[1]}: no such file or folder\n"
    assert cli.main(["predict", *given, "--model", str(trained_run), "--csv"]) == 1
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["error"] for r in rows if r["path"] == given[1]] == [f"{given[1]}: no such file or folder"]
    for command in ("predict", "read"):  # nothing readable at all: still one object, and no model loaded
        assert cli.main([command, given[1], "--model", str(tmp_path / "no-model"), "--json"]) == 1
        assert [r["error"] for r in json.loads(capsys.readouterr().out)] == [f"{given[1]}: no such file or folder"]


def test_standard_input_without_an_image_is_named(trained_run, piped, capsys):
    class Terminal(io.BytesIO):
        def isatty(self):
            return True

    for stream, said in ((b"", "standard input: empty file (0 bytes)"),
                         (b"hello", "standard input: not an image Pillow can read (cannot identify image file)"),
                         (Terminal(), "standard input: expected an image piped in (e.g. `mnist-cnn predict - < "
                                      "digit.png`), found a terminal")):
        piped(stream)
        assert cli.main(["predict", "-", "--model", str(trained_run)]) == 1
        assert capsys.readouterr().err == f"mnist-cnn: {said}\n"


def test_predict_names_refused_pictures_that_hold_a_number_for_read(tmp_path, trained_run, test_digits, monkeypatch,
                                                                     capsys):
    """A refused picture of two digits side by side gets one line on stderr pointing at `read`; a refused single
    digit does not, nor does the picture when it is answered."""
    from dataclasses import replace

    x, _ = test_digits
    Image.fromarray(255 - np.hstack([x[0], x[1]])).resize((280, 140)).save(tmp_path / "number.png")
    Image.fromarray(255 - x[2]).resize((140, 140)).save(tmp_path / "digit.png")
    given = [str(tmp_path / "number.png"), str(tmp_path / "digit.png"), "--model", str(trained_run)]
    assert cli.main(["predict", *given, "--json"]) == 0
    assert "note" not in capsys.readouterr().err  # answered: nothing to point at
    decide = predict.Predictor.decide
    monkeypatch.setattr(predict.Predictor, "decide", lambda self, batch: [
        replace(d, digit=None, rejected=True) for d in decide(self, batch)])
    assert cli.main(["predict", *given]) == 0
    out, err = capsys.readouterr()
    assert out.count("not a digit") == 2
    assert err == (f"mnist-cnn: note: {tmp_path / 'number.png'}: several marks side by side, not one digit; "
                   "`mnist-cnn read` reads numbers\n")


def test_cli_csv_and_table(tmp_path, trained_run, test_digits, capsys):
    x, y = test_digits
    Image.fromarray(x[2]).save(tmp_path / "mnist_like.png")
    assert cli.main(["predict", str(tmp_path / "mnist_like.png"), "--model", str(trained_run),
                     "--csv", "--top-k", "2"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["digit"] == str(y[2]) and len(rows[0]["top_k"].split()) == 2
    assert cli.main(["predict", str(tmp_path / "mnist_like.png"), "--model", str(trained_run)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["path", "digit", "confidence"] and f"  {y[2]}  " in out
    (tmp_path / "notes.png").write_text("not an image")
    assert cli.main(["predict", str(tmp_path / "notes.png"), "--model", str(trained_run)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "notes.png: not an image" in err  # no empty table when every file failed


def test_default_model_is_the_best_run_or_a_clear_message(tmp_path, trained_run):
    with pytest.raises(UserError, match="no trained model in .*train one first"):
        runtime.resolve_model(None, tmp_path)
    assert runtime.resolve_model(None, trained_run.parent) == trained_run


@pytest.mark.parametrize("command", ["predict", "read"])
def test_a_run_skipped_while_picking_the_default_model_is_one_line_in_the_program_s_name(tmp_path, trained_run,
                                                                                         monkeypatch, capsys, command):
    """The library reports it (resolve_model's `report`); the CLI prints it as its own lines are printed."""
    shutil.copytree(trained_run, tmp_path / "runs" / "good", ignore=shutil.ignore_patterns("feedback"))
    shutil.copytree(trained_run, tmp_path / "runs" / "broken", ignore=shutil.ignore_patterns("feedback"))
    (tmp_path / "runs" / "broken" / "metrics.json").write_text("[1]")
    Image.new("L", (28, 28)).save(tmp_path / "x.png")
    monkeypatch.chdir(tmp_path)
    assert cli.main([command, "x.png", "--json"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "broken" in line]
    assert said == ["mnist-cnn: runs/broken/metrics.json: expected a JSON object, found none (missing, unreadable, "
                    "not JSON, or not an object); run skipped"]


def test_a_picture_given_as_the_model_is_named_with_every_kind_of_model(tmp_path, capsys):
    Image.new("L", (28, 28)).save(tmp_path / "digit.png")
    assert cli.main(["predict", str(tmp_path / "digit.png"), "--model", str(tmp_path / "digit.png")]) == 2
    assert capsys.readouterr().err == f"mnist-cnn: {tmp_path / 'digit.png'}: expected a run folder, a .keras model " \
                                      f"or an export (.onnx or .tflite), found a .png file\n"


@pytest.mark.parametrize("command", ["predict", "read"])
def test_nothing_to_predict_is_one_line_naming_the_path(tmp_path, capsys, command):
    (tmp_path / "empty").mkdir()
    for path, why in ((tmp_path / "empty", "no images in this folder"), (tmp_path / "nowhere.png", "")):
        assert cli.main([command, str(path)]) == 1
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith(f"mnist-cnn: {path}: {why}"), err


def test_predictor_info(trained_run):
    info = predict.Predictor(trained_run).info()
    assert info["parameters"] == 693_962 and info["recipe"] == "seed" and 0.9 < info["test_accuracy"] < 1


def test_file_names_with_control_characters_are_printed_escaped(tmp_path, trained_run, test_digits, capsys):
    x, _ = test_digits
    good = tmp_path / "row\n7\x1b]0;title\x07.png"
    Image.fromarray(x[0]).save(good)
    bad = tmp_path / "bad\x1b[31m.png"
    bad.write_bytes(b"not an image")
    code = cli.main(["predict", str(good), str(bad), "--model", str(trained_run)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "row\\n7\\x1b]0;title\\x07.png" in out and "\x1b" not in out and len(out.strip().splitlines()) == 3
    assert "bad\\x1b[31m.png: not an image Pillow can read" in err and "\x1b" not in err


def test_saved_inputs_of_files_with_long_names_fit_the_file_system(tmp_path, trained_run, test_digits, capsys):
    """--save-preprocessed writes NNNNN_STEM.png: an input name of 226-255 bytes made it (or its temporary name) too
    long, a traceback (ENAMETOOLONG) and no file's result printed. The stem is cut, between characters."""
    x, y = test_digits
    names = ["b" * 251 + ".png", "ü" * 125 + ".png", "a.png"]  # 255, 254 and 5 bytes
    for name, digit in zip(names, x):
        Image.fromarray(digit).save(tmp_path / name)
    save = tmp_path / "seen"
    code = cli.main(["predict", *(str(tmp_path / n) for n in names), "--model", str(trained_run), "--json",
                     "--save-preprocessed", str(save)])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert [r["digit"] for r in json.loads(out)] == list(y[:3])
    seen = sorted(os.listdir(save))
    assert seen == ["00000_" + "b" * 245 + ".png", "00001_" + "ü" * 122 + ".png", "00002_a.png"]  # 255, 254 bytes
    assert all(Image.open(save / n).size == (28, 28) for n in seen)


def test_csv_names_a_file_with_undecodable_bytes_by_its_very_bytes(tmp_path, trained_run, test_digits):
    """A file name is bytes; one that is no UTF-8 reaches Python as surrogate escapes, which a strict UTF-8 stdout (any
    xx_XX.UTF-8 locale) refused with a traceback, every file predicted and nothing printed."""
    x, y = test_digits
    path = tmp_path / os.fsdecode(b"bad\xff.png")
    Image.fromarray(x[0]).save(path)
    done = subprocess.run([sys.executable, "-m", "mnist_cnn", "predict", str(tmp_path), "--model", str(trained_run),
                           "--csv"], env={**os.environ, "PYTHONPATH": str(SRC), "PYTHONIOENCODING": "utf-8:strict"},
                          capture_output=True, timeout=300)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    header, row = done.stdout.splitlines()
    assert header.startswith(b"path,digit,") and row.split(b",")[:2] == [os.fsencode(path), str(y[0]).encode()]


def test_an_error_amid_the_progress_line_starts_a_line_of_its_own(tmp_path, trained_run, test_digits):
    """Past one batch of files a progress line is drawn on stderr (\\r, no newline): a bad file's error line was glued
    onto it ("256/257 images (15 images/s)mnist-cnn: .../zz_notes.png: not an image ...")."""
    x, _ = test_digits
    for i in range(predict.BATCH):
        Image.fromarray(x[i % len(x)]).save(tmp_path / f"{i:03d}.png")
    (tmp_path / "zz_notes.png").write_text("not an image")  # sorted last: its error comes after a progress line
    done = subprocess.run([sys.executable, "-m", "mnist_cnn", "predict", str(tmp_path), "--model", str(trained_run),
                           "--csv"], env={**os.environ, "PYTHONPATH": str(SRC)}, capture_output=True, timeout=300)
    assert done.returncode == 1 and len(done.stdout.splitlines()) == predict.BATCH + 2  # the header, every file
    lines = done.stderr.decode().split("\n")  # bytes, split by hand: text mode and splitlines() end a line at "\r" too
    named = [line for line in lines if "zz_notes.png" in line]
    assert len(named) == 1 and named[0].startswith("mnist-cnn: "), lines
    assert any(line.startswith(f"\r{predict.BATCH + 1}/{predict.BATCH + 1} images") for line in lines), lines


def test_a_large_photo_is_read_reduced_as_the_server_reads_it(tmp_path, test_digits):
    """predict (in this process and in the pool's workers) and serve read an image over images.MAX_SIDE alike:
    reduced to it; a 2400x1800 photo at full size would give a different 28x28."""
    from mnist_cnn import preprocess_pool

    x, _ = test_digits
    path = tmp_path / "big.png"
    as_photo(x[0], np.random.default_rng(3), size=(2400, 1800), scale=40).save(path)
    served = images.to_mnist(images.load_grey(path.read_bytes(), max_side=images.MAX_SIDE))  # prepare()[0]
    assert np.array_equal(predict.preprocess_file(path), served)
    assert np.array_equal(preprocess_pool.read(path)[0], served)
    assert not np.array_equal(images.to_mnist(images.load_grey(path)), served)


def test_the_best_run_without_a_refusal_rule_says_how_to_fit_one(tmp_path, trained_run, test_digits, capsys):
    """A seed job run without --calibrate has no refusal rule: taken as the best run, `predict` and `read` answer
    every picture with a digit, and say so once on stderr with the command that fits one; not for a model named by
    --model."""
    import shutil

    runs = tmp_path / "runs"
    shutil.copytree(trained_run, runs / "seed-1")
    Image.fromarray(test_digits[0][0]).save(tmp_path / "d.png")
    for command in ("predict", "read"):
        assert cli.main([command, str(tmp_path / "d.png"), "--out", str(runs)]) == 0
        err = capsys.readouterr().err
        assert err.count("has no refusal rule") == 1 and "mnist-cnn calibrate " in err and "seed-1" in err
        assert cli.main([command, str(tmp_path / "d.png"), "--model", str(runs / "seed-1")]) == 0
        assert "refusal rule" not in capsys.readouterr().err
    (runs / "seed-1" / "refusal.json").write_text('{"temperature": 1.5, "min_confidence": 0.2}')
    assert cli.main(["predict", str(tmp_path / "d.png"), "--out", str(runs)]) == 0
    assert "refusal rule" not in capsys.readouterr().err
