"""Training a run's line reader (line_reader.py) with CTC on synthetic strings: `mnist-cnn fit-reader RUN`.

    from mnist_cnn.line_fit import fit
    figures = fit("runs/NAME", strings=200_000, epochs=3)   # RUN/linereader.keras (+ exports/linereader.onnx)
    copy_reader("runs/NAME", "runs/OTHER")                   # or OTHER's reader, copied: it reads any run's strings

The strings come from line_data.Composer: MNIST *training* digits (and print fonts), never the test
digits or handwriting faces tools/read_eval.py measures with. The reader is a separate small network
kept in the run folder beside the digit model, which stays as it is.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from . import line_reader
from .console import Report, quiet
from .errors import UserError
from .line_reader import BLANK, CLASSES, HEIGHT, STRIDE

STRINGS = 200_000  # synthetic strings per fit (composing them: ~4 minutes; 3.7 GB as float32). 100,000 (half the
# time): 79.5% of its own strings exact against 81.0%, touching numbers at seeds 0 and 5 166 and 170 of 200 read against
# 171 and 173 (class D; docs/reading.md, "A reader fitted on twice the strings"); 40,000 read fewer still (72.5% exact)
EPOCHS = 3  # 9,375 steps of BATCH: 68 min on class D, evaluations running beside it for half of it
BATCH = 64
LEARNING_RATE = 2e-3  # Adam's, decayed to 0 along a cosine
VALIDATION = 1_000  # strings at seed + 1, to report the exact match of the reader alone
WIDTH = 144  # training inputs are padded (or squeezed) to this width: 6 touching digits (99th percentile: 120)
MAX_DIGITS = 6  # line_data.DIGITS' longest
BN_MOMENTUM = 0.9  # Keras' 0.99 leaves the moving statistics far from the batches' for the first ~500 steps


def build(seed: int = 0, width: int | None = None):
    """The reader: (HEIGHT, width, 1) -> (width / STRIDE, CLASSES) logits, float32."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    x = inputs = keras.Input((HEIGHT, width, 1))

    def conv(x, filters, pool):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
        return layers.MaxPooling2D(pool)(x)

    x = conv(x, 32, (2, STRIDE))  # 16 rows
    x = conv(x, 48, (2, 1))  # 8
    x = conv(x, 64, (2, 1))  # 4
    x = conv(x, 96, (2, 1))  # 2
    x = layers.Conv2D(128, (2, 1), activation="relu")(x)  # 1 row: (1, steps, 128)
    x = layers.Reshape((-1, 128))(x)
    x = layers.Conv1D(128, 5, padding="same", activation="relu")(x)  # each step sees ~1.5 digits around it
    x = layers.Conv1D(128, 5, padding="same", dilation_rate=2, activation="relu")(x)
    outputs = layers.Dense(CLASSES, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="line_reader")


def ctc_loss(y_true, y_pred):
    """CTC of logits (batch, steps, CLASSES) against labels (batch, MAX_DIGITS), class 0 padding. TensorFlow's
    own op with sparse labels, not keras.ops.ctc_loss: that passes dense labels, which TensorFlow computes with
    a graph of small ops (measured: training steps 4x slower than with this C++ kernel, 2.1 s against 0.5)."""
    import tensorflow as tf

    sparse = tf.sparse.from_dense(tf.cast(y_true, tf.int32))
    steps = tf.fill([tf.shape(y_pred)[0]], tf.shape(y_pred)[1])
    return tf.nn.ctc_loss(sparse, tf.cast(y_pred, tf.float32), None, steps, logits_time_major=False,
                          blank_index=BLANK)


def labels(texts: list[str]) -> np.ndarray:
    """Digit strings -> (N, MAX_DIGITS) int32 CTC labels: digit d is class d + 1, 0 pads."""
    out = np.zeros((len(texts), MAX_DIGITS), np.int32)
    for i, t in enumerate(texts):
        out[i, :len(t)] = [int(c) + 1 for c in t]
    return out


def exact_match(model, x: np.ndarray, texts: list[str]) -> float:
    probs = line_reader.softmax(np.asarray(model.predict(x[..., None], batch_size=256, verbose=0)))
    return float(np.mean([line_reader.decode(p)[0] == t for p, t in zip(probs, texts)]))


