"""Headless Chromium for the page's end-to-end test and the README screenshot (Selenium).

Debian's `chromium` and `chromium-driver` (apt-get install chromium chromium-driver); a browser
downloaded by a test tool is never used.
"""

import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--hide-scrollbars"]
STEP = 0.02  # pointer moves every 2% of the pad: smooth strokes, ~50 moves per stroke


def available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def chrome(size=(1100, 800)):
    """A headless Chromium with a fresh profile and a window of `size` (width, height)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS + [f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}",
                         f"--window-size={size[0]},{size[1]}"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def draw(driver, canvas, strokes, pointer="mouse"):
    """Draw polylines (pad coordinates 0..1, y down) on the canvas with real pointer events, one press per stroke."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    w, h = canvas.size["width"], canvas.size["height"]
    for line in strokes:
        points = []
        for (x0, y0), (x1, y1) in zip(line, line[1:]):
            n = max(1, round(max(abs(x1 - x0), abs(y1 - y0)) / STEP))
            points += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n)]
        points.append(line[-1])
        pixels = [(round((x - 0.5) * w), round((y - 0.5) * h)) for x, y in points]  # offsets from the centre
        kind = interaction.POINTER_PEN if pointer == "pen" else interaction.POINTER_MOUSE
        chain = ActionChains(driver, duration=10, devices=[PointerInput(kind, pointer)])
        chain.move_to_element_with_offset(canvas, *pixels[0]).click_and_hold()
        for (ax, ay), (bx, by) in zip(pixels, pixels[1:]):
            chain.move_by_offset(bx - ax, by - ay)
        chain.release().perform()


def line(a, b, n=12):
    """A straight stroke from a to b (pad coordinates) as n + 1 points, for draw()."""
    return [(a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n) for i in range(n + 1)]


def wait_for(driver, condition, seconds=10):
    """Wait until condition() is true (Selenium's wait, which raises TimeoutException after `seconds`)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, seconds).until(lambda d: condition())


def shown(driver, element_id) -> bool:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).is_displayed()
