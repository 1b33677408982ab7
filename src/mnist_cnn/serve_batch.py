"""Micro-batching: the model answers concurrent requests in one forward pass.

    batcher = Batcher(predictor.decide, max_batch=32, wait=0.001)   # or .probabilities: any batch -> rows
    d = await batcher.run(x)        # x: (28, 28) float32 -> its row (a Decision), from an event loop
    p = batcher.call(x)             # the same from any thread
    batcher.close()

One thread owns the model: it takes the first waiting image, gathers more for up to `wait` seconds
or until `max_batch`, runs one forward pass and hands each caller its own row. A forward pass of
one image costs about as much as one of 32 (the per-call overhead dominates for these small
networks), so under load the server answers many requests for the price of one call, and the
model is never called from two threads at once (Keras layers are not documented thread-safe, a
LiteRT interpreter is not). A failing forward pass fails every request of its batch, not the thread.

Every pass has the same batch size (`max_batch`, padded with blank images): oneDNN and ONNX Runtime
pick their kernels by shape, and a batch of 1 and one of 8 give probabilities up to 1e-4 apart
(bfloat16 Keras); at one fixed size an image gets the same answer whatever else is in its batch,
and whether the server is idle or busy (tests/test_serve.py checks it).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from concurrent.futures import Future

import numpy as np


class Batcher:
    def __init__(self, forward, max_batch: int, wait: float):
        self.forward, self.max_batch, self.wait = forward, max_batch, wait
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
        """The images in a batch of always `max_batch` (zeros after them): one shape, so one kernel choice."""
        batch = np.zeros((self.max_batch, *images[0].shape), np.float32)
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
