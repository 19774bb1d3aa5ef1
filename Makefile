# One entry point. `make test` and `make demo` work on a fresh Debian machine: they create the
# project-local environments (.venv for Python and R, .venv-np2 for NumPy 2, .venv-tf215 for
# Keras 2, .rlib for the R package) and install what they need themselves.

SHELL := /bin/bash
PYTHON_BOOT ?= python3
VENV := .venv
VENV_NP2 := .venv-np2
VENV_KERAS2 := .venv-tf215
PY := $(VENV)/bin/python
RLIB := $(CURDIR)/.rlib

export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
export RETICULATE_PYTHON := $(CURDIR)/$(PY)
export R_LIBS := $(RLIB)
export PYIMPORTANCE_PYTHON := $(CURDIR)/$(PY)

.PHONY: all test test-python test-numpy2 test-keras2 test-r check-r render docs demo bench lint r-system r-package clean

all: test

r-system:
	bash scripts/ensure_r.sh

# The main environment: NumPy 1.26 (what Debian's reticulate can load), TensorFlow, Keras,
# tf-keras, rpy2, Dask and the test tools. R uses this one too.
$(VENV)/.installed: pyproject.toml requirements/r-env.txt scripts/ensure_r.sh
	bash scripts/ensure_r.sh
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements/r-env.txt -e ".[keras,dask,test]" "$$(bash scripts/rpy2_spec.sh)"
	# tf-keras declares a dependency on the full `tensorflow` wheel; tensorflow-cpu provides it.
	$(PY) -m pip install -q --no-deps "tf-keras==2.21.*"
	touch $@

# A light environment on the newest NumPy 2, pandas and SciPy, without TensorFlow, for the
# engine's tests that need no Keras and no R.
$(VENV_NP2)/.installed: pyproject.toml
	$(PYTHON_BOOT) -m venv $(VENV_NP2)
	$(VENV_NP2)/bin/python -m pip install -q --upgrade pip
	$(VENV_NP2)/bin/python -m pip install -q "numpy>=2" -e ".[test]"
	touch $@

# Keras 2: TensorFlow 2.15, whose `keras` is Keras 2.15 (as R's legacy keras package has it), on
# NumPy 1, for the Keras tests (tf-keras is not installed: Keras 2 is `keras` itself here).
$(VENV_KERAS2)/.installed: pyproject.toml requirements/keras2-env.txt
	$(PYTHON_BOOT) -m venv $(VENV_KERAS2)
	$(VENV_KERAS2)/bin/python -m pip install -q --upgrade pip
	$(VENV_KERAS2)/bin/python -m pip install -q -c requirements/keras2-env.txt -e ".[test]" tensorflow-cpu
	touch $@

r-package: $(VENV)/.installed
	mkdir -p $(RLIB)
	R CMD INSTALL --no-test-load --library=$(RLIB) r_wrapper >/dev/null

# tests/docs need the built site: `make docs` runs them.
test-python: $(VENV)/.installed
	$(PY) -m pytest -q -p no:cacheprovider -m "not docs"

test-numpy2: $(VENV_NP2)/.installed
	$(VENV_NP2)/bin/python -m pytest -q -p no:cacheprovider -m "not keras and not r and not docs"

# The Keras tests on Keras 2 (tests marked keras3 need Keras 3), in about a minute: tests/install
# (building and installing the package) and the Dask cluster runs do not depend on the Keras version
# and run in test-python only; a Keras 2 model's trip to the workers is run here on a thread pool.
test-keras2: $(VENV_KERAS2)/.installed
	$(VENV_KERAS2)/bin/python -m pytest -q -p no:cacheprovider -m "keras and not keras3 and not r and not docs" \
		--ignore=tests/install -k "not dask"

test-r: r-package
	Rscript scripts/run_r_tests.R

# R CMD check on the built package; fails on any ERROR or WARNING (testthat runs once, in test-r).
check-r: $(VENV)/.installed
	bash scripts/check_r_package.sh

render: r-package
	Rscript scripts/render_vignettes.R

# The documentation tools, added to the main environment (a stamp of its own, so an existing .venv gets
# them too): Debian's chromium for the browser test, and the `docs` extra.
$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml scripts/ensure_docs.sh
	bash scripts/ensure_docs.sh
	$(PY) -m pip install -q -c requirements/r-env.txt -e ".[docs]"
	touch $@

# The documentation site in site/ (mkdocs.yml): the pages of docs/, the reference from the docstrings and
# the Rd files, the notebook executed, the vignettes as `render` made them; then every example of the
# pages is run and the site is tested in headless chromium (tests/docs).
docs: $(VENV)/.docs-installed r-package render
	$(PY) scripts/build_docs.py
	$(PY) -m pytest -q -p no:cacheprovider -m docs tests/docs

lint: $(VENV)/.installed
	$(PY) -m ruff check pyimportance tests bench

test: lint test-python test-numpy2 test-keras2 test-r check-r render docs

demo: $(VENV)/.installed
	$(VENV)/bin/pyimportance demo --out out

bench: $(VENV)/.installed r-package
	$(PY) bench/run_bench.py --out bench/RESULTS.md
	$(PY) bench/bench_stopping.py --out bench/RESULTS_stopping.md
	$(PY) bench/bench_conditional.py --out bench/RESULTS_conditional.md
	$(PY) bench/coverage.py --out bench/RESULTS_coverage.md

clean:
	rm -rf $(VENV) $(VENV_NP2) $(VENV_KERAS2) $(RLIB) out
