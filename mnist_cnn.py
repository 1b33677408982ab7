"""The user's original script: train the reference CNN on MNIST and report how it does.

    python mnist_cnn.py [--epochs N] [--batch-size N] [--seed N] [--limit N] [--data-dir DIR]
                        [--plots-dir DIR] [--num-examples N]

Builds Conv2D(32, 3x3, relu) -> MaxPooling2D(2x2) -> Flatten -> Dense(128, relu) -> Dense(10,
softmax) with adam and categorical cross-entropy; scales images to [0, 1], one-hot encodes labels,
trains on an 80/20 train/validation split, prints the model summary and `Test accuracy: ...`,
and saves mnist_plots/example_N.png and mnist_plots/misclassified_N.png.
It is `mnist-cnn run` of the mnist_cnn package (src/mnist_cnn); `make run` sets it all up and adds
--calibrate --export onnx (the run's refusal rule and its ONNX export, for predict, read and serve).
"""

import sys
from pathlib import Path

_SRC = str(Path(__file__).resolve().parent / "src")
sys.path[:] = [_SRC] + [p for p in sys.path if p != _SRC]  # the package first; works before `pip install -e .` too

if __name__ == "__main__":
    from mnist_cnn.cli import main

    # `python mnist_cnn.py` is the seed job; `python -m mnist_cnn` from this folder (which finds
    # this file first) is the whole command line, as it is everywhere else (main(None): sys.argv's).
    sys.exit(main(None if __spec__ is not None else ["run", *sys.argv[1:]]))
elif __name__ == "mnist_cnn":
    # Imported as `mnist_cnn` from the repo root, where this file shadows src/mnist_cnn: hand over
    # to the package so `import mnist_cnn.cli` works from here too.
    import importlib

    del sys.modules[__name__]
    sys.modules[__name__] = importlib.import_module(__name__)
# Else run as "__mp_main__" by a worker process that multiprocessing spawned (or its forkserver, during the refusal
# rule's fit): the package path above is all it needs (the hand-over would fail: no module has that name).
