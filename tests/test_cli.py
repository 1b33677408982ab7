"""The command line: instant help, one-line errors, and the seed job end to end."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from mnist_cnn import cli
from mnist_cnn.config import FIELDS
from mnist_cnn.errors import ConfigError, UserError

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, *argv):
    try:
        code = cli.main(list(argv))
    except SystemExit as e:  # argparse's own errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_help_does_not_import_keras():
    code = "import sys, mnist_cnn.cli as c\ntry:\n    c.main(['--help'])\nexcept SystemExit: pass\n" \
           "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules, 'imported keras'"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    for command in ("run", "data", "train", "evaluate", "predict", "serve", "bench", "runs"):
        assert command in proc.stdout


def _helps(command):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return {a.dest: " ".join(a.help.split()) for a in sub._actions
            if a.option_strings and a.dest != "help" and a.help != argparse.SUPPRESS}


def test_train_flags_come_from_the_config_and_state_each_recipes_real_default():
    helps = _helps("train")
    for name, f in FIELDS.items():
        if "train" in f.metadata["commands"]:
            assert name in helps, name
    assert "seed: 12, keras-io: 15, pytorch-examples: 14, fast: 1, best: 20" in helps["epochs"]
    assert "pytorch-examples: 1.0, fast: 0.022, best: 0.003" in helps["learning_rate"]
    assert "seed: float32" in helps["precision"] and "fast: auto, best: auto" in helps["precision"]
    assert "(default: 42)" in helps["seed"] and "(default: mnist)" in helps["dataset"]
    assert helps["epochs"].endswith("best: 20; on fashion-mnist: fast: 3)")  # config.FOR_DATASET's, where it differs
    assert helps["network"].endswith("best: best; on fashion-mnist: fast: fast, best: best-32-96)")
    assert helps["dropout"].endswith("(default: the network's own; on fashion-mnist: best: 0.0)")
    run = _helps("run")
    assert "(default: 12)" in run["epochs"] and "(default: mnist_plots)" in run["plots_dir"]
    assert "network" not in run  # the seed job trains the user's network only
    for helps in (run, _helps("train"), _helps("data"), _helps("sweep")):  # an unset default says what unset means
        assert helps["data_dir"].endswith("(default: $MNIST_CNN_DATA, else ~/.cache/mnist-cnn)")
    assert run["name"].endswith("(default: <model>-<date>-<time>)") and run["limit"].endswith("(default: all)")
    assert "name" not in _helps("sweep")  # refused there in one line, so not offered


def test_every_flag_states_its_default_or_that_it_is_required():
    """The README's promise: `mnist-cnn COMMAND --help` states every flag's default."""
    def walk(parser, name):
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                for command, sub in a.choices.items():
                    yield from walk(sub, f"{name} {command}")
            elif a.option_strings and a.dest not in ("help", "version") and a.help != argparse.SUPPRESS:
                yield f"{name} {a.option_strings[0]}", a

    for flag, action in walk(cli.build_parser(), "mnist-cnn"):
        assert action.required or "default" in action.help or "required" in action.help, flag


def test_malformed_flag_value_is_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--epochs", "abc"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "argument --epochs: expected a whole number, found 'abc'" in err


CPUS = len(os.sched_getaffinity(0))


@pytest.mark.parametrize("argv,message", [
    (["train", "--epochs", "0"], "--epochs: expected a whole number from 1 to 10000, found 0"),
    (["train", "--epochs", "99999999999999999999"], "--epochs: expected a whole number from 1 to 10000"),
    (["train", "--epochs", "\uff13"], "argument --epochs: expected a whole number, found '\uff13'"),
    (["train", "--epoch", "3"], "unrecognized arguments: --epoch 3"),
    (["train", "--resume", ""], "argument --resume: expected a value, found an empty string"),
    (["predict", ""], "argument PATH: expected a value, found an empty string"),
    (["train", "--name", "x" * 300], "--name: expected a folder name of letters"),
    (["train", "--name", "a\nb"], "--name: expected a folder name of letters"),
    (["train", "--optimizer-args", "[1]"], "argument --optimizer-args: expected a JSON object"),
    (["train", "--optimizer-args", '{"beta_1": "x"}'], "--optimizer-args: beta_1: expected a number >= 0 and < 1"),
    (["train", "--optimizer-args", '{"beta_1": 5}'],
     "--optimizer-args: beta_1: expected a number >= 0 and < 1, found 5"),
    (["train", "--optimizer-args", '{"nonsense": 1}'], "--optimizer-args: unknown key 'nonsense' for adam; valid keys"),
    (["train", "--optimizer-args", '{"clipnorm": 1, "clipvalue": 1}'],
     "--optimizer-args: expected at most one of clipnorm, clipvalue, global_clipnorm, found clipnorm, clipvalue"),
    (["train", "--model", "best", "--optimizer-args", '{"amsgrad": 1}'],
     "--optimizer-args: amsgrad: expected true or false, found 1"),
    (["train", "--model", "vgg"], "--model: unknown model 'vgg'; valid models: seed"),
    (["train", "--validation-split", "1.5"], "--validation-split: expected a number > 0.0 and < 1.0, found 1.5"),
    (["train", "--seed", "4294967296"], "--seed: expected a whole number from 0 to 4294967295"),
    (["train", "--out", "/dev/null"], "--out: expected a folder, found a file at /dev/null"),
    (["runs", "--out", "/dev/null"], "--out: expected a folder of run folders, found a file at /dev/null"),
    (["runs", "--out", "no/such/folder"], "--out: expected a folder of run folders, found nothing at no/such/folder"),
    (["run", "--plots-dir", "/dev/null"], "--plots-dir: expected a folder, found a file at /dev/null"),
    (["run", "--num-examples", "-1"], "--num-examples: expected a whole number from 0 to 1000, found -1"),
    (["evaluate", "no/such/run"], "no/such/run: no such run folder or model file"),
    (["train", "--resume", "no/such/run"], "no/such/run: run folder does not exist"),
    (["train", "--resume", "/dev/null"], "/dev/null: expected a run folder, found a file"),
    (["train", "--resume", "x", "--epochs", "3"], "--resume continues a run with its saved config.json; drop --epochs"),
    (["run", "--resume", "x", "--plots-dir", "p"],
     "--resume continues a run with its saved config.json; drop --plots-dir"),
    (["data", "--data-dir", "/dev/null"], "/dev/null: expected a data folder, found a file"),
    (["data", "--dataset", "cifar"], "dataset"),
    (["predict", "x.png", "--top-k", "0"], "--top-k: expected a whole number from 1 to 10, found 0"),
    (["serve", "--workers", "100000"], f"--workers: expected a whole number from 1 to {2 * CPUS} (2 for each of the "
                                       f"{CPUS} CPUs"),
    (["serve", "--workers", "0"], "--workers: expected a whole number from 1 to"),
    (["serve", "--cors-origin", "notaurl"], "argument --cors-origin: expected an origin such as http://localhost:3000"),
    (["serve", "--cors-origin", "http://localhost:3000/x"], "expected an origin such as"),
    (["serve", "--cors-origin", "http://localhost:"], "expected an origin such as"),
    (["serve", "--cors-origin", "http://*.example.org"], "expected an origin such as"),
    (["serve", "--cors-origin", "null"], "found null: every sandboxed frame and file:// page sends it"),
    (["serve", "--cors-origin", "http://localhost:x"], "expected an origin such as"),
    (["serve", "--cors-origin", "ftp://example.org"], "expected an origin such as"),
    (["serve", "--allow-host", "bad host"], "argument --allow-host: expected a host name or IP address such as"),
    (["serve", "--allow-host", "http://my-pc"], "found 'http://my-pc'"),
    (["evaluate", "no/such/run", "--dataset", "bogus"], "--dataset: unknown data set 'bogus'; valid names: mnist"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_setting_is_blamed_on_where_it_came_from(tmp_path, monkeypatch, capsys):
    """A flag the command has and was given: --flag; a value from --config: the file's key (train has no
    --plots-dir); a value the command has no flag for and no file gave: the setting's own name."""
    monkeypatch.chdir(tmp_path)
    Path("afile").write_text("")
    Path("p.toml").write_text('plots_dir = "afile"\n')
    assert run_cli(capsys, "train", "--config", "p.toml")[2].splitlines() == \
        ["mnist-cnn: p.toml: key 'plots_dir': expected a folder, found a file at afile"]
    assert run_cli(capsys, "train", "--config", "p.toml", "--out", "afile")[2].splitlines() == \
        ["mnist-cnn: --out: expected a folder, found a file at afile"]
    args = argparse.Namespace(config=None, out=None)
    assert cli._user_error_line(ConfigError("export folder", "expected a folder"), args) == \
        "export folder: expected a folder"
    assert cli._user_error_line(ConfigError("out", "expected a folder"), args) == "--out: expected a folder"


