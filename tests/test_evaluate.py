import json
import zipfile

import keras
import numpy as np
import pytest

from mnist_cnn import evaluate, models
from mnist_cnn.models import load_model
from mnist_cnn.errors import UserError


def test_metrics_agree_with_keras_metrics():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 500).astype(np.uint8)
    logits = rng.normal(size=(500, 10)) + 3 * np.eye(10)[y] * (rng.random(500) < 0.7)[:, None]
    p = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
    m = evaluate.metrics(y, p)
    onehot = keras.utils.to_categorical(y, 10)
    acc = keras.metrics.CategoricalAccuracy()
    acc.update_state(onehot, p)
    assert m["test_accuracy"] == pytest.approx(float(acc.result()))
    loss = keras.losses.CategoricalCrossentropy()(onehot, p)
    assert m["test_loss"] == pytest.approx(float(loss), rel=1e-5)
    odd = p.copy()  # a 0 on the true class (Keras clips it to its epsilon) and rows not summing to 1 (int8 exports')
    odd[0] = np.eye(10, dtype=np.float32)[(y[0] + 1) % 10]
    odd[1:50] *= np.float32(0.9)
    keras_loss = float(keras.losses.CategoricalCrossentropy()(onehot, odd))
    assert evaluate.crossentropy(y, odd) == pytest.approx(keras_loss, rel=1e-5) and keras_loss > m["test_loss"] + 0.01
    pred_onehot = keras.utils.to_categorical(p.argmax(1), 10)
    for d in range(10):
        prec, rec = keras.metrics.Precision(class_id=d), keras.metrics.Recall(class_id=d)
        prec.update_state(onehot, pred_onehot)
        rec.update_state(onehot, pred_onehot)
        assert m["per_class"][d]["precision"] == pytest.approx(float(prec.result()), abs=1e-6)
        assert m["per_class"][d]["recall"] == pytest.approx(float(rec.result()), abs=1e-6)
    cm = np.asarray(m["confusion_matrix"])
    import tensorflow as tf
    np.testing.assert_array_equal(cm, tf.math.confusion_matrix(y, p.argmax(1), num_classes=10).numpy())
    assert m["errors"] == int((p.argmax(1) != y).sum())
    top = m["most_confused"][0]
    off = cm - np.diag(np.diag(cm))
    assert top["count"] == off.max() and cm[top["true"], top["predicted"]] == off.max()


def test_report_lists_every_digit_and_pairs():
    y = np.array([0, 1, 2, 2, 3], np.uint8)
    p = np.eye(10, dtype=np.float32)[[0, 1, 2, 7, 3]]
    text = evaluate.format_report(evaluate.metrics(y, p))
    assert "Test accuracy: 0.8000" in text and "2 -> 7: 1" in text
    assert len([l for l in text.splitlines() if l.strip()[:1].isdigit()]) >= 10


def test_bad_model_paths(tmp_path):
    with pytest.raises(UserError, match="no such run folder or model file"):
        load_model(tmp_path / "missing.keras")
    (tmp_path / "run").mkdir()
    with pytest.raises(UserError, match="not a run folder"):
        load_model(tmp_path / "run")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(UserError, match="expected a run folder or a .keras model file"):
        load_model(tmp_path / "notes.txt")
    (tmp_path / "junk.keras").write_bytes(b"\x00" * 100)
    with pytest.raises(UserError, match="junk.keras: not a Keras model file"):
        load_model(tmp_path / "junk.keras")
    with zipfile.ZipFile(tmp_path / "zip.keras", "w") as z:
        z.writestr("config.json", json.dumps({"class_name": "Nope", "config": {}}))
    with pytest.raises(UserError, match="zip.keras: cannot load the Keras model"):
        load_model(tmp_path / "zip.keras")


def test_shift_moves_content_and_fills_with_background():
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    x[:, :2] = x[:, -2:] = x[:, :, :2] = x[:, :, -2:] = 0  # an empty border, as MNIST has: np.roll is then exact
    for dy, dx in [(1, 0), (-1, 0), (0, 2), (-2, -1)]:
        np.testing.assert_array_equal(evaluate.shift(x, dy, dx), np.roll(x, (dy, dx), axis=(1, 2)))
    ones = np.ones((1, 4, 4, 1), np.float32)
    assert evaluate.shift(ones, 0, 1)[0, :, 0, 0].sum() == 0 and evaluate.shift(ones, 0, 1).sum() == 12


def test_tta_averages_the_model_over_the_shifted_images():
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    x = np.random.default_rng(1).random((5, 28, 28, 1)).astype(np.float32)
    x[:, 0] = x[:, -1] = x[:, :, 0] = x[:, :, -1] = 0
    expected = np.mean([model.predict(np.roll(x, s, axis=(1, 2)), verbose=0) for s in evaluate.TTA_SHIFTS], axis=0)
    np.testing.assert_allclose(evaluate.predict_proba(model, x, tta="shifts"), expected, rtol=1e-5)
    np.testing.assert_allclose(evaluate.predict_proba(model, x), model.predict(x, verbose=0), rtol=1e-6)
    assert (0, 0) in evaluate.TTA_SHIFTS and len(set(evaluate.TTA_SHIFTS)) == len(evaluate.TTA_SHIFTS) > 1
    mirror = x[:, :, ::-1].copy()
    mirrored = (expected + np.mean([model.predict(np.roll(mirror, s, axis=(1, 2)), verbose=0)
                                    for s in evaluate.TTA_SHIFTS], axis=0)) / 2
    np.testing.assert_allclose(evaluate.predict_proba(model, x, tta="shifts+mirror"), mirrored, rtol=1e-5)
    assert not np.allclose(mirrored, expected, rtol=1e-3)


def test_a_net_trained_with_flips_is_tested_with_the_shifts_of_it_and_of_its_mirror():
    def net(augment):
        return keras.Sequential([keras.Input((28, 28, 1)), *models._augmentation(augment), keras.layers.Flatten(),
                                 keras.layers.Dense(10, activation="softmax")])

    assert evaluate.tta_kind(net({"shift": 0.05, "flip": 0.5})) == "shifts+mirror"
    assert evaluate.tta_kind(net({"degrees": 10.0, "flip": 0.0})) == evaluate.tta_kind(net({})) == "shifts"


def test_an_export_is_judged_as_a_keras_model_is():
    """evaluate.Exported: Keras' predict() in batches over an export's probabilities(); its check's TTA kind stands."""
    class Export:
        calls = []

        def probabilities(self, x):
            self.calls.append(len(x))
            return np.tile(np.float32(x.mean((1, 2, 3)))[:, None], (1, 10))

    x = np.random.default_rng(0).random((2500, 28, 28, 1), dtype=np.float32)
    model = evaluate.Exported(Export(), "shifts")
    np.testing.assert_array_equal(model.predict(x, batch_size=1024)[:, 0], x.mean((1, 2, 3)))
    assert Export.calls == [1024, 1024, 452]
    assert evaluate.tta_kind(model) == "shifts"
    assert evaluate.tta_kind(evaluate.Exported(Export(), "shifts+mirror")) == "shifts+mirror"
