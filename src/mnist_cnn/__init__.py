"""mnist-cnn: train, judge and use convolutional MNIST digit classifiers (Keras, TensorFlow backend).

Keras is imported lazily by the modules that need it, so `import mnist_cnn` and
`mnist-cnn --help` stay instant.
"""

import os

__version__ = "0.1.0"

# TensorFlow's C++ start-up chatter (oneDNN notes, CPU feature lists, a tf.data attribute warning)
# says nothing a user can act on; set once here, before any module can import TensorFlow, and
# inherited by every subprocess the package starts. Errors still surface as Python exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# ONNX Runtime (1.29 and later) keeps a device id and a queue of usage events under ~/.cache/Microsoft and uploads
# them to Microsoft; a digit reader that runs offline has no reason to. ORT_DISABLE_TELEMETRY=0 turns it back on.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
