import json

import pytest

from mnist_cnn import bench, cli, data
from mnist_cnn.errors import UserError
from mnist_cnn.models import get_recipe


def test_forward_flops_of_the_seed_model_by_hand():
    conv = 2 * 26 * 26 * 3 * 3 * 1 * 32
    dense = 2 * 5408 * 128 + 2 * 128 * 10
    assert bench.forward_flops(get_recipe("seed").build()) == conv + dense  # 1.78 MFLOP; x3 = 5.33 for training


def test_unknown_entry(tmp_path):
    with pytest.raises(UserError, match="--only: unknown entry 'vgg'; valid entries: seed"):
        bench.run(only="vgg", quick=True, results_dir=tmp_path)


def test_kept_runs_are_never_overwritten_and_bad_input_writes_nothing(tmp_path):
    (tmp_path / "bench-fast-seed42").mkdir()
    with pytest.raises(UserError, match="--keep-runs: .*bench-fast-seed42 already exists"):
        bench.run(only="fast", quick=True, results_dir=tmp_path, keep_runs=str(tmp_path))
    with pytest.raises(UserError, match="--only: unknown entry 'vgg'"):
        bench.run(only="vgg", quick=True, results_dir=tmp_path, keep_runs=str(tmp_path / "new"))
    assert not (tmp_path / "new").exists()


@pytest.mark.slow
def test_quick_bench_runs_every_entry(tmp_path, mnist_dir, monkeypatch, capsys):
    """`mnist-cnn bench --quick`: every recipe through the real subprocess path on a tiny subset."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["bench", "--quick", "--data-dir", str(mnist_dir), "--keep-runs", "kept"]) == 0
    out = capsys.readouterr().out
    saved = list((tmp_path / "bench" / "results").glob("quick-*.json"))
    assert len(saved) == 1
    result = json.loads(saved[0].read_text())
    assert [r["name"] for r in result["entries"]] == list(bench.ENTRIES)
    for r in result["entries"]:
        expected = len(data.split(60000, get_recipe(r["name"]).validation_split, 42, bench.QUICK["limit"])[0])
        assert r["n_train"] == expected and r["epochs"] == 1
        assert r["train_images_per_s"] > 0 and r["inference_images_per_s"] > 0 and r["peak_rss_mib"] > 100
        assert 0 <= r["test_accuracy"] <= 1 and r["latency_p99_ms"] >= r["latency_p50_ms"] > 0
        assert 0 <= r["tta_accuracy"] <= 1
        kept = tmp_path / "kept" / f"bench-{r['name']}-seed42"
        assert json.loads((kept / "metrics.json").read_text())["test_accuracy"] == r["test_accuracy"]
        assert r["limit_seconds"] > 0 and r["limit_ratio"] > 0
        assert f"| {r['name']} |" in out
    assert result["machine"]["matmul_gflops"] > 0 and result["machine"]["matmul_gflops_bf16"] > 0
    assert {r["name"]: r["precision"] for r in result["entries"]}["best"] == "mixed_bfloat16"
    assert "| best | 1 x 128, bf16 |" in out
    load = result["entries"][0]["serve"]
    assert load["requests"] > 0 and load["errors"] == 0 and "Serve load check" in out
    assert next(r for r in result["entries"] if r["name"] == "keras-io")["time_vs_reference"] == 1.0
