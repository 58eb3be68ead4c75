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
from .errors import ParindexError
from .infer.analysis import analyse, load_bundle
from .infer.tidy import (FIELDS, GROUP_FIELDS, GROUPS, NATIONAL, NATIONAL_FIELDS, REGION_FIELDS, REGIONS, RESULTS,
                         SOURCE_FIELDS, SOURCES, tidy, year_tables)
from .proc.lifecycle import make_scratch, remove_stale

_TITLES = {
    RESULTS: "One row per index, year and unit: value, rank, group, bounds, sources",
    NATIONAL: "The facts published about each index-year, and what the rest of the record says of each",
    REGIONS: "The socio-economic regions: published means and what the record allows",
    GROUPS: "Group counts per index-year: announced, and what the record allows with and without them",
    SOURCES: "Every source cited in the other files",
}
_KEYS = {RESULTS: ["index_name", "year", "code"], NATIONAL: ["index_name", "year", "fact", "published"],
         REGIONS: ["index_name", "year", "region"], GROUPS: ["index_name", "year", "group"], SOURCES: ["source_id"]}


def _schemas() -> dict[str, tuple[tuple[str, str, str], ...]]:
    return {RESULTS: FIELDS, NATIONAL: NATIONAL_FIELDS, REGIONS: REGION_FIELDS, GROUPS: GROUP_FIELDS,
            SOURCES: SOURCE_FIELDS}


def _descriptor(years: list[int], units: str, n_rows: int, xlsx: bool) -> dict:
    res = []
    for path, fields in _schemas().items():
        fs = [{"name": n, "type": t, "description": d} for n, t, d in fields]
        for f in fs:
            if f["name"] in _KEYS[path] or f["name"] in ("units", "unit", "group_basis"):
                f["constraints"] = {"required": True}
        res.append({"name": path.removesuffix(".csv"), "path": path, "profile": "tabular-data-resource",
                    "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "title": _TITLES[path],
                    "schema": {"fields": fs, "primaryKey": _KEYS[path], "missingValues": [""]}})
    return {"profile": "tabular-data-package", "name": f"parindex-{units}-{years[0]}-{years[-1]}",
            "title": "parindex export", "version": __version__,
            "description": f"{n_rows} rows in results.csv ({units}, {years[0]}–{years[-1]}). Produced by parindex "
                           f"{__version__} from public sources; not an official publication. Empty cells are "
                           "not published / not known. " + CITE,
            "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
                          "title": "The compilation; the figures are the Ministry of Home Affairs' public results"}],
            "resources": res}


CITE = ("Cite as: parindex contributors, parindex (version {v}), data export of PAR INDEX and SIPAS "
        "results compiled from public sources; and the sources in sources.csv.").format(v=__version__)


def readme_sheet(years: list[int], units: str) -> pd.DataFrame:
    """The workbook's first sheet: what each sheet and column is, the licence and how to cite."""
    rows = [{"sheet": "", "column": "", "description": f"parindex {__version__} export, {units}, "
                                                        f"{years[0]}–{years[-1]}. Empty cells: not published / not known."},
            {"sheet": "", "column": "", "description": CITE},
            {"sheet": "", "column": "", "description": "Licence: CC-BY-4.0 for the compilation; the figures are the "
                                                       "Ministry of Home Affairs' public results."}]
    for path, fields in _schemas().items():
        sheet = path.removesuffix(".csv")
        rows.append({"sheet": sheet, "column": "", "description": _TITLES[path]})
        rows += [{"sheet": sheet, "column": n, "description": f"{d} ({t})"} for n, t, d in fields]
    return pd.DataFrame(rows)


def export(years: list[int], out: Path, units: str = "provinces", xlsx: bool = False) -> list[Path]:
    """Write the package into ``out`` (created if needed); every file appears at once or not at all."""
    if not years:
        raise ParindexError("no year to export", fix="pass --year YEAR or --year all")
    frames, extra = [], {NATIONAL: [], REGIONS: [], GROUPS: []}
    for y in years:
        a = analyse(y)
        if units == "ministries" and a.ministries is None:
            raise ParindexError(f"no data on the ministries for {y}", fix="choose a year with data on the ministries")
        frames.append(tidy(a, units))
        for name, df in year_tables(a, units).items():
            extra[name].append(df)
    df = pd.concat(frames, ignore_index=True)
    tables = {RESULTS: df}
    for name, parts in extra.items():
        tables[name] = pd.concat(parts, ignore_index=True)
    used = {s for t in tables.values() if "sources" in t for v in t["sources"].dropna() for s in v.split(";")}
    src = load_bundle().sources
    src = src[src["source_id"].isin(used)].sort_values("source_id")[[f for f, _, _ in SOURCE_FIELDS]]
    tables[SOURCES] = src
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale(out, ".export")  # what a killed export left (its owner marker says so; nothing else)
    tmp = make_scratch(".export", out)
    try:
        names = list(tables)
        for name, t in tables.items():
            t.to_csv(tmp / name, index=False, lineterminator="\n")
        names.append("datapackage.json")
        (tmp / "datapackage.json").write_text(
            json.dumps(_descriptor(years, units, len(df), xlsx), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8")
        if xlsx:
            with pd.ExcelWriter(tmp / "parindex.xlsx", engine="openpyxl") as w:
                readme_sheet(years, units).to_excel(w, sheet_name="README", index=False)
                for name, t in tables.items():
                    t.to_excel(w, sheet_name=name.removesuffix(".csv"), index=False)
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
