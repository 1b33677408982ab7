"""`predict` and `read` on screenshots of a drawing app and on pages pasted with a margin (chrome.py's cases).

    PYTHONPATH=src python tools/screenshots.py --model runs/NAME            # two tables, ~20 s
    PYTHONPATH=src python tools/screenshots.py --model runs/NAME --save DIR # the pictures too

A review's probe (2026-12-08) made reproducible. Screenshots: each digit 0-9 typed at 120 px in three faces on a white
canvas, in a grey window under a 40 px dark title bar with the app's name, and the same without the bar; `predict` is
right when it answers the digit. Pasted pages: the digits 4, 5, 7 and the numbers 375, 86 in Comic Neue Bold on paper
at grey 215, 235 or 245 (with a little noise), pasted on white with a margin of 0, 8 or 40 px; `predict` is right
when it answers a digit's picture and refuses a number's, `read` when it reads the text. Faces not installed are skipped
(Debian: fonts-comic-neue fonts-dkg-handwriting fonts-kaushanscript).
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mnist_cnn.errors import UserError, run_tool
from mnist_cnn.predict import Predictor, predict_files
from mnist_cnn.read_io import read_files

COMIC = "/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf"
FACES = {"comic": COMIC, "dkg": "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
         "kaushan": "/usr/share/fonts/opentype/kaushanscript/KaushanScript-Regular.otf"}


def screenshot(text: str, face: str, bar: bool) -> Image.Image:
    """The digit on a white canvas in a grey window, under a dark title bar (with its name in white) or not."""
    font = ImageFont.truetype(face, 120)
    x0, y0, x1, y1 = font.getbbox(text)
    canvas = Image.new("RGB", (x1 - x0 + 80, y1 - y0 + 80), (255, 255, 255))
    ImageDraw.Draw(canvas).text((40 - x0, 40 - y0), text, font=font, fill=(20, 20, 20))
    shot = Image.new("RGB", (canvas.width + 200, canvas.height + 260), (230, 230, 235))
    if bar:
        draw = ImageDraw.Draw(shot)
        draw.rectangle([0, 0, shot.width, 40], fill=(60, 60, 70))
        draw.text((10, 12), "Notes", fill=(255, 255, 255))
    shot.paste(canvas, (100, 80))
    return shot


def pasted(text: str, margin: int, paper: int) -> Image.Image:
    """The text on grey paper (noise of 3 grey levels) pasted on white with `margin` px all round."""
    font = ImageFont.truetype(COMIC, 120)
    page = Image.new("L", (100 + 70 * len(text), 180), paper)
    ImageDraw.Draw(page).text((page.width // 2, 90), text, font=font, fill=40, anchor="mm")
    noisy = np.asarray(page, np.float32) + np.random.default_rng(0).normal(0, 3, (page.height, page.width))
    out = Image.new("L", (page.width + 2 * margin, page.height + 2 * margin), 255)
    out.paste(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)), (margin, margin))
    return out


def answers(predictor, pictures: dict[str, Image.Image], folder: Path) -> dict[str, tuple]:
    """{name: (predict's digit or None, read's text)} for pictures saved as PNG files in folder."""
    paths = []
    for name, img in pictures.items():
        paths.append(folder / f"{name}.png")
        img.save(paths[-1])
    return {p.stem: (None if r.rejected or r.error else r.digit, t.text)
            for p, r, t in zip(paths, predict_files(predictor, paths), read_files(predictor, paths))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a run folder, .keras or export file")
    ap.add_argument("--save", type=Path, help="write the pictures to this folder too (default: no)")
    args = ap.parse_args()
    faces = {name: path for name, path in FACES.items() if Path(path).is_file()}
    if COMIC not in faces.values():
        raise UserError(f"Comic Neue is not installed: {COMIC} (Debian: fonts-comic-neue)")
    predictor = Predictor(args.model)
    print(f"model: {predictor.path} ({predictor.runtime})\n")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.save or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        shots = {f"shot-{face}-{d}-{'bar' if bar else 'plain'}": screenshot(str(d), path, bar)
                 for face, path in faces.items() for d in range(10) for bar in (True, False)}
        got = answers(predictor, shots, folder)
        print("| screenshot | pictures | `predict` right | read as, when wrong |\n|---|---|---|---|")
        for kind in ("bar", "plain"):
            rows = [(int(n.split("-")[2]), got[n][0]) for n in got if n.endswith(kind)]
            wrong = Counter("refused" if a is None else str(a) for d, a in rows if a != d)
            print(f"| {'under a title bar' if kind == 'bar' else 'no bar'} | {len(rows)} | "
                  f"{sum(a == d for d, a in rows)} | {', '.join(f'{a} x{n}' for a, n in wrong.most_common())} |")
        texts = ("4", "5", "7", "375", "86")
        pages = {f"page-{t}-{m}-{p}": pasted(t, m, p) for t in texts for m in (0, 8, 40) for p in (215, 235, 245)}
        got = answers(predictor, pages, folder)
        print("\n| margin | pictures | `predict` right | `read` right |\n|---|---|---|---|")
        for m in (0, 8, 40):
            rows = [(n.split("-")[1], *got[n]) for n in got if n.split("-")[2] == str(m)]
            right = sum((a == int(t)) if len(t) == 1 else a is None for t, a, _ in rows)
            print(f"| {m} px | {len(rows)} | {right} | {sum(r == t for t, _, r in rows)} |")
    return 0


if __name__ == "__main__":
    run_tool(main)
