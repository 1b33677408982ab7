"""Calibration (ECE, temperature), generated non-digits, the "not a digit" gate and rule, and every answer's refusal."""

import csv
import io
import json
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from mnist_cnn import (calibration, cli, evalset_render, gate, images, negatives, negatives_more, negatives_objects,
                       refusal_fit, serve, uploads)
from mnist_cnn.errors import UserError
from mnist_cnn.predict import Predictor
from mnist_cnn.refusal import NOT_A_DIGIT, Rule
from serving import serving  # tests/serving.py: uvicorn in a thread


@pytest.fixture(scope="module")
def test_digits(mnist_dir):
    from mnist_cnn.data import load_mnist

    (_, _), (x, y) = load_mnist(mnist_dir)
    return x[:50], y[:50]


def test_ece_matches_a_hand_computed_oracle():
    # Top-class confidences 0.95, 0.95, 0.95, 0.95 (bin (14/15, 1]: 3 right -> |0.75 - 0.95| = 0.2),
    # 0.5, 0.5 (bin (7/15, 8/15]: 1 right -> |0.5 - 0.5| = 0) and 0.42 (bin (6/15, 7/15]: wrong -> 0.42).
    # ECE = 4/7 * 0.2 + 2/7 * 0 + 1/7 * 0.42 = (0.8 + 0.42) / 7.
    p = np.array([[0.95, 0.05, 0], [0.95, 0.05, 0], [0.95, 0.05, 0], [0.05, 0.95, 0],
                  [0.5, 0.4, 0.1], [0.4, 0.5, 0.1], [0.3, 0.28, 0.42]])
    y = np.array([0, 0, 0, 0, 0, 0, 1])
    assert calibration.ece(p, y) == pytest.approx(1.22 / 7)
    bins = calibration.reliability(p, y)
    assert [b["count"] for b in bins if b["count"]] == [1, 2, 4] and sum(b["count"] for b in bins) == 7
    assert calibration.ece(np.eye(3)[[0, 1, 2]], np.array([0, 1, 2])) == 0.0  # sure and right: calibrated


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("true_t", [0.5, 2.5])
def test_temperature_fit_recovers_a_known_temperature(true_t):
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (20_000, 10))
    labels = np.array([rng.choice(10, p=q) for q in _softmax(logits)])  # drawn from the honest probabilities
    model = _softmax(logits * true_t)  # over- (T > 1) or under-confident (T < 1): logits scaled by a known factor
    t = calibration.fit_temperature(model, labels)
    assert t == pytest.approx(true_t, rel=0.05)
    honest = calibration.scaled(model, t)
    assert calibration.ece(honest, labels) < 0.02 < calibration.ece(model, labels)
    assert calibration.nll(model, labels, t) < calibration.nll(model, labels, 1.0)


def test_rule_refuses_by_confidence_and_gate():
    p = np.array([[0.9, 0.1] + [0] * 8, [0.55, 0.45] + [0] * 8, [0.9, 0.1] + [0] * 8], np.float32)
    rule = Rule(1.0, min_confidence=0.6, gate_threshold=0.5)
    d = rule.decide(p, not_digit=np.array([0.1, 0.1, 0.7]))
    assert [x.rejected for x in d] == [False, True, True] and [x.digit for x in d] == [0, None, None]
    assert d[1].confidence == pytest.approx(0.55)
    assert [x.rejected for x in Rule().decide(p)] == [False] * 3


def test_sets_scored_in_one_call_match_each_scored_alone():
    """refusal_fit._score_each (one model and gate call for many sets) against _score called set by set."""
    class Model:  # a deterministic stand-in for a Keras model: probabilities from each image's pixels
        def predict(self, x, batch_size=None, verbose=0):
            logits = x.reshape(len(x), -1)[:, :10] * 5 + x.reshape(len(x), -1)[:, 10:20]
            return np.exp(logits) / np.exp(logits).sum(1, keepdims=True)

    rng = np.random.default_rng(0)
    sets = {"a": [rng.random((28, 28), np.float32) for _ in range(3)] + [None],
            "b": [rng.random((28, 28), np.float32)], "c": [None, rng.random((28, 28), np.float32)]}
    for gate_model in (Model(), None):
        together = refusal_fit._score_each(Model(), gate_model, 1.5, sets)
        for name, xs in sets.items():
            alone = refusal_fit._score(Model(), gate_model, 1.5, xs)
            assert np.allclose(together[name].p, alone.p, atol=1e-6) and np.array_equal(together[name].ink, alone.ink)
            assert (gate_model is None and together[name].not_digit is None) or \
                np.allclose(together[name].not_digit, alone.not_digit, atol=1e-6)
    assert refusal_fit._score_each(Model(), None, 1.5, {}) == {}


