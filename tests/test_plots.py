import numpy as np
from PIL import Image

from mnist_cnn import plots


def _fake(n=40):
    rng = np.random.default_rng(0)
    x = rng.random((n, 28, 28, 1)).astype(np.float32)
    y = (np.arange(n) % 10).astype(np.uint8)
    p = np.full((n, 10), 0.01, np.float32)
    pred = y.copy()
    pred[::4] = (y[::4] + 1) % 10  # every 4th is a mistake
    p[np.arange(n), pred] = np.linspace(0.5, 0.9, n)
    return x, y, p


def test_seed_pictures_numbered_and_valid(tmp_path):
    x, y, p = _fake()
    written = plots.seed_pictures(tmp_path / "mnist_plots", x, y, p, n=4)
    names = sorted(f.name for f in (tmp_path / "mnist_plots").iterdir())
    assert names == [f"example_{i}.png" for i in range(1, 5)] + [f"misclassified_{i}.png" for i in range(1, 5)]
    for f in written:
        with Image.open(f) as im:
            im.verify()


def test_most_confident_mistakes_come_first():
    x, y, p = _fake()
    correct, wrong = plots.examples_indices(y, p, 3)
    assert all(p[i].argmax() == y[i] for i in correct)
    conf = p[wrong, p[wrong].argmax(1)]
    assert list(conf) == sorted(conf, reverse=True) and all(p[i].argmax() != y[i] for i in wrong)


def test_run_pictures_show_the_class_names(tmp_path):
    x, y, p = _fake()
    history = [{"epoch": e, "loss": 1 / e, "accuracy": 0.9, "val_loss": 1.1 / e, "val_accuracy": 0.88}
               for e in (1, 2, 3)]
    cm = np.zeros((10, 10), int)
    np.add.at(cm, (y, p.argmax(1)), 1)
    (tmp_path / "d").mkdir()
    (tmp_path / "f").mkdir()
    digits = plots.run_pictures(tmp_path / "d", history, {"confusion_matrix": cm.tolist()}, x, y, p)
    assert sorted(f.name for f in (tmp_path / "d").iterdir()) == [
        "confusion_matrix.png", "examples.png", "learning_curves.png", "misclassified.png"]
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    clothes = plots.run_pictures(tmp_path / "f", history, {"confusion_matrix": cm.tolist()}, x, y, p, names)
    for a, b in zip(digits, clothes):
        same = a.name == "learning_curves.png"  # the only picture without class names
        assert (a.read_bytes() == b.read_bytes()) == same, a.name
    assert not list(tmp_path.rglob(".*"))
