"""Precision by hardware: /proc/cpuinfo parsing, the resolution rule for every flag combination, the warning."""

import json

import pytest

from mnist_cnn import hardware, train
from mnist_cnn.config import TrainConfig
from mnist_cnn.hardware import CpuInfo, resolve_precision

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13 64-Core Processor
flags\t\t: fpu sse2 avx avx2 fma {extra}
bogomips\t: 4899.99

processor\t: 1
model name\t: AMD EPYC 7B13 64-Core Processor
flags\t\t: fpu sse2 avx avx2 fma {extra}
"""


def fake_cpu(tmp_path, extra=""):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO.format(extra=extra))
    return path


@pytest.mark.parametrize("extra,flags", [
    ("", ("avx2", "fma")),
    ("avx512f avx512_bf16 avx512_vnni", ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni")),
    ("avx512f amx_tile amx_bf16 amx_int8", ("avx2", "fma", "avx512f", "amx_tile", "amx_bf16", "amx_int8")),
])
def test_cpuinfo_gives_the_model_and_the_flags_that_matter(tmp_path, extra, flags):
    cpu = hardware.cpu_info(fake_cpu(tmp_path, extra))
    assert cpu.model == "AMD EPYC 7B13 64-Core Processor" and cpu.flags == flags and cpu.vendor == "AuthenticAMD"
    assert cpu.native_bf16 == ("bf16" in extra)


def test_no_cpuinfo_means_no_flags(tmp_path):
    assert hardware.cpu_info(tmp_path / "missing").flags == ()


AVX2 = CpuInfo("avx2 box", ("avx2", "fma"))
AVX512_BF16 = CpuInfo("epyc", ("avx2", "fma", "avx512f", "avx512_bf16"), "AuthenticAMD")
INTEL_BF16 = CpuInfo("xeon, AMX hidden", ("avx2", "fma", "avx512f", "avx512_bf16"), "GenuineIntel")  # 0.74-0.81x
AMX = CpuInfo("sapphire rapids", ("avx2", "fma", "avx512f", "amx_tile", "amx_bf16"), "GenuineIntel")


@pytest.mark.parametrize("requested,cpu,policy,warns", [
    ("auto", AVX2, "float32", False),
    ("auto", AVX512_BF16, "mixed_bfloat16", False),
    ("auto", AMX, "mixed_bfloat16", False),
    ("auto", INTEL_BF16, "float32", False),
    ("float32", AVX2, "float32", False),
    ("float32", AMX, "float32", False),
    ("mixed_bfloat16", AVX2, "mixed_bfloat16", True),
    ("mixed_bfloat16", AVX512_BF16, "mixed_bfloat16", False),
    ("mixed_bfloat16", AMX, "mixed_bfloat16", False),
    ("mixed_bfloat16", INTEL_BF16, "mixed_bfloat16", False),
])
def test_resolution_rule(requested, cpu, policy, warns):
    p = resolve_precision(requested, cpu)
    assert p.policy == policy and (p.warning is not None) == warns
    if requested == "auto":
        assert p.reason.startswith("auto: ") and ("no native bfloat16" in p.reason) == (cpu is AVX2)
    assert hardware.inference_policy(cpu) == ("float32" if cpu in (AVX2, INTEL_BF16) else "mixed_bfloat16")


def test_a_run_records_what_auto_chose_and_warns_once_for_emulated_bfloat16(tmp_path, mnist_dir, monkeypatch):
    monkeypatch.setattr(hardware, "CPUINFO", fake_cpu(tmp_path))  # an AVX2-only CPU
    small = dict(out=str(tmp_path), data_dir=str(mnist_dir), limit=300, epochs=1, batch_size=100)
    r = train.train(TrainConfig(name="auto", precision="auto", **small), verbose=0, report=lambda m: None)
    env = json.loads((r.run_dir / "env.json").read_text())
    assert (env["precision"], env["cpu"], env["cpu_flags"]) == ("float32", "AMD EPYC 7B13 64-Core Processor",
                                                                ["avx2", "fma"])
    assert "no native bfloat16" in env["precision_reason"]
    assert json.loads((r.run_dir / "config.json").read_text())["precision"] == "auto"
    messages = []
    train.train(TrainConfig(name="bf16", precision="mixed_bfloat16", **small), verbose=0, report=messages.append)
    assert [m for m in messages if m.startswith("warning:")] == [
        "warning: mixed_bfloat16 on a CPU without native bfloat16 (no avx512_bf16 or amx_bf16): expect training "
        "several times slower than float32"]


@pytest.mark.parametrize("cpu,words", [
    (AVX2, "bfloat16 emulated, auto trains in float32"),
    (AVX512_BF16, "bfloat16 native, auto trains in it"),
    (AMX, "bfloat16 native, auto trains in it"),
    (INTEL_BF16, "bfloat16 native but slower than float32 here, auto trains in float32"),
])
def test_the_bench_header_says_what_auto_trains_in(cpu, words):
    from mnist_cnn import bench

    machine = cpu.to_dict()
    assert bench.bfloat16_words(machine) == words
    assert ("in it" in words) == (resolve_precision("auto", cpu).policy == "mixed_bfloat16")
    del machine["fast_bfloat16"]  # a result saved before the rule knew the vendor: auto used bfloat16 where native
    assert bench.bfloat16_words(machine).endswith("in float32") == (cpu is AVX2)
