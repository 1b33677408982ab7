"""Training a recipe into a run folder, reproducibly and resumably.

    from mnist_cnn.config import Config
    from mnist_cnn.train import train
    result = train(Config(model="seed", epochs=2, limit=2000))   # -> RunResult

    mnist-cnn train --model seed --epochs 8           # CLI equivalent
    mnist-cnn train --resume runs/seed-20261130-0512   # after Ctrl-C

A run folder holds model.keras (best validation loss), config.json, env.json, history.csv,
metrics.json, summary.txt, the pictures from plots.py and checkpoint/ (the last completed epoch:
model with optimiser state, plus state.json with history, early-stopping counters and RNG state).
Each epoch sees the training images in an order drawn from (seed, epoch) alone, so a resumed run
replays exactly the batches an uninterrupted one would have.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from . import console, data, files
from .config import Config, check, load_file
from .errors import UserError
from .evaluate import load_model
from .models import get_recipe, optimizer

CHECKPOINT = "checkpoint"
HISTORY_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds", "val_seconds"]


@dataclass
class RunResult:
    run_dir: Path
    config: Config
    history: list[dict]
    metrics: dict
    interrupted: bool = False
    test: tuple | None = None  # (x_test float32 (N, 28, 28, 1), y_test uint8 (N,), probabilities (N, 10))


def resolve(cfg: Config) -> Config:
    """Fill the fields left as None with the recipe's defaults, and name the run."""
    check(cfg)
    recipe = get_recipe(cfg.model)

    def pick(value, default):
        return default if value is None else value

    return cfg.replace(
        validation_split=pick(cfg.validation_split, recipe.validation_split),
        epochs=pick(cfg.epochs, recipe.epochs),
        batch_size=pick(cfg.batch_size, recipe.batch_size),
        learning_rate=pick(cfg.learning_rate, recipe.learning_rate),
        schedule=pick(cfg.schedule, recipe.schedule),
        precision=pick(cfg.precision, recipe.precision),
        name=pick(cfg.name, f"{cfg.model}-{datetime.now():%Y%m%d-%H%M%S}"),
    )