def test_an_unsure_digit_model_tips_a_doubtful_gate():
    p = np.array([[0.99, 0.01] + [0] * 8, [0.4, 0.3, 0.3] + [0] * 7], np.float32)
    doubtful = np.array([0.4, 0.4])  # under the 0.5 threshold: the gate alone refuses neither
    assert not Rule(1.0, 0.0, 0.5).refused(p, doubtful).any()
    # logit(0.4) = -0.405; + 1 x -log(0.99) = 0.010 stays under 0 = logit(0.5), + 1 x -log(0.4) = 0.916 is over
    assert Rule(1.0, 0.0, 0.5, 1.0).refused(p, doubtful).tolist() == [False, True]


def test_a_stored_rule_is_read_and_a_broken_one_named(tmp_path):
    assert Rule.for_model(tmp_path) == Rule()
    (tmp_path / "refusal.json").write_text(json.dumps({"temperature": 0.5, "min_confidence": 0.3,
                                                       "gate_threshold": None}))
    assert Rule.for_model(tmp_path / "exports" / "model.onnx") == Rule(0.5, 0.3, None)
    (tmp_path / "refusal.json").write_text(json.dumps({"temperature": -1}))
    with pytest.raises(UserError, match="refusal.json: temperature must be > 0"):
        Rule.for_model(tmp_path)
    (tmp_path / "refusal.json").write_text("{")
    with pytest.raises(UserError, match="refusal.json: not a refusal rule.*mnist-cnn calibrate"):
        Rule.for_model(tmp_path)


def test_negatives_are_deterministic_and_the_splits_apart():
    a = negatives.generate(negatives.HELD_OUT, 2, negatives.HELD_OUT_SEED)
    b = negatives.generate(negatives.HELD_OUT, 2, negatives.HELD_OUT_SEED)
    c = negatives.generate(negatives.HELD_OUT, 2, negatives.HELD_OUT_SEED + 1)
    same = [np.array_equal(np.asarray(x), np.asarray(y)) for f in a for x, y in zip(a[f], b[f])]
    other = [np.array_equal(np.asarray(x), np.asarray(y)) for f in a for x, y in zip(a[f], c[f])]
    assert all(same) and not any(other)
    assert not set(negatives.VALIDATION) & set(negatives.HELD_OUT)
    assert not set(negatives.LETTERS) & set("OoQIlijJZzSsBGbgq0123456789")
    assert set(negatives.NEAR_LETTERS) <= set(negatives.LETTERS)
    # held-out letters: unseen fonts
    assert not set(evalset_render.FONT_FILES) & set(evalset_render.HELD_OUT_FONT_FILES)
    seen = negatives.as_mnist(a)
    assert all(x is None or (x.shape == (28, 28) and x.max() <= 1) for xs in seen.values() for x in xs)
    assert any(x is not None for x in seen["letters-liberation"])  # letters have ink: the rule must refuse them


def test_the_letters_nearest_a_digit_have_a_family_of_their_own(monkeypatch):
    """Each picture of the family is one of NEAR_LETTERS (a D, a T...), drawn as `letter` draws letters."""
    seen = negatives.as_mnist(negatives.generate({"letters-near": negatives.near_letter}, 3, 0))["letters-near"]
    assert all(x is not None and x.max() > 0.5 for x in seen)
    drawn = []
    monkeypatch.setattr(negatives, "letter", lambda rng, fonts, chars: drawn.append(chars) or Image.new("L", (9, 9)))
    negatives.generate({"letters-near": negatives.VALIDATION["letters-near"]}, 3, 0)
    assert drawn == [negatives.NEAR_LETTERS] * 3


