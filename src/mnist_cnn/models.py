"""The networks: a Keras builder for each `TrainConfig.network`, the training layers, and loading.

    from mnist_cnn.models import build, load_model
    model = build(cfg)                      # compiled-ready keras.Model, input (28, 28, 1) floats in [0, 1]
    model = load_model("runs/NAME/model.keras")   # safe mode, float32 compute on CPUs without bfloat16

Keras is imported inside the functions, so importing this module (and `mnist-cnn --help`) is instant.
The recipes that pair a network with its optimiser, schedule and epochs are in config.py.
"""

from __future__ import annotations

import functools
import os
import zipfile
from pathlib import Path

from .errors import UserError


def seed_model(augment=None):
    """The user's reference network: Conv2D(32, 3x3) -> MaxPool(2x2) -> Dense(128) -> Dense(10); 693,962 weights."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        *_augmentation(augment),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax", dtype="float32"),
    ], name="seed")


def keras_io_model(augment=None):
    """keras-io "Simple MNIST convnet": Conv32-Pool-Conv64-Pool-Flatten-Dropout(0.5)-Dense10; 34,826 weights."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        *_augmentation(augment),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax", dtype="float32"),
    ], name="keras_io")


def pytorch_examples_model(augment=None):
    """pytorch/examples mnist/main.py's Net in Keras: Conv32-Conv64-Pool-Dropout-Dense128-Dropout-Dense10.

    Its inputs are normalised with MNIST's mean 0.1307 and std 0.3081; the Rescaling layer does
    that inside the model, so it takes the same [0, 1] images as every other recipe.
    """
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        *_augmentation(augment),
        layers.Rescaling(1 / 0.3081, offset=-0.1307 / 0.3081),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax", dtype="float32"),
    ], name="pytorch_examples")


# The old `fast` net (Conv 5x5-Pool-Conv 3x3-Pool-Dense) in a few widths: name -> (first conv filters,
# second conv filters, dense units). "fast" (24, 32, 256; 215,194 weights) is the `fast` recipe's network
# before the stride-2 sweep (sweeps/fast-v1.toml; saved runs and `fast` on Fashion-MNIST keep it). The others
# are Fashion-MNIST's candidates (sweeps/fashion-fast-pooled.toml): 16 first filters cost ~0.8x the CPU of 24
# per image (oneDNN's bfloat16 blocks of 16); 32-64 1.27x in a whole 3-epoch run (docs/training.md, "Fashion-MNIST").
POOLED = {"fast": (24, 32, 256), "fast-16": (16, 32, 256), "fast-32-64": (32, 64, 256)}


def pooled_model(name: str, augment=None):
    """Conv(5x5)-Pool-Conv(3x3)-Pool-Dense-Dense10 with the widths POOLED[name] gives.

    After the 1-epoch GPU speed records: small enough that one pass over the data takes seconds on
    two cores, wide enough in the dense layer to pass 99% on digits after that one pass.
    """
    import keras
    from keras import layers

    first, second, dense = POOLED[name]
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        *_augmentation(augment),
        layers.Conv2D(first, (5, 5), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(second, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(dense, activation="relu"),
        layers.Dense(10, activation="softmax", dtype="float32"),
    ], name=name.replace("-", "_"))


# The sweep's candidates for a faster `fast` (docs/training.md, "A faster fast"): the "fast" net with the first
# convolution at stride 2 (12x12 maps instead of 24x24, and no first pooling), in a few widths:
# name -> (first conv filters, second conv filters, dense units). Widths of 16 suit oneDNN's
# bfloat16 kernels (blocks of 16 channels): 16 filters first train 1.2-1.5x more images per CPU-second than 24.
STRIDED = {"fast-s2": (24, 32, 256), "fast-s2-16": (16, 32, 256), "fast-s2-16-128": (16, 32, 128),
           "fast-s2-32": (32, 32, 256), "fast-s2-16-16": (16, 16, 256), "fast-s2-8-16": (8, 16, 256)}


def strided_model(name: str, augment=None):
    """Conv(5x5, stride 2)-Conv(3x3)-Pool-Dense-Dense10 with the widths STRIDED[name] gives."""
    import keras
    from keras import layers

    first, second, dense = STRIDED[name]
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        *_augmentation(augment),
        layers.Conv2D(first, (5, 5), strides=2, activation="relu"),
        layers.Conv2D(second, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(dense, activation="relu"),
        layers.Dense(10, activation="softmax", dtype="float32"),
    ], name=name.replace("-", "_"))


