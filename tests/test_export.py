"""`mnist-cnn export` and running exports without TensorFlow, on a tiny model trained once for the module.

The Keras model is the oracle: every figure a check stores is recomputed here from the exported
file, run directly in its runtime, and the Keras model's own probabilities.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from serving import free_port  # tests/serving.py

from mnist_cnn import cli, export, extras, images, predict, runtime
from mnist_cnn.data import load_mnist, normalise
from mnist_cnn.errors import UserError
from mnist_cnn.rundir import check_path

pytestmark = pytest.mark.slow
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, mnist_dir):
    """The seed network on 2,000 images for one epoch (~76% accurate): seconds to train."""
    from mnist_cnn.config import TrainConfig
    from mnist_cnn.train import train

    out = tmp_path_factory.mktemp("runs")
    cfg = TrainConfig(out=str(out), name="tiny", limit=2000, epochs=1, data_dir=str(mnist_dir))
    return Path(train(cfg, verbose=0, report=lambda _: None).run_dir)


@pytest.fixture(scope="module")
def test_set(mnist_dir):
    (_, _), (x, y) = load_mnist(mnist_dir)
    return normalise(x), y


@pytest.fixture(scope="module")
def oracle(tiny_run, test_set):
    """The Keras model's test-set probabilities (computing in float32, as exported)."""
    from mnist_cnn.models import load_model

    model = load_model(tiny_run / "model.keras", "float32")
    return model.predict(test_set[0], batch_size=1000, verbose=0)


@pytest.fixture(scope="module")
def exported(tiny_run, mnist_dir):
    """Each (format, int8) exported once into the run folder: {(fmt, int8): Exported}."""
    done = {}
    for fmt, int8 in (("onnx", False), ("litert", False), ("savedmodel", False), ("onnx", True), ("litert", True)):
        done[fmt, int8] = export.export(tiny_run, fmt, int8=int8, data_dir=mnist_dir)
    return done


def run_directly(path: Path, fmt: str, x: np.ndarray) -> np.ndarray:
    """The export's probabilities from its runtime's own API (not mnist_cnn.runtime)."""
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: x})[0]
    if fmt == "litert":
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(model_path=str(path))
        inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
        it.resize_tensor_input(inp, list(x.shape))
        it.allocate_tensors()
        it.set_tensor(inp, x)
        it.invoke()
        return it.get_tensor(out)
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # kept in a name: its variables die with it
    return loaded.serve(tf.constant(x)).numpy()


@pytest.mark.parametrize("fmt", ["onnx", "litert", "savedmodel"])
def test_float_export_passes_its_check_and_the_figures_are_right(fmt, tiny_run, exported, test_set, oracle):
    result = exported[fmt, False]
    x, y = test_set
    assert result.path == tiny_run / "exports" / {"onnx": "model.onnx", "litert": "model.tflite",
                                                  "savedmodel": "model.savedmodel"}[fmt]
    stored = json.loads(check_path(result.path).read_text())
    assert stored == result.check and stored["passed"] is True
    probs = run_directly(result.path, fmt, x)
    agreement = (probs.argmax(1) == oracle.argmax(1)).mean()
    assert agreement >= 0.9999
    assert stored["agreement"] == pytest.approx(agreement, abs=1e-4)  # oneDNN may round one image differently
    assert stored["test_accuracy"] == pytest.approx((probs.argmax(1) == y).mean(), abs=1e-4)
    assert stored["keras_test_accuracy"] == pytest.approx((oracle.argmax(1) == y).mean(), abs=1e-4)
    assert stored["max_probability_difference"] == pytest.approx(np.abs(probs - oracle).max(), abs=1e-5)
    assert stored["max_probability_difference"] < 1e-4
    files = [f for f in result.path.rglob("*") if f.is_file()] if result.path.is_dir() else [result.path]
    size = sum(f.stat().st_size for f in files)
    assert stored["bytes"] == size and stored["test_images"] == len(y) == 10_000
    assert stored["source_sha256"] and stored["run"] == "tiny" and stored["parameters"] == 693_962


