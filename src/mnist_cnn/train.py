"""Training a TrainConfig into a run folder, reproducibly and resumably.

    from mnist_cnn.config import resolve
    from mnist_cnn.train import train
    result = train(resolve("seed", flags={"epochs": 2, "limit": 2000}))   # -> RunResult
    result = train(resume="runs/seed-20261130-0512")                       # after Ctrl-C

    mnist-cnn train --model seed --epochs 8           # CLI equivalent
    mnist-cnn train --resume runs/seed-20261130-0512

`train` chains the steps: prepare the data, build (or load the checkpoint), `fit`, then `finish`
(evaluate the best model, draw the pictures, write metrics.json last). Each epoch sees the
training images in an order drawn from (seed, epoch) alone, so a resumed run replays exactly the
batches an uninterrupted one would have. The run folder's files belong to rundir.RunDir.
With `distribute` set, the model is built (or loaded) in the tf.distribute strategy's scope
(distribute.py); a worker that is not the chief trains into a temporary folder, removed at the end.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from . import data, distribute, environment
from .config import ConfigError, TrainConfig, check
from .console import Report, stderr_report
from .errors import TrainingDiverged, UserError
from .hardware import Precision, inference_policy, resolve_precision
from .rundir import CHECKPOINT, CONFIG, ENV, RunDir
from .training_loop import (BuiltBeforeTracing, Interrupted, RunKeeper, epoch_batches, new_state,
                            restore_seed_generator_states)

VALIDATION_BATCH = 1024  # forward only: at the training batch (256 for fast) Keras' per-step cost made the pass over
# 12,000 images ~1.3 s of fast's ~6 s (class A); at 1,024 it takes ~0.4 s and computes the same accuracy


@dataclass
class Data:
    """x: float32 (N, 28, 28, 1) in [0, 1]; y_train, y_val one-hot float32 (N, 10); y_test uint8 labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_extra: int = 0  # --extra-data images in x_train (each repeated cfg.extra_repeat times)


@dataclass
class RunResult:
    run: RunDir
    config: TrainConfig
    precision: Precision
    history: list[dict]
    metrics: dict
    interrupted: bool = False
    test: tuple | None = None  # (x_test float32 (N, 28, 28, 1), y_test uint8 (N,), probabilities (N, 10))
    chief: bool = True  # False: a multi-worker run's other worker, whose folder was temporary (no metrics)
    rule_interrupted: bool = False  # Ctrl-C stopped the refusal rule's fit after the training (refusal=True)

    @property
    def run_dir(self):
        return self.run.path


def seed_everything(seed: int) -> None:
    """Python, NumPy and Keras RNGs from one seed, and deterministic TensorFlow kernels."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def learning_rate(cfg: TrainConfig, steps_per_epoch: int):
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
    # step: x0.7 per epoch, as pytorch/examples' StepLR(gamma=0.7)
    return keras.optimizers.schedules.ExponentialDecay(lr, steps_per_epoch, 0.7, staircase=True)


def compiled_model(cfg: TrainConfig, steps_per_epoch: int, policy: str, model=None):
    """cfg.network built under `policy`, or `model` (a finished run's, to continue it), compiled as cfg says."""
    import keras

    from .models import build, optimizer

    model = build(cfg, policy) if model is None else model
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)
    model.compile(optimizer=optimizer(cfg, learning_rate(cfg, steps_per_epoch)), loss=loss, metrics=["accuracy"])
    return model


