# Two commands for readers and CI (see README.md):
#   make book   re-execute every chapter notebook in place, then render _build/html
#   make test   unit tests + nbval over every stored notebook
# (both first run `make data`: chapter 7 needs the Fashion-MNIST files, see below)
# and one to run the chapters interactively:
#   make lab    JupyterLab on book/, from the pinned environment
# Both create .venv from the pinned requirements when it is missing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.qsgd-installed
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))

# One BLAS/OpenMP thread per process: outputs are bitwise repeatable and two
# notebooks can run side by side on two cores.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYTHONHASHSEED := 0
export TQDM_DISABLE := 1
# the QDK (chapter 9) reports usage over the network unless told not to
export QDK_PYTHON_TELEMETRY := none
export QSHARP_PYTHON_TELEMETRY := none

.PHONY: book execute html test unit nbval portable bench train fig2 fig3 env clean lab

env: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test,book,resources]"
	@$(BIN)/python -c 'import torch; assert torch.__version__.startswith("2.13.0"), torch.__version__'
	@# build matplotlib's font cache here, not inside a notebook: its notice on stderr would fail nbval
	$(BIN)/python -c 'import matplotlib.font_manager'
	touch $@

book: execute html

execute: $(STAMP) data
	$(BIN)/python scripts/execute_notebooks.py --jobs 2 $(NOTEBOOKS)

html: $(STAMP)
	rm -rf _build/html
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going

PYTEST := $(BIN)/python -m pytest -n 2 --dist loadfile -p no:cacheprovider
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with book/nbval_sanitize.cfg --nbval-cell-timeout 600

test: $(STAMP) data
	$(PYTEST) $(NBVAL) tests $(NOTEBOOKS)

unit: $(STAMP)
	$(PYTEST) tests

nbval: $(STAMP) data
	$(PYTEST) $(NBVAL) $(NOTEBOOKS)

# nbval again under two OpenBLAS kernels and two torch instruction sets other than this machine's
# defaults (scripts/portable.py picks them), the two variants side by side: stored outputs must not
# depend on the CPU's floating-point kernels
portable: $(STAMP) data
	$(BIN)/python scripts/portable.py --jobs 2 $(NOTEBOOKS)

# JupyterLab from the same pinned environment: the `lab` extra is installed on first use (not needed by
# `make book` or `make test`); the kernel sees the one-thread settings exported above
lab: $(STAMP)
	$(BIN)/python -c 'import jupyterlab' 2>/dev/null || $(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test,book,resources,lab]"
	$(BIN)/jupyter lab book

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

# chapter 7's stored runs: fig2, the paper's Fig. 2 protocol (about an hour on two cores), and fig3, the
# Fig. 3 analogue on a 14 times larger ResNet (about 20 minutes); resumable (rerun the same command after
# an interruption), with a progress bar and an ETA on stderr
fig2 fig3: $(STAMP) data
	OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 TQDM_DISABLE=0 $(BIN)/python -m qsgd experiments --scale $@ --output book/data/$@ --progress

# the two stored quantum training runs that chapter 8 reads (resumable; see qsgd/stored_training.py)
train: $(STAMP)
	$(BIN)/python -m qsgd train --preset mixed --output book/data/train200_mixed.json
	$(BIN)/python -m qsgd train --preset quantum-only --output book/data/train200_quantum.json

clean:
	rm -rf _build .pytest_cache

# Fashion-MNIST for chapter 7: Debian's package dataset-fashion-mnist (four IDX files in
# /usr/share/datasets/fashion-mnist), installed when missing and the machine allows it (root + apt);
# otherwise qsgd.data's own error says where it looked and how to get the files. QSGD_DATA_DIR may
# name another directory that holds them (the search order is qsgd.data.find_fashion_mnist's).
FIND_FASHION := $(BIN)/python -c 'from qsgd.data import find_fashion_mnist; find_fashion_mnist()'
.PHONY: data
data: $(STAMP)
	@if $(FIND_FASHION) 2>/dev/null; then echo "Fashion-MNIST: all four files found"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	else \
	  $(FIND_FASHION) 2>&1 | tail -n 1; exit 1; \
	fi
