"""One recipe trained over several seeds, and the statistics of the results.

    mnist-cnn train --model fast --seeds 1,2,3     # runs/fast-DATE-TIME-seed1, -seed2, -seed3; mean ± std printed

    from mnist_cnn import seeds
    results = seeds.train_seeds(cfg, [1, 2, 3], verbose=0)   # [RunResult]; stops after an interrupted one
    seeds.summary(results)   # {"n": 3, "test_accuracy": (mean, std), "train_seconds": (mean, std), ...}

The standard deviation is the sample one (n - 1 in the denominator: the seeds are a sample of all
seeds); with one seed it is None. Only finished runs count.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

from .config import TrainConfig, check
from .errors import ConfigError

STATISTICS = ("test_accuracy", "best_val_accuracy", "train_seconds")  # metrics.json keys summarised


def run_name(base: str, seed: int) -> str:
    return f"{base}-seed{seed}"


def mean_std(values: list[float]) -> tuple[float, float | None]:
    """(mean, sample standard deviation); the deviation is None for fewer than two values."""
    if not values:
        raise ValueError("no values")
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))


def train_seeds(cfg: TrainConfig, seeds: list[int], **train_kwargs) -> list:
    """Train cfg once per seed into OUT/NAME-seedS (NAME: cfg.name or <model>-<date>-<time>).

    Every run folder's name is checked free before the first run starts. Returns the RunResults in
    seed order; an interrupted run (Ctrl-C) is the last one.
    """
    from .train import train

    base = cfg.name or f"{cfg.model}-{datetime.now():%Y%m%d-%H%M%S}"
    configs = [cfg.replace(seed=s, name=run_name(base, s)) for s in seeds]
    for c in configs:
        check(c)
        if (Path(c.out) / c.name).exists():
            raise ConfigError("name", f"{Path(c.out) / c.name} already exists; pick another name")
    results = []
    for c in configs:
        results.append(train(c, **train_kwargs))
        if results[-1].interrupted:
            break
    return results


def summary(results: list) -> dict:
    """n and (mean, std) of each STATISTICS metric over the finished runs (RunResults or metrics dicts)."""
    metrics = [r if isinstance(r, dict) else r.metrics for r in results]
    metrics = [m for m in metrics if m]
    out = {"n": len(metrics)}
    if metrics:
        out.update({key: mean_std([float(m[key]) for m in metrics]) for key in STATISTICS})
    return out
