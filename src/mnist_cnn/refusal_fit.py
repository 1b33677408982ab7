"""Fitting a run's refusal rule (refusal.json) on validation data, and comparing refusal approaches.

    mnist-cnn calibrate runs/NAME             # temperature + "not a digit" gate + thresholds -> RUN/refusal.json
    mnist-cnn calibrate runs/NAME --compare   # also the held-out comparison table (docs/images.md)

    from mnist_cnn.refusal_fit import fit
    result = fit("runs/NAME")                 # -> {"rule": {...}, "ece": {...}, "comparison": [...]}

Everything the rule is chosen on is validation data: the run's own validation split of MNIST (its
seed and validation_split; deslanted as to_mnist hands digits to a model, slant.as_seen), those
validation digits rendered as uploads (uploads.py) and negatives.VALIDATION at its seed. Reported on
held-out data only: the MNIST test set, test digits rendered as uploads with other fonts (the real-world
stand-in) and negatives.HELD_OUT (other families, other seed). Two approaches are chosen and compared:
  confidence  refuse when the calibrated top-class probability is below a threshold;
  gate        refuse when the gate (gate.py, an 11th class as a separate small network) says
              "not a digit" (its evidence raised when the digit model is unsure, refusal.gate_evidence),
              or the calibrated confidence is below a (lower) threshold.
Each is chosen to refuse the most validation non-digits while accepting >= ACCEPT_MNIST of the
validation digits and >= ACCEPT_UPLOADS of their uploads. The gate is kept when it refuses more.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import calibration, files, negatives, negatives_more, uploads
from .console import Report, quiet
from .errors import UserError
from .refusal import RULE_FILE, Rule
from .slant import as_seen

ACCEPT_MNIST = 0.993  # validation digits kept: 0.3 point of margin over the >= 99% test target
ACCEPT_UPLOADS = 0.985  # validation uploads kept (those to_mnist finds ink in): margin under the 97% target
NEGATIVES = 120  # per family and split: 3,000 validation, 1,200 held-out non-digits
UPLOADS = 1_200  # digits rendered as uploads per split (200 per uploads.FAMILIES entry)
TEST_UPLOADS_SEED = 1_001  # the stand-in real-world set; validation uploads use negatives.VALIDATION_SEED
EVALSET_PER_FAMILY = 50  # of evalset.py's real-world digits per family, when that module is installed
CONFIDENCE_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0)  # tried for the gate rule: 0 is the gate alone; 4 lets a
# digit model at 1/e confidence move the gate's evidence by 4 logits
GATE_DIGIT_UPLOADS = 3_000  # training digits rendered as uploads for the gate (besides gate.DIGITS as_seen ones)


@dataclass
class Scored:
    """One image set through the model (and gate): calibrated probabilities, P(not a digit), ink found."""
    p: np.ndarray
    not_digit: np.ndarray | None
    ink: np.ndarray  # False where to_mnist found no digit ("no digit found": refused anyway)
    labels: np.ndarray | None = None


def _stack(xs: list) -> tuple[np.ndarray, np.ndarray]:
    ink = np.array([x is not None for x in xs])
    z = np.zeros((28, 28), np.float32)
    return np.stack([z if x is None else x for x in xs])[..., None].astype(np.float32), ink


def _score(model, gate, temperature: float, xs, labels=None) -> Scored:
    from .evaluate import predict_proba

    x, ink = (xs, np.ones(len(xs), bool)) if isinstance(xs, np.ndarray) else _stack(xs)
    p = calibration.scaled(predict_proba(model, x), temperature)
    return Scored(p, None if gate is None else np.asarray(gate.predict(x, batch_size=1024, verbose=0))[:, 1],
                  ink, labels)


def _score_each(model, gate, temperature: float, sets: dict[str, list]) -> dict[str, Scored]:
    """_score of each named set, all through one model (and gate) call: Keras's predict costs ~0.15 s a call beside
    its images on 2 cores, a few seconds over the negatives' ~25 families."""
    if not sets:
        return {}
    stacked = {name: _stack(xs) for name, xs in sets.items()}
    whole = _score(model, gate, temperature, np.concatenate([x for x, _ in stacked.values()]))
    ends = np.cumsum([len(ink) for _, ink in stacked.values()])[:-1]
    parts = zip(np.split(whole.p, ends), np.split(whole.not_digit, ends) if gate is not None else [None] * len(sets))
    return {name: Scored(p, not_digit, ink) for (name, (_, ink)), (p, not_digit) in zip(stacked.items(), parts)}


