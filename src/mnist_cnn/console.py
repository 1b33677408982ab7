"""What the user sees on a terminal: progress lines on stderr, tables, and names printed safely.

    from mnist_cnn.console import stderr_report, table, shown
    stderr_report("fetching MNIST")                       # one line on stderr, flushed
    warn("runs/x/metrics.json: ...; run skipped")          # the same in the program's name: "mnist-cnn: ..."
    print(table([("name", "acc"), ("a", "99.1%")]))       # aligned columns (markdown=True: a Markdown table)
    print(shown(path))                                     # a file name with control characters escaped
    print(json_text([{"path": "a.png", "digit": 7}]))     # --json output: indented, ASCII only
    print(csv_text([("path", "digit"), ("a.png", 7)]))    # --csv output: one row a line, any file name quoted safely
    print_results(csv_text)                                # stdout, a file name's undecodable bytes as they are
    with Progress(on=True) as progress: progress.show("3/9"); progress.say("an error")   # a line of its own
    exit_now(code)                                         # output flushed, the process ended (no teardown)

Library code takes a `report` callable (default: silent) and never prints; the CLI passes
`stderr_report`. This is the one table formatter of the package.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from typing import Callable, Sequence

Report = Callable[[str], None]


def quiet(_: str) -> None:
    """A report that says nothing (the library's default)."""


def stderr_report(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    """One line on stderr in the program's name, its control characters escaped: the CLI's report for what a library
    call skipped (a malformed run folder while listing runs or picking the default model)."""
    print(f"mnist-cnn: {shown(message)}", file=sys.stderr, flush=True)


def shown(text) -> str:
    """str(text) with control characters (newlines, escape codes, terminal titles) escaped.

    A file or run name is user data: printed raw, a newline forges a table row and an escape
    sequence recolours or retitles the terminal.
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _byte(c) or c.encode("unicode_escape").decode("ascii") for c in text)


def _byte(c: str) -> str:
    """A file name's undecodable byte (os.fsdecode's surrogate escape U+DC80-U+DCFF) as \\xNN, the byte; else ""."""
    return f"\\x{ord(c) - 0xDC00:02x}" if "\udc80" <= c <= "\udcff" else ""


def _valid(value):
    """value with every lone surrogate in its strings written out as text (\\xNN for a file name's undecodable byte,
    \\udXXX for any other): JSON with them escaped is no Unicode, and strict readers (orjson, JavaScript's
    encodeURIComponent) refuse it."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value  # no lone surrogate: the usual case, at C speed
        except UnicodeEncodeError:
            return "".join(_byte(c) or c.encode("unicode_escape").decode("ascii") if "\ud800" <= c <= "\udfff" else c
                           for c in value)
    if isinstance(value, dict):
        return {_valid(k): _valid(v) for k, v in value.items()}
    return [_valid(v) for v in value] if isinstance(value, (list, tuple)) else value


class Progress:
    """A progress line on stderr, redrawn in place (\\r) when `on`; a message said while it is there starts a line of
    its own, below it, not glued to the count (a folder's bad file amid `predict`'s or `read`'s progress)."""

    def __init__(self, on: bool):
        self.on, self.drawn = on, False

    def show(self, text: str) -> None:
        if self.on:
            print(f"\r{text}", end="", file=sys.stderr, flush=True)
            self.drawn = True

    def say(self, line: str) -> None:
        self.end()
        print(line, file=sys.stderr, flush=True)

    def end(self) -> None:
        """Finish the line drawn, if any: what follows starts a line of its own."""
        if self.drawn:
            print(file=sys.stderr, flush=True)
            self.drawn = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):  # an error that stops the loop, too, is then said on a line of its own
        self.end()


def print_results(text: str) -> None:
    """print(text) on stdout, a file name's undecodable bytes (held as surrogate escapes) written as the bytes they
    were, so that --csv names the very file: a strict stdout (any xx_XX.UTF-8 locale) refuses them with a traceback.
    stdout that cannot take it (`> results.csv` on a full disk) is a UserError; a closed pipe stays BrokenPipeError."""
    try:
        _print_results(text)
    except BrokenPipeError:
        raise
    except OSError as e:
        from .errors import UserError

        _drop_stdout()
        raise UserError(f"standard output: cannot write the results ({e.strerror or e})", exit_code=1) from None


def _print_results(text: str) -> None:
    try:
        print(text, flush=True)
    except UnicodeEncodeError:  # raised before anything is written: the whole text is encoded first
        encoding = sys.stdout.encoding or "utf-8"
        try:
            data = (text + "\n").encode(encoding, "surrogateescape")
        except UnicodeEncodeError:  # also a character the terminal's encoding lacks (e.g. ASCII): escaped
            data = (text + "\n").encode(encoding, "backslashreplace")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's flush at exit does not fail again on what is left in its
    buffer ("Exception ignored ... OSError"), as Python's documentation does for a closed pipe."""
    import os

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def table(rows: Sequence[Sequence], markdown: bool = False) -> str:
    """Rows of cells (the first row is the header) as aligned text columns or a Markdown table."""
    cells = [[shown(c) for c in row] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in cells]
        lines.insert(1, "|" + "---|" * len(cells[0]))
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def json_text(value) -> str:
    """JSON text of value, indented by 2 and ASCII (non-ASCII characters as \\u escapes), by orjson when it can: json's
    pure-Python indenting encoder took 60 ms of `predict --json`'s ~2 s on 2,000 images, orjson 2 ms. The same values
    as json.dumps(value, indent=2), not always the same text: 1e-07 is written 1e-7, a DEL character raw."""
    import orjson

    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONEncodeError:  # a file name's undecodable bytes (lone surrogates)...
        value = _valid(value)
        try:
            text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        except orjson.JSONEncodeError:  # ...or a value json takes and orjson does not (a key that is no string)
            text = ""
    return text if text.isascii() and text else json.dumps(value, indent=2)


def csv_text(rows) -> str:
    """CSV text of rows, one a line ("\\n"), without a final newline. A row with a carriage return in a field (a file
    name may hold one) is written with every field quoted: csv quotes only the line terminator's characters, and an
    unquoted "\\r" split the row in two for csv.reader."""
    out = io.StringIO()
    plain, quoted = (csv.writer(out, lineterminator="\n", quoting=q) for q in (csv.QUOTE_MINIMAL, csv.QUOTE_ALL))
    for row in rows:
        (quoted if any("\r" in str(field) for field in row) else plain).writerow(row)
    return out.getvalue().removesuffix("\n")


def exit_now(code: int) -> None:
    """End the process with `code` once its output is flushed, without the interpreter's teardown (the CLI's
    QUICK_EXIT commands, `predict` and `read`): unloading ONNX Runtime, OpenCV, NumPy (and TensorFlow) took ~50 ms of
    `predict`'s ~2 s on 2,000 PNGs (tools/predict_speed.py, class C). By then their worker pools are shut down and
    every file they wrote is closed; only the output is buffered.
    Not under a profiler or a coverage tracer, which write their figures at the teardown."""
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12+: coverage's and profilers' other way in
    watched = monitoring and any(monitoring.get_tool(t) for t in (monitoring.COVERAGE_ID, monitoring.PROFILER_ID))
    if sys.gettrace() is not None or sys.getprofile() is not None or watched:
        return
    for stream in (sys.stdout, sys.stderr):  # None when the process was started with it closed (`>&-`)
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:  # `| head`: as main answers one
            code = 141 if stream is sys.stdout else code
        except (OSError, ValueError):  # a full disk, a stream already closed: nothing more can be said there
            pass
    os._exit(code)
