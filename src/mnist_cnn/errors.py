"""The one exception type for a user's mistake.

A `UserError` carries a single line that names the file or field, what was
expected and what was found. The CLI prints it as `mnist-cnn: <line>` and exits
with its `exit_code`; anything else that escapes is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input from the user: one clear line, non-zero exit, no traceback."""

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(UserError):
    """A setting out of range: `field` names it (a TrainConfig field), the message what was expected and found.

    Library code names fields; the CLI shows `field` as its `--flag`.
    """

    def __init__(self, field_name: str, what: str):
        super().__init__(f"{field_name}: {what}")
        self.field, self.what = field_name, what


class TrainingDiverged(UserError):
    """The loss became NaN or infinite: the settings' fault, not a bug (a sweep marks such a trial FAIL and goes on)."""

    exit_code = 1


def run_tool(main) -> None:
    """A tools/ script's entry: its main()'s return value as the exit code, a UserError as its one line (exit 2)."""
    import sys

    try:
        code = main()
    except UserError as e:
        print(f"{sys.argv[0]}: {e}", file=sys.stderr)
        code = e.exit_code
    sys.exit(code)