def test_non_digits_read_on_worker_processes_are_those_read_here():
    """The fit's non-digits drawn and read by the pool (a family a task) are the very arrays of one process."""
    for families in (negatives.VALIDATION, negatives.HELD_OUT, {"blank": negatives.blank, "noise": negatives.noise}):
        pooled = negatives.generated_as_mnist(families, 2, 3)
        here = negatives.as_mnist(negatives.generate(families, 2, 3))
        assert list(pooled) == list(here) == list(families)
        assert all((a is None) == (b is None) and (a is None or np.array_equal(a, b))
                   for name in here for a, b in zip(pooled[name], here[name], strict=True))


def test_the_doodle_families_draw_ink_the_same_way_every_time():
    """Faces, hearts, flowers, figures and symbols in a hand: what people try a digit reader with (negatives_more)."""
    families = {k: negatives.VALIDATION[k] for k in ("faces", "hearts", "flowers", "figures", "hand-symbols")}
    a, b = negatives.generate(families, 3, 11), negatives.generate(families, 3, 11)
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for f in a for x, y in zip(a[f], b[f]))
    assert all(x is not None for xs in negatives.as_mnist(a).values() for x in xs)
    assert not set(negatives_more.HAND_SYMBOLS) & set("0123456789!?()[]/|\\~%<>")  # nothing drawn like a digit


def test_pictures_of_things_are_solid_shaded_and_drawn_the_same_way_every_time():
    """negatives_objects: silhouettes and icons (the gate took a photo of a dress for a 1), never a thin stroke."""
    families = {k: negatives.VALIDATION[k] for k in ("silhouettes", "icons")}
    a, b = negatives.generate(families, 4, 11), negatives.generate(families, 4, 11)
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for f in a for x, y in zip(a[f], b[f]))
    assert all(x is not None for xs in negatives.as_mnist(a).values() for x in xs)
    rng = np.random.default_rng(0)
    solid = [negatives_objects.solidity(negatives_objects._solid_parts(rng, 200)) for _ in range(30)]
    assert min(solid) >= negatives_objects.SOLID, solid
    shaded = np.asarray(negatives_objects.silhouette(np.random.default_rng(1)), np.float64)
    assert len(np.unique(shaded)) > 20  # shaded and textured inside, not one flat ink


def test_symbols_in_a_hand_are_only_those_its_face_has(monkeypatch):
    """A face without a glyph for a symbol draws a box (a 0 to the gate) or nothing: such symbols are not drawn."""
    from fontTools.ttLib import TTFont

    drawn = []
    monkeypatch.setattr(negatives, "letter", lambda rng, fonts, chars: drawn.append((fonts[0], chars)))
    for held_out in (False, True):
        rng = np.random.default_rng(0)
        for _ in range(40):
            negatives_more.hand_symbols(rng, held_out)
    for font, chars in drawn:
        assert chars and set(chars) <= {chr(c) for c in TTFont(str(font), lazy=True).getBestCmap()}, font


def test_fitting_without_handwriting_faces_says_so(monkeypatch, tmp_path):
    """Without them the gate learns DejaVu letters in their place (negatives_more.hand_fonts): one line says so."""
    said = []
    monkeypatch.setattr(evalset_render, "FONT_FILES", (str(tmp_path / "none.ttf"),))
    refusal_fit._warn_without_hand_faces(said.append)
    assert len(said) == 1 and "no handwriting faces" in said[0] and evalset_render.FONT_PACKAGES in said[0]
    (tmp_path / "none.ttf").write_bytes(b"")
    refusal_fit._warn_without_hand_faces(said.append)
    assert len(said) == 1


