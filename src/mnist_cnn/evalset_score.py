"""Scoring a model on the generated evaluation set (evalset.py), family by family, per preprocessing.

    from mnist_cnn import evalset, evalset_score
    from mnist_cnn.predict import Predictor
    images, labels, families = evalset.read("evalset/")
    table = evalset_score.score(Predictor("runs/NAME"), images, labels, families)
    # {family: {"after": 0.98, "naive": 0.31, "reference": 0.95, "n": 150}, ..., "overall": {...}}

    mnist-cnn evalset score evalset/ --model runs/NAME [--json]

Preprocessings (PREPROCESS): "after" is what predict and the page use (images.candidates, readings.choose, a second
look at a refused reading),
"naive" squashes the whole picture to 28x28 (images.naive_resize), "reference" is the plain MNIST recipe of issue
12 below.
Accuracy is the share of pictures whose top class is the label; "no digit found" (None) counts as wrong.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .imagefile import grey
from .images import BOX, CENTRE, FRAME, candidates, more_readings, naive_resize

REFERENCE_CUT = 0.1  # the reference drops ink under 10% of its strongest pixel: slack against JPEG noise


def reference(image):
    """The plain MNIST recipe, nothing else: polarity from the border's median, crop the ink, 20 px box, centre of
    mass. A yardstick for to_mnist (issue 12), not used for predictions."""
    g = grey(image).astype(np.float32)
    level = float(np.median(np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])))
    ink = np.clip(level - g if level > 0.5 else g - level, 0, None)
    if ink.max() <= 0.1:
        return None
    ink[ink < REFERENCE_CUT * ink.max()] = 0
    ys, xs = np.nonzero(ink)
    ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = ink.shape
    size = (BOX, max(1, round(BOX * h / w))) if w >= h else (max(1, round(BOX * w / h)), BOX)
    box = np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BOX)).clip(0, None)
    box = box / box.max()
    r, c = np.indices(box.shape)
    top, left = (int(np.floor(CENTRE - (i * box).sum() / box.sum() + 0.5)) for i in (r, c))
    frame = np.zeros((FRAME + 2 * BOX, FRAME + 2 * BOX), np.float32)  # room for any shift, then cut to 28x28
    frame[BOX + top : BOX + top + box.shape[0], BOX + left : BOX + left + box.shape[1]] = box
    return frame[BOX : BOX + FRAME, BOX : BOX + FRAME]


PREPROCESS = {"after": candidates, "naive": naive_resize, "reference": reference}


def accuracy(predictor, xs, labels):
    """Share of preprocessed images (None: no digit found, wrong) whose most probable class is the label."""
    ok = np.array([x is not None for x in xs], bool)
    if not ok.any():
        return 0.0
    batch = np.stack([x for x in xs if x is not None])
    pred = np.full(len(xs), -1)
    pred[ok] = predictor.probabilities(batch).argmax(1)
    return float(np.mean(pred == np.asarray(labels)))


def score(predictor, images, labels, families, preprocess=None):
    """{family: {name: accuracy, ..., "n": count}} in first-seen family order, then "overall" (all pictures).

    preprocess: {name: function(image) -> (28, 28) array or None, or a list of them the model chooses from as
    predict does (images.candidates)}; default PREPROCESS."""
    from .readings import decide_candidates

    preprocess = preprocess or PREPROCESS
    labels, families = np.asarray(labels), np.asarray(families)
    xs = {name: [f(im) for im in images] for name, f in preprocess.items()}
    for name, found in xs.items():
        if found and isinstance(found[0], list):
            kept = [i for i, c in enumerate(found) if c[0] is not None]
            again = (lambda k: more_readings(images[kept[k]])) if preprocess[name] is candidates else None
            chosen = iter(decide_candidates(predictor, [found[i] for i in kept], again))
            xs[name] = [None if c[0] is None else next(chosen)[0] for c in found]
    out = {}
    for fam in [*dict.fromkeys(families.tolist()), "overall"]:
        at = np.flatnonzero(families == fam) if fam != "overall" else np.arange(len(labels))
        out[fam] = {name: accuracy(predictor, [x[i] for i in at], labels[at]) for name, x in xs.items()}
        out[fam]["n"] = len(at)
    return out


def rows(table, columns=None):
    """The table as text rows for console.table: family, n, then a percentage per column."""
    columns = columns or [k for k in next(iter(table.values())) if k != "n"]
    return [["family", "n", *columns]] + [[fam, str(v["n"]), *(f"{100 * v[c]:.1f}" for c in columns)]
                                         for fam, v in table.items()]
