"""Score to_mnist on tight crops of MNIST test digits: ink touching the border, upscaled (thick, blurry strokes).

    PYTHONPATH=src python tools/tight_crops.py [N]     # N: first N test digits (500)

Families: crop to the ink's box, bicubic upscale to 64-200 px ("up"), or first down to 10 px then up
("lowres"); white-on-black ("wob") or dark-on-light ("dol"); as grey PNG, RGBA with a transparent
background (ink opaque) and grey JPEG quality 75. Scored with a `fast` model (trained once to
/tmp/tight/fast, ~15 s) on to_mnist, the plain reference (evalset_score.reference) and images.naive_resize.
The wider generated set by family: `mnist-cnn evalset make DIR` / `evalset score DIR` (evalset.py).
"""

import argparse
import io
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_cnn.data import load_mnist
from mnist_cnn.evalset_score import reference  # the plain recipe: border median, crop, 20 px box, centre of mass
from mnist_cnn.images import FRAME, naive_resize, to_mnist

MODEL = Path("/tmp/tight/fast")


def tight(digit, rng):
    """Tight-cropped, upscaled variants of one uint8 28x28 MNIST digit: {family: PIL image}."""
    ys, xs = np.nonzero(digit > 0)
    crop = Image.fromarray(digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
    side = int(rng.integers(64, 201))
    k = side / max(crop.size)
    big = lambda im: im.resize((max(1, round(crop.size[0] * k)), max(1, round(crop.size[1] * k))), Image.BICUBIC)
    lk = 10 / max(crop.size)
    low = crop.resize((max(1, round(crop.size[0] * lk)), max(1, round(crop.size[1] * lk))), Image.BICUBIC)
    out = {}
    for kind, im in (("up", big(crop)), ("lowres", big(low))):
        for pol in ("wob", "dol"):
            g = im if pol == "wob" else Image.eval(im, lambda v: 255 - v)
            out[f"{kind}-{pol}-grey"] = g
            rgba = Image.new("RGBA", im.size, (255, 255, 255) if pol == "wob" else (0, 0, 0))  # ink colour
            rgba.putalpha(im)  # ink opaque, background transparent
            out[f"{kind}-{pol}-rgba"] = rgba
            buf = io.BytesIO()
            g.save(buf, "JPEG", quality=75)
            out[f"{kind}-{pol}-jpeg"] = Image.open(io.BytesIO(buf.getvalue()))
    return out


def families(n=500, seed=0):
    """(labels, {family: [images]}) for the first n MNIST test digits."""
    (_, _), (x, y) = load_mnist()
    rng = np.random.default_rng(seed)
    fams = {}
    for d in x[:n]:
        for k, im in tight(d, rng).items():
            fams.setdefault(k, []).append(im)
    return y[:n], fams


def model():
    import keras

    path = MODEL / "model.keras"
    if not path.exists():
        subprocess.run(["mnist-cnn", "train", "--model", "fast", "--seed", "1", "--out", str(MODEL.parent),
                        "--name", MODEL.name], check=True)
    return keras.models.load_model(path)


def score(m, labels, images, fn):
    xs = [fn(im) for im in images]
    ok = np.array([x is not None for x in xs])
    batch = np.stack([x if x is not None else np.zeros((FRAME, FRAME), np.float32) for x in xs])[..., None]
    pred = m.predict(batch, verbose=0, batch_size=256).argmax(1)
    return float(np.mean((pred == labels) & ok))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, nargs="?", default=500, help="the first N MNIST test digits (default: 500)")
    n = p.parse_args().n
    labels, fams = families(n)
    m = model()
    fns = {"to_mnist": to_mnist, "reference": reference, "naive": naive_resize}
    print(f"{'family':<22}" + "".join(f"{k:>11}" for k in fns))
    totals = {k: [] for k in fns}
    for fam, images in fams.items():
        row = {k: score(m, labels, images, f) for k, f in fns.items()}
        for k, v in row.items():
            totals[k].append(v)
        print(f"{fam:<22}" + "".join(f"{v:>11.3f}" for v in row.values()), flush=True)
    print(f"{'mean':<22}" + "".join(f"{np.mean(v):>11.3f}" for v in totals.values()))


if __name__ == "__main__":
    main()
