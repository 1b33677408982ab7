"""imagefile.py's OpenCV path for whole 8-bit greyscale PNGs: Pillow's pixels, and every other PNG left to Pillow."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps, PngImagePlugin

from mnist_cnn import imagefile
from mnist_cnn.errors import UserError
from mnist_cnn.imagefile import MAX_IMAGE_PIXELS, load_grey


def png(img, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **kw)
    return buf.getvalue()


def pillows(data: bytes) -> np.ndarray:
    """What Pillow's path makes of the file: the oracle."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return imagefile.grey(ImageOps.exif_transpose(img))


@pytest.fixture(scope="module")
def page():
    """A noisy grey page with a dark blob: (120, 90) uint8."""
    rng = np.random.default_rng(3)
    a = np.clip(rng.normal(200, 20, (120, 90)), 0, 255)
    a[40:80, 30:60] *= 0.2
    return Image.fromarray(a.astype(np.uint8))


def with_text(img):
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "a scanner")
    info.add_itxt("Comment", "écrit à la main", zip=True)
    return png(img, pnginfo=info, dpi=(300, 300))  # tEXt, iTXt, pHYs


@pytest.mark.parametrize("make", [lambda p: png(p), lambda p: png(p, compress_level=0), with_text,
                                  lambda p: png(p.crop((0, 0, 1, 1)))], ids=["plain", "stored", "text", "1x1"])
def test_plain_grey_pngs_decode_by_opencv_to_pillows_pixels(page, make):
    data = make(page)
    fast = imagefile._plain_png(data, MAX_IMAGE_PIXELS, None)
    assert fast is not None and fast.dtype == np.uint8
    got = load_grey(data)
    assert got.dtype == np.float32 and np.array_equal(got, pillows(data))


@pytest.mark.parametrize("make", [
    lambda p: png(p, transparency=200),  # tRNS: transparency to composite
    lambda p: png(p, exif=_turned()),  # eXIf: an orientation to apply
    lambda p: png(p.convert("RGB")),
    lambda p: png(p.convert("LA")),
    lambda p: png(p.convert("P")),
    lambda p: png(Image.fromarray(np.asarray(p).astype(np.uint16) * 257)),
    lambda p: png(p.point(lambda v: 255 * (v > 128)).convert("1")),
], ids=["tRNS", "eXIf", "RGB", "LA", "P", "16-bit", "1-bit"])
def test_other_pngs_are_left_to_pillow(page, make):
    data = make(page)
    assert imagefile._plain_png(data, MAX_IMAGE_PIXELS, None) is None
    assert np.array_equal(load_grey(data), pillows(data))


def _turned():
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif


def test_limits_leave_the_file_to_pillow(page):
    data = png(page)
    assert imagefile._plain_png(data, 120 * 90 - 1, None) is None
    assert imagefile._plain_png(data, MAX_IMAGE_PIXELS, 100) is None
    with pytest.raises(UserError, match="image too large"):
        load_grey(data, max_pixels=1000)
    assert load_grey(data, max_side=60).shape == (60, 45)


def test_damaged_pngs_are_left_to_pillow_and_nothing_comes_from_libpng(page, capfd):
    data = png(page)
    flipped = bytearray(data)
    flipped[data.index(b"IDAT") + 40] ^= 0xFF  # the CRC no longer matches
    for bad in (bytes(flipped), data[: len(data) * 2 // 3], data[:-12]):  # damaged, cut short, no IEND
        assert imagefile._plain_png(bad, MAX_IMAGE_PIXELS, None) is None
        try:
            expected = pillows(bad)
        except (OSError, SyntaxError, ValueError):
            with pytest.raises(UserError, match=r"^upload: truncated or corrupt image \("):
                load_grey(bad)
        else:  # Pillow reads on where libpng would stop
            assert np.array_equal(load_grey(bad), expected)
    assert "libpng" not in capfd.readouterr().err


def test_a_broken_stream_behind_right_crcs_still_gets_pillows_error(page):
    data = png(page)
    at = data.index(b"IDAT") - 4
    size = struct.unpack_from(">I", data, at)[0]
    body = bytearray(data[at + 8 : at + 8 + size])
    body[20:40] = bytes(20)
    chunk = data[at : at + 8] + bytes(body) + struct.pack(">I", zlib.crc32(b"IDAT" + bytes(body)))
    bad = data[:at] + chunk + data[at + 12 + size :]
    with pytest.raises(UserError, match="truncated or corrupt image"):
        load_grey(bad)
