"""What this CPU can do, and the compute precision that follows from it.

    from mnist_cnn.hardware import cpu_info, resolve_precision
    cpu = cpu_info()                               # CpuInfo(model="AMD EPYC ...", flags=("avx2", ...))
    choice = resolve_precision("auto", cpu)        # Precision("float32", "auto: ... no native bfloat16")

bfloat16 pays only where the CPU computes it natively, and not on every such CPU: measured on these
2-core machines (tools/speed.py), the `fast` recipe trains 1.35x more images per CPU-second in bfloat16
on an AMD EPYC with AVX512-BF16, 0.81x (`best`: 0.74x) on an Intel Xeon with AVX512-BF16 but no AMX,
and 7x fewer on an AMD EPYC with AVX2 + FMA only, where oneDNN emulates it (93.3 s against 13.2 s).
So `auto` picks bfloat16 where /proc/cpuinfo lists `amx_bf16` (Intel's AMX, matmul 3x float32's),
or `avx512_bf16` on an AMD CPU; a measured check would cost seconds per run to learn the same thing.
An explicit `mixed_bfloat16` on a CPU without native bfloat16 still runs, with a warning.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

NATIVE_BF16 = ("avx512_bf16", "amx_bf16")  # oneDNN's native bfloat16 kernels need one of these
REPORTED = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "avx512_vnni", "amx_tile", "amx_bf16",
            "amx_int8")  # the flags that decide TensorFlow's CPU kernels, recorded with every run
CPUINFO = Path("/proc/cpuinfo")


AMD = "AuthenticAMD"  # /proc/cpuinfo's vendor_id


@dataclass(frozen=True)
class CpuInfo:
    model: str | None
    flags: tuple[str, ...]  # the REPORTED flags this CPU has
    vendor: str | None = None  # vendor_id: GenuineIntel, AuthenticAMD

    @property
    def native_bf16(self) -> bool:
        return any(f in self.flags for f in NATIVE_BF16)

    @property
    def fast_bf16(self) -> bool:
        """Whether bfloat16 trains faster than float32 here, as measured (see the module's docstring)."""
        return "amx_bf16" in self.flags or ("avx512_bf16" in self.flags and self.vendor == AMD)

    def to_dict(self) -> dict:
        return {"cpu": self.model, "cpu_vendor": self.vendor, "cpu_flags": list(self.flags),
                "native_bfloat16": self.native_bf16, "fast_bfloat16": self.fast_bf16}


@dataclass(frozen=True)
class Precision:
    policy: str  # a Keras dtype policy: float32 or mixed_bfloat16
    reason: str  # one line for the run summary
    warning: str | None = None  # set when the choice will be slow on this CPU


def cpu_info(path: Path | None = None) -> CpuInfo:
    """The CPU's model name and its REPORTED feature flags (Linux /proc/cpuinfo; elsewhere none)."""
    model, vendor, flags = None, None, set()
    try:
        text = (path or CPUINFO).read_text()
    except OSError:
        return CpuInfo(platform.processor() or None, ())
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model is None:
            model = value.strip()
        elif key == "vendor_id" and vendor is None:
            vendor = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    return CpuInfo(model, tuple(f for f in REPORTED if f in flags), vendor)


def resolve_precision(requested: str, cpu: CpuInfo | None = None) -> Precision:
    """The Keras policy for a requested precision (auto, float32, mixed_bfloat16) on this CPU."""
    cpu = cpu or cpu_info()
    native = [f for f in NATIVE_BF16 if f in cpu.flags]
    if requested == "auto":
        if cpu.fast_bf16:
            return Precision("mixed_bfloat16", f"auto: the CPU computes bfloat16 natively ({', '.join(native)})")
        if native:
            return Precision("float32", f"auto: float32, faster than bfloat16 on this CPU ({', '.join(native)} "
                                        "without AMX on a CPU not AMD's: 0.74-0.81x in bfloat16)")
        return Precision("float32", "auto: the CPU has no native bfloat16 (no avx512_bf16 or amx_bf16), "
                                    "where it is emulated and several times slower")
    if requested == "mixed_bfloat16" and not native:
        return Precision(requested, "asked for", warning="mixed_bfloat16 on a CPU without native bfloat16 (no "
                                                         "avx512_bf16 or amx_bf16): expect training several times "
                                                         "slower than float32")
    return Precision(requested, "asked for")


def inference_policy(cpu: CpuInfo | None = None) -> str:
    """The policy a loaded model computes in for prediction: bfloat16 layers only where `auto` trains in it."""
    return resolve_precision("auto", cpu).policy
