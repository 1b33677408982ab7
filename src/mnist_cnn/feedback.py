"""The feedback folder: the web page's corrections ("Wrong? Tell it") as labelled 28x28 PNGs.

    from mnist_cnn.feedback import FeedbackStore
    store = FeedbackStore("runs/NAME/feedback")    # max_items, max_bytes: the caps (defaults below)
    store.save(pixels, 7)                          # (28, 28) floats in [0, 1], label 0-9 or "not a digit"
    store.counts()                                 # {"total": 3, "bytes": 1234, "labels": {"7": 2, ...}, ...}

`mnist-cnn serve` saves into RUN/feedback/ (the served model's run folder) unless --feedback-dir
says otherwise; `mnist-cnn train --extra-data FOLDER` and `mnist-cnn finetune RUN --extra-data
FOLDER` read the same layout, which is also the simple one to make by hand:

    FOLDER/7/20261201-021500-3f2a9c1d04e5.png      a digit: white ink on black, 8-bit grey, 28x28
    FOLDER/not-a-digit/...png                      ink that is no digit (skipped by 10-class training)

Every file is written whole (a temporary file, then a hard link to its final name: an existing
file is never replaced) under a unique name (UTC time + 48 random bits). The counts come from the
disk: a label folder is listed again whenever its modification time moves (a file added, moved away
or deleted there), so files moved away (after a finetune, say) free their room at once, while a
GET /api/feedback at the 10,000-file cap costs 11 stat calls, not 10,000 (88 ms a call, which let a
client looping GETs slow everyone's predictions).
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import files
from .errors import UserError
from .refusal import NOT_A_DIGIT, run_folder_of

FOLDER = "feedback"  # inside the served model's run folder: corrections stay with the model they correct
NOT_A_DIGIT_FOLDER = "not-a-digit"  # a folder name without spaces for the "not a digit" label
LABEL_FOLDERS = {str(d): d for d in range(10)} | {NOT_A_DIGIT_FOLDER: NOT_A_DIGIT}
MAX_ITEMS = 10_000  # far more than anyone corrects by hand; a 28x28 PNG is under 1 KB, so under 10 MB
MAX_BYTES = 20 * 2**20  # 20 MB: room for the 10,000 and for files put there by hand, bounded on a shared disk
NAME_TRIES = 5  # a name taken between choosing and linking (48 random bits: never in practice) is drawn again
FRESH = 2.0  # s: a folder changed this recently is listed on every call (its mtime may tick coarser than its changes)


class FeedbackFull(UserError):
    """The folder holds max_items files or max_bytes: nothing more is saved until some are moved away."""


def default_folder(model_path: str | os.PathLike) -> Path:
    """RUN/feedback for a run folder, its model.keras or one of its exports."""
    return run_folder_of(model_path) / FOLDER


def folder_name(label) -> str:
    """0-9 -> "0".."9"; "not a digit" -> "not-a-digit"; anything else is a UserError naming `label`."""
    if not (type(label) is int and 0 <= label <= 9 or label == NOT_A_DIGIT):  # no True, 7.0 or "7"
        raise UserError(f"label: expected a digit 0-9 or {NOT_A_DIGIT!r}, found {label!r}")
    return NOT_A_DIGIT_FOLDER if label == NOT_A_DIGIT else str(label)


def to_png(pixels) -> bytes:
    """(28, 28) numbers in [0, 1] (white ink on black) -> an 8-bit grey PNG; UserError naming `input` otherwise."""
    from PIL import Image

    a = np.asarray(pixels, dtype=np.float64)
    if a.shape != (28, 28) or not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
        raise UserError(f"input: expected 28x28 numbers in [0, 1], found shape {a.shape}")
    out = io.BytesIO()
    Image.fromarray(np.round(a * 255).astype(np.uint8), "L").save(out, "PNG", optimize=True)
    return out.getvalue()


class FeedbackStore:
    """A feedback folder with caps; safe for the server's threads (one writer at a time)."""

    def __init__(self, folder: str | os.PathLike, max_items: int = MAX_ITEMS, max_bytes: int = MAX_BYTES):
        self.folder, self.max_items, self.max_bytes = Path(folder), max_items, max_bytes
        self._lock = threading.Lock()
        self._listed: dict[str, tuple[int, int, int]] = {}  # label folder -> (its mtime_ns, files, bytes)
        self._made: Path | None = None  # the outermost folder prepare() created

    def prepare(self) -> "FeedbackStore":
        """Create the folder now (UserError naming it if that is impossible), so a bad path fails at start-up."""
        missing = [p for p in (self.folder, *self.folder.parents) if not p.exists()]
        files.make_dir(self.folder, "feedback_dir")
        self._made = missing[-1] if missing else None
        return self

    def abandon(self) -> None:
        """Remove the folders prepare() made, while still empty (the server did not start after all)."""
        if self._made is not None:
            with contextlib.suppress(OSError):  # not empty: kept, with the folders round it
                for folder in (self.folder, *self.folder.parents):
                    folder.rmdir()
                    if folder == self._made:
                        break

    def counts(self) -> dict:
        """What the folder holds: total files, bytes, per label ("0".."9", "not a digit"), and the caps."""
        labels, total, size = {}, 0, 0
        for name, label in LABEL_FOLDERS.items():
            n, b = self._count(name)
            labels[str(label)] = n
            total, size = total + n, size + b
        return {"total": total, "bytes": size, "labels": labels,
                "max_items": self.max_items, "max_bytes": self.max_bytes}

    def _count(self, name: str) -> tuple[int, int]:
        """(PNG files, bytes) in one label folder, listed again only when its mtime moved."""
        try:
            mtime = os.stat(self.folder / name).st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):
            return 0, 0
        if (seen := self._listed.get(name)) is not None and seen[0] == mtime:
            return seen[1:]
        n = size = 0
        try:
            with os.scandir(self.folder / name) as entries:
                for e in entries:
                    if e.name.endswith(".png") and not e.name.startswith(".") and e.is_file():
                        n, size = n + 1, size + e.stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return 0, 0
        if time.time_ns() - mtime > FRESH * 1e9:
            self._listed[name] = (mtime, n, size)
        return n, size

    def save(self, pixels, label) -> Path:
        """Write one correction; FeedbackFull when a cap would be passed. Returns the new file's path."""
        data, sub = to_png(pixels), folder_name(label)
        with self._lock:
            now = self.counts()
            if now["total"] >= self.max_items or now["bytes"] + len(data) > self.max_bytes:
                raise FeedbackFull(
                    f"feedback folder is full ({now['total']:,} images, {now['bytes']:,} bytes; limits "
                    f"{self.max_items:,} images, {self.max_bytes:,} bytes): move its files away, e.g. after "
                    f"`mnist-cnn finetune RUN --extra-data FOLDER`")
            folder = files.make_dir(self.folder / sub, "feedback folder")
            for _ in range(NAME_TRIES):
                path = folder / f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(6)}.png"
                try:
                    files.write_bytes(path, data, replace=False)
                    return path
                except FileExistsError:
                    continue
            raise UserError(f"{folder}: no free file name after {NAME_TRIES} tries")