def prepare(cfg: TrainConfig, report: Report = stderr_report) -> Data:
    """The data set split as the seed did (seeded shuffle, cfg.validation_split held out), normalised."""
    (x_train, y_train), (x_test, y_test) = data.load_dataset(cfg.dataset, cfg.data_dir, report=report)
    train_idx, val_idx = data.split(len(x_train), cfg.validation_split, cfg.seed, cfg.limit)
    x_fit, y_fit, n_extra = x_train[train_idx], y_train[train_idx], 0
    if cfg.extra_data is not None:  # the training split only: validation and test stay MNIST's own
        from .extra_data import describe, load_folder

        extra = load_folder(cfg.extra_data)
        report(describe(extra, cfg.extra_repeat))
        n_extra = len(extra.y)
        x_fit = np.concatenate([x_fit, np.repeat(extra.x, cfg.extra_repeat, axis=0)])
        y_fit = np.concatenate([y_fit, np.repeat(extra.y, cfg.extra_repeat)])
    check(cfg, n_train=len(x_fit))  # before Keras' import: a batch larger than the data is one line, at once
    import keras

    onehot = keras.utils.to_categorical
    return Data(data.normalise(x_fit), onehot(y_fit, 10), data.normalise(x_train[val_idx]),
                onehot(y_train[val_idx], 10), data.normalise(x_test), y_test, n_extra)


def fit(cfg: TrainConfig, model, d: Data, run: RunDir, state: dict, verbose="auto", callbacks=()) -> RunKeeper:
    """Train model from state["epoch"] to cfg.epochs, checkpointing each whole epoch into run.

    The first SIGINT finishes the current batch and stops (keeper.interrupt); a second stops at once.
    """
    import keras

    steps = math.ceil(len(d.x_train) / cfg.batch_size)
    keeper = RunKeeper(run, cfg, state)
    extra = [keras.callbacks.TensorBoard(log_dir=str(run.file("tensorboard")))] if cfg.tensorboard else []
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum, frame):
        keeper.interrupt = True
        signal.signal(signal.SIGINT, previous)

    first = state["epoch"]
    if first < cfg.epochs and not state["stopped_early"]:
        batches = epoch_batches(d.x_train, d.y_train, cfg.batch_size, cfg.seed, first, cfg.epochs)
        if cfg.distribute == "multi-worker":  # every worker reads the same batches and keeps its slice of each
            import tensorflow as tf

            options = tf.data.Options()
            options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
            batches = batches.with_options(options)
        once = [BuiltBeforeTracing(d.x_train, d.y_train)] if cfg.distribute == "none" else []  # a strategy: Keras does
        signal.signal(signal.SIGINT, on_sigint)
        try:
            model.fit(batches, epochs=cfg.epochs, initial_epoch=first, steps_per_epoch=steps,
                      validation_data=(d.x_val, d.y_val), validation_batch_size=max(cfg.batch_size, VALIDATION_BATCH),
                      callbacks=[keeper, *once, *extra, *callbacks], verbose=verbose, shuffle=False)
        except Interrupted:  # keeper.interrupt tells the caller; TensorBoard's files closed as fit would
            for callback in extra:
                callback.on_train_end()
        except (ValueError, TypeError) as e:
            if cfg.distribute == "multi-worker" and (known := distribute.keras_failure(e)):
                raise distribute.KerasCannot(f"Keras {_versions()} cannot train with MultiWorkerMirroredStrategy "
                                             f"({distribute.KERAS_ISSUE}): {known}") from e
            raise
        finally:
            signal.signal(signal.SIGINT, previous)
    return keeper


def _versions() -> str:
    import keras
    import tensorflow as tf

    return f"{keras.__version__} on TensorFlow {tf.__version__}"


