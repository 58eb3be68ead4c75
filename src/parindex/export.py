"""The consolidated tables as a tidy Frictionless data package, for one's own analysis.

One row per (index, year, unit): the value as published and its precision, the published and
computed ranks, the group and how it is known, the joint bounds, the status and the sources.
Missing stays missing (empty cells). ``parindex export`` writes ``datapackage.json``, the CSV
files it describes and, on request, the same tables as one XLSX workbook.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd

from . import __version__
from .infer.analysis import analyse, load_bundle
from .infer.tidy import FIELDS, tidy
from .errors import ParindexError
from .proc.lifecycle import make_scratch, remove_stale

RESULTS = "results.csv"
SOURCES = "sources.csv"


def _descriptor(years: list[int], units: str, n_rows: int, xlsx: bool) -> dict:
    fields = [{"name": n, "type": t, "description": d} for n, t, d in FIELDS]
    for f in fields:
        if f["name"] in ("index", "year", "units", "code", "unit", "group_basis"):
            f["constraints"] = {"required": True}
    res = [{
        "name": "results", "path": RESULTS, "profile": "tabular-data-resource", "format": "csv",
        "mediatype": "text/csv", "encoding": "utf-8",
        "title": f"Consolidated PAR INDEX / SIPAS tables ({units}), {years[0]}–{years[-1]}",
        "schema": {"fields": fields, "primaryKey": ["index", "year", "code"], "missingValues": [""]},
    }, {
        "name": "sources", "path": SOURCES, "profile": "tabular-data-resource", "format": "csv",
        "mediatype": "text/csv", "encoding": "utf-8", "title": "Sources cited in results.sources",
        "schema": {"fields": [{"name": n, "type": "string"} for n in ("source_id", "url", "publisher",
                                                                      "published", "class", "published_note",
                                                                      "title")],
                   "primaryKey": ["source_id"], "missingValues": [""]},
    }]
    return {"profile": "tabular-data-package", "name": f"parindex-{units}-{years[0]}-{years[-1]}",
            "title": "parindex export", "version": __version__,
            "description": f"{n_rows} rows. Produced by parindex {__version__} from public sources; "
                           "not an official publication. Empty cells are not published / not known.",
            "resources": res}


def export(years: list[int], out: Path, units: str = "provinces", xlsx: bool = False) -> list[Path]:
    """Write the package into ``out`` (created if needed); every file appears at once or not at all."""
    if not years:
        raise ParindexError("no year to export", fix="pass --year YEAR or --year all")
    frames = []
    for y in years:
        a = analyse(y)
        if units == "ministries" and a.ministries is None:
            raise ParindexError(f"no data on the ministries for {y}", fix="choose a year with data on the ministries")
        frames.append(tidy(a, units))
    df = pd.concat(frames, ignore_index=True)
    used = {s for v in df["sources"].dropna() for s in v.split(";")}
    src = load_bundle().sources
    src = src[src["source_id"].isin(used)].sort_values("source_id")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale(out, ".export")  # what a killed export left (its owner marker says so; nothing else)
    tmp = make_scratch(".export", out)
    try:
        df.to_csv(tmp / RESULTS, index=False, lineterminator="\n")
        src.to_csv(tmp / SOURCES, index=False, lineterminator="\n")
        names = [RESULTS, SOURCES, "datapackage.json"]
        (tmp / "datapackage.json").write_text(
            json.dumps(_descriptor(years, units, len(df), xlsx), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8")
        if xlsx:
            with pd.ExcelWriter(tmp / "parindex.xlsx", engine="openpyxl") as w:
                df.to_excel(w, sheet_name="results", index=False)
                src.to_excel(w, sheet_name="sources", index=False)
            names.append("parindex.xlsx")
        # the descriptor moves last: it never describes files that are not there yet
        for n in [n for n in names if n != "datapackage.json"] + ["datapackage.json"]:
            os.replace(tmp / n, out / n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out / n for n in names]


# Before the layout of issue 21, parindex.export held the nbconvert exporters (now
# parindex.render.exporters) and this module was parindex.tidy. The installed nbconvert entry
# point and older code still name them here; they resolve, with a warning, until the next release.
_MOVED = ("ReportHTMLExporter", "ReportPDFExporter", "render_pdf", "part_notebook", "part_ranges")


def __getattr__(name: str):
    if name in _MOVED:
        import warnings

        from .render import exporters

        warnings.warn(f"parindex.export.{name} moved to parindex.render.exporters.{name}; "
                      "the old path goes in the next release", DeprecationWarning, stacklevel=2)
        return getattr(exporters, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
