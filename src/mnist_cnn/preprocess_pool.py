"""Reading and preprocessing many image files at once: a process pool that never imports TensorFlow.

    from mnist_cnn.preprocess_pool import Preprocessor
    with Preprocessor(len(paths)) as pool:     # starts worker processes only for many images
        read = pool.map(paths)                 # the workers start on them now
        for path, xs in read:                  # in the order given; xs: images.candidates' list, or a str error
            ...

`mnist-cnn predict` on a folder spends most of its time decoding and preprocessing (Pillow, OpenCV,
NumPy: ~1 ms an image), not in the model (~0.1 ms an image in batches), so that work goes to one
process per core while the parent runs the model. Started before the model loads (as the CLI does), the
workers are forks of this process; once a runtime's threads run here, forks of a `forkserver` (a fresh
interpreter: no copy of TensorFlow's threads or memory) that imported this module, `images` and their
libraries once; where there is neither (Windows), each a fresh `spawn`.
Fewer than POOL_MIN images are read in this process: starting the pool costs about as much as reading them.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .errors import UserError

POOL_MIN = 300  # below this many images one process is faster: starting 2 workers costs ~0.3 s (~300 images)
CHUNK = 32  # images per task: amortises the inter-process round trip (~0.1 ms), keeps the workers evenly loaded
# Imported once by the forkserver, not by every worker: this module and `images` (NumPy, OpenCV, Pillow). Two spawned
# workers each spent ~0.4 CPU-s starting, while the model loaded. "__main__" too, but Python 3.11's forkserver never
# imports it (it looks for a key spawn's data no longer has): each worker re-runs the script as "__mp_main__" (the
# `mnist-cnn` entry point, mnist_cnn.py: a few imports, nothing run).
PRELOAD = ["__main__", __name__, f"{__package__}.images"]
# Libraries whose own native threads make a fork unsafe once imported (a child inherits their locks, not the threads).
THREADED = ("tensorflow", "onnxruntime", "ai_edge_litert", "jax", "torch")
# The workers' NumPy needs no BLAS threads (images.py makes no large products); OpenBLAS starting one a core cost
# each worker ~0.1 CPU-s at import, on the cores the other processes were starting on.
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
# The workers run this much nicer than the parent, whose own work comes first: loading TensorFlow takes ~4 s of one
# core, the workers read the folder on what is left. 2,000 PNGs with a Keras run: 6.53 -> 5.48 s; with ONNX, 1.73 s
# both (tools/predict_speed.py, medians of 3 and 6 interleaved rounds, class A idle).
WORKER_NICE = 5


def read(path: str | os.PathLike) -> list[np.ndarray | None] | str:
    """The 28x28 float32 images the model may see (images.candidates; None: no ink), or the error as one line."""
    from . import images

    try:
        return images.candidates(images.load_grey(Path(path), max_side=images.MAX_SIDE))
    except UserError as e:
        return str(e)


def read_again(path: str | os.PathLike) -> list[np.ndarray | None]:
    """images.more_readings of a file whose one reading the model refused (its second look), in this process: []
    when it no longer reads (standard input is read once, and kept)."""
    from . import images

    try:
        return images.more_readings(images.load_grey(Path(path), max_side=images.MAX_SIDE))
    except UserError:
        return []


def _warm_up() -> None:
    """A worker's imports (OpenCV, Pillow and its format plugins) done as it starts, while the parent loads the model,
    rather than on its first chunk of images: ~0.1 s under spawn; already done in a fork (of this process, which ran it
    first, or of the forkserver, which imported PRELOAD)."""
    from PIL import Image

    from . import images  # noqa: F401

    Image.preinit()


_stop = None  # in a worker: the pool's Event, set by the parent on Ctrl-C


def _start_worker(stop) -> None:
    """A worker leaves Ctrl-C to the parent, which sets `stop`, cancels what is left and shuts the pool down (a worker's
    own KeyboardInterrupt only printed a traceback), steps back WORKER_NICE, then warms up."""
    global _stop
    _stop = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):
        os.nice(WORKER_NICE)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held back while it started (_starting_workers)
    _warm_up()


def _read_chunk(paths: list[str]) -> list[list[np.ndarray | None] | str]:
    """read() of each path; cut short once the parent has set _stop (its images are no longer wanted)."""
    out = []
    for p in paths:
        if stopped():
            break
        out.append(read(p))
    return out


def _context():
    """fork while this process runs no other Python thread and no library with worker threads of its own (THREADED;
    the CLI starts its pool before it loads a model): the workers start in milliseconds with what is already imported.
    (OpenBLAS's threads, which NumPy starts, are fork-safe: it stops them around a fork.) Else forkserver with PRELOAD
    (also on macOS); spawn where there is neither (Windows)."""
    methods = multiprocessing.get_all_start_methods()
    alone = threading.active_count() == 1 and not any(m in sys.modules for m in THREADED)
    if "fork" in methods and sys.platform != "darwin" and alone:  # macOS' system libraries are not fork-safe
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # for a forkserver not yet running (the process's first pool)
    return context


@contextmanager
def _starting_workers():
    """While workers (and a forkserver) start: os.environ with WORKER_ENV's defaults, which they inherit, and Ctrl-C
    held back in this thread, so that no worker takes one before it ignores them (this process takes it after)."""
    added = {k: v for k, v in WORKER_ENV.items() if k not in os.environ}
    os.environ.update(added)
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held back is raised here, the env restored


def workers_for(count: int) -> int:
    """Worker processes for `count` images: 0 (read here) below POOL_MIN, else one per core."""
    return 0 if count < POOL_MIN else max(1, os.cpu_count() or 1)


def _pool(workers: int) -> tuple[ProcessPoolExecutor, object]:
    """A pool of `workers` processes (not started yet) and the Event that asks them to stop (_start_worker)."""
    context = _context()
    if context.get_start_method() == "fork":
        _warm_up()  # once here, before the forks, rather than in each of them (~0.08 CPU-s apiece)
    stop = context.Event()
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(stop,)), stop


def starmap(fn, tasks: list[tuple], workers: int | None = None) -> list:
    """[fn(*task) for task in tasks], the tasks shared by one worker process a core, started as the Preprocessor's
    (fork, forkserver or spawn, nicer than this process, Ctrl-C left to it); here with one core or one task. fn: a
    function at a module's top level (a worker imports it as it is, not as patched here); one that runs long checks
    stopped() as it goes, so that a Ctrl-C here ends its task at once rather than when it would have finished."""
    workers = min(len(tasks), os.cpu_count() or 1) if workers is None else workers
    if workers < 2:
        return [fn(*task) for task in tasks]
    pool, stop = _pool(workers)
    try:
        with _ctrl_c_deferred(), _starting_workers():  # this process ends not while a worker needs its semaphores
            futures = [pool.submit(fn, *task) for task in tasks]
        return [f.result() for f in futures]
    except BrokenProcessPool as e:  # the OOM killer's work, mostly: one line, not a traceback from the pool's thread
        stop.set()
        raise UserError(f"a worker process ended abruptly (killed, or out of memory?): {e}", exit_code=1) from e
    except BaseException:
        stop.set()
        raise
    finally:
        with _ctrl_c_deferred():  # a second Ctrl-C while the pool shuts down left it waiting on its workers for good
            pool.shutdown(cancel_futures=True)


def stopped() -> bool:
    """In a starmap worker: whether the parent wants no more (Ctrl-C, or another task's error)."""
    return _stop is not None and _stop.is_set()


@contextmanager
def _ctrl_c_deferred():
    """A Ctrl-C in the block is raised when it ends (in the main thread; elsewhere Python takes none)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed = []
    previous = signal.signal(signal.SIGINT, lambda *args: pressed.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pressed:
            raise KeyboardInterrupt


class Preprocessor:
    """A process pool for reading images (or none, for few images); a context manager that shuts it down.

    Start it before loading the model: the workers' start-up then overlaps with TensorFlow's import."""

    def __init__(self, count: int, workers: int | None = None):
        self.workers = workers_for(count) if workers is None else workers
        self.pool = None
        if self.workers > 0:
            self.pool, self.stop = _pool(self.workers)
            try:
                with _starting_workers():
                    for _ in range(self.workers):  # start every worker now, not on the first map()
                        self.pool.submit(int)
            except BaseException:  # Ctrl-C as they started: no `with` block will close the pool
                self.close()
                raise

    def map(self, paths: Iterable[str | os.PathLike]) -> Iterator[tuple[Path, list[np.ndarray | None] | str]]:
        """An iterator of (path, read(path)) in the order given. With workers, they start on the images at once (not on
        the first next()): call it before loading the model and the two overlap."""
        paths = [Path(p) for p in paths]
        if self.pool is None:
            return ((p, read(p)) for p in paths)
        from .imagefile import STDIN

        here = [str(p) == STDIN for p in paths]  # standard input is this process's (a worker's is /dev/null)
        theirs = [str(p) for p, mine in zip(paths, here) if not mine]
        chunks = [theirs[i:i + CHUNK] for i in range(0, len(theirs), CHUNK)]
        done = (x for chunk in self.pool.map(_read_chunk, chunks) for x in chunk)
        piped = read(STDIN) if any(here) else None
        return zip(paths, (piped if mine else next(done) for mine in here))

    def close(self) -> None:
        if self.pool is not None:
            with _ctrl_c_deferred():  # as starmap's
                self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def __enter__(self):
        return self

    def __exit__(self, kind, *exc):
        if kind is not None and self.pool is not None:  # Ctrl-C, or an error (a model that would not load)
            # The workers stop after the image in hand, not their chunk (32 12 MP photos took ~9 s). Not terminated:
            # a worker killed while it wrote a result left half a message in the pipe, and the pool's manager thread,
            # waiting for the rest, hung shutdown for good (a probe: 5 of ~10 Ctrl-Cs while Keras loaded).
            self.stop.set()
        self.close()
