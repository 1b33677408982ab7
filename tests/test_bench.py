"""The benchmark: FLOPs by hand, bad input, and the quick run of every entry through real worker processes."""

import dataclasses

import pytest

from mnist_cnn import bench, cli, data
from mnist_cnn.config import RECIPES, resolve
from mnist_cnn.errors import UserError
from mnist_cnn.hardware import resolve_precision
from mnist_cnn.models import build


def test_forward_flops_of_the_seed_model_by_hand():
    conv = 2 * 26 * 26 * 3 * 3 * 1 * 32
    dense = 2 * 5408 * 128 + 2 * 128 * 10
    assert bench.forward_flops(build(RECIPES["seed"])) == conv + dense  # 1.78 MFLOP; x3 = 5.33 for training


def test_kept_runs_are_never_overwritten_and_bad_input_writes_nothing(tmp_path):
    (tmp_path / "bench-fast-seed42").mkdir()
    with pytest.raises(UserError, match="keep_runs: .*bench-fast-seed42 already exists"):
        bench.run(only="fast", quick=True, keep_runs=str(tmp_path))
    with pytest.raises(UserError, match="only: unknown entry 'vgg'; valid entries: seed, keras-io"):
        bench.run(only="vgg", quick=True, keep_runs=str(tmp_path / "new"))
    assert not (tmp_path / "new").exists()


def test_a_recipe_is_benched_with_its_settings_for_the_data_set(monkeypatch):
    """As `mnist-cnn train` takes it (config.FOR_DATASET): Fashion-MNIST's `best` mirrors and has no dropout."""
    class Trained(Exception):
        pass

    def train(cfg, **_):
        raise Trained(cfg)

    monkeypatch.setattr("mnist_cnn.train.train", train)
    with pytest.raises(Trained) as e:
        bench.worker("best", quick=False, seed=1, dataset="fashion-mnist", data_dir=None)
    cfg = e.value.args[0]
    assert cfg == resolve("best", flags={"dataset": "fashion-mnist"}).replace(seed=1, out=cfg.out, name=cfg.name)
    assert cfg.augment["flip"] == 0.5 and cfg.dropout == 0.0


def test_the_serve_load_check_and_the_exports_are_for_digit_models_only():
    """`serve` refuses a Fashion-MNIST model (it reads digits): `bench --dataset fashion-mnist` stopped at its first
    entry's load check."""
    names = list(RECIPES)
    assert bench.extra_checks(names[0], names, "mnist", quick=False) == (True, False)
    assert bench.extra_checks("best", names, "mnist", quick=False) == (False, True)
    assert bench.extra_checks(names[0], names, "mnist", quick=True) == (True, True)
    assert all(bench.extra_checks(n, names, "fashion-mnist", q) == (False, False) for n in names for q in (True, False))


@pytest.mark.slow
def test_quick_bench_runs_every_entry(tmp_path, mnist_dir, monkeypatch, capsys):
    """`mnist-cnn bench --quick`: every recipe, in one worker process, on a tiny subset."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["bench", "--quick", "--data-dir", str(mnist_dir), "--keep-runs", "kept",
                     "--results", "results"]) == 0
    out = capsys.readouterr().out
    assert not (tmp_path / "bench").exists()  # a quick run writes into the checkout only when told
    saved = list((tmp_path / "results").glob("quick-mnist-*.json"))
    assert len(saved) == 1
    result = __import__("json").loads(saved[0].read_text())
    machine, rows = result["machine"], result["entries"]
    assert [r["name"] for r in rows] == list(RECIPES)
    assert out.startswith(f"CPU: {machine['cpu']} ")
    reference = next(r for r in rows if r["name"] == bench.REFERENCE)
    for r in rows:
        cfg = RECIPES[r["name"]]
        assert r["n_train"] == len(data.split(60000, cfg.validation_split, 42, bench.QUICK["limit"])[0])
        assert r["epochs"] == 1 and r["precision"] == resolve_precision(cfg.precision).policy
        kept = __import__("json").loads((tmp_path / "kept" / f"bench-{r['name']}-seed42" / "metrics.json").read_text())
        assert kept["test_accuracy"] == r["test_accuracy"] and kept["train_seconds"] == r["train_seconds"]
        gflops = machine["matmul_gflops_bf16" if r["precision"] == "mixed_bfloat16" else "matmul_gflops"]
        assert r["limit_seconds"] == pytest.approx(r["train_flops_per_image"] * r["n_train"] / (gflops * 1e9))
        assert r["time_vs_reference"] == pytest.approx(r["train_seconds"] / reference["train_seconds"])
        assert r["latency_p99_ms"] >= r["latency_p50_ms"]
        assert f"| {r['name']} | 1 x {cfg.batch_size} | {r['precision']} |" in out
        assert f"{r['test_accuracy']:.2%}" in out
    loads = rows[0]["serve"]
    assert [(v["runtime"], v["workers"]) for v in loads] == list(bench.QUICK_LOAD_CASES)
    for v in loads:
        assert v["requests"] > 0 and v["errors"] == 0
        assert f"Serve load check (seed model, {v['runtime']}, --workers {v['workers']})" in out
    exports = rows[0]["exports"]  # --quick: the first entry, in Keras and as ONNX
    assert [(e["file"], e["runtime"]) for e in exports] == [("model.keras", "keras"), ("model.onnx", "onnx")]
    kept_run = tmp_path / "kept" / "bench-seed-seed42"
    onnx_check = __import__("json").loads((kept_run / "exports" / "model.onnx.check.json").read_text())
    assert exports[1]["test_accuracy"] == onnx_check["test_accuracy"] and exports[1]["mb"] > 0.1
    for e in exports:
        assert e["inference_images_per_s"] > 0 and e["latency_p99_ms"] >= e["latency_p50_ms"] > 0
        assert e["rss_mib"] > 50 and e["cold_start_s"] > 0
        assert f"| seed | {e['file']} | {e['runtime']} |" in out
    assert all(r["exports"] is None for r in rows[1:])
    assert set(dataclasses.asdict(bench.Row(**rows[0]))) == set(rows[0])