def _start(cfg: TrainConfig, report: Report):
    """A new run: its folder (config.json), the data, the model, a fresh state."""
    check(cfg)  # then data_dir, extra_data absolute: `train --resume RUN` from another folder reads the same data
    cfg = cfg.replace(**{key: os.path.abspath(v) for key in ("data_dir", "extra_data") if (v := getattr(cfg, key))})
    cluster = distribute.check(cfg.distribute)  # TF_CONFIG, before anything is written
    cfg = cfg.replace(name=cfg.name or f"{cfg.model}-{datetime.now():%Y%m%d-%H%M%S}")
    if (cluster is None or cluster.chief) and (folder := RunDir(cfg.out).file(cfg.name)).exists():
        raise ConfigError("name", f"{folder} already exists; pick another name or resume it")
    dist = distribute.setup(cfg.distribute)  # before TensorFlow's first operation
    d = prepare(cfg, report)  # before the folder: a bad data set or batch size leaves nothing behind
    distribute.check_batches(dist, cfg.batch_size, len(d.x_train))
    out = cfg.out if dist.chief else tempfile.mkdtemp(prefix="mnist-cnn-worker-")
    run = RunDir.create(out, cfg.name, cfg)
    return run, cfg, d, dist


def _reopen(path, report: Report):
    run = RunDir.open(path)
    cfg = run.config()
    run.resumable()  # before seconds of loading data; again under the lock (train)
    if cfg.distribute == "multi-worker":
        raise UserError(f"{run.path}: a multi-worker run cannot be resumed (only its chief kept a checkpoint); "
                        f"start it again")
    dist = distribute.setup(cfg.distribute)
    d = prepare(cfg, report)
    distribute.check_batches(dist, cfg.batch_size, len(d.x_train))
    return run, cfg, d, dist


def train(cfg: TrainConfig | None = None, resume=None, verbose="auto", report: Report = stderr_report,
          on_model=None, callbacks=(), refusal: bool = False) -> RunResult:
    """Train cfg as a new run folder, or resume the run folder `resume`; returns the finished run.

    refusal: also fit the run's "not a digit" rule at the end (refusal_fit.after_training; `mnist-cnn train` does).
    on_model(model, precision) is called once the model is ready (the CLI prints its summary there).
    Interrupted (Ctrl-C) at any point before metrics.json is written, the result has interrupted=True.
    """
    run, cfg, d, dist = _reopen(resume, report) if resume is not None else _start(cfg, report)
    try:
        with run.lock():
            checkpoint = run.resumable() if resume is not None else None  # its last holder may have moved it on
            result = _train(run, cfg, d, checkpoint, dist, verbose, report, on_model, callbacks)
    finally:
        if not dist.chief:
            shutil.rmtree(run.path.parent, ignore_errors=True)
    if refusal and dist.chief and not result.interrupted:
        from .refusal_fit import after_training

        result.rule_interrupted = after_training(result, report)
    return result


def _train(run: RunDir, cfg: TrainConfig, d: Data, checkpoint, dist, verbose, report, on_model, callbacks):
    precision = resolve_precision(cfg.precision) if checkpoint is None else _begun_in(run, cfg)
    if precision.warning:
        report(f"warning: {precision.warning}")
    if line := dist.line(cfg.batch_size):
        report(line)
    seed_everything(cfg.seed)
    model, state = _model_and_state(run, cfg, d, checkpoint, precision, dist)
    if on_model:
        on_model(model, precision)
    keeper = fit(cfg, model, d, run, state, verbose, callbacks)
    if state.get("diverged"):
        raise TrainingDiverged(f"training diverged at epoch {state['diverged']} (loss became NaN or infinite); "
                               f"try a lower learning_rate than {cfg.learning_rate}")
    result = RunResult(run, cfg, precision, state["history"], {}, interrupted=keeper.interrupt, chief=dist.chief)
    if keeper.interrupt or not dist.chief:
        return result
    try:
        return finish(result, d, state)
    except KeyboardInterrupt:  # metrics.json is not written: the run stays resumable
        result.interrupted = True
        return result


def _begun_in(run: RunDir, cfg: TrainConfig) -> Precision:
    """A resumed run's precision: its checkpoint keeps the one it began in (env.json), whatever `auto` says today."""
    policy = (run.env() or {}).get("precision")
    return resolve_precision(cfg.precision) if policy is None else Precision(policy, f"as the run began ({ENV})")


