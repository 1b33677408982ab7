"""`mnist-cnn serve` under concurrency: micro-batched forward passes and --workers N on one port.

    PYTHONPATH=src pytest -q tests/test_serve_throughput.py
"""

import concurrent.futures
import http.client
import json
import os
import sys
import threading
import time

import httpx
import numpy as np
import pytest

from mnist_cnn import images, serve
from mnist_cnn.data import load_mnist, normalise
from mnist_cnn.loadtest import _digit_png, _multipart, start_server
from mnist_cnn.predict import Predictor
from mnist_cnn.serve_batch import Batcher, row_independent
from mnist_cnn.serve_workers import cpu_sets
from serving import serving  # tests/serving.py: uvicorn in a thread


@pytest.fixture(scope="module")
def predictor(trained_run):
    return Predictor(trained_run)


@pytest.fixture(scope="module")
def x(mnist_dir):
    return normalise(load_mnist(mnist_dir)[1][0][:40]).reshape(-1, 28, 28)


def test_concurrent_images_get_their_own_rows_identical_to_one_at_a_time(predictor, x):
    batcher = Batcher(predictor.probabilities, max_batch=8, wait=0.05)
    try:
        alone = [batcher.call(image) for image in x[:12]]  # one request at a time: a batch each
        assert batcher.batches == 12
        futures = [batcher.submit(image) for image in x[:12]]  # all at once: gathered into batches of <= 8
        together = [f.result(30) for f in futures]
        assert batcher.batches - 12 < 12 and batcher.images == 24
        for a, t in zip(alone, together):  # the same batch shape every time: the same kernels; on AVX2-only CPUs
            np.testing.assert_allclose(a, t, rtol=0, atol=1e-6)  # a row's place in it moves low bits (~1e-8)
        assert [int(t.argmax()) for t in together] == list(predictor.probabilities(x[:12]).argmax(1))
    finally:
        batcher.close()


def test_a_failing_forward_pass_fails_its_batch_and_the_next_one_works():
    calls = []

    def forward(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise ValueError("model broke")
        return batch.reshape(len(batch), -1)[:, :10] + 1

    batcher = Batcher(forward, max_batch=4, wait=0.0)
    try:
        with pytest.raises(ValueError, match="model broke"):
            batcher.call(np.zeros((28, 28), np.float32))
        assert np.array_equal(batcher.call(np.full((28, 28), 2, np.float32)), np.full(10, 3, np.float32))
        assert calls == [4, 4]  # always padded to max_batch
    finally:
        batcher.close()


def test_padding_is_skipped_only_when_every_batch_size_gives_the_same_rows(predictor, x):
    def rowwise(batch):  # each row from its own image only
        return batch.reshape(len(batch), -1)[:, :10] * 2

    def by_size(batch):  # as kernels picked by shape can: rows that change with the batch size
        return rowwise(batch) + np.float32(1e-6) * len(batch)

    assert row_independent(rowwise, 8) and not row_independent(by_size, 8)
    seen = []
    batcher = Batcher(lambda b: (seen.append(len(b)), rowwise(b))[1], max_batch=8, wait=0.05, pad=False)
    try:
        futures = [batcher.submit(image) for image in x[:3]]
        assert [np.array_equal(f.result(30), rowwise(image[None])[0]) for f, image in zip(futures, x[:3])] == [True] * 3
        assert sum(seen) == 3 and max(seen) <= 3  # no blank images run
    finally:
        batcher.close()
    decided = row_independent(predictor.decide, serve.BATCH["max_batch"])  # the real model, whichever way it goes:
    service = serve.Service(predictor)  # the server follows the check (answers alike alone or batched: below)
    try:
        assert service.batcher.pad is not decided
    finally:
        service.batcher.close()


def test_concurrent_http_requests_are_batched_and_answered_as_alone(predictor, x):
    app = serve.create_app(predictor)
    service = app.state.service
    uploads = [_digit_png(image) for image in x[:16]]
    with serving(app) as url:
        def post(data):
            return httpx.post(f"{url}/api/predict", files={"file": ("d.png", data)}, timeout=60).json()

        alone = [post(u) for u in uploads]
        passes = service.batcher.batches
        barrier = threading.Barrier(8)

        def post_together(data):
            barrier.wait(30)
            return post(data)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            together = list(pool.map(post_together, uploads[:8] * 3))
    assert together == alone[:8] * 3  # each client its own answer, bit for bit what it gets alone
    assert service.batcher.batches - passes < 24  # some forward passes answered several requests


def test_two_workers_answer_on_one_port(trained_run, x):
    server, port = start_server(str(trained_run), "--workers", "2")
    try:
        seen = set()
        deadline = time.monotonic() + 120  # the second worker may still be loading its model on a busy machine
        while seen != {1, 2} and time.monotonic() < deadline:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection each time: the kernel
            c.request("GET", "/api/health")  # hands it to whichever worker accepts first
            health = json.loads(c.getresponse().read())
            c.close()
            assert health["status"] == "ok"
            seen.add(health["worker"])
            time.sleep(0.01)
        assert seen == {1, 2}
        if sys.platform == "linux" and len(os.sched_getaffinity(0)) > 1:  # each worker on CPUs of its own
            pinned = sorted((os.sched_getaffinity(w) for w in _workers(server.pid)), key=min)
            assert len(pinned) == 2 and pinned == cpu_sets(sorted(os.sched_getaffinity(0)), 2)
        body, kind = _multipart(_digit_png(x[0]))
        seen_by_model = images.to_mnist(images.load_image(_digit_png(x[0])))
        digit = int(Predictor(trained_run).probabilities(seen_by_model[None]).argmax())
        for _ in range(6):  # fresh connections: both workers answer some
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("POST", "/api/predict", body=body, headers={"Content-Type": kind})
            assert json.loads(c.getresponse().read())["digit"] == digit
            c.request("POST", "/api/predict", body=body, headers={"Content-Type": kind, "Host": "evil.example"})
            assert c.getresponse().status == 400  # every worker keeps the Host check
            c.close()
    finally:
        server.terminate()
        code = server.wait(60)
    assert code == 0 and "Stopped." in server.stdout.read()
    with pytest.raises(OSError):  # nothing listens any more: the workers stopped with the parent
        http.client.HTTPConnection("127.0.0.1", port, timeout=5).request("GET", "/api/health")


def test_workers_get_cpus_of_their_own():
    assert cpu_sets([0, 1], 2) == [{0}, {1}]  # as many workers as cores: one each
    assert cpu_sets([0, 1], 3) == [{0}, {1}, {0}]  # more workers than cores: round-robin
    assert cpu_sets(list(range(8)), 2) == [{0, 1, 2, 3}, {4, 5, 6, 7}]  # fewer: neighbours shared out
    assert cpu_sets([2, 5, 7], 2) == [{2}, {5, 7}]  # the CPUs this process may use, not 0..n-1
    assert cpu_sets([3], 2) == []  # one CPU: nothing to choose


def _workers(pid: int) -> list[int]:
    """The server worker processes (multiprocessing's spawned children) of the `mnist-cnn serve` process pid."""
    children = [int(c) for t in os.listdir(f"/proc/{pid}/task")
                for c in open(f"/proc/{pid}/task/{t}/children").read().split()]
    return [c for c in children if b"spawn_main" in open(f"/proc/{c}/cmdline", "rb").read()]
