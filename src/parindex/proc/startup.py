"""Start-up speed for parindex's own processes (the command line, its kernel and PDF workers).

jsonschema checks the "iri" string format with rfc3987-syntax whenever that package is
installed; it comes with JupyterLab (through jupyter-events), and importing it builds a parser
grammar: about 1.5 s on every ``import nbformat``. Notebook validation never uses that
format, so parindex's processes go without it. A researcher's own Python is untouched: this
runs only from ``parindex.cli.main`` and ``parindex.build.kernel.main``.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator


def skip_slow_optional_imports() -> None:
    if "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import -> ImportError


@contextlib.contextmanager
def imports_without_collections() -> Iterator[None]:
    """Import a process's modules with the cyclic collector off, then freeze what they made.

    Imports allocate hundreds of thousands of objects that live as long as the process; every
    700 allocations the collector rescanned them (a sixth of a kernel's start-up). Frozen, they
    are also left out of every later full collection while the cells run."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_on:
            gc.enable()
