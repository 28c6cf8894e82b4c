# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-out

.PHONY: demo test test-full fuzz bench-kernels bench-accuracy bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# A synthetic 7-hour night from an ankle sensor at 25 Hz (hypnic simulate --seed 48), bundled.
demo: $(STAMP)
	$(BIN)/hypnic detect recordings/demo/demo_night.csv.gz --placement ankle \
		--start 2026-11-24T22:45:00+01:00 --out $(DEMO_OUT)
	@echo "report: $(CURDIR)/$(DEMO_OUT)/report.html"

test: $(STAMP)
	NUMBA_CACHE_DIR=$(CURDIR)/$(VENV)/numba-cache $(BIN)/python -m pytest -q -m "not slow and not fuzz"

# Long fuzz runs (thousands of examples per reader and codec).
fuzz: $(STAMP)
	NUMBA_CACHE_DIR=$(CURDIR)/$(VENV)/numba-cache $(BIN)/python -m pytest -q -m fuzz

# pytest-benchmark cases of the kernels (disabled in the normal run).
bench-kernels: $(STAMP)
	$(BIN)/python -m pytest -q tests/bench_kernels.py --benchmark-enable

test-full: $(STAMP)
	NUMBA_CACHE_DIR=$(CURDIR)/$(VENV)/numba-cache $(BIN)/python -m pytest -q

bench-accuracy: $(STAMP)
	$(BIN)/hypnic bench accuracy --seeds 6 --jobs 2 --conditions base,amp_x0.5,amp_x2,rotated,robust,alt,noise300,holdout,pairs,robust_pairs,temperature,coarse,coarse_notemp --cache .bench-cache

bench: $(STAMP)
	$(BIN)/hypnic bench

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .hypothesis .bench-cache
