"""Where a served request's CPU goes: each stage of POST /api/predict timed alone, in one thread (Markdown table).

    .venv/bin/python tools/serve_stages.py --model runs/NAME/exports/model.onnx [--old-src /tmp/old/src]

The stages of an upload as the load check sends it (280x280 PNG digits, loadtest._digit_png): the
header check, the decode to grey floats, images.to_mnist, the model's share of a forward pass
holding 1, 3 or 8 requests (padded to 16 when the code or the model needs it) and the JSON answer.
Each figure is CPU microseconds (thread time) per request, the least of 7 runs over 50 digits: the
run the rest of a busy machine disturbed least. What the table leaves out is HTTP, FastAPI and the
hand-offs between threads: the server's CPU per request (tools/serve_speed.py) minus these. --old-src
times another checkout's code the same way, in its own process.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"
RUNS = 7  # the least of this many runs is reported
IN_A_PASS = (1, 3, 8)  # requests sharing a forward pass: one client, the 8-client check's usual, its most


def stages(model: str) -> dict:
    """{stage: CPU microseconds per request} for the code on sys.path."""
    import numpy as np

    from mnist_cnn import images, serve
    from mnist_cnn.data import load_mnist, normalise
    from mnist_cnn.loadtest import _digit_png
    from mnist_cnn.predict import Predictor

    pngs = [_digit_png(d) for d in normalise(load_mnist()[1][0][:50])]
    limits = dict(name="d.png", max_pixels=serve.MAX_PIXELS,
                  max_side=getattr(images, "MAX_SIDE", None) or serve.MAX_SIDE)  # older: serve's
    decode = getattr(images, "load_grey", images.load_image)  # older code decodes to a Pillow image
    out = {"header check": _least(lambda b: images.image_pixels(b, **limits), pngs),
           "decode": _least(lambda b: decode(b, **limits), pngs)}
    decoded = [decode(b, **limits) for b in pngs]
    out["to_mnist"] = _least(images.to_mnist, decoded)
    xs = np.stack([images.to_mnist(d) for d in decoded])
    predictor = Predictor(model, threads=serve.MODEL_THREADS)
    probe = getattr(serve, "row_independent", None)
    pad = probe is None or not probe(predictor.decide, serve.BATCH["max_batch"])
    for n in IN_A_PASS:
        blanks = np.zeros((serve.BATCH["max_batch"] - n, 28, 28), np.float32)
        batch = np.concatenate([xs[:n], blanks]) if pad else xs[:n]
        out[f"model, {n} in a pass"] = _least(predictor.decide, [batch] * 10) / n
    d = predictor.decide(xs[:1])[0]
    out["JSON answer"] = _least(lambda x: _answer(serve, d, x), list(xs))
    return out


def _answer(serve, d, x) -> bytes:
    """The answer's body as the code on sys.path makes it (Service.answer without the forward pass)."""
    import numpy as np

    if hasattr(serve, "NumpyJSON"):
        return serve.NumpyJSON({"digit": d.digit, "confidence": d.confidence,
                                "probabilities": d.probabilities.astype(np.float64), "model": "m",
                                "input": np.round(x.astype(np.float64), serve.INPUT_DECIMALS),
                                "rejected": d.rejected, "message": None}).body
    return serve.JSONResponse({"digit": d.digit, "confidence": d.confidence, "probabilities": d.probabilities.tolist(),
                               "model": "m", "input": np.round(x, serve.INPUT_DECIMALS).tolist(),
                               "rejected": d.rejected, "message": None}).body


def _least(fn, items) -> float:
    fn(items[0])
    best = float("inf")
    for _ in range(RUNS):
        started = time.thread_time()
        for item in items:
            fn(item)
        best = min(best, (time.thread_time() - started) / len(items))
    return 1e6 * best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="a --model value (an .onnx file, a run folder, a .keras file)")
    p.add_argument("--old-src", help="another checkout's src/ folder to time the same way (default: none)")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: time the code on PYTHONPATH, print JSON
    args = p.parse_args()
    if args.one:
        print(json.dumps(stages(args.model)))
        return
    trees = [("this checkout", str(HERE))] + ([("old", args.old_src)] if args.old_src else [])
    results = {}
    for name, src in trees:
        done = subprocess.run([sys.executable, __file__, "--model", args.model, "--one", "1"], capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": src, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if done.returncode:
            sys.exit(f"serve_stages: {name} failed: {done.stderr.strip()[-300:]}")
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    names = list(results)
    print("| stage (CPU us per request) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for stage in results[names[0]]:
        print(f"| {stage} | " + " | ".join(f"{results[n].get(stage, float('nan')):,.0f}" for n in names) + " |")
    print("| sum at 3 in a pass | " + " | ".join(
        f"{sum(v for k, v in results[n].items() if 'in a pass' not in k or k.startswith('model, 3')):,.0f}"
        for n in names) + " |")


if __name__ == "__main__":
    main()
