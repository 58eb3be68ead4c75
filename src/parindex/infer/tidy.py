"""The consolidated tables as tidy rows: one row per (index, year, unit), from a year's analysis.

The value as published and its precision, the published and computed ranks, the group and how
it is known, the joint bounds, the status and the sources. Missing stays missing. ``parindex
export`` writes these rows as a data package (parindex.export); the report shows them (``r.table``).
"""

from __future__ import annotations

import pandas as pd

from .analysis import YearAnalysis
from .places import region_places

RESULTS = "results.csv"
SOURCES = "sources.csv"
NATIONAL = "national.csv"
REGIONS = "regions.csv"
GROUPS = "groups.csv"

# (name, frictionless type, description); the order is the CSV's column order.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("index_name", "string", "par_index or sipas."),
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
    ("rank_computed", "integer", "Rank computed from the values of a complete table (a user's official annex); "
                                 "empty for the bundled years, whose tables are partial (see lower/upper_bound)."),
    ("group", "string", "Group or tier where the record establishes it; empty when unknown."),
    ("group_basis", "string", "value, record, announced_counts or unknown: how the group is known."),
    ("possible_groups", "string", "Every group the record still allows, separated by '|'."),
    ("lower_bound", "number", "Lowest value any table consistent with the published record allows."),
    ("upper_bound", "number", "Highest value any table consistent with the published record allows."),
    ("region_place_min", "integer", "Best place in its region the national record allows (1 = first; ties share the best "
                                    "place); empty where the year's regional membership is not recorded (before 2022)."),
    ("region_place_max", "integer", "Worst place in its region the national record allows: equal to region_place_min "
                                    "where the record decides it, else an outer bound (parindex.infer.places)."),
    ("value_status", "string", "stated, derived, inferred, secondary or user."),
    ("rank_status", "string", "stated, derived, inferred, secondary or user."),
    ("sources", "string", "Source ids separated by ';' (see sources.csv)."),
    ("note", "string", "How disagreeing sources were resolved, if they were."),
)


# The facts the Ministry published about a whole index-year (means, extremes, announced counts,
# lists, cut-offs) with what the rest of the record says of each: the audit, as rows.
NATIONAL_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("index_name", "string", "par_index, sipas or par_index_ministries."),
    ("year", "integer", "Assessment year."),
    ("fact", "string", "The fact's key (e.g. mean_63, max, group_count_A, n_highest_group, top_5); a fact sources disagree on has one row per version."),
    ("published", "string", "The figure or list as published (its text)."),
    ("audit", "string", "reproduced (the rest of the record implies it), consistent (allows it), "
                        "contradicted, or not_checkable."),
    ("allowed", "string", "What the rest of the record allows for it (percent, or a number of units)."),
    ("allowed_min", "number", "Lower end of `allowed` (percent or units); empty when not computed."),
    ("allowed_max", "number", "Upper end of `allowed`; empty when not computed."),
    ("set_aside", "boolean", "The bounds rest on the record without this fact (it is in a contradiction)."),
    ("detail", "string", "Why a fact is not checkable, or the other facts of its contradiction."),
    ("sources", "string", "Source ids separated by ';' (see sources.csv)."),
)

REGION_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("index_name", "string", "par_index or sipas."),
    ("year", "integer", "Assessment year."),
    ("region", "string", "Socio-economic region key (data/regions.csv)."),
    ("region_vi", "string", "Region name in Vietnamese."),
    ("region_en", "string", "Region name in English."),
    ("n_units", "integer", "Provinces of the region that year (membership by period, data/regions.csv); "
                           "empty where no act states the membership (2019)."),
    ("n_with_value", "integer", "Provinces of the region whose value is published."),
    ("mean_published", "number", "The region's mean as the Ministry published it (percent); empty when not published."),
    ("mean_audit", "string", "reproduced, consistent or contradicted: the published mean against the rest of the record."),
    ("mean_allowed_min", "number", "Lowest regional mean the rest of the record allows (percent)."),
    ("mean_allowed_max", "number", "Highest regional mean the rest of the record allows (percent)."),
    ("sources", "string", "Source ids separated by ';' (see sources.csv)."),
)

GROUP_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("index_name", "string", "par_index or sipas (or par_index_ministries)."),
    ("year", "integer", "Assessment year."),
    ("group", "string", "Group or tier label of the year's rules (data/classification_rules.csv)."),
    ("rule", "string", "The group's rule as recorded (e.g. '≥ 80, < 90')."),
    ("rule_basis", "string", "stated or inferred: whether a source states the rule."),
    ("announced", "integer", "Number of units the Ministry announced in the group; empty when none was announced."),
    ("count_min", "integer", "Fewest units the whole published record allows in the group (announced counts included)."),
    ("count_max", "integer", "Most units the whole published record allows in the group."),
    ("count_min_without_counts", "integer", "Fewest units the record allows without the announced counts."),
    ("count_max_without_counts", "integer", "Most units the record allows without the announced counts."),
    ("units_placed", "integer", "Units the record places in the group by name (see results.group)."),
)

