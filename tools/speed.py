"""Training speed of a recipe's network in float32 vs mixed_bfloat16 and at several batch sizes, side by side.

    .venv/bin/python tools/speed.py --model best                      # ~2 min: float32 vs bfloat16
    .venv/bin/python tools/speed.py --model fast --batch-sizes 128,256,512

Every variant trains on the same random images, interleaved round by round, so machine noise hits all
alike; CPU-seconds (not wall seconds) are compared because this machine is shared. The
"Training speed by precision" figures (README, docs/training.md) come from this script.
"""

import argparse
import time

import mnist_cnn  # noqa: F401  (quiets TensorFlow's start-up log before Keras loads)
import keras
import numpy as np

from mnist_cnn import models
from mnist_cnn.config import recipe as get_recipe
from mnist_cnn.errors import run_tool


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="best", help="recipe name (default: best)")
    p.add_argument("--batch-sizes", default=None, help="comma-separated (default: the recipe's batch size)")
    p.add_argument("--steps", type=int, default=60,
                   help="training steps per timed round at the largest batch size (default: 60)")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds per variant (default: 3)")
    args = p.parse_args()
    recipe = get_recipe(args.model)
    batches = [int(b) for b in args.batch_sizes.split(",")] if args.batch_sizes else [recipe.batch_size]
    rng = np.random.default_rng(0)
    n = max(batches) * args.steps
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, n), 10)
    nets = {}
    for policy in ("float32", "mixed_bfloat16"):
        for batch in batches:
            net = models.build(recipe, policy)
            net.compile(optimizer=models.optimizer(recipe, 1e-3), loss="categorical_crossentropy")
            net.fit(x[:batch * 3], y[:batch * 3], batch_size=batch, verbose=0)  # trace and warm up
            nets[policy, batch] = net
    rates = {key: [] for key in nets}
    for _ in range(args.rounds):
        for (policy, batch), net in nets.items():
            cpu = time.process_time()
            net.fit(x, y, batch_size=batch, verbose=0)
            rates[policy, batch].append(n / (time.process_time() - cpu))
    base = np.median(rates["float32", batches[0]])
    for (policy, batch), r in rates.items():
        print(f"{args.model} batch {batch:>4} {policy:>14}: {np.median(r):>7,.0f} training images per CPU-second, "
              f"{np.median(r) / base:.2f}x (rounds: {', '.join(f'{v:,.0f}' for v in r)})")


if __name__ == "__main__":
    run_tool(main)
