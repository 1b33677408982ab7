"""Reading a person's image file or upload into a grey image, safely.

    from mnist_cnn.imagefile import load_image
    img = load_image("photo.jpg")                     # "F" Pillow image in [0, 1], EXIF-turned, alpha composited
    img = load_image(upload_bytes, name="d.png", max_side=1024)   # reduced on read (the server's uploads)
    a = load_grey("photo.jpg")                        # the same as a float32 array (for images.to_mnist)
    img = load_image(Path("-"))                       # the image on standard input (STDIN), read once

Everything that can be refused is refused before it costs much: a file over MAX_FILE_BYTES by its
size, a file over HEADER_FIRST that is no image by its header before it is read (Pillow identifies the
format from the first bytes), and an image over `max_pixels` by the size in its header, before
decoding. Errors are one-line
UserErrors naming the file.
"""

import functools
import io
import re
import struct
import sys
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import UserError

MAX_IMAGE_PIXELS = 40_000_000  # any phone photo or A4 scan at 600 dpi; takes ~1.3 GB to process; more is a bomb
# People's images are read reduced to this longer side by predict, read and serve alike (max_side=MAX_SIDE): a digit a
# tenth of the frame is still 100 px tall. 3000-4000 px JPEG photos (tools/big_photos.py, the `fast` model) read as well
# as at full size or better (digits 60-700 px: 95.0% against 92.5%; 40-150 px: 90.0% against 86.2%) for a sixth of the
# CPU (37 against 224-242 ms an image, class A).
MAX_SIDE = 1024
MAX_FILE_BYTES = 200 * 2**20  # an uncompressed 40 MP RGB TIFF is 120 MB; a bigger file is no digit's picture
# A larger file is refused from its header before it is read whole; a smaller one is read at once (opening it twice
# cost ~30 us of a 160x160 PNG's ~1 ms in `mnist-cnn predict`, and its bytes are checked as they decode anyway).
HEADER_FIRST = 2**20
ORIENTATION, TURNED = 0x0112, (5, 6, 7, 8)  # the EXIF tag, and its values that turn the picture a quarter
STDIN = "-"  # the path that names standard input, as for cat and tar: `curl URL | mnist-cnn predict -`
STDIN_NAME = "standard input"  # how errors name it
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The major brands (bytes 8-12, after "ftyp") of HEIF photos, as iPhones save them (.heic): Pillow reads them through
# pillow-heif's plugin, registered on the first such file (its import costs ~80 ms).
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
# Chunks that change no pixel of an 8-bit greyscale PNG: no transparency, palette or gamma, and no text (Pillow takes
# an orientation from XMP or ImageMagick's raw EXIF profile in a text chunk, as from eXIf)
PNG_PLAIN = {b"IHDR", b"IDAT", b"IEND", b"tIME", b"pHYs"}
# Formats Pillow opens but renders by running another program: EPS through Ghostscript (a PostScript `{} loop` never
# ends, and no limit here bounds it)
EXTERNAL = {"EPS": "a PostScript (EPS) file, which only Ghostscript renders"}


def load_image(source, *, name=None, max_pixels=MAX_IMAGE_PIXELS, max_side=None):
    """Read a path or bytes into a greyscale Pillow "F" image with values in [0, 1].

    Decodes fully, applies the EXIF orientation, takes the first frame of an
    animation and composites transparency so transparent pixels carry no ink.
    `name` names a bytes source in error messages (default "upload").
    `max_pixels` refuses larger images from their header, before decoding.
    `max_side` reads a larger image reduced so its longer side is at most that
    (a JPEG decoded at 1/2, 1/4 or 1/8 scale, then box-averaged), for callers
    that only need the digit's shape; `max_pixels` applies to the reduced decode.
    Raises UserError with one line naming the file on any bad input.
    """
    return Image.fromarray(load_grey(source, name=name, max_pixels=max_pixels, max_side=max_side))


def load_grey(source, *, name=None, max_pixels=MAX_IMAGE_PIXELS, max_side=None) -> np.ndarray:
    """`load_image` as a float32 array in [0, 1] (what `images.to_mnist` works on: no copy into a Pillow image
    and back, ~0.1 ms of a 280x280 drawing's ~2)."""
    return load_sized(source, name=name, max_pixels=max_pixels, max_side=max_side)[0]


