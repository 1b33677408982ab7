"""Data-parallel training with tf.distribute: the strategy behind `TrainConfig.distribute`.

    mnist-cnn train --distribute mirrored              # one model over every GPU (MirroredStrategy)
    MNIST_CNN_CPU_DEVICES=2 mnist-cnn train --distribute mirrored    # no GPU: the CPU as 2 logical devices
    TF_CONFIG='{"cluster": {"worker": ["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 0}}' \
        mnist-cnn train --distribute multi-worker      # on every machine, each with its own task index

    from mnist_cnn import distribute
    setup = distribute.setup("mirrored")   # Setup: strategy, replicas, devices, chief; one per kind and process
    with setup.scope(): model = ...        # variables made in the scope are mirrored on every replica
    distribute.read_tf_config(os.environ)  # Cluster(workers, task, index, chief), or UserError naming the field

Each step's batch is the global batch (`batch_size`): tf.distribute splits it over the replicas and
sums their gradients, so the arithmetic is that of one device up to float32 rounding. Only the
chief (task "chief", else worker 0) keeps a run folder; other workers write into a temporary one.
Keras and TensorFlow are imported inside the functions: reading TF_CONFIG needs neither.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field

from .config import DISTRIBUTE
from .errors import ConfigError, UserError

KINDS = DISTRIBUTE
CPU_DEVICES = "MNIST_CNN_CPU_DEVICES"  # the environment variable that splits a GPU-less CPU for mirrored training
MAX_CPU_DEVICES = 64  # far more than cores on any machine this runs on; a typo of extra digits is refused
ROLES = ("chief", "worker")  # the TF_CONFIG task types MultiWorkerMirroredStrategy trains with
TF_CONFIG_EXAMPLE = '{"cluster": {"worker": ["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 0}}'
ADDRESS = re.compile(r"[^\s:]+:([0-9]{1,5})|\[[0-9A-Fa-f:.]+\]:([0-9]{1,5})")  # host:port or [IPv6]:port
# What Keras 3 raises when it trains under MultiWorkerMirroredStrategy (keras-team/keras#20585):
# fit() reduces the whole (x, y) batch in one strategy.reduce call, which the collective ops refuse;
# past that, each step reduces its scalar logs along axis 0 (tensorflow/tensorflow#72388).
KERAS_FAILURES = (
    re.compile(r"Attempt to convert a value \(.*PerReplica.*\) with an unsupported type "
               r"\(<class 'tensorflow\.python\.distribute\.values\.PerReplica'>\) to a Tensor\.", re.DOTALL),
    re.compile(r"Invalid reduction dimension 0 for input with 0 dimensions\."),
)
KERAS_ISSUE = "keras-team/keras#20585"


class KerasCannot(ConfigError):
    """Keras fails inside fit() under this strategy: not the user's mistake, so exit code 1."""

    exit_code = 1

    def __init__(self, what: str):
        super().__init__("distribute", what)


_SETUPS: dict[str, Setup] = {}  # a process makes each strategy once: the multi-worker one cannot be remade


@dataclass(frozen=True)
class Cluster:
    """This process's place in TF_CONFIG's cluster."""

    workers: int  # training tasks (chief + workers)
    task: str  # "chief" or "worker"
    index: int
    chief: bool  # the one that keeps the run folder


@dataclass
class Setup:
    kind: str
    strategy: object = None  # a tf.distribute.Strategy, None for "none"
    replicas: int = 1
    devices: list[str] = field(default_factory=list)
    cluster: Cluster | None = None

    @property
    def chief(self) -> bool:
        return self.cluster is None or self.cluster.chief

    def scope(self):
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def describe(self) -> dict:
        """For env.json: what trained the run."""
        out = {"strategy": self.kind, "replicas": self.replicas, "devices": self.devices}
        if self.cluster:
            out.update(workers=self.cluster.workers, task=f"{self.cluster.task}:{self.cluster.index}")
        return out

    def line(self, batch_size: int) -> str | None:
        """One line for the console, None when not distributed."""
        if self.kind == "none":
            return None
        devices = ", ".join(self.devices)
        if self.cluster:
            c = self.cluster
            devices = f"{c.workers} workers; this one is {c.task} {c.index}{' (chief)' if c.chief else ''} on {devices}"
        replicas = f"{self.replicas} replica{'s' if self.replicas != 1 else ''}"
        return (f"distribute: {self.kind} over {replicas} ({devices}); each step's {batch_size} "
                f"images are split {batch_size // self.replicas} per replica")


