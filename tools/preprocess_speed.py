"""Milliseconds per image of `load_image` (decoding) and `to_mnist` (preprocessing) on typical inputs.

    PYTHONPATH=src .venv/bin/python tools/preprocess_speed.py          # ~10 s
    git show 735a661:src/mnist_cnn/images.py > /tmp/images_old.py      # the pure-NumPy version, for a
    PYTHONPATH=src .venv/bin/python tools/preprocess_speed.py --baseline /tmp/images_old.py   # before/after

Inputs are encoded files, as an upload or `mnist-cnn predict` gets them: the web page's 280x280
drawing (opaque RGBA PNG, white on black), a 160x160 greyscale drawing and a noisy 160x160 scan with a
small off-centre digit (PNGs, like those of docs/images.md's `predict` timing), and noisy RGB JPEG photos of
1000x800 and 3000x4000 (a 12 MP phone photo). Each is timed `--rounds` times, interleaved (with the
baseline too), in one process on one thread, in CPU time of that thread: the machine is shared and
wall time would count other people's work. Medians are printed (best in brackets). Speed is
reported here, never asserted in tests.
"""

import argparse
import importlib.util
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
        "scan 160x160 PNG": encode(page(160, 160, 60, (70, 40), 60, 190, noise=6), "PNG"),  # as docs/images.md's
        "photo 1000x800 JPEG": encode(photo(1000, 800), "JPEG", quality=90),
        "photo 3000x4000 JPEG": encode(photo(3000, 4000), "JPEG", quality=90),
    }


def baseline(path):
    """Another version of images.py, imported from a file as a module of this package."""
    spec = importlib.util.spec_from_file_location("mnist_cnn._baseline_images", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(f, *args):
    t = time.thread_time_ns()
    out = f(*args)
    return out, (time.thread_time_ns() - t) / 1e6


def measure(versions, cases, rounds, cold=False):
    """{(version, input): (load ms list, to_mnist ms list)}, every version and input interleaved."""
    for module in versions.values():  # warm up: first calls pay for imports and caches
        for data in cases.values():
            module.to_mnist(module.load_image(data))
    ms = {(v, name): ([], []) for v in versions for name in cases}
    for _ in range(rounds):
        for name, data in cases.items():
            for v, module in versions.items():
                if cold and hasattr(module, "_border"):
                    module._border.cache_clear()  # as for the first image of a size
                img, load = timed(module.load_image, data)
                x, prep = timed(module.to_mnist, img)
                assert x is not None, name
                ms[v, name][0].append(load)
                ms[v, name][1].append(prep)
    return ms


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=15, help="timed runs per input (default: 15)")
    p.add_argument("--baseline", help="another images.py to time alongside, e.g. the old version")
    p.add_argument("--cold", action="store_true", help="clear the per-image-size cache before every image")
    p.add_argument("--only", help="time only the inputs whose name contains this, e.g. 'drawing'")
    args = p.parse_args()
    versions = {"before": baseline(args.baseline)} if args.baseline else {}
    versions["now"] = images
    cases = {name: data for name, data in inputs().items() if args.only is None or args.only in name}
    ms = measure(versions, cases, args.rounds, args.cold)
    print(f"{'input':<22}{'version':<8}{'load_image':>16}{'to_mnist':>16}{'total':>9}  "
          f"(CPU ms: median (best) of {args.rounds})")
    for name in cases:
        for v in versions:
            load, prep = ms[v, name]
            total = np.add(load, prep)
            line = (f"{name:<22}{v:<8}{np.median(load):>9.2f} ({min(load):5.2f}){np.median(prep):>9.2f} "
                    f"({min(prep):5.2f}){np.median(total):>9.2f}")
            if v == "now" and "before" in versions:
                old_load, old_prep = ms["before", name]
                line += (f"   {np.median(old_prep) / np.median(prep):4.1f}x to_mnist, "
                         f"{np.median(np.add(old_load, old_prep)) / np.median(total):4.1f}x total")
            print(line)


if __name__ == "__main__":
    main()
