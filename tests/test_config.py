"""TrainConfig: recipes, file and flag precedence, typed loading, range checks, legacy config.json."""

import json
from pathlib import Path

import pytest

from mnist_cnn.config import FIELDS, RECIPES, ConfigError, TrainConfig, check, load_file, recipe, resolve
from mnist_cnn.errors import UserError


def test_flags_override_the_file_which_overrides_the_recipe(tmp_path):
    p = tmp_path / "run.toml"
    p.write_text('model = "fast"\nepochs = 3\nlearning_rate = 1\nvalidation_split = 0.25\n')
    cfg = resolve(file=p, flags={"epochs": 5})
    assert (cfg.model, cfg.epochs, cfg.learning_rate, cfg.validation_split) == ("fast", 5, 1.0, 0.25)
    assert isinstance(cfg.learning_rate, float)
    assert cfg.batch_size == RECIPES["fast"].batch_size and cfg.optimizer_args == {"beta_1": 0.7, "beta_2": 0.9}
    seed = resolve(file=p, flags={"model": "seed"})  # a flag's recipe wins over the file's, and names the run
    assert (seed.model, seed.network, seed.epochs) == ("seed", "seed", 3)  # it was saved as "fast" (a review)


def test_a_saved_config_describes_the_whole_run(tmp_path):
    cfg = resolve("best", flags={"epochs": 2, "name": "x", "limit": 100})
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg.to_dict()))
    again = TrainConfig(**load_file(p))
    assert again == cfg
    assert (again.optimizer, again.optimizer_args, again.label_smoothing, again.augment) == \
        ("adamw", {"weight_decay": 0.01}, 0.1, {"degrees": 10.0, "zoom": 0.1, "shift": 0.1})


def test_every_recipe_is_a_valid_config_and_only_fast_and_best_choose_their_precision():
    for name, cfg in RECIPES.items():
        check(cfg)
        assert cfg.model == name and cfg.network == {"fast": "fast-s2-16"}.get(name, name)
    assert {n for n, c in RECIPES.items() if c.precision == "auto"} == {"fast", "best"}


def test_fast_is_the_stride_2_sweeps_winner_and_its_old_settings_stay_loadable(tmp_path):
    fast = RECIPES["fast"]
    assert (fast.network, fast.epochs, fast.batch_size, fast.learning_rate, fast.label_smoothing) == \
        ("fast-s2-16", 1, 256, 0.022, 0.14)
    # the recipe before the sweep, for same-run timings
    before = resolve(file=Path(__file__).parent.parent / "sweeps" / "fast-v1.toml")
    assert (before.model, before.network, before.learning_rate, before.label_smoothing) == ("fast", "fast", 0.01, 0.1)
    assert before.replace(network=fast.network, learning_rate=0.022, label_smoothing=0.14) == fast
    clothes = resolve("fast", flags={"dataset": "fashion-mnist"})  # the old net: the stride-2 nets lose on clothes
    assert (clothes.network, clothes.epochs, clothes.learning_rate) == ("fast", 3, 0.01)