def load_sized(source, *, name=None, max_pixels=MAX_IMAGE_PIXELS, max_side=None) -> tuple[np.ndarray, tuple[int, int]]:
    """`load_grey`'s array and the (width, height) of the picture as stored, turned upright by its EXIF orientation:
    what pixel positions in the array, reduced to `max_side`, are mapped back to."""
    name, data = _bytes(source, name)
    # Files only: an upload built to get past _plain_png's checks would have libpng print on the server's stderr
    plain = None if isinstance(source, (bytes, bytearray, memoryview)) else _plain_png(data, max_pixels, max_side)
    if plain is not None:
        return _unit(plain), plain.shape[::-1]
    with _reading(name, max_pixels):
        with Image.open(io.BytesIO(data)) as img:
            stored = img.size  # before a JPEG's reduced decode (draft)
            _check_size(img, name, max_pixels, max_side)
            # No draft for images within max_side: JPEGs decoded straight to luma or at 1/2 size come 2x faster,
            # but the digit then differs (by up to 0.25 on a red-ink photo; a thin-stroke decision flipped).
            img.load()
            size = stored if img.format in ("JPEG", "MPO") else img.size  # an icon's loaded size is its largest's
            size = size[::-1] if img.getexif().get(ORIENTATION) in TURNED else size  # EXIF's, or XMP's through it
            ImageOps.exif_transpose(img, in_place=True)  # in place: no copy when there is nothing to turn
            lum = grey(_reduce(img, max_side) if max_side else img)
    return (shrink(lum, max_side) if max_side else lum), size


def _plain_png(data: bytes, max_pixels: int, max_side) -> np.ndarray | None:
    """A local 8-bit greyscale PNG's (H, W) uint8 pixels, decoded by OpenCV, when the file is whole (a valid IHDR
    first, every chunk there with its CRC right, up to IEND) and holds nothing Pillow's path would act on (PNG_PLAIN's
    chunks only) within the limits; else None, and Pillow's path reads the file and words any error. Pillow's path
    gives the same pixels."""
    # OpenCV's libpng decodes such a PNG in ~300 us against Pillow's ~400 with its image object (a 160x160 scan's
    # noise: ~1/12 of `mnist-cnn predict`'s time an image). libpng prints its own errors on stderr: the checks keep
    # damaged files off it, and only a file built to have right CRCs around a broken stream gets past them.
    if not data.startswith(PNG_SIGNATURE) or len(data) < 45 or data[8:16] != b"\x00\x00\x00\rIHDR":
        return None
    width, height, depth, colour, compression, filtering, interlace = struct.unpack_from(">IIBBBBB", data, 16)
    if (depth, colour, compression, filtering) != (8, 0, 0, 0) or interlace > 1 \
            or not 0 < width * height <= max_pixels or (max_side and max(width, height) > max_side):
        return None
    view, at = memoryview(data), len(PNG_SIGNATURE)
    while at + 12 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        end = at + 12 + size
        if kind not in PNG_PLAIN or (kind == b"IHDR") != (at == len(PNG_SIGNATURE)) or end > len(data) or \
                zlib.crc32(view[at + 4:end - 4]) != int.from_bytes(view[end - 4:end], "big"):
            return None
        if kind == b"IEND":
            return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        at = end
    return None


def image_pixels(source, *, name=None, max_pixels=MAX_IMAGE_PIXELS, max_side=None) -> int:
    """The pixel count `load_image` with these arguments would decode, read from the header alone."""
    name, data = _bytes(source, name)
    with _reading(name, max_pixels):
        with Image.open(io.BytesIO(data)) as img:
            return _check_size(img, name, max_pixels, max_side)


def _bytes(source, name):
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, data = name or "upload", bytes(source)
    elif str(source) == STDIN:
        name, data = name or STDIN_NAME, _stdin()
        if isinstance(data, UserError):
            raise data
    else:
        name = name or str(source)
        data = _read(Path(source), name)
    if not data:
        raise UserError(f"{name}: empty file (0 bytes)")
    _heif_plugin(data[:12], name)
    return name, data


