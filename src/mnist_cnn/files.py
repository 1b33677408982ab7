"""Writing files so that a crash or Ctrl-C never leaves one half-written.

Everything goes to a temporary file in the destination's folder (same file system), is flushed,
then renamed over the destination in one step (`os.replace` is atomic on POSIX).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path

from .errors import ConfigError, UserError

NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # a full disk or quota: the user's to fix, in one line
NAME_MAX = 255  # bytes in one file name on Linux's file systems (ext4, XFS, Btrfs, tmpfs) and macOS's APFS
# What a temporary name adds to its destination's (see atomic_path): "." NAME "." mkstemp's 8 letters ".part" SUFFIX
TEMP_EXTRA = len("..") + 8 + len(".part")
MAX_SUFFIX = 16  # bytes of dest's suffix kept in its temporary name; a longer "suffix" is part of a name (a.bbbb...)
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, replace: bool = True):
    """Yield a temporary path next to dest; on success it replaces dest, on any error it is removed.

    replace=False: never replace an existing dest (FileExistsError instead); the hard link is the atomic step."""
    dest = Path(dest)
    if (size := len(os.fsencode(dest.name))) > NAME_MAX:  # else os.replace fails at the end, the work done
        raise UserError(f"{dest}: expected a file name of at most {NAME_MAX} bytes, found {size}")
    # The name cut so that the temporary one fits NAME_MAX whenever dest's own does, keeping the ".NAME.*.part*" form;
    # the suffix kept only when short (writers that pick a format by it, as Keras's .keras, use short ones)
    suffix = dest.suffix if len(os.fsencode(dest.suffix)) <= MAX_SUFFIX else ""
    prefix = "." + cut_name(dest.name, NAME_MAX - TEMP_EXTRA - len(os.fsencode(suffix))) + "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".part" + suffix, dir=dest.parent)
    except OSError as e:  # a missing or read-only folder, a file system with shorter names, a full disk
        raise UserError(f"{dest}: cannot create a file there ({e.strerror or e})",
                        exit_code=1 if e.errno in NO_ROOM else None) from None
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a finished file gets the usual permissions
        yield Path(tmp)
        _move(tmp, dest, replace)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if e.errno in NO_ROOM:
            raise UserError(f"{dest}: cannot write ({e.strerror}); nothing half-written was left", exit_code=1) \
                from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _move(tmp: str, dest: Path, replace: bool) -> None:
    """The finished file onto dest; a folder there, or a folder that refuses the rename, is a UserError naming dest."""
    try:
        if replace:
            os.replace(tmp, dest)
        else:
            os.link(tmp, dest)
            Path(tmp).unlink()
    except FileExistsError:  # replace=False's own answer, for the caller to take
        raise
    except OSError as e:
        if e.errno in NO_ROOM:
            raise
        raise UserError(f"{dest}: cannot write there ({e.strerror or e}); nothing half-written was left") from None


def cut_name(name: str, room: int) -> str:
    """`name` cut at a character boundary to at most `room` bytes as a file name (undecodable bytes, held as
    surrogate escapes, count one each)."""
    size = 0
    for i, c in enumerate(name):
        size += len(os.fsencode(c))
        if size > room:
            return name[:i]
    return name


def short_stem(stem: str, tail: str) -> str:
    """`stem` cut so that the file name stem + tail fits NAME_MAX bytes (e.g. an input's stem in a saved name)."""
    return cut_name(stem, NAME_MAX - len(os.fsencode(tail)))


def write_bytes(dest: str | os.PathLike, data: bytes, replace: bool = True) -> None:
    with atomic_path(dest, replace) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def write_text(dest: str | os.PathLike, text: str) -> None:
    write_bytes(dest, text.encode("utf-8"))


def write_json(dest: str | os.PathLike, obj) -> None:
    write_text(dest, json.dumps(obj, indent=2) + "\n")


def make_dir(path: str | os.PathLike, what: str) -> Path:
    """Create folder `path` (and parents) for output named `what` (a setting's name, which the CLI shows as its flag,
    or words); a file in the way is a ConfigError naming it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(what, f"expected a folder, found a file at {path}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(what, f"cannot create folder {path} ({e.strerror or e})") from None
    return path
