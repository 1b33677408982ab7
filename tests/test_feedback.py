"""Learning from corrections, the serving half: the feedback folder, POST/GET /api/feedback over real HTTP, and
"Wrong? Tell it" on the page in headless Chromium.

    PYTHONPATH=src pytest -q tests/test_feedback.py
"""

import errno
import os
import threading
import time
import warnings
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

import browser  # tests/browser.py: Chromium + pointer strokes
from mnist_cnn import cli, feedback, serve
from mnist_cnn.data import load_mnist
from mnist_cnn.errors import UserError
from mnist_cnn.feedback import FeedbackFull, FeedbackStore
from mnist_cnn.predict import Predictor
from serving import serving  # tests/serving.py: uvicorn in a thread

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def pngs(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file())


def as_array(path):
    return np.asarray(Image.open(path))


@pytest.fixture
def ramp():
    return np.linspace(0, 1, 28 * 28).reshape(28, 28)


# The folder


def test_saved_file_is_the_image_and_label_as_a_28x28_png(tmp_path, ramp):
    store = FeedbackStore(tmp_path / "fb")
    seven, junk = store.save(ramp, 7), store.save(ramp.T, "not a digit")
    assert (seven.parent.name, junk.parent.name) == ("7", "not-a-digit")
    with Image.open(seven) as img:
        assert (img.format, img.mode, img.size) == ("PNG", "L", (28, 28))
    np.testing.assert_array_equal(as_array(seven), np.round(ramp * 255).astype(np.uint8))
    np.testing.assert_array_equal(as_array(junk), np.round(ramp.T * 255).astype(np.uint8))
    c = store.counts()
    assert (c["total"], c["labels"]["7"], c["labels"]["not a digit"], c["labels"]["3"]) == (2, 1, 1, 0)
    assert c["bytes"] == seven.stat().st_size + junk.stat().st_size


