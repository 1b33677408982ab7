"""`python -m mnist_cnn ...` is `mnist-cnn ...`."""

import sys

from .cli import main

sys.exit(main())
