"""Learning from corrections, the training half: `--extra-data` folders, their bad files, and `mnist-cnn finetune`
end to end on a small real run.

    PYTHONPATH=src pytest -q tests/test_extra_data.py
"""

import hashlib
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from mnist_cnn import cli, train
from mnist_cnn.config import TrainConfig as Config
from mnist_cnn.data import load_mnist
from mnist_cnn.errors import ConfigError, UserError
from mnist_cnn.extra_data import load_folder
from mnist_cnn.feedback import FeedbackStore


def save(path, a, fmt="PNG"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(a, np.uint8)).save(path, fmt)
    return path


@pytest.fixture
def folder(tmp_path):
    """3 sevens, 2 threes, 1 'not a digit', a server's unfinished temp file and a README."""
    root = tmp_path / "extra"
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 28, 28))
    for i in range(3):
        save(root / "7" / f"s{i}.png", images[i])
    for i in range(2):
        save(root / "3" / f"t{i}.png", images[3 + i])
    save(root / "not-a-digit" / "n.png", images[5])
    (root / "7" / ".x.png.part.png").write_bytes(b"half")
    (root / "README.md").write_text("my corrections")
    return root, images


def test_the_layout_loads_and_not_a_digit_is_skipped(folder):
    root, images = folder
    extra = load_folder(root)
    assert extra.x.shape == (5, 28, 28) and extra.x.dtype == np.uint8
    assert extra.y.tolist() == [3, 3, 7, 7, 7] and extra.not_digits == 1
    np.testing.assert_array_equal(extra.x[2:], images[:3])  # sorted by folder, then file name
    np.testing.assert_array_equal(extra.x[:2], images[3:5])


def test_a_feedback_folder_is_extra_data(tmp_path):
    store = FeedbackStore(tmp_path / "fb")
    ramp = np.linspace(0, 1, 784).reshape(28, 28)
    store.save(ramp, 2)
    store.save(ramp, "not a digit")
    extra = load_folder(tmp_path / "fb")
    assert extra.y.tolist() == [2] and extra.not_digits == 1
    np.testing.assert_array_equal(extra.x[0], np.round(ramp * 255).astype(np.uint8))


def _bad_cases(root):
    """name: (make the bad thing under root, the path the message names, words in it)"""
    return {
        "wrong size": (lambda: save(root / "7" / "big.png", np.zeros((30, 28))), root / "7" / "big.png",
                       "expected 28x28 pixels, found 28x30"),
        "text named .png": (lambda: (root / "7" / "notes.png").write_text("hello"), root / "7" / "notes.png",
                            "not a PNG image"),
        "JPEG named .png": (lambda: save(root / "7" / "photo.png", np.zeros((28, 28)), "JPEG"),
                            root / "7" / "photo.png", "expected a PNG, found JPEG data"),
        "a .jpg": (lambda: save(root / "7" / "d.jpg", np.zeros((28, 28)), "JPEG"), root / "7" / "d.jpg",
                   "expected a 28x28 PNG, found a .jpg file"),
        "truncated": (lambda: (root / "7" / "cut.png").write_bytes(
            save(root / "cut.tmp", np.arange(784).reshape(28, 28) % 251).read_bytes()[:60]), root / "7" / "cut.png",
            "not a readable PNG"),
        "unknown folder": (lambda: (root / "seven").mkdir(), root / "seven",
                           "expected a label folder named 0-9 or not-a-digit, found 'seven'"),
        "loose PNG": (lambda: save(root / "d.png", np.zeros((28, 28))), root / "d.png", "a PNG outside a label folder"),
        "folder in a label": (lambda: (root / "7" / "more").mkdir(), root / "7" / "more", "found a folder"),
    }


@pytest.mark.parametrize("case", list(_bad_cases(__import__("pathlib").Path("."))))
def test_bad_files_get_one_line_naming_the_file(folder, case):
    root, _ = folder
    make, path, words = _bad_cases(root)[case]
    make()
    (root / "cut.tmp").unlink(missing_ok=True)
    with pytest.raises(UserError) as e:
        load_folder(root)
    message = str(e.value)
    assert message.startswith(f"{path}: ") and words in message and "\n" not in message


def test_empty_or_missing_folders_name_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="extra_data: expected a folder of labelled PNGs, found nothing at"):
        load_folder(tmp_path / "none")
    save(tmp_path / "only" / "not-a-digit" / "n.png", np.zeros((28, 28)))
    with pytest.raises(ConfigError, match=r"no labelled digit PNGs in .*only \(1 'not a digit' images"):
        load_folder(tmp_path / "only")


