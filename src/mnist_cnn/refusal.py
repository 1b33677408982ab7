"""What a model's probabilities say: a digit with a calibrated confidence, or "not a digit".

    from mnist_cnn.refusal import Rule
    rule = Rule.for_model(path)        # the rule stored next to a model (RUN/refusal.json), else Rule()
    rule.decide(probabilities)         # (N, 10) float32 -> [Decision(digit, confidence, rejected, probabilities)]

`Rule()` is the identity: temperature 1, never refuses (a model without a stored rule answers as before).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NOT_A_DIGIT = "not a digit"  # the answer for ink that is not a digit, shared by predict, read and serve
RULE_FILE = "refusal.json"


@dataclass(frozen=True)
class Decision:
    digit: int | None  # None when rejected
    confidence: float  # calibrated probability of the most likely digit (also when rejected)
    rejected: bool
    probabilities: np.ndarray  # (10,) float32, calibrated


@dataclass(frozen=True)
class Rule:
    temperature: float = 1.0

    @classmethod
    def for_model(cls, path: str | os.PathLike) -> "Rule":
        """The rule stored in the run folder of `path` (a run folder, its model.keras or one of its exports)."""
        return cls()

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        """(N, 10) probabilities -> (N, 10) probabilities at this rule's temperature."""
        p = np.asarray(probabilities, dtype=np.float32)
        if self.temperature == 1.0:
            return p
        z = np.log(np.clip(p, 1e-12, 1.0)) / self.temperature
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)

    def decide(self, probabilities: np.ndarray) -> list[Decision]:
        p = self.calibrate(probabilities)
        top = p.argmax(axis=1)
        return [Decision(int(d), float(row[d]), False, row) for d, row in zip(top, p)]


def run_folder_of(path: str | os.PathLike) -> Path:
    """The run folder a model path belongs to: RUN, RUN/model.keras, RUN/exports/model.onnx -> RUN."""
    p = Path(path)
    if p.is_dir():
        return p
    return p.parent.parent if p.parent.name == "exports" else p.parent
