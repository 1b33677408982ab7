"""HEIC/HEIF photos (an iPhone's default) read like any other image: through pillow-heif's Pillow plugin."""

import io

import numpy as np
import pytest
from PIL import Image

from mnist_cnn import imagefile, predict
from mnist_cnn.errors import UserError
from mnist_cnn.images import load_grey, to_mnist

pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif is a dependency; without it HEIC is refused")


def a_page_with_a_digit() -> Image.Image:
    page = np.full((300, 240), 225, np.uint8)
    page[80:220, 110:135] = 30  # a "1"
    page[80:100, 90:135] = 30
    return Image.fromarray(page).convert("RGB")


@pytest.fixture(scope="module")
def heic() -> bytes:
    buf = io.BytesIO()
    pillow_heif.from_pillow(a_page_with_a_digit()).save(buf, quality=95)  # not through Pillow: no plugin registered
    return buf.getvalue()


def test_a_heic_photo_reads_as_its_png(heic, tmp_path, monkeypatch):
    assert heic[4:12] == b"ftypheic"
    expected = to_mnist(np.asarray(a_page_with_a_digit().convert("L")))
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(heic)
    monkeypatch.setattr(imagefile, "HEADER_FIRST", 100)  # also through the header-first check of a large file
    assert imagefile._register_heif.cache_info().currsize == 0  # registered by the first HEIF file, not at import
    for source in (heic, path):
        x = to_mnist(load_grey(source))
        assert np.corrcoef(x.ravel(), expected.ravel())[0, 1] > 0.98
    assert predict.find_images([tmp_path])[0] == [path]


def test_without_pillow_heif_a_heic_photo_gets_one_line(heic, monkeypatch):
    monkeypatch.setattr(imagefile, "_register_heif", lambda: (_ for _ in ()).throw(ImportError("no pillow_heif")))
    with pytest.raises(UserError, match=r"^photo.heic: a HEIC/HEIF photo; reading it needs the Python package "
                                        r"pillow-heif \(pip install pillow-heif\)$"):
        load_grey(heic, name="photo.heic")
