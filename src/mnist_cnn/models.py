"""The model registry: each entry is a whole recipe (network + optimiser + schedule + epochs + batch size).

    from mnist_cnn.models import get_recipe
    model = get_recipe("seed").build()        # an uncompiled keras.Model, input (28, 28, 1)

`mnist-cnn train --model NAME` picks one; flags override the recipe's epochs, batch size,
learning rate, schedule, precision and validation split. Keras is imported inside the builders,
so listing names is instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .errors import UserError


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    build: Callable[[], object]  # () -> uncompiled keras.Model taking (28, 28, 1) floats in [0, 1]
    epochs: int
    batch_size: int
    learning_rate: float
    schedule: str  # see config.SCHEDULES
    precision: str = "float32"  # see config.PRECISIONS; builders keep the softmax and augmentation in float32
    optimizer: str = "adam"  # adam, adamw or adadelta (see optimizer())
    optimizer_args: tuple = ()  # extra keyword arguments, as (name, value) pairs (the dataclass is frozen)
    label_smoothing: float = 0.0
    validation_split: float = 0.2  # the recipe's own hold-out; --validation-split overrides it
    source: str = ""  # where the recipe comes from, for the benchmark table


def optimizer(recipe: Recipe, learning_rate):
    """The recipe's keras optimizer for a float or schedule learning rate."""
    import keras

    kinds = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW, "adadelta": keras.optimizers.Adadelta}
    return kinds[recipe.optimizer](learning_rate, **dict(recipe.optimizer_args))


def seed_model():
    """The user's reference network: Conv2D(32, 3x3) -> MaxPool(2x2) -> Dense(128) -> Dense(10); 693,962 weights."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax", dtype="float32"),
    ], name="seed")


def keras_io_model():
    """keras-io "Simple MNIST convnet": Conv32-Pool-Conv64-Pool-Flatten-Dropout(0.5)-Dense10; 34,826 weights."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax", dtype="float32"),
    ], name="keras_io")


def pytorch_examples_model():
    """pytorch/examples mnist/main.py's Net in Keras: Conv32-Conv64-Pool-Dropout-Dense128-Dropout-Dense10.

    Its inputs are normalised with MNIST's mean 0.1307 and std 0.3081; the Rescaling layer does
    that inside the model, so it takes the same [0, 1] images as every other recipe.
    """
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 1)),
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


def fast_model():
    """A tiny net after the 1-epoch GPU speed records: Conv24(5x5)-Pool-Conv32(3x3)-Pool-Dense256-Dense10; 215,194 weights.

    Small enough that one pass over the data takes seconds on two cores, wide enough in the dense
    layer to pass 99% after that one pass.
    """
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(24, (5, 5), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(256, activation="relu"),
        layers.Dense(10, activation="softmax", dtype="float32"),
    ], name="fast")


def _random_affine_class():
    """RandomAffine, defined on first use so that importing this module does not import Keras."""
    import keras

    @keras.saving.register_keras_serializable(package="mnist_cnn")
    class RandomAffine(keras.layers.Layer):
        """One random rotation + zoom + shift per image, as a single affine warp, in training only.

        Keras' RandomRotation, RandomZoom and RandomTranslation warp the batch three times;
        composing the three into one matrix does the same augmentation in one resampling pass,
        which is both faster on a CPU and less blurry.
        """

        def __init__(self, degrees=10.0, zoom=0.1, shift=0.1, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.degrees, self.zoom, self.shift, self.seed = degrees, zoom, shift, seed
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
            a2 = cx - a0 * (cx + dx) - a1 * (cy + dy)
            b2 = cy - b0 * (cx + dx) - b1 * (cy + dy)
            zero = ops.zeros_like(a0)
            transform = ops.stack([a0, a1, a2, b0, b1, b2, zero, zero], axis=1)
            return keras.ops.image.affine_transform(images, transform, fill_mode="constant")

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "degrees": self.degrees, "zoom": self.zoom, "shift": self.shift,
                    "seed": self.seed}

    return RandomAffine