@pytest.mark.parametrize("fmt", ["onnx", "litert"])
def test_int8_export_stays_within_a_tenth_of_a_point(fmt, exported, test_set, oracle):
    result, float_result = exported[fmt, True], exported[fmt, False]
    x, y = test_set
    assert result.path.name == f"model.int8{'.onnx' if fmt == 'onnx' else '.tflite'}"
    probs = run_directly(result.path, fmt, x)
    accuracy, keras_accuracy = (probs.argmax(1) == y).mean(), (oracle.argmax(1) == y).mean()
    assert accuracy >= keras_accuracy - 0.001
    assert result.check["passed"] and result.check["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert result.check["representative_images"] == 500
    assert result.check["bytes"] < float_result.check["bytes"] / 3  # 8-bit weights: about a quarter
    if fmt == "onnx":  # uint8 weights: int8 ones (U8S8) saturate on CPUs without VNNI (export._quantize_onnx)
        import onnx

        graph = onnx.load(str(result.path)).graph
        quantized = {n.input[0] for n in graph.node if n.op_type == "DequantizeLinear"}
        weights = [t for t in graph.initializer if t.name in quantized and len(t.dims) > 1]
        assert weights and all(t.data_type == onnx.TensorProto.UINT8 for t in weights)


def test_failed_check_exits_1_and_keeps_nothing(tiny_run, mnist_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(export, "FLOAT_AGREEMENT", 1.01)  # no export can pass
    dest = tmp_path / "m.onnx"
    code = cli.main(["export", str(tiny_run), "--format", "onnx", "--out", str(dest), "--data-dir", str(mnist_dir)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("mnist-cnn:")]
    assert code == 1 and len(lines) == 1 and "failed its check" in lines[0] and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt,name", [("onnx", "m.onnx"), ("savedmodel", "m.savedmodel")])
def test_a_full_disk_under_the_converter_is_one_line_and_keeps_nothing(fmt, name, tiny_run, mnist_dir, tmp_path):
    """tf2onnx writes the file itself (an OSError), TensorFlow's SaveV2 raises its own OutOfRangeError; on a full
    disk both were tracebacks. A file size limit stands in for the full disk (EFBIG; Python ignores SIGXFSZ), under
    the export's 2.7 MB. (Not LiteRT here: its converter first saves a SavedModel to the system's temporary folder,
    which the limit would stop too; the message then names that file.)"""
    import resource

    dest = tmp_path / "out" / name
    done = subprocess.run([sys.executable, "-m", "mnist_cnn", "export", str(tiny_run), "--format", fmt, "--out",
                           str(dest), "--data-dir", str(mnist_dir)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(SRC)},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20)))
    lines = [line for line in done.stderr.splitlines() if line.startswith("mnist-cnn:")]
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert lines == [f"mnist-cnn: {dest}: cannot write (File too large); nothing half-written was left"]
    assert list((tmp_path / "out").iterdir()) == []


def test_int8_savedmodel_and_bad_format_are_one_line(tiny_run, capsys):
    assert cli.main(["export", str(tiny_run), "--format", "savedmodel", "--int8"]) == 2
    assert cli.main(["export", str(tiny_run), "--format", "pb"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "--format: expected" in err[1]
    assert "--int8: a SavedModel is exported in float32 only; int8 is for the onnx and litert formats" in err[0]


def test_an_out_that_would_replace_other_files_is_refused_before_any_work(tiny_run, tmp_path, capsys, monkeypatch):
    """A web page replaces its folder whole: a folder holding anything but an earlier page (a run folder, a thesis,
    a site's own index.html, the current folder) is refused."""
    for folder, name in (("notes", "thesis.txt"), ("site", "index.html")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text("keep me")
    (tmp_path / "named.onnx").mkdir()
    for out in ("notes", "site", str(tiny_run)):
        assert cli.main(["export", str(tiny_run), "--format", "web", "--out", str(tmp_path / out)]) == 2
    assert cli.main(["export", str(tiny_run), "--format", "onnx", "--out", str(tmp_path / "named.onnx")]) == 2
    monkeypatch.chdir(tmp_path / "site")
    assert cli.main(["export", str(tiny_run), "--format", "web", "--out", "."]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5 and "holds other files (thesis.txt)" in err[0] and "(index.html)" in err[1], err
    assert "checkpoint" in err[2] and "found a folder named 'named.onnx'" in err[3] and "current folder" in err[4]
    assert (tmp_path / "notes" / "thesis.txt").read_text() == "keep me" and (tiny_run / "model.keras").is_file()


@pytest.fixture(scope="module")
def digits(tmp_path_factory, test_set):
    """Eight real test digits as PNG files, and their labels."""
    folder = tmp_path_factory.mktemp("digits")
    x, y = test_set
    for i in range(8):
        Image.fromarray(np.round(x[i, :, :, 0] * 255).astype(np.uint8)).save(folder / f"{i}.png")
    return sorted(folder.iterdir()), y[:8]


def predicted(capsys, *argv) -> list:
    assert cli.main(["predict", *argv, "--json"]) == 0
    return [r["digit"] for r in json.loads(capsys.readouterr().out)]


def test_predict_with_exports_gives_the_keras_digits(tiny_run, exported, digits, capsys):
    paths = [str(p) for p in digits[0]]
    keras = predicted(capsys, *paths, "--model", str(tiny_run), "--runtime", "keras")
    for fmt, int8 in (("onnx", False), ("litert", False)):
        assert predicted(capsys, *paths, "--model", str(exported[fmt, int8].path)) == keras
    assert predicted(capsys, *paths, "--model", str(tiny_run), "--runtime", "onnx") == keras


def test_run_folder_picks_a_checked_current_export(tiny_run, exported):
    p = predict.Predictor(tiny_run)
    assert p.runtime == runtime.FASTEST_FIRST[0] and p.path == exported[p.runtime, False].path
    info = p.info()
    assert info["run"] == "tiny" and info["recipe"] == "seed" and info["parameters"] == 693_962
    assert info["test_accuracy"] == exported[p.runtime, False].check["test_accuracy"]
    assert predict.Predictor(tiny_run, runtime="keras").runtime == "keras"


def test_stale_export_is_passed_over_and_refused_when_asked_for(tiny_run, exported, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("*.savedmodel*", "*.int8.*"))
    for name in ("model.onnx", "model.tflite"):
        check = check_path(run / "exports" / name)
        check.write_text(json.dumps({**json.loads(check.read_text()), "source_sha256": "0" * 64}))
    assert predict.Predictor(run).runtime == "keras"
    with pytest.raises(UserError, match="exported from an earlier model.keras"):
        predict.Predictor(run, runtime="onnx")


def test_an_export_whose_file_name_is_no_utf8_runs(exported, digits, tmp_path):
    """A file name's undecodable bytes ("m\\xff.onnx", os.fsdecode's surrogate escapes) failed ONNX Runtime's and
    LiteRT's string conversion: "cannot load the ONNX model (__init__(): incompatible constructor arguments)"."""
    x = np.stack([images.to_mnist(images.load_grey(p)) for p in digits[0][:3]])
    for fmt in ("onnx", "litert"):
        src = exported[fmt, False].path
        odd = tmp_path / os.fsdecode(b"m\xff" + os.fsencode(src.suffix))
        shutil.copy(src, odd)
        assert np.array_equal(runtime.open_export(odd).probabilities(x), runtime.open_export(src).probabilities(x))


def test_damaged_export_is_refused_with_one_line(exported, digits, tmp_path, capsys):
    for fmt in ("onnx", "litert"):
        src = exported[fmt, False].path
        bad = tmp_path / src.name
        raw = bytearray(src.read_bytes())
        raw[len(raw) // 2] ^= 0xFF  # one weight byte: the file still parses, only the digest tells
        bad.write_bytes(bytes(raw))
        shutil.copy(check_path(src), check_path(bad))
        assert cli.main(["predict", str(digits[0][0]), "--model", str(bad)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "differs from the file that was checked" in err[0]
        check_path(bad).unlink()  # without its check: a truncated file does not load
        bad.write_bytes(src.read_bytes()[:1000])
        assert cli.main(["predict", str(digits[0][0]), "--model", str(bad)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "cannot load the" in err[0] and "Traceback" not in err[0]
    saved = exported["savedmodel", False].path  # TensorFlow's format, not one predict reads: said so
    assert cli.main(["predict", str(digits[0][0]), "--model", str(saved)]) == 2
    assert capsys.readouterr().err.strip().endswith("a SavedModel (for TensorFlow's own tools), not a run folder; "
                                                    "give the run folder it was exported from")


def test_evaluate_runs_an_export_in_its_runtime(tiny_run, exported, mnist_dir, capsys):
    """`evaluate --runtime onnx` and an export file judge the export: the accuracy its check measured."""
    for argv in (["evaluate", str(tiny_run), "--runtime", "onnx"], ["evaluate", str(exported["onnx", False].path)]):
        assert cli.main([*argv, "--json", "--data-dir", str(mnist_dir)]) == 0
        judged = json.loads(capsys.readouterr().out)
        assert judged["runtime"] == "onnx" and judged["engine"].startswith("onnxruntime ")
        assert judged["test_accuracy"] == exported["onnx", False].check["test_accuracy"]
    assert exported["onnx", False].check["tta"] == "shifts"  # its net trained without flips: the TTA evaluate takes


def test_missing_runtime_names_the_extra(exported, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    with pytest.raises(UserError, match=r"\(Python package onnxruntime\); install it with: pip install onnxruntime$"):
        runtime.open_export(exported["onnx", False].path)  # the package's own dependency: no extra brings it
    with pytest.raises(UserError, match=r"pip install onnxruntime$"):
        export.export(exported["onnx", False].path.parents[1], "onnx", out="/nonexistent/m.onnx")
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    with pytest.raises(UserError, match=r"^LiteRT is not installed .*: pip install 'mnist-cnn\[litert\]'$"):
        runtime.open_export(exported["litert", False].path)


def test_predict_with_an_export_imports_no_tensorflow(tiny_run, exported, digits, tmp_path):
    """TensorFlow installed, a fresh interpreter runs the CLI's predict on an export and a run folder: sys.modules tells
    that nothing loaded it (a guarded `import keras` would pass the test below, where it cannot be imported). Nor does
    ONNX Runtime leave its telemetry's device id and event queue in the home folder."""
    script = ("import json, sys\n"
              "from mnist_cnn import cli\n"
              "codes = [cli.main(['predict', *sys.argv[2:], '--model', m, '--json']) for m in sys.argv[1].split(',')]\n"
              "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'tf_keras', 'jax', "
              "'torch'})\n"
              "print(json.dumps({'codes': codes, 'heavy': heavy}))\n")
    models = ",".join([str(exported["onnx", False].path), str(exported["litert", True].path), str(tiny_run)])
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", "XDG_CACHE_HOME")}
    env.update(PYTHONPATH=str(SRC), HOME=str(home))
    done = subprocess.run([sys.executable, "-c", script, models, *map(str, digits[0][:3])], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"codes": [0, 0, 0], "heavy": []}
    assert [p.relative_to(home).as_posix() for p in home.rglob("*")] == []


# `pip install mnist-cnn` without the `train` and `onnx` extras (pyproject.toml): importing any of these fails
WITHOUT_TRAIN = (*(m for m, (_, extra) in extras.PACKAGES.items() if extra in ("train", "onnx")), "tf_keras", "jax",
                 "torch")
NO_TRAIN_SCRIPT = f"""import contextlib, io, json, sys
sys.modules.update(dict.fromkeys({WITHOUT_TRAIN!r}))  # None: import raises ModuleNotFoundError
from mnist_cnn import cli
done = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    out = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = cli.main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    done.append([code, err.getvalue().strip().splitlines(), out.getvalue()])
print(json.dumps(done))
"""


def test_without_tensorflow_exports_run_and_keras_work_says_what_to_install(tiny_run, exported, digits, tmp_path,
                                                                              mnist_dir):
    """A fresh interpreter where TensorFlow, Keras, matplotlib, scipy and the ONNX converter cannot be imported, as
    after `pip install mnist-cnn`: predict and read run an export; what needs Keras says so in one line, having
    printed, fetched and made nothing."""
    runs = tmp_path / "runs"  # the default model: the best run an export answers for, not a better one without
    shutil.copytree(tiny_run, runs / "a-exported")
    bare = runs / "b-bare"  # a run with no export: only Keras could run it
    shutil.copytree(tiny_run, bare, ignore=shutil.ignore_patterns("exports"))
    metrics = json.loads((bare / "metrics.json").read_text())
    (bare / "metrics.json").write_text(json.dumps({**metrics, "best_val_accuracy": 1.0}))
    d0 = str(digits[0][0])
    onnx, litert = str(exported["onnx", False].path), str(exported["litert", True].path)
    argvs = [["predict", *map(str, digits[0][:3]), "--model", m, "--json"] for m in (onnx, litert, str(tiny_run))]
    argvs += [["read", d0, "--model", onnx], ["predict", d0, "--out", str(runs), "--json"],
              ["evaluate", str(runs / "a-exported"), "--json", "--data-dir", str(mnist_dir)],
              ["predict", d0, "--model", str(tiny_run), "--runtime", "keras"], ["predict", d0, "--model", str(bare)],
              ["serve", "--model", str(bare), "--port", str(free_port())], ["evaluate", str(bare)],
              ["export", str(tiny_run), "--format", "onnx"], ["export", str(tiny_run), "--format", "web"],
              ["bench", "--quick", "--keep-runs", str(tmp_path / "kept")],
              ["train", "--epochs", "1", "--limit", "1000", "--out", str(tmp_path / "new"), "--data-dir",
               str(mnist_dir)]]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-c", NO_TRAIN_SCRIPT, json.dumps(argvs)], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert [code for code, *_ in results] == [0] * 6 + [2] * 8, results
    assert results[4][1][0] == (f"mnist-cnn: {runs / 'a-exported'}: the best run here an export answers for "
                                f"({bare} validates higher but has no current, checked export, and TensorFlow is not "
                                "installed)")
    judged = json.loads(results[5][2])  # evaluate: the run's fastest checked export, as its check measured it
    assert judged["runtime"] == "litert" and judged["engine"].startswith("ai-edge-litert ")
    assert judged["test_accuracy"] == exported["litert", False].check["test_accuracy"]
    assert all(len(err) == 1 for _, err, _ in results[6:]), results  # one line each, no traceback
    lines = [err[0].removeprefix("mnist-cnn: ") for _, err, _ in results[6:]]
    train = "which is not installed; install it with: pip install 'mnist-cnn[train]'"
    assert lines[0] == f"running {tiny_run / 'model.keras'} in Keras needs the Python package tensorflow-cpu, {train}"
    unchecked = f"running {bare / 'model.keras'} in Keras (it has no current, checked ONNX or LiteRT export)"
    assert lines[1] == lines[2] == f"{unchecked} needs the Python package tensorflow-cpu, {train}"
    stack = ("the Python packages tensorflow-cpu, keras, matplotlib, scipy, fonttools, which are not installed; "
             "install them with:")
    assert lines[3] == (f"evaluating {bare / 'model.keras'} in Keras (it has no current, checked ONNX or LiteRT "
                        "export) needs the Python packages tensorflow-cpu, keras, which are not installed; install "
                        "them with: pip install 'mnist-cnn[train]'")
    onnx_extra = stack.replace("scipy, fonttools", "tf2onnx, onnx").replace("matplotlib, ", "")
    assert lines[4] == f"exporting to onnx needs {onnx_extra} pip install 'mnist-cnn[train,onnx]'"
    assert lines[5] == f"exporting the web page needs {onnx_extra} pip install 'mnist-cnn[train,onnx]'"
    assert lines[6] == f"`mnist-cnn bench` needs {stack} pip install 'mnist-cnn[train]'"
    assert lines[7].startswith("`mnist-cnn train` needs the Python package ") and lines[7].endswith(train)
    assert not any(p.exists() for p in (bare / "feedback", tmp_path / "kept", tmp_path / "new")), "made a folder"
    assert not (tiny_run / "exports" / "web").exists()


def test_serve_answers_from_an_export_unchanged(exported, test_set):
    """serve.create_app takes any Predictor: the exported model answers the API with the Keras digits."""
    import warnings

    from mnist_cnn import serve

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    x = test_set[0][:5, :, :, 0]
    for fmt in ("onnx", "litert"):
        app = serve.create_app(predict.Predictor(exported[fmt, False].path))
        with TestClient(app, base_url="http://127.0.0.1") as client:  # a Host the server answers
            info = client.get("/api/model").json()
            assert info["recipe"] == "seed" and info["parameters"] == 693_962 and "path" not in info
            assert info["run"] == exported[fmt, False].path.parents[1].name  # the run's name, not the file's
            assert info["runtime"].startswith({"onnx": "onnxruntime", "litert": "ai-edge-litert"}[fmt])
            digits = [client.post("/api/predict", json={"pixels": d.tolist()}).json()["digit"] for d in x]
        keras = predict.Predictor(exported[fmt, False].path.parents[1], runtime="keras")
        assert digits == [int(keras.probabilities(images.to_mnist(d)[None]).argmax()) for d in x]


def test_ctrl_c_while_a_runtime_imports_is_not_a_missing_runtime(monkeypatch):
    """An extension module's init turns a KeyboardInterrupt into an ImportError; that is the user's Ctrl-C."""
    def interrupted(name):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ImportError(f"initialization of {name} failed")

    monkeypatch.setattr(runtime.importlib, "import_module", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runtime.require("onnx")


@pytest.mark.parametrize("change, said", [
    ({"dataset": "fashion"}, "key 'dataset': expected one of mnist, fashion-mnist, found 'fashion'"),
    ({"seed": "abc"}, "key 'seed': expected a whole number, found 'abc'"),
])
def test_a_run_whose_config_json_is_broken_is_one_line_naming_the_file_and_key(tiny_run, tmp_path, capsys, mnist_dir,
                                                                                 change, said):
    """Each command that reads a run's settings checks them first: before, export --int8 and calibrate died in a
    traceback on a seed of "abc", and an unknown data set was blamed on a --dataset flag export does not have."""
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    path = run / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    Image.new("L", (28, 28)).save(tmp_path / "x.png")
    for argv in (["export", str(run), "--format", "onnx", "--int8"], ["evaluate", str(run)],
                 ["calibrate", str(run), "--data-dir", str(mnist_dir)],
                 ["predict", str(tmp_path / "x.png"), "--model", str(run), "--runtime", "keras"]):
        assert cli.main(argv) == 2, argv
        assert capsys.readouterr().err.splitlines() == [f"mnist-cnn: {path}: {said}"], argv


def test_a_keras_file_beside_a_config_json_of_something_else_is_no_run(tiny_run, tmp_path, capsys):
    """Only a run's model.keras takes its folder's config.json: one's own model beside an editor's config.json
    predicts as before."""
    shutil.copy(tiny_run / "model.keras", tmp_path / "digits.keras")
    (tmp_path / "config.json").write_text('{"editor": "vim", "tabSize": 4}')
    Image.new("L", (28, 28)).save(tmp_path / "x.png")
    assert cli.main(["predict", str(tmp_path / "x.png"), "--model", str(tmp_path / "digits.keras"), "--json"]) == 0
    capsys.readouterr()


def test_an_export_folder_in_the_way_is_one_line_naming_it(tiny_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("exports"))
    (run / "exports").write_text("")
    assert cli.main(["export", str(run), "--format", "onnx"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"mnist-cnn: export folder: expected a folder, found a file at "
                                                    f"{run / 'exports'}"]
