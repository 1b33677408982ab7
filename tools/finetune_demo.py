"""Measured example of learning from corrections: a person's style of 7 that a model misreads, finetuned on.

    PYTHONPATH=src python tools/finetune_demo.py --model runs/FAST [--work /tmp/finetune-demo]
                           [--corrections 10] [--held-out 200] [--picture docs/finetune_sevens.png]
                           [--seed 7] [--control] [-- FINETUNE FLAGS, e.g. --epochs 1]

The person writes 7 with a curled foot: a flat top bar, a stem that bends and curls to the right at
the bottom (drawn as pen strokes with their own wobble: angle, size, slant, position, stroke width
and each point jittered, all from a fixed seed, then turned into the 28x28 the model sees by
`images.to_mnist`, as the web page's drawings are). The steps, all with the package's own code:

1. the model folder is copied to WORK/runs/ (nothing is written into the original);
2. the person draws 7s until the model has misread `--corrections` of them; each misread one is
   saved into WORK/feedback/ with label 7 by `feedback.FeedbackStore`, as the page's "Wrong? Tell
   it" does through POST /api/feedback;
3. `mnist-cnn finetune WORK/runs/MODEL --extra-data WORK/feedback` (a subprocess: the real command);
4. `--held-out` other 7s of the same style (never trained on) and the MNIST test set are read by the
   model before and after. A Markdown table goes to stdout, the figures to WORK/results.json.

--control saves as many ordinary 7s (MNIST training images) in place of the person's: the same
extra training, without the style, to show that the corrections are what teach it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mnist_cnn.errors import UserError, run_tool

SEED = 7  # the person's hand: one seed for every stroke drawn (--seed: another day's wobble)
PAD = 280  # the web page's pad and PNG size
TRAIN_DRAWS = 1000  # at most this many 7s drawn while collecting corrections


def _curve(p0, p1, p2, n=16):
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * np.array(p0) + 2 * (1 - t) * t * np.array(p1) + t ** 2 * np.array(p2)


# A 7 with a curled foot, in pad coordinates (0..1, y down): the top bar, then the stem bending left
# and down, then the curl to the right at the bottom. One stroke, as a person draws it.
SEVEN = np.concatenate([[(0.28, 0.24)], _curve((0.72, 0.24), (0.42, 0.52), (0.50, 0.78)),
                        _curve((0.50, 0.78), (0.56, 0.90), (0.70, 0.78))[1:]])


def draw_seven(rng) -> np.ndarray:
    """One 7 in the person's style on a 280x280 pad, white on black (the page's drawing)."""
    angle, scale, slant = np.deg2rad(rng.normal(0, 5)), 1 + rng.normal(0, 0.07), rng.normal(0, 0.08)
    m = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.array([[1, slant], [0, 1]])
    points = (SEVEN - 0.5) @ (scale * m).T + 0.5 + rng.normal(0, 0.03, 2) + rng.normal(0, 0.008, SEVEN.shape)
    width = round(rng.uniform(0.055, 0.085) * PAD)  # around the page's pen (0.07 of the pad)
    img = Image.new("L", (PAD, PAD), 0)
    d = ImageDraw.Draw(img)
    xy = [tuple(p * PAD) for p in points]
    d.line(xy, fill=255, width=width, joint="curve")
    for x, y in (xy[0], xy[-1]):  # round caps, as the page's canvas draws them
        d.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
    return np.asarray(img)


def mnist_view(drawing) -> np.ndarray:
    from mnist_cnn import images

    return images.to_mnist(drawing)


def read(model_dir: Path, x: np.ndarray) -> np.ndarray:
    from mnist_cnn.predict import Predictor

    return Predictor(model_dir, runtime="keras").probabilities(x).argmax(1)


def mnist_test(model_dir: Path) -> tuple[float, np.ndarray, np.ndarray]:
    from mnist_cnn import data, evaluate
    from mnist_cnn.hardware import inference_policy
    from mnist_cnn.models import load_model

    (_, _), (x, y) = data.load_mnist()
    guesses = evaluate.predict_proba(load_model(model_dir, inference_policy()), data.normalise(x)).argmax(1)
    return float(np.mean(guesses == y)), guesses, y


def collect(model_dir: Path, folder: Path, n: int, rng) -> tuple[np.ndarray, int]:
    """Draw 7s until the model misread n of them; save those as corrections. (images, how many were drawn)."""
    from mnist_cnn.feedback import FeedbackStore

    store, saved, drawn = FeedbackStore(folder), [], 0
    while len(saved) < n and drawn < TRAIN_DRAWS:
        batch = np.stack([mnist_view(draw_seven(rng)) for _ in range(n)])
        drawn += len(batch)
        for x, guess in zip(batch, read(model_dir, batch)):
            if guess != 7 and len(saved) < n:
                store.save(np.round(x, 3), 7)  # what POST /api/feedback stores: the API's rounded `input`
                saved.append(x)
    return np.stack(saved), drawn


def control_sevens(folder: Path, n: int) -> np.ndarray:
    """The control: n ordinary 7s (MNIST training images) saved as the 'corrections' instead."""
    from mnist_cnn import data
    from mnist_cnn.feedback import FeedbackStore

    (x, y), _ = data.load_mnist()
    sevens = data.normalise(x[np.flatnonzero(y == 7)[:n]])[..., 0]
    for s in sevens:
        FeedbackStore(folder).save(np.round(s, 3), 7)
    return sevens


def picture(path: Path, rows: list[np.ndarray]) -> None:
    strip = [np.concatenate(list(r), axis=1) for r in rows]
    grid = (np.concatenate(strip, axis=0) * 255).astype(np.uint8)
    Image.fromarray(grid).resize((grid.shape[1] * 3, grid.shape[0] * 3), Image.NEAREST).save(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="a finished run folder of the fast recipe")
    ap.add_argument("--work", default="/tmp/finetune-demo", help="scratch folder, emptied first")
    ap.add_argument("--corrections", type=int, default=10, help="misread 7s corrected (default: 10)")
    ap.add_argument("--held-out", type=int, default=200, help="other 7s of the style, never trained on (default: 200)")
    ap.add_argument("--picture", help="also save corrections and held-out 7s as a PNG (default: none)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"the hand's random seed (default: {SEED})")
    ap.add_argument("--control", action="store_true",
                    help="finetune on ordinary MNIST 7s instead of the person's (same count): is it the style?")
    ap.add_argument("finetune_flags", nargs="*", help="extra flags for mnist-cnn finetune, after --")
    args = ap.parse_args()

    if not (Path(args.model) / "config.json").is_file():
        raise UserError(f"--model: expected a run folder (with config.json), found {args.model}")
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    run = work / "runs" / Path(args.model).name
    shutil.copytree(args.model, run, ignore=shutil.ignore_patterns("exports", "checkpoint", "feedback", ".lock"))
    rng = np.random.default_rng(args.seed)
    corrections, drawn = collect(run, work / "feedback", args.corrections, rng)
    if args.control:
        shutil.rmtree(work / "feedback")
        corrections, drawn = control_sevens(work / "feedback", args.corrections), 0
    held_out = np.stack([mnist_view(draw_seven(rng)) for _ in range(args.held_out)])  # drawn after: never trained on

    before = read(run, held_out)
    test_before, guesses_before, y = mnist_test(run)
    command = [sys.executable, "-m", "mnist_cnn", "finetune", str(run), "--extra-data", str(work / "feedback"),
               "--name", "finetuned", "--quiet", "--no-calibrate", *args.finetune_flags]
    started = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    seconds = time.perf_counter() - started
    tuned = work / "runs" / "finetuned"
    after = read(tuned, held_out)
    test_after, guesses_after, _ = mnist_test(tuned)

    r = {"seed": args.seed, "corrections": len(corrections), "control": args.control, "drawn_to_collect_them": drawn,
         "held_out": len(held_out), "held_out_read_as_7_before": float(np.mean(before == 7)),
         "held_out_read_as_7_after": float(np.mean(after == 7)),
         "held_out_guesses_before": np.bincount(before, minlength=10).tolist(),
         "held_out_guesses_after": np.bincount(after, minlength=10).tolist(),
         "corrections_read_as_7_after": float(np.mean(read(tuned, corrections) == 7)),
         "mnist_test_before": test_before, "mnist_test_after": test_after,
         "mnist_test_changed_answers": int(np.sum(guesses_before != guesses_after)),
         "mnist_2s_before": float(np.mean(guesses_before[y == 2] == 2)),
         "mnist_2s_after": float(np.mean(guesses_after[y == 2] == 2)),
         "mnist_7s_before": float(np.mean(guesses_before[y == 7] == 7)),
         "mnist_7s_after": float(np.mean(guesses_after[y == 7] == 7)),
         "finetune_seconds": round(seconds, 1), "command": " ".join(command[1:]),
         "config": json.loads((tuned / "config.json").read_text())}
    (work / "results.json").write_text(json.dumps(r, indent=2) + "\n")
    what = "ordinary MNIST 7s (control)" if args.control else f"corrections (misread 7s among {drawn} drawn)"
    print(f"\n{r['corrections']} {what}; finetune took {seconds:.0f} s (the command, wall time)\n")
    print("| | before | after |\n|---|---|---|")
    print(f"| held-out 7s of the style read as 7 ({len(held_out)}) | {r['held_out_read_as_7_before']:.1%} | "
          f"{r['held_out_read_as_7_after']:.1%} |")
    print(f"| MNIST test accuracy (10,000) | {test_before:.2%} | {test_after:.2%} |")
    print(f"| MNIST test 2s / 7s right | {r['mnist_2s_before']:.2%} / {r['mnist_7s_before']:.2%} | "
          f"{r['mnist_2s_after']:.2%} / {r['mnist_7s_after']:.2%} |")
    print(f"\nheld-out guesses (counts of 0..9) before {r['held_out_guesses_before']}, "
          f"after {r['held_out_guesses_after']}; {r['mnist_test_changed_answers']} MNIST test answers changed")
    if args.picture:
        picture(Path(args.picture), [corrections, held_out[:len(corrections)]])
    return 0


if __name__ == "__main__":
    run_tool(main)
