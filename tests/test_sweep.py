"""Sweeps, seeds and ensembles: the space file, workers sharing a study (SQLite and a real PostgreSQL
server), a killed worker, Ctrl-C, export-best through `train --config`, seed statistics, --ensemble-from.

    PYTHONPATH=src pytest -q tests/test_sweep.py

Every training is the seed network on 600 images for 1 epoch; worker processes are `python -m mnist_cnn`.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import math
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import optuna
import pytest

from mnist_cnn import cli, seeds, sweep, train
from mnist_cnn.config import RECIPES, TrainConfig, check
from mnist_cnn.errors import UserError
from mnist_cnn.sweep_space import load_space, to_toml
from serving import free_port  # tests/serving.py

TINY = ["--model", "seed", "--limit", "600", "--epochs", "1"]
SPACE = 'learning_rate = { low = 5e-4, high = 5e-3, log = true }\nbatch_size = [32, 64]\n'
WAIT = 600  # seconds any worker process may take (two TensorFlow processes on 2 shared cores)


def space_file(tmp_path, text=SPACE, name="space.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------- SPACE.toml
@pytest.mark.parametrize("text, message", [
    ("learning_rat = [0.1]", r"space.toml: key 'learning_rat': not a searchable setting; valid keys: network, "
                             r"dataset, epochs, .*learning_rate"),
    ("out = ['a', 'b']", r"key 'out': not a searchable setting"),
    ("epochs = 3", r"key 'epochs': expected a range \{ low = \.\.\., high = \.\.\. \} or a list of choices, found 3"),
    ("schedule = { low = 1, high = 2 }", r"key 'schedule': a range needs a numeric setting"),
    ("learning_rate = { low = 0.1 }", r"key 'learning_rate': expected a table of low, high"),
    ("learning_rate = { low = 0.1, high = 0.2, scale = 2 }", r"expected a table of low, high .* found scale"),
    ("learning_rate = { low = 0.2, high = 0.1 }", r"expected low < high, found low = 0.2, high = 0.1"),
    ("label_smoothing = { low = 0.0, high = 0.2, log = true }", r"a log range needs low > 0, found 0.0"),
    ("epochs = { low = 1.5, high = 3 }", r"key 'epochs': low: expected a whole number, found 1.5"),
    ("epochs = { low = 0, high = 3 }", r"key 'epochs': low: expected a whole number from 1"),
    ("batch_size = []", r"expected at least one choice"),
    ("batch_size = [64, 0]", r"key 'batch_size': expected a whole number from 1"),
    ("schedule = ['cosine', 'linear']", r"key 'schedule': expected one of constant, cosine"),
    ("augment = [{ tilt = 3 }]", r"key 'augment': unknown key 'tilt'"),
    ("", r"no settings to search"),
    ("learning_rate = [", r"not valid TOML"),
])
def test_space_file_refuses_unknown_keys_and_bad_shapes(tmp_path, text, message):
    with pytest.raises(UserError, match=message) as e:
        load_space(space_file(tmp_path, text), RECIPES["seed"])
    assert "\n" not in str(e.value)


def test_space_samples_within_bounds_and_every_sample_is_a_valid_config(tmp_path):
    text = (SPACE + "epochs = { low = 1, high = 4 }\nlabel_smoothing = { low = 0.0, high = 0.2, step = 0.05 }\n"
            "augment = [{}, { degrees = 10, zoom = 0.1 }]\nschedule = ['cosine', 'onecycle']\n")
    space = load_space(space_file(tmp_path, text), RECIPES["seed"])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = {k: set() for k in ("batch_size", "epochs", "augment", "schedule", "label_smoothing")}
    for _ in range(60):
        p = space.sample(study.ask())
        assert 5e-4 <= p["learning_rate"] <= 5e-3 and isinstance(p["learning_rate"], float)
        assert p["batch_size"] in (32, 64) and 1 <= p["epochs"] <= 4 and isinstance(p["epochs"], int)
        assert p["augment"] in ({}, {"degrees": 10, "zoom": 0.1}) and p["schedule"] in ("cosine", "onecycle")
        assert any(math.isclose(p["label_smoothing"], v) for v in (0.0, 0.05, 0.1, 0.15, 0.2))
        check(RECIPES["seed"].replace(**p))
        for k in seen:
            seen[k].add(json.dumps(p[k], sort_keys=True))
    assert [len(seen[k]) for k in seen] == [2, 4, 2, 2, 5]  # every choice and step was reached


@pytest.mark.parametrize("name", ["fashion-fast.toml", "fashion-fast-pooled.toml"])
def test_the_fashion_mnist_spaces_load_against_the_fashion_fast_recipe(name):
    """The committed spaces still name existing networks and valid ranges (docs/training.md, "Fashion-MNIST")."""
    from mnist_cnn.config import NETWORKS, resolve

    space = load_space(Path(__file__).parent.parent / "sweeps" / name,
                       resolve("fast", flags={"dataset": "fashion-mnist"}))
    params = {p.name: p for p in space.params}
    betas = {"optimizer_args"} if name == "fashion-fast.toml" else set()  # round 2 kept round 1's best betas
    assert set(params) == {"network", "learning_rate", "label_smoothing", "augment"} | betas
    assert len(params["network"].choices) == 3 and set(params["network"].choices) <= set(NETWORKS)


def test_toml_writer_round_trips_every_value_type():
    settings = {"model": 'we"ird\\name\n\x7f\u00e9\U0001f600', "epochs": 3, "learning_rate": 1e-05,
                "label_smoothing": 0.1, "tensorboard": True, "augment": {}, "limit": None,
                "optimizer_args": {"beta_1": 0.7, "odd key": 2, "ünï": 1e300}}
    back = tomllib.loads(to_toml(settings, "a comment\nover two lines"))
    assert back == {k: v for k, v in settings.items() if v is not None}


def test_a_worker_with_another_space_or_settings_is_refused(tmp_path):
    a = sweep.make_plan("seed", space_file(tmp_path), flags={"out": str(tmp_path), "limit": 600})
    sweep._create_study(a, report=lambda _: None)
    same = sweep.make_plan("seed", space_file(tmp_path), flags={"out": str(tmp_path), "limit": 600})
    sweep._create_study(same, report=lambda _: None)
    other = sweep.make_plan("seed", space_file(tmp_path, SPACE + "epochs = [1, 2]\n"), study=a.study,
                            flags={"out": str(tmp_path), "limit": 600})
    with pytest.raises(UserError, match=r"study 'seed-space' was started with another space \(space.epochs: unset in "
                                        r"the study, \[1, 2\] here\)"):
        sweep._create_study(other, report=lambda _: None)
    fixed = sweep.make_plan("seed", space_file(tmp_path), flags={"out": str(tmp_path), "limit": 900})
    with pytest.raises(UserError, match=r"another fixed \(fixed.limit: 600 in the study, 900 here\); run the same"):
        sweep._create_study(fixed, report=lambda _: None)


def test_a_mismatch_names_each_entry_that_differs_even_an_unset_one():
    from mnist_cnn.sweep_space import changes

    assert changes("fixed", {"limit": 600}, {"limit": 600, "dropout": None}) == "fixed.dropout: unset in the study, " \
                                                                               "None here"
    assert changes("seeds", [1, 2], None) == "seeds: [1, 2] in the study, None here"


def test_a_worker_starting_as_another_writes_the_study_waits_for_its_whole_plan(tmp_path, monkeypatch):
    # two workers started at once: one finds the study the other is still writing, attribute by attribute
    plan = sweep.make_plan("seed", space_file(tmp_path), flags={"out": str(tmp_path), "limit": 600})
    sweep._create_study(plan, report=lambda _: None)
    whole = sweep.open_study(plan.study, plan.storage).user_attrs
    plan.folder.joinpath("study.db").unlink()
    half = optuna.create_study(storage=plan.storage, study_name=plan.study)
    half.set_user_attr("model", whole["model"])  # the creator's first write
    real_sleep, waits = time.sleep, []

    def creator_goes_on(seconds):
        waits.append(seconds)
        for key in sweep.STUDY_ATTRS[1:]:
            half.set_user_attr(key, whole[key])
        real_sleep(seconds)

    monkeypatch.setattr(sweep.time, "sleep", creator_goes_on)
    sweep._create_study(plan, report=lambda _: None)  # before: "was started with another fixed, space, seeds"
    assert waits and sweep.open_study(plan.study, plan.storage).user_attrs == whole


# ------------------------------------------------------------------------------------- pruning, export
class PruneAfterFirstReport:
    """Stands in for an optuna.Trial whose pruner says stop as soon as one value is in."""

    def __init__(self):
        self.reported = []

    def report(self, value, step):
        self.reported.append((step, value))

    def should_prune(self):
        return bool(self.reported)


def test_a_pruned_trial_stops_after_the_epoch_and_leaves_an_unfinished_run(tmp_path, mnist_dir):
    trial = PruneAfterFirstReport()
    cfg = TrainConfig(out=str(tmp_path), name="pruned", limit=600, epochs=3, data_dir=str(mnist_dir))
    with pytest.raises(optuna.TrialPruned, match="after epoch 1"):
        train.train(cfg, verbose=0, callbacks=[sweep.pruning_callback(trial)])
    run = tmp_path / "pruned"
    history = (run / "history.csv").read_text().splitlines()
    assert len(history) == 2 and not (run / "metrics.json").exists()
    assert json.loads((run / "checkpoint" / "state.json").read_text())["epoch"] == 1
    assert trial.reported == [(1, pytest.approx(float(history[1].split(",")[4])))]
    resumed = train.train(resume=run, verbose=0)  # the folder is an ordinary unfinished run
    assert len(resumed.history) == 3 and (run / "metrics.json").is_file()


def test_the_last_epoch_is_never_pruned_its_training_is_done(tmp_path, mnist_dir):
    trial = PruneAfterFirstReport()
    cfg = TrainConfig(out=str(tmp_path), name="one", limit=600, epochs=1, data_dir=str(mnist_dir))
    result = train.train(cfg, verbose=0, callbacks=[sweep.pruning_callback(trial)])
    assert len(trial.reported) == 1 and (tmp_path / "one" / "metrics.json").is_file() and not result.interrupted


def test_the_pruner_never_prunes_on_the_first_epoch(tmp_path):
    """Epochs are reported as steps 1, 2, ...: step 1 must be inside Optuna's warm-up."""
    study = optuna.create_study(direction="maximize", pruner=sweep.make_pruner())
    for value in (0.9, 0.9, 0.9, 0.9, 0.9, 0.9):  # enough finished trials for the median to count
        t = study.ask()
        t.report(value, 1)
        t.report(value, 2)
        study.tell(t, value)
    t = study.ask()
    t.report(0.1, 1)
    assert not t.should_prune()
    t.report(0.1, 2)
    assert t.should_prune()