def _accepted(rule: Rule, s: Scored) -> np.ndarray:
    return s.ink & ~rule.refused(s.p, s.not_digit)


def _refused(rule: Rule, families: dict[str, Scored]) -> dict[str, float]:
    return {name: float(1 - _accepted(rule, s).mean()) for name, s in families.items()}


def choose(temperature: float, digits: Scored, digit_uploads: Scored, non_digits: dict[str, Scored],
           gate: bool) -> Rule:
    """The rule refusing the most validation non-digits (mean over families) within the acceptance bounds."""
    conf = np.r_[digits.p.max(1), digit_uploads.p.max(1)]
    taus = np.r_[0.0, np.unique(np.quantile(conf, np.linspace(0, 0.05, 51)))]
    gates = np.r_[np.linspace(0.3, 0.95, 14), 0.97, 0.98, 0.99, 0.995, 0.999, 0.9995, 0.9999] if gate else [None]
    best, best_score = Rule(temperature), -1.0
    for g, w in [(g, w) for g in gates for w in (CONFIDENCE_WEIGHTS if gate else (0.0,))]:
        for tau in taus:
            rule = Rule(temperature, float(tau), None if g is None else float(g), float(w))
            if _accepted(rule, digits).mean() < ACCEPT_MNIST or _accepted(rule, digit_uploads).mean() < ACCEPT_UPLOADS:
                continue
            score = float(np.mean(list(_refused(rule, non_digits).values())))
            if score > best_score:
                best, best_score = rule, score
    return best


def _validation_digits(run: Path, x_train: np.ndarray, y_train: np.ndarray):
    from . import data
    from .config import TrainConfig
    from .rundir import saved_config

    cfg = saved_config(run) or TrainConfig()
    train_idx, val_idx = data.split(len(x_train), cfg.validation_split, cfg.seed, cfg.limit)
    return train_idx, val_idx


def gate_stems(run: Path) -> list[str]:
    """The gates `calibrate` trains for a run: the gate, and the piece gate (gate.PIECE_STEM) only beside a line
    reader: `read` asks it about the pieces cut between the reader's digits alone, and it takes ~1/3 of the fit."""
    from . import gate
    from .rundir import RunDir

    return [gate.GATE_STEM] + ([gate.PIECE_STEM] if RunDir(run).line_reader().is_file() else [])


