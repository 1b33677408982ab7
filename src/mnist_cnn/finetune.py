"""Continuing a finished run for a few epochs on MNIST plus one's own labelled images, into a new run folder.

    mnist-cnn finetune runs/NAME --extra-data runs/NAME/feedback [--epochs 2] [--learning-rate 0.0003]

    from mnist_cnn import finetune, train
    cfg = finetune.finetune_config("runs/NAME", "runs/NAME/feedback")   # NAME's config, continued
    result = train.train(cfg)                                            # starts from NAME's model.keras

The new run keeps the old one's settings (network, seed, validation split, optimiser, label
smoothing, precision, ...) and changes only what continuing needs: a few epochs at a small,
decaying learning rate, the extra images (`extra_data`, each `extra_repeat` times, training split
only), and `finetuned_from`, the old run's folder, recorded in its config.json. Validation and test
are MNIST's as before: the same seed gives the same validation split, and `metrics.json` holds the
MNIST test accuracy of the new model, to compare with the old one's.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from .config import NAME_PATTERN, TrainConfig, check
from .errors import UserError
from .rundir import MODEL, RunDir

EPOCHS = 2  # two passes: each extra image is seen 2 x extra_repeat times, MNIST twice more (README figures)
LEARNING_RATE = 3e-4  # a thirtieth of `fast`'s peak, a tenth of `best`'s: moves to the new images, keeps the old
SCHEDULE = "cosine"  # decays to zero: the last steps settle instead of jumping around the old optimum


def finetune_config(run: str | os.PathLike, extra_data: str | os.PathLike, *, epochs: int | None = None,
                    learning_rate: float | None = None, extra_repeat: int | None = None,
                    out: str | os.PathLike | None = None, name: str | None = None,
                    data_dir: str | None = None) -> TrainConfig:
    """RUN's config continued: this module's epochs, rate and schedule unless given, the extra data, a new name
    (default <RUN>-ft-<date>-<time>) in `out` (default: the folder RUN is in)."""
    base = RunDir.open(run)
    if not base.file(MODEL).is_file():
        raise UserError(f"{base.path}: no {MODEL} to continue (expected a finished run folder)")
    if base.metrics() is None:
        raise UserError(f"{base.path}: the run is not finished (no metrics.json); finish it first with "
                        f"mnist-cnn train --resume {base.path}")
    cfg = base.config()
    if name is None:
        name = f"{base.path.name[:70]}-ft-{datetime.now():%Y%m%d-%H%M%S}"
        name = name if NAME_PATTERN.fullmatch(name) else f"ft-{datetime.now():%Y%m%d-%H%M%S}"
    changes = dict(epochs=epochs or EPOCHS, learning_rate=learning_rate or LEARNING_RATE, schedule=SCHEDULE,
                   patience=0, extra_data=str(extra_data), finetuned_from=str(base.path.resolve()),
                   out=str(out if out is not None else base.path.parent), name=name, tensorboard=False,
                   data_dir=data_dir if data_dir is not None else cfg.data_dir)
    if extra_repeat is not None:
        changes["extra_repeat"] = extra_repeat
    cfg = cfg.replace(**changes)
    check(cfg)
    return cfg


def start_model(cfg: TrainConfig, steps_per_epoch: int, policy: str):
    """The finished run's model, compiled afresh for cfg (a new optimiser at cfg's learning rate)."""
    from .models import load_model
    from .train import compiled_model

    # float32 here rebuilds a bfloat16 model in float32 (a CPU without bfloat16); else the saved layers' own
    model = load_model(Path(cfg.finetuned_from) / MODEL, "float32" if policy == "float32" else None)
    return compiled_model(cfg, steps_per_epoch, policy, model)