def test_export_best_round_trips_through_train_config(tmp_path, mnist_dir, capsys):
    out = tmp_path / "runs"
    plan = sweep.make_plan("seed", space_file(tmp_path), flags={"limit": 600, "epochs": 1, "out": str(out),
                                                                 "data_dir": str(mnist_dir)})
    outcome = sweep.run(plan, trials=2)
    assert outcome.states == {"COMPLETE": 2} and outcome.interrupted is None
    assert cli.main(["sweep", "seed-space", "--status", "--out", str(out),
                     "--export-best", str(tmp_path / "b.toml")]) == 0
    shown = capsys.readouterr().out
    assert re.search(r"^0 +COMPLETE +\d+\.\d\d% .*learning_rate=", shown, re.MULTILINE) and \
        "2 trials: 2 COMPLETE" in shown
    study = sweep.open_study("seed-space", plan.storage)
    best = max(study.trials, key=lambda t: t.value)
    exported = tomllib.loads((tmp_path / "b.toml").read_text())
    assert exported == {"model": "seed", "epochs": 1, "limit": 600, **best.params}
    assert cli.main(["train", "--config", str(tmp_path / "b.toml"), "--out", str(tmp_path), "--name", "again",
                     "--data-dir", str(mnist_dir), "--quiet"]) == 0
    trial_dir = out / "sweeps" / "seed-space" / f"trial-{best.number:04d}"
    a, b = (json.loads((d / "config.json").read_text()) for d in (trial_dir, tmp_path / "again"))
    assert {k: v for k, v in a.items() if k not in ("out", "name")} == {k: v for k, v in b.items()
                                                                        if k not in ("out", "name")}
    again = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert again["best_val_accuracy"] == best.value  # the same settings and seed: the same run, bit for bit


