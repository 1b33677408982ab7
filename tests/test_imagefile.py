"""imagefile.py's OpenCV path for whole 8-bit greyscale PNG files: Pillow's pixels, every other PNG left to Pillow."""

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


def fast(data: bytes):
    return imagefile._plain_png(data, MAX_IMAGE_PIXELS, None)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def with_chunk(data: bytes, extra: bytes) -> bytes:
    """The PNG with a chunk added right after IHDR."""
    return data[:33] + extra + data[33:]


@pytest.fixture(scope="module")
def page():
    """A noisy grey page with a dark blob: (120, 90) uint8."""
    rng = np.random.default_rng(3)
    a = np.clip(rng.normal(200, 20, (120, 90)), 0, 255)
    a[40:80, 30:60] *= 0.2
    return Image.fromarray(a.astype(np.uint8))


@pytest.mark.parametrize("make", [lambda p: png(p), lambda p: png(p, compress_level=0),
                                  lambda p: png(p, dpi=(300, 300)), lambda p: png(p.crop((0, 0, 1, 1)))],
                         ids=["plain", "stored", "pHYs", "1x1"])
def test_plain_grey_png_files_decode_by_opencv_to_pillows_pixels(page, make, tmp_path):
    data = make(page)
    assert fast(data) is not None and fast(data).dtype == np.uint8
    (tmp_path / "d.png").write_bytes(data)
    got = load_grey(tmp_path / "d.png")
    assert got.dtype == np.float32 and np.array_equal(got, pillows(data))


def test_uploads_are_left_to_pillow(page, monkeypatch):
    monkeypatch.setattr(imagefile, "_plain_png", lambda *a: pytest.fail("an upload took the OpenCV path"))
    assert np.array_equal(load_grey(png(page)), pillows(png(page)))


def _turned():
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif


def _text(*items):
    info = PngImagePlugin.PngInfo()
    for key, value in items:
        info.add_text(key, value)
    return info


XMP_TURNED = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              '<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF>'
              '</x:xmpmeta>')


@pytest.mark.parametrize("make", [
    lambda p: png(p, transparency=200),  # tRNS: transparency to composite
    lambda p: png(p, exif=_turned()),  # eXIf: an orientation to apply
    lambda p: png(p, pnginfo=_text(("XML:com.adobe.xmp", XMP_TURNED))),  # an orientation in XMP, a text chunk
    lambda p: png(p, pnginfo=_text(("Software", "a scanner"))),
    lambda p: png(p.convert("RGB")),
    lambda p: png(p.convert("LA")),
    lambda p: png(p.convert("P")),
    lambda p: png(Image.fromarray(np.asarray(p).astype(np.uint16) * 257)),
    lambda p: png(p.point(lambda v: 255 * (v > 128)).convert("1")),
], ids=["tRNS", "eXIf", "XMP", "tEXt", "RGB", "LA", "P", "16-bit", "1-bit"])
def test_other_pngs_are_left_to_pillow(page, make, tmp_path):
    data = make(page)
    assert fast(data) is None
    (tmp_path / "d.png").write_bytes(data)
    assert np.array_equal(load_grey(tmp_path / "d.png"), pillows(data))


def test_limits_leave_the_file_to_pillow(page, tmp_path):
    data = png(page)
    assert imagefile._plain_png(data, 120 * 90 - 1, None) is None
    assert imagefile._plain_png(data, MAX_IMAGE_PIXELS, 100) is None
    (tmp_path / "d.png").write_bytes(data)
    with pytest.raises(UserError, match="image too large"):
        load_grey(tmp_path / "d.png", max_pixels=1000)
    assert load_grey(tmp_path / "d.png", max_side=60).shape == (60, 45)


def _header(width=90, height=120, tail=b"\x08\x00\x00\x00\x00") -> bytes:
    return chunk(b"IHDR", struct.pack(">II", width, height) + tail)


def test_damaged_or_malformed_pngs_are_left_to_pillow_and_nothing_comes_from_libpng(page, tmp_path, capfd):
    data = png(page)
    flipped = bytearray(data)
    flipped[data.index(b"IDAT") + 40] ^= 0xFF  # the CRC no longer matches
    body = data[33:]
    bad = {"flipped": bytes(flipped), "cut short": data[: len(data) * 2 // 3], "no IEND": data[:-12],
           "zero width": data[:8] + _header(width=0) + body, "two IHDR": with_chunk(data, _header()),
           "long IHDR": data[:8] + chunk(b"IHDR", data[16:29] + b"\0") + body,
           "bad filter method": data[:8] + _header(tail=b"\x08\x00\x00\x01\x00") + body}
    for name, damaged in bad.items():
        assert fast(damaged) is None, name
        (tmp_path / "d.png").write_bytes(damaged)
        try:
            expected = pillows(damaged)
        except (OSError, SyntaxError, ValueError):
            with pytest.raises(UserError, match=r"d.png: (truncated or corrupt image|not an image Pillow can read)"):
                load_grey(tmp_path / "d.png")
        else:  # Pillow reads on where libpng would stop
            assert np.array_equal(load_grey(tmp_path / "d.png"), expected), name
    assert "libpng" not in capfd.readouterr().err


def _seven(paper, ink, side: int = 120) -> Image.Image:
    """A thick 7 in colour `ink` on colour `paper` (RGB)."""
    from PIL import ImageDraw

    img = Image.new("RGB", (side, side), paper)
    draw = ImageDraw.Draw(img)
    draw.line([(30, 25), (90, 25), (55, 100)], fill=ink, width=9)
    return img


def test_ink_as_light_as_its_paper_is_read_along_the_colours():
    """Red ink on a blue card of the same luminance (and green on red) left no ink in the greyscale picture: read
    along the colours' main axis, the 7 is there, as black ink on white paper gives it."""
    from mnist_cnn import images

    luma = lambda rgb: 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]  # noqa: E731
    reference = images.to_mnist(load_grey(png(_seven((255, 255, 255), (0, 0, 0)))))
    for paper, ink in [((40, 60, 200), (180, 27, 0)), ((200, 40, 40), (30, 130, 40))]:
        assert abs(luma(paper) - luma(ink)) < 10  # flat in luminance
        flat = png(_seven(paper, ink))
        assert images.to_mnist(np.asarray(Image.open(io.BytesIO(flat)).convert("L"), np.float32) / 255) is None
        seen = images.to_mnist(load_grey(flat))
        assert seen is not None and np.abs(seen - reference).mean() < 0.02, np.abs(seen - reference).mean()


def test_a_colour_picture_with_contrast_keeps_its_luminance_exactly():
    img = _seven((250, 245, 235), (20, 40, 140))  # blue ink on cream paper
    assert np.array_equal(load_grey(png(img)), np.asarray(img.convert("L"), np.float32) / np.float32(255))