def fit(run, strings: int = STRINGS, epochs: int = EPOCHS, seed: int = 0, data_dir=None,
        report: Report = quiet) -> dict:
    """Train the run's line reader, save it (RUN/linereader.keras, and its ONNX export when tf2onnx is
    installed) and return its figures."""
    from .data import load_mnist
    from .line_data import Composer, training_fonts
    from .rundir import READER, RunDir

    run = RunDir.open(run)
    import keras  # after the run's check: a library caller with a wrong run hears of the run (the CLI checks first)

    (x, y), _ = load_mnist(data_dir, report=report)
    start = time.perf_counter()
    report(f"composing {strings:,} training strings of MNIST training digits")
    xs, texts = Composer(x, y, training_fonts(), seed).batch(strings, WIDTH, HEIGHT)
    vx, vt = Composer(x, y, training_fonts(), seed + 1).batch(VALIDATION, WIDTH, HEIGHT)
    keras.mixed_precision.set_dtype_policy("float32")
    model = build(seed)
    steps = epochs * (strings // BATCH)
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)),
                  loss=ctc_loss)
    model.fit(xs[..., None], labels(texts), batch_size=BATCH, epochs=epochs, verbose=2 if report is not quiet else 0,
              shuffle=True)
    figures = {"strings": strings, "epochs": epochs, "seed": seed, "synthetic_exact": exact_match(model, vx, vt),
               "seconds": round(time.perf_counter() - start, 1)}
    line_reader.reader_paths(run.path)["onnx"].unlink(missing_ok=True)  # an older reader's: never beside the new one
    run.save_model(model, READER)
    if _importable("tf2onnx"):
        figures["onnx"] = str(export_onnx(run.path))
    return figures


def copy_reader(run, source) -> list[Path]:
    """Another run's line reader copied into this one (`mnist-cnn fit-reader RUN --from SOURCE`), with its ONNX export
    (written here as `fit` writes it where SOURCE has none and tf2onnx is installed; an older one removed). The reader
    sees only the ink of a mark, never the run's digit model, so one fit serves every run. Returns the files written."""
    from . import files
    from .rundir import RunDir

    run = RunDir.open(run)
    try:
        source = RunDir.open(source)
    except UserError as e:
        raise UserError(f"--from: {e}") from None
    theirs, ours = line_reader.reader_paths(source.path), line_reader.reader_paths(run.path)
    if run.path.resolve() == source.path.resolve():
        raise UserError(f"--from: expected another run than {run.path}, found the same one")
    if not theirs["keras"].is_file():
        raise UserError(f"--from: expected a run with a line reader ({theirs['keras']}; `mnist-cnn fit-reader "
                        f"{source.path}` fits one), found none")
    ours["onnx"].unlink(missing_ok=True)  # first: never a new reader beside the old one's export, if stopped midway
    written = []
    for form in ("keras", "onnx"):
        if theirs[form].is_file():
            ours[form].parent.mkdir(parents=True, exist_ok=True)
            with files.atomic_path(ours[form]) as tmp:
                shutil.copyfile(theirs[form], tmp)
            written.append(ours[form])
    if not theirs["onnx"].is_file() and _importable("tf2onnx"):
        written.append(export_onnx(run.path))
    return written


def export_onnx(run: Path) -> Path:
    """The run's linereader.keras as exports/linereader.onnx (float32, any width), written atomically."""
    import keras

    from . import files
    from .export import _write

    paths = line_reader.reader_paths(Path(run))
    model = build()  # float32 whatever the policy it was saved under: ONNX Runtime has no bfloat16 convolutions
    model.set_weights(keras.saving.load_model(paths["keras"], compile=False).get_weights())
    model.predict(np.zeros((1, HEIGHT, 2 * STRIDE * 4, 1), np.float32), verbose=0)  # Keras' export needs a call
    paths["onnx"].parent.mkdir(parents=True, exist_ok=True)
    with files.atomic_path(paths["onnx"]) as tmp:
        _write(model, "onnx", Path(tmp), None)
    return paths["onnx"]


def _importable(module: str) -> bool:
    from .extras import importable

    return importable(module)
