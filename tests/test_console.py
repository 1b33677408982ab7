import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_cnn.console import csv_text, shown, table

SRC = Path(__file__).resolve().parents[1] / "src"


def test_names_with_control_characters_are_escaped():
    assert shown("plain name.png") == "plain name.png"
    assert shown("a\nb") == "a\\nb"
    assert shown("\x1b]0;pwned\x07x.png") == "\\x1b]0;pwned\\x07x.png"
    assert len(table([("path", "digit"), ("evil\nrow  7", "3")]).splitlines()) == 3


def test_csv_text_reads_back_the_same_rows_whatever_the_file_names():
    rows = [("path", "digit", "confidence"), ("plain.png", "7", "0.9900"), ("t\rx.png", "3", ""),
            ("a,b \"c\".png", "", ""), ("line\nbreak.png", "1", "0.5000"), ("cr at end\r", "2", "")]
    text = csv_text(rows)
    assert list(csv.reader(io.StringIO(text, newline=""))) == [list(r) for r in rows]
    assert text.splitlines()[:2] == ["path,digit,confidence", "plain.png,7,0.9900"]  # plain rows stay unquoted
    assert not text.endswith("\n")


def test_table_aligns_columns_and_writes_markdown():
    text = table([("name", "acc"), ("long-name", "99.1%"), ("b", "1%")])
    lines = text.splitlines()
    assert lines[0] == "name       acc" and lines[1] == "---------  -----" and lines[2] == "long-name  99.1%"
    assert table([("a", "b"), ("1", "2")], markdown=True) == "| a | b |\n|---|---|\n| 1 | 2 |"


def test_json_text_is_json_dumps_indented_and_ascii_whatever_the_names():
    import json

    from mnist_cnn.console import json_text

    record = {"path": "scans/a.png", "digit": 7, "confidence": 0.9987, "rejected": False, "message": None,
              "top_k": [{"digit": 7, "probability": 0.9987}, {"digit": 1, "probability": 0.25}], "boxes": []}
    assert json_text([record, record]) == json.dumps([record, record], indent=2)  # orjson's path: the same text here
    tiny = {**record, "top_k": [{"digit": 3, "probability": 3.2e-07}, {"digit": 5, "probability": 1e-05}]}
    assert json.loads(json_text([tiny])) == [tiny]  # and the same values where a number is spelt otherwise
    assert json_text([]) == "[]"
    name = "caf\u00e9 \u4e03.png"
    text = json_text([{**record, "path": name}])
    assert text.isascii() and json.loads(text)[0]["path"] == name


def test_a_file_names_undecodable_bytes_are_written_as_xnn_in_json_and_tables():
    """A Linux file name's undecodable byte reaches Python as a lone surrogate; JSON escaping it ("\\udcff") is no
    Unicode, which strict readers refuse (orjson, JavaScript's encodeURIComponent): written \\xff, the byte, as text."""
    import orjson

    from mnist_cnn.console import json_text

    name = os.fsdecode(b"raw-\xff\xfe-caf\xc3\xa9.png")
    text = json_text([{"path": name, "top_k": [{"digit": 7}], name: ("\ud800",)}])
    assert text.isascii()
    assert orjson.loads(text) == [{"path": "raw-\\xff\\xfe-caf\u00e9.png", "top_k": [{"digit": 7}],
                                   "raw-\\xff\\xfe-caf\u00e9.png": ["\\ud800"]}]
    assert shown(name) == "raw-\\xff\\xfe-caf\u00e9.png" and shown("a\nb") == "a\\nb"
    assert orjson.loads(json_text({1: name})) == {"1": "raw-\\xff\\xfe-caf\u00e9.png"}  # a key orjson refuses: json's


def test_progress_ends_its_line_before_any_other_even_when_the_loop_stops(capsys):
    import pytest

    from mnist_cnn.console import Progress

    with pytest.raises(RuntimeError):
        with Progress(on=True) as progress:
            progress.show("1/9 images")
            progress.say("mnist-cnn: bad.png: not an image")
            progress.show("2/9 images")
            raise RuntimeError  # a full disk stopping the loop: the CLI's line for it comes after this one
    assert capsys.readouterr().err == "\r1/9 images\nmnist-cnn: bad.png: not an image\n\r2/9 images\n"
    with Progress(on=False) as progress:
        progress.show("1/9 images")
        progress.say("mnist-cnn: bad.png: not an image")
    assert capsys.readouterr().err == "mnist-cnn: bad.png: not an image\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("size", [10, 100_000])  # held in stdout's buffer until exit; written at once
def test_results_on_a_full_disk_are_one_line_and_no_traceback_even_at_exit(size):
    """`mnist-cnn predict ... --csv > results.csv` on a full disk: print's OSError was a traceback, and the bytes
    left in stdout's buffer failed again at the interpreter's exit ("Exception ignored ... OSError")."""
    code = ("import sys\nfrom mnist_cnn.console import print_results\nfrom mnist_cnn.errors import UserError\n"
            f"try:\n    print_results('x' * {size})\n"
            "except UserError as e:\n    print(e, e.exit_code, file=sys.stderr)\n")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-c", code], stdout=full, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
    assert done.stderr == "standard output: cannot write the results (No space left on device) 1\n"
    assert done.returncode == 0
