"""What a model's probabilities say: a digit with a calibrated confidence, or "not a digit".

    from mnist_cnn.refusal import Rule
    rule = Rule.for_model(path)        # the rule stored next to a model (RUN/refusal.json), else Rule()
    rule.decide(probabilities)         # (N, 10) float32 -> [Decision(digit, confidence, rejected, probabilities)]
    rule.decide(probabilities, not_digit)   # with the gate's P(not a digit) per image (gate.py)

`Rule()` is the identity: temperature 1, never refuses (a model without a stored rule answers as before).
A stored rule (written by `mnist-cnn calibrate RUN` or at the end of `train`, refusal_fit.py) holds
the temperature fitted on the validation split, a minimum calibrated confidence and, when the run
has a gate (notdigit.keras and its exports), the gate's threshold: an image is refused when the gate
says "not a digit" with at least that probability (its evidence raised by confidence_weight times
-log of the calibrated confidence: an unsure digit model tips a doubtful gate), or when the
calibrated confidence is below the minimum. Predictor.decide runs the gate in the model's own runtime
(keras, onnx or litert).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import UserError

NOT_A_DIGIT = "not a digit"  # the answer for ink that is not a digit, shared by predict, read and serve
RULE_FILE = "refusal.json"


@dataclass(frozen=True)
class Decision:
    digit: int | None  # None when rejected
    confidence: float  # calibrated probability of the most likely digit (also when rejected)
    rejected: bool
    probabilities: np.ndarray  # (10,) float32, calibrated
    not_digit: float | None = None  # the gate's P(not a digit), when the rule has a gate


@dataclass(frozen=True)
class Rule:
    temperature: float = 1.0
    min_confidence: float = 0.0  # refuse below this calibrated top-class probability
    gate_threshold: float | None = None  # refuse when the gate's P(not a digit) >= this; None: no gate
    confidence_weight: float = 0.0  # how much an unsure digit model adds to the gate's evidence (0: the gate alone)

    @classmethod
    def for_model(cls, path: str | os.PathLike) -> "Rule":
        """The rule stored in the run folder of `path` (a run folder, its model.keras or one of its exports)."""
        file = run_folder_of(path) / RULE_FILE
        if not file.is_file():
            return cls()
        return cls.read(file)

    @classmethod
    def read(cls, file: Path) -> "Rule":
        try:
            obj = json.loads(file.read_text())
            rule = cls(float(obj["temperature"]), float(obj.get("min_confidence", 0.0)),
                       None if obj.get("gate_threshold") is None else float(obj["gate_threshold"]),
                       float(obj.get("confidence_weight", 0.0)))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise UserError(f"{file}: not a refusal rule written by mnist-cnn calibrate ({type(e).__name__}: {e}); "
                            f"refit it with: mnist-cnn calibrate {file.parent}") from None
        if not (rule.temperature > 0 and 0 <= rule.min_confidence <= 1 and rule.confidence_weight >= 0):
            raise UserError(f"{file}: temperature must be > 0, min_confidence in [0, 1] and confidence_weight "
                            f">= 0, found {rule.temperature}, {rule.min_confidence}, {rule.confidence_weight}; "
                            f"refit it with: mnist-cnn calibrate {file.parent}")
        return rule

    def to_dict(self) -> dict:
        return asdict(self)

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        """(N, 10) probabilities -> (N, 10) probabilities at this rule's temperature."""
        from .calibration import scaled

        p = np.asarray(probabilities, dtype=np.float32)
        return p if self.temperature == 1.0 else scaled(p, self.temperature)

    def refused(self, probabilities: np.ndarray, not_digit: np.ndarray | None = None) -> np.ndarray:
        """(N,) bool: which images this rule refuses (probabilities already calibrated)."""
        top = np.asarray(probabilities).max(axis=1)
        out = top < self.min_confidence
        if self.gate_threshold is not None and not_digit is not None:
            out |= gate_evidence(not_digit, top, self.confidence_weight) >= _logit(self.gate_threshold)
        return out

    def decide(self, probabilities: np.ndarray, not_digit: np.ndarray | None = None) -> list[Decision]:
        p = self.calibrate(probabilities)
        top, no = p.argmax(axis=1), self.refused(p, not_digit)
        gate = [None] * len(p) if not_digit is None or self.gate_threshold is None else [float(g) for g in not_digit]
        return [Decision(None if r else int(d), float(row[d]), bool(r), row, g)
                for d, r, row, g in zip(top, no, p, gate)]


def _logit(p):
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def gate_evidence(not_digit, confidence, weight: float) -> np.ndarray:
    """logit P(not a digit) + weight * -log(calibrated top-class probability): the gate's word, raised
    when the digit model is unsure too. With weight 0 it is `not_digit >= threshold` on the logit scale."""
    return _logit(not_digit) - weight * np.log(np.clip(np.asarray(confidence, dtype=np.float64), 1e-12, 1))


def run_folder_of(path: str | os.PathLike) -> Path:
    """The run folder a model path belongs to: RUN, RUN/model.keras, RUN/exports/model.onnx -> RUN."""
    p = Path(path)
    if p.is_dir():
        return p
    return p.parent.parent if p.parent.name == "exports" else p.parent