@contextmanager
def _reading(name, max_pixels):
    """Pillow's and the decoders' exceptions -> UserError naming the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Pillow's notes on metadata it skips (corrupt EXIF, a tag's bad count) are not the user's to read: the
            # pixels decode, and two lines of Pillow's source on stderr named no file
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            yield
    except UnidentifiedImageError:
        raise UserError(f"{name}: not an image Pillow can read (cannot identify image file)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:  # Pillow's own, larger limit
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        raise _too_large(f"{int(pixels.group(1)):,} pixels" if pixels else str(e), name, max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as e:
        raise UserError(f"{name}: truncated or corrupt image ({e})") from None


def _check_size(img, name, max_pixels, max_side):
    """Refuse a format that runs a program (EXTERNAL), ask a JPEG decoder for a reduced decode (draft), then refuse
    over `max_pixels`; the pixels to decode."""
    if img.format in EXTERNAL:
        raise UserError(f"{name}: {EXTERNAL[img.format]}; expected a picture (PNG, JPEG, ...)")
    if max_side and max(img.size) > max_side:
        w, h = img.size
        img.draft(None, (max(1, w * max_side // max(w, h)), max(1, h * max_side // max(w, h))))
    pixels = img.size[0] * img.size[1]
    if pixels > max_pixels:
        raise _too_large(f"{pixels:,} pixels", name, max_pixels)
    return pixels


def _reduce(img, max_side):
    """Box-average a decoded image by the smallest whole factor that brings its longer side to `max_side`
    or less, before the float conversion (cheaper); modes Pillow cannot average are left to `shrink`."""
    f = -(-max(img.size) // max_side)
    if f <= 1:
        return img
    if img.mode in ("P", "PA", "1") or "transparency" in img.info:
        img = img.convert("RGBA")  # palette indices cannot be averaged; transparency becomes alpha
    return img.reduce(f) if img.mode in ("L", "LA", "RGB", "RGBA", "I", "F") else img


def shrink(grey, max_side):
    """Box-average by the smallest whole factor that brings the longer side to `max_side` or less (an array: as
    `load_grey` reduces an image, e.g. POST /api/read's JSON pixels as its uploads)."""
    f = -(-max(grey.shape) // max_side)
    return grey if f <= 1 else np.asarray(Image.fromarray(grey).reduce(f))


def _read(path, name):
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES and path.is_file():
            raise UserError(f"{name}: file too large for a picture of a digit ({size:,} bytes; limit "
                            f"{MAX_FILE_BYTES:,})")
        if size > HEADER_FIRST and path.is_file():
            with path.open("rb") as f:
                _heif_plugin(f.read(12), name)
            with _reading(name, MAX_IMAGE_PIXELS), Image.open(path):  # reads the header only: no image, no read
                pass
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{name}: no such file (expected an image file)") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a directory (expected an image file)") from None
    except OSError as e:
        raise UserError(f"{name}: cannot read file ({e.strerror or e})") from None


@functools.cache
def _stdin() -> bytes | UserError:
    """Standard input's bytes, or what is wrong with it, read once (a second "-" gets the same)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None or stream.isatty():
        return UserError(f"{STDIN_NAME}: expected an image piped in (e.g. `mnist-cnn predict - < digit.png`), found "
                         f"{'a terminal' if stream is not None else 'none'}")
    try:
        data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as e:  # `mnist-cnn predict - < folder`
        return UserError(f"{STDIN_NAME}: cannot read ({e.strerror or e})")
    if len(data) > MAX_FILE_BYTES:
        return UserError(f"{STDIN_NAME}: too large for a picture of a digit (over {MAX_FILE_BYTES:,} bytes)")
    return data


def _heif_plugin(head: bytes, name) -> None:
    """Register pillow-heif's Pillow plugin when `head` (a file's first 12 bytes) opens a HEIF photo."""
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        try:
            _register_heif()
        except ImportError:
            raise UserError(f"{name}: a HEIC/HEIF photo; reading it needs the Python package pillow-heif "
                            f"(pip install pillow-heif)") from None


@functools.cache
def _register_heif() -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _too_large(found, name, limit):
    return UserError(f"{name}: image too large ({found}; limit {limit:,})")


def grey(image):
    """Any Pillow mode or 2-D array -> float32 luminance in [0, 1], transparency composited (may be read-only); a
    colour picture flat in luminance along its colours' main axis instead (FLAT)."""
    if not isinstance(image, Image.Image):
        a = np.asarray(image)
        a = a[..., 0] if a.ndim == 3 and a.shape[-1] == 1 else a  # Keras-style (28, 28, 1)
        if a.ndim != 2:
            raise ValueError(f"expected a 2-D greyscale array, got shape {a.shape}")
        return _unit(a)
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        return _unit(np.asarray(image))
    if image.mode == "LAB":
        return _unit(np.asarray(image.getchannel("L")))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image if image.mode == "RGBA" else (image.convert("LA") if image.mode == "La" else image).convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
        if cv2.minMaxLoc(alpha)[0] < 255:  # else opaque (a canvas export): compositing would change nothing
            return _composite(_unit(np.asarray(rgba.convert("L"))), _unit(alpha))
        image = rgba
    lum = _unit(np.asarray(image if image.mode == "L" else image.convert("L")))
    return lum if image.mode in ("L", "1") or _spread(lum) >= FLAT else _colour_axis(image.convert("RGB"), lum)


