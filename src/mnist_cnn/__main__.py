"""`python -m mnist_cnn ...` is `mnist-cnn ...`."""

import sys

if __name__ == "__main__":  # not when a worker process (spawn) imports this module as __mp_main__
    try:  # Ctrl-C while the CLI's modules import: the same line as later, not a traceback
        from .cli import main
    except KeyboardInterrupt:
        print("\nmnist-cnn: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
