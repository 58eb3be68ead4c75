"""Where the project's data and outputs live."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ParindexError


# the checkout this package was installed from (editable install); resolved once: every table
# a document prints asks for the data folder, and resolving the path each time cost 0.1 ms a call
_CHECKOUT = Path(__file__).resolve().parents[3]


def project_root() -> Path:
    """The checkout that holds data/, notebooks/ and reports/.

    ``PARINDEX_ROOT`` overrides it, so an installed package can point at any checkout.
    """
    env = os.environ.get("PARINDEX_ROOT")
    candidates = [Path(env)] if env else []
    candidates += [_CHECKOUT, Path.cwd()]
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


def bundled_years() -> list[int]:
    """The years ``load_bundle().years()`` gives (an observation or a national fact on PAR INDEX or
    SIPAS), read without pandas: the command line refuses a year before it starts anything."""
    import csv

    years: set[int] = set()
    for name in ("observations.csv", "national_facts.csv"):
        with (data_dir() / name).open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if row.get("index") in ("par_index", "sipas") and str(row.get("year", "")).isdigit():
                    years.add(int(row["year"]))
    return sorted(years)


def check_year_has_data(year: int, *files: object) -> None:
    """A year without bundled data is refused unless the user's own tables are given."""
    if any(files):
        return
    years = bundled_years()
    if year not in years:
        raise ParindexError(f"no bundled data for {year}",
                            fix=f"choose one of {', '.join(map(str, years))} or pass --par-index/--sipas")
