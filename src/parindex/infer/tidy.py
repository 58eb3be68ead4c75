"""The consolidated tables as tidy rows: one row per (index, year, unit), from a year's analysis.

The value as published and its precision, the published and computed ranks, the group and how
it is known, the joint bounds, the status and the sources. Missing stays missing. ``parindex
export`` writes these rows as a data package (parindex.export); the report shows them (``r.table``).
"""

from __future__ import annotations

import pandas as pd

from .analysis import YearAnalysis

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
