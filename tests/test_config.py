import json

import pytest

from mnist_cnn.config import Config, check, load_file, merge
from mnist_cnn.errors import UserError


def test_toml_overrides_defaults_and_flags_override_toml(tmp_path):
    p = tmp_path / "run.toml"
    p.write_text('model = "seed"\nepochs = 3\nlearning_rate = 1\nvalidation_split = 0.25\n')
    cfg = merge(Config(), str(p), {"epochs": 5, "batch_size": None})
    assert (cfg.epochs, cfg.learning_rate, cfg.validation_split, cfg.batch_size) == (5, 1.0, 0.25, None)
    assert isinstance(cfg.learning_rate, float)


def test_saved_config_json_round_trips(tmp_path):
    cfg = Config(epochs=2, batch_size=32, name="x", limit=100)
    p = tmp_path / "config.json"
    p.write_text(__import__("json").dumps(cfg.to_dict()))
    assert Config(**load_file(p)) == cfg


def test_unknown_keys_are_named(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("epochs = 2\nepoch = 3\nlr = 0.1\n")
    with pytest.raises(UserError, match=r"bad.toml: unknown key\(s\) epoch, lr; valid keys: model, epochs"):
        load_file(p)


def test_wrongly_typed_value(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text('epochs = "many"\n')
    with pytest.raises(UserError, match="t.toml: key 'epochs' expected int, found 'many'"):
        load_file(p)


def test_invalid_toml_and_missing_file(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("epochs = = 2\n")
    with pytest.raises(UserError, match="broken.toml: not valid TOML"):
        load_file(p)
    with pytest.raises(UserError, match="nope.toml: cannot read"):
        load_file(tmp_path / "nope.toml")


@pytest.mark.parametrize("field,value,message", [
    ("epochs", 0, "--epochs: expected a whole number > 0, found 0"),
    ("batch_size", -1, "--batch-size"),
    ("validation_split", 1.0, "--validation-split: expected a fraction strictly between 0 and 1, found 1.0"),
    ("validation_split", 0.0, "--validation-split"),
    ("learning_rate", 0.0, "--learning-rate"),
    ("limit", 1, "--limit"),
    ("schedule", "linear", "--schedule: expected one of constant, cosine, onecycle, step"),
    ("name", "a/b", "--name"),
    ("patience", -2, "--patience"),
    ("precision", "float16", "--precision: expected one of float32, mixed_bfloat16, found 'float16'"),
])
def test_out_of_range_values(field, value, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check(Config(**{field: value}))


def test_batch_larger_than_data():
    with pytest.raises(UserError, match="--batch-size: expected at most the 80 training images, found 128"):
        check(Config(batch_size=128), n_train=80)


def test_a_run_config_saved_before_precision_existed_stays_float32(tmp_path):
    saved = Config(model="best", epochs=20, batch_size=128, learning_rate=3e-3, schedule="onecycle").to_dict()
    del saved["precision"]
    (tmp_path / "config.json").write_text(json.dumps(saved))
    assert load_file(tmp_path / "config.json")["precision"] == "float32"
    (tmp_path / "new.toml").write_text('model = "best"\n')
    assert "precision" not in load_file(tmp_path / "new.toml")  # a new config takes the recipe's
