# Two entry points (README): `make quickstart` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: setup quickstart test test-learning benchmark mlflow-ui clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch==2.13.0 resolves to the local CPU wheel on CPU machines (pip find-links);
	# compat editable mode puts the repo on sys.path, so new packages need no reinstall.
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev]' --config-settings editable_mode=compat
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

quickstart: setup
	$(BIN)/actlab run tune_specs/quickstart.yaml
	$(BIN)/actlab report quickstart

# What CI runs: everything except the slow learning tests.
test: setup
	$(BIN)/python -m pytest -m "not learning" -p no:cacheprovider --timeout 900 $(PYTEST_ARGS)

test-learning: setup
	$(BIN)/python -m pytest -m learning --timeout 3600 $(PYTEST_ARGS)

benchmark: setup
	$(BIN)/python benchmarks/throughput_gridworld.py
	$(BIN)/python benchmarks/throughput_td3.py
	$(BIN)/python benchmarks/nearest_item_lookup.py

mlflow-ui: setup
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns.db --host 127.0.0.1 --port 5000

clean:
	rm -rf $(VENV) actlab_results reports mlruns.db