# --------------------------------------------------------------------------------- worker processes
def start_worker(tmp_path, mnist_dir, label, *args):
    """`python -m mnist_cnn sweep` in the background; output to tmp_path/label.out|.err."""
    cmd = [sys.executable, "-m", "mnist_cnn", "sweep", *TINY, "--space", str(space_file(tmp_path)),
           "--data-dir", str(mnist_dir), "--out", str(tmp_path / "runs"), *args]
    with open(tmp_path / f"{label}.out", "w") as out, open(tmp_path / f"{label}.err", "w") as err:
        return subprocess.Popen(cmd, stdout=out, stderr=err, cwd=tmp_path)


def finished(proc, tmp_path, label, timeout=WAIT) -> tuple[int, str, str]:
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return rc, (tmp_path / f"{label}.out").read_text(), (tmp_path / f"{label}.err").read_text()


def trial_folders(tmp_path, study) -> set[str]:
    return {p.name for p in (tmp_path / "runs" / "sweeps" / study).glob("trial-*")}


def assert_each_trial_ran_once(tmp_path, study, storage, per_worker: dict):
    trials = sweep.open_study(study, storage).trials
    assert sorted(t.number for t in trials) == list(range(sum(per_worker.values())))
    assert trial_folders(tmp_path, study) == {sweep.trial_name(t.number) for t in trials}
    workers = [t.user_attrs["worker"] for t in trials]
    assert {w: workers.count(w) for w in set(workers)} == per_worker
    return trials


