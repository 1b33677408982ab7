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
