"""Screenshot of the draw-a-digit page with a digit drawn on it, for the README.

    python tools/screenshot.py [RUN_DIR|MODEL.keras] [--out docs/serve.png] [--digit 4] [--size 1100x800]

Starts the server on a free loopback port with the model (default: the best run in runs/), opens
the page in headless Chromium (apt-get install chromium chromium-driver), draws the digit with
pointer strokes, waits for the prediction and saves the viewport as a PNG. Run it with the
project's Python (.venv/bin/python, or PYTHONPATH=src).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' Chromium helper
import browser  # noqa: E402

STROKES = {  # polylines in pad coordinates (0..1, y down), drawn one pointer stroke each
    "3": [[(0.32, 0.24), (0.45, 0.17), (0.6, 0.18), (0.66, 0.3), (0.58, 0.44), (0.45, 0.48), (0.6, 0.52),
           (0.68, 0.65), (0.6, 0.79), (0.44, 0.82), (0.3, 0.75)]],
    "4": [[(0.56, 0.16), (0.3, 0.6), (0.72, 0.6)], [(0.6, 0.34), (0.6, 0.84)]],
    "7": [[(0.3, 0.22), (0.7, 0.22), (0.45, 0.82)]],
}
WAIT = 10  # seconds for the page to show a prediction


def size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1100x800, found {text!r}") from None
    return width, height


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", help="run folder or .keras file (default: the best run in --runs)")
    ap.add_argument("--runs", default="runs", help="folder of run folders (default: runs)")
    ap.add_argument("--out", default="docs/serve.png", help="PNG to write (default: docs/serve.png)")
    ap.add_argument("--digit", default="4", choices=sorted(STROKES), help="digit to draw (default: 4)")
    ap.add_argument("--size", type=size, default="1100x800", help="viewport WIDTHxHEIGHT (default: 1100x800)")
    args = ap.parse_args()
    if not browser.available():
        sys.exit(f"screenshot: needs {browser.CHROMIUM} and {browser.CHROMEDRIVER} "
                 "(apt-get install chromium chromium-driver)")

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from mnist_cnn.errors import UserError
    from mnist_cnn.loadtest import start_server
    from mnist_cnn.runtime import resolve_model

    try:
        server, port = start_server(str(resolve_model(args.model, args.runs)))
    except UserError as e:
        sys.exit(f"screenshot: {e}")
    width, height = args.size
    url = f"http://127.0.0.1:{port}"
    try:
        driver = browser.chrome((width, height))
        try:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",  # the viewport, not the window, at --size
                                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
            driver.get(url + "/")
            WebDriverWait(driver, WAIT).until(lambda d: d.find_element(By.ID, "model").text.startswith("Model"))
            browser.draw(driver, driver.find_element(By.ID, "canvas"), STROKES[args.digit])
            WebDriverWait(driver, WAIT).until(lambda d: d.find_element(By.ID, "digit").text)
            driver.execute_script("return new Promise(r => setTimeout(r, 400))")  # let the bars finish moving
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(args.out)
            print(f"{args.out}: page predicts {driver.find_element(By.ID, 'digit').text} "
                  f"({driver.find_element(By.ID, 'confidence').text}) for a drawn {args.digit}")
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
