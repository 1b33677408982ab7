"""The bench's export rows for trained runs you already have, without training anything (Markdown table).

    .venv/bin/python tools/export_bench.py runs/fast runs/best      # exports what is missing, then times each

For each run folder: Keras and its ONNX and LiteRT exports (float32 and int8, made with `mnist-cnn
export` where missing), each timed in a fresh process by `mnist_cnn.bench_export` (the same code
`mnist-cnn bench` runs for the fast and best recipes): images/s at batch 1024, one-image latency
p50/p99, file size, test accuracy, peak RSS and cold start. The README's "Export and run anywhere"
rows come from this script.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mnist_cnn import bench_export  # noqa: E402
from mnist_cnn.hardware import cpu_info  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", help="run folders (each with model.keras, config.json, metrics.json)")
    args = p.parse_args()
    rows = []
    for run in args.runs:
        rows += bench_export.measure(run, label=Path(run).name, report=lambda m: print(m, file=sys.stderr, flush=True))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"CPU: {cpu_info().model}\n")
    print(bench_export.markdown(rows))


if __name__ == "__main__":
    main()
