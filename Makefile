# The README's two commands: `make report` and `make test`. Both create .venv on first use.
# The interpreter .venv is made from. An existing .venv keeps its own (pyvenv.cfg's executable):
# a set-up rerun after a pull never switches it. A new one is made from the system's own Python
# 3.11 where it has venv and ensurepip (Debian 12 with python3.11-venv; Ubuntu's python3.11),
# else from python3. Distributions build CPython with profile-guided and link-time optimisation,
# which a plain source build (pyenv's default, as on our CI machines) lacks: on 2 cores the suite
# spends 12 % less CPU on it and a report 15 %. Another: rm -rf .venv && make setup PYTHON=...
SYSTEM_PYTHON := /usr/bin/python3.11
VENV_PYTHON = sed -n 's/^executable = //p' $(VENV)/pyvenv.cfg 2>/dev/null
PYTHON ?= $(shell p=$$($(VENV_PYTHON)); \
  if [ -n "$$p" ] && [ -x "$$p" ]; then echo "$$p"; \
  elif $(SYSTEM_PYTHON) -c "import venv, ensurepip" >/dev/null 2>&1; then echo $(SYSTEM_PYTHON); \
  else echo python3; fi)
# Python may cache compiled modules here: with caching off (as some containers set it), every
# kernel, PDF worker and test process compiled parindex and the tests afresh (4 s of the fast suite)
unexport PYTHONDONTWRITEBYTECODE
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
UV_WHEEL := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/parindex/setup
SKIP_SLOW := from parindex.proc.startup import skip_slow_optional_imports; skip_slow_optional_imports();

.PHONY: setup report test test-fast system-deps bench lab clean

