"""The "not a digit" gate: a small separate network telling digits from generated non-digits.

    from mnist_cnn.gate import train_gate, training_images, open_gate
    x, y = training_images(slant.as_seen(x_uint8), digit_uploads, non_digits)   # digits 0, non-digits 1
    model = train_gate(x, y, seed=0)                                     # Keras, (N, 28, 28, 1) -> (N, 2)
    p_not = open_gate(run_dir, "onnx")(x)                                # a run's gate in a runtime -> (N,)

refusal_fit.py trains it for a run (`mnist-cnn calibrate`), with the 28x28 images from
images.to_mnist: MNIST training digits, training digits rendered as uploads (uploads.py), digits in the
handwriting faces of its hand-letter negatives (uploads.hand_digits) and negatives.VALIDATION's families at
TRAIN_SEED. A second gate, the piece gate (PIECE_STEM), is trained on the same and on digits (training digits, and
for STUBBED_FONT_SHARE of them DejaVu, Comic Neue and the hand-letter negatives' faces) and DejaVu letters cut from
between touching digits (line_data.Composer.piece): `read` asks it about the pieces it cuts between the digits its
line reader found, which carry their neighbours' stubs; so it is trained only for a run with a line reader
(`mnist-cnn fit-reader`, or `calibrate` beside one: refusal_fit.gate_stems).

The digit classifier is trained on digits only, so its confidence says which digit, not whether
there is one (a refusal on confidence alone refuses < 45% of held-out non-digits at 99% of digits kept:
docs/images.md, "Not a digit, and honest confidence"). This gate is an 11th class kept apart: 2 outputs
(digit, not a digit), ~60k parameters, trained in 1-2 minutes on MNIST training digits (raw and as
uploads through images.to_mnist) against negatives.VALIDATION's families at their own seed. Being
a separate model, the digit model and its exports stay as they are; the gate is saved in the run
folder (notdigit.keras, notdigit-pieces.keras) and exported beside the model's exports (exports/notdigit.onnx,
.tflite, and the same for notdigit-pieces).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

GATE_STEM = "notdigit"  # exports/notdigit.onnx, exports/notdigit.tflite
GATE_FILE = GATE_STEM + ".keras"
PIECE_STEM = "notdigit-pieces"  # the piece gate: notdigit-pieces.keras, exports/notdigit-pieces.onnx, .tflite
# Twice the width, negatives and epochs of the first gate (15k parameters, 420 a family, 6 epochs): held out,
# fast's rule then refused 94.5% of non-digits (was 91.7%) and 90% of handwriting-font letters (was 72.5%),
# accepting as many digits (docs/images.md, "Not a digit"); the fit takes about twice as long.
EPOCHS = 12  # passes over ~34k images (15,300 digits, 18,736 non-digits in the last fit of `best`)
BATCH = 128
TRAIN_SEED = 7_000  # negatives for training: a stream apart from negatives.VALIDATION_SEED and HELD_OUT_SEED
NEGATIVES_PER_FAMILY = 840  # x 25 families: ~21,000 non-digits (some come out "no digit found" and are left out)
DIGITS = 12_000  # MNIST training digits as to_mnist gives them (slant.as_seen); plus as many uploads as given
HAND_DIGITS = 300  # digits in the faces of the hand-letter negatives (uploads.hand_digits), so a face is no sign of
# a letter: 840 (as many as the letters) took held-out spirals, curled like a hand's 6, from 98 to 44% refused (`best`)
HAND_SEED = TRAIN_SEED + 1  # ...from a stream of their own
STUBBED_DIGITS = 2_000  # the piece gate's: digits cut from between touching ones as `read` cuts its line reader's
# digits apart (line_data.Composer.piece), their neighbours' stubs and all. The gate refused such pieces, and so
# touching numbers the reader had read right (`best`, seed 5: 21 of the 37 touching numbers missed were refused, most
# with the reader right). In the gate itself they cost 3.5 points of refusals (non-numbers at seeds 20000 and 30000):
# hence a gate of their own.
STUBBED_LETTERS = 1_000  # ...and letters cut so from between digits, as non-digits: a stub is no sign of a digit
# (2,000 in the gate itself: touching numbers read rose 1.5 points instead of 6, refusals fell 1.75)
STUBBED_FONT_SHARE = 0.6  # of the stubbed pieces' strings (digits, and letters' neighbours) drawn in fonts: DejaVu,
# Comic Neue and the faces of the hand-letter negatives (negatives_more.hand_fonts), whose letters it refuses whole.
# With 0.4 and no hand faces it doubted handwriting-font digits cut apart (class D, `best`, read_eval's touching font
# numbers at seed 5: 85 -> 89 and 88% at two gate seeds; in faces nothing here was fitted on, `--other-faces`,
# 79 -> 83% both; non-numbers refused at seed 20000 91.2 -> 90.3 and 91.3%). The hand faces' letters cut so too lost
# the gain (83%, 76%), as did twice the pieces (84%, 80%). read.LINE_GATE_ONE went down with it.
STUB_SEED = TRAIN_SEED + 2


def build(seed: int = 0):
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.GlobalMaxPooling2D(),
        layers.Dense(64, activation="relu"),
        layers.Dense(2, activation="softmax", dtype="float32"),
    ], name="notdigit")


def training_images(digits: np.ndarray, uploads: list, negatives: list) -> tuple[np.ndarray, np.ndarray]:
    """(x (N, 28, 28, 1) float32, y (N,) 0 digit / 1 not a digit); None (no ink) images are left out."""
    pos = [d.astype(np.float32) / 255 if d.dtype == np.uint8 else d for d in digits]
    pos += [u for u in uploads if u is not None]
    neg = [n for n in negatives if n is not None]
    x = np.stack(pos + neg)[..., None].astype(np.float32)
    y = np.r_[np.zeros(len(pos)), np.ones(len(neg))].astype(np.int64)
    return x, y


def train_gate(x: np.ndarray, y: np.ndarray, seed: int = 0, epochs: int = EPOCHS):
    """The gate, trained with classes weighted to balance (digits outnumber non-digits)."""
    model = build(seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    counts = np.bincount(y, minlength=2)
    weights = {k: len(y) / (2 * max(1, counts[k])) for k in (0, 1)}
    order = np.random.default_rng(seed).permutation(len(y))
    model.fit(x[order], y[order], epochs=epochs, batch_size=BATCH, class_weight=weights, verbose=0)
    return model


def gate_paths(run: Path, stem: str = GATE_STEM) -> dict[str, Path]:
    """Where a run's gate (stem: GATE_STEM, or PIECE_STEM for the piece gate) is kept for each runtime."""
    from .rundir import EXPORT_SUFFIXES, EXPORTS

    return {"keras": run / (stem + ".keras"), "onnx": run / EXPORTS / (stem + EXPORT_SUFFIXES["onnx"]),
            "litert": run / EXPORTS / (stem + EXPORT_SUFFIXES["litert"])}


