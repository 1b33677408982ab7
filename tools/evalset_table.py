"""The table of docs/images.md: accuracy by family of the generated set (evalset.py) for several models, with to_mnist
as it was at a git revision ("before"), as it is now ("after"), a naive resize and the plain reference.

    PYTHONPATH=src python tools/evalset_table.py runs/FAST runs/BEST [--before 52ccf8b] [--per-family 150]

Renders the set in memory (the same pictures `mnist-cnn evalset make DIR` writes, seed 0) and prints one
Markdown table: a row per family, columns MODEL before/after/naive/reference.
"""

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

from mnist_cnn import evalset, evalset_score
from mnist_cnn.console import table
from mnist_cnn.predict import Predictor
from mnist_cnn.errors import run_tool


def images_at(rev):
    """images.py as it was at git revision `rev`, imported as a module of the package (its relative imports work)."""
    source = subprocess.run(["git", "show", f"{rev}:src/mnist_cnn/images.py"], check=True, capture_output=True,
                            text=True, cwd=Path(__file__).parent).stdout
    spec = importlib.util.spec_from_loader(f"mnist_cnn.images_{rev}", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "mnist_cnn"
    exec(compile(source, f"images.py@{rev}", "exec"), module.__dict__)
    return module


def failing_as_none(f, failures):
    """f, but an exception (a bug of that revision) counts as no digit found, and is counted."""
    def safe(image):
        try:
            return f(image)
        except Exception:
            failures.append(image)
            return None
    return safe


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--before", default="52ccf8b")
    p.add_argument("--per-family", type=int, default=evalset.PER_FAMILY)
    p.add_argument("--seed", type=int, default=evalset.SEED)
    args = p.parse_args()
    images, labels, families = evalset.generate(args.per_family, args.seed, report=print)
    crashes = []
    preprocess = {"before": failing_as_none(images_at(args.before).to_mnist, crashes), **evalset_score.PREPROCESS}
    results = {}
    for path in args.models:
        results[Path(path).name] = evalset_score.score(Predictor(path, runtime="keras"), images, labels, families,
                                                       preprocess)
        print(f"scored {path}", file=sys.stderr, flush=True)
    header = ["family", "n"] + [f"{m} {k}" for m in results for k in preprocess]
    first = next(iter(results.values()))
    rows = [[fam, str(first[fam]["n"])] + [f"{100 * results[m][fam][k]:.1f}" for m in results for k in preprocess]
            for fam in first]
    print(table([header, *rows], markdown=True))
    print(f"before: {len(crashes) // len(results)} picture(s) raised an exception (counted as wrong)")


if __name__ == "__main__":
    run_tool(main)
