"""Training seconds of several recipes or config files against each other, measured in one run.

    .venv/bin/python tools/recipe_race.py fast sweeps/fast-v1.toml --seeds 1,2,3
    .venv/bin/python tools/recipe_race.py fast keras-io --seeds 1      # the README's "x faster" ratio

Each entry is a recipe name or a config file (`train --config`: TOML or a run's config.json). Every
(seed, entry) trains once, with the project's normal training code, in a fresh process (as `bench`
does), one after another: seed by seed, the entries in a rotated order each round, so load from
other jobs on a shared machine falls on all of them alike. Printed: each entry's validation and test
accuracy and training seconds (mean ± sample sd over the seeds; metrics.json's `train_seconds`,
per-epoch validation included), the CPU seconds of the same span (every thread of the process: less
sensitive than wall seconds to other jobs on a shared machine), and the median over seeds of each
/ the first entry's (the figures to quote: seconds on a shared machine compare only within one run).
No refusal rule is fitted; run folders go to a temporary folder (--keep-runs DIR keeps them).
"""

import argparse
import concurrent.futures
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

from mnist_cnn.config import RECIPES, resolve
from mnist_cnn.errors import UserError, run_tool


def config_of(entry: str, seed: int, out: str):
    """The TrainConfig an entry names (recipe or file), for one seed, training into out."""
    flags = {"seed": seed, "out": out, "name": f"race-{Path(entry).stem}-seed{seed}"}
    if entry in RECIPES:
        return resolve(entry, flags=flags)
    if not Path(entry).is_file():
        raise UserError(f"{entry}: neither a recipe ({', '.join(RECIPES)}) nor a config file")
    return resolve(file=entry, flags=flags)


def cpu_clock():
    """A keras callback: the process's CPU seconds (every thread) over what train_seconds times, each
    epoch from its start to the end of its validation (not the checkpoint written after it)."""
    import keras

    class _Clock(keras.callbacks.Callback):
        seconds = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.process_time()

        def on_test_end(self, logs=None):
            self.seconds += time.process_time() - self.started

    return _Clock()


def train_one(cfg) -> dict:
    """Train cfg in this process (the parent runs it in a fresh one); its metrics and CPU seconds."""
    from mnist_cnn.console import quiet
    from mnist_cnn.train import train

    clock = cpu_clock()
    m = train(cfg, verbose=0, report=quiet, callbacks=[clock]).metrics
    return {**{k: m[k] for k in ("train_seconds", "best_val_accuracy", "test_accuracy")}, "cpu_seconds": clock.seconds}


def in_fresh_process(cfg) -> dict:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
        return pool.submit(train_one, cfg).result()


def pm(values: list[float], fmt: str) -> str:
    return f"{statistics.mean(values):{fmt}}" + (f" ± {statistics.stdev(values):{fmt}}" if len(values) > 1 else "")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("entries", nargs="+", help="recipe names or config files; ratios are to the first")
    p.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (default: 1,2,3)")
    p.add_argument("--keep-runs", metavar="DIR",
                   help="train into DIR and keep the run folders (default: a temporary folder)")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory(prefix="recipe-race-") as tmp:
        out = args.keep_runs or tmp
        configs = {e: {s: config_of(e, s, out) for s in seeds} for e in args.entries}  # every entry checked first
        results = {e: {} for e in args.entries}
        for i, seed in enumerate(seeds):
            order = args.entries[i % len(args.entries):] + args.entries[:i % len(args.entries)]
            for entry in order:
                results[entry][seed] = r = in_fresh_process(configs[entry][seed])
                print(f"seed {seed} {entry}: {r['train_seconds']:.2f} s ({r['cpu_seconds']:.2f} CPU-s), validation "
                      f"{r['best_val_accuracy']:.2%}, test {r['test_accuracy']:.2%}", flush=True)
    first = args.entries[0]
    print(f"\n| entry | seeds | validation acc | test acc | train s | train CPU-s | s vs {first} | CPU-s vs {first} |\n"
          "|---|---|---|---|---|---|---|---|")
    for e in args.entries:
        r = results[e]

        def ratio(key):
            return statistics.median(r[s][key] / results[first][s][key] for s in seeds)

        print(f"| {e} | {args.seeds} | {pm([100 * r[s]['best_val_accuracy'] for s in seeds], '.2f')}% | "
              f"{pm([100 * r[s]['test_accuracy'] for s in seeds], '.2f')}% | "
              f"{pm([r[s]['train_seconds'] for s in seeds], '.2f')} | "
              f"{pm([r[s]['cpu_seconds'] for s in seeds], '.2f')} | "
              f"{ratio('train_seconds'):.2f}x | {ratio('cpu_seconds'):.2f}x |")


if __name__ == "__main__":
    run_tool(main)
