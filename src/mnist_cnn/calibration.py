"""Honest confidence: the expected calibration error and temperature scaling.

    from mnist_cnn.calibration import ece, reliability, fit_temperature, scaled
    ece(probabilities, labels)              # 15 equal-width bins of the top-class confidence
    t = fit_temperature(p_val, y_val)       # the T minimising the validation NLL of softmax(log p / T)
    scaled(p_test, t)                       # probabilities at temperature t

A model only gives probabilities, so the logits are log p (softmax is blind to each row's constant):
softmax(log p / T) is temperature scaling of the true logits, and works on every runtime's output.
"""

from __future__ import annotations

import numpy as np

BINS = 15  # ECE bins, the count used by Guo et al. (2017) and most papers since, so figures compare
T_RANGE = (0.05, 20.0)  # searched temperatures: far beyond any trained model's (ours: 0.5-2)
LOG_FLOOR = 1e-12  # log(0) guard for probabilities that underflowed to 0 in float32


def scaled(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """(N, K) probabilities -> (N, K) float32 probabilities of softmax(log p / temperature)."""
    z = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), LOG_FLOOR, 1.0)) / temperature
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


def nll(probabilities: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the labels at `temperature`."""
    z = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), LOG_FLOOR, 1.0)) / temperature
    m = z.max(axis=1, keepdims=True)
    log_norm = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    return float(np.mean(log_norm - z[np.arange(len(z)), labels]))


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in T_RANGE minimising the NLL (Guo et al. 2017); 1-D and smooth: Brent's method."""
    from scipy.optimize import minimize_scalar

    labels = np.asarray(labels).astype(np.int64)
    if len(labels) == 0:
        raise ValueError("labels: expected at least one labelled example, found none")
    lo, hi = np.log(T_RANGE)
    best = minimize_scalar(lambda s: nll(probabilities, labels, float(np.exp(s))), bounds=(lo, hi),
                           method="bounded", options={"xatol": 1e-4})
    return float(np.exp(best.x))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> list[dict]:
    """Per equal-width bin of top-class confidence: its range, count, mean confidence and accuracy."""
    p = np.asarray(probabilities)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)  # (lo, hi] bins, 0 in the first
    out = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        out.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": n,
                    "confidence": float(conf[inside].mean()) if n else None,
                    "accuracy": float(correct[inside].mean()) if n else None})
    return out


def ece(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error: sum over bins of (share of images) x |accuracy - mean confidence|."""
    n = len(labels)
    return float(sum(b["count"] / n * abs(b["accuracy"] - b["confidence"])
                     for b in reliability(probabilities, labels, bins) if b["count"]))
