"""Where the seconds of a run's first epoch go: building, the first step (tracing), the other steps, validation.

    .venv/bin/python tools/epoch_phases.py --model fast --seed 1 --rounds 3

Trains the recipe for one epoch with the project's training code (no refusal rule), each round in a fresh process, and
prints per phase the wall seconds and the CPU seconds of all the process's threads:
from the epoch's start to the first step's start (building the optimizer's variables), the first step
(tracing, graph optimisation, running it), the other steps, then from the last step to the validation's
start (Keras making its stream, when given arrays), the validation's first batch (tracing) and the rest.
The "A faster fast" (docs/training.md) timings come from this script.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time

from mnist_cnn.config import resolve
from mnist_cnn.errors import run_tool

MARKS = ("epoch", "step 1 starts", "step 1 ends", "last step ends", "validation starts", "validation batch 1 ends",
         "validation ends")


def one_run(model: str, seed: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds at each of MARKS, in this process (process_time: every thread's CPU)."""
    import mnist_cnn  # noqa: F401  (quiets TensorFlow's start-up log before Keras loads)
    import keras

    from mnist_cnn import train
    from mnist_cnn.config import resolve

    marks = {}

    class Marks(keras.callbacks.Callback):
        def mark(self, name):
            marks.setdefault(name, (time.perf_counter(), time.process_time()))

        def on_epoch_begin(self, epoch, logs=None):
            self.mark(MARKS[0])

        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                self.mark(MARKS[1])

        def on_train_batch_end(self, batch, logs=None):
            self.mark(MARKS[2])
            self.last = (time.perf_counter(), time.process_time())

        def on_test_begin(self, logs=None):
            marks[MARKS[3]] = self.last
            self.mark(MARKS[4])

        def on_test_batch_end(self, batch, logs=None):
            self.mark(MARKS[5])

        def on_test_end(self, logs=None):
            self.mark(MARKS[6])

    with tempfile.TemporaryDirectory() as out:
        cfg = resolve(model, flags={"seed": seed, "out": out, "name": "phases", "epochs": 1})
        train.train(cfg, verbose=0, callbacks=(Marks(),), report=lambda m: None)
    return [marks[m] for m in MARKS]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="fast", help="recipe name (default: fast)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    p.add_argument("--rounds", type=int, default=3, help="fresh processes, one run each (default: 3)")
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a round's child process
    args = p.parse_args()
    if args.one:
        print(json.dumps(one_run(args.model, args.seed)))
        return 0
    resolve(args.model, flags={"seed": args.seed, "epochs": 1})  # a bad --model or --seed: one line, before any round
    names = [f"{a} -> {b}" for a, b in zip(MARKS, MARKS[1:])]
    print("| round | " + " | ".join(names) + " | epoch to validation end |")
    print("|---" * (len(names) + 2) + "|")
    for r in range(args.rounds):
        child = subprocess.run([sys.executable, __file__, "--one", "--model", args.model, "--seed", str(args.seed)],
                               capture_output=True, text=True)
        if child.returncode:
            last = (child.stderr.strip().splitlines() or ["no message"])[-1]
            print(f"{sys.argv[0]}: round {r + 1} failed (exit {child.returncode}): {last}", file=sys.stderr)
            return 1
        at = json.loads(child.stdout.strip().splitlines()[-1])
        cells = [f"{b[0] - a[0]:.2f} s ({b[1] - a[1]:.2f} CPU)" for a, b in zip(at, at[1:])]
        print(f"| {r + 1} | " + " | ".join(cells) + f" | {at[-1][0] - at[0][0]:.2f} s |", flush=True)
    return 0


if __name__ == "__main__":
    run_tool(main)
