"""What a run was computed with, for its env.json: versions, commit, CPU and its flags, threads.

    from mnist_cnn.environment import describe
    describe()   # {"python": "3.11.7", "keras": "3.15.0", ..., "cpu": "...", "cpu_flags": [...]}
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from .hardware import cpu_info


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def describe() -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    return {
        "python": platform.python_version(), "keras": keras.__version__, "tensorflow": tf.__version__,
        "numpy": np.__version__, "keras_backend": keras.backend.backend(), "git_commit": git_commit(),
        "platform": platform.platform(), **cpu_info().to_dict(), "cpu_count": os.cpu_count(),
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "op_determinism": True,
    }