def _train_gates(run: Path, x_train, y_train, train_idx, stems: list[str], report: Report) -> dict:
    """The run's gates named in `stems` (gate.GATE_STEM, gate.PIECE_STEM), trained and saved: {stem: model}."""
    from . import gate
    from .images import to_mnist

    started = time.perf_counter()
    pick = np.random.default_rng(gate.TRAIN_SEED).permutation(train_idx)
    ups = pick[:GATE_DIGIT_UPLOADS]
    digit_uploads = [to_mnist(im) for im in uploads.render(x_train[ups], y_train[ups], gate.TRAIN_SEED)]
    digit_uploads += [to_mnist(im) for im in uploads.hand_digits(gate.HAND_DIGITS, gate.HAND_SEED)]
    non = negatives.generated_as_mnist(negatives.VALIDATION, gate.NEGATIVES_PER_FAMILY, gate.TRAIN_SEED)
    non_digits = [v for vs in non.values() for v in vs]
    seen = as_seen(x_train[pick[GATE_DIGIT_UPLOADS:GATE_DIGIT_UPLOADS + gate.DIGITS]])
    sets = {gate.GATE_STEM: (digit_uploads, non_digits)}
    if gate.PIECE_STEM in stems:
        stubbed, stubbed_letters = _stubbed(x_train[train_idx], y_train[train_idx])
        sets[gate.PIECE_STEM] = (digit_uploads + stubbed, non_digits + stubbed_letters)
    models = {}
    for stem in stems:
        x, y = gate.training_images(seen, *sets[stem])
        models[stem] = gate.train_gate(x, y, seed=gate.TRAIN_SEED)
        with files.atomic_path(gate.gate_paths(run, stem)["keras"]) as tmp:
            models[stem].save(tmp)
        report(f"Trained the \"not a digit\" gate{' for cut pieces' if stem == gate.PIECE_STEM else ''} on "
               f"{int((y == 0).sum()):,} digits and {int(y.sum()):,} non-digits "
               f"({time.perf_counter() - started:.0f} s so far)")
    return models


def fit_piece_gate(run: str | os.PathLike, data_dir=None, report: Report = quiet) -> list[Path] | None:
    """The piece gate of a run that has a gate (`mnist-cnn fit-reader`: `calibrate` trains it only beside a line
    reader), trained and saved unless it has one, and exported wherever the gate is (an export missing is written).
    Returns the files written ([]: all there), or None: without a gate the run's rule judges the pieces."""
    from . import data, gate

    run = Path(run)
    gates, pieces = gate.gate_paths(run, gate.GATE_STEM), gate.gate_paths(run, gate.PIECE_STEM)
    if not gates["keras"].is_file():
        return None
    written = []
    if not pieces["keras"].is_file():
        _warn_without_hand_faces(report)
        (x_train, y_train), _ = data.load_dataset("mnist", data_dir, report=report)
        train_idx, _ = _validation_digits(run, x_train, y_train)
        _train_gates(run, x_train, y_train, train_idx, [gate.PIECE_STEM], report)
        written.append(pieces["keras"])
    missing = [f for f in ("onnx", "litert") if gates[f].is_file() and not pieces[f].is_file()]
    return written + [gate.write_gate(run, f, pieces[f], gate.PIECE_STEM) for f in missing]


def _stubbed(x, y) -> tuple[list, list]:
    """gate.STUBBED_DIGITS digits and gate.STUBBED_LETTERS letters cut from between touching training digits or
    digits in the line reader's fonts and the hand-letter negatives' faces, as `read` gives its line reader's digits
    to the model (28x28s; None where no ink was left)."""
    from . import gate
    from .line_data import Composer, training_fonts
    from .read import piece_input

    # Comic Neue Regular, Bold, Italic and Light are in both lists: drawn twice as often
    faces = training_fonts() + [str(f) for f in negatives_more.hand_fonts()]
    composer = Composer(x, y, faces, gate.STUB_SEED, gate.STUBBED_FONT_SHARE)
    letter_fonts = [str(f) for f in negatives.font_files("DejaVu")]
    digits = [composer.piece() for _ in range(gate.STUBBED_DIGITS)]
    letters = [composer.piece(letter_fonts[k % len(letter_fonts)]) for k in range(gate.STUBBED_LETTERS)]
    return ([None if p is None else piece_input(p) for p in digits],
            [None if p is None else piece_input(p) for p in letters])


def _sets(model, gate, temperature, digits, digit_labels, uploaded, upload_labels, families, seed) -> tuple:
    from .images import to_mnist

    up = [to_mnist(im) for im in uploaded]
    non = negatives.generated_as_mnist(families, NEGATIVES, seed)
    return (_score(model, gate, temperature, digits, digit_labels),
            _score(model, gate, temperature, up, upload_labels),
            _score_each(model, gate, temperature, non))


