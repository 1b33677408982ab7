"""Judging trained models on the MNIST test set.

    mnist-cnn evaluate runs/seed-20261130-0512          # or a model.keras file; --json for scripts
    mnist-cnn evaluate runs/best-s1 --tta               # test-time augmentation (TTA_SHIFTS; flips: the mirror's too)
    mnist-cnn evaluate runs/best-s1 runs/best-s2 runs/best-s3   # an ensemble: mean probabilities
    mnist-cnn evaluate runs/NAME/exports/model.onnx     # an export in its runtime (also --runtime; no TensorFlow)

`metrics()` gives test loss and accuracy, per-class precision/recall/F1, the confusion matrix
(rows: true digit, columns: predicted) and the most-confused pairs; `calibration_report()` the
expected calibration error (ECE, 15 bins) as trained and at the run's fitted temperature
(RUN/refusal.json, from `mnist-cnn calibrate`).
"""

from __future__ import annotations

import numpy as np


# Test-time augmentation: the image and its one-pixel shifts, probabilities averaged. Chosen on the
# validation splits of best runs (tools/tta_variants.py; never the test set): see docs/training.md, "Test-time
# augmentation and ensembles".
TTA_SHIFTS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))  # (down, right) in pixels
# A net trained with left-right flips (clothes) averages those five views of the image and of its mirror: on the
# validation splits of Fashion-MNIST `best` (nine runs: networks best-32-96, best-wide and best, seeds 1-3 each) a
# mean of +0.34 points, where the mirror alone gave +0.23 and the shifts alone +0.13 (tools/tta_variants.py; docs)
TTA = ("shifts", "shifts+mirror")
EPSILON = 1e-7  # Keras' backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] for the loss