def _random_affine_class():
    """RandomAffine, defined on first use so that importing this module does not import Keras."""
    import keras

    @keras.saving.register_keras_serializable(package="mnist_cnn")
    class RandomAffine(keras.layers.Layer):
        """One random rotation + zoom + shift (+ mirror) per image, as a single affine warp, in training only.

        Keras' RandomRotation, RandomZoom and RandomTranslation warp the batch three times;
        composing the three into one matrix does the same augmentation in one resampling pass,
        which is both faster on a CPU and less blurry. flip: the probability of a left-right mirror
        (for clothes; never for digits).
        """

        def __init__(self, degrees=10.0, zoom=0.1, shift=0.1, seed=None, flip=0.0, **kwargs):
            super().__init__(**kwargs)
            self.degrees, self.zoom, self.shift, self.seed, self.flip = degrees, zoom, shift, seed, flip
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, images, training=None):
            if not training:
                return images
            ops = keras.ops
            n = ops.shape(images)[0]
            h, w = images.shape[1], images.shape[2]

            def uniform(low, high):
                return keras.random.uniform((n,), low, high, seed=self.seed_generator)

            angle = uniform(-1.0, 1.0) * (self.degrees * 3.141592653589793 / 180)
            scale = 1.0 / uniform(1 - self.zoom, 1 + self.zoom)  # output -> input: a zoom-in reads a smaller patch
            dx, dy = uniform(-self.shift, self.shift) * w, uniform(-self.shift, self.shift) * h
            cos, sin = ops.cos(angle) * scale, ops.sin(angle) * scale
            cx, cy = (w - 1) / 2, (h - 1) / 2
            # input = R * S * (output - centre - shift) + centre, written as the 8-number rows affine_transform takes
            a0, a1, b0, b1 = cos, -sin, sin, cos
            if self.flip:  # mirror the output's x about the centre first: the x column times -1
                mirror = ops.where(uniform(0.0, 1.0) < self.flip, -1.0, 1.0)
                a2 = cx - a0 * (mirror * cx + dx) - a1 * (cy + dy)
                b2 = cy - b0 * (mirror * cx + dx) - b1 * (cy + dy)
                a0, b0 = a0 * mirror, b0 * mirror
            else:
                a2 = cx - a0 * (cx + dx) - a1 * (cy + dy)
                b2 = cy - b0 * (cx + dx) - b1 * (cy + dy)
            zero = ops.zeros_like(a0)
            transform = ops.stack([a0, a1, a2, b0, b1, b2, zero, zero], axis=1)
            return keras.ops.image.affine_transform(images, transform, fill_mode="constant")

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "degrees": self.degrees, "zoom": self.zoom, "shift": self.shift,
                    "seed": self.seed, "flip": self.flip}

    return RandomAffine


def register_custom_layers() -> None:
    """Make the project's own layers known to Keras before a saved model is loaded."""
    _random_affine_class()


BEST = {"best": (32, 64, 128), "best-wide": (48, 96, 192), "best-32-96": (32, 96, 192)}  # block 1, block 2, last conv
DROPOUT = dict.fromkeys(BEST, 0.4)  # networks whose dropout after each block is a setting: their own rate


def best_model(augment=None, dropout: float | None = None, *, filters: tuple = BEST["best"], name: str = "best"):
    """The strongest single net here: three conv blocks with BatchNorm and dropout, and digit-safe
    augmentation (small rotations, zooms and shifts; never flips: Fashion-MNIST's adds them), only in training.

    The recipe's augmentation (config.RECIPES["best"].augment): rotations of 10 degrees, zooms and
    shifts of 10%. After C. Deotte's Kaggle MNIST study (the "25 million images" notebook): stacked 3x3 convs,
    a learnable 5x5 stride-2 conv instead of pooling, 40% dropout (`dropout`: another rate); 326,826 weights.
    `filters`: of block 1, block 2 and the last conv; best-32-96 (32/96/192, 675,242 weights) is Fashion-MNIST's.
    """
    import keras
    from keras import layers

    def conv(x, filters, kernel, strides=1, padding="valid"):
        x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False)(x)
        return layers.Activation("relu")(layers.BatchNormalization()(x))

    rate = DROPOUT[name] if dropout is None else dropout
    inputs = keras.Input((28, 28, 1))
    x = _augmentation(augment)[0](inputs) if augment else inputs
    for n in filters[:2]:
        x = conv(x, n, 3)
        x = conv(x, n, 3)
        x = conv(x, n, 5, strides=2, padding="same")
        x = layers.Dropout(rate)(x)
    x = conv(x, filters[2], 4)
    x = layers.Dropout(rate)(layers.Flatten()(x))
    outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name.replace("-", "_"))


NETWORKS = {"seed": seed_model, "keras-io": keras_io_model, "pytorch-examples": pytorch_examples_model,
            **{name: functools.partial(pooled_model, name) for name in POOLED},
            **{name: functools.partial(best_model, filters=filters, name=name) for name, filters in BEST.items()},
            **{name: functools.partial(strided_model, name) for name in STRIDED}}


