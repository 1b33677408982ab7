"""Finding and listing run folders (`mnist-cnn runs`).

A run folder is any sub-folder of `out` with a config.json; finished runs also have metrics.json.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path


def read_json(path: Path) -> dict:
    """The JSON object in path, or {} when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def list_runs(out: str | os.PathLike) -> list[dict]:
    """One row per run folder under out, oldest first: name, model, epochs, accuracies, seconds, date."""
    rows = []
    out = Path(out)
    if not out.is_dir():
        return rows
    for run in sorted(p for p in out.iterdir() if (p / "config.json").is_file()):
        cfg, metrics = read_json(run / "config.json"), read_json(run / "metrics.json")
        state = read_json(run / "checkpoint" / "state.json")
        rows.append({
            "name": run.name, "path": str(run), "model": cfg.get("model", "?"),
            "epochs": metrics.get("epochs_run", state.get("epoch", 0)), "of": cfg.get("epochs"),
            "val_accuracy": metrics.get("best_val_accuracy"), "test_accuracy": metrics.get("test_accuracy"),
            "train_seconds": metrics.get("train_seconds", state.get("train_seconds")),
            "date": metrics.get("finished") or datetime.fromtimestamp((run / "config.json").stat().st_mtime)
            .isoformat(timespec="seconds"),
            "status": "finished" if metrics else "unfinished",
        })
    return sorted(rows, key=lambda r: r["date"])


def best_run(out: str | os.PathLike) -> Path | None:
    """The finished run with the highest validation accuracy (never chosen by the test set)."""
    done = [r for r in list_runs(out) if r["val_accuracy"] is not None and Path(r["path"], "model.keras").is_file()]
    return Path(max(done, key=lambda r: r["val_accuracy"])["path"]) if done else None


def format_table(rows: list[dict]) -> str:
    def pct(v):
        return f"{v:.2%}" if v is not None else "-"

    table = [("name", "model", "epochs", "val acc", "test acc", "train s", "date")]
    for r in rows:
        epochs = f"{r['epochs']}/{r['of']}" if r["status"] != "finished" else str(r["epochs"])
        seconds = f"{r['train_seconds']:.1f}" if r["train_seconds"] is not None else "-"
        table.append((r["name"], r["model"], epochs, pct(r["val_accuracy"]), pct(r["test_accuracy"]), seconds,
                      r["date"].replace("T", " ")))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