def seed_everything(seed: int) -> None:
    """Python, NumPy and Keras RNGs from one seed, and deterministic TensorFlow kernels."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def learning_rate(cfg: Config, steps_per_epoch: int):
    """A float or a keras LearningRateSchedule for cfg.schedule over the whole run."""
    import keras

    total = cfg.epochs * steps_per_epoch
    lr = cfg.learning_rate
    if cfg.schedule == "constant":
        return lr
    if cfg.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=total)
    if cfg.schedule == "onecycle":  # linear warm-up over 25% of the steps from lr/25, then cosine to 0
        warmup = max(1, total // 4)
        return keras.optimizers.schedules.CosineDecay(
            lr / 25, decay_steps=max(1, total - warmup), warmup_target=lr, warmup_steps=warmup)
    if cfg.schedule == "step":  # x0.7 per epoch, as pytorch/examples' StepLR(gamma=0.7)
        return keras.optimizers.schedules.ExponentialDecay(lr, steps_per_epoch, 0.7, staircase=True)
    raise UserError(f"--schedule: unknown schedule {cfg.schedule!r}")


def build_compiled(cfg: Config, steps_per_epoch: int):
    import keras

    recipe = get_recipe(cfg.model)
    # Layers take the global dtype policy when they are built; the saved model keeps each layer's own.
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(cfg.precision or "float32")  # None: a run saved before --precision
    try:
        model = recipe.build()
    finally:
        keras.mixed_precision.set_global_policy(previous)
    lr = learning_rate(cfg, steps_per_epoch)
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
    model.compile(optimizer=optimizer(recipe, lr), loss=loss, metrics=["accuracy"])
    return model


def prepare(cfg: Config, report=console.stderr_report):
    """Load MNIST as the seed did: (x_tr, y_tr), (x_val, y_val), (x_test, y_test).

    x: float32 (N, 28, 28, 1) in [0, 1]; y_tr, y_val: one-hot float32 (N, 10); y_test: uint8 (N,) labels.
    """
    import keras

    (x_train, y_train), (x_test, y_test) = data.load_mnist(cfg.data_dir, report=report)
    train_idx, val_idx = data.split(len(x_train), cfg.validation_split, cfg.seed, cfg.limit)
    check(cfg, n_train=len(train_idx))

    def xy(idx):
        return data.normalise(x_train[idx]), keras.utils.to_categorical(y_train[idx], 10)

    return xy(train_idx), xy(val_idx), (data.normalise(x_test), y_test)


def epoch_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, first_epoch: int, epochs: int):
    """A tf.data stream of the epochs first_epoch..epochs-1; epoch e is shuffled by (seed, e) only."""
    import tensorflow as tf

    n = len(x)
    xs, ys = tf.constant(x), tf.constant(y)

    def one_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(n), seed=tf.stack([tf.cast(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    batches = tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
    return batches.map(lambda idx: (tf.gather(xs, idx), tf.gather(ys, idx))).prefetch(2)


def _seed_generator_variables(model) -> list:
    return [v for v in model.variables if "seed_generator" in v.path]


def seed_generator_states(model) -> list[list[int]]:
    """The RNG states of dropout/augmentation layers, in layer order (they are not in saved weights).

    Matched by position, not name: Keras numbers seed generators per process, so names differ
    between the run that saved and the one that resumes.
    """
    return [np.asarray(v).tolist() for v in _seed_generator_variables(model)]


def restore_seed_generator_states(model, states: list) -> None:
    variables = _seed_generator_variables(model)
    if len(variables) != len(states):
        raise UserError(f"checkpoint holds {len(states)} RNG states, the model has {len(variables)}")
    for v, state in zip(variables, states):
        v.assign(np.asarray(state, dtype=v.dtype))


def environment() -> dict:
    import keras
    import tensorflow as tf

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=Path(__file__).parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    cpu = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(), "keras": keras.__version__, "tensorflow": tf.__version__,
        "numpy": np.__version__, "keras_backend": keras.backend.backend(), "git_commit": commit,
        "platform": platform.platform(), "cpu": cpu, "cpu_count": os.cpu_count(),
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "op_determinism": True,
    }


def _history_csv(history: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


def _make_keeper(run_dir: Path, cfg: Config, state: dict):
    """The callback that owns a run's files; a class made here so keras is imported lazily.

    Keras' BackupAndRestore restores weights and optimiser but not the history, the early-stopping
    counters or the RNG states; EarlyStopping/ModelCheckpoint reset their counters on every fit. A
    run that must resume bit-for-bit needs all of them in one place, so this keeps them itself.
    """
    import keras

    class RunKeeper(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.state = state
            self.interrupt = False
            self.interrupted = False

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()
            self.val_seconds = 0.0

        def on_test_begin(self, logs=None):
            self.val_started = time.perf_counter()

        def on_test_end(self, logs=None):
            self.val_seconds += time.perf_counter() - self.val_started

        def on_train_batch_end(self, batch, logs=None):
            if self.interrupt:
                self.interrupted = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if self.interrupted:  # a partial epoch: drop it, the checkpoint stays at the last whole one
                return
            row = {"epoch": epoch + 1, **{k: float(logs[k]) for k in HISTORY_COLUMNS[1:5] if k in logs},
                   "learning_rate": float(np.asarray(self.model.optimizer.learning_rate)),
                   "seconds": round(time.perf_counter() - self.started, 3),
                   "val_seconds": round(self.val_seconds, 3)}
            st = self.state
            if not all(math.isfinite(row.get(k, 0.0)) for k in ("loss", "val_loss")):
                st["diverged"] = epoch + 1
                self.model.stop_training = True
                return
            st["history"].append(row)
            st["epoch"] = epoch + 1
            st["train_seconds"] = round(st["train_seconds"] + row["seconds"], 3)
            if row["val_loss"] < st["best_val_loss"]:
                st["best_val_loss"], st["best_epoch"], st["wait"] = row["val_loss"], epoch + 1, 0
                with files.atomic_path(run_dir / "model.keras") as tmp:
                    self.model.save(tmp)
            else:
                st["wait"] += 1
                if cfg.patience and st["wait"] >= cfg.patience:
                    st["stopped_early"] = True
                    self.model.stop_training = True
            save_checkpoint(run_dir, self.model, st)
            files.write_text(run_dir / "history.csv", _history_csv(st["history"]))

    return RunKeeper()


def save_checkpoint(run_dir: Path, model, state: dict) -> None:
    ckpt = run_dir / CHECKPOINT
    ckpt.mkdir(exist_ok=True)
    with files.atomic_path(ckpt / "last.keras") as tmp:
        model.save(tmp)
    files.write_json(ckpt / "state.json", {**state, "rng": seed_generator_states(model)})


def _new_state() -> dict:
    return {"epoch": 0, "history": [], "best_val_loss": math.inf, "best_epoch": 0, "wait": 0,
            "stopped_early": False, "train_seconds": 0.0}


def load_run_config(run_dir: Path) -> Config:
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: run folder does not exist")
    path = run_dir / "config.json"
    if not path.is_file():
        raise UserError(f"{run_dir}: not a run folder (expected config.json, found none)")
    return Config(**load_file(path))


def train(cfg: Config, resume: str | os.PathLike | None = None, verbose: int | str = "auto",
          report=console.stderr_report, on_model=None, callbacks=()) -> RunResult:
    """Train cfg (or resume the run folder `resume`) and return the finished run.

    on_model(model) is called once the model is built (the CLI prints its summary there);
    callbacks are extra keras callbacks for fit.
    On SIGINT the current batch finishes, the last whole epoch stays checkpointed, and the result
    has interrupted=True.
    """
    if resume is not None:
        run_dir = Path(resume)
        cfg = load_run_config(run_dir)
        ckpt = run_dir / CHECKPOINT
        if (ckpt / "state.json").is_file() and (ckpt / "last.keras").is_file():
            state = json.loads((ckpt / "state.json").read_text())
        else:  # stopped inside the first epoch: start over, which is what resuming at epoch 0 means
            state = _new_state()
    else:
        cfg = resolve(cfg)
        run_dir = Path(cfg.out) / cfg.name
        if run_dir.exists():
            raise UserError(f"{run_dir}: run folder already exists; pick another --name or --resume it")
        state = _new_state()

    import keras  # after the checks above, so a bad flag is reported without waiting for TensorFlow

    from . import evaluate, plots

    (x_tr, y_tr), (x_val, y_val), (x_test, y_test) = prepare(cfg, report)
    steps = math.ceil(len(x_tr) / cfg.batch_size)
    seed_everything(cfg.seed)
    if state["epoch"] > 0:
        model = load_model(run_dir / CHECKPOINT / "last.keras")
        restore_seed_generator_states(model, state.pop("rng", []))
    else:
        model = build_compiled(cfg, steps)
    if resume is None:
        try:
            run_dir.mkdir(parents=True)
        except OSError as e:
            raise UserError(f"--out: cannot create the run folder {run_dir} ({e.strerror or e})") from None
        files.write_json(run_dir / "config.json", cfg.to_dict())
        files.write_json(run_dir / "env.json", environment())
        lines = []
        model.summary(print_fn=lambda line, **_: lines.append(line))
        files.write_text(run_dir / "summary.txt", "\n".join(lines) + "\n")
    if on_model:
        on_model(model)

    keeper = _make_keeper(run_dir, cfg, state)
    callbacks = [keeper, *callbacks]
    if cfg.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard")))

    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum, frame):
        keeper.interrupt = True
        signal.signal(signal.SIGINT, previous)  # a second Ctrl-C stops at once

    first = state["epoch"]
    if first < cfg.epochs and not state["stopped_early"]:
        signal.signal(signal.SIGINT, on_sigint)
        try:
            model.fit(epoch_batches(x_tr, y_tr, cfg.batch_size, cfg.seed, first, cfg.epochs),
                      epochs=cfg.epochs, initial_epoch=first, steps_per_epoch=steps,
                      validation_data=(x_val, y_val), callbacks=callbacks, verbose=verbose, shuffle=False)
        finally:
            signal.signal(signal.SIGINT, previous)
    if keeper.interrupted:
        return RunResult(run_dir, cfg, state["history"], {}, interrupted=True)
    if state.get("diverged"):
        raise UserError(f"training diverged at epoch {state['diverged']} (loss became NaN or infinite); "
                        f"try a lower --learning-rate than {cfg.learning_rate}", exit_code=1)

    best = load_model(run_dir / "model.keras")
    probabilities = evaluate.predict_proba(best, x_test)
    metrics = evaluate.metrics(y_test, probabilities)
    metrics.update(best_epoch=state["best_epoch"], epochs_run=state["epoch"], stopped_early=state["stopped_early"],
                   train_seconds=state["train_seconds"], n_train=len(x_tr), n_val=len(x_val),
                   best_val_loss=state["best_val_loss"],
                   best_val_accuracy=state["history"][state["best_epoch"] - 1]["val_accuracy"],
                   finished=datetime.now().isoformat(timespec="seconds"))
    files.write_json(run_dir / "metrics.json", metrics)
    plots.run_pictures(run_dir, state["history"], metrics, x_test, y_test, probabilities)
    return RunResult(run_dir, cfg, state["history"], metrics, test=(x_test, y_test, probabilities))