def test_the_gates_hand_digits_are_drawn_as_its_hand_letters(monkeypatch):
    """Digits in the faces of the hand-letter negatives, drawn and saved as they are: the gate learns shapes, not
    faces. The oracle: the hand-letters family itself, its letter generator made to draw digits."""
    digits = uploads.hand_digits(6, 5)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(digits, uploads.hand_digits(6, 5)))
    assert not any(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(digits, uploads.hand_digits(6, 6)))
    letter = negatives.letter
    monkeypatch.setattr(negatives, "letter", lambda rng, fonts, chars=None: letter(rng, fonts, "0123456789"))
    oracle = negatives.generate({"hand-letters": negatives_more.hand_letters}, 6, 5)["hand-letters"]
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(digits, oracle))
    assert sum(images.to_mnist(im) is not None for im in digits) >= 5  # digits with ink, not blank pages


SMALL = ((refusal_fit, "NEGATIVES", 12), (refusal_fit, "UPLOADS", 60), (refusal_fit, "EVALSET_PER_FAMILY", 5),
         (refusal_fit, "GATE_DIGIT_UPLOADS", 60), (gate, "NEGATIVES_PER_FAMILY", 40), (gate, "DIGITS", 600),
         (gate, "HAND_DIGITS", 20), (gate, "EPOCHS", 2), (gate, "STUBBED_DIGITS", 40), (gate, "STUBBED_LETTERS", 20))


@pytest.fixture(scope="module")
def fitted(trained_run, mnist_dir, tmp_path_factory):
    """A copy of the session's small run, calibrated with everything scaled down to seconds."""
    run = tmp_path_factory.mktemp("refusal") / "run"
    shutil.copytree(trained_run, run)
    gate.gate_paths(run, gate.PIECE_STEM)["keras"].write_bytes(b"")  # fitted beside an older gate: dropped
    with pytest.MonkeyPatch.context() as mp:
        for module, name, value in SMALL:
            mp.setattr(module, name, value)
        result = refusal_fit.fit(run, compare=True, data_dir=mnist_dir)
        result["pieces_gated_by_calibrate"] = gate.gate_paths(run, gate.PIECE_STEM)["keras"].is_file()
        result["piece_gate_files"] = refusal_fit.fit_piece_gate(run, data_dir=mnist_dir)  # as fit-reader does
    return run, result


def test_fit_stores_a_rule_chosen_within_the_acceptance_bounds(fitted):
    run, r = fitted
    stored = json.loads((run / "refusal.json").read_text())
    assert stored["approach"] == r["approach"] in ("gate", "confidence")
    assert Rule.for_model(run) == Rule(r["temperature"], r["min_confidence"], r["gate_threshold"],
                                      r["confidence_weight"])
    assert stored["rules"][r["approach"]] == Rule.for_model(run).to_dict()
    chosen = r["validation"][r["approach"]]
    assert chosen["mnist_accepted"] >= refusal_fit.ACCEPT_MNIST and \
        chosen["uploads_accepted"] >= refusal_fit.ACCEPT_UPLOADS
    assert set(chosen["by_family"]) == set(negatives.VALIDATION)
    assert set(r["held_out"]["none"]["by_family"]) == set(negatives.HELD_OUT)
    assert r["ece"]["test_after"] <= r["ece"]["test_before"] + 1e-3  # fitted on validation, judged on test
    assert Image.open(run / "calibration.png").size[0] > 500
    assert (run / gate.GATE_FILE).is_file() == (r["approach"] == "gate")
    assert not r["pieces_gated_by_calibrate"]  # the run has no line reader: nothing asks a piece gate
    piece_gate = gate.gate_paths(run, gate.PIECE_STEM)["keras"]
    assert piece_gate.is_file() == (r["approach"] == "gate") == (r["piece_gate_files"] is not None)
    if piece_gate.is_file():
        assert r["piece_gate_files"][0] == piece_gate and all(p.is_file() for p in r["piece_gate_files"])
        assert refusal_fit.fit_piece_gate(run) == []  # one made before stays


def test_calibrate_trains_the_piece_gate_only_beside_a_line_reader(tmp_path):
    assert refusal_fit.gate_stems(tmp_path) == [gate.GATE_STEM]
    (tmp_path / "linereader.keras").write_bytes(b"")
    assert refusal_fit.gate_stems(tmp_path) == [gate.GATE_STEM, gate.PIECE_STEM]