def read_tf_config(environ=os.environ) -> Cluster:
    """TF_CONFIG checked as MultiWorkerMirroredStrategy reads it; UserError naming the field otherwise."""
    raw = environ.get("TF_CONFIG", "")
    if not raw.strip():
        raise UserError(f"TF_CONFIG: not set; multi-worker training reads the cluster and this worker's task "
                        f"from it, e.g. TF_CONFIG='{TF_CONFIG_EXAMPLE}'")
    try:
        cfg = json.loads(raw)
    except ValueError as e:
        raise UserError(f"TF_CONFIG: not valid JSON ({e})") from None
    if not isinstance(cfg, dict):
        raise UserError(f"TF_CONFIG: expected a JSON object, found {type(cfg).__name__}")
    cluster, task = cfg.get("cluster"), cfg.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise UserError(f"TF_CONFIG: field 'cluster': expected an object of roles and addresses such as "
                        f"{{\"worker\": [\"host1:2222\", \"host2:2222\"]}}, found {cluster!r}")
    for role, addresses in cluster.items():
        if role not in ROLES:
            raise UserError(f"TF_CONFIG: field 'cluster.{role}': unknown role; multi-worker training takes "
                            f"{' and '.join(ROLES)}")
        _check_addresses(role, addresses)
    if len(cluster.get("chief", [])) > 1:
        raise UserError(f"TF_CONFIG: field 'cluster.chief': expected one address, found {len(cluster['chief'])}")
    if not isinstance(task, dict):
        raise UserError(f"TF_CONFIG: field 'task': expected an object such as {{\"type\": \"worker\", \"index\": 0}}, "
                        f"found {task!r}")
    kind, index = task.get("type"), task.get("index")
    if kind not in cluster:
        raise UserError(f"TF_CONFIG: field 'task.type': expected one of the cluster's roles "
                        f"({', '.join(cluster)}), found {kind!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
        raise UserError(f"TF_CONFIG: field 'task.index': expected a whole number from 0 to "
                        f"{len(cluster[kind]) - 1} (cluster.{kind} has {len(cluster[kind])}), found {index!r}")
    chief = kind == "chief" or "chief" not in cluster and index == 0
    return Cluster(sum(len(a) for a in cluster.values()), kind, index, chief)


def _check_addresses(role: str, addresses) -> None:
    if not isinstance(addresses, list) or not addresses:
        raise UserError(f"TF_CONFIG: field 'cluster.{role}': expected a list of host:port addresses, "
                        f"found {addresses!r}")
    for i, address in enumerate(addresses):
        m = ADDRESS.fullmatch(address) if isinstance(address, str) else None
        if m is None or not 1 <= int(m.group(1) or m.group(2)) <= 65535:
            raise UserError(f"TF_CONFIG: field 'cluster.{role}[{i}]': expected host:port with a port from 1 to "
                            f"65535, found {address!r}")
    if len(set(addresses)) != len(addresses):
        raise UserError(f"TF_CONFIG: field 'cluster.{role}': an address is listed twice")


def cpu_devices(environ=os.environ) -> int:
    """MNIST_CNN_CPU_DEVICES as a number of logical CPU devices (1 when unset)."""
    raw = environ.get(CPU_DEVICES, "").strip()
    if not raw:
        return 1
    if not re.fullmatch(r"[0-9]+", raw) or not 1 <= int(raw) <= MAX_CPU_DEVICES:
        raise UserError(f"{CPU_DEVICES}: expected a whole number from 1 to {MAX_CPU_DEVICES}, found {raw!r}")
    return int(raw)


def check(kind: str, environ=os.environ) -> Cluster | None:
    """Everything about `kind` that can be checked without TensorFlow (before a run folder is made)."""
    if kind not in KINDS:
        raise ConfigError("distribute", f"expected one of {', '.join(KINDS)}, found {kind!r}")
    if kind == "mirrored":
        cpu_devices(environ)
    return read_tf_config(environ) if kind == "multi-worker" else None


def setup(kind: str, environ=os.environ) -> Setup:
    """The strategy for `kind`, made once per process (before TensorFlow runs its first operation)."""
    cluster = check(kind, environ)
    if kind not in _SETUPS:
        _SETUPS[kind] = _make(kind, cluster, environ)
    return _SETUPS[kind]


def _make(kind: str, cluster: Cluster | None, environ) -> Setup:
    if kind == "none":
        return Setup(kind)
    import tensorflow as tf

    if kind == "multi-worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG; waits for every worker
        devices = list(strategy.extended.worker_devices)
    else:
        gpus = tf.config.list_physical_devices("GPU")  # physical: listing logical devices would fix them
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] if gpus else \
            _cpu_devices(tf, cpu_devices(environ))
        strategy = tf.distribute.MirroredStrategy(devices)
    return Setup(kind, strategy, int(strategy.num_replicas_in_sync), [_short(d) for d in devices], cluster)