@pytest.mark.parametrize("name", ["my-pc.local", "my-pc.local:8000", "[::1]:8000", "::1", "192.168.1.20:8000"])
def test_allow_host_takes_a_name_or_address_with_or_without_its_port(name):
    from mnist_cnn.cli_inference import _host

    assert _host(name) == name


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_results_to_a_full_disk_are_one_line_for_every_command(tmp_path, mnist_dir):
    """`mnist-cnn runs > list.txt` on a full disk was an OSError traceback (predict and read said one line)."""
    (tmp_path / "runs").mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])}
    for argv in (["runs", "--out", str(tmp_path / "runs")], ["data", "--data-dir", str(mnist_dir)]):
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "mnist_cnn", *argv], stdout=full, stderr=subprocess.PIPE,
                                  text=True, env=env, timeout=120)
        assert done.stderr == "mnist-cnn: standard output: cannot write the results (No space left on device)\n"
        assert done.returncode == 1


def test_batch_size_larger_than_the_data(tmp_path, monkeypatch, capsys, mnist_dir):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "train", "--limit", "100", "--batch-size", "500", "--data-dir", str(mnist_dir))
    assert code == 2 and "--batch-size: expected at most the 80 training images, found 500" in err
    assert list(tmp_path.iterdir()) == []


def test_toml_with_unknown_keys(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text("epochs = 1\nbatchsize = 3\n")
    code, out, err = run_cli(capsys, "train", "--config", "c.toml")
    assert code == 2 and "c.toml: unknown key(s) batchsize" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_corrupt_model_file(tmp_path, capsys):
    (tmp_path / "m.keras").write_bytes(b"PK\x03\x04garbage")
    code, out, err = run_cli(capsys, "evaluate", str(tmp_path / "m.keras"))
    assert code == 2 and "m.keras: not a Keras model file" in err and len(err.splitlines()) == 1


def test_train_evaluate_and_runs_table(tmp_path, monkeypatch, capsys, mnist_dir):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text("epochs = 1\nbatch_size = 50\nlimit = 500\n")
    code, out, err = run_cli(capsys, "train", "--config", "c.toml", "--name", "tiny", "--data-dir", str(mnist_dir),
                             "--quiet", "--tensorboard")
    assert code == 0, err
    assert "Run folder: runs/tiny/" in out
    assert list((tmp_path / "runs" / "tiny" / "tensorboard").rglob("events.out.tfevents.*"))
    saved = json.loads((tmp_path / "runs" / "tiny" / "config.json").read_text())
    assert (saved["epochs"], saved["batch_size"], saved["limit"]) == (1, 50, 500)
    metrics = json.loads((tmp_path / "runs" / "tiny" / "metrics.json").read_text())
    code, out, err = run_cli(capsys, "evaluate", "runs/tiny", "--json", "--data-dir", str(mnist_dir))
    assert code == 0 and json.loads(out)["test_accuracy"] == metrics["test_accuracy"]
    code, out, err = run_cli(capsys, "evaluate", "runs/tiny/model.keras", "--data-dir", str(mnist_dir))
    assert f"Test accuracy: {metrics['test_accuracy']:.4f}" in out and "precision" in out
    code, out, err = run_cli(capsys, "runs")
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["name", "model", "data", "epochs"] and \
        lines[2].split()[:4] == ["tiny", "seed", "mnist", "1"]
    assert f"{metrics['test_accuracy']:.2%}" in out


def test_train_no_calibrate_skips_the_refusal_rule(tmp_path, monkeypatch, capsys, mnist_dir):
    from mnist_cnn import refusal_fit

    fitted = []
    monkeypatch.setattr(refusal_fit, "after_training", lambda result, report: fitted.append(result.run_dir.name))
    tiny = ("--limit", "300", "--epochs", "1", "--batch-size", "100", "--data-dir", str(mnist_dir), "--quiet",
            "--out", str(tmp_path))
    assert run_cli(capsys, "train", *tiny, "--name", "a")[0] == 0
    assert run_cli(capsys, "train", *tiny, "--name", "b", "--no-calibrate")[0] == 0
    assert fitted == ["a"]
    monkeypatch.chdir(mnist_dir.parent)  # a relative --data-dir is saved absolute: a resume from elsewhere finds it
    assert run_cli(capsys, "train", *tiny[:7], mnist_dir.name, *tiny[8:], "--name", "c", "--no-calibrate")[0] == 0
    assert json.loads((tmp_path / "c" / "config.json").read_text())["data_dir"] == str(mnist_dir.absolute())


def test_run_calibrate_and_export_after_the_scripts_output(tmp_path, monkeypatch, capsys, mnist_dir):
    """`make run` passes --calibrate --export onnx: the seed job's own lines first, then the rule, then the checked
    export (with the gates the rule made); plain `run` does neither, and a runtime it cannot export for fails first."""
    from mnist_cnn import cli_export, refusal_fit

    done = []
    monkeypatch.setattr(refusal_fit, "after_training",
                        lambda result, report: done.append((result.run_dir.name, capsys.readouterr())))
    monkeypatch.setattr(cli_export, "cmd_export", lambda args: done.append((args.model, args.format)) or 0)
    tiny = ("--limit", "300", "--epochs", "1", "--batch-size", "100", "--data-dir", str(mnist_dir), "--out",
            str(tmp_path), "--plots-dir", str(tmp_path / "plots"), "--num-examples", "1")
    assert run_cli(capsys, "run", *tiny, "--name", "plain")[0] == 0
    assert done == []
    assert run_cli(capsys, "run", *tiny, "--name", "ruled", "--calibrate", "--export", "onnx")[0] == 0
    [(name, (out, err)), export] = done
    assert name == "ruled" and "Test accuracy: " in out and out.rstrip().splitlines()[-1].startswith("Saved 2 pictures")
    assert "--calibrate: a refusal rule is fitted for full MNIST runs only" in err  # a --limit run
    assert export == (str(tmp_path / "ruled"), "onnx")
    code, _, err = run_cli(capsys, "run", *tiny, "--name", "web", "--export", "web")
    assert code == 2 and "--export: expected one of onnx, litert, found 'web'" in err
    assert not (tmp_path / "web").exists()
    trained = ("--quiet", "--limit", "300", "--epochs", "1", "--batch-size", "100", "--data-dir", str(mnist_dir),
               "--out", str(tmp_path), "--no-calibrate")
    assert run_cli(capsys, "train", *trained, "--name", "t", "--export", "litert")[0] == 0
    assert done[-1] == (str(tmp_path / "t"), "litert")
    code, _, err = run_cli(capsys, "train", *trained, "--seeds", "1,2", "--export", "onnx")
    assert code == 2 and "--export: one run at a time" in err


def test_run_export_fails_before_training_or_keeps_the_run(tmp_path, monkeypatch, capsys, mnist_dir):
    """--export: a missing exporter is named before any training; a Ctrl-C in the rule's fit skips the export (130);
    an export that fails after the training keeps the run and says how to export it later (1)."""
    from mnist_cnn import cli_export, export, refusal_fit

    tiny = ("--limit", "300", "--epochs", "1", "--batch-size", "100", "--data-dir", str(mnist_dir), "--out",
            str(tmp_path), "--plots-dir", str(tmp_path / "plots"), "--num-examples", "1")

    def missing(fmt):
        raise UserError("exporting to ONNX needs tf2onnx; install with: pip install 'mnist-cnn[onnx]'")

    monkeypatch.setattr(export, "require_exporter", missing)
    code, _, err = run_cli(capsys, "run", *tiny, "--name", "a", "--export", "onnx")
    assert code == 2 and "needs tf2onnx" in err and not (tmp_path / "a").exists()
    monkeypatch.setattr(export, "require_exporter", lambda fmt: None)
    exported = []
    monkeypatch.setattr(refusal_fit, "after_training", lambda result, report: True)  # Ctrl-C in the fit
    monkeypatch.setattr(cli_export, "cmd_export", lambda args: exported.append(args) or 0)
    assert run_cli(capsys, "run", *tiny, "--name", "b", "--calibrate", "--export", "onnx")[0] == 130 and not exported

    def failing(args):
        raise UserError("runs/b/exports/model.onnx: its check did not pass")

    monkeypatch.setattr(cli_export, "cmd_export", failing)
    code, _, err = run_cli(capsys, "run", *tiny, "--name", "c", "--export", "onnx")
    assert code == 1 and (tmp_path / "c" / "model.keras").is_file()
    assert f"the run is kept: export it with: mnist-cnn export {tmp_path / 'c'} --format onnx" in err


def test_evaluate_an_ensemble_and_tta(trained_run, tmp_path, capsys, mnist_dir):
    import keras
    from mnist_cnn import models

    single = json.loads((trained_run / "metrics.json").read_text())["test_accuracy"]
    code, out, err = run_cli(capsys, "evaluate", str(trained_run), str(trained_run / "model.keras"),
                             "--json", "--data-dir", str(mnist_dir))
    assert code == 0, err
    m = json.loads(out)
    assert m["tta"] is False and [x["test_accuracy"] for x in m["members"]] == [single, single]
    assert m["test_accuracy"] == single  # the mean of two copies of one model is that model
    assert m["errors_of_every_member"] == m["errors_of_any_member"] == m["errors"]
    code, out, err = run_cli(capsys, "evaluate", str(trained_run), "--tta", "--json", "--data-dir", str(mnist_dir))
    m = json.loads(out)
    assert code == 0 and m["tta"] is True and "members" not in m and abs(m["test_accuracy"] - single) < 0.02
    assert m["tta_kinds"] == ["shifts"]
    code, out, err = run_cli(capsys, "evaluate", str(trained_run), str(trained_run), "--tta",
                             "--data-dir", str(mnist_dir))
    assert code == 0 and "ensemble of 2 models, test-time augmentation (shifts):" in out
    assert f"Test accuracy: {m['test_accuracy']:.4f}" in out
    flipped = keras.Sequential([keras.Input((28, 28, 1)), *models._augmentation({"flip": 0.5}),
                                keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    flipped.save(tmp_path / "flipped.keras")  # a bare file trained with mirrors: tested with its mirror's shifts too
    code, out, err = run_cli(capsys, "evaluate", str(tmp_path / "flipped.keras"), str(trained_run), "--tta", "--json",
                             "--data-dir", str(mnist_dir))
    m = json.loads(out)
    assert code == 0 and m["tta_kinds"] == ["shifts", "shifts+mirror"], err
    assert [member["tta"] for member in m["members"]] == ["shifts+mirror", "shifts"]
    code, out, err = run_cli(capsys, "evaluate", str(trained_run), str(tmp_path / "gone"), "--data-dir", str(mnist_dir))
    assert code == 2 and err.strip().endswith("gone: no such run folder or model file") and len(err.splitlines()) == 1


def test_seed_script_end_to_end(tmp_path, mnist_dir):
    """`python mnist_cnn.py` as a user runs it: summary, progress, test accuracy, PNGs."""
    env = {**os.environ, "MNIST_CNN_DATA": str(mnist_dir)}
    proc = subprocess.run([sys.executable, str(ROOT / "mnist_cnn.py"), "--limit", "2000", "--epochs", "2",
                           "--num-examples", "3"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert 'Model: "seed"' in out and "Total params: 693,962" in out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "val_accuracy" in out
    assert "\r" not in out and "\x1b" not in out  # not a terminal: one plain line per epoch, no progress bar
    assert len([line for line in out.splitlines() if "val_accuracy" in line]) == 2
    assert "Precision: float32 (asked for)" in out
    accuracy_lines = [l for l in out.splitlines() if l.startswith("Test accuracy: ")]
    assert len(accuracy_lines) == 1 and 0.5 < float(accuracy_lines[0].split()[-1]) <= 1
    pngs = sorted(p.name for p in (tmp_path / "mnist_plots").iterdir())
    assert pngs == ["example_1.png", "example_2.png", "example_3.png",
                    "misclassified_1.png", "misclassified_2.png", "misclassified_3.png"]
    for name in pngs:
        with Image.open(tmp_path / "mnist_plots" / name) as im:
            im.verify()
    assert len(list((tmp_path / "runs").iterdir())) == 1


def test_the_seed_script_lets_a_worker_process_run_it_as_mp_main(tmp_path):
    """`python mnist_cnn.py --calibrate` reads the fit's non-digits on worker processes (preprocess_pool.starmap), by a
    forkserver once TensorFlow runs: each worker re-runs the script as "__mp_main__", as this does (it failed there)."""
    code = (f"import runpy, sys; runpy.run_path({str(ROOT / 'mnist_cnn.py')!r}, run_name='__mp_main__'); "
            "from mnist_cnn import preprocess_pool; print(preprocess_pool.__file__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == str(ROOT / "src" / "mnist_cnn" / "preprocess_pool.py")


def test_python_dash_m_from_the_repo_root_is_the_whole_cli():
    proc = subprocess.run([sys.executable, "-m", "mnist_cnn", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "evaluate" in proc.stdout and "COMMAND" in proc.stdout


def test_the_epoch_phases_tool_names_a_bad_recipe_before_any_round():
    proc = subprocess.run([sys.executable, "tools/epoch_phases.py", "--model", "nope", "--rounds", "1"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["tools/epoch_phases.py: model: unknown model 'nope'; valid models: "
                                        "seed, keras-io, pytorch-examples, fast, best"]


def test_a_tool_reports_a_users_mistake_in_one_line(capsys, monkeypatch):
    """tools/ scripts end through errors.run_tool: main()'s return value is the exit code, a UserError one line."""
    from mnist_cnn.errors import run_tool

    monkeypatch.setattr(sys, "argv", ["tools/read_eval.py"])

    def bad_model():
        raise UserError("/nope: no such run folder or model file")

    with pytest.raises(SystemExit) as ended:
        run_tool(bad_model)
    assert ended.value.code == 2
    assert capsys.readouterr().err == "tools/read_eval.py: /nope: no such run folder or model file\n"
    with pytest.raises(SystemExit) as ended:
        run_tool(lambda: 1)
    assert ended.value.code == 1


def test_predict_and_read_end_their_process_with_their_output_out(tmp_path):
    """The `mnist-cnn` program's predict and read skip the interpreter's teardown (cli.QUICK_EXIT): their lines are
    flushed first and the exit code kept; the library's main(argv) returns as ever."""
    code = ("import atexit, sys; from mnist_cnn.cli import main; atexit.register(print, 'teardown'); "
            "print('before', flush=True); sys.exit(main())")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for command in cli.QUICK_EXIT:
        done = subprocess.run([sys.executable, "-c", code, command, str(tmp_path / "nope.png"), "--json"],
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 1 and "nope.png: no such file" in done.stderr, done.stderr
        assert json.loads(done.stdout.split("before\n", 1)[1])[0]["error"] and "teardown" not in done.stdout
    done = subprocess.run([sys.executable, "-c", code, "runs", "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0 and done.stdout.rstrip().endswith("teardown")


def test_an_interrupt_names_what_is_saved_and_no_folder_that_does_not_exist(capsys):
    from types import SimpleNamespace

    for history, words in (([], "interrupted; no epoch of 3 had ended; runs/x holds the run's settings. Resume with: "
                                "mnist-cnn train --resume runs/x"),
                           ([{}], "interrupted; 1 whole epoch(s) of 3 are saved in runs/x/checkpoint. Resume with")):
        result = SimpleNamespace(history=history, config=SimpleNamespace(epochs=3), run_dir=Path("runs/x"))
        assert cli._interrupted(result, "train") == 130
        assert words in capsys.readouterr().err


def test_an_origin_is_written_as_browsers_send_it():
    """Starlette's CORS middleware compares the Origin header's text exactly: an upper-case host or a default port
    would never match (a review, 2026-12-06)."""
    parse = cli.build_parser().parse_args
    given = ["HTTP://LocalHost:80", "https://a.example:443/", "http://[0:0::1]:3000", "http://127.0.0.1:8000"]
    args = parse(["serve", *(x for origin in given for x in ("--cors-origin", origin))])
    assert args.cors_origin == ["http://localhost", "https://a.example", "http://[::1]:3000", "http://127.0.0.1:8000"]