def test_extra_images_go_to_the_training_split_only(folder, mnist_dir, capsys):
    root, images = folder
    base = Config(data_dir=str(mnist_dir), limit=1000)
    plain = train.prepare(base)
    lines = []
    d = train.prepare(base.replace(extra_data=str(root), extra_repeat=3), report=lines.append)
    assert len(d.x_train) == len(plain.x_train) + 5 * 3 and d.n_extra == 5
    np.testing.assert_array_equal(d.x_val, plain.x_val)  # validation and test are MNIST's, untouched
    np.testing.assert_array_equal(d.x_test, plain.x_test)
    np.testing.assert_array_equal(d.x_train[: len(plain.x_train)], plain.x_train)
    added = d.x_train[len(plain.x_train):, :, :, 0]
    expected = np.repeat(np.concatenate([images[3:5], images[:3]]), 3, axis=0) / np.float32(255)
    np.testing.assert_array_equal(added, expected.astype(np.float32))
    assert d.y_train[len(plain.x_train):].argmax(1).tolist() == [3] * 6 + [7] * 9
    assert lines == [f"extra data: 5 images from {root} (3: 2, 7: 3), each 3x: 15 added to the training split only; "
                     f"1 'not a digit' images skipped (a 10-class model has no such class)"]


def test_train_cli_names_the_bad_file(folder, tmp_path, capsys):
    root, _ = folder
    save(root / "7" / "big.png", np.zeros((14, 14)))
    code = cli.main(["train", "--extra-data", str(root), "--out", str(tmp_path / "runs"), "--limit", "100"])
    err = capsys.readouterr().err
    assert code == 2 and err == f"mnist-cnn: {root / '7' / 'big.png'}: expected 28x28 pixels, found 14x14\n"
    assert not (tmp_path / "runs").exists()  # nothing left behind
    assert cli.main(["train", "--extra-data", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("mnist-cnn: --extra-data: expected a folder, found nothing at")


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_finetune_end_to_end(trained_run, mnist_dir, tmp_path, capsys):
    source = tmp_path / "small"  # a copy without the feedback folder that serving the session's run leaves in it
    shutil.copytree(trained_run, source, ignore=shutil.ignore_patterns("feedback"))
    trained_run = source
    (x, y), _ = load_mnist(mnist_dir)
    extra = tmp_path / "fb"
    for i in np.flatnonzero(y == 7)[:4]:
        save(extra / "7" / f"{i}.png", x[i])
    base = json.loads((trained_run / "metrics.json").read_text())
    model_before = sha256(trained_run / "model.keras")
    code = cli.main(["finetune", str(trained_run), "--extra-data", str(extra), "--epochs", "1", "--extra-repeat", "5",
                     "--out", str(tmp_path / "runs"), "--name", "ft", "--quiet", "--export", "onnx"])
    out = capsys.readouterr().out
    assert code == 0, out
    run = tmp_path / "runs" / "ft"
    cfg, m = json.loads((run / "config.json").read_text()), json.loads((run / "metrics.json").read_text())
    assert cfg["finetuned_from"] == str(trained_run.resolve()) and cfg["extra_data"] == str(extra)
    assert (cfg["epochs"], cfg["learning_rate"], cfg["schedule"], cfg["extra_repeat"]) == (1, 3e-4, "cosine", 5)
    assert (cfg["seed"], cfg["limit"], cfg["validation_split"]) == (42, 12000, 0.2)  # the same validation split
    assert m["n_extra"] == 4 and m["n_train"] == 9600 + 20 and m["n_val"] == 2400 and m["n_test"] == 10000
    # it continued the trained model (one epoch at 3e-4 from fresh weights is far below it) and stayed close to it
    assert abs(m["test_accuracy"] - base["test_accuracy"]) < 0.01
    assert f"Test accuracy: {m['test_accuracy']:.4f} (was {base['test_accuracy']:.4f}" in out
    check = json.loads((run / "exports" / "model.onnx.check.json").read_text())  # --export: checked as train's is
    assert check["passed"] and check["source"] == str(run / "model.keras")
    assert sha256(trained_run / "model.keras") == model_before and not (trained_run / "feedback").exists()

    assert cli.main(["finetune", str(tmp_path), "--extra-data", str(extra)]) == 2
    assert "not a run folder" in capsys.readouterr().err
    (extra / "7" / "bad\nname.png").write_bytes(b"x")  # a file name's newline stays in its one line
    assert cli.main(["finetune", str(trained_run), "--extra-data", str(extra)]) == 2
    assert capsys.readouterr().err.endswith("7/bad\\nname.png: not a PNG image (cannot identify its contents)\n")
    (run / "metrics.json").unlink()
    assert cli.main(["finetune", str(run), "--extra-data", str(extra)]) == 2
    assert "the run is not finished" in capsys.readouterr().err
