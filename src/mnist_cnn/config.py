"""Every default of a run in one place: the `Config` dataclass.

Precedence, lowest first: the field defaults below, the recipe's own defaults
(`models.RECIPES[name]` fills whatever is left as None), an optional TOML file
(`--config run.toml`), then command-line flags. `resolve()` returns the concrete
config that is saved as `config.json` and reproduces the run:

    mnist-cnn train --config runs/my-run/config.json   # JSON works too
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import UserError

SCHEDULES = ("constant", "cosine", "onecycle", "step")
PRECISIONS = ("float32", "mixed_bfloat16")  # Keras dtype policies


@dataclass
class Config:
    # what to train (None = the recipe's own choice, see models.py)
    model: str = "seed"  # the user's reference network
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    schedule: str | None = None  # one of SCHEDULES
    precision: str | None = None  # one of PRECISIONS; fast, best: mixed_bfloat16 (1.35x / 1.28x images per CPU-second)
    validation_split: float | None = None  # seed: 0.2, the 80/20 split (48,000 / 12,000)
    seed: int = 42  # seeds Python, NumPy, Keras and the split
    limit: int | None = None  # use only the first N shuffled training images (smoke runs)
    patience: int = 0  # early stopping on val_loss after N flat epochs; 0 = off
    # where things go
    data_dir: str | None = None  # None: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn
    out: str = "runs"  # one sub-folder per run
    name: str | None = None  # None: <model>-<date>-<time>
    tensorboard: bool = False  # also log to <run>/tensorboard
    # the seed job's pictures (mnist_cnn.py / `mnist-cnn run`)
    plots_dir: str = "mnist_plots"
    num_examples: int = 9  # example_1..N.png and misclassified_1..N.png

    def replace(self, **changes) -> "Config":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


FIELDS = {f.name: f for f in fields(Config)}


def check(cfg: Config, n_train: int | None = None) -> None:
    """Raise UserError for the first field out of range (n_train: images available for training)."""
    if cfg.epochs is not None and cfg.epochs <= 0:
        raise UserError(f"--epochs: expected a whole number > 0, found {cfg.epochs}")
    if cfg.batch_size is not None and cfg.batch_size <= 0:
        raise UserError(f"--batch-size: expected a whole number > 0, found {cfg.batch_size}")
    if cfg.learning_rate is not None and not cfg.learning_rate > 0:
        raise UserError(f"--learning-rate: expected a number > 0, found {cfg.learning_rate}")
    if cfg.validation_split is not None and not 0 < cfg.validation_split < 1:
        raise UserError(f"--validation-split: expected a fraction strictly between 0 and 1, found {cfg.validation_split}")
    if cfg.limit is not None and cfg.limit <= 1:
        raise UserError(f"--limit: expected a whole number of training images > 1, found {cfg.limit}")
    if cfg.patience < 0:
        raise UserError(f"--patience: expected a whole number >= 0 (0 = off), found {cfg.patience}")
    if cfg.num_examples < 0:
        raise UserError(f"--num-examples: expected a whole number >= 0, found {cfg.num_examples}")
    if not 0 <= cfg.seed < 2**32:
        raise UserError(f"--seed: expected a whole number from 0 to 2**32 - 1, found {cfg.seed}")
    for flag, folder in (("--out", cfg.out), ("--plots-dir", cfg.plots_dir)):
        if Path(folder).exists() and not Path(folder).is_dir():
            raise UserError(f"{flag}: expected a folder, found a file at {folder}")
    if cfg.schedule is not None and cfg.schedule not in SCHEDULES:
        raise UserError(f"--schedule: expected one of {', '.join(SCHEDULES)}, found {cfg.schedule!r}")
    if cfg.precision is not None and cfg.precision not in PRECISIONS:
        raise UserError(f"--precision: expected one of {', '.join(PRECISIONS)}, found {cfg.precision!r}")
    if cfg.name is not None and (not cfg.name or "/" in cfg.name or os.sep in cfg.name or cfg.name.startswith(".")):
        raise UserError(f"--name: expected a plain folder name, found {cfg.name!r}")
    if cfg.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise UserError("--tensorboard: the tensorboard package is not installed; pip install 'mnist-cnn[tensorboard]'")
    if n_train is not None and cfg.batch_size is not None and cfg.batch_size > n_train:
        raise UserError(f"--batch-size: expected at most the {n_train} training images, found {cfg.batch_size}")


def load_file(path: str | os.PathLike) -> dict:
    """Read a TOML (or a saved config.json) file into a dict of known, well-typed fields."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read config file ({e.strerror or e})") from None
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            data = tomllib.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'} ({e})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a table of settings, found {type(data).__name__}")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise UserError(f"{path}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(FIELDS)}")
    for key, value in data.items():
        data[key] = _typed(path, key, value)
    if path.suffix == ".json" and "schedule" in data and "precision" not in data:
        data["precision"] = "float32"  # a run saved before --precision existed trained in float32
    return data


def _typed(path: Path, key: str, value):
    kind = FIELDS[key].type
    ok = {
        "str": isinstance(value, str),
        "str | None": value is None or isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "int | None": value is None or (isinstance(value, int) and not isinstance(value, bool)),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "float | None": value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)),
        "bool": isinstance(value, bool),
    }[kind]
    if not ok:
        raise UserError(f"{path}: key {key!r} expected {kind.replace(' | None', '')}, found {value!r}")
    return float(value) if kind.startswith("float") and value is not None else value


def merge(base: Config, file: str | None, overrides: dict) -> Config:
    """base <- file settings <- explicit overrides (None values in overrides are ignored)."""
    cfg = base
    if file:
        cfg = cfg.replace(**load_file(file))
    return cfg.replace(**{k: v for k, v in overrides.items() if v is not None})