def test_unknown_keys_and_recipes_are_named(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("epochs = 2\nepoch = 3\nlr = 0.1\n")
    with pytest.raises(UserError, match=r"bad.toml: unknown key\(s\) epoch, lr; valid keys: model, network"):
        load_file(p)
    with pytest.raises(ConfigError, match="model: unknown model 'resnet'; valid models: seed, keras-io") as e:
        recipe("resnet")
    assert e.value.field == "model"


@pytest.mark.parametrize("text,message", [
    ('epochs = "many"', "t.toml: key 'epochs': expected a whole number, found 'many'"),
    ("epochs = 2.5", "t.toml: key 'epochs': expected a whole number, found 2.5"),
    ("tensorboard = 1", "t.toml: key 'tensorboard': expected true or false, found 1"),
    ("optimizer_args = 3", "t.toml: key 'optimizer_args': expected a table, found 3"),
    ("limit = true", "t.toml: key 'limit': expected a whole number, found True"),
])
def test_wrongly_typed_values(tmp_path, text, message):
    p = tmp_path / "t.toml"
    p.write_text(text + "\n")
    with pytest.raises(UserError) as e:
        load_file(p)
    assert message in str(e.value)


def test_invalid_files(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("epochs = = 2\n")
    with pytest.raises(UserError, match="broken.toml: not valid TOML"):
        load_file(p)
    with pytest.raises(UserError, match="nope.toml: cannot read"):
        load_file(tmp_path / "nope.toml")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(UserError, match="list.json: expected a table of settings, found list"):
        load_file(tmp_path / "list.json")


@pytest.mark.parametrize("field,value,message", [
    ("epochs", 0, "epochs: expected a whole number from 1 to 10000, found 0"),
    ("epochs", 10**20, "epochs: expected a whole number from 1 to 10000, found 100000000000000000000"),
    ("batch_size", -1, "batch_size: expected a whole number from 1 to 60000, found -1"),
    ("validation_split", 1.0, "validation_split: expected a number > 0.0 and < 1.0, found 1.0"),
    ("validation_split", 0.0, "validation_split: expected a number > 0.0 and < 1.0, found 0.0"),
    ("learning_rate", 0.0, "learning_rate: expected a number > 0.0, found 0.0"),
    ("learning_rate", float("nan"), "learning_rate: expected a number, found nan"),
    ("limit", 1, "limit: expected a whole number from 2 to"),
    ("schedule", "linear", "schedule: expected one of constant, cosine, onecycle, step, found 'linear'"),
    ("name", "a/b", "name: expected a folder name of letters, digits"),
    ("name", "x" * 300, "name: expected a folder name"),
    ("name", "a\nb", "name: expected a folder name"),
    ("name", ".hidden", "name: expected a folder name"),
    ("patience", -2, "patience: expected a whole number from 0"),
    ("precision", "float16", "precision: expected one of auto, float32, mixed_bfloat16, found 'float16'"),
    ("dataset", "cifar", "dataset: expected one of mnist, fashion-mnist, found 'cifar'"),
    ("augment", {"mirror": 1}, "augment: unknown key 'mirror'; valid keys: degrees, zoom, shift, flip"),
    ("out", "", "out: expected a folder, found an empty value"),
    ("data_dir", "", "data_dir: expected a folder, found an empty value"),  # a file's "" fetched MNIST into ./
    ("extra_data", "", "extra_data: expected a folder, found an empty value"),
    ("dropout", 1.0, "dropout: expected a number < 1.0, found 1.0"),
    ("dropout", 0.2, "dropout: expected it unset: the seed network's dropout is not a setting "
                     "(only for best, best-wide, best-32-96), found 0.2"),
])
def test_out_of_range_values_name_the_field(field, value, message):
    with pytest.raises(ConfigError) as e:
        check(TrainConfig(**{field: value}))
    assert message in str(e.value) and e.value.field == field


def test_batch_larger_than_data():
    with pytest.raises(ConfigError, match="batch_size: expected at most the 80 training images, found 128"):
        check(TrainConfig(batch_size=128), n_train=80)


def test_every_field_has_help_and_its_default_passes_its_own_check():
    for name, f in FIELDS.items():
        assert f.metadata["help"], name
    check(TrainConfig())


def test_a_config_json_saved_before_trainconfig_loads_with_its_recipe_settings_then(tmp_path):
    old = {"model": "fast", "epochs": 1, "batch_size": 256, "learning_rate": 0.01, "schedule": "onecycle",
           "precision": "mixed_bfloat16", "validation_split": 0.2, "seed": 1, "limit": None, "patience": 0,
           "data_dir": None, "out": "runs", "name": "fast-s1", "tensorboard": False, "plots_dir": "mnist_plots",
           "num_examples": 9}
    (tmp_path / "config.json").write_text(json.dumps(old))
    cfg = TrainConfig(**load_file(tmp_path / "config.json"))
    assert (cfg.network, cfg.optimizer, cfg.optimizer_args, cfg.label_smoothing, cfg.precision) == \
        ("fast", "adam", {"beta_1": 0.7, "beta_2": 0.9}, 0.1, "mixed_bfloat16")
    del old["precision"]
    (tmp_path / "config.json").write_text(json.dumps(old))
    assert load_file(tmp_path / "config.json")["precision"] == "float32"  # saved before --precision existed


def test_fashion_mnists_wider_fast_is_the_override_with_the_sweeps_network_rate_smoothing_and_bests_split():
    override = resolve("fast", flags={"dataset": "fashion-mnist"})
    wide = resolve(file=Path(__file__).parent.parent / "sweeps" / "fashion-fast-wide.toml")
    assert wide == override.replace(network="fast-32-64", learning_rate=0.008, label_smoothing=0.09,
                                    validation_split=resolve("best").validation_split)
    assert (wide.dataset, wide.epochs, wide.augment) == ("fashion-mnist", 3, {})


def test_bests_clothes_take_mirrors_and_shifts_and_no_dropout_and_its_digits_keep_their_own():
    clothes, digits = resolve("best", flags={"dataset": "fashion-mnist"}), resolve("best")
    assert (clothes.network, clothes.augment, clothes.dropout) == ("best-32-96", {"shift": 0.05, "flip": 0.5}, 0.0)
    assert clothes.replace(dataset="mnist", network="best", augment=digits.augment, dropout=None) == digits
    assert digits.dropout is None
    assert resolve("best", flags={"dataset": "fashion-mnist", "dropout": 0.3}).dropout == 0.3  # a flag still wins
    assert resolve("best", flags={"dataset": "fashion-mnist", "network": "seed"}).dropout is None  # not the seed net's


def test_a_config_json_saved_before_dropout_was_a_setting_keeps_the_networks_own(tmp_path):
    saved = {**resolve("best", flags={"dataset": "fashion-mnist"}).to_dict(), "network": "best"}
    del saved["dropout"]  # a Fashion-MNIST `best` run saved before: the digits' net at its 0.4
    (tmp_path / "config.json").write_text(json.dumps(saved))
    assert (resolve(file=tmp_path / "config.json").network, resolve(file=tmp_path / "config.json").dropout) == \
        ("best", None)
    (tmp_path / "run.toml").write_text('model = "best"\ndataset = "fashion-mnist"\n')  # a TOML file is no saved run
    assert resolve(file=tmp_path / "run.toml").dropout == 0.0
