"""Reading image files in worker processes: same results, same order, no TensorFlow in the workers."""

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_cnn import imagefile, predict, preprocess_pool
from mnist_cnn.data import load_mnist
from mnist_cnn.errors import UserError
from mnist_cnn.preprocess_pool import Preprocessor

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def folder(tmp_path_factory, mnist_dir):
    """70 digit PNGs, a blank page and a file that is no image, in a known order."""
    (_, _), (x, y) = load_mnist(mnist_dir)
    root = tmp_path_factory.mktemp("pool")
    paths = []
    for i in range(70):
        paths.append(root / f"{i:03d}.png")
        Image.fromarray(255 - x[i]).resize((112, 112)).save(paths[-1])
    paths.insert(10, root / "blank.png")
    Image.new("L", (50, 50), 255).save(paths[10])
    paths.insert(40, root / "notes.png")
    paths[40].write_text("not an image")
    return paths, y[:70]


def test_workers_give_the_same_results_in_the_same_order(folder):
    paths, _ = folder
    with Preprocessor(len(paths), workers=0) as here, Preprocessor(len(paths), workers=2) as pool:
        assert here.pool is None and pool.pool is not None
        expected, got = list(here.map(paths)), list(pool.map(paths))
    assert [p for p, _ in got] == paths
    for (_, a), (_, b) in zip(expected, got):
        if isinstance(a, list):
            assert len(a) == len(b) and all(x is y is None or np.array_equal(x, y) for x, y in zip(a, b))
        else:
            assert a == b
    assert got[10][1] == [None] and "notes.png: not an image Pillow can read" in got[40][1]


def test_standard_input_is_read_here_amid_the_workers_files(folder, monkeypatch):
    paths, _ = folder
    imagefile._stdin.cache_clear()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(paths[3].read_bytes())))
    given = [*paths[:20], Path("-"), *paths[20:]]
    try:
        with Preprocessor(len(given), workers=2) as pool:
            got = list(pool.map(given))
    finally:
        imagefile._stdin.cache_clear()
    assert [p for p, _ in got] == given and np.array_equal(got[20][1][0], got[3][1][0])
    assert "notes.png: not an image Pillow can read" in got[41][1]


def test_no_tensorflow_in_the_workers(folder, trained_run):
    predict.Predictor(trained_run)  # TensorFlow loaded here, in the parent
    with Preprocessor(1, workers=1) as pool:
        list(pool.map(folder[0][:3]))
        modules = pool.pool.submit(eval, "sorted(__import__('sys').modules)").result()
    assert "mnist_cnn.images" in modules and "cv2" in modules
    assert not [m for m in modules if m.split(".")[0] in ("tensorflow", "keras")]


def test_predictions_through_the_pool_match_and_keep_order(folder, trained_run):
    paths, y = folder
    p = predict.Predictor(trained_run)
    with Preprocessor(len(paths), workers=2) as pool:
        pooled = list(predict.predict_files(p, paths, batch=16, preprocessor=pool))
    alone = list(predict.predict_files(p, paths, batch=16, preprocessor=Preprocessor(len(paths), workers=0)))
    assert [r.to_dict() for r in pooled] == [r.to_dict() for r in alone]
    assert [r.path for r in pooled] == [str(f) for f in paths]
    digits = [r.digit for i, r in enumerate(pooled) if i not in (10, 40)]
    assert np.mean(np.array(digits) == y) > 0.9
    assert pooled[10].error == "no digit found" and pooled[40].failed


def test_starmap_runs_the_tasks_on_workers_in_order_and_raises_theirs():
    assert preprocess_pool.starmap(pow, [(2, k) for k in range(7)], workers=2) == [1, 2, 4, 8, 16, 32, 64]
    assert preprocess_pool.starmap(os.getpid, [()]) == [os.getpid()]  # one task: here
    assert len(set(preprocess_pool.starmap(os.getpid, [()] * 2, workers=2)) - {os.getpid()}) >= 1
    with pytest.raises(ValueError, match="invalid literal"):
        preprocess_pool.starmap(int, [("1",), ("one",)], workers=2)
    with pytest.raises(UserError, match="a worker process ended abruptly") as e:
        preprocess_pool.starmap(os._exit, [(1,), (1,)], workers=2)  # a worker gone as the OOM killer leaves it
    assert e.value.exit_code == 1


SLOW_TASK = """
import time
from pathlib import Path
from mnist_cnn.preprocess_pool import stopped

def slow(marker):
    Path(marker).touch()
    while not stopped():
        time.sleep(0.01)
"""
STARMAP_CHILD = """
import sys, types
if __name__ == "__main__":
    sys.modules["jax"] = types.ModuleType("jax")  # a library with threads of its own: a forkserver, as in calibrate
    import slow
    from mnist_cnn import preprocess_pool
    try:
        preprocess_pool.starmap(slow.slow, [(sys.argv[1],), (sys.argv[2],)], workers=2)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
"""


