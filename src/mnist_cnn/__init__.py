"""mnist-cnn: train, judge and use convolutional MNIST digit classifiers (Keras, TensorFlow backend).

Keras is imported lazily by the modules that need it, so `import mnist_cnn` and
`mnist-cnn --help` stay instant.
"""

__version__ = "0.1.0"