def test_fit_reader_trains_the_piece_gate_calibrate_would_and_mends_its_exports(trained_run, mnist_dir, tmp_path,
                                                                                monkeypatch):
    """fit_piece_gate (`fit-reader`) trains on the very images `calibrate` gives the piece gate beside a reader, and
    writes its export wherever the gate has one (a run exported with --int8 only has the gate's float export)."""
    from mnist_cnn import data

    for module, name, value in SMALL:
        monkeypatch.setattr(module, name, value)
    shown = []

    class Saved:
        def save(self, path):
            Path(path).write_bytes(b"a gate")

    monkeypatch.setattr(gate, "train_gate", lambda x, y, seed: shown.append((x, y)) or Saved())
    monkeypatch.setattr(gate, "write_gate", lambda run, fmt, dest, stem: (dest.write_bytes(fmt.encode()), dest)[1])
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    (x_train, y_train), _ = data.load_dataset("mnist", mnist_dir)
    train_idx, _ = refusal_fit._validation_digits(run, x_train, y_train)
    refusal_fit._train_gates(run, x_train, y_train, train_idx, [gate.GATE_STEM, gate.PIECE_STEM], lambda line: None)
    pieces = gate.gate_paths(run, gate.PIECE_STEM)
    pieces["keras"].unlink()
    gate.gate_paths(run, gate.GATE_STEM)["onnx"].parent.mkdir()
    gate.gate_paths(run, gate.GATE_STEM)["onnx"].write_bytes(b"")
    assert refusal_fit.fit_piece_gate(run, mnist_dir) == [pieces["keras"], pieces["onnx"]]
    (gate_x, _), (calibrated_x, calibrated_y), (fitted_x, fitted_y) = shown
    assert len(calibrated_x) > len(gate_x)  # the stubbed pieces besides the gate's images
    np.testing.assert_array_equal(fitted_x, calibrated_x)
    np.testing.assert_array_equal(fitted_y, calibrated_y)
    pieces["onnx"].unlink()
    assert refusal_fit.fit_piece_gate(run) == [pieces["onnx"]] and len(shown) == 3  # mended, not trained again
    assert refusal_fit.fit_piece_gate(run) == []
    gate.gate_paths(run, gate.GATE_STEM)["keras"].unlink()
    assert refusal_fit.fit_piece_gate(run) is None  # no gate: the rule judges the pieces


@pytest.mark.parametrize("stem", [gate.GATE_STEM, gate.PIECE_STEM])
def test_the_gate_answers_alike_in_every_runtime(fitted, test_digits, stem):
    run, _ = fitted
    if not (run / gate.GATE_FILE).is_file():
        pytest.skip("the small run kept the confidence rule")
    assert len(gate.export_gate(run, ["onnx", "litert"])) == 4  # both gates, both formats
    x = np.r_[test_digits[0][:20] / 255.0, np.random.default_rng(0).random((5, 28, 28))].astype(np.float32)[..., None]
    answers = [gate.open_gate(run, rt, stem=stem)(x) for rt in ("keras", "onnx", "litert")]
    assert answers[0].shape == (25,)
    np.testing.assert_allclose(answers[1], answers[0], atol=1e-4)
    np.testing.assert_allclose(answers[2], answers[0], atol=1e-4)


def test_pieces_are_judged_by_the_piece_gate_when_the_run_has_one(fitted, test_digits, tmp_path, monkeypatch):
    run, _ = fitted
    if not (run / gate.GATE_FILE).is_file():
        pytest.skip("the small run kept the confidence rule")
    x = (test_digits[0][:10] / 255.0).astype(np.float32)
    np.testing.assert_allclose(Predictor(run).piece_not_digit(x), gate.open_gate(run, "keras", stem=gate.PIECE_STEM)(
        x[..., None]), atol=1e-6)
    older = tmp_path / "run"
    shutil.copytree(run, older)
    gate.gate_paths(older, gate.PIECE_STEM)["keras"].unlink()  # calibrated before the piece gate: its rule judges
    assert Predictor(older).piece_not_digit(x) is None
    shutil.copy(run / (gate.PIECE_STEM + ".keras"), older)
    p = Predictor(older)
    p.runtime = "onnx"  # as a run's export would have it...
    monkeypatch.setattr(gate, "open_gate", lambda *args, **kwargs: None)  # ...without the piece gate's (int8 only)
    with pytest.raises(UserError, match=r"notdigit-pieces\.onnx\); make it with: mnist-cnn export .* --format onnx$"):
        p.piece_not_digit(x)


