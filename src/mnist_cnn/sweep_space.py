"""A sweep's search space: SPACE.toml read, checked against TrainConfig, and sampled by an Optuna trial.

    from mnist_cnn.sweep_space import load_space, to_toml
    space = load_space("sweeps/fast.toml", base_cfg)   # UserError naming the file and the key
    params = space.sample(trial)                         # {"learning_rate": 0.0031, "augment": {"degrees": 10.0}}
    text = to_toml({"model": "fast", **params})          # a TOML file `mnist-cnn train --config` loads

SPACE.toml has one key per TrainConfig field to vary (the run's where-settings, such as out or name,
are not searchable):

    learning_rate = { low = 1e-4, high = 1e-2, log = true }   # a float range (log scale)
    epochs = { low = 1, high = 3 }                            # an int range for an int field (step = N optional)
    batch_size = [64, 128, 256]                               # categorical: a list of choices
    augment = [{}, { degrees = 10, zoom = 0.1 }]              # table fields (augment, optimizer_args): tables

Every bound and choice is checked with config.check on the base config before any trial runs.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path

from .config import FIELDS, RUN_ONLY, TYPES, TrainConfig, check, typed
from .errors import ConfigError, UserError

SEARCHABLE = tuple(n for n in FIELDS if n not in RUN_ONLY and n != "model")  # what a run is, not where it goes
RANGE_KEYS = ("low", "high", "log", "step")  # Optuna's suggest_float / suggest_int arguments
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # a TOML key that needs no quotes


def base_type(name: str) -> type:
    """The field's type without `| None` (limit: int)."""
    kind = TYPES[name]
    return next((t for t in typing.get_args(kind) if t is not type(None)), kind)


@dataclass(frozen=True)
class Param:
    """One searched field: kind "float" or "int" (a range) or "categorical" (choices; tables as JSON text)."""

    name: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple = ()

    def sample(self, trial):
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(self.name, self.low, self.high, log=self.log, step=self.step or 1)
        return decode(self.name, trial.suggest_categorical(self.name, list(self.choices)))


@dataclass(frozen=True)
class Space:
    path: str
    params: tuple[Param, ...]
    raw: dict  # the file's table as read: studies compare it to refuse a worker with another space

    def sample(self, trial) -> dict:
        """{field: value} for one trial, in the file's order."""
        return {p.name: p.sample(trial) for p in self.params}


def decode(name: str, value):
    """A sampled value as the field's type: table fields are sampled as their JSON text."""
    return json.loads(value) if base_type(name) is dict and isinstance(value, str) else value


def decode_params(params: dict) -> dict:
    return {k: decode(k, v) for k, v in params.items() if k in FIELDS}


def load_space(path: str | os.PathLike, base: TrainConfig) -> Space:
    """SPACE.toml as a Space; every key, range and choice checked against `base` (UserError naming file and key)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as e:
        raise UserError(f"{path}: cannot read the space file ({e.strerror or e})") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid TOML ({e})") from None
    if not raw:
        raise UserError(f"{path}: no settings to search; add e.g. learning_rate = {{ low = 1e-4, high = 1e-2, "
                        f"log = true }}")
    params = []
    for key, value in raw.items():
        where = f"{path}: key {key!r}"
        if key not in SEARCHABLE:
            raise UserError(f"{where}: not a searchable setting; valid keys: {', '.join(SEARCHABLE)}")
        if isinstance(value, list):
            params.append(_categorical(key, value, base, where))
        elif isinstance(value, dict):
            params.append(_range(key, value, base, where))
        else:
            raise UserError(f"{where}: expected a range {{ low = ..., high = ... }} or a list of choices, found "
                            f"{value!r} (fix a setting with its flag or --config instead)")
    return Space(str(path), tuple(params), raw)


def _checked(key: str, value, base: TrainConfig, where: str):
    value = typed(key, value, where=where)
    try:
        check(base.replace(**{key: value}))
    except ConfigError as e:
        raise UserError(f"{where}: {e.what}") from None
    return value


def _categorical(key: str, values: list, base: TrainConfig, where: str) -> Param:
    if not values:
        raise UserError(f"{where}: expected at least one choice, found an empty list")
    values = [_checked(key, v, base, where) for v in values]
    if base_type(key) is dict:
        values = [json.dumps(v, sort_keys=True) for v in values]  # Optuna's choices are scalars
    if len(set(values)) != len(values):
        raise UserError(f"{where}: a choice is listed twice in {values}")
    return Param(key, "categorical", choices=tuple(values))


def _range(key: str, spec: dict, base: TrainConfig, where: str) -> Param:
    kind = base_type(key)
    if kind not in (int, float):
        raise UserError(f"{where}: a range needs a numeric setting; give {key} a list of choices instead")
    unknown = sorted(set(spec) - set(RANGE_KEYS))
    if unknown or "low" not in spec or "high" not in spec:
        raise UserError(f"{where}: expected a table of low, high and optionally log or step, found "
                        f"{', '.join(unknown) or ', '.join(spec) or 'an empty table'}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise UserError(f"{where}: log: expected true or false, found {log!r}")
    low, high = (_checked(key, spec[b], base, f"{where}: {b}") for b in ("low", "high"))
    step = typed(key, spec["step"], where=f"{where}: step") if "step" in spec else None
    if not low < high:
        raise UserError(f"{where}: expected low < high, found low = {low}, high = {high}")
    if log and low <= 0:
        raise UserError(f"{where}: a log range needs low > 0, found {low}")
    if step is not None and (log or not step > 0 or step > high - low):
        raise UserError(f"{where}: step: expected a number from above 0 to high - low, and no log, found {step}")
    return Param(key, "int" if kind is int else "float", low, high, log, step)


def toml_value(value) -> str:
    """One TOML value: bool, int, float, string or a table of those (written inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):  # JSON's escapes are TOML's, except DEL, which TOML wants escaped too
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, dict):
        items = [f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"no TOML form for {value!r}")


def toml_key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else toml_value(key)


def to_toml(settings: dict, comment: str = "") -> str:
    """settings as a TOML document (None values are left out: TOML has no null)."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in settings.items() if v is not None]
    return "\n".join(lines) + "\n"


def changes(key: str, was, now) -> str:
    """What differs between a study's setting and a new command's, "fixed.epochs: 1 in the study, 2 here" (a table:
    only its entries that differ), for the line that refuses the command."""
    if isinstance(was, dict) and isinstance(now, dict):  # a key missing and one set to None differ too
        return "; ".join(changes(f"{key}.{k}", was.get(k, "unset"), now.get(k, "unset"))
                         for k in sorted(was.keys() | now.keys()) if k not in was or k not in now or was[k] != now[k])
    return f"{key}: {was} in the study, {now} here"
