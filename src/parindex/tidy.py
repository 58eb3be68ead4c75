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
from .analysis import YearAnalysis, analyse, load_bundle
from .errors import ParindexError
from .lifecycle import make_scratch, remove_stale

RESULTS = "results.csv"
SOURCES = "sources.csv"

# (name, frictionless type, description); the order is the CSV's column order.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("index", "string", "par_index or sipas."),
    ("year", "integer", "Assessment year (the year measured, not the year announced)."),
    ("units", "string", "provinces (63 until 2024, 34 from 2025) or ministries."),
    ("code", "string", "Unit code: GSO 2004 code until 2024, Quyết định 19/2025/QĐ-TTg code from 2025, "
                       "a short code for a ministry."),
    ("unit", "string", "Vietnamese name."),
    ("region", "string", "GSO socio-economic region key (cross_regional for a 2025 unit formed across two); "
                         "empty for the ministries."),
    ("value", "number", "Index value in percent; empty when not published."),
    ("value_published", "string", "The value as published (its text: '84' and '84.00' differ in precision)."),
    ("value_decimals", "integer", "Decimals the value was published with."),
    ("rank_published", "integer", "Published rank (1 = best); empty when not published."),
    ("rank_computed", "integer", "Rank computed from a complete table's values; empty otherwise."),
    ("group", "string", "Group or tier where the record establishes it; empty when unknown."),
    ("group_basis", "string", "value, record, announced_counts or unknown: how the group is known."),
    ("possible_groups", "string", "Every group the record still allows, separated by '|'."),
    ("lower_bound", "number", "Lowest value any table consistent with the published record allows."),
    ("upper_bound", "number", "Highest value any table consistent with the published record allows."),
    ("value_status", "string", "stated, derived, inferred, secondary or user."),
    ("rank_status", "string", "stated, derived, inferred, secondary or user."),
    ("sources", "string", "Source ids separated by ';' (see sources.csv)."),
    ("note", "string", "How disagreeing sources were resolved, if they were."),
)


def tidy(a: YearAnalysis, units: str = "provinces") -> pd.DataFrame:
    """The year's consolidated rows for every index of the chosen units."""
    results = [("par_index", a.ministries)] if units == "ministries" else [
        ("par_index", a.par_index), ("sipas", a.sipas)]
    regions = {p.code: p.region for p in a.bundle.units(a.year, units)}
    rows = []
    for idx, res in results:
        if res is None:
            continue
        c, d = res.classified, res.table.data
        for code in c.index:
            r, t = c.loc[code], d.loc[code]
            srcs = [s for col in ("value_sources", "rank_sources") if not pd.isna(t[col])
                    for s in str(t[col]).split(";") if s]
            rows.append({
                "index": idx, "year": a.year, "units": units, "code": code, "unit": t["province"],
                "region": regions.get(code) or None,
                "value": None if pd.isna(t["value"]) else float(t["value"]),
                "value_published": None if pd.isna(t["value_text"]) else str(t["value_text"]),
                "value_decimals": None if pd.isna(t["value_decimals"]) else int(t["value_decimals"]),
                "rank_published": None if pd.isna(r["rank_published"]) else int(r["rank_published"]),
                "rank_computed": None if pd.isna(r["rank_computed"]) else int(r["rank_computed"]),
                "group": None if pd.isna(r["group"]) else str(r["group"]),
                "group_basis": str(r["group_basis"]),
                "possible_groups": "|".join(p for p in str(r["possible"]).split(",") if p) or None,
                "lower_bound": None if pd.isna(r["lo"]) else round(float(r["lo"]), 4),
                "upper_bound": None if pd.isna(r["hi"]) else round(float(r["hi"]), 4),
                "value_status": None if pd.isna(t["value_status"]) else str(t["value_status"]),
                "rank_status": None if pd.isna(t["rank_status"]) else str(t["rank_status"]),
                "sources": ";".join(dict.fromkeys(srcs)) or None,
                "note": t["note"] or None,
            })
    df = pd.DataFrame(rows, columns=[f for f, _, _ in FIELDS])
    for col in ("year", "value_decimals", "rank_published", "rank_computed"):
        df[col] = df[col].astype("Int64")
    return df


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
