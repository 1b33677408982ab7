"""Every setting of a run in one place: the frozen dataclass `TrainConfig`, and the recipes.

    from mnist_cnn.config import RECIPES, TrainConfig, resolve
    cfg = resolve("fast", file="run.toml", flags={"epochs": 2})   # replace(recipe, **file, **flags)
    cfg.epochs, cfg.optimizer, cfg.optimizer_args                  # 2, "adam", {"beta_1": 0.7, ...}

A recipe is a whole `TrainConfig` (network, optimiser and its arguments, schedule, epochs, batch
size, label smoothing, augmentation, precision, validation split). The final config is the recipe
with a TOML (or a saved config.json) file's settings and then the command line's flags on top,
and it is saved whole as the run's config.json, so a saved run describes itself:

    mnist-cnn train --config runs/my-run/config.json --name again

Each field's `setting(...)` holds its default's reason, its help text and its allowed values; the
CLI builds its flags and help from them, so adding a setting is one edit here plus its use.
Errors name the field (`ConfigError.field`); only the CLI turns a field into a `--flag`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

from . import config_legacy, data, extras, models
from .errors import ConfigError, UserError

SCHEDULES = ("constant", "cosine", "onecycle", "step")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")  # auto: bfloat16 only where the CPU computes it faster
OPTIMIZERS = ("adam", "adamw", "adadelta")
NETWORKS = tuple(models.NETWORKS)  # the builders models.py owns
DATASETS = tuple(data.DATASETS)  # the registry data.py owns
DISTRIBUTE = ("none", "mirrored", "multi-worker")  # distribute.py's strategies
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")  # a run name: one safe folder name, <= 100 chars
MAX_EPOCHS = 10_000  # far beyond any MNIST run; keeps a typo of extra digits from being accepted
MAX_BATCH = 60_000  # the whole training set in one step
# RandomAffine's arguments: rotation in degrees, zoom and shift as fractions, flip as a probability
AUGMENT_LIMITS = {"degrees": 180.0, "zoom": 0.9, "shift": 1.0, "flip": 1.0}
# Each optimiser's own keyword arguments in Keras 3.15, and those all take: bool, str, or a number's range (low, high
# or None, the ends left out: "(" low, ")" high); null is Keras' default. Checked before a run folder is made (Keras
# refused a bad one only as training began: a traceback, a half-made run folder).
_EVERY = {"epsilon": (0, None, "("), "weight_decay": (0, None, ""), "clipnorm": (0, None, "("),
          "clipvalue": (0, None, "("), "global_clipnorm": (0, None, "("), "use_ema": bool, "ema_momentum": (0, 1, ""),
          "ema_overwrite_frequency": (1, None, ""), "loss_scale_factor": (0, None, "("),
          "gradient_accumulation_steps": (1, None, ""), "name": str}
_BETAS = {"beta_1": (0, 1, ")"), "beta_2": (0, 1, ")"), "amsgrad": bool}
OPTIMIZER_ARGS = {"adam": _BETAS, "adamw": _BETAS, "adadelta": {"rho": (0, 1, ")")}}
_CLIPS = ("clipnorm", "clipvalue", "global_clipnorm")  # Keras takes one of them at most


def setting(default, help: str, *, choices=None, low=None, high=None, above=None, below=None,
            commands=("train",), factory=None):
    """A TrainConfig field with its help text and allowed values (checked by `check`).

    low/high: inclusive bounds; above/below: exclusive bounds; commands: the CLI commands that get a
    flag for it (every field is also a TOML key).
    """
    meta = {"help": help, "choices": choices, "low": low, "high": high, "above": above, "below": below,
            "commands": commands}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


BOTH = ("train", "run")


@dataclass(frozen=True)
class TrainConfig:
    # what to train; the defaults are the user's seed job (models.seed_model)
    model: str = setting("seed", "the recipe this run started from (its name in `mnist-cnn runs`)",
                         commands=())
    network: str = setting("seed", "the network to build", choices=NETWORKS)
    dataset: str = setting("mnist", "the data set", choices=DATASETS, commands=BOTH)
    # 12 epochs with a cosine decay: with a constant rate the seed model wobbles around 98.5% (README)
    epochs: int = setting(12, "training epochs", low=1, high=MAX_EPOCHS, commands=BOTH)
    batch_size: int = setting(128, "images per step", low=1, high=MAX_BATCH, commands=BOTH)
    learning_rate: float = setting(1e-3, "peak learning rate", above=0.0)  # Adam's default
    schedule: str = setting("cosine", "learning-rate schedule", choices=SCHEDULES)
    optimizer: str = setting("adam", "optimiser", choices=OPTIMIZERS)
    optimizer_args: dict = setting(None, "extra optimiser arguments as a JSON object, e.g. '{\"beta_1\": 0.7}'",
                                   factory=dict)
    label_smoothing: float = setting(0.0, "label smoothing of the cross-entropy", low=0.0, below=1.0)
    augment: dict = setting(None, "random affine augmentation in training as JSON, e.g. "
                                  "'{\"degrees\": 10, \"zoom\": 0.1, \"shift\": 0.1, \"flip\": 0.5}' (flip: "
                                  "left-right mirror probability, for clothes); {} = none", factory=dict)
    # unset: the network's own (models.DROPOUT); Fashion-MNIST's `best` sets none (FOR_DATASET)
    dropout: float | None = setting(None, "dropout rate after each block, for the networks whose rate is a setting ("
                                          + ", ".join(f"{k}: {v}" for k, v in models.DROPOUT.items())
                                          + "); unset = the network's own", low=0.0, below=1.0)
    # float32 for the reference recipes (the user's and the published ones), so their figures stay
    # theirs; fast and best use auto: bfloat16 trains them 1.28-1.35x faster where it pays (hardware.py)
    precision: str = setting("float32", "compute precision; auto: bfloat16 where the CPU computes it faster "
                                        "(amx_bf16, or avx512_bf16 on AMD), else float32", choices=PRECISIONS)
    validation_split: float = setting(0.2, "fraction held out for validation (the seed's 80/20 split)",
                                      above=0.0, below=1.0)
    seed: int = setting(42, "random seed for weights, split and order", low=0, high=2**32 - 1, commands=BOTH)
    limit: int | None = setting(None, "use only the first N shuffled training images (smoke runs); "
                                      "unset = all", low=2, high=10**7, commands=BOTH)
    patience: int = setting(0, "stop after N epochs without a lower validation loss; 0 = off", low=0,
                            high=MAX_EPOCHS)
    # labelled images of one's own (extra_data.py): the training split only, never validation or test
    extra_data: str | None = setting(None, "a folder of labelled 28x28 PNGs (FOLDER/<digit>/*.png, white on black; "
                                           "a serve feedback folder is one) added to the training split only; "
                                           "unset = none", commands=("train", "finetune"))
    # 20: ten corrections x 20 = 200 of ~48,000 images an epoch (0.4%), enough for a style to be learnt in one or
    # two epochs (README, "Learning from corrections"), too few to move MNIST accuracy
    extra_repeat: int = setting(20, "how many times each --extra-data image appears per epoch", low=1, high=10_000,
                                commands=("train", "finetune"))
    finetuned_from: str | None = setting(None, "the run whose model this run started from (mnist-cnn finetune); "
                                               "unset = fresh weights", commands=())
    # where things go
    data_dir: str | None = setting(None, "data folder; unset = $MNIST_CNN_DATA, else ~/.cache/mnist-cnn",
                                   commands=BOTH)
    out: str = setting("runs", "parent folder of run folders", commands=BOTH)
    name: str | None = setting(None, "run folder name (letters, digits, . _ + -); unset = <model>-<date>-<time>",
                               commands=BOTH)
    tensorboard: bool = setting(False, "also log to RUN_DIR/tensorboard")
    # none: one device, the path every figure in the README was measured on
    distribute: str = setting("none", "data-parallel training: mirrored = one model over every GPU (no GPU: "
                                      "$MNIST_CNN_CPU_DEVICES logical CPUs); multi-worker = over the machines "
                                      "in $TF_CONFIG; batch_size stays the global batch", choices=DISTRIBUTE)
    # the seed job's pictures (mnist_cnn.py / `mnist-cnn run`)
    plots_dir: str = setting("mnist_plots", "where example_N.png and misclassified_N.png go", commands=("run",))
    num_examples: int = setting(9, "how many example_N.png and misclassified_N.png", low=0, high=1000,
                                commands=("run",))

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


FIELDS = {f.name: f for f in fields(TrainConfig)}
TYPES = typing.get_type_hints(TrainConfig)
# where and how, not what: not in recipes, not searched by a sweep
RUN_ONLY = ("data_dir", "out", "name", "tensorboard", "distribute", "plots_dir", "num_examples")


def _recipe(name: str, **changes) -> TrainConfig:
    return TrainConfig(**{"model": name, "network": name, **changes})


RECIPES = {
    "seed": _recipe("seed"),
    "keras-io": _recipe("keras-io", epochs=15, schedule="constant", validation_split=0.1),
    # torch's Adadelta defaults (rho 0.9, eps 1e-6) differ from Keras' (0.95, 1e-7): use torch's
    "pytorch-examples": _recipe("pytorch-examples", epochs=14, batch_size=64, learning_rate=1.0, schedule="step",
                                optimizer="adadelta", optimizer_args={"rho": 0.9, "epsilon": 1e-6}),
    # One epoch: a one-cycle schedule with a high peak, Adam with short memories (beta 0.7, 0.9) so it
    # follows the fast-changing rate, and label smoothing against over-confidence after one pass. The
    # network, peak and smoothing are the best of sweeps/fast-s2.toml by validation accuracy (docs/training.md, "A
    # faster fast"): a stride-2 first convolution of 16 filters needs 0.67-0.71x the CPU-seconds of the old
    # net at the same accuracy (sweeps/fast-v1.toml; saved runs of `fast` keep it in their config.json).
    "fast": _recipe("fast", network="fast-s2-16", epochs=1, batch_size=256, learning_rate=0.022, schedule="onecycle",
                    optimizer_args={"beta_1": 0.7, "beta_2": 0.9}, label_smoothing=0.14, precision="auto"),
    # 20 epochs: bfloat16's 1.28x images per CPU-second (AVX512-BF16) bought 4 more than float32's 16.
    "best": _recipe("best", epochs=20, learning_rate=3e-3, schedule="onecycle", optimizer="adamw",
                    optimizer_args={"weight_decay": 1e-2}, label_smoothing=0.1, validation_split=0.1,
                    augment={"degrees": 10.0, "zoom": 0.1, "shift": 0.1}, precision="auto"),
}
# What a recipe changes on another data set (the rest transfers as it is): see README, "Fashion-MNIST".
FOR_DATASET: dict[str, dict[str, dict]] = {
    "fashion-mnist": {
        # 3 epochs of the net and settings measured on clothes (sweeps/fast-v1.toml): one pass leaves the tiny
        # net at 87.7%; 3 reach 90.5% (validation 91.1%) in ~7 s. Two Fashion sweeps found nothing better in
        # that time; the wider sweeps/fashion-fast-wide.toml reaches 91.24% for 1.38x the CPU (README)
        "fast": {"epochs": 3, "network": "fast", "learning_rate": 0.01, "label_smoothing": 0.1},
        # clothes are mirror-symmetric and upright: flips and small shifts, no rotation or zoom (validation 93.4%
        # against 92.3% with the digits' rotation, zoom and mirrors, seed 1); no dropout: with it the net underfits
        # clothes (seed 1, validation: dropout 0.4 93.4%, 0.2 93.5%, 0.1 94.4%, none 94.7%); 1.5x the filters after
        # block 1 (best-32-96): validation 94.65% against 94.40% (3 seeds) in 1.1x-1.16x the time. best-wide (1.5x all
        # filters, 94.83%) takes 1.5x, the whole 15 minutes on class A and more on slower CPUs: docs
        "best": {"network": "best-32-96", "augment": {"shift": 0.05, "flip": 0.5}, "dropout": 0.0},
    },
}
SUMMARIES = {  # one line each for `mnist-cnn train --help`
    "seed": "the user's reference CNN (Conv32-Pool-Dense128), adam",
    "keras-io": "keras-io 'Simple MNIST convnet' (Conv32-Pool-Conv64-Pool-Dropout-Dense10)",
    "pytorch-examples": "pytorch/examples mnist (Conv32-Conv64-Pool-Dense128), Adadelta, x0.7 per epoch",
    "fast": "least training time to >= 99%: tiny stride-2 net, 1 epoch, one-cycle Adam 0.022",
    "best": "highest single-model accuracy in <= 15 min: BN + dropout + augmentation, one-cycle AdamW",
}


def recipe(name: str) -> TrainConfig:
    try:
        return RECIPES[name]
    except KeyError:
        raise ConfigError("model", f"unknown model {name!r}; valid models: {', '.join(RECIPES)}") from None


def resolve(model: str = "seed", file: str | os.PathLike | None = None, flags: dict | None = None) -> TrainConfig:
    """replace(recipe, **file, **flags), checked. A file's `model` key picks the recipe when no flag does;
    the data set (flag, file, or the recipe's) picks the recipe's settings for that data set."""
    from_file = load_file(file) if file else {}
    flags = dict(flags or {})
    in_file = from_file.pop("model", None)  # popped either way: left in, it renamed a run the flag's recipe trained
    name = flags.pop("model", None) or in_file or model
    base = recipe(name)
    dataset = flags.get("dataset") or from_file.get("dataset") or base.dataset
    for_dataset = FOR_DATASET.get(dataset, {}).get(name, {})
    cfg = base.replace(**for_dataset).replace(**from_file).replace(**flags)
    if "dropout" in for_dataset and cfg.network not in models.DROPOUT and "dropout" not in {**from_file, **flags}:
        cfg = cfg.replace(dropout=None)  # the recipe's rate for its own network, not for one a file or flag chose
    check(cfg)
    return cfg


def check(cfg: TrainConfig, n_train: int | None = None) -> None:
    """Raise ConfigError for the first field out of range (n_train: images available for training)."""
    check_values(cfg)
    if cfg.name is not None and not NAME_PATTERN.fullmatch(cfg.name):
        raise ConfigError("name", f"expected a folder name of letters, digits and . _ + - (at most 100, not "
                                  f"starting with . _ + -), found {cfg.name!r}")
    for name in ("out", "plots_dir", "data_dir", "extra_data", "finetuned_from"):
        if getattr(cfg, name) == "" or getattr(cfg, name) is None and name in ("out", "plots_dir"):
            raise ConfigError(name, "expected a folder, found an empty value")  # "" is the current folder to Path
    for name in ("out", "plots_dir"):
        folder = getattr(cfg, name)
        if Path(folder).exists() and not Path(folder).is_dir():
            raise ConfigError(name, f"expected a folder, found a file at {folder}")
    if cfg.tensorboard and not extras.importable("tensorboard"):
        raise ConfigError("tensorboard", extras.line(("tensorboard", *extras.TRAIN), "writing TensorBoard logs"))
    for name in ("extra_data", "finetuned_from"):
        folder = getattr(cfg, name)
        if folder is not None and not Path(folder).is_dir():
            raise ConfigError(name, f"expected a folder, found {'a file' if Path(folder).exists() else 'nothing'} "
                                    f"at {folder}")
    _check_augment(cfg.augment)
    if cfg.dropout is not None and cfg.network not in models.DROPOUT:
        raise ConfigError("dropout", f"expected it unset: the {cfg.network} network's dropout is not a setting "
                                     f"(only for {', '.join(models.DROPOUT)}), found {cfg.dropout}")
    _check_optimizer_args(cfg.optimizer, cfg.optimizer_args or {})
    if n_train is not None and cfg.batch_size > n_train:
        raise ConfigError("batch_size", f"expected at most the {n_train} training images, found {cfg.batch_size}")


def check_values(cfg: TrainConfig) -> None:
    """Raise ConfigError for the first field outside its choices or range: what a saved config.json must hold, where
    check's folders, packages and combinations belong to the machine and the moment it was trained on."""
    for name, f in FIELDS.items():
        value, m = getattr(cfg, name), f.metadata
        if value is not None and m["choices"] and value not in m["choices"]:
            raise ConfigError(name, f"expected one of {', '.join(m['choices'])}, found {value!r}")
        if value is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            _check_range(name, value, m)


def _check_range(name: str, value, m: dict) -> None:
    whole = TYPES[name] in (int, int | None)
    kind = "a whole number" if whole else "a number"
    if not math.isfinite(value):
        raise ConfigError(name, f"expected {kind}, found {value!r}")
    if m["low"] is not None and value < m["low"] or m["high"] is not None and value > m["high"]:
        low = m["low"] if m["low"] is not None else f"> {m['above']}"
        raise ConfigError(name, f"expected {kind} from {low} to {m['high'] if m['high'] is not None else 'any'}"
                                f", found {value}")
    if m["above"] is not None and not value > m["above"] or m["below"] is not None and not value < m["below"]:
        bounds = " and ".join(b for b in (m["above"] is not None and f"> {m['above']}",
                                          m["below"] is not None and f"< {m['below']}") if b)
        raise ConfigError(name, f"expected {kind} {bounds}, found {value}")


def _check_augment(augment: dict) -> None:
    for key, value in augment.items():
        if key not in AUGMENT_LIMITS:
            raise ConfigError("augment", f"unknown key {key!r}; valid keys: {', '.join(AUGMENT_LIMITS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= AUGMENT_LIMITS[key]:
            raise ConfigError("augment", f"{key}: expected a number from 0 to {AUGMENT_LIMITS[key]}, found {value!r}")


def _check_optimizer_args(optimizer: str, args: dict) -> None:
    valid = {**OPTIMIZER_ARGS.get(optimizer, {}), **_EVERY}
    if len(clips := [key for key in _CLIPS if args.get(key) is not None]) > 1:
        raise ConfigError("optimizer_args", f"expected at most one of {', '.join(_CLIPS)}, found {', '.join(clips)}")
    for key, value in args.items():
        if key not in valid:
            raise ConfigError("optimizer_args", f"unknown key {key!r} for {optimizer}; valid keys: {', '.join(valid)}")
        if value is None or valid[key] in (bool, str) and isinstance(value, valid[key]):
            continue
        if valid[key] in (bool, str):
            wanted = "a name" if valid[key] is str else "true or false"
            raise ConfigError("optimizer_args", f"{key}: expected {wanted}, found {value!r}")
        low, high, out = valid[key]
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not number or value < low or "(" in out and value == low or high is not None and (
                value > high or ")" in out and value == high):
            bounds = f"{'>' if '(' in out else '>='} {low}" + (f" and {'<' if ')' in out else '<='} {high}"
                                                                if high is not None else "")
            raise ConfigError("optimizer_args", f"{key}: expected a number {bounds}, found {value!r}")


def load_file(path: str | os.PathLike) -> dict:
    """A TOML file (or a saved config.json) as a dict of known, well-typed fields; UserError naming the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read config file ({e.strerror or e})") from None
    is_json = path.suffix == ".json"
    try:
        data = json.loads(raw) if is_json else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise UserError(f"{path}: not valid {'JSON' if is_json else 'TOML'} ({e})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a table of settings, found {type(data).__name__}")
    if is_json and "network" not in data and isinstance(data.get("model"), str):
        data = config_legacy.upgrade(data)
    if is_json:  # saved before a setting existed: its value then (not a recipe's today, e.g. Fashion `best`'s dropout)
        data = {**config_legacy.ADDED, **data}
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise UserError(f"{path}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(FIELDS)}")
    return {key: typed(key, value, where=f"{path}: key {key!r}") for key, value in data.items()}


KINDS = {str: "a string", int: "a whole number", float: "a number", bool: "true or false", dict: "a table"}


def typed(name: str, value, where: str | None = None):
    """value as field `name`'s type (ints stay ints, numbers become floats); ConfigError otherwise."""
    kind = TYPES[name]
    base = typing.get_args(kind)[0] if typing.get_origin(kind) in (typing.Union, type(int | None)) else kind
    if value is None and kind != base:
        return None
    ok = {
        str: isinstance(value, str),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        bool: isinstance(value, bool),
        dict: isinstance(value, dict),
    }[base]
    if not ok:
        raise UserError(f"{where}: expected {KINDS[base]}, found {value!r}") if where else \
            ConfigError(name, f"expected {KINDS[base]}, found {value!r}")
    if base is float:
        return float(value)
    if base is dict:
        return {str(k): float(v) if isinstance(v, float) else v for k, v in value.items()}
    return value
