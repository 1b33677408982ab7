"""Real Keras training on small slices of the real MNIST (a few seconds each)."""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from mnist_cnn import cli, hardware, train
from mnist_cnn.config import TrainConfig as Config
from mnist_cnn.config import resolve
from mnist_cnn.errors import UserError
from mnist_cnn.rundir import RunDir

SMALL = dict(limit=1500, epochs=2, batch_size=64)


def weights(run_dir):
    return [np.asarray(w) for w in keras.models.load_model(run_dir / "model.keras").weights]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, mnist_dir):
    """One SMALL run (seed 42), shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("small")
    return train.train(Config(out=str(out), name="a", data_dir=str(mnist_dir), **SMALL), verbose=0)


def test_run_folder_has_every_artefact(small_run):
    r = small_run
    names = sorted(p.name for p in r.run_dir.iterdir())
    assert names == sorted([".lock", "model.keras", "config.json", "env.json", "history.csv", "metrics.json",
                            "summary.txt", "learning_curves.png", "confusion_matrix.png", "examples.png",
                            "misclassified.png", "checkpoint"])
    rows = list(csv.DictReader(open(r.run_dir / "history.csv")))
    assert [int(x["epoch"]) for x in rows] == [1, 2]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds",
                            "val_seconds"}
    m = json.loads((r.run_dir / "metrics.json").read_text())
    assert m["n_train"] == 1200 and m["n_val"] == 300 and m["n_test"] == 10000
    assert len(m["per_class"]) == 10 and np.asarray(m["confusion_matrix"]).sum() == 10000
    env = json.loads((r.run_dir / "env.json").read_text())
    assert {"python", "keras", "tensorflow", "numpy", "git_commit", "cpu", "tf_intra_op_threads"} <= set(env)
    cpu = hardware.cpu_info()
    assert (env["cpu"], env["cpu_flags"], env["native_bfloat16"]) == (cpu.model, list(cpu.flags), cpu.native_bf16)
    assert (env["precision"], env["precision_reason"]) == ("float32", "asked for")
    assert "693,962" in (r.run_dir / "summary.txt").read_text()
    cfg = json.loads((r.run_dir / "config.json").read_text())
    assert (cfg["epochs"], cfg["batch_size"], cfg["schedule"], cfg["learning_rate"]) == (2, 64, "cosine", 0.001)
    assert not list(r.run_dir.rglob("*.part*"))


def test_cosine_schedule_reaches_zero_and_is_logged(small_run):
    r = small_run
    steps = math.ceil(1200 / 64)
    expected = [0.5 * 1e-3 * (1 + math.cos(math.pi * min(e * steps, 2 * steps) / (2 * steps))) for e in (1, 2)]
    np.testing.assert_allclose([h["learning_rate"] for h in r.history], expected, atol=1e-9)


def test_validation_figures_are_keras_evaluate_on_the_validation_images(small_run):
    """The per-epoch validation scores exactly the validation images, at VALIDATION_BATCH a step: the kept model,
    evaluated by Keras on them, gives its epoch's val_loss and val_accuracy."""
    r = small_run
    d = train.prepare(r.config, report=lambda m: None)
    assert len(d.x_val) == 300
    model = keras.models.load_model(r.run_dir / "model.keras")
    loss, accuracy = model.evaluate(d.x_val, d.y_val, batch_size=train.VALIDATION_BATCH, verbose=0)
    row = r.history[r.metrics["best_epoch"] - 1]
    np.testing.assert_allclose([loss, accuracy], [row["val_loss"], row["val_accuracy"]], rtol=1e-5)


def test_same_seed_gives_bit_identical_weights_and_metrics(tmp_path, mnist_dir, small_run):
    a = small_run  # seed 42, trained earlier in this process
    b = train.train(Config(out=str(tmp_path), name="b", data_dir=str(mnist_dir), seed=42, **SMALL), verbose=0)
    for wa, wb in zip(weights(a.run_dir), weights(b.run_dir)):
        assert np.array_equal(wa, wb)
    assert a.metrics["confusion_matrix"] == b.metrics["confusion_matrix"]
    assert a.metrics["test_loss"] == b.metrics["test_loss"]
    assert [h["loss"] for h in a.history] == [h["loss"] for h in b.history]
    c = train.train(Config(out=str(tmp_path), name="c", data_dir=str(mnist_dir), seed=8, **SMALL), verbose=0)
    assert not np.array_equal(weights(a.run_dir)[0], weights(c.run_dir)[0])


