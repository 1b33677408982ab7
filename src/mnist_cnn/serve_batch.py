"""Micro-batching: the model answers concurrent requests in one forward pass.

    batcher = Batcher(predictor.decide, max_batch=32, wait=0.001)   # or .probabilities: any batch -> rows
    batcher = Batcher(predictor.decide, 32, 0.001, pad=not row_independent(predictor.decide, 32))  # no blanks
    d = await batcher.run(x)        # x: (28, 28) float32 -> its row (a Decision), from an event loop
    p = batcher.call(x)             # the same from any thread
    batcher.close()

One thread owns the model: it takes the first waiting image, gathers more for up to `wait` seconds
or until `max_batch`, runs one forward pass and hands each caller its own row. A forward pass of
one image costs about as much as one of 32 (the per-call overhead dominates for these small
networks), so under load the server answers many requests for the price of one call, and the
model is never called from two threads at once (Keras layers are not documented thread-safe, a
LiteRT interpreter is not). A failing forward pass fails every request of its batch, not the thread.

An image must get the same answer whatever else is in its batch, and whether the server is idle
or busy (tests/test_serve_throughput.py checks it). oneDNN and ONNX Runtime pick their kernels by
shape, and a batch of 1 and one of 8 can give probabilities up to 1e-4 apart (bfloat16 Keras); so
by default every pass has the same batch size (`max_batch`, padded with blank images). Padding costs
what the blank images cost: ONNX Runtime's time grows with the batch (one thread, `fast` model:
0.18 ms for 1 image, 0.38 for 4, 1.1 for 16), so with a few requests in flight most of a padded
pass is blanks. `row_independent` checks a model at start-up: when every batch size from 1 to
`max_batch` gives each image bit-identical rows, padding changes nothing and `pad=False` skips it.
On a CPU with AVX2 but no AVX-512 (class C), oneDNN gives a row other low bits by its place in a batch
of the same size (~1e-8 apart in a probability), so there the answer is the same to 1e-6, not the bits.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from concurrent.futures import Future

import numpy as np


PROBE_SEED = 13  # the probe images of row_independent: fixed, so a server's choice is the same at every start


def row_independent(forward, max_batch: int) -> bool:
    """Whether `forward` gives each image bit-identical outputs in a batch of any size from 1 to max_batch
    (kernels are chosen by shape, not by data: one probe batch tries every shape the batcher can run)."""
    rng = np.random.default_rng(PROBE_SEED)
    probe = rng.random((max_batch, 28, 28), dtype=np.float32) * (rng.random((max_batch, 1, 1)) < 0.8)  # some blank
    full = [_fingerprint(row) for row in forward(probe)]
    return all([_fingerprint(row) for row in forward(probe[:n])] == full[:n] for n in range(1, max_batch))


def _fingerprint(row) -> tuple:
    """A forward pass's row (an array, or a refusal.Decision) as comparable bytes and values."""
    if isinstance(row, np.ndarray):
        return (row.tobytes(),)
    return row.digit, row.rejected, row.confidence, np.asarray(row.probabilities).tobytes()


class Batcher:
    def __init__(self, forward, max_batch: int, wait: float, pad: bool = True):
        """pad: run every pass as a batch of max_batch (False only for a forward pass that row_independent
        found to give the same rows at every batch size)."""
        self.forward, self.max_batch, self.wait, self.pad = forward, max_batch, wait, pad
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.batches = 0  # forward passes run, and images in them: for tests and tools
        self.images = 0
        self.thread = threading.Thread(target=self._serve, name="mnist-cnn-model", daemon=True)
        self.thread.start()

    def submit(self, x: np.ndarray) -> Future:
        """A future for x's probabilities."""
        future: Future = Future()
        self.queue.put((np.asarray(x, np.float32), future))
        return future

    def call(self, x: np.ndarray) -> np.ndarray:
        return self.submit(x).result()

    async def run(self, x: np.ndarray) -> np.ndarray:
        return await asyncio.wrap_future(self.submit(x))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(5)

    def _gather(self, first) -> list:
        items, deadline = [first], time.monotonic() + self.wait
        while len(items) < self.max_batch:
            try:
                item = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                self.queue.put(None)  # close() after this batch
                break
            items.append(item)
        return items

    def _padded(self, images: list[np.ndarray]) -> np.ndarray:
        """The images in a batch of always `max_batch` (zeros after them): one shape, so one kernel choice;
        without `pad`, just the images."""
        batch = np.zeros((self.max_batch if self.pad else len(images), *images[0].shape), np.float32)
        batch[:len(images)] = images
        return batch

    def _serve(self) -> None:
        while (first := self.queue.get()) is not None:
            items = self._gather(first)
            try:
                p = self.forward(self._padded([x for x, _ in items]))
            except BaseException as e:  # every waiting request learns it; the thread goes on
                for _, future in items:
                    future.set_exception(e)
                continue
            self.batches += 1
            self.images += len(items)
            for row, (_, future) in zip(p, items):
                future.set_result(row)