def test_two_ctrl_cs_end_a_starmap_at_once(tmp_path):
    """Ctrl-C stops the workers' long tasks (they check stopped()); a second one while the pool shut down had it wait
    on its workers for good (Python 3.11), and one while they started left a worker's traceback."""
    (tmp_path / "slow.py").write_text(SLOW_TASK)
    (tmp_path / "child.py").write_text(STARMAP_CHILD)
    markers = [tmp_path / "a", tmp_path / "b"]
    proc = subprocess.Popen([sys.executable, str(tmp_path / "child.py"), *map(str, markers)], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{tmp_path}"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for _ in range(600):
            if all(m.exists() for m in markers) or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert all(m.exists() for m in markers), proc.communicate(timeout=5)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    # -SIGINT: the second Ctrl-C came after the first was handled, while Python exited with SIGINT's default action
    # restored (a fast machine: the pool was down within the 50 ms); it ended at once and silently all the same
    assert (proc.returncode in (0, -signal.SIGINT), out.strip(), err) == (True, "interrupted", "")


def test_few_images_are_read_in_this_process():
    assert preprocess_pool.workers_for(preprocess_pool.POOL_MIN - 1) == 0
    assert preprocess_pool.workers_for(preprocess_pool.POOL_MIN) >= 1
    with Preprocessor(5) as few:
        assert few.pool is None


def test_workers_are_forks_only_while_this_process_runs_no_other_thread(monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(preprocess_pool, "THREADED", ())
    assert preprocess_pool._context().get_start_method() == "fork"
    monkeypatch.setattr(preprocess_pool, "THREADED", ("numpy",))  # a library with threads of its own is loaded
    assert preprocess_pool._context().get_start_method() == "forkserver"
    monkeypatch.setattr(preprocess_pool, "THREADED", ())
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert preprocess_pool._context().get_start_method() == "forkserver"


def test_the_cli_reads_with_forked_workers_while_the_model_loads(folder, trained_run):
    """A fresh `mnist-cnn predict` (its pool forked before TensorFlow loads) answers as one process does here."""
    paths, _ = folder
    script = ("import json, sys\n"
              "from mnist_cnn import cli, preprocess_pool\n"
              "preprocess_pool.POOL_MIN = 10\n"
              "used, context = [], preprocess_pool._context\n"
              "preprocess_pool._context = lambda: used.append(context().get_start_method()) or context()\n"
              "code = cli.main(['predict', sys.argv[1], '--model', sys.argv[2], '--json'])\n"
              "print(json.dumps({'code': code, 'start': used}))\n")
    done = subprocess.run([sys.executable, "-c", script, str(paths[0].parent), str(trained_run)],
                          env={**os.environ, "PYTHONPATH": str(SRC)}, capture_output=True, text=True, timeout=120)
    *answers, last = done.stdout.strip().splitlines()
    assert json.loads(last) == {"code": 1, "start": ["fork"]}, done.stderr  # 1: notes.png is no image
    alone = predict.predict_files(predict.Predictor(trained_run), sorted(paths), preprocessor=Preprocessor(0, 0))
    assert _alike(json.loads("\n".join(answers)), [r.to_dict() for r in alone])


def _alike(a, b, tolerance: float = 1e-6) -> bool:
    """Equal, probabilities within `tolerance`: batches cut elsewhere give an image's row other low bits on some CPUs
    (oneDNN on AVX2 only, class C: ~1e-8 apart)."""
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= tolerance
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_alike(a[k], b[k], tolerance) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_alike(u, v, tolerance) for u, v in zip(a, b))
    return a == b


def test_ctrl_c_is_left_to_this_process(folder):
    """Workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process group; the parent cancels and shuts the
    pool down), and this process takes it again once they have started."""
    # Python's own handler first: a test run started in the background of a script inherits SIGINT ignored
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with Preprocessor(len(folder[0]), workers=2) as pool:
            ignored = [pool.pool.submit(signal.getsignal, signal.SIGINT).result() for _ in range(4)]
            assert ignored == [signal.SIG_IGN] * 4
            assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_workers_run_nicer_than_this_process(folder):
    with Preprocessor(len(folder[0]), workers=2) as pool:
        assert pool.pool.submit(os.nice, 0).result() == os.nice(0) + preprocess_pool.WORKER_NICE


def test_ctrl_c_stops_the_workers_mid_chunk(tmp_path):
    """On Ctrl-C the workers stop after the image in hand, not after their chunks (32 12 MP photos took ~9 s), and are
    not killed (one killed while it wrote a result hung the pool's shutdown for good)."""
    import time

    big = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (1500, 2000), np.uint8)).save(big)  # ~0.1 s a read
    with pytest.raises(KeyboardInterrupt):
        with Preprocessor(1000, workers=2) as pool:
            busy = [pool.pool.submit(preprocess_pool._read_chunk, [str(big)] * 200) for _ in range(2)]
            workers = list(pool.pool._processes.values())
            time.sleep(0.5)  # both chunks under way
            raise KeyboardInterrupt
    assert workers and not any(p.is_alive() for p in workers)
    assert all(f.done() and not f.cancelled() for f in busy)
    assert all(len(f.result()) < 200 for f in busy), [len(f.result()) for f in busy]  # cut short
    assert all(p.exitcode == 0 for p in workers)  # shut down, not killed