class Exported:
    """An export (runtime.open_export's model) judged as a Keras model is: Keras' predict(), and the TTA kind its net
    takes (from its check, which export.py writes with tta_kind: an export keeps no augmentation layer to ask)."""

    def __init__(self, model, tta: str):
        self.model, self.tta = model, tta

    def predict(self, x: np.ndarray, batch_size: int = 1024, verbose: int = 0) -> np.ndarray:
        return np.concatenate([self.model.probabilities(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def tta_kind(model) -> str:
    """The test-time augmentation for a Keras model or an Exported: "shifts+mirror" if it trained with left-right flips
    (a RandomAffine layer with flip > 0, run folder or bare .keras file alike), else "shifts"."""
    if isinstance(model, Exported):
        return model.tta
    return "shifts+mirror" if any(getattr(layer, "flip", 0) for layer in model.layers) else "shifts"


def shift(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """(N, H, W, C) images moved dy pixels down and dx right, filled with 0 (background)."""
    out = np.zeros_like(x)
    h, w = x.shape[1:3]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def _views(x: np.ndarray, tta: str | None):
    if tta is None:
        return (x,)
    if tta not in TTA:
        raise ValueError(f"tta: expected one of {', '.join(TTA)} or None, found {tta!r}")
    images = (x, x[:, :, ::-1]) if tta == "shifts+mirror" else (x,)
    return (shift(image, dy, dx) if dy or dx else image for image in images for dy, dx in TTA_SHIFTS)


def predict_proba(model, x: np.ndarray, batch_size: int = 1024, tta: str | None = None) -> np.ndarray:
    """(N, 28, 28, 1) float32 -> (N, 10) float32 class probabilities; tta "shifts" (the mean over TTA_SHIFTS) or
    "shifts+mirror" (over TTA_SHIFTS of the image and of its left-right mirror)."""
    return np.mean([np.asarray(model.predict(view, batch_size=batch_size, verbose=0), dtype=np.float32)
                    for view in _views(x, tta)], axis=0)


def accuracy(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """Fraction of labels (N,) that are the argmax of probabilities (N, 10)."""
    return float((probabilities.argmax(1) == y_true).mean())


def confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int = 10) -> np.ndarray:
    return np.bincount(y_true.astype(np.int64) * k + y_pred, minlength=k * k).reshape(k, k)


def metrics(y_true: np.ndarray, probabilities: np.ndarray, classes: list[str] | None = None) -> dict:
    """Test metrics from labels (N,) uint8 and probabilities (N, 10); classes: names when not the digits."""
    y_pred = probabilities.argmax(1)
    cm = confusion(y_true, y_pred)
    tp = np.diag(cm).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(tp / cm.sum(0))
        recall = np.nan_to_num(tp / cm.sum(1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return {
        "test_loss": crossentropy(y_true, probabilities),
        "test_accuracy": float(tp.sum() / len(y_true)),
        "n_test": int(len(y_true)),
        "errors": int(len(y_true) - tp.sum()),
        "per_class": [{"digit": d, **({"class": classes[d]} if _named(classes) else {}),
                       "precision": float(precision[d]), "recall": float(recall[d]),
                       "f1": float(f1[d]), "support": int(cm[d].sum())} for d in range(10)],
        "confusion_matrix": cm.tolist(),
        "most_confused": most_confused(cm),
    }


def crossentropy(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """Keras' categorical cross-entropy, mean over labels (N,) and probabilities (N, 10): each row scaled to sum 1 and
    clipped to [EPSILON, 1 - EPSILON]. In NumPy, so that an export is judged without TensorFlow (tests: against
    Keras)."""
    p = np.clip(probabilities / probabilities.sum(1, keepdims=True), EPSILON, 1 - EPSILON)
    return float(np.mean(-np.log(p[np.arange(len(y_true)), y_true.astype(np.int64)])))


def _named(classes) -> bool:
    return classes is not None and list(classes) != [str(d) for d in range(10)]


def ensemble(y_true: np.ndarray, members: list[np.ndarray]) -> dict:
    """Each member's accuracy and how many test images all members, or any member, get wrong."""
    wrong = np.array([p.argmax(1) != y_true for p in members])
    return {"member_accuracies": [accuracy(y_true, p) for p in members],
            "errors_of_every_member": int(wrong.all(0).sum()), "errors_of_any_member": int(wrong.any(0).sum())}


def most_confused(cm: np.ndarray, top: int = 5) -> list[dict]:
    off = np.array(cm, copy=True)
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:top]
    return [{"true": int(i // 10), "predicted": int(i % 10), "count": int(off.flat[i])}
            for i in order if off.flat[i] > 0]


def format_report(m: dict, classes: list[str] | None = None) -> str:
    from .console import table

    names = classes if _named(classes) else [str(d) for d in range(10)]
    rows = [("class" if _named(classes) else "digit", "precision", "recall", "f1", "support")]
    rows += [(names[c["digit"]], f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}", str(c["support"]))
             for c in m["per_class"]]
    lines = [f"Test accuracy: {m['test_accuracy']:.4f}  (loss {m['test_loss']:.4f}, "
             f"{m['errors']} errors of {m['n_test']})", "", table(rows)]
    if m["most_confused"]:
        lines += ["", "most confused (true -> predicted: count)"]
        lines += [f"  {names[p['true']]} -> {names[p['predicted']]}: {p['count']}" for p in m["most_confused"]]
    return "\n".join(lines)


def calibration_report(paths: list, y_true: np.ndarray, probabilities: np.ndarray) -> dict:
    """ECE as trained and, for one run with a stored rule, at its temperature (calibration.py, refusal.py)."""
    from pathlib import Path

    from . import calibration
    from .refusal import RULE_FILE, Rule, run_folder_of

    out = {"bins": calibration.BINS, "ece": calibration.ece(probabilities, y_true), "temperature": None,
           "ece_calibrated": None}
    if len(paths) == 1 and (run_folder_of(paths[0]) / RULE_FILE).is_file():
        t = Rule.for_model(Path(paths[0])).temperature
        out.update(temperature=t, ece_calibrated=calibration.ece(calibration.scaled(probabilities, t), y_true))
    return out


def format_calibration(c: dict) -> str:
    line = f"\nCalibration: ECE ({c['bins']} bins) {c['ece']:.4f} as trained"
    if c["temperature"] is None:
        return line + " (no fitted temperature: mnist-cnn calibrate RUN fits one)"
    return line + f", {c['ece_calibrated']:.4f} at the fitted temperature {c['temperature']:.3f}"
