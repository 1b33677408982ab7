"""argparse pieces every `mnist-cnn` command shares: the parser class and the value types of its flags.

    from mnist_cnn.cli_args import Parser, path_arg, value_arg
    p.add_argument("--epochs", type=value_arg(int))   # "3" -> 3; "" or "3.5" or "３" -> one line, exit code 2
"""

from __future__ import annotations

import argparse
import json
import re

INT = re.compile(r"-?[0-9]+")  # ASCII digits only: int() would also take full-width and other scripts' digits
FLOAT = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")


class Parser(argparse.ArgumentParser):
    """argparse without abbreviations (a typo is an error), and a bad flag gives one line and exit code 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def value_arg(kind):
    """An argparse `type` for a field's type: ASCII numbers, non-empty strings, JSON objects."""
    def parse(text: str):
        if text == "":
            raise argparse.ArgumentTypeError("expected a value, found an empty string")
        if kind is int and not INT.fullmatch(text):
            raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}")
        if kind is float and not FLOAT.fullmatch(text):
            raise argparse.ArgumentTypeError(f"expected a number, found {text!r}")
        if kind is dict:
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if not isinstance(value, dict):
                raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"a\": 1}}', found {text!r}")
            return value
        return kind(text)
    parse.__name__ = kind.__name__
    return parse


def path_arg(text: str) -> str:
    """An argparse `type` for a path or a name: any non-empty string."""
    if text == "":
        raise argparse.ArgumentTypeError("expected a value, found an empty string")
    return text
