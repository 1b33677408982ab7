"""`mnist-cnn serve`: the prediction API (TestClient and a real uvicorn), and the page in headless Chromium.

    PYTHONPATH=src pytest -q tests/test_serve.py

The browser test needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium
chromium-driver) and is skipped without them.
"""

import concurrent.futures
import http.client
import io
import socket
import struct
import sys
import time
import warnings
import zlib
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from mnist_cnn import serve

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import browser  # noqa: E402  (tools/browser.py: Chromium + pointer strokes, shared with the screenshot tool)
from mnist_cnn.data import load_mnist
from mnist_cnn.errors import UserError
from mnist_cnn.predict import Predictor

with warnings.catch_warnings():  # starlette 1.x suggests httpx2 for its TestClient; httpx works as before
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CLEAR_DIGITS = [0, 1, 2, 3, 4]  # the first MNIST test digits (7 2 1 0 4): written plainly, any decent model gets them


@pytest.fixture(scope="module")
def predictor(trained_run):
    return Predictor(trained_run)


@pytest.fixture(scope="module")
def app(predictor):
    return serve.create_app(predictor)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def digits(mnist_dir):
    (_, _), (x, y) = load_mnist(mnist_dir)
    return x[CLEAR_DIGITS], y[CLEAR_DIGITS]


def png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def as_upload(digit: np.ndarray) -> bytes:
    """A real MNIST digit as someone's drawing: 280x280, dark ink on white paper."""
    return png(255 - np.asarray(Image.fromarray(digit).resize((280, 280), Image.BICUBIC)))


def post_file(client, data: bytes, name="digit.png"):
    return client.post("/api/predict", files={"file": (name, data, "image/png")})


def json_body(text: str):
    return dict(content=text.encode(), headers={"content-type": "application/json"})


def grid(value: str) -> str:
    return '{"pixels": [' + ",".join(["[" + ",".join([value] * 28) + "]"] * 28) + "]}"


