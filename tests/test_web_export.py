"""`mnist-cnn export --format web`: the static page runs the model in real Chromium, and Python is its oracle.

The page (served by a plain static file server, as a user would) draws digits with real pointer events;
its 28x28 image, calibrated probabilities, gate output and refusal are compared with what Python computes
from the same drawing's PNG: images.to_mnist, ONNX Runtime on the same model.onnx and notdigit.onnx, and
refusal.Rule. The run gets an untrained gate so the gate's path runs; its decisions are not the point.
"""

import base64
import contextlib
import functools
import http.server
import io
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import browser
from mnist_cnn import cli, images
from mnist_cnn.refusal import RULE_FILE, Rule
from mnist_cnn.web_export import GATE, MODEL, ORT_FILES, RULE

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not browser.available(), reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium "
                                    "chromium-driver)")]
RULE_USED = Rule(temperature=0.6, min_confidence=0.05, gate_threshold=0.999, confidence_weight=0.5)
DRAWINGS = {  # pad coordinates 0..1: a 1, a 7, a 0 and a 4, as a person would draw them
    "1": [[(0.5, 0.2), (0.5, 0.8)]],
    "7": [[(0.3, 0.25), (0.7, 0.25), (0.45, 0.8)]],
    "0": [[(0.5 + 0.2 * np.sin(t), 0.5 - 0.3 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 40)]],
    "4": [[(0.6, 0.8), (0.6, 0.2), (0.3, 0.6), (0.75, 0.6)]],
}


@pytest.fixture(scope="module")
def web_dir(trained_run, tmp_path_factory):
    """The small run with an (untrained) gate and a rule, exported as a web page by the CLI."""
    from mnist_cnn import gate

    run = tmp_path_factory.mktemp("web") / "run"
    shutil.copytree(trained_run, run)
    gate.build(seed=0).save(run / gate.GATE_FILE)
    (run / RULE_FILE).write_text(json.dumps(RULE_USED.to_dict()))
    out = run.parent / "site"
    assert cli.main(["export", str(run), "--format", "web", "--out", str(out)]) == 0
    return out


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def opened(folder: Path):
    """Chromium on the page served from `folder` by Python's static file server, the model loaded."""
    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    driver = browser.chrome((1000, 900))
    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        wait(driver, "return window.mnistReady === true")
        yield driver
    finally:
        driver.quit()
        server.shutdown()


@pytest.fixture
def page(web_dir):
    with opened(web_dir) as driver:
        yield driver


def wait(driver, script, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


def draw(driver, strokes) -> dict:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "clear").click()
    wait(driver, "return window.mnistAnswer && window.mnistAnswer.strokes === 0")
    browser.draw(driver, driver.find_element(By.ID, "canvas"), strokes)
    return wait(driver, "const a = window.mnistAnswer; return a.version === window.mnistVersion && a")


def python_answer(driver, web_dir: Path) -> dict:
    """What Python makes of the page's drawing: to_mnist, the same ONNX files in ONNX Runtime, the same rule."""
    import onnxruntime as ort

    png = base64.b64decode(driver.execute_script("return window.mnistDrawingPng()").split(",", 1)[1])
    x = images.to_mnist(Image.open(io.BytesIO(png)))
    run = {name: ort.InferenceSession(str(web_dir / name)) for name in (MODEL, GATE)}
    out = {name: s.run(None, {s.get_inputs()[0].name: x[None, :, :, None]})[0][0] for name, s in run.items()}
    rule = Rule.read(web_dir / RULE)
    decision = rule.decide(out[MODEL][None], out[GATE][None, 1])[0]
    return {"input": x, "probabilities": decision.probabilities, "not_digit": out[GATE][1],
            "digit": decision.digit, "rejected": decision.rejected}


def test_export_writes_the_page_the_checked_model_and_the_pinned_runtime(web_dir):
    names = {p.name for p in web_dir.iterdir()}
    assert {"index.html", "web.js", "style.css", MODEL, f"{MODEL}.check.json", GATE, RULE, *ORT_FILES} <= names
    check = json.loads((web_dir / f"{MODEL}.check.json").read_text())
    assert check["passed"] and check["agreement"] >= 0.9999
    rule = json.loads((web_dir / RULE).read_text())
    assert Rule(**{k: rule[k] for k in RULE_USED.to_dict()}) == RULE_USED
    assert rule["test_accuracy"] == check["test_accuracy"]