def test_a_point_under_a_stroke_is_refused_through_the_gate(fitted):
    """A ! (dotted.py): the gate's word is 1 in every answer, the stroke alone keeps the gate's own."""
    from test_dotted import frame

    run, _ = fitted
    if not (run / gate.GATE_FILE).is_file():
        pytest.skip("the small run kept the confidence rule")
    x = np.stack([frame(), frame(point=None)])
    p = Predictor(run)
    np.testing.assert_allclose(p.not_digit(x), [1.0, gate.open_gate(run, "keras")(x[..., None])[1]], atol=1e-6)
    assert p.decide(x)[0].rejected


@pytest.fixture(scope="module")
def refusing(trained_run, tmp_path_factory):
    """A copy of the small run whose rule refuses everything (temperature 50 flattens every answer to ~0.1)."""
    run = tmp_path_factory.mktemp("refusing") / "run"
    shutil.copytree(trained_run, run)
    (run / "refusal.json").write_text(json.dumps({"temperature": 50.0, "min_confidence": 0.5, "gate_threshold": None}))
    return run


def test_predict_says_not_a_digit_and_exits_0(refusing, test_digits, tmp_path, capsys):
    Image.fromarray(test_digits[0][0]).save(tmp_path / "d.png")
    Image.new("L", (64, 64), 255).save(tmp_path / "blank.png")
    assert cli.main(["predict", str(tmp_path), "--model", str(refusing)]) == 0
    rows = {line.split()[0].rsplit("/", 1)[-1]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert NOT_A_DIGIT in rows["d.png"] and "no digit found" in rows["blank.png"]
    assert cli.main(["predict", str(tmp_path), "--model", str(refusing), "--json"]) == 0
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(capsys.readouterr().out)}
    assert {k: by_name["d.png"][k] for k in ("digit", "rejected", "message")} == \
        {"digit": None, "rejected": True, "message": NOT_A_DIGIT}
    assert by_name["blank.png"]["rejected"] is False and by_name["blank.png"]["message"] == "no digit found"
    assert by_name["blank.png"]["error"] is None
    assert cli.main(["predict", str(tmp_path / "d.png"), "--model", str(refusing), "--csv"]) == 0
    row = next(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["digit"] == "" and row["rejected"] == "true" and row["message"] == NOT_A_DIGIT


def test_a_rule_needing_a_missing_gate_is_named(refusing, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(refusing, run)
    (run / "refusal.json").write_text(json.dumps({"temperature": 1.0, "min_confidence": 0.0, "gate_threshold": 0.5}))
    with pytest.raises(UserError, match=r"notdigit\.keras.*mnist-cnn calibrate"):
        Predictor(run)


def test_the_gate_runs_with_the_models_threads(refusing, tmp_path, monkeypatch):
    # A server's model runs in one thread; a gate left on the runtime's default pool spun a thread per worker
    # process after every pass (~0.8 ms of CPU a request).
    run = tmp_path / "run"
    shutil.copytree(refusing, run)
    (run / "refusal.json").write_text(json.dumps({"temperature": 1.0, "min_confidence": 0.0, "gate_threshold": 0.5}))
    asked = []

    def open_gate(run, runtime, threads=None):
        asked.append((runtime, threads))
        return lambda x: np.zeros(len(x), np.float32)

    monkeypatch.setattr(gate, "open_gate", open_gate)
    Predictor(run, threads=1)
    Predictor(run)
    assert asked == [("keras", 1), ("keras", None)]


def test_gate_refusals_reach_the_answer(fitted, trained_run, test_digits, tmp_path):
    run, _ = fitted
    if not (run / gate.GATE_FILE).is_file():
        pytest.skip("the small run kept the confidence rule")
    (run / "refusal.json").write_text(json.dumps({"temperature": 1.0, "min_confidence": 0.0, "gate_threshold": 0.0}))
    x = test_digits[0][:3] / 255.0
    assert all(d.rejected and d.digit is None for d in Predictor(run).decide(x))  # P(not a digit) >= 0 always


def test_api_answers_a_refusal_over_http(refusing, test_digits):
    x = test_digits[0][0]
    with serving(serve.create_app(Predictor(refusing))) as url:
        buf = io.BytesIO()
        Image.fromarray(255 - x).save(buf, "PNG")
        r = httpx.post(f"{url}/api/predict", files={"file": ("d.png", buf.getvalue(), "image/png")}, timeout=30)
        body = r.json()
        assert r.status_code == 200
        assert body["digit"] is None and body["rejected"] is True and body["message"] == NOT_A_DIGIT
        assert body["confidence"] == max(body["probabilities"]) and np.asarray(body["input"]).shape == (28, 28)
        r = httpx.post(f"{url}/api/predict", json={"pixels": np.zeros((28, 28)).tolist()}, timeout=30)
        assert r.json()["message"] == "no digit found" and r.json()["rejected"] is False
        schema = httpx.get(f"{url}/openapi.json").json()["components"]["schemas"]["Prediction"]
        assert "rejected" in schema["properties"]


@pytest.mark.skipif(not __import__("browser").available(),
                    reason="needs /usr/bin/chromium and /usr/bin/chromedriver "
                           "(apt-get install chromium chromium-driver)")
def test_page_shows_not_a_digit(refusing, tmp_path):
    import browser
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def text(element_id):
        return driver.find_element(By.ID, element_id).text

    stroke = [(0.5, 0.2 + 0.05 * i) for i in range(13)]
    with serving(serve.create_app(Predictor(refusing))) as url:
        driver = browser.chrome((1000, 900))
        try:
            driver.get(url + "/")
            canvas = driver.find_element(By.ID, "canvas")
            browser.draw(driver, canvas, [stroke], pointer="pen")
            WebDriverWait(driver, 10).until(lambda d: text("confidence") == "Not a digit")
            message = driver.find_element(By.ID, "message")
            assert message.text.startswith("Not a digit") and message.get_attribute("data-kind") == "rejected"
            assert text("digit") == "\u2715" and driver.find_element(By.ID, "digit").get_attribute("data-rejected")
            driver.save_screenshot(str(tmp_path / "not-a-digit.png"))
        finally:
            driver.quit()


def test_a_fit_without_its_fonts_leaves_the_run_whole_with_one_line(tmp_path, monkeypatch):
    """No DejaVu/Liberation fonts (macOS, a minimal container): one line naming them and what to install, a UserError;
    after a training (`make run`'s --calibrate, `train`) the run stays without a rule, reported, not a traceback; so
    too when a worker drawing the fit's non-digits is killed (out of memory)."""
    from types import SimpleNamespace

    monkeypatch.setattr(negatives, "FONT_DIRS", [tmp_path])
    with pytest.raises(UserError, match="no DejaVu fonts in .*apt-get install fonts-dejavu-core fonts-liberation"):
        negatives.font_files("DejaVu")
    lines = []
    monkeypatch.setattr(refusal_fit, "fit", lambda *a, **k: pytest.fail("fitted without its fonts"))
    run = SimpleNamespace(config=SimpleNamespace(dataset="mnist", limit=None, data_dir=None), run_dir=tmp_path / "r")
    assert refusal_fit.after_training(run, lines.append) is False  # not interrupted: a run without a rule
    [line] = lines
    assert line.startswith("no refusal rule: no DejaVu fonts")
    assert line.endswith(f"mnist-cnn calibrate {tmp_path / 'r'}")
    monkeypatch.setattr(negatives, "font_files", lambda family: [])

    def killed(*args, **kwargs):
        raise UserError("a worker process ended abruptly (killed, or out of memory?): ...", exit_code=1)

    monkeypatch.setattr(refusal_fit, "fit", killed)
    assert refusal_fit.after_training(run, lines.append) is False
    assert lines[-1].startswith("no refusal rule: a worker process ended abruptly")
    assert lines[-1].endswith(f"mnist-cnn calibrate {tmp_path / 'r'}")
