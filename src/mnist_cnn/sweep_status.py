"""A sweep's study read back: one line per trial, the status table, the best trial, its settings as TOML.

    mnist-cnn sweep NAME --status [--export-best best.toml]

    from mnist_cnn import sweep, sweep_status
    study = sweep.open_study("seed-fast", sweep.default_storage(Path("runs/sweeps/seed-fast")))
    print(console.table(sweep_status.status_rows(study)))
    sweep_status.export_best(study, "best.toml")     # mnist-cnn train --config best.toml trains it again

The exported file is the study's recipe, the settings every trial had fixed (those that differ from
the recipe, from --config and flags) and the best trial's searched settings. With --seeds the
objective was a mean over seeds, so the file names no seed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import UserError
from .sweep_space import decode_params, to_toml


def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={json.dumps(v) if isinstance(v, dict) else f'{v:.4g}' if isinstance(v, float) else v}"
                     for k, v in decode_params(params).items())


def trial_line(t) -> str:
    """One line about a finished trial (what `run` reports after each)."""
    seconds = f" in {t.duration.total_seconds():.1f} s" if t.duration else ""
    what = {"COMPLETE": lambda: f"validation accuracy {t.value:.2%}",
            "PRUNED": lambda: f"after epoch {t.last_step}" if t.last_step else "before its first epoch",
            "FAIL": lambda: t.user_attrs.get("error", "stopped")}.get(t.state.name, lambda: "")()
    return f"trial {t.number} {t.state.name}{seconds}: {what} ({_params_text(t.params)})"


def status_rows(study) -> list[tuple]:
    """Rows for console.table: trial, state, validation accuracy, seconds, worker, params."""
    rows = [("trial", "state", "val acc", "seconds", "worker", "params")]
    for t in study.get_trials(deepcopy=False):
        acc = f"{t.value:.2%}" if t.value is not None else "-"
        seconds = f"{t.duration.total_seconds():.1f}" if t.duration else "-"
        rows.append((str(t.number), t.state.name, acc, seconds, t.user_attrs.get("worker", "-"),
                     _params_text(t.params)))
    return rows


def best_trial(study):
    """The COMPLETE trial with the highest objective, or None."""
    import optuna

    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return max(done, key=lambda t: (t.value, -t.number)) if done else None


def best_settings(study) -> dict:
    """The recipe, the study's fixed settings and the best trial's params: a `train --config` file's table."""
    best = best_trial(study)
    if best is None:
        raise UserError(f"study {study.study_name!r}: no finished trial yet; nothing to export")
    attrs = study.user_attrs
    return {"model": attrs.get("model", "seed"), **attrs.get("fixed", {}), **decode_params(best.params)}


def export_best(study, path: str | os.PathLike) -> dict:
    """Write the best settings as TOML (atomically); returns them."""
    from . import files
    from .console import shown

    if not Path(path).parent.is_dir():
        raise UserError(f"{shown(path)}: its folder does not exist")
    settings = best_settings(study)
    best = best_trial(study)
    seeds = study.user_attrs.get("seeds")
    note = (f"best of study {shown(study.study_name)}: trial {best.number}, validation accuracy {best.value:.4%}"
            + (f" (mean over seeds {', '.join(map(str, seeds))})" if seeds else "")
            + f"\nmnist-cnn train --config {shown(Path(path).name)}")
    files.write_text(path, to_toml(settings, note))
    return settings