def _cpu_devices(tf, n: int) -> list[str]:
    """The CPU as n logical devices (they share its cores: a way to run mirrored training without a GPU)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    if n > 1:
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
        except RuntimeError:  # TensorFlow already ran in this process: its devices are fixed
            pass
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(devices) != n:
        raise UserError(f"{CPU_DEVICES}: expected {n} logical CPU devices, found {len(devices)}: TensorFlow had "
                        f"already set up its devices in this process; set it before the first training starts")
    return devices


def _short(device: str) -> str:
    """'/device:CPU:1' -> 'CPU:1'; '/job:worker/replica:0/task:1/device:CPU:0' -> 'task 1 CPU:0'."""
    m = re.search(r"(?:/task:(\d+))?/device:(\w+:\d+)$", device)
    if not m:
        return device
    return m.group(2) if m.group(1) is None or "/job:localhost/" in device else f"task {m.group(1)} {m.group(2)}"


def check_batches(setup: Setup, batch_size: int, n_train: int) -> None:
    """Refuse batches Keras 3 cannot split: an uneven first step, or a last step with a replica left empty.

    fit() averages the first batch over the replicas to build the model, which needs equal shares;
    a replica that gets no image in a step aborts TensorFlow's process (a failed CHECK, no exception).
    """
    k = setup.replicas
    if k == 1:
        return
    if batch_size % k:
        raise ConfigError("batch_size", f"expected a multiple of the {k} replicas of distribute={setup.kind} "
                                        f"(each takes an equal share of a step), found {batch_size}")
    last = n_train % batch_size
    if 0 < last < k:
        raise ConfigError("batch_size", f"the last step of each epoch would share {last} of the {n_train} training "
                                        f"images among {k} replicas, leaving one with none; expected a batch_size "
                                        f"that leaves 0 or at least {k} images over, found {batch_size}")


def keras_failure(error: BaseException) -> str | None:
    """The known Keras 3 multi-worker failure in `error` as one line (its tensor dump cut), else None."""
    text = str(error)
    for pattern in KERAS_FAILURES:
        if pattern.search(text):
            text = re.sub(r"\(PerReplica:\{.*\}\)", "(PerReplica:{...})", text, flags=re.DOTALL)
            return f"{type(error).__name__}: {' '.join(text.split())}"
    return None
