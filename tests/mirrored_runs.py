"""Two mirrored runs in a fresh process (test_distribute.py runs it with MNIST_CNN_CPU_DEVICES=2).

    MNIST_CNN_CPU_DEVICES=2 python tests/mirrored_runs.py OUT DATA_DIR

OUT/straight: a whole run; OUT/cut: the same run stopped by SIGINT at batch 5 of epoch 2, as
Ctrl-C would. A process of its own, because splitting the CPU into logical devices fixes
TensorFlow's devices for the rest of the process, and the test process must stay as it is.
"""

import os
import signal
import sys

import keras

from mnist_cnn import train
from mnist_cnn.config import TrainConfig

SETTINGS = {"distribute": "mirrored", "seed": 3, "limit": 1200, "epochs": 2, "batch_size": 64}  # 960 images: 15 steps


class InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch: int, batch: int):
        super().__init__()
        self.at, self.epoch = (epoch, batch), 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    out, data_dir = sys.argv[1:3]
    train.train(TrainConfig(out=out, data_dir=data_dir, name="straight", **SETTINGS), verbose=0)
    cut = train.train(TrainConfig(out=out, data_dir=data_dir, name="cut", **SETTINGS), verbose=0,
                      callbacks=[InterruptAt(epoch=1, batch=5)])
    sys.exit(0 if cut.interrupted and len(cut.history) == 1 else 1)
