# Two commands do everything: `make run` (the seed job) and `make test` (the test suite).
# Each creates .venv and installs the package on first use; later calls reinstall only when
# pyproject.toml changed (the .venv/.installed stamp).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test data bench clean help
.DEFAULT_GOAL := help

help:
	@echo "make run    train the reference CNN, print test accuracy, save mnist_plots/*.png; its refusal rule, ONNX"
	@echo "make test   run the test suite"
	@echo "make data   fetch and verify MNIST"
	@echo "make bench  train and time every recipe side by side (about 27 min on 2 cores)"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

data: $(STAMP)
	$(PY) -m mnist_cnn data

# The seed job, then its refusal rule and "not a digit" gate (the whole: 2.5-6 min on class A, ~6 on class C), so that
# predict, read and serve refuse what is no digit from the start, and its checked ONNX export (~10 s), which they then
# run without TensorFlow (`predict one.png` in ~0.5 s, not ~12). `make run RUN_FLAGS=` is the script alone.
RUN_FLAGS ?= --calibrate --export onnx

run: $(STAMP)
	$(PY) mnist_cnn.py $(RUN_FLAGS)

# Three pytest-xdist workers on CI's 2 cores: while one waits on a subprocess, a browser or a server, the
# others compute (class C, 2026-12-04, same code: 18 min 34 s on two, 15 min 10 s on three). Whole files per worker, so
# each file's module fixtures are made once; tests/conftest.py orders the files longest first.
PYTEST_WORKERS ?= 3

test: $(STAMP)
	$(PY) -m mnist_cnn data
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

clean:
	rm -rf $(VENV) mnist_plots runs

bench: $(STAMP)
	$(PY) -m mnist_cnn bench