def open_gate(run: Path, runtime: str, threads: int | None = None, stem: str = GATE_STEM):
    """A function (N, 28, 28, 1) float32 -> (N,) P(not a digit) in `runtime`, or None when the run has none there.

    threads: the runtime's threads for one forward pass, as for the digit model (runtime.open_export)."""
    path = gate_paths(run, stem)[runtime]
    if not path.exists():
        return None
    if runtime == "keras":
        import tensorflow as tf

        from .models import load_model

        model = load_model(path, "float32", classes=2)
        forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True,
                              input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
        return lambda x: np.asarray(forward(x), dtype=np.float32)[:, 1]
    from . import runtime as runtimes

    runtimes.require(runtime)
    model = (runtimes.OnnxModel if runtime == "onnx" else runtimes.LiteRTModel)(path, classes=2, threads=threads)
    return lambda x: model.probabilities(x)[:, 1]


def missing_gate(run: Path, stem: str, runtime: str, what: str):
    """The UserError for a gate whose file for `runtime` is missing: `export` makes it from the .keras, else
    `calibrate`."""
    from .errors import UserError

    paths = gate_paths(run, stem)
    make = f"export {run} --format {runtime}" if paths["keras"].is_file() else f"calibrate {run}"
    return UserError(f"{run}: {what} for {runtime} (expected {paths[runtime]}); make it with: mnist-cnn {make}")


def export_gate(run: Path, formats) -> list[Path]:
    """The run's gates (notdigit.keras, and notdigit-pieces.keras when it has one) exported (float32) beside the
    model's exports, for each format in `formats`."""
    written = []
    for stem in (GATE_STEM, PIECE_STEM):
        paths = gate_paths(run, stem)
        if stem == GATE_STEM or paths["keras"].is_file():
            written += [write_gate(run, fmt, paths[fmt], stem) for fmt in formats]
    return written


def write_gate(run: Path, fmt: str, dest: Path, stem: str = GATE_STEM) -> Path:
    """The run's gate `stem` (its .keras file) exported (float32) in `fmt` to `dest`, written atomically."""
    from . import files
    from .export import _write
    from .models import load_model

    model = load_model(gate_paths(run, stem)["keras"], "float32", classes=2)
    model.predict(np.zeros((1, 28, 28, 1), np.float32), verbose=0)  # Keras' ONNX export needs a called model
    dest.parent.mkdir(parents=True, exist_ok=True)
    with files.atomic_path(dest) as tmp:
        _write(model, fmt, Path(tmp), None)
    return dest