# ipykernel's kernelspec install leaves an empty tmp*_kernels in the temporary folder: the
# set-up's temporary files (uv's downloaded wheel too) go to a folder of its own, removed at the end
$(STAMP): export TMPDIR := $(abspath $(VENV))/.setup-tmp
$(STAMP): requirements.lock pyproject.toml
	@# a .venv made by another interpreter (PYTHON=... given) is made anew, not refilled: two
	@# standard libraries in one venv break it ("No module named 'math'")
	$(PYTHON) -m venv --without-pip $$([ -f $(VENV)/pyvenv.cfg ] && [ "$$($(VENV_PYTHON))" \
	  != "$$($(PYTHON) -c 'import os, sys; print(os.path.realpath(sys.executable))')" ] && echo --clear) $(VENV)
	mkdir -p $(VENV)/.setup-tmp
	@# uv installs the lock's exact versions as pip would, in about a third of the time
	@# (parallel downloads and unpacking): the installer's own version is in the lock too. It is
	@# put in with the interpreter's own pip where that can install into another environment
	@# (--python); the venv's own pip bootstrap (ensurepip) took 3.5 s of the set-up. Without
	@# such a pip, the venv bootstraps its own first. Either way the venv has the pip that
	@# ensurepip carries (for %pip in a notebook): uv installs that version with the lock.
	@# pip downloads uv's wheel (17.6 MB) each time and, here, does not cache it: 1.2-2 s of the
	@# set-up, more when the network is slow. The wheel is kept in parindex's cache folder
	@# (UV_WHEEL) and installed from there without the index; where it is missing or broken, it
	@# is downloaded to a temporary folder first and then copied in (installed from the
	@# temporary folder where the cache folder cannot be written).
	uv=$$(grep -E '^uv==' requirements.lock); dl=$(VENV)/.setup-tmp/wheel; get() { $(PYTHON) -m pip \
	    --python $(BIN)/python install --quiet --disable-pip-version-check --no-index --find-links "$$1" $$uv; }; \
	{ get "$(UV_WHEEL)" || { $(PYTHON) -m pip download --quiet --disable-pip-version-check --no-deps \
	    --only-binary :all: --dest $$dl $$uv && { mkdir -p "$(UV_WHEEL)" && cp -f $$dl/*.whl "$(UV_WHEEL)/" \
	    && get "$(UV_WHEEL)" || get $$dl; }; }; } 2>/dev/null \
	  || { $(BIN)/python -m ensurepip >/dev/null \
	       && $(BIN)/python -m pip install --quiet --disable-pip-version-check $$uv; }
	@# One uv run for the lock and parindex itself (editable): the package is built (flit_core,
	@# pyproject.toml) while the lock's wheels are unpacked. --no-deps: the lock is the whole
	@# environment, exactly (uv pip check passes on it), and nothing outside it is added.
	@# From uv's cache alone first (0.3 s; asking the index each time took 0.8-1.2 s), from the
	@# index where the cache lacks a file (a first set-up on a machine).
	pip=pip==$$($(BIN)/python -c "import ensurepip; print(ensurepip.version())"); \
	$(BIN)/uv pip install --quiet --offline --python $(BIN)/python --no-deps -r requirements.lock $$pip -e . 2>/dev/null \
	  || $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -r requirements.lock $$pip -e .
	@# Bytecode for what the reports, their kernels and the tests import, written by importing
	@# it (two processes, one per core): a quarter of the environment's modules, compiled in
	@# 5 s where compiling all of them took 12 s. Anything else compiles when first imported.
	@# Both import as parindex's processes do (parindex.proc.startup): nbformat without the
	@# parser grammar of rfc3987-syntax, which cost each of them a second and a half.
	@# The second also installs this environment's kernelspec (python3, for Jupyter and stock
	@# papermill): what `python -m ipykernel install --sys-prefix` does, without the 0.8 s of
	@# a process of its own that imports ipykernel again.
	$(BIN)/python -c "$(SKIP_SLOW) import parindex.cli, parindex.render.sections, parindex.infer.analysis, parindex.data.loading, \
	  parindex.build.report, parindex.build.briefs, matplotlib.pyplot, matplotlib_inline.backend_inline, openpyxl, \
	  typer._adapters" & p=$$!; \
	$(BIN)/python -c "$(SKIP_SLOW) import weasyprint, pikepdf, nbconvert.exporters, papermill, jupyter_client.asynchronous, \
	  ipykernel.kernelapp, highspy, pytest, xdist, PIL.Image, sys; \
	  from ipykernel.kernelspec import install; install(prefix=sys.prefix, kernel_name='python3')" && wait $$p
	rm -rf $(VENV)/.setup-tmp
	touch $(STAMP)

setup: $(STAMP)

report: setup
	$(BIN)/parindex report --year 2020

# On every core (pytest-xdist, -n auto in pyproject.toml); each document and each year's inference
# is made once per run and shared by the workers (tests/conftest.py).
test: setup system-deps
	$(BIN)/python -m pytest -q

# The tests read PDFs with poppler's tools, check the HTML in headless Chromium and render PDFs
# with Pango. As root on Debian or Ubuntu, what is missing is installed (one line says what);
# otherwise the one command to run is printed.
system-deps:
	@missing=""; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	{ ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0; } || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make test: installing$$missing (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    { apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 \
	      || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; }; } \
	      || { echo "make test: could not install$$missing"; exit 1; }; \
	  else \
	    echo "make test: missing$$missing; run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

test-fast: setup  # everyday edits: all but kernel builds, cold solves of bundled years and repeated cases (pytest -m "not slow")
	$(BIN)/python -m pytest -q -m "not slow"

# JupyterLab on notebooks/ with this project's kernel (python3 in .venv). PORT=8899 picks the port,
# NO_BROWSER=1 serves without opening a browser (a server, a container); as root, --allow-root is added.
lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(PORT),--port=$(PORT)) $(if $(NO_BROWSER),--no-browser) \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root)

bench: setup
	$(BIN)/python bench/bench_report.py

clean:
	rm -rf $(VENV) reports/20*
