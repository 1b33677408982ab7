"""Run folders saved by older versions: their config.json brought up to today's fields (config.load_file).

    from mnist_cnn import config_legacy
    config_legacy.upgrade({"model": "fast", "epochs": 1})   # + network "fast", the optimiser then, precision float32

Runs saved before TrainConfig existed named their network by the recipe's name, and kept the optimiser, its arguments,
label smoothing and augmentation in the recipe registry, not in their config.json; later runs lack the settings added
since (ADDED).
"""

from __future__ import annotations

# Settings added since, with the value a config.json saved without them meant: the run's own (a recipe for another
# data set may set one today: Fashion-MNIST's `best` has no dropout, its runs saved before trained with the net's 0.4).
ADDED = {"dropout": None}
# The registry's values then, written out so later recipe changes cannot rewrite old runs.
LEGACY = {
    "seed": {"optimizer": "adam", "optimizer_args": {}, "label_smoothing": 0.0, "augment": {}},
    "keras-io": {"optimizer": "adam", "optimizer_args": {}, "label_smoothing": 0.0, "augment": {}},
    "pytorch-examples": {"optimizer": "adadelta", "optimizer_args": {"rho": 0.9, "epsilon": 1e-6},
                         "label_smoothing": 0.0, "augment": {}},
    "fast": {"optimizer": "adam", "optimizer_args": {"beta_1": 0.7, "beta_2": 0.9}, "label_smoothing": 0.1,
             "augment": {}},
    "best": {"optimizer": "adamw", "optimizer_args": {"weight_decay": 1e-2}, "label_smoothing": 0.1,
             "augment": {"degrees": 10.0, "zoom": 0.1, "shift": 0.1}},
}


def upgrade(data: dict) -> dict:
    """A config.json saved before TrainConfig (no "network" key) as one saved now."""
    data = dict(data)
    data["network"] = data["model"]
    if data["model"] in LEGACY:
        data = {**LEGACY[data["model"]], **data}
    if "precision" not in data or data["precision"] is None:
        data["precision"] = "float32"  # saved before --precision existed: it trained in float32
    return data