def _model_and_state(run: RunDir, cfg: TrainConfig, d: Data, checkpoint, precision: Precision, dist):
    from .models import load_model

    if checkpoint is None:
        state = {**new_state(cfg), "replicas": dist.replicas}
        steps = math.ceil(len(d.x_train) / cfg.batch_size)
        with dist.scope():
            if cfg.finetuned_from is not None:
                from .finetune import start_model
                model = start_model(cfg, steps, precision.policy)
            else:
                model = compiled_model(cfg, steps, precision.policy)
        run.write_json(ENV, {**environment.describe(), "precision": precision.policy,
                                    "precision_reason": precision.reason, "distribute": dist.describe()})
        lines = []
        model.summary(print_fn=lambda line, **_: lines.append(line))
        run.write_text("summary.txt", "\n".join(lines) + "\n")
        return model, state
    path, state = checkpoint
    _check_resumable(run, cfg, state, dist)
    with dist.scope():
        model = load_model(path)
    if state.get("config") is None and model.name != cfg.network.replace("-", "_"):
        raise UserError(f"{run.file(CONFIG)}: does not match the checkpoint it would resume (edited after the run "
                        f"started?); restore it or start a new run")
    restore_seed_generator_states(model, state.pop("rng", []))
    return model, state


def _check_resumable(run: RunDir, cfg: TrainConfig, state: dict, dist) -> None:
    """The checkpoint's config and strategy are this run's (a state saved before a setting existed has its default)."""
    saved = state.get("config")
    if saved is None:
        return
    saved = {**TrainConfig().to_dict(), **saved}
    if saved["distribute"] != cfg.distribute:
        raise UserError(f"{run.file(CONFIG)}: distribute is {cfg.distribute!r}, but the checkpoint was trained with "
                        f"{saved['distribute']!r}; a run resumes under the strategy it started with")
    if saved != cfg.to_dict():
        raise UserError(f"{run.file(CONFIG)}: does not match the checkpoint it would resume (edited after the run "
                        f"started?); restore it or start a new run")
    replicas = state.get("replicas", 1)
    if replicas != dist.replicas:
        raise UserError(f"{run.file(CHECKPOINT)}: trained on {replicas} replica(s), this process has {dist.replicas} "
                        f"({', '.join(dist.devices) or 'one device'}); resume with the same devices "
                        f"(for logical CPUs: {distribute.CPU_DEVICES}={replicas})")


def finish(result: RunResult, d: Data, state: dict) -> RunResult:
    """Evaluate the best model on the test set, draw the pictures, then write metrics.json (the marker)."""
    from . import evaluate, plots

    run = result.run
    # in the policy `evaluate` and `predict` use here, so metrics.json is what they give (and emulated bfloat16's
    # ~7x slower forward pass is not spent on 10,000 test images)
    probabilities = evaluate.predict_proba(run.load_best(inference_policy()), d.x_test)
    classes = data.class_names(result.config.dataset)
    metrics = evaluate.metrics(d.y_test, probabilities, classes)
    best = state["history"][state["best_epoch"] - 1]
    metrics.update(best_epoch=state["best_epoch"], epochs_run=state["epoch"], stopped_early=state["stopped_early"],
                   train_seconds=state["train_seconds"], n_train=len(d.x_train), n_val=len(d.x_val), n_extra=d.n_extra,
                   best_val_loss=state["best_val_loss"], best_val_accuracy=best["val_accuracy"],
                   finished=datetime.now().isoformat(timespec="seconds"))
    plots.run_pictures(run.path, state["history"], metrics, d.x_test, d.y_test, probabilities, classes)
    run.write_json("metrics.json", metrics)
    result.metrics, result.test = metrics, (d.x_test, d.y_test, probabilities)
    return result


def progress_verbosity(quiet: bool):
    """Keras' verbose: a live bar on a terminal, one line per epoch in a log file, nothing when quiet."""
    return 0 if quiet else ("auto" if sys.stdout.isatty() else 2)
