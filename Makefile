# The README's two commands: `make report` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup report test test-fast bench lab clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

setup: $(STAMP)

report: setup
	$(BIN)/parindex report --year 2020

test: setup
	@command -v pdftotext >/dev/null || { echo "pdftotext missing: apt-get install -y poppler-utils"; exit 1; }
	@command -v chromium >/dev/null || { echo "chromium missing: apt-get install -y chromium"; exit 1; }
	$(BIN)/python -m pytest -q

test-fast: setup  # everyday edits: everything but the kernel builds (pytest -m "not slow")
	$(BIN)/python -m pytest -q -m "not slow"

lab: setup  # JupyterLab on notebooks/, with this project's kernel (python3 in .venv)
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: setup
	$(BIN)/python bench/bench_report.py

clean:
	rm -rf $(VENV) reports/20*