def figures(rule: Rule, digits: Scored, digit_uploads: Scored, non_digits: dict[str, Scored]) -> dict:
    """Refused non-digits (mean over families, and each), accepted digits and uploads, accuracy of those kept."""
    refused = _refused(rule, non_digits)
    kept = _accepted(rule, digit_uploads)
    right = digit_uploads.p.argmax(1) == digit_uploads.labels
    return {"non_digits_refused": float(np.mean(list(refused.values()))), "by_family": refused,
            "mnist_accepted": float(_accepted(rule, digits).mean()), "uploads_accepted": float(kept.mean()),
            "uploads_accuracy_kept": float(right[kept].mean()) if kept.any() else None}


def fit(run: str | os.PathLike, gate: bool = True, compare: bool = False, data_dir=None,
        report: Report = quiet) -> dict:
    """Fit and store RUN/refusal.json (and notdigit.keras, notdigit-pieces.keras when the run has a line reader, their
    exports, calibration.png); see the module's text."""
    from . import data
    from . import gate as gates
    from .evaluate import predict_proba
    from .models import load_model, model_path
    from .rundir import saved_config

    run = model_path(run).parent
    saved_config(run)  # a broken config.json: one line before Keras loads (and matplotlib: a library caller's)
    from . import plots

    model = load_model(run, "float32")
    _warn_without_hand_faces(report)
    (x_train, y_train), (x_test, y_test) = data.load_dataset("mnist", data_dir, report=report)
    train_idx, val_idx = _validation_digits(run, x_train, y_train)
    x_val, y_val = as_seen(x_train[val_idx])[..., None], y_train[val_idx]  # as to_mnist gives them to the rule
    temperature = calibration.fit_temperature(predict_proba(model, x_val), y_val)
    stems = gate_stems(run) if gate else []
    if gate and gates.PIECE_STEM not in stems:  # one fitted beside the old gate: `fit-reader` makes today's
        for path in gates.gate_paths(run, gates.PIECE_STEM).values():
            path.unlink(missing_ok=True)
    gate_model = _train_gates(run, x_train, y_train, train_idx, stems, report)[gates.GATE_STEM] if stems else None
    ups = val_idx[:UPLOADS]
    val = _sets(model, gate_model, temperature, x_val, y_val,
                uploads.render(x_train[ups], y_train[ups], negatives.VALIDATION_SEED), y_train[ups],
                negatives.VALIDATION, negatives.VALIDATION_SEED)
    rules = {"confidence": choose(temperature, *val, gate=False)}
    if gate:
        rules["gate"] = choose(temperature, *val, gate=True)
    chosen = max(rules, key=lambda k: figures(rules[k], *val)["non_digits_refused"])
    p_test = predict_proba(model, as_seen(x_test)[..., None])
    ece = {"bins": calibration.BINS, "test_before": calibration.ece(p_test, y_test),
           "test_after": calibration.ece(calibration.scaled(p_test, temperature), y_test)}
    plots.reliability_diagram(run / "calibration.png", p_test, y_test, temperature)
    result = {"approach": chosen, **rules[chosen].to_dict(), "ece": ece,
              "rules": {k: r.to_dict() for k, r in rules.items()},
              "validation": {k: figures(r, *val) for k, r in rules.items()}}
    if chosen == "gate":
        _export_gates(run, report)
    else:
        for path in (p for stem in (gates.GATE_STEM, gates.PIECE_STEM) for p in gates.gate_paths(run, stem).values()):
            path.unlink(missing_ok=True)
    files.write_json(run / RULE_FILE, result)
    if compare:
        held = _sets(model, gate_model, temperature, as_seen(x_test)[..., None], y_test,
                     uploads.render(x_test[:UPLOADS], y_test[:UPLOADS], TEST_UPLOADS_SEED, "Liberation"),
                     y_test[:UPLOADS], negatives.HELD_OUT, negatives.HELD_OUT_SEED)
        result["held_out"] = {k: figures(r, *held) for k, r in rules.items()}
        result["held_out"]["none"] = figures(Rule(temperature), *held)
        _evalset_acceptance(model, gate_model, temperature, {**rules, "none": Rule(temperature)}, result, report)
    return result


