import keras
import numpy as np
import pytest

from mnist_cnn.errors import UserError
from mnist_cnn.config import RECIPES
from mnist_cnn.models import build, optimizer


def test_seed_model_is_exactly_the_users_network():
    model = build(RECIPES["seed"])
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
    recipe = RECIPES["seed"]
    assert type(optimizer(recipe, recipe.learning_rate)).__name__ == "Adam" and recipe.learning_rate == 1e-3
    p = np.asarray(build(recipe)(np.zeros((2, 28, 28, 1), np.float32)))
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)


def test_optimizer_takes_the_configs_arguments():
    opt = optimizer(RECIPES["fast"], 0.01)
    assert type(opt).__name__ == "Adam" and (opt.beta_1, opt.beta_2) == (0.7, 0.9)
    opt = optimizer(RECIPES["pytorch-examples"], 1.0)
    assert type(opt).__name__ == "Adadelta" and (opt.rho, opt.epsilon) == (0.9, 1e-6)


def test_augmentation_is_a_setting_of_any_network():
    plain = build(RECIPES["seed"])
    augmented = build(RECIPES["seed"].replace(augment={"degrees": 5.0}))
    assert [type(l).__name__ for l in augmented.layers][:2] == ["RandomAffine", "Conv2D"]
    assert augmented.layers[0].degrees == 5.0 and augmented.count_params() == plain.count_params()
    layer = augmented.layers[0]
    assert (layer.zoom, layer.shift, layer.flip) == (0.0, 0.0, 0.0)  # keys not given are off, not the defaults


def test_the_best_networks_dropout_is_a_setting_and_unset_keeps_its_own():
    rates = lambda m: [l.rate for l in m.layers if type(l).__name__ == "Dropout"]  # noqa: E731
    own, lighter = build(RECIPES["best"]), build(RECIPES["best"].replace(dropout=0.1))
    assert rates(own) == [0.4] * 3 and rates(lighter) == [0.1] * 3
    assert own.count_params() == lighter.count_params() == 326_826
    filters = lambda m: [l.filters for l in m.layers if type(l).__name__ == "Conv2D"]  # noqa: E731
    assert filters(own) == [32] * 3 + [64] * 3 + [128]
    wide = build(RECIPES["best"].replace(network="best-wide", dropout=0.0))
    assert rates(wide) == [0.0] * 3 and wide.count_params() == 732_922 and wide.name == "best_wide"
    assert filters(wide) == [48] * 3 + [96] * 3 + [192]
    clothes = build(RECIPES["best"].replace(network="best-32-96", dropout=0.0))  # Fashion-MNIST's
    assert rates(clothes) == [0.0] * 3 and clothes.count_params() == 675_242 and clothes.name == "best_32_96"
    assert rates(build(RECIPES["best"].replace(network="best-32-96"))) == [0.4] * 3
    assert filters(clothes) == [32] * 3 + [96] * 3 + [192]


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
    from mnist_cnn.models import load_model

    model = build(RECIPES["best"])
    model.save(tmp_path / "best.keras")
    loaded = load_model(tmp_path / "best.keras")
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)


def test_best_recipe_builds_in_mixed_bfloat16_with_float32_augmentation_and_softmax():
    model = build(RECIPES["best"], "mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"  # the caller's policy is restored
    affine, softmax = model.layers[1], model.layers[-1]
    assert type(affine).__name__ == "RandomAffine" and affine.compute_dtype == "float32"
    assert softmax.compute_dtype == "float32"
    assert {l.compute_dtype for l in model.layers if isinstance(l, keras.layers.Conv2D)} == {"bfloat16"}


def test_a_bfloat16_model_loads_for_float32_inference_with_the_same_weights(tmp_path):
    from mnist_cnn.models import load_model

    model = build(RECIPES["fast"], "mixed_bfloat16")
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras", "float32")
    assert {l.compute_dtype for l in loaded.layers} == {"float32"}
    x = np.random.default_rng(0).random((8, 28, 28, 1)).astype(np.float32)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=0.02)  # bf16 rounding only
    kept = load_model(tmp_path / "m.keras")
    assert {l.compute_dtype for l in kept.layers if isinstance(l, keras.layers.Conv2D)} == {"bfloat16"}


def test_a_model_of_another_shape_is_one_clear_line(tmp_path):
    from mnist_cnn.models import load_model

    five = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(5)])
    five.save(tmp_path / "five.keras")
    with pytest.raises(UserError,
                       match=r"five.keras: expected a 10-class classifier of 28x28x1 images .* output \(None, 5\)"):
        load_model(tmp_path / "five.keras")
    wide = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    wide.save(tmp_path / "wide.keras")
    with pytest.raises(UserError, match=r"wide.keras: expected .* input \(None, 32, 32, 3\)"):
        load_model(tmp_path / "wide.keras")


def test_a_zip_bomb_model_is_refused_before_inflating(tmp_path):
    import zipfile

    from mnist_cnn.models import load_model

    with zipfile.ZipFile(tmp_path / "bomb.keras", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", b" " * (20 * 2**20))  # 20 MB of spaces deflate to ~20 KB
    assert (tmp_path / "bomb.keras").stat().st_size < 200_000
    with pytest.raises(UserError, match="bomb.keras: model archive inflates to 20,971,520 bytes"):
        load_model(tmp_path / "bomb.keras")


@pytest.mark.parametrize("name", ["fast-s2", "fast-s2-16", "fast-s2-16-128", "fast-s2-32", "fast-s2-16-16",
                                  "fast-s2-8-16"])
def test_strided_networks_have_the_widths_their_name_gives_and_save_under_it(name, tmp_path):
    from mnist_cnn.models import STRIDED, load_model

    first, second, dense = STRIDED[name]
    model = build(RECIPES["fast"].replace(network=name), "mixed_bfloat16")
    layers = [(type(l).__name__, tuple(l.output.shape[1:])) for l in model.layers]
    assert layers == [("Conv2D", (12, 12, first)), ("Conv2D", (10, 10, second)), ("MaxPooling2D", (5, 5, second)),
                      ("Flatten", (25 * second,)), ("Dense", (dense,)), ("Dense", (10,))]
    assert model.layers[0].strides == (2, 2) and model.layers[0].kernel_size == (5, 5)
    assert model.count_params() == (25 * first + first + 9 * first * second + second
                                    + 25 * second * dense + dense + 10 * dense + 10)
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    assert again.name == name.replace("-", "_")
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), atol=1e-6)


@pytest.mark.parametrize("name", ["fast", "fast-16", "fast-32-64"])
def test_pooled_networks_have_the_widths_their_name_gives_and_save_under_it(name, tmp_path):
    from mnist_cnn.models import POOLED, load_model

    first, second, dense = POOLED[name]
    model = build(RECIPES["fast"].replace(network=name), "mixed_bfloat16")
    layers = [(type(l).__name__, tuple(l.output.shape[1:])) for l in model.layers]
    assert layers == [("Conv2D", (24, 24, first)), ("MaxPooling2D", (12, 12, first)), ("Conv2D", (10, 10, second)),
                      ("MaxPooling2D", (5, 5, second)), ("Flatten", (25 * second,)), ("Dense", (dense,)),
                      ("Dense", (10,))]
    assert model.layers[0].kernel_size == (5, 5) and model.layers[2].kernel_size == (3, 3)
    assert model.count_params() == (25 * first + first + 9 * first * second + second
                                    + 25 * second * dense + dense + 10 * dense + 10)
    assert name != "fast" or model.count_params() == 215_194  # the old fast recipe's net, as saved runs have it
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    assert again.name == name.replace("-", "_")
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), atol=1e-6)
