import keras
import numpy as np
import pytest

from mnist_cnn.errors import UserError
from mnist_cnn.models import RECIPES, get_recipe


def test_seed_model_is_exactly_the_users_network():
    model = get_recipe("seed").build()
    layers = [(type(l).__name__, l.output.shape[1:]) for l in model.layers]
    assert layers == [("Conv2D", (26, 26, 32)), ("MaxPooling2D", (13, 13, 32)), ("Flatten", (5408,)),
                      ("Dense", (128,)), ("Dense", (10,))]
    conv, pool, _, hidden, out = model.layers
    assert conv.kernel_size == (3, 3) and conv.filters == 32 and conv.activation is keras.activations.relu
    assert pool.pool_size == (2, 2)
    assert hidden.activation is keras.activations.relu and out.activation is keras.activations.softmax
    assert model.input_shape == (None, 28, 28, 1)
    assert model.count_params() == 693_962


def test_seed_recipe_uses_adam_and_outputs_probabilities():
    recipe = get_recipe("seed")
    assert recipe.optimizer == "adam" and recipe.learning_rate == 1e-3
    p = np.asarray(recipe.build()(np.zeros((2, 28, 28, 1), np.float32)))
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)


def test_unknown_model_lists_valid_ones():
    with pytest.raises(UserError, match="unknown model 'resnet'; valid models: " + ", ".join(RECIPES)):
        get_recipe("resnet")


def test_random_affine_is_identity_when_off_and_at_inference():
    from mnist_cnn.models import _random_affine_class

    RandomAffine = _random_affine_class()
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(RandomAffine(0, 0, 0)(x, training=True)), x)
    np.testing.assert_array_equal(np.asarray(RandomAffine(10, 0.1, 0.1)(x, training=False)), x)


def test_random_affine_shift_moves_the_centre_of_mass_by_at_most_the_shift():
    from mnist_cnn.models import _random_affine_class

    x = np.zeros((64, 28, 28, 1), np.float32)
    x[:, 12:16, 12:16] = 1
    out = np.asarray(_random_affine_class()(0, 0, 0.1, seed=1)(x, training=True))[..., 0]
    cols = (out.sum(1) * np.arange(28)).sum(1) / out.sum((1, 2))
    assert np.all(np.abs(cols - 13.5) <= 2.8 + 1e-3) and cols.std() > 0.5  # shifts up to 10% of 28 px, and varied


def test_best_recipe_model_round_trips_through_safe_mode(tmp_path):
    from mnist_cnn.evaluate import load_model

    model = get_recipe("best").build()
    model.save(tmp_path / "best.keras")
    loaded = load_model(tmp_path / "best.keras")
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)


def test_best_recipe_trains_in_mixed_bfloat16_with_float32_augmentation_and_softmax():
    recipe = get_recipe("best")
    assert recipe.precision == "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(recipe.precision)
    try:
        model = recipe.build()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    affine, softmax = model.layers[1], model.layers[-1]
    assert type(affine).__name__ == "RandomAffine" and affine.compute_dtype == "float32"
    assert softmax.compute_dtype == "float32"
    assert {l.compute_dtype for l in model.layers if isinstance(l, keras.layers.Conv2D)} == {"bfloat16"}