def _augmentation(augment) -> list:
    """[RandomAffine(**augment)] in float32 (it resamples pixels), or [] for no augmentation."""
    if not augment:
        return []
    off = {"degrees": 0.0, "zoom": 0.0, "shift": 0.0, "flip": 0.0}  # a key not given is off, not the layer's default
    return [_random_affine_class()(**{**off, **augment}, dtype="float32")]


def build(cfg, policy: str = "float32"):
    """cfg.network (with cfg.augment) built under the Keras dtype `policy`; uncompiled.

    Layers take the global dtype policy when they are built and the saved model keeps each layer's
    own, so the policy is set only while building and the caller's is restored.
    """
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        return NETWORKS[cfg.network](cfg.augment, **({} if cfg.dropout is None else {"dropout": cfg.dropout}))
    finally:
        keras.mixed_precision.set_global_policy(previous)


def optimizer(cfg, learning_rate):
    """cfg.optimizer with cfg.optimizer_args for a float or schedule learning rate."""
    import keras

    kinds = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW, "adadelta": keras.optimizers.Adadelta}
    return kinds[cfg.optimizer](learning_rate, **cfg.optimizer_args)


MAX_MODEL_BYTES = 200 * 2**20  # a .keras file: ours are 0.5-15 MB; refuse before reading anything bigger
MAX_INFLATED_BYTES = 500 * 2**20  # what its zip members may inflate to (a zip bomb would take GBs)
MAX_CONFIG_BYTES = 16 * 2**20  # its config.json: a few KB for any real network


def model_path(path: str | os.PathLike) -> Path:
    """A run folder's model.keras, or the .keras file itself."""
    path = Path(path)
    if path.is_dir():
        if (path / "saved_model.pb").is_file():  # export's SavedModel is for TensorFlow's own tools (tf.saved_model)
            raise UserError(f"{path}: a SavedModel (for TensorFlow's own tools), not a run folder; give the run "
                            f"folder it was exported from")
        if not (path / "model.keras").is_file():
            raise UserError(f"{path}: not a run folder (expected model.keras in it, found none)")
        return path / "model.keras"
    if not path.exists():
        raise UserError(f"{path}: no such run folder or model file")
    if path.suffix != ".keras":
        raise UserError(f"{path}: expected a run folder or a .keras model file, found a {path.suffix or 'plain'} file")
    return path


def _check_archive(path: Path) -> None:
    if path.stat().st_size > MAX_MODEL_BYTES:
        raise UserError(f"{path}: model file too large ({path.stat().st_size:,} bytes; limit {MAX_MODEL_BYTES:,})")
    if not zipfile.is_zipfile(path):
        raise UserError(f"{path}: not a Keras model file (expected a .keras zip archive)")
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    config = next((i.file_size for i in infos if i.filename == "config.json"), 0)
    total = sum(i.file_size for i in infos)
    if config > MAX_CONFIG_BYTES or total > MAX_INFLATED_BYTES:
        raise UserError(f"{path}: model archive inflates to {total:,} bytes (config.json {config:,}); "
                        f"limits {MAX_INFLATED_BYTES:,} and {MAX_CONFIG_BYTES:,}")


def load_model(path: str | os.PathLike, policy: str | None = None, classes: int = 10):
    """Load a .keras file in Keras' safe mode (no arbitrary code); a bad file is a UserError.

    policy: the compute policy for inference ("float32" rebuilds a bfloat16 model in float32 with the
    same weights; None keeps the saved layers' policies, as training and resuming need).
    """
    path = model_path(path)  # a wrong path is named before Keras loads (or is found missing)
    _check_archive(path)
    import keras

    register_custom_layers()
    try:
        model = keras.models.load_model(path, safe_mode=True)
    except Exception as e:  # Keras raises ValueError, KeyError, OSError, TypeError... for a bad archive
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"{path}: cannot load the Keras model ({first[:200]})") from None
    check_classifier(model, path, classes)
    if policy == "float32" and any(layer.dtype_policy.name != "float32" for layer in model.layers):
        model = as_float32(model)
    return model


def check_classifier(model, path, classes: int = 10) -> None:
    """A model this tool can use takes (28, 28, 1) images and gives `classes` probabilities."""
    shapes = (tuple(model.input_shape), tuple(model.output_shape)) if not isinstance(model.input_shape, list) else None
    if shapes != ((None, 28, 28, 1), (None, classes)):
        found = f"input {model.input_shape}, output {model.output_shape}"
        raise UserError(f"{path}: expected a {classes}-class classifier of 28x28x1 images "
                        f"(input (None, 28, 28, 1), output (None, {classes})), found {found}")


def as_float32(model):
    """The same network and weights computing in float32 (for CPUs without native bfloat16)."""
    import keras

    def clone(layer):
        config = layer.get_config()
        config["dtype"] = "float32"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy
