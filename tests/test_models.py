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