def test_names_are_unique_under_concurrent_saves_and_nothing_half_written_is_left(tmp_path, ramp):
    store = FeedbackStore(tmp_path)
    threads = [threading.Thread(target=lambda: [store.save(ramp, 1) for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(pngs(tmp_path)) == 40 == store.counts()["total"]
    assert not [p for p in tmp_path.rglob(".*")]


class _OneSecond(feedback.datetime):
    """datetime whose now() is one fixed second: two saves on a loaded machine may fall in two."""

    @classmethod
    def now(cls, tz=None):
        return feedback.datetime(2026, 12, 1, 2, 15, tzinfo=tz)


def test_an_existing_file_is_never_replaced(tmp_path, ramp, monkeypatch):
    store = FeedbackStore(tmp_path)
    monkeypatch.setattr(feedback, "datetime", _OneSecond)
    monkeypatch.setattr(feedback.secrets, "token_hex", lambda n: "same")
    first = store.save(ramp, 4)
    before = first.read_bytes()
    with pytest.raises(UserError, match="no free file name"):
        store.save(ramp.T, 4)  # every name drawn is taken (the same second, the same 'random' part)
    assert pngs(tmp_path) == [first] and first.read_bytes() == before
    names = iter(["same", "other"])
    monkeypatch.setattr(feedback.secrets, "token_hex", lambda n: next(names))
    second = store.save(ramp.T, 4)  # a taken name is drawn again
    assert second != first and first.read_bytes() == before and len(pngs(tmp_path)) == 2


def test_a_failed_write_leaves_nothing(tmp_path, ramp, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "link", full)
    with pytest.raises(UserError, match="No space left on device"):
        FeedbackStore(tmp_path).save(ramp, 2)
    assert pngs(tmp_path) == []


def test_caps_on_count_and_bytes(tmp_path, ramp):
    store = FeedbackStore(tmp_path, max_items=2)
    kept = [store.save(ramp, 0), store.save(ramp, 1)]
    with pytest.raises(FeedbackFull, match=r"full \(2 images.*limits 2 images"):
        store.save(ramp, 2)
    assert pngs(tmp_path) == sorted(kept)
    kept[0].unlink()  # moved away: room again
    store.save(ramp, 2)
    size = kept[1].stat().st_size
    small = FeedbackStore(tmp_path, max_bytes=2 * size + size // 2)  # 2 files there; the next would pass the cap
    with pytest.raises(FeedbackFull, match="bytes"):
        small.save(ramp, 3)


def test_bad_labels_and_pixels_are_refused_by_the_library(tmp_path, ramp):
    store = FeedbackStore(tmp_path)
    for label in (10, -1, True, "7", 7.0, "Not a digit", None):
        with pytest.raises(UserError, match="label: expected a digit 0-9"):
            store.save(ramp, label)
    for pixels in (ramp[:27], ramp * 2, np.full((28, 28), np.nan)):
        with pytest.raises(UserError, match="input: expected 28x28 numbers in"):
            store.save(pixels, 1)
    assert pngs(tmp_path) == []


def test_default_folder_is_the_model_runs(tmp_path):
    run = tmp_path / "runs" / "fast"
    (run / "exports").mkdir(parents=True)
    for model in (run, run / "model.keras", run / "exports" / "model.onnx"):
        assert feedback.default_folder(model) == run / "feedback"


# The API


@pytest.fixture(scope="module")
def predictor(trained_run):
    return Predictor(trained_run)


@pytest.fixture(scope="module")
def seven(mnist_dir):
    (_, _), (x, y) = load_mnist(mnist_dir)
    assert y[0] == 7
    return x[0]


def test_feedback_over_real_http(predictor, seven, tmp_path):
    app = serve.create_app(predictor, feedback=FeedbackStore(tmp_path / "fb", max_items=3))
    with serving(app) as url:
        answer = httpx.post(f"{url}/api/predict", json={"pixels": (seven / 255).tolist()}).json()
        r = httpx.post(f"{url}/api/feedback", json={"input": answer["input"], "label": 3})
        assert r.status_code == 200, r.text
        saved = tmp_path / "fb" / r.json()["saved"]
        assert saved.parent.name == "3" and r.json()["total"] == 1 and r.json()["labels"]["3"] == 1
        np.testing.assert_array_equal(as_array(saved), np.round(np.asarray(answer["input"]) * 255).astype(np.uint8))
        r = httpx.post(f"{url}/api/feedback", json={"input": answer["input"], "label": "not a digit"})
        assert r.status_code == 200
        counts = httpx.get(f"{url}/api/feedback").json()
        assert (counts["enabled"], counts["total"], counts["labels"]["3"], counts["labels"]["not a digit"]) == \
               (True, 2, 1, 1)

        bad = {  # body: words in the one-line detail
            "label 10": ({"input": answer["input"], "label": 10},
                         'label: expected a digit 0-9 or "not a digit", found 10'),
            "label true": ({"input": answer["input"], "label": True}, "found true"),  # JSON's spelling, not Python's
            "label '7'": ({"input": answer["input"], "label": "7"}, 'found "7"'),
            "label null": ({"input": answer["input"], "label": None}, "found null"),
            "no label": ({"input": answer["input"]}, "without `label`"),
            "no input": ({"label": 7}, "without `input`"),
            "a typo": ({"input": answer["input"], "label": 7, "lable": 3}, "with an unknown key `lable`"),
            "0..255": ({"input": (seven.astype(float)).tolist(), "label": 7}, "expected a number in [0, 1]"),
            "27 rows": ({"input": answer["input"][:27], "label": 7}, "input: expected 28 rows of 28 numbers"),
            "a list": ([1, 2], 'body: expected {"input"'),
            "blank": ({"input": [[0] * 28] * 28, "label": 7}, "found a blank one"),
            "blank as 8 bits": ({"input": [[1e-300] + [0.0019] * 27] * 28, "label": 7}, "found a blank one"),
        }
        for case, (body, words) in bad.items():
            r = httpx.post(f"{url}/api/feedback", json=body)
            assert r.status_code == 422 and words in r.json()["detail"], (case, r.text)
        r = httpx.post(f"{url}/api/feedback", files={"file": ("a.png", b"x")})
        assert r.status_code == 415 and "application/json" in r.json()["detail"]
        r = httpx.post(f"{url}/api/feedback", json={"input": answer["input"], "label": 1},
                       headers={"Origin": "http://evil.example"})
        assert r.status_code == 403
        r = httpx.post(f"{url}/api/feedback", json={"input": answer["input"], "label": 1},
                       headers={"Host": "evil.example"})
        assert r.status_code == 400
        assert len(pngs(tmp_path / "fb")) == 2  # nothing refused was written

        assert httpx.post(f"{url}/api/feedback", json={"input": answer["input"], "label": 5}).status_code == 200
        r = httpx.post(f"{url}/api/feedback", json={"input": answer["input"], "label": 6})
        assert r.status_code == 409 and "feedback folder is full (3 images" in r.json()["detail"]
        assert len(pngs(tmp_path / "fb")) == 3
        paths = httpx.get(f"{url}/openapi.json").json()["paths"]
        assert {"get", "post"} <= set(paths["/api/feedback"])
        assert {"409", "422"} <= set(paths["/api/feedback"]["post"]["responses"])


def test_no_feedback_refuses_and_says_so(predictor, seven):
    """Off is 404 for every POST, a malformed body too (it was a 422 naming the field)."""
    with TestClient(serve.create_app(predictor), base_url="http://127.0.0.1") as c:
        assert c.get("/api/feedback").json()["enabled"] is False
        for body in ({"input": (seven / 255).tolist(), "label": 7}, {"input": [], "label": 10}, {}):
            r = c.post("/api/feedback", json=body)
            assert r.status_code == 404 and "--no-feedback" in r.json()["detail"]


def test_counts_list_a_folder_again_only_when_it_changed(tmp_path, ramp, monkeypatch):
    """GET /api/feedback at the cap listed 10,000 files each call; now a label folder is listed when its mtime
    moved, so files saved, moved away or added by hand are still counted at once."""
    store = FeedbackStore(tmp_path)
    kept = [store.save(ramp, 3), store.save(ramp, 3)]
    old = time.time() - 10
    os.utime(tmp_path / "3", (old, old))  # changed long ago: its listing may be kept
    listed = []
    scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p: listed.append(Path(p).name) or scandir(p))
    assert store.counts()["labels"]["3"] == 2 and store.counts()["labels"]["3"] == 2
    assert listed == ["3"]
    kept[0].unlink()
    assert store.counts()["labels"]["3"] == 1 and listed == ["3", "3"]
    store.save(ramp, 3)
    assert store.counts()["labels"]["3"] == 2


def test_cli_feedback_flags(capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        cli.main(["serve", "--no-feedback", "--feedback-dir", str(tmp_path)])
    assert e.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="feedback_dir: expected a folder, found a file"):
        FeedbackStore(tmp_path / "file").prepare()
    keras_file = tmp_path / "run" / "model.keras"  # never loaded: the folder is checked first
    keras_file.parent.mkdir()
    keras_file.write_bytes(b"not a model")
    assert cli.main(["serve", "--model", str(keras_file), "--feedback-dir", str(tmp_path / "file")]) == 2
    said = capsys.readouterr().err
    assert said == f"mnist-cnn: --feedback-dir: expected a folder, found a file at {tmp_path / 'file'}\n"


# The page


@pytest.mark.skipif(not browser.available(),
                    reason="needs /usr/bin/chromium and /usr/bin/chromedriver "
                           "(apt-get install chromium chromium-driver)")
def test_wrong_tell_it_in_headless_chromium(predictor, tmp_path):
    from selenium.webdriver.common.by import By

    folder = tmp_path / "fb"
    for store in (FeedbackStore(folder), None):
        with serving(serve.create_app(predictor, feedback=store)) as url:
            driver = browser.chrome((1000, 900))
            try:
                driver.get(url + "/")
                canvas = driver.find_element(By.ID, "canvas")
                browser.wait_for(driver, lambda: driver.find_element(By.ID, "model").text.startswith("Model"))
                assert not browser.shown(driver, "feedback")  # nothing to correct yet
                browser.draw(driver, canvas, [browser.line((0.5, 0.2), (0.5, 0.8))])  # a 1
                browser.wait_for(driver, lambda: driver.find_element(By.ID, "digit").text == "1")
                if store is None:  # --no-feedback: no button at all
                    assert not browser.shown(driver, "feedback") and not browser.shown(driver, "wrong")
                    continue
                browser.wait_for(driver, lambda: browser.shown(driver, "wrong"))
                assert not browser.shown(driver, "labels")
                driver.find_element(By.ID, "wrong").click()
                browser.wait_for(driver, lambda: browser.shown(driver, "labels"))
                buttons = driver.find_elements(By.CSS_SELECTOR, "#labels button")
                assert [b.text for b in buttons] == [str(d) for d in range(10)] + ["not a digit"]
                driver.find_element(By.CSS_SELECTOR, '#labels button[data-label="4"]').click()
                browser.wait_for(driver, lambda: "Saved as a 4" in driver.find_element(By.ID, "feedback-status").text)
                assert not browser.shown(driver, "labels")
                files = pngs(folder)
                assert [p.parent.name for p in files] == ["4"]
                ink = as_array(files[0])
                assert ink.shape == (28, 28) and ink[:, 13:15].sum() > ink[:, :8].sum() + 1000  # the upright stroke
                driver.find_element(By.ID, "clear").click()
                browser.wait_for(driver, lambda: not browser.shown(driver, "feedback"))
                assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            finally:
                driver.quit()


def test_one_digit_of_a_number_is_corrected_in_headless_chromium(predictor, tmp_path):
    """Write 17: click its 7 in the number's digits, tell the page it is a 9, and the 7's 28x28 as the model saw it
    (the picked digit's, not the whole drawing's) is saved as a 9. A late one-digit answer refusing the whole drawing
    (a number is often no one digit) leaves the number, its message and the correction as they are."""
    from selenium.webdriver.common.by import By

    folder = tmp_path / "fb"
    seen = "return [...document.querySelectorAll('#number-digits canvas')].map(c => Array.from(c.getContext('2d')" \
           ".getImageData(0, 0, 28, 28).data.filter((v, i) => i % 4 == 0)))"
    with serving(serve.create_app(predictor, feedback=FeedbackStore(folder))) as url:
        driver = browser.chrome((1000, 900))
        try:
            driver.get(url + "/")
            browser.wait_for(driver, lambda: driver.find_element(By.ID, "model").text.startswith("Model"))
            browser.draw(driver, driver.find_element(By.ID, "canvas"), [
                browser.line((0.25, 0.3), (0.25, 0.7)), browser.line((0.5, 0.3), (0.75, 0.3)),
                browser.line((0.75, 0.3), (0.6, 0.7))])
            time.sleep(1)  # answers about the half-drawn 7 may still come
            browser.wait_for(driver, lambda: driver.find_element(By.ID, "number-text").text == "17")
            answered = "return shown === sent && readShown === sent"  # the last drawing's answers are in
            browser.wait_for(driver, lambda: driver.execute_script(answered))
            assert "Click it" in driver.find_element(By.ID, "message").text and not browser.shown(driver, "feedback")
            picks = driver.find_elements(By.CSS_SELECTOR, "#number-digits .pick")
            assert len(picks) == 2
            picks[1].click()
            browser.wait_for(driver, lambda: browser.shown(driver, "labels"))
            assert "Digit 2 of 2, read as 7" in driver.find_element(By.ID, "feedback-status").text
            assert [p.get_attribute("aria-pressed") for p in picks] == ["false", "true"]
            driver.execute_script("show({digit: null, confidence: 0.4, rejected: true, message: 'not a digit', "
                                  "probabilities: null, input: null})")  # /api/predict refusing the drawing, late
            assert browser.shown(driver, "number") and browser.shown(driver, "labels")
            assert "Click it" in driver.find_element(By.ID, "message").text
            seven = np.array(driver.execute_script(seen)[1], np.int16).reshape(28, 28)
            driver.find_element(By.CSS_SELECTOR, '#labels button[data-label="9"]').click()
            browser.wait_for(driver, lambda: "Saved as a 9" in driver.find_element(By.ID, "feedback-status").text)
            files = pngs(folder)
            assert [p.parent.name for p in files] == ["9"]
            saved = as_array(files[0]).astype(np.int16)
            assert saved.shape == (28, 28) and seven.sum() > 5000 and np.abs(saved - seven).max() <= 1
            picks[0].click()  # then the number gives way to a one-digit answer: the picked digit's labels go with it
            browser.wait_for(driver, lambda: browser.shown(driver, "labels"))
            driver.execute_script("answer = {digit: 1, confidence: 0.9, rejected: false, message: null, probabilities: "
                                  "Array(10).fill(0.1), input: Array.from({length: 28}, () => Array(28).fill(0.5))};"
                                  "showNumber(null)")
            assert driver.find_element(By.ID, "digit").text == "1" and not browser.shown(driver, "number")
            assert browser.shown(driver, "feedback") and not browser.shown(driver, "labels")  # for the answer shown
            assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        finally:
            driver.quit()


@pytest.mark.parametrize("errno_, status", [(errno.EACCES, 503), (errno.ENOSPC, 507)])
def test_a_folder_that_cannot_be_written_answers_without_the_servers_path(errno_, status, capsys):
    """The client learns why (no space, no permission), not where the server keeps its files; the log has both."""
    from fastapi import HTTPException

    from mnist_cnn import serve_feedback
    from mnist_cnn.errors import UserError

    class Broken:
        def save(self, pixels, label):
            try:
                raise OSError(errno_, os.strerror(errno_), "/srv/secret/feedback/7/x.png")
            except OSError:
                raise UserError("/srv/secret/feedback/7/x.png: cannot write") from None

    body = serve_feedback.Feedback(input=[[0.5] * 28] * 28, label=7)
    with pytest.raises(HTTPException) as e:
        serve_feedback._save(Broken(), body)
    assert e.value.status_code == status and "/srv/secret" not in e.value.detail
    assert os.strerror(errno_) in e.value.detail and "/srv/secret" in capsys.readouterr().err


def test_abandon_removes_only_the_empty_folders_prepare_made(tmp_path):
    """serve abandons the store when its model cannot load: the folders it made go, a user's own stay."""
    store = FeedbackStore(tmp_path / "nest" / "a" / "b").prepare()
    store.abandon()
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "mine").mkdir()
    FeedbackStore(tmp_path / "mine").prepare().abandon()  # there before: kept, though empty
    store = FeedbackStore(tmp_path / "mine" / "x" / "y").prepare()
    (tmp_path / "mine" / "x" / "note.txt").write_text("kept")
    store.abandon()
    assert sorted(p.name for p in (tmp_path / "mine").rglob("*")) == ["note.txt", "x"]