def bomb() -> bytes:
    """A valid 20,000 x 20,000 greyscale PNG header (400 MP) with a few bytes of data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


def test_page_and_its_files_load_nothing_from_the_internet(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for element in ("canvas", "clear", "undo", "digit", "confidence", "bars", "seen", "file", "message"):
        assert f'id="{element}"' in r.text
    for name in ("app.js", "style.css", "favicon.svg"):
        f = client.get(f"/static/{name}")
        assert f.status_code == 200 and "https://" not in f.text and "http://" not in f.text.replace(
            "http://www.w3.org/2000/svg", "")
    assert "http" not in r.text


def test_health_model_and_openapi(client, trained_run):
    assert client.get("/api/health").json() == {"status": "ok"}
    info = client.get("/api/model").json()
    assert info["recipe"] == "seed" and info["parameters"] > 0 and info["path"].startswith(str(trained_run))
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/predict"]["post"]["requestBody"]["content"]
    assert set(body) == {"multipart/form-data", "application/json"}
    assert {"400", "413", "415", "422"} <= set(spec["paths"]["/api/predict"]["post"]["responses"])


def test_upload_of_real_digits(client, digits):
    for x, y in zip(*digits):
        r = post_file(client, as_upload(x))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["digit"] == y and body["message"] is None and body["model"] == "seed"
        assert body["confidence"] == max(body["probabilities"]) and abs(sum(body["probabilities"]) - 1) < 1e-4
        seen = np.asarray(body["input"])
        assert seen.shape == (28, 28) and seen.min() >= 0 and seen.max() == 1


def test_json_pixels_of_real_digits(client, digits, predictor):
    for x, y in zip(*digits):
        r = client.post("/api/predict", json={"pixels": (x / 255).tolist()})
        assert r.status_code == 200 and r.json()["digit"] == y
        direct = predictor.probabilities(np.asarray(r.json()["input"], np.float32)[None])[0]
        np.testing.assert_allclose(r.json()["probabilities"], direct, atol=1e-3)  # the "input" is what the model saw


@pytest.mark.parametrize("request_kwargs", [
    dict(files={"file": ("blank.png", png(np.full((280, 280), 255, np.uint8)), "image/png")}),
    dict(files={"file": ("dot.png", png(np.zeros((1, 1), np.uint8)), "image/png")}),
    dict(json={"pixels": np.zeros((28, 28)).tolist()}),
    dict(json={"pixels": np.ones((28, 28)).tolist()}),
], ids=["white-png", "1px-png", "json-zeros", "json-ones"])
def test_no_ink_is_200_with_a_message(client, request_kwargs):
    r = client.post("/api/predict", **request_kwargs)
    assert r.status_code == 200
    assert r.json() == {"digit": None, "confidence": None, "probabilities": None, "model": "seed", "input": None,
                        "message": "no digit found"}


BAD = {  # id: (request, status, words in the message)
    "text/plain": (dict(content=b"7", headers={"content-type": "text/plain"}), 415, "found text/plain"),
    "no content type": (dict(content=b"7"), 415, "found none"),
    "form-urlencoded": (dict(data={"file": "x"}), 415, "application/x-www-form-urlencoded"),
    "empty json": (json_body(""), 400, "not valid JSON"),
    "broken json": (json_body('{"pixels": [[0, 1'), 400, "not valid JSON"),
    "deep json": (json_body("[" * 100_000), 400, "not valid JSON"),
    "long integer": (json_body('{"pixels": [[' + "9" * 5000 + "]]}"), 400, "not valid JSON"),
    "latin-1 json": (dict(content=b'{"pixels": "\xff"}', headers={"content-type": "application/json"}), 400,
                     "not valid JSON"),
    "json list": (dict(json=[[0] * 28] * 28), 422, 'expected {"pixels"'),
    "json null": (json_body("null"), 422, "found null"),
    "no pixels key": (dict(json={"image": []}), 422, "without `pixels`"),
    "27 rows": (dict(json={"pixels": [[0] * 28] * 27}), 422, "28 rows of 28 numbers"),
    "short row": (dict(json={"pixels": [[0] * 28] * 27 + [[0] * 5]}), 422, "pixels row 27: expected a list of 28"),
    "strings": (dict(json={"pixels": [["0.5"] * 28] * 28}), 422, "pixels[0][0]: expected a number in [0, 1], found a string"),
    "booleans": (dict(json={"pixels": [[True] * 28] * 28}), 422, "found a boolean"),
    "nested": (dict(json={"pixels": [[[0]] * 28] * 28}), 422, "found a list of 1"),
    "0..255": (dict(json={"pixels": [[255] * 28] * 28}), 422, "scale 0..255 values by 1/255"),
    "negative": (dict(json={"pixels": [[-0.1] * 28] * 28}), 422, "found -0.1"),
    "NaN": (json_body(grid("NaN")), 422, "found nan"),
    "4000-digit integer": (json_body(grid("0").replace("0", "9" * 4000, 1)), 422, "found 9999"),
    "1e999": (json_body(grid("1e999")), 422, "found inf"),
    "row is an object": (dict(json={"pixels": [{}] * 28}), 422, "pixels row 0: expected a list of 28 numbers, found an object"),
    "Infinity": (json_body(grid("Infinity")), 422, "found inf"),
    "huge json": (json_body(" " * (serve.MAX_JSON + 1)), 413, "limit 1 MB"),
    "no file field": (dict(data={"name": "x"}, files={"image": ("a.png", b"x")}), 422, "no field `file`"),
    "file as text": (dict(data={"file": "abc"}, files={"other": ("a.png", b"x")}), 422, "field `file` is text"),
    "two files": (dict(files=[("file", ("a.png", b"x")), ("file", ("b.png", b"y"))]), 400, "broken multipart"),
    "no boundary": (dict(content=b"x", headers={"content-type": "multipart/form-data"}), 400, "broken multipart"),
    "empty multipart": (dict(content=b"", headers={"content-type": "multipart/form-data; boundary=b"}), 422,
                        "no field `file`"),
    "zero-byte file": (dict(files={"file": ("a.png", b"")}), 415, "empty file"),
    "not an image": (dict(files={"file": ("notes.png", b"hello, world")}), 415, "notes.png: not an image"),
    "truncated png": (dict(files={"file": ("a.png", as_upload(np.eye(28, dtype=np.uint8) * 255)[:200])}), 415,
                      "truncated"),
    "decompression bomb": (dict(files={"file": ("a.png", bomb())}), 415, "too large"),
    "file over 5 MB": (dict(files={"file": ("a.png", b"\0" * (serve.MAX_UPLOAD + 1))}), 413, "limit 5 MB"),
    "body over 5 MB": (dict(files={"file": ("a.png", b"\0" * (serve.MAX_UPLOAD + serve.MULTIPART_SLACK))}), 413,
                       "limit 5 MB"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_requests_get_a_clear_4xx(client, case):
    request_kwargs, status, words = BAD[case]
    r = client.post("/api/predict", **request_kwargs)
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], str) and words in r.json()["detail"]


def test_fuzzed_bodies_and_images_never_get_a_500(client):
    rng = np.random.default_rng(0)
    good = {}
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"):
        buf = io.BytesIO()
        Image.fromarray((np.eye(64) * 255).astype(np.uint8)).save(buf, fmt)
        good[fmt] = buf.getvalue()
    for fmt, data in good.items():
        for _ in range(15):
            bad = bytearray(data)
            for i in rng.integers(0, len(bad), rng.integers(1, 8)):
                bad[i] = rng.integers(0, 256)
            r = post_file(client, bytes(bad[: rng.integers(len(bad) // 2, len(bad) + 1)]), f"x.{fmt.lower()}")
            assert r.status_code in (200, 415), (fmt, r.status_code, r.text)
    for content_type in ("application/json", "multipart/form-data; boundary=zz", "image/png", "", "*/*",
                         "application/json; charset=utf-16", "multipart/form-data; boundary="):
        for body in (b"", rng.bytes(64), b"--zz\r\n" + rng.bytes(200), b'{"pixels": ' + rng.bytes(40)):
            r = client.post("/api/predict", content=body, headers={"content-type": content_type})
            assert 400 <= r.status_code < 500, (content_type, body[:20], r.status_code, r.text)
            assert isinstance(r.json()["detail"], str)
    for method in ("GET", "PUT", "DELETE"):
        assert client.request(method, "/api/predict").status_code == 405
    assert client.get("/nope").status_code == 404


def test_real_server_over_http(app, digits):
    x, y = digits
    with serve.serving(app) as url:
        assert httpx.get(f"{url}/api/health").json() == {"status": "ok"}
        uploads = [as_upload(d) for d in x] * 6

        def predict(data):
            return httpx.post(f"{url}/api/predict", files={"file": ("d.png", data)}, timeout=30).json()

        with concurrent.futures.ThreadPoolExecutor(6) as pool:  # concurrent requests share the one model
            answers = list(pool.map(predict, uploads))
        assert [a["digit"] for a in answers] == list(y) * 6
        assert all(a["probabilities"] == answers[i % len(x)]["probabilities"] for i, a in enumerate(answers))

        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:  # a huge Content-Length, no body sent
            s.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                      b"Content-Length: 1000000000\r\n\r\n")
            reply = http.client.HTTPResponse(s)
            reply.begin()
            assert reply.status == 413 and "upload too large" in reply.read().decode()


def test_busy_port_is_a_user_error(trained_run):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(UserError, match="cannot listen on 127.0.0.1:.*choose another --port"):
            serve.run(trained_run, port=taken.getsockname()[1])


# The page in a real browser


def line(a, b, n=12):
    return [(a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n) for i in range(n + 1)]


@pytest.mark.skipif(not browser.available(),
                    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)")
def test_page_in_headless_chromium(app, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def text(element_id):
        return driver.find_element(By.ID, element_id).text

    def wait_for(condition):
        WebDriverWait(driver, 10).until(lambda d: condition())

    ink = "const c = document.getElementById('seen').getContext('2d'); " \
          "return c.getImageData(0, 0, 28, 28).data.filter((v, i) => i % 4 == 0 && v > 0).length"
    blank, junk = tmp_path / "blank.png", tmp_path / "junk.png"
    Image.new("L", (100, 100), 255).save(blank)
    junk.write_bytes(b"not an image at all")
    with serve.serving(app) as url:
        driver = browser.chrome((1000, 900))
        try:
            driver.get(url + "/")
            wait_for(lambda: text("model").startswith("Model seed"))
            canvas = driver.find_element(By.ID, "canvas")
            assert text("digit") == "" and len(driver.find_elements(By.CSS_SELECTOR, "#bars li")) == 10

            browser.draw(driver, canvas, [line((0.5, 0.2), (0.5, 0.8))], pointer="pen")
            wait_for(lambda: text("digit") == "1")
            assert text("confidence").endswith("% sure")
            assert [li.get_attribute("class") for li in driver.find_elements(By.CSS_SELECTOR, "#bars li")] == \
                   ["top" if d == 1 else "" for d in range(10)]
            assert driver.execute_script(ink) > 20

            driver.find_element(By.ID, "undo").click()  # the only stroke: back to an empty pad
            wait_for(lambda: text("digit") == "" and driver.execute_script(ink) == 0)
            browser.draw(driver, canvas, [line((0.3, 0.25), (0.7, 0.25)), line((0.7, 0.25), (0.45, 0.8))])
            wait_for(lambda: text("digit") == "7")
            driver.find_element(By.ID, "clear").click()
            wait_for(lambda: text("digit") == "" and text("confidence") == "" and driver.execute_script(ink) == 0)
            time.sleep(0.5)  # an answer still on its way must not bring the 7 back
            assert text("digit") == "" and "Draw a digit" in text("message")

            driver.find_element(By.ID, "file").send_keys(str(blank))
            wait_for(lambda: "no digit found" in text("message").lower())
            driver.find_element(By.ID, "file").send_keys(str(junk))
            wait_for(lambda: "not an image" in text("message"))
            assert driver.find_element(By.ID, "message").get_attribute("role") == "alert"
            assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "415" not in e["message"]]
        finally:
            driver.quit()
