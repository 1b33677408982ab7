"""Reading and preprocessing many image files at once: a process pool that never imports TensorFlow.

    from mnist_cnn.preprocess_pool import Preprocessor
    with Preprocessor(len(paths)) as pool:     # starts worker processes only for many images
        for path, x in pool.map(paths):        # in the order given; x: (28, 28) float32, None, or a str error
            ...

`mnist-cnn predict` on a folder spends most of its time decoding and preprocessing (Pillow, OpenCV,
NumPy: ~1 ms an image), not in the model (~0.05 ms an image in batches), so that work goes to one
process per core while the parent runs the model. The workers are started with `spawn` (a fresh
interpreter: no copy of the parent's TensorFlow threads or memory) and import only this module,
`images` and its libraries. Fewer than POOL_MIN images are read in this process: starting the pool
costs about as much as reading them.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .errors import UserError

POOL_MIN = 300  # below this many images one process is faster: starting 2 workers costs ~0.3 s (~300 images)
CHUNK = 32  # images per task: amortises the inter-process round trip (~0.1 ms), keeps the workers evenly loaded


def read(path: str | os.PathLike) -> np.ndarray | None | str:
    """The 28x28 float32 image the model sees, None when there is no ink, or the error as one line."""
    from . import images

    try:
        return images.to_mnist(images.load_grey(Path(path)))
    except UserError as e:
        return str(e)


def _warm_up() -> None:
    """A worker's imports (OpenCV, Pillow and its format plugins: ~0.1 s) done as it starts, while the parent loads
    the model, rather than on its first chunk of images."""
    from PIL import Image

    from . import images  # noqa: F401

    Image.preinit()


def _read_chunk(paths: list[str]) -> list[np.ndarray | None | str]:
    return [read(p) for p in paths]


def workers_for(count: int) -> int:
    """Worker processes for `count` images: 0 (read here) below POOL_MIN, else one per core."""
    return 0 if count < POOL_MIN else max(1, os.cpu_count() or 1)


class Preprocessor:
    """A process pool for reading images (or none, for few images); a context manager that shuts it down.

    Start it before loading the model: the workers' start-up then overlaps with TensorFlow's import."""

    def __init__(self, count: int, workers: int | None = None):
        self.workers = workers_for(count) if workers is None else workers
        self.pool = None
        if self.workers > 0:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_warm_up)
            for _ in range(self.workers):  # start every worker now, not on the first map()
                self.pool.submit(int)

    def map(self, paths: Iterable[str | os.PathLike]) -> Iterator[tuple[Path, np.ndarray | None | str]]:
        """(path, read(path)) in the order given."""
        paths = [Path(p) for p in paths]
        if self.pool is None:
            yield from ((p, read(p)) for p in paths)
            return
        chunks = [[str(p) for p in paths[i:i + CHUNK]] for i in range(0, len(paths), CHUNK)]
        results = (x for chunk in self.pool.map(_read_chunk, chunks) for x in chunk)
        yield from zip(paths, results)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
