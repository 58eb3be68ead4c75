"""Where the project's data and outputs live."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ParindexError


def project_root() -> Path:
    """The checkout that holds data/, notebooks/ and reports/.

    ``PARINDEX_ROOT`` overrides it, so an installed package can point at any checkout.
    """
    env = os.environ.get("PARINDEX_ROOT")
    candidates = [Path(env)] if env else []
    candidates += [Path(__file__).resolve().parents[2], Path.cwd()]
    for c in candidates:
        if (c / "data" / "datapackage.json").is_file():
            return c
    raise ParindexError(
        "cannot find the parindex data package (data/datapackage.json)",
        fix="run from a parindex checkout or set PARINDEX_ROOT to one",
    )


def data_dir() -> Path:
    return project_root() / "data"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def reports_dir() -> Path:
    return project_root() / "reports"
