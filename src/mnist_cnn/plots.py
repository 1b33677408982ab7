"""Pictures of a run; the only module that imports matplotlib (Agg backend, no screen needed).

The seed job writes one PNG per digit (mnist_plots/example_1.png, misclassified_1.png, ...);
a run folder gets learning_curves.png, confusion_matrix.png, examples.png and misclassified.png.
Every PNG is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import files  # noqa: E402

GRID = 25  # digits in examples.png / misclassified.png (5 x 5)
DIGITS = [str(d) for d in range(10)]


def _save(fig, path: Path) -> Path:
    with files.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _digit(ax, image: np.ndarray, title: str, color: str = "black") -> None:
    ax.imshow(np.squeeze(image), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9, color=color)
    ax.axis("off")


def examples_indices(y_true: np.ndarray, probabilities: np.ndarray, n: int):
    """(correct, mistakes): the first n correctly classified test digits, and the n most confident mistakes."""
    pred = probabilities.argmax(1)
    correct = np.flatnonzero(pred == y_true)[:n]
    wrong = np.flatnonzero(pred != y_true)
    wrong = wrong[np.argsort(-probabilities[wrong, pred[wrong]], kind="stable")][:n]
    return correct, wrong


def seed_pictures(plots_dir: str | os.PathLike, x: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray,
                  n: int, names=DIGITS) -> list[Path]:
    """example_1..n.png (correct digits) and misclassified_1..n.png (mistakes, with confidence)."""
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    pred = probabilities.argmax(1)
    correct, wrong = examples_indices(y_true, probabilities, n)
    written = []
    for k, i in enumerate(correct, 1):
        fig, ax = plt.subplots(figsize=(2.5, 2.8))
        _digit(ax, x[i], f"True: {names[y_true[i]]}, Predicted: {names[pred[i]]}")
        written.append(_save(fig, plots_dir / f"example_{k}.png"))
    for k, i in enumerate(wrong, 1):
        fig, ax = plt.subplots(figsize=(2.5, 2.8))
        _digit(ax, x[i], f"True: {names[y_true[i]]}, Predicted: {names[pred[i]]}\n"
                         f"confidence {probabilities[i, pred[i]]:.1%}",
               color="darkred")
        written.append(_save(fig, plots_dir / f"misclassified_{k}.png"))
    return written


def _grid(x, y_true, probabilities, indices, path: Path, title: str, mistakes: bool, names) -> Path:
    """The digits at `indices`, 5 a row, each under its labels: one canvas in one image (25 Axes of their own took
    ~2 s a picture to draw; every run draws two)."""
    pred = probabilities.argmax(1)
    labels, colors = [], []
    for i in indices:
        label = f"true {names[y_true[i]]}\npred {names[pred[i]]}" if _long(names) else \
            f"true {y_true[i]} pred {pred[i]}"
        labels.append(label + (f"\n{probabilities[i, pred[i]]:.0%}" if mistakes else ""))
        colors.append("darkred" if pred[i] != y_true[i] else "black")
    cols, pad = 5, 5
    rows = max(1, -(-len(indices) // cols))
    top = 3 + math.ceil(2.6 * max([label.count("\n") + 1 for label in labels] + [1]))  # canvas pixels, labels
    cell_w, cell_h = 28 + pad, 28 + top + pad
    inches = 1.9 / cell_w  # per canvas pixel
    canvas = np.ones((rows * cell_h, cols * cell_w), np.float32)
    height = canvas.shape[0] * inches
    fig = plt.figure(figsize=(cols * 1.9, height + 0.5))
    ax = fig.add_axes((0, 0, 1, height / (height + 0.5)))
    ax.set_axis_off()
    for k, (i, label, color) in enumerate(zip(indices, labels, colors)):
        r, q = divmod(k, cols)
        y0, x0 = r * cell_h + top, q * cell_w + pad // 2
        canvas[y0:y0 + 28, x0:x0 + 28] = np.squeeze(x[i])
        ax.text(x0 + 13.5, y0 - 1.2, label, ha="center", va="bottom", fontsize=9, color=color)
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    fig.suptitle(title)
    return _save(fig, path)


def learning_curves(history: list[dict], path: Path) -> Path:
    epochs = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    for key, ax in (("loss", a), ("accuracy", b)):
        ax.plot(epochs, [h[key] for h in history], "o-", label="training")
        ax.plot(epochs, [h[f"val_{key}"] for h in history], "o-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Learning curves")
    return _save(fig, path)


def _long(names) -> bool:
    return any(len(n) > 2 for n in names)


def confusion_matrix(cm, path: Path, names=DIGITS) -> Path:
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(6, 5.4))
    shown = cm.astype(float)
    np.fill_diagonal(shown, np.nan)  # the diagonal would drown the mistakes' colour scale
    im = ax.imshow(shown, cmap="Reds")
    dark = np.nanmax(shown) / 2 if np.isfinite(np.nanmax(shown)) else np.inf
    for i in range(10):
        for j in range(10):
            color = "tab:blue" if i == j else ("white" if cm[i, j] > dark else "black")
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(10), names, rotation=45 if _long(names) else 0, ha="right" if _long(names) else "center")
    ax.set_yticks(range(10), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix (test set; diagonal in blue)")
    fig.colorbar(im, ax=ax, shrink=0.8, label="mistakes")
    return _save(fig, path)


def run_pictures(run_dir: Path, history, metrics: dict, x, y_true, probabilities, names=DIGITS) -> list[Path]:
    """learning_curves.png, confusion_matrix.png, examples.png, misclassified.png; names: the class names."""
    _, wrong = examples_indices(y_true, probabilities, GRID)
    what = "digits" if names == DIGITS else "images"
    return [
        learning_curves(history, run_dir / "learning_curves.png"),
        confusion_matrix(metrics["confusion_matrix"], run_dir / "confusion_matrix.png", names),
        _grid(x, y_true, probabilities, np.arange(min(GRID, len(x))), run_dir / "examples.png",
              f"Test {what}: true and predicted", mistakes=False, names=names),
        _grid(x, y_true, probabilities, wrong, run_dir / "misclassified.png",
              "Most confident mistakes", mistakes=True, names=names),
    ]


def reliability_diagram(path: Path, probabilities: np.ndarray, y_true: np.ndarray, temperature: float) -> Path:
    """calibration.png: accuracy against confidence per bin (calibration.BINS), before and after temperature."""
    from . import calibration

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, t, what in ((axes[0], 1.0, "as trained"), (axes[1], temperature, f"temperature {temperature:.3f}")):
        p = calibration.scaled(probabilities, t)
        bins = calibration.reliability(p, y_true)
        width = bins[0]["high"] - bins[0]["low"]
        filled = [b for b in bins if b["count"]]
        ax.bar([b["low"] for b in filled], [b["accuracy"] for b in filled], width=width, align="edge",
               edgecolor="black", color="tab:blue", label="accuracy")
        ax.plot([b["low"] + width / 2 for b in filled], [b["confidence"] for b in filled], "o", color="tab:red",
                label="mean confidence")
        for b in filled:  # most images sit in the top bin: the counts say how much each bar weighs in the ECE
            ax.text(b["low"] + width / 2, 0.02, f"{b['count']:,}", rotation=90, fontsize=7, color="white",
                    ha="center", va="bottom")
        ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top class)", ylabel="accuracy",
               title=f"{what}: ECE {calibration.ece(p, y_true):.4f}")
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"Reliability diagram, test set ({calibration.BINS} bins)")
    return _save(fig, path)