def _spread(a) -> float:
    low, high = cv2.minMaxLoc(cv2.blur(a, (3, 3)))[:2]
    return high - low


def _colour_axis(rgb, lum):
    """A picture whose luminance is flat but not its colours (red ink on a blue card, green on red) along the colours'
    main axis: the first principal component of its pixels, L1-normalised and shifted into [0, 1], so that a grey
    picture's axis gives its luminance's scale and a faint one stays faint; lum if that spreads no more."""
    # By hand: a 3x3 covariance and its eigenvector; no library call finds "the ink's colour against the paper's".
    a = np.asarray(rgb, np.float32) / np.float32(255)
    sample = a.reshape(-1, 3)[:: max(1, a.shape[0] * a.shape[1] // COLOUR_SAMPLES)].astype(np.float64)
    sample -= sample.mean(axis=0)
    # einsum, not np.cov's `@`: OpenBLAS threads would collide with a runtime's in the server (images.py, _fit)
    axis = np.linalg.eigh(np.einsum("ni,nj->ij", sample, sample))[1][:, -1]
    axis /= np.abs(axis).sum()
    projected = cv2.transform(a, axis[None].astype(np.float32)) - np.float32(axis[axis < 0].sum())
    return projected if _spread(projected) > _spread(lum) else lum


def _unit(a):
    """Divide by the smallest of 1, 255, 65535 covering the data: [0, 1] floats stay, 8/16-bit ints map to [0, 1]."""
    if a.dtype.kind == "u":  # unsigned pixels: nothing to check but the top, then one pass
        top = int(a.max(initial=0))
        return np.divide(a, np.float32(next((f for f in (1, 255, 65535) if top <= f), top)), dtype=np.float32)
    a = a.astype(np.float32, copy=False)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if not np.isfinite(lo + hi):  # NaN or inf somewhere: NaN 0, inf the finite extremes (+-3.4e38 overflowed)
        finite = a[np.isfinite(a)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        a = np.nan_to_num(a, nan=0.0, posinf=hi, neginf=lo)
        lo, hi = float(a.min()), float(a.max())
    if lo < 0:
        a, hi = a - np.float32(lo), float(np.float32(hi) - np.float32(lo))
    full = next((f for f in (1.0, 255.0, 65535.0) if hi <= f), hi)
    return a if full == 1.0 else a / np.float32(full)


FLAT = 0.1  # a colour picture whose 3x3-blurred luminance spans less (images.MIN_CONTRAST: to_mnist would find no ink
# there) is read along its colours' main axis instead (_colour_axis); others keep their luminance exactly
COLOUR_SAMPLES = 20_000  # pixels sampled to find that axis: plenty for a 3x3 covariance, fast on any photo
ONE_COLOUR = 0.1  # opaque luminances within 10% of full scale: one ink colour (a page shows ink on it too)


def _composite(lum, alpha):
    # Transparent pixels must read as "no ink" whichever colour the ink is.
    # Mostly transparent: the opaque part is the ink, so fill with its opposite.
    # Mostly opaque: the transparent part is a hole in the paper, so fill with the paper;
    # unless the opaque part is one colour and leaves most of the edge transparent:
    # then it is thick ink cropped tight (touching the edge in places), not a page.
    opaque = alpha > 0.5
    if not opaque.any():
        return np.zeros_like(lum)
    level = float(np.median(lum[opaque]))
    edge = np.concatenate([opaque[0], opaque[-1], opaque[:, 0], opaque[:, -1]])
    ink = np.ptp(lum[opaque]) < ONE_COLOUR and edge.mean() < 0.5
    fill = level if opaque.mean() > 0.5 and not ink else float(level < 0.5)
    return lum * alpha + fill * (1 - alpha)
