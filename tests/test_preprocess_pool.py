"""Reading image files in worker processes: same results, same order, no TensorFlow in the workers."""

import numpy as np
import pytest
from PIL import Image

from mnist_cnn import predict, preprocess_pool
from mnist_cnn.data import load_mnist
from mnist_cnn.preprocess_pool import Preprocessor


@pytest.fixture(scope="module")
def folder(tmp_path_factory, mnist_dir):
    """70 digit PNGs, a blank page and a file that is no image, in a known order."""
    (_, _), (x, y) = load_mnist(mnist_dir)
    root = tmp_path_factory.mktemp("pool")
    paths = []
    for i in range(70):
        paths.append(root / f"{i:03d}.png")
        Image.fromarray(255 - x[i]).resize((112, 112)).save(paths[-1])
    paths.insert(10, root / "blank.png")
    Image.new("L", (50, 50), 255).save(paths[10])
    paths.insert(40, root / "notes.png")
    paths[40].write_text("not an image")
    return paths, y[:70]


def test_workers_give_the_same_results_in_the_same_order(folder):
    paths, _ = folder
    with Preprocessor(len(paths), workers=0) as here, Preprocessor(len(paths), workers=2) as pool:
        assert here.pool is None and pool.pool is not None
        expected, got = list(here.map(paths)), list(pool.map(paths))
    assert [p for p, _ in got] == paths
    for (_, a), (_, b) in zip(expected, got):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b)
        else:
            assert a == b
    assert got[10][1] is None and "notes.png: not an image Pillow can read" in got[40][1]


def test_no_tensorflow_in_the_workers(folder, trained_run):
    predict.Predictor(trained_run)  # TensorFlow loaded here, in the parent
    with Preprocessor(1, workers=1) as pool:
        list(pool.map(folder[0][:3]))
        modules = pool.pool.submit(eval, "sorted(__import__('sys').modules)").result()
    assert "mnist_cnn.images" in modules and "cv2" in modules
    assert not [m for m in modules if m.split(".")[0] in ("tensorflow", "keras")]


def test_predictions_through_the_pool_match_and_keep_order(folder, trained_run):
    paths, y = folder
    p = predict.Predictor(trained_run)
    with Preprocessor(len(paths), workers=2) as pool:
        pooled = list(predict.predict_files(p, paths, batch=16, preprocessor=pool))
    alone = list(predict.predict_files(p, paths, batch=16, preprocessor=Preprocessor(len(paths), workers=0)))
    assert [r.to_dict() for r in pooled] == [r.to_dict() for r in alone]
    assert [r.path for r in pooled] == [str(f) for f in paths]
    digits = [r.digit for i, r in enumerate(pooled) if i not in (10, 40)]
    assert np.mean(np.array(digits) == y) > 0.9
    assert pooled[10].error == "no digit found" and pooled[40].failed


def test_few_images_are_read_in_this_process():
    assert preprocess_pool.workers_for(preprocess_pool.POOL_MIN - 1) == 0
    assert preprocess_pool.workers_for(preprocess_pool.POOL_MIN) >= 1
    with Preprocessor(5) as few:
        assert few.pool is None
