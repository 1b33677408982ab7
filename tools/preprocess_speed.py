"""Milliseconds per image of `load_image` (decoding) and `to_mnist` (preprocessing) on typical inputs.

    PYTHONPATH=src .venv/bin/python tools/preprocess_speed.py              # ~30 s
    PYTHONPATH=src .venv/bin/python tools/preprocess_speed.py --rounds 3   # quicker, noisier

Inputs are encoded files, as an upload or `mnist-cnn predict` gets them: the web page's 280x280
drawing (opaque RGBA PNG, white on black), a 160x160 greyscale PNG, and noisy RGB JPEG photos of
1000x800 and 3000x4000 (a 12 MP phone photo). Each is timed `--rounds` times, interleaved, in one
process on one thread; the median and best are printed. Speed is reported here, never asserted in tests.
"""

import argparse
import io
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as in the server: no BLAS thread pool competing

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from mnist_cnn import images  # noqa: E402


def page(w, h, side, at, ink, paper, seed=0, noise=0.0):
    """A page of `paper` with a ring-and-bar "digit" of `side` px at `at` in `ink`, plus Gaussian noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy, r = at[0] + side / 2, at[1] + side / 2, side * 0.3
    t = max(2.0, side * 0.06)  # MNIST-like stroke: ~6% of the digit height
    ring = np.abs(np.hypot(x - cx, (y - cy + side * 0.15) * 1.2) - r) < t / 2
    bar = (np.abs(x - (cx + r)) < t / 2) & (y > cy - side * 0.2) & (y < cy + side * 0.45)
    a = paper + (ink - paper) * (ring | bar)
    if noise:
        a = a + np.random.default_rng(seed).normal(0, noise, a.shape)
    return a.clip(0, 255).astype(np.uint8)


def encode(a, fmt, mode=None, **kw):
    buf = io.BytesIO()
    img = Image.fromarray(a)
    (img.convert(mode) if mode else img).save(buf, fmt, **kw)
    return buf.getvalue()


def inputs():
    photo = lambda w, h: np.stack([page(w, h, h // 2, (w // 3, h // 4), 60, 190, noise=6)] * 3, -1)  # noqa: E731
    return {
        "drawing 280x280 PNG": encode(page(280, 280, 200, (40, 40), 255, 0), "PNG", "RGBA"),
        "drawing 160x160 PNG": encode(page(160, 160, 120, (20, 20), 0, 255), "PNG"),
        "photo 1000x800 JPEG": encode(photo(1000, 800), "JPEG", quality=90),
        "photo 3000x4000 JPEG": encode(photo(3000, 4000), "JPEG", quality=90),
    }


def timed(f, *args):
    t = time.perf_counter()
    out = f(*args)
    return out, (time.perf_counter() - t) * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=15, help="timed runs per input (default: 15)")
    args = p.parse_args()
    cases = inputs()
    for data in cases.values():  # warm up: first calls pay for imports and caches
        images.to_mnist(images.load_image(data))
    ms = {name: ([], []) for name in cases}
    for _ in range(args.rounds):
        for name, data in cases.items():
            img, load = timed(images.load_image, data)
            x, prep = timed(images.to_mnist, img)
            assert x is not None, name
            ms[name][0].append(load)
            ms[name][1].append(prep)
    print(f"{'input':<22}{'load_image ms':>16}{'to_mnist ms':>16}{'total ms':>12}   (median, best of {args.rounds})")
    for name, (load, prep) in ms.items():
        total = np.add(load, prep)
        print(f"{name:<22}{np.median(load):>9.2f} ({min(load):5.2f}){np.median(prep):>9.2f} ({min(prep):5.2f})"
              f"{np.median(total):>12.2f}")


if __name__ == "__main__":
    main()