def register_custom_layers() -> None:
    """Make the project's own layers known to Keras before a saved model is loaded."""
    _random_affine_class()


def best_model():
    """The strongest single net here: three conv blocks with BatchNorm and dropout, and digit-safe
    augmentation (small rotations, zooms and shifts; never flips) that is active only in training.

    After C. Deotte's Kaggle MNIST study (the "25 million images" notebook): stacked 3x3 convs,
    a learnable 5x5 stride-2 conv instead of pooling, 40% dropout; 326,826 weights.
    """
    import keras
    from keras import layers

    def conv(x, filters, kernel, strides=1, padding="valid"):
        x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False)(x)
        return layers.Activation("relu")(layers.BatchNormalization()(x))

    inputs = keras.Input((28, 28, 1))
    x = _random_affine_class()(degrees=10, zoom=0.1, shift=0.1, dtype="float32")(inputs)
    for filters in (32, 64):
        x = conv(x, filters, 3)
        x = conv(x, filters, 3)
        x = conv(x, filters, 5, strides=2, padding="same")
        x = layers.Dropout(0.4)(x)
    x = conv(x, 128, 4)
    x = layers.Dropout(0.4)(layers.Flatten()(x))
    outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="best")


RECIPES = {r.name: r for r in [
    # Adam at its default 1e-3; with a constant rate the seed model's test accuracy wobbles around
    # 98.5% from epoch 5 on, a cosine decay to 0 settles it above (see README, "Choosing the defaults").
    Recipe("seed", "the user's reference CNN (Conv32-Pool-Dense128), adam", seed_model,
           epochs=12, batch_size=128, learning_rate=1e-3, schedule="cosine", source="the user's script"),
    Recipe("keras-io", "keras-io 'Simple MNIST convnet' (Conv32-Pool-Conv64-Pool-Dropout-Dense10)", keras_io_model,
           epochs=15, batch_size=128, learning_rate=1e-3, schedule="constant", validation_split=0.1,
           source="keras.io/examples/vision/mnist_convnet"),
    # torch's Adadelta defaults (rho 0.9, eps 1e-6) differ from Keras' (0.95, 1e-7): use torch's
    Recipe("pytorch-examples", "pytorch/examples mnist (Conv32-Conv64-Pool-Dense128), Adadelta, x0.7 per epoch",
           pytorch_examples_model, epochs=14, batch_size=64, learning_rate=1.0, schedule="step",
           optimizer="adadelta", optimizer_args=(("rho", 0.9), ("epsilon", 1e-6)),
           source="github.com/pytorch/examples mnist/main.py"),
    # One epoch: a one-cycle schedule with a high peak, Adam with short memories (beta 0.7, 0.9) so it
    # follows the fast-changing rate, and label smoothing against over-confidence after one pass.
    # bfloat16 compute (float32 weights): 1.35x images per CPU-second here (tools/speed.py), same accuracy.
    Recipe("fast", "least training time to >= 99%: tiny net, 1 epoch, one-cycle Adam 0.01", fast_model,
           epochs=1, batch_size=256, learning_rate=0.01, schedule="onecycle", precision="mixed_bfloat16",
           optimizer_args=(("beta_1", 0.7), ("beta_2", 0.9)), label_smoothing=0.1,
           source="this project (after the GPU 1-epoch records)"),
    # bfloat16 compute: 1.28x images per CPU-second (tools/speed.py), spent on 20 epochs instead of 16.
    Recipe("best", "highest single-model accuracy in <= 15 min: BN + dropout + augmentation, one-cycle AdamW",
           best_model, epochs=20, batch_size=128, learning_rate=3e-3, schedule="onecycle", optimizer="adamw",
           precision="mixed_bfloat16",
           optimizer_args=(("weight_decay", 1e-2),), label_smoothing=0.1, validation_split=0.1,
           source="this project (after C. Deotte's Kaggle MNIST nets)"),
]}


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise UserError(f"--model: unknown model {name!r}; valid models: {', '.join(RECIPES)}") from None