def test_two_sqlite_workers_share_one_study(tmp_path, mnist_dir):
    a, b = (start_worker(tmp_path, mnist_dir, label, "--trials", "2") for label in "ab")
    (rc_a, out_a, err_a), (rc_b, out_b, err_b) = finished(a, tmp_path, "a"), finished(b, tmp_path, "b")
    assert (rc_a, rc_b) == (0, 0), err_a + err_b
    host = socket.gethostname()
    trials = assert_each_trial_ran_once(tmp_path, "seed-space", sweep.default_storage(
        tmp_path / "runs" / "sweeps" / "seed-space"), {f"{host}:{a.pid}": 2, f"{host}:{b.pid}": 2})
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4
    assert out_a.count(" COMPLETE in ") == 2 and out_b.count(" COMPLETE in ") == 2


def test_ctrl_c_marks_the_running_trial_failed_and_exits_130(tmp_path, mnist_dir):
    proc = start_worker(tmp_path, mnist_dir, "w", "--trials", "3", "--epochs", "40")
    state = tmp_path / "runs" / "sweeps" / "seed-space" / "trial-0000" / "checkpoint" / "state.json"
    deadline = time.monotonic() + WAIT
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    rc, out, err = finished(proc, tmp_path, "w", timeout=120)
    assert rc == 130, err
    ours = [line for line in err.splitlines() if line.startswith("mnist-cnn:")]
    assert ours == ["mnist-cnn: interrupted (trial 0 is marked FAIL); the study is consistent. Go on with the "
                    "same command."]
    assert "this process: 1 FAIL; study: 1 trials" in out
    study = sweep.open_study("seed-space", sweep.default_storage(tmp_path / "runs" / "sweeps" / "seed-space"))
    assert [t.state.name for t in study.trials] == ["FAIL"]
    assert not (state.parent.parent / "metrics.json").exists()


