"""OpenCV vs scipy.ndimage (vs the old hand-written NumPy) for each image operation images.py uses.

    PYTHONPATH=src .venv/bin/python tools/preprocess_ops.py    # ~20 s; needs opencv-python-headless and scipy

Times (median microseconds, one thread) each operation on arrays like those it sees inside `to_mnist`
for the inputs of tools/preprocess_speed.py, and shows how far each result is from the first row's (the
NumPy or Pillow one). Import costs are measured separately with `python -X importtime -c "import cv2"`
(and scipy.ndimage). The choice in images.py (OpenCV; Pillow kept for the 20 px box) comes from this.
"""

import time

import cv2
import numpy as np
import scipy.ndimage as ndi
from PIL import Image
from preprocess_speed import inputs  # tools/preprocess_speed.py, beside this file

from mnist_cnn import images

cv2.setNumThreads(1)


# The old pure-NumPy helpers of images.py (commit 735a661), as the baseline.
def np_blur3(a):
    p = np.pad(a, 1, mode="edge")
    h, w = a.shape
    return sum(p[i : i + h, j : j + w] for i in range(3) for j in range(3)) / 9


def np_label(mask):
    labels = np.where(mask, np.arange(1, mask.size + 1).reshape(mask.shape), 0)
    while True:
        p = np.pad(labels, 1)
        h, w = mask.shape
        grown = np.where(mask, np.max([p[i : i + h, j : j + w] for i in range(3) for j in range(3)], axis=0), 0)
        grown = np.where(mask, grown.ravel()[np.maximum(grown, 1).ravel() - 1].reshape(mask.shape), 0)
        if np.array_equal(grown, labels):
            return labels
        labels = grown


def np_pool(a, f, reduce):
    h, w = -(-a.shape[0] // f) * f, -(-a.shape[1] // f) * f
    p = np.zeros((h, w), a.dtype)
    p[: a.shape[0], : a.shape[1]] = a
    return reduce(p.reshape(h // f, f, w // f, f), axis=(1, 3))


def np_dilate(a, radius):
    r = int(np.ceil(radius))
    p = np.pad(a, 2 * r)
    h, w = a.shape[0] + 2 * r, a.shape[1] + 2 * r
    out = np.zeros((h, w), a.dtype)
    for i in range(-r, r + 1):
        for j in range(-r, r + 1):
            if i * i + j * j <= radius * radius + 0.5:
                np.maximum(out, p[r + i : r + i + h, r + j : r + j + w], out=out)
    return out


def disc(radius):
    r = int(np.ceil(radius))
    i, j = np.mgrid[-r : r + 1, -r : r + 1]
    return (i * i + j * j <= radius * radius + 0.5).astype(np.uint8)


def same_partition(a, b):
    """Two labellings describe the same blobs (label numbers may differ)."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    return len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]


def us(f, *args, n=None):
    n = n or 20
    t = []
    for _ in range(n):
        s = time.perf_counter()
        out = f(*args)
        t.append(time.perf_counter() - s)
    return out, 1e6 * float(np.median(t))


def ops(grey):
    """{operation: {implementation: (result, microseconds)}} on one input's greyscale array."""
    ink = np.where(grey < 0.5, 1 - grey, 0).astype(np.float32) if grey.mean() > 0.5 else grey
    f = max(1, -(-max(ink.shape) // images.COARSE))
    mask = np_pool(ink, f, np.sum) > 0
    small = np.asarray(Image.fromarray(ink).resize((80, 80), Image.BOX))  # ~4x the output, as _thicken
    k = disc(3.2)
    ph, pw = -(-ink.shape[0] // f) * f, -(-ink.shape[1] // f) * f
    padded = cv2.copyMakeBorder(ink, 0, ph - ink.shape[0], 0, pw - ink.shape[1], cv2.BORDER_CONSTANT, value=0)
    odd = np.ascontiguousarray(ink[: ink.shape[0] * 5 // 6 + 1, : ink.shape[1] * 7 // 10 + 3])  # ~ a digit's box
    return {
        "blur 3x3": {
            "numpy": us(np_blur3, grey),
            "cv2.blur": us(cv2.blur, grey, (3, 3), None, (-1, -1), cv2.BORDER_REPLICATE),
            "ndi.uniform_filter": us(ndi.uniform_filter, grey, 3, None, "nearest"),
        },
        f"label {mask.shape[0]}x{mask.shape[1]}": {
            "numpy": us(np_label, mask, n=5),
            "cv2.connectedComponents": us(lambda m: cv2.connectedComponents(m.view(np.uint8), connectivity=8)[1], mask),
            "ndi.label": us(lambda m: ndi.label(m, np.ones((3, 3)))[0], mask),
        },
        f"sum pool /{f}": {
            "numpy": us(np_pool, ink, f, np.sum),
            "cv2.resize AREA": us(lambda p: cv2.resize(p, (pw // f, ph // f), interpolation=cv2.INTER_AREA) * f * f,
                                  padded),
        },
        "dilate r=3.2 80x80": {
            "numpy": us(np_dilate, small, 3.2),
            "cv2.dilate": us(lambda a: cv2.dilate(cv2.copyMakeBorder(a, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=0), k),
                             small),
            "ndi.grey_dilation": us(lambda a: ndi.grey_dilation(np.pad(a, 4), footprint=k > 0, mode="constant"), small),
        },
        f"resize {odd.shape[0]}x{odd.shape[1]} to 20": {  # not a whole-number scale: the two differ
            "Pillow BOX": us(lambda a: np.asarray(Image.fromarray(a).resize((20, 17), Image.BOX)), odd),
            "cv2.resize AREA": us(cv2.resize, odd, (20, 17), None, 0, 0, cv2.INTER_AREA),
        },
    }


def main() -> None:
    for name, data in inputs().items():
        grey = np.asarray(images.load_image(data), np.float32)
        print(f"\n{name}: median microseconds; max |difference| from the first row")
        for op, impls in ops(grey).items():
            (first, _), *_ = impls.values()
            for impl, (out, t) in impls.items():
                if op.startswith("label"):
                    diff = "same blobs" if same_partition(first, out) else "DIFFERENT BLOBS"
                else:
                    diff = f"{float(np.abs(np.asarray(out, np.float64) - first).max()):.1e}"
                print(f"  {op:<24}{impl:<26}{t:>10.0f}   {diff}")


if __name__ == "__main__":
    main()