SOURCE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("source_id", "string", "The id cited in the other files' sources columns."),
    ("url", "string", "Where the source can be read."),
    ("publisher", "string", "Who published it."),
    ("published", "date", "Date of publication (YYYY-MM-DD); empty only when published_note says why."),
    ("class", "string", "official (a decision, a ministry or government page), press, or secondary "
                        "(aggregator, unverified copy): secondary-only figures are marked in the report."),
    ("published_note", "string", "What the date is (the decision's, the article's) or why it is missing."),
    ("title", "string", "Title of the page or document."),
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
        places = region_places(a, idx) if units == "provinces" else None
        for code in c.index:
            place = places.loc[code] if places is not None and code in places.index else None
            r, t = c.loc[code], d.loc[code]
            srcs = [s for col in ("value_sources", "rank_sources") if not pd.isna(t[col])
                    for s in str(t[col]).split(";") if s]
            rows.append({
                "index_name": idx, "year": a.year, "units": units, "code": code, "unit": t["province"],
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
                "region_place_min": None if place is None else int(place["place_min"]),
                "region_place_max": None if place is None else int(place["place_max"]),
                "value_status": None if pd.isna(t["value_status"]) else str(t["value_status"]),
                "rank_status": None if pd.isna(t["rank_status"]) else str(t["rank_status"]),
                "sources": ";".join(dict.fromkeys(srcs)) or None,
                "note": t["note"] or None,
            })
    return _typed(pd.DataFrame(rows, columns=[f for f, _, _ in FIELDS]), FIELDS)


def _typed(df: pd.DataFrame, fields: tuple[tuple[str, str, str], ...]) -> pd.DataFrame:
    """Nullable dtypes throughout: one missing marker (pd.NA) in every column, never NaN or None."""
    kinds = {"integer": "Int64", "number": "Float64", "string": "string", "boolean": "boolean", "date": "string"}
    for f, t, _ in fields:
        df[f] = df[f].astype(kinds[t]) if t != "number" else pd.to_numeric(df[f]).astype("Float64")
    return df


def year_tables(a: YearAnalysis, units: str = "provinces") -> dict[str, pd.DataFrame]:
    """The year's national facts, regions and groups, from the same summary the reports print."""
    from .analysis import summary

    doc = summary(a)
    indices = ["ministries"] if units == "ministries" else ["par_index", "sipas"]
    facts, regions, groups = [], [], []
    region_meta = a.bundle.regions.set_index("region") if a.bundle.regions is not None else pd.DataFrame()
    for item in doc["audit"]:
        is_ministries = item["index"].endswith("_ministries")
        if (units == "ministries") != is_ministries:
            continue
        rng = item.get("range") or [None, None]
        row = {"index_name": item["index"], "year": a.year, "fact": item["fact"], "published": item["published"],
               "audit": item["status"], "allowed": item["computed"] or None,
               "allowed_min": rng[0], "allowed_max": rng[1], "set_aside": bool(item["set_aside"]),
               "detail": item["detail"] or None, "sources": ";".join(item["source_ids"]) or None}
        facts.append(row)
    for key in indices:
        res = a.ministries if key == "ministries" else getattr(a, key)
        part = doc[key]
        if res is None or part is None:
            continue
        name = res.table.index
        rules = {r["label"]: r for r in part["rules"] or []}
        for lab in (res.rules.labels if res.rules is not None else []):
            cr = (part["count_ranges"] or {}).get(lab) or [None, None]
            cw = (part["count_ranges_without_counts"] or {}).get(lab) or [None, None]
            groups.append({"index_name": name, "year": a.year, "group": lab,
                           "rule": rules.get(lab, {}).get("rule"), "rule_basis": rules.get(lab, {}).get("basis"),
                           "announced": (part["announced_counts"] or {}).get(lab), "count_min": cr[0], "count_max": cr[1],
                           "count_min_without_counts": cw[0], "count_max_without_counts": cw[1],
                           "units_placed": (part["groups"] or {}).get(lab, 0)})
        if key == "ministries":
            continue
        data = res.table.data
        members: dict[str, list[str]] = {}
        for u in a.bundle.units(a.year, units):
            if u.region:
                members.setdefault(u.region, []).append(u.code)
        for region, codes in members.items():
            fact = next((f for f in facts if f["index_name"] == name and f["fact"] == f"regional_mean_{region}"), None)
            # a region has a row in the years data/regions.csv records a period of its membership for
            if region not in region_meta.index:
                continue
            periods = region_meta.loc[[region]]
            inside = periods[(periods["first_year"] <= a.year) & (periods["last_year"] >= a.year)]
            if inside.empty:
                continue
            meta = inside.iloc[0]
            known = not pd.isna(meta["legal_basis"]) and str(meta["legal_basis"]).strip() != ""
            regions.append({
                "index_name": name, "year": a.year, "region": region,
                "region_vi": meta["name_vi"], "region_en": meta["name_en"],
                # a period whose membership no act states (2019): the counts are not known
                "n_units": len(codes) if known else None,
                "n_with_value": int(data.loc[data.index.isin(codes), "value"].notna().sum()) if known else None,
                "mean_published": None if fact is None else float(fact["published"]),
                "mean_audit": None if fact is None else fact["audit"],
                "mean_allowed_min": None if fact is None else fact["allowed_min"],
                "mean_allowed_max": None if fact is None else fact["allowed_max"],
                "sources": None if fact is None else fact["sources"]})
    out = {NATIONAL: pd.DataFrame(facts, columns=[f for f, _, _ in NATIONAL_FIELDS]),
           REGIONS: pd.DataFrame(regions, columns=[f for f, _, _ in REGION_FIELDS]),
           GROUPS: pd.DataFrame(groups, columns=[f for f, _, _ in GROUP_FIELDS])}
    for name, fields in ((NATIONAL, NATIONAL_FIELDS), (REGIONS, REGION_FIELDS), (GROUPS, GROUP_FIELDS)):
        out[name] = _typed(out[name], fields)
    return out
