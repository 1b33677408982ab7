"""Record `images.to_mnist` outputs on the fixed cases of tests/preprocess_cases.py as a test fixture.

    PYTHONPATH=src .venv/bin/python tools/preprocess_reference.py                    # writes the fixture
    PYTHONPATH=src .venv/bin/python tools/preprocess_reference.py --compare          # today's code vs the fixture
    PYTHONPATH=src .venv/bin/python tools/preprocess_reference.py --cases lighting   # rewrites only those cases

The fixture (tests/data/preprocess_reference.npz, 20 KB) holds the MNIST test digits the cases
are rendered from, so the test needs no MNIST download, and each case's 28x28 output as float16
(steps of <= 0.0005 in [0, 1]) with a flag for None. It was written by the pure-NumPy images.py
(commit 735a661) and is the yardstick test_images.py holds the OpenCV-based version to: rewrite it
only on purpose, when the preprocessing is meant to change, and then only the cases it is meant to change
(--cases). Outputs are recorded before to_mnist's last step, slant.deslant, which came later: the test
deslants them.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "preprocess_reference.npz"
sys.path.insert(0, str(ROOT / "tests"))

import preprocess_cases  # noqa: E402

from mnist_cnn import data, images  # noqa: E402
from mnist_cnn.images import to_mnist  # noqa: E402


def outputs(digits):
    """(names, outputs before deslant, None flags) of every case."""
    names, outs, none = [], [], []
    deslant, images.deslant = images.deslant, lambda x: x
    try:
        found = {name: to_mnist(preprocess_cases.inputs(case)) for name, case in preprocess_cases.build(digits).items()}
    finally:
        images.deslant = deslant
    for name, x in found.items():
        names.append(name)
        none.append(x is None)
        outs.append(np.zeros((28, 28), np.float32) if x is None else x)
    return np.array(names), np.stack(outs), np.array(none)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--compare", action="store_true", help="compare today's outputs with the fixture instead")
    p.add_argument("--cases", help="rewrite only the cases of this kind (e.g. lighting), keeping the others")
    args = p.parse_args()
    if args.compare or args.cases:
        ref = np.load(FIXTURE)
        digits, names, outs, none = ref["digits"], *outputs(ref["digits"])
        old, kinds = ref["outputs"].astype(np.float32), sorted({n.split(" ", 1)[1] for n in names})
        if args.cases and args.cases not in kinds:
            sys.exit(f"--cases: expected one of {', '.join(kinds)}, found {args.cases!r}")
        for k, (n, x, z, rx, rz) in enumerate(zip(names, outs, none, old, ref["none"])):
            d = np.abs(x - rx)
            print(f"{n:<20} none {z!s:<5} (ref {rz!s:<5}) max {d.max():.4f} mean {d.mean():.5f}")
            if args.cases and n.split(" ", 1)[1] != args.cases:
                outs[k], none[k] = rx, rz
        if args.compare:
            return
    else:
        (_, _), (x_test, _) = data.load_mnist(report=data.stderr_report)
        digits = x_test[: preprocess_cases.N_DIGITS]
        names, outs, none = outputs(digits)
    FIXTURE.parent.mkdir(exist_ok=True)
    np.savez_compressed(FIXTURE, digits=digits, names=names, outputs=outs.astype(np.float16), none=none)
    print(f"{FIXTURE.relative_to(ROOT)}: {len(names)} cases, {none.sum()} without a digit, "
          f"{FIXTURE.stat().st_size / 1e3:.0f} KB")


if __name__ == "__main__":
    main()
