"""The per-epoch bookkeeping of a run: each epoch's order, history, best model, early stopping, checkpoints, RNG
states.

    keeper = RunKeeper(run, cfg, state)      # a keras Callback; state = new_state(cfg) or a checkpoint's
    model.fit(..., callbacks=[keeper])       # keeper.interrupt = True: Interrupted after the current batch

Keras' BackupAndRestore restores weights and optimiser but not the history, the early-stopping
counters or the RNG states, and EarlyStopping/ModelCheckpoint reset their counters on every fit.
A run that must resume bit-for-bit needs all of them in one place, so this keeps them itself.
"""

from __future__ import annotations

import math
import time

import numpy as np

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


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


class Interrupted(Exception):
    """Raised by RunKeeper at the end of the batch during which Ctrl-C came, for fit's caller to catch: Keras'
    stop_training would first validate the cut epoch and print its summary line as if it were whole."""


def new_state(cfg) -> dict:
    """The state of a run before its first epoch; `config` lets a resume check config.json against it."""
    return {"epoch": 0, "history": [], "best_val_loss": math.inf, "best_epoch": 0, "wait": 0,
            "stopped_early": False, "train_seconds": 0.0, "config": cfg.to_dict()}


def _seed_generator_variables(model) -> list:
    return [v for v in model.variables if "seed_generator" in v.path]


def seed_generator_states(model) -> list[list[int]]:
    """The RNG states of dropout/augmentation layers, in layer order (they are not in saved weights).

    Matched by position, not name: Keras numbers seed generators per process, so names differ
    between the run that saved and the one that resumes.
    """
    return [np.asarray(v).tolist() for v in _seed_generator_variables(model)]


def restore_seed_generator_states(model, states: list) -> None:
    from .errors import UserError

    variables = _seed_generator_variables(model)
    if len(variables) != len(states):
        raise UserError(f"checkpoint holds {len(states)} RNG states, the model has {len(variables)}")
    for v, state in zip(variables, states):
        v.assign(np.asarray(state, dtype=v.dtype))


def RunKeeper(run, cfg, state: dict):
    """The callback that owns a run's per-epoch files (a class made on first use: Keras loads lazily)."""
    import keras

    class _RunKeeper(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.state = state
            self.interrupt = False  # set by the SIGINT handler

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()
            self.val_seconds = 0.0

        def on_test_begin(self, logs=None):
            self.val_started = time.perf_counter()

        def on_test_end(self, logs=None):
            self.val_seconds += time.perf_counter() - self.val_started

        def on_train_batch_end(self, batch, logs=None):
            if self.interrupt:  # the epoch is dropped: the checkpoint stays at the last whole one
                raise Interrupted

        def on_epoch_end(self, epoch, logs=None):
            row = {"epoch": epoch + 1, **{k: float(logs[k]) for k in HISTORY_KEYS if k in logs},
                   "learning_rate": float(np.asarray(self.model.optimizer.learning_rate)),
                   "seconds": round(time.perf_counter() - self.started, 3),
                   "val_seconds": round(self.val_seconds, 3)}
            if not all(math.isfinite(row.get(k, 0.0)) for k in ("loss", "val_loss")):
                self.state["diverged"] = epoch + 1
                self.model.stop_training = True
                return
            self._record(epoch + 1, row)

        def _record(self, epoch: int, row: dict) -> None:
            st = self.state
            st["history"].append(row)
            st["epoch"] = epoch
            st["train_seconds"] = round(st["train_seconds"] + row["seconds"], 3)
            if row["val_loss"] < st["best_val_loss"]:
                st["best_val_loss"], st["best_epoch"], st["wait"] = row["val_loss"], epoch, 0
                run.save_model(self.model)
            else:
                st["wait"] += 1
                if cfg.patience and st["wait"] >= cfg.patience:
                    st["stopped_early"] = True
                    self.model.stop_training = True
            run.save_checkpoint(self.model, {**st, "rng": seed_generator_states(self.model)})
            run.write_history(st["history"])

    return _RunKeeper()


def BuiltBeforeTracing(x: np.ndarray, y: np.ndarray):
    """A callback that builds the optimizer's and metrics' variables from one batch's shapes as the first epoch
    begins (inside its timed span). Without a distribution strategy Keras 3 on TensorFlow builds them inside the
    first train step's trace, and a tf.function that creates variables is traced twice: that second trace cost
    `fast` ~0.5 s of its ~4.6 s of training (docs/training.md, "A faster fast")."""
    import keras

    class _BuiltBeforeTracing(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            build = getattr(self.model, "_symbolic_build", None)  # Keras' own, private: without it, two traces
            if build is not None and not self.model.optimizer.built:  # a resumed run's optimizer comes built
                build(data_batch=(x[:1], y[:1]))

    return _BuiltBeforeTracing()