def test_page_agrees_with_python_on_the_same_drawings(page, web_dir):
    from selenium.webdriver.common.by import By

    agreed = 0
    for name, strokes in DRAWINGS.items():
        seen = draw(page, strokes)
        want = python_answer(page, web_dir)
        assert np.abs(np.array(seen["input"]).reshape(28, 28) - want["input"]).max() < 1e-3, name
        np.testing.assert_allclose(seen["probabilities"], want["probabilities"], atol=1e-4, err_msg=name)
        assert seen["notDigit"] == pytest.approx(float(want["not_digit"]), abs=1e-4), name
        assert (seen["digit"], seen["rejected"]) == (want["digit"], want["rejected"]), name
        shown = page.find_element(By.ID, "digit").text
        assert shown == ("\u2715" if want["rejected"] else str(want["digit"])), name
        agreed += want["digit"] == int(name)
    assert agreed >= 3  # the ~97% model reads most of these drawings: the page is not showing noise
    assert not [e for e in page.get_log("browser") if e["level"] == "SEVERE"]


@pytest.mark.parametrize("side, wide", [(12, False), (19, False), (20, False), (60, False), (12, True)])
def test_page_scales_a_digit_to_mnists_box_as_python_does(page, mnist_dir, side, wide):
    """Up (Pillow's bilinear, under 20 px) or down (its box filter), web.js's toMnist gives to_mnist's 28x28."""
    import cv2

    from mnist_cnn.data import load_mnist

    (_, _), (x, _) = load_mnist(mnist_dir)
    ink = x[0].astype(np.float32) / 255
    rows, cols = np.flatnonzero(ink.max(1) > 0), np.flatnonzero(ink.max(0) > 0)
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    ink = ink.T if wide else ink  # a 7 lying on its side: wider than tall
    k = side / max(ink.shape)
    ink = cv2.resize(ink, (round(ink.shape[1] * k), round(ink.shape[0] * k)), interpolation=cv2.INTER_AREA)
    grey = np.pad(ink.clip(0, 1), 8)
    seen = page.execute_script("return Array.from(toMnist(new Float32Array(arguments[0]), arguments[1], arguments[2]))",
                               grey.ravel().tolist(), grey.shape[1], grey.shape[0])
    want = images.to_mnist(grey)
    assert np.abs(np.array(seen).reshape(28, 28) - want).max() < 1e-3


def test_page_refuses_what_the_rule_refuses(web_dir, tmp_path):
    """A rule whose gate refuses everything: the page says "Not a digit" and still shows the 28x28 it saw."""
    from selenium.webdriver.common.by import By

    strict = tmp_path / "site"
    shutil.copytree(web_dir, strict)
    rule = json.loads((strict / RULE).read_text())
    (strict / RULE).write_text(json.dumps({**rule, "gate_threshold": 1e-6}))
    with opened(strict) as driver:
        seen = draw(driver, DRAWINGS["7"])
        assert seen["rejected"] and seen["digit"] is None and max(seen["input"]) == 1.0
        assert driver.find_element(By.ID, "digit").text == "\u2715"
        assert driver.find_element(By.ID, "confidence").text == "Not a digit"
        driver.find_element(By.ID, "clear").click()
        wait(driver, "return window.mnistAnswer.strokes === 0")
        assert driver.find_element(By.ID, "digit").text == ""


def test_int8_and_a_file_as_out_are_one_line_errors(web_dir, tmp_path, capsys):
    run, file = web_dir.parent / "run", tmp_path / "taken"
    file.write_text("")
    assert cli.main(["export", str(run), "--format", "web", "--int8"]) == 2
    assert cli.main(["export", str(run), "--format", "web", "--out", str(file)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "--int8" in err[0] and str(file) in err[1] and "found a file" in err[1]
