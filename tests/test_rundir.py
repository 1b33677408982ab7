"""The run folder under faults: one-step checkpoint commits, a lock, config checks, the finished marker,
malformed files. Real files, real signals, real processes."""

import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from mnist_cnn import cli, train
from mnist_cnn.config import TrainConfig
from mnist_cnn.errors import UserError
from mnist_cnn.rundir import RunDir, best_run, list_runs

SMALL = dict(limit=1500, epochs=3, batch_size=100, seed=4)


def cfg(tmp_path, mnist_dir, name, **changes):
    return TrainConfig(out=str(tmp_path), name=name, data_dir=str(mnist_dir), **{**SMALL, **changes})


def weights(path):
    return [np.asarray(w) for w in keras.models.load_model(path).weights]


@pytest.fixture(scope="module")
def straight(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("straight")
    return train.train(cfg(out, mnist_dir, "straight"), verbose=0, report=lambda m: None)


def cut_after(tmp_path, mnist_dir, name, epochs_done):
    """A run interrupted (real SIGINT) after `epochs_done` whole epochs."""
    class At(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == epochs_done:
                os.kill(os.getpid(), signal.SIGINT)

    r = train.train(cfg(tmp_path, mnist_dir, name), verbose=0, callbacks=[At()], report=lambda m: None)
    assert r.interrupted
    return r.run


def test_ctrl_c_in_an_epoch_stops_after_the_batch_without_validating_the_cut_epoch(tmp_path, mnist_dir):
    """Keras' stop_training ran the cut epoch's validation and printed its summary line, as if it were whole."""
    seen = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)

        def on_train_batch_end(self, batch, logs=None):
            seen.append("batch")

        def on_test_begin(self, logs=None):
            seen.append("validation")

    r = train.train(cfg(tmp_path, mnist_dir, "cut"), verbose=0, callbacks=[Watch()], report=lambda m: None)
    steps = -(-int(SMALL["limit"] * 0.8) // SMALL["batch_size"])
    assert r.interrupted and len(r.history) == 1 and r.run.load_checkpoint()[1]["epoch"] == 1
    assert seen == ["batch"] * steps + ["validation"]  # epoch 2 stopped at its first batch's end, unvalidated


def test_a_commit_cut_before_its_state_resumes_from_the_previous_epoch(tmp_path, mnist_dir, straight):
    """SIGKILL after the new weights but before state.json: the old state and its weights still agree."""
    run = cut_after(tmp_path, mnist_dir, "k1", 1)
    ckpt = run.file("checkpoint")
    shutil.copy(ckpt / "epoch-0001.keras", ckpt / "epoch-0002.keras")  # what the killed commit left behind
    assert run.load_checkpoint()[1]["epoch"] == 1
    done = train.train(resume=run.path, verbose=0, report=lambda m: None)
    assert done.metrics["test_loss"] == straight.metrics["test_loss"]
    assert sorted(p.name for p in ckpt.iterdir()) == ["epoch-0003.keras", "state.json"]


def test_a_state_whose_weights_differ_or_are_missing_is_refused(tmp_path, mnist_dir):
    run = cut_after(tmp_path, mnist_dir, "k2", 2)
    ckpt = run.file("checkpoint")
    shutil.copy(ckpt / "epoch-0002.keras", tmp_path / "keep.keras")
    (ckpt / "epoch-0002.keras").unlink()
    with pytest.raises(UserError, match="names epoch-0002.keras .* but that file is missing"):
        train.train(resume=run.path, verbose=0)
    (ckpt / "epoch-0002.keras").write_bytes(b"PK" + (tmp_path / "keep.keras").read_bytes()[2:-1])
    with pytest.raises(UserError, match="but that file is different; the checkpoint is inconsistent"):
        train.train(resume=run.path, verbose=0)


def test_sigkill_at_any_moment_leaves_a_resumable_run(tmp_path, mnist_dir, straight):
    """Kill -9 a training process at several moments; every time the folder resumes to the straight run.
    The three trainings run at the same time (their start-ups overlap), each killed from a thread of its own."""
    delays = (0.0, 0.4, 0.9)

    def killed(k, delay):
        name = f"kill{k}"
        cmd = [sys.executable, "-m", "mnist_cnn", "train", "--limit", "1500", "--epochs", "3", "--batch-size", "100",
               "--seed", "4", "--out", str(tmp_path), "--name", name, "--data-dir", str(mnist_dir), "--quiet"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        state = tmp_path / name / "checkpoint" / "state.json"
        deadline = time.time() + 240
        while not state.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return name

    with concurrent.futures.ThreadPoolExecutor(len(delays)) as pool:
        names = list(pool.map(killed, range(len(delays)), delays))
    for name, delay in zip(names, delays):
        done = train.train(resume=tmp_path / name, verbose=0, report=lambda m: None) \
            if RunDir(tmp_path / name).metrics() is None else None
        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        assert metrics["test_loss"] == straight.metrics["test_loss"], (delay, done)
        assert not list((tmp_path / name).rglob("*.part*"))


def test_one_trainer_at_a_time(tmp_path, mnist_dir):
    run = cut_after(tmp_path, mnist_dir, "locked", 1)
    holder = subprocess.Popen([sys.executable, "-c", f"""
import fcntl, os, sys, time
fd = os.open({str(run.file('.lock'))!r}, os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0); os.pwrite(fd, b"%d\\n" % os.getpid(), 0)
print("locked", flush=True); time.sleep(60)
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UserError, match=f"in use by another mnist-cnn process \\(PID {holder.pid}\\)"):
            train.train(resume=run.path, verbose=0)
    finally:
        holder.kill()
        holder.wait()
    assert train.train(resume=run.path, verbose=0, report=lambda m: None).metrics  # free again


def test_resume_refuses_a_config_edited_after_the_start(tmp_path, mnist_dir):
    run = cut_after(tmp_path, mnist_dir, "edited", 1)
    saved = json.loads(run.file("config.json").read_text())
    run.file("config.json").write_text(json.dumps({**saved, "model": "keras-io", "network": "keras-io"}))
    with pytest.raises(UserError, match="config.json: does not match the checkpoint"):
        train.train(resume=run.path, verbose=0)


def test_interrupts_after_the_last_epoch_leave_an_unfinished_run_and_the_hint(tmp_path, mnist_dir, monkeypatch,
                                                                              capsys, straight):
    from mnist_cnn import plots

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "run_pictures", ctrl_c)
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--limit", "1500", "--epochs", "3", "--batch-size", "100", "--seed", "4", "--name", "pics",
            "--data-dir", str(mnist_dir), "--quiet"]
    assert cli.main(argv) == 130
    assert "Resume with: mnist-cnn train --resume runs/pics" in capsys.readouterr().err
    assert not (tmp_path / "runs" / "pics" / "metrics.json").exists()
    assert [r["status"] for r in list_runs(tmp_path / "runs")] == ["unfinished"]
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--resume", "runs/pics", "--quiet"]) == 0
    metrics = json.loads((tmp_path / "runs" / "pics" / "metrics.json").read_text())
    assert metrics["test_loss"] == straight.metrics["test_loss"]

    class LateSigint(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            os.kill(os.getpid(), signal.SIGINT)

    late = train.train(cfg(tmp_path, mnist_dir, "late"), verbose=0, callbacks=[LateSigint()], report=lambda m: None)
    assert late.interrupted and len(late.history) == 3 and late.run.metrics() is None


NONE = "expected a JSON object, found none (missing, unreadable, not JSON, or not an object)"


@pytest.mark.parametrize("bad,why", [
    ("[1, 2]", NONE), ("null", NONE), ("{", NONE), ('{"test_accuracy": "high"}', "key 'test_accuracy': expected a "
                                                                                 "number, found 'high'"),
    ('{"epochs_run": null}', "key 'epochs_run': expected a whole number, found None"),
    ('{"finished": 5}', "key 'finished': expected a string, found 5"),
    ('{"best_val_accuracy": true}', "key 'best_val_accuracy': expected a number, found True")])
def test_a_malformed_run_is_skipped_with_one_line_saying_why(tmp_path, straight, bad, why):
    shutil.copytree(straight.run.path, tmp_path / "good")
    shutil.copytree(straight.run.path, tmp_path / "broken")
    (tmp_path / "broken" / "metrics.json").write_text(bad)
    said = []
    rows = list_runs(tmp_path, report=said.append)
    assert [r["name"] for r in rows] == ["good"]
    assert said == [f"{tmp_path / 'broken' / 'metrics.json'}: {why}; run skipped"]
    assert best_run(tmp_path) == tmp_path / "good"
    (tmp_path / "good" / "config.json").write_text("[1, 2]")
    assert best_run(tmp_path) is None


def test_best_run_with_keep_asks_the_best_first_and_stops_at_the_first_kept(tmp_path, straight):
    """keep (a run that runs here, runtime.runs_without_keras) is asked in validation order, best first, no further."""
    for name, accuracy in (("low", 0.5), ("high", 0.9), ("mid", 0.7), ("tie", 0.7)):
        shutil.copytree(straight.run.path, tmp_path / name)
        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        (tmp_path / name / "metrics.json").write_text(json.dumps({**metrics, "best_val_accuracy": accuracy}))
    asked = []
    assert best_run(tmp_path, keep=lambda run: asked.append(run.name) or run.name != "high") == tmp_path / "mid"
    assert asked == ["high", "mid"]
    assert best_run(tmp_path) == tmp_path / "high" and best_run(tmp_path, keep=lambda run: False) is None


def test_a_config_of_the_wrong_shape_is_skipped_too(tmp_path, straight):
    shutil.copytree(straight.run.path, tmp_path / "odd")
    saved = json.loads((tmp_path / "odd" / "config.json").read_text())
    (tmp_path / "odd" / "config.json").write_text(json.dumps({**saved, "model": 3, "epochs": "x"}))
    said = []
    assert list_runs(tmp_path, report=said.append) == []
    assert "odd/config.json: key 'model': expected a string, found 3" in said[0]


def test_a_finished_run_is_not_resumed(straight):
    with pytest.raises(UserError, match="the run is finished; nothing to resume"):
        train.train(resume=straight.run.path)


def test_a_run_finished_while_a_second_resume_loaded_its_data_is_not_trained_again(tmp_path, mnist_dir, straight,
                                                                                    monkeypatch):
    """Two `train --resume RUN` at once: the second found the run unfinished, loaded the data while the first held
    the lock and finished it, then took the lock and trained it all again (a review, 2026-12-06)."""
    run = cut_after(tmp_path, mnist_dir, "race", 1)
    finished = train.train(resume=run.path, verbose=0, report=lambda m: None)  # the first process, done
    kept = {p.name: p.stat().st_mtime_ns for p in run.path.iterdir() if p.is_file()}
    metrics = run.file("metrics.json").read_bytes()
    real_metrics, calls = RunDir.metrics, []

    def not_yet_at_first(self):  # the second process's first look, before the first finished
        calls.append(1)
        return None if len(calls) == 1 else real_metrics(self)

    monkeypatch.setattr(RunDir, "metrics", not_yet_at_first)
    with pytest.raises(UserError, match="the run is finished; nothing to resume"):
        train.train(resume=run.path, verbose=0, report=lambda m: None)
    assert finished.metrics["test_loss"] == straight.metrics["test_loss"]
    assert run.file("metrics.json").read_bytes() == metrics
    assert {p.name: p.stat().st_mtime_ns for p in run.path.iterdir() if p.is_file() and p.name != ".lock"} == \
        {k: v for k, v in kept.items() if k != ".lock"}


def test_a_full_disk_is_one_line_and_leaves_no_part_file(tmp_path, monkeypatch):
    import errno

    from mnist_cnn import files

    real = os.replace

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(UserError, match=r"x.json: cannot write \(No space left on device\); nothing half-written"):
        files.write_json(tmp_path / "x.json", {"a": 1})
    monkeypatch.setattr(os, "replace", real)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_where_the_file_goes_is_one_line_and_leaves_no_part_file(tmp_path):
    """`predict --save-preprocessed seen/` where seen/00000_a.png is a folder: os.replace's IsADirectoryError was a
    traceback; replace=False keeps its FileExistsError for the caller."""
    from mnist_cnn import files

    (tmp_path / "x.png").mkdir()
    with pytest.raises(UserError) as e:
        files.write_bytes(tmp_path / "x.png", b"x")
    assert str(e.value) == f"{tmp_path / 'x.png'}: cannot write there (Is a directory); nothing half-written was left"
    (tmp_path / "y.png").write_bytes(b"y")
    with pytest.raises(FileExistsError):
        files.write_bytes(tmp_path / "y.png", b"x", replace=False)
    assert sorted(os.listdir(tmp_path)) == ["x.png", "y.png"] and (tmp_path / "y.png").read_bytes() == b"y"


def test_names_up_to_255_bytes_are_written_whole_and_longer_ones_are_one_line(tmp_path):
    """atomic_path's temporary name adds 19+ bytes to its destination's: a name of 237-255 bytes made mkstemp fail
    with a traceback (ENAMETOOLONG) until the temporary name was cut to fit; a name no file system takes, or a
    folder that is not there, is one line naming the destination."""
    from mnist_cnn import files

    names = ["b" * 251 + ".png", "ü" * 125 + ".png", "\udcff" * 251 + ".png", "a." + "b" * 240]  # 255, 254, 255, 242
    for name in names:
        files.write_bytes(tmp_path / name, name.encode("utf-8", "surrogateescape"))
    assert sorted(os.listdir(tmp_path)) == sorted(names)  # nothing else: no temporary file left
    assert all((tmp_path / n).read_bytes() == os.fsencode(n) for n in names)
    with pytest.raises(UserError) as e:
        files.write_bytes(tmp_path / ("b" * 256), b"x")
    assert str(e.value) == f"{tmp_path / ('b' * 256)}: expected a file name of at most 255 bytes, found 256"
    with pytest.raises(UserError, match=r"nope/x.png: cannot create a file there \(No such file or directory\)$"):
        files.write_bytes(tmp_path / "nope" / "x.png", b"x")
    assert sorted(os.listdir(tmp_path)) == sorted(names)


def test_a_stem_is_cut_between_characters_to_fit_a_file_name():
    from mnist_cnn import files

    assert files.short_stem("ü" * 200, ".png") == "ü" * 125  # 250 bytes + 4: a 126th would split at 252 + 4
    assert files.short_stem("b" * 300, "_12.png") == "b" * 248
    assert files.short_stem("\udcff" * 300, ".png") == "\udcff" * 251  # an undecodable byte is one byte
    assert files.short_stem("short", ".png") == "short"