def test_mixed_bfloat16_computes_in_bfloat16_keeps_float32_weights_and_output(tmp_path, mnist_dir):
    cfg = Config(out=str(tmp_path), name="bf16", data_dir=str(mnist_dir), precision="mixed_bfloat16", **SMALL)
    r = train.train(cfg, verbose=0)
    assert json.loads((r.run_dir / "config.json").read_text())["precision"] == "mixed_bfloat16"
    model = keras.models.load_model(r.run_dir / "model.keras")
    conv, out = model.layers[0], model.layers[-1]
    assert (conv.compute_dtype, conv.variable_dtype) == ("bfloat16", "float32")
    assert out.compute_dtype == "float32" and model(np.zeros((1, 28, 28, 1), "float32")).dtype == "float32"
    assert r.metrics["test_accuracy"] > 0.8  # as trainable as float32 (~0.9 on this slice)
    assert keras.mixed_precision.global_policy().name == "float32"  # not leaked into later models
    again = train.train(cfg.replace(name="bf16-again"), verbose=0)
    for wa, wb in zip(weights(r.run_dir), weights(again.run_dir)):
        assert np.array_equal(wa, wb)


class InterruptAt(keras.callbacks.Callback):
    """Sends this process a real SIGINT at (epoch, batch), as Ctrl-C would."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


# keras-io has Dropout: its RNG state must resume too, in a new process, as a user would after Ctrl-C (nothing
# carried over in memory); a bfloat16 checkpoint must resume in bfloat16. The other two resume through the same
# command line in this process (a new process's start-up, ~5 s of importing TensorFlow, tells nothing more there).
@pytest.mark.parametrize("model,precision,fresh_process", [("seed", None, False), ("keras-io", None, True),
                                                           ("seed", "mixed_bfloat16", False)])
def test_sigint_then_resume_equals_a_straight_run(tmp_path, mnist_dir, monkeypatch, model, precision, fresh_process):
    common = dict(out=str(tmp_path), data_dir=str(mnist_dir), seed=3, **({"precision": precision} if precision else {}),
                  **SMALL)
    straight = train.train(resolve(model, flags=dict(name="straight", **common)), verbose=0)
    cut = train.train(resolve(model, flags=dict(name="cut", **common)), verbose=0,
                      callbacks=[InterruptAt(epoch=1, batch=5)])
    assert cut.interrupted and len(cut.history) == 1
    assert not (cut.run_dir / "metrics.json").exists()
    state = json.loads((cut.run_dir / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 1
    if fresh_process:
        proc = subprocess.run([sys.executable, "-m", "mnist_cnn", "train", "--resume", str(cut.run_dir), "--quiet"],
                              capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
    else:
        monkeypatch.chdir(tmp_path)
        assert cli.main(["train", "--resume", str(cut.run_dir), "--quiet"]) == 0
    resumed = json.loads((cut.run_dir / "metrics.json").read_text())
    assert resumed["confusion_matrix"] == straight.metrics["confusion_matrix"]
    assert resumed["test_loss"] == straight.metrics["test_loss"]
    history = list(csv.DictReader(open(cut.run_dir / "history.csv")))
    assert [float(h["val_loss"]) for h in history] == [h["val_loss"] for h in straight.history]
    for wa, wb in zip(weights(straight.run_dir), weights(cut.run_dir)):
        assert np.array_equal(wa, wb)


def test_ctrl_c_in_the_first_epoch_resumes_from_scratch(tmp_path, mnist_dir):
    common = dict(out=str(tmp_path), data_dir=str(mnist_dir), seed=5, limit=1000, epochs=1, batch_size=50)
    straight = train.train(Config(name="straight", **common), verbose=0)
    cut = train.train(Config(name="cut", **common), verbose=0, callbacks=[InterruptAt(epoch=0, batch=3)])
    assert cut.interrupted and cut.history == [] and not (cut.run_dir / "checkpoint").exists()
    resumed = train.train(resume=cut.run_dir, verbose=0)
    assert resumed.metrics["test_loss"] == straight.metrics["test_loss"]


def test_the_optimizer_and_metrics_are_built_before_the_first_step_is_traced(tmp_path, mnist_dir):
    # else Keras builds them inside the first step's trace, and TensorFlow traces a step that makes variables twice
    class Probe(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                self.seen = (self.model.optimizer.built, [bool(m.variables) for m in self.model.metrics])

    probe = Probe()
    train.train(Config(out=str(tmp_path), name="t", data_dir=str(mnist_dir), limit=300, epochs=1, batch_size=100),
                verbose=0, callbacks=[probe], report=lambda m: None)
    assert probe.seen == (True, [True, True])


def test_early_stopping_keeps_the_best_validation_model(tmp_path, mnist_dir):
    r = train.train(Config(out=str(tmp_path), name="es", data_dir=str(mnist_dir), limit=1500, batch_size=64,
                           epochs=8, learning_rate=0.05, schedule="constant", patience=1), verbose=0)
    val = [h["val_loss"] for h in r.history]
    assert r.metrics["stopped_early"] and len(val) < 8
    assert r.metrics["best_epoch"] == int(np.argmin(val)) + 1
    assert r.metrics["best_epoch"] < len(val)
    best = keras.models.load_model(r.run_dir / "model.keras")
    d = train.prepare(r.config, report=lambda m: None)
    loss = best.evaluate(d.x_val, d.y_val, batch_size=train.VALIDATION_BATCH,
                                                                                  verbose=0)[0]
    assert loss == pytest.approx(min(val), rel=1e-4)


def test_diverging_training_is_one_clear_error(tmp_path, mnist_dir):
    cfg = Config(out=str(tmp_path), name="nan", data_dir=str(mnist_dir), limit=500, epochs=2, batch_size=50,
                 learning_rate=1e12, schedule="constant")
    with pytest.raises(UserError, match="training diverged at epoch 1 .*lower learning_rate"):
        train.train(cfg, verbose=0)


def test_a_resumed_run_reports_the_precision_it_began_in(tmp_path):
    # its checkpoint computes in that one, though `auto` may pick another on today's CPU
    run = RunDir(tmp_path)
    (tmp_path / "env.json").write_text(json.dumps({"precision": "mixed_bfloat16"}))
    begun = train._begun_in(run, Config(precision="float32"))
    assert (begun.policy, begun.reason) == ("mixed_bfloat16", "as the run began (env.json)")
    (tmp_path / "env.json").unlink()
    assert train._begun_in(run, Config(precision="float32")).policy == "float32"


def test_resume_errors(tmp_path):
    with pytest.raises(UserError, match="run folder does not exist"):
        train.train(resume=tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a run folder"):
        train.train(resume=tmp_path / "empty")


def test_existing_run_name_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(UserError, match="already exists"):
        train.train(Config(out=str(tmp_path), name="taken", epochs=1))
    assert list((tmp_path / "taken").iterdir()) == []


def test_ctrl_c_in_the_cli_exits_130_with_resume_hint(tmp_path, mnist_dir):
    cmd = [sys.executable, "-m", "mnist_cnn", "train", "--limit", "12000", "--epochs", "6", "--batch-size", "256",
           "--out", str(tmp_path), "--name", "c", "--data-dir", str(mnist_dir), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    state = tmp_path / "c" / "checkpoint" / "state.json"
    deadline = time.time() + 120
    while not state.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert f"Resume with: mnist-cnn train --resume {tmp_path / 'c'}" in err
    assert "Traceback" not in err
    assert not list((tmp_path / "c").rglob("*.part*"))
    epochs_done = json.loads(state.read_text())["epoch"]
    assert 1 <= epochs_done < 6