def _warn_without_hand_faces(report: Report) -> None:
    """One line when no handwriting face is installed: the gate and the rule then learn and are chosen on DejaVu
    letters in their place (negatives_more.hand_fonts), and let more hand-written letters through."""
    from .evalset_render import FONT_FILES, FONT_PACKAGES

    if not any(Path(f).exists() for f in FONT_FILES):
        report(f"warning: no handwriting faces installed: the \"not a digit\" gates learn DejaVu letters in their "
               f"place and will let more hand-written letters through (Debian: apt-get install {FONT_PACKAGES})")


def _evalset_acceptance(model, gate_model, temperature, rules: dict, result: dict, report: Report) -> None:
    """Each rule's acceptance of the generated real-world digit set (evalset.py), where this install has it."""
    try:
        from . import evalset
    except ImportError:  # the set arrives with issue 12's part 1; until then the uploads stand in for it
        return
    from .images import to_mnist

    images, labels, _ = evalset.generate(per_family=EVALSET_PER_FAMILY, seed=evalset.SEED)
    s = _score(model, gate_model, temperature, [to_mnist(im) for im in images], np.asarray(labels))
    for name, rule in rules.items():
        result["held_out"][name]["evalset_accepted"] = float(_accepted(rule, s).mean())
    report(f"Scored the real-world digit set ({len(labels):,} images)")


def _export_gates(run: Path, report: Report) -> None:
    """The gates exported for each runtime the run has a float export for (the Predictor runs them there)."""
    from .gate import export_gate
    from .rundir import export_path_for

    formats = [f for f in ("onnx", "litert") if export_path_for(run / "model.keras", f).exists()]
    for path in export_gate(run, formats) if formats else []:
        report(f"Exported the gate: {path}")


def gets_rule(cfg) -> bool:
    """Whether a run of this TrainConfig gets a refusal rule after its training: full MNIST runs only."""
    return cfg.dataset == "mnist" and cfg.limit is None


def after_training(result, report) -> bool:
    """After `mnist-cnn train` (and `run --calibrate`): a full MNIST run's honest confidence and "not a digit" rule
    (cli.CALIBRATE_TIME). Returns whether Ctrl-C stopped it.

    Smoke runs (limit set) and other data sets get none: their Predictor answers with Rule(), never
    refusing. Interrupted, or without the fonts the fit draws its non-digits with, the run stays finished without
    it (reported), and `mnist-cnn calibrate RUN` fits it later.
    """
    cfg = result.config
    if not gets_rule(cfg):
        return False
    try:
        negatives.font_files("DejaVu")  # checked first: the training's own lines are printed after this returns
    except UserError as e:
        report(f"no refusal rule: {e}; then fit it with: mnist-cnn calibrate {result.run_dir}")
        return False
    report("Fitting the run's refusal rule and its \"not a digit\" gate (minutes: the gate says when it is trained)")
    try:
        r = fit(result.run_dir, data_dir=cfg.data_dir, report=report)
    except KeyboardInterrupt:
        report(f"interrupted: no refusal rule; fit it with: mnist-cnn calibrate {result.run_dir}")
        return True
    except UserError as e:  # a worker process killed (out of memory?): the run stays, as without fonts
        report(f"no refusal rule: {e}; then fit it with: mnist-cnn calibrate {result.run_dir}")
        return False
    report(f"Refusal rule ({r['approach']}): temperature {r['temperature']:.3f}, test ECE "
           f"{r['ece']['test_before']:.4f} -> {r['ece']['test_after']:.4f}")
    return False