# ---------------------------------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="module")
def postgres():
    """A throw-away PostgreSQL server on a free loopback port, in a temporary folder; its URL."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                    "(apt-get install postgresql; .ci/run does)")
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="mnist-cnn-pg-"))
    as_owner = []
    if os.geteuid() == 0:  # the server refuses to run as root: the postgres user owns the folder and runs it
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    try:
        subprocess.run([*as_owner, bindir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run([*as_owner, bindir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-t", "60", "-o",
                        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                       check=True, capture_output=True, timeout=90)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_owner, bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "60", "stop"],
                       capture_output=True, timeout=90)
        shutil.rmtree(root, ignore_errors=True)


def test_two_postgres_workers_share_one_study(tmp_path, mnist_dir, postgres):
    args = ("--trials", "2", "--storage", postgres, "--study", "pg-shared")
    a, b = (start_worker(tmp_path, mnist_dir, label, *args) for label in "ab")
    (rc_a, _, err_a), (rc_b, _, err_b) = finished(a, tmp_path, "a"), finished(b, tmp_path, "b")
    assert (rc_a, rc_b) == (0, 0), err_a + err_b
    host = socket.gethostname()
    trials = assert_each_trial_ran_once(tmp_path, "pg-shared", postgres, {f"{host}:{a.pid}": 2, f"{host}:{b.pid}": 2})
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4


def test_a_killed_worker_s_trial_is_failed_by_the_heartbeat_and_nothing_is_lost(tmp_path, mnist_dir, postgres):
    args = ("--storage", postgres, "--study", "pg-kill", "--heartbeat", "1")
    a = start_worker(tmp_path, mnist_dir, "a", "--trials", "6", *args)
    b = start_worker(tmp_path, mnist_dir, "b", "--trials", "3", *args)
    host = socket.gethostname()
    victim, study, deadline = None, None, time.monotonic() + WAIT
    while victim is None and a.poll() is None and time.monotonic() < deadline:
        if study is None:
            with contextlib.suppress(UserError):  # not created yet
                study = sweep.open_study("pg-kill", postgres)
        for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,)) if study else []:
            if t.user_attrs.get("worker") == f"{host}:{a.pid}" and (
                    tmp_path / "runs" / "sweeps" / "pg-kill" / sweep.trial_name(t.number) / "config.json").exists():
                victim = t.number
        time.sleep(0.2)
    assert victim is not None, "worker a never got to train a trial"
    a.send_signal(signal.SIGKILL)
    a.wait(timeout=30)
    rc_b, out_b, err_b = finished(b, tmp_path, "b")
    assert rc_b == 0, err_b
    assert f"trial {victim} (worker {host}:{a.pid}) sent no heartbeat for 2 s: marked FAIL" in out_b
    trials = sweep.open_study("pg-kill", postgres).trials
    states = {t.number: t.state.name for t in trials}
    by_a = [t.number for t in trials if t.user_attrs["worker"] == f"{host}:{a.pid}"]
    assert states[victim] == "FAIL" and victim == max(by_a)
    assert [states[n] for n in by_a[:-1]] == ["COMPLETE"] * (len(by_a) - 1)
    assert [t.state.name for t in trials if t.user_attrs["worker"] == f"{host}:{b.pid}"] == ["COMPLETE"] * 3
    assert sorted(states) == list(range(len(by_a) + 3))  # every trial accounted for, none RUNNING
    assert trial_folders(tmp_path, "pg-kill") == {sweep.trial_name(n) for n in states}


# ------------------------------------------------------------------------------------ seeds, ensembles
def test_mean_and_sample_deviation_match_numpy():
    values = [0.981, 0.9843, 0.979, 0.99]
    mean, std = seeds.mean_std(values)
    assert mean == pytest.approx(np.mean(values)) and std == pytest.approx(np.std(values, ddof=1))
    assert seeds.mean_std([0.5]) == (0.5, None)


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory, mnist_dir):
    """`mnist-cnn train --seeds 1,2,3` (tiny): the runs folder and what the command printed."""
    out = tmp_path_factory.mktemp("seeds")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        rc = cli.main(["train", "--seeds", "1,2,3", *TINY, "--out", str(out), "--name", "s",
                       "--data-dir", str(mnist_dir), "--quiet"])
    assert rc == 0
    return out, printed.getvalue()


def test_train_seeds_prints_mean_and_deviation_of_its_runs(seed_runs):
    out, printed = seed_runs
    assert sorted(p.name for p in out.iterdir()) == ["s-seed1", "s-seed2", "s-seed3"]
    metrics = [json.loads((out / f"s-seed{s}" / "metrics.json").read_text()) for s in (1, 2, 3)]
    assert [json.loads((out / f"s-seed{s}" / "config.json").read_text())["seed"] for s in (1, 2, 3)] == [1, 2, 3]
    acc, secs = (np.array([m[k] for m in metrics]) for k in ("test_accuracy", "train_seconds"))
    assert f"Test accuracy over 3 seeds: {acc.mean():.4f} ± {acc.std(ddof=1):.4f}" in printed
    assert f"Training seconds: {secs.mean():.1f} ± {secs.std(ddof=1):.1f}" in printed


def test_ensemble_from_picks_the_top_runs_by_validation_accuracy(seed_runs, tmp_path, mnist_dir, capsys):
    folder = tmp_path / "pool"
    for s, val, test in ((1, 0.50, 0.99), (2, 0.90, 0.10), (3, 0.80, 0.20)):  # test accuracy must not matter
        shutil.copytree(seed_runs[0] / f"s-seed{s}", folder / f"s-seed{s}")
        path = folder / f"s-seed{s}" / "metrics.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "best_val_accuracy": val, "test_accuracy": test}))
    shutil.copytree(seed_runs[0] / "s-seed1", folder / "unfinished")
    (folder / "unfinished" / "metrics.json").unlink()
    assert cli.main(["evaluate", "--ensemble-from", str(folder), "--top", "2", "--json",
                     "--data-dir", str(mnist_dir)]) == 0
    captured = capsys.readouterr()
    m = json.loads(captured.out)
    assert [Path(x["path"]).name for x in m["members"]] == ["s-seed2", "s-seed3"]
    assert 0 <= m["errors_of_every_member"] <= min(round((1 - x["test_accuracy"]) * 10000) for x in m["members"])
    assert "s-seed2: validation accuracy 0.9000" in captured.err
    assert cli.main(["evaluate", "--top", "2"]) == 2
    assert "--top: picks from --ensemble-from DIR" in capsys.readouterr().err


# -------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("argv, message, code", [
    (["sweep", "--trials", "2"], "expected --space SPACE.toml and --trials N", 2),
    (["sweep", "--space", "s.toml", "--trials", "0"], "argument --trials: expected a number above 0, found '0'", 2),
    (["sweep", "--space", "s.toml", "--trials", "1", "--name", "x"], "--name: a sweep names its runs trial-NNNN", 2),
    (["sweep", "--space", "s.toml", "--trials", "1", "--seeds", "1,1"],
     "argument --seeds: expected different seeds", 2),
    (["sweep", "--space", "s.toml", "--trials", "1", "--seeds", "1,2", "--seed", "3"],
     "--seed and --seeds: give one", 2),
    (["sweep", "--space", "missing.toml", "--trials", "1"], "missing.toml: cannot read the space file", 2),
    (["sweep", "--space", "bad.toml", "--trials", "1"], "bad.toml: key 'lr': not a searchable setting", 2),
    (["sweep", "--space", "s.toml", "--trials", "1", "--epochs", "0"], "--epochs: expected a whole number from 1", 2),
    (["sweep", "--space", "s.toml", "--trials", "1", "--study", "../x"], "study name '../x': expected letters", 2),
    (["sweep", "nope", "--status"], "runs/sweeps/nope/study.db: no such study", 2),
    (["sweep", "a", "--study", "b", "--status"], "NAME a and --study b differ", 2),
    (["sweep", "--space", "s.toml", "--trials", "1", "--storage", "postgresql://me:secret@127.0.0.1:1/db"],
     "storage postgresql://me:***@127.0.0.1:1/db: cannot open it (", 1),
    (["sweep", "--space", "s.toml", "--trials", "1", "--storage", "nonsense"], "storage nonsense: cannot open it", 2),
    (["train", "--seeds", "1,x"], "argument --seeds: expected seeds as whole numbers separated by commas", 2),
    (["train", "--seeds", "1,2", "--seed", "3"], "--seed and --seeds: give one", 2),
    (["train", "--seeds", "1", "--resume", "r"],
     "--resume continues a run with its saved config.json; drop --seeds", 2),
    (["evaluate"], "expected RUN_DIR, MODEL.keras or export paths, or --ensemble-from DIR", 2),
    (["evaluate", "--ensemble-from", "nowhere"], "nowhere: no finished run with a validation accuracy", 2),
    (["evaluate", "--ensemble-from", "x", "--top", "0"], "--top: expected a whole number from 1, found 0", 2),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys, argv, message, code):
    monkeypatch.chdir(tmp_path)
    space_file(tmp_path, SPACE, "s.toml")
    space_file(tmp_path, "lr = [0.1]\n", "bad.toml")
    before = sorted(tmp_path.iterdir())
    with contextlib.suppress(SystemExit):
        assert cli.main(argv) == code
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "secret" not in err, err
    assert sorted(tmp_path.iterdir()) == before


def test_bench_seeds_table_is_the_mean_and_deviation_of_each_recipe():
    from types import SimpleNamespace as Row

    from mnist_cnn import bench

    acc = {"fast": [0.9906, 0.9916, 0.9905], "seed": [0.9857, 0.9861, 0.9849]}
    results = [{"seed": s, "entries": [Row(name=n, test_accuracy=acc[n][i], tta_accuracy=acc[n][i] + 0.001,
                                           train_seconds=10.0 * (i + 1)) for n in acc]}
               for i, s in enumerate((1, 2, 3))]
    text = bench.seeds_markdown(results)
    for name, values in acc.items():
        a = 100 * np.array(values)
        assert f"| {name} | 1, 2, 3 | {a.mean():.2f} ± {a.std(ddof=1):.2f}% | " in text
    assert "| 20.0 ± 10.0 |" in text
