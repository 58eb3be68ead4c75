"""One table per index and year: all 63 provinces, value and published rank, or missing.

The bundled data holds one row per source; ``consolidate`` turns them into one row per
province with an explicit, documented preference (stated over derived, then the most
precise figure, then the most sources) and records every disagreement it resolves in a
``note`` column. Nothing is filled in: a province no source covers keeps NA.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .registry import Registry

INDEXES = ("par_index", "sipas")
# The four published parts of the PAR INDEX total (points, not percent).
COMPONENT_COLUMNS = ("appraisal_points", "sipas_points", "leader_survey_points", "socioeconomic_impact_points")
STATUS_ORDER = {"stated": 0, "user": 0, "derived": 1, "inferred": 2, "secondary": 3}

# A user's file is cited by its name: "file:NAME". Citation lists are joined with ";" and
# split on ";" and ",", so a name that holds either (or "%") is written percent-escaped in the
# id, and read back whole by file_name_of.
_ID_ESCAPES = {"%": "%25", ";": "%3B", ",": "%2C"}


def file_source_id(name: str) -> str:
    """The source id of a user's file ``name`` (a file name, not a path)."""
    return "file:" + "".join(_ID_ESCAPES.get(ch, ch) for ch in name)


def file_name_of(source_id: str) -> str | None:
    """The file name a ``file:`` source id stands for; None for any other id."""
    if not source_id.startswith("file:"):
        return None
    return re.sub("%(25|3B|2C)", lambda m: {"25": "%", "3B": ";", "2C": ","}[m.group(1)], source_id[5:])


COLUMNS = ["province", "region", "value", "value_text", "value_decimals", "value_status",
           "value_sources", "rank", "rank_status", "rank_sources", "conflict_values", "note"]


@dataclass
class IndexTable:
    """Values and published ranks of one index in one year, indexed by GSO code (63 rows)."""

    index: str
    year: int
    data: pd.DataFrame
    origin: str = "bundled"  # "bundled" or the path of the user's file

    @property
    def n_value(self) -> int:
        return int(self.data["value"].notna().sum())

    @property
    def n_rank_only(self) -> int:
        return int((self.data["value"].isna() & self.data["rank"].notna()).sum())

    @property
    def n_unknown(self) -> int:
        return int((self.data["value"].isna() & self.data["rank"].isna()).sum())

    @property
    def complete(self) -> bool:
        return self.n_value == len(self.data)

    def coverage(self) -> dict:
        return {"provinces": len(self.data), "with_value": self.n_value,
                "with_rank_only": self.n_rank_only, "unknown": self.n_unknown,
                "complete": self.complete}


def decimals(text: object) -> int | None:
    """How many decimals a figure was published with ("91.80": 2); None for a missing figure."""
    if text is None or pd.isna(text):
        return None
    s = str(text).strip()
    return len(s.split(".", 1)[1]) if "." in s else 0


def most_precise(rows: pd.DataFrame) -> tuple[str | None, str]:
    """The most precise of the published figures in ``rows["value"]`` (the first of equals),
    and the sources that give it: several sources may print one figure at different precision."""
    if rows.empty:
        return None, ""
    best = max(rows["value"], key=lambda s: decimals(s) or 0)
    return best, ", ".join(dict.fromkeys(rows.loc[rows["value"] == best, "source_id"]))


def value_as_published(data: pd.DataFrame, code: str) -> str | None:
    """A value with the decimals it was published with; '≈' marks one published rounded
    (fewer than the ministry's two decimals). A user's own table is shown as typed."""
    v = data.at[code, "value"]
    if pd.isna(v):
        return None
    dec = data.at[code, "value_decimals"]
    dec = 2 if pd.isna(dec) else int(dec)
    rounded = dec < 2 and data.at[code, "value_status"] != "user"
    return ("≈" if rounded else "") + f"{float(v):.{dec}f}"


def at_rank(data: pd.DataFrame, first: bool) -> tuple[str | None, str, str | None, str]:
    """(name, rank sources, value as published or None, value sources) of the one unit a table
    places at rank 1 (``first``) or at the last rank; (None, "", None, "") if none or a tie."""
    hit = data[data["rank"].astype("Float64") == (1 if first else len(data))]
    if len(hit) != 1:
        return None, "", None, ""
    r = hit.iloc[0]
    value = None if pd.isna(r["value_text"]) else str(r["value_text"])
    return str(r["province"]), str(r["rank_sources"]), value, "" if value is None else str(r["value_sources"])


def empty_frame(registry: Registry) -> pd.DataFrame:
    df = pd.DataFrame({
        "code": [p.code for p in registry],
        "province": [p.name_vi for p in registry],
        "region": [p.region for p in registry],
    }).set_index("code")
    df["value"] = pd.array([pd.NA] * len(df), dtype="Float64")
    df["value_text"] = pd.array([pd.NA] * len(df), dtype="string")
    df["value_decimals"] = pd.array([pd.NA] * len(df), dtype="Int64")
    for c in ("value_status", "value_sources", "rank_status", "rank_sources"):
        df[c] = pd.array([pd.NA] * len(df), dtype="string")
    df["rank"] = pd.array([pd.NA] * len(df), dtype="Int64")
    # equally supported values that disagree, e.g. "91.81|91.87": the value stays unknown within them
    df["conflict_values"] = pd.array([pd.NA] * len(df), dtype="string")
    df["note"] = ""
    return df[COLUMNS]


def _pick(cands: list[dict], col: str) -> tuple[dict | None, list[list[dict]]]:
    """The best-supported figure for one cell, by a documented order of evidence.

    Primary sources (stated) before arithmetic on them (derived) before compilations
    (secondary); then the more precise figure; then the figure more sources give. Figures
    still equal on all three are a genuine conflict: no figure is picked (None) and every
    tied group is returned, so the caller can keep the conflict visible.
    """
    groups: dict[object, list[dict]] = {}  # by figure, in the order the rows first give it
    for r in cands:
        groups.setdefault(r[col], []).append(r)
    keyed = []
    for rows in groups.values():
        best_status = min(STATUS_ORDER.get(r["status"], 9) for r in rows)
        prec = max((decimals(r["value_text"]) or 0 for r in rows), default=0) if col == "value_text" else 0
        keyed.append(((best_status, -prec, -len({r["source_id"] for r in rows})), rows))
    top = min(k for k, _ in keyed)
    tied = [rows for k, rows in keyed if k == top]
    return (tied[0][0] if len(tied) == 1 else None), tied


def _best_status(rows: list[dict]) -> str:
    return str(min((r["status"] for r in rows), key=lambda st: STATUS_ORDER.get(st, 9)))


def _sources(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["source_id"] for r in rows))


def consolidate(observations: pd.DataFrame, index: str, year: int, registry: Registry) -> IndexTable:
    obs = observations[(observations["index"] == index) & (observations["year"] == year)]
    df = empty_frame(registry)
    notes: dict[str, list[str]] = {c: [] for c in df.index}
    # A row the research flags as contradicting another source is kept in data/ for the
    # record and named here, but never becomes the unit's figure.
    flagged = obs["status"] == "conflict"
    for _, o in obs[flagged].iterrows():
        if o["province_code"] in notes:
            fig = o["value_text"] if not pd.isna(o["value"]) else f"rank {int(o['rank'])}"
            notes[o["province_code"]].append(f"{fig} ({o['source_id']}) contradicts another source: not used")
    # plain records, grouped by unit (pandas' per-group frames were most of a warm summary's time)
    by_code: dict[str, list[dict]] = {}
    for r in obs[~flagged].to_dict("records"):
        by_code.setdefault(r["province_code"], []).append(r)

    value_cols = ["value", "value_text", "value_decimals", "value_status", "value_sources"]
    rank_cols = ["rank", "rank_status", "rank_sources"]
    picked_values: dict[str, list] = {}
    picked_ranks: dict[str, list] = {}
    conflicts: dict[str, str] = {}
    for code in sorted(by_code):
        rows = by_code[code]
        vals = [r for r in rows if not pd.isna(r["value"])]
        if vals:
            best, tied = _pick(vals, "value_text")
            if best is None:
                conflicts[code] = "|".join(str(t[0]["value_text"]) for t in tied)
                notes[code].append("values " + " and ".join(
                    f"{t[0]['value_text']} ({', '.join(_sources(t))})" for t in tied)
                    + " are equally supported: the value is left unknown between them")
            else:
                same = tied[0]
                v = float(best["value"])
                status = _best_status(same)
                picked_values[code] = [v, best["value_text"], decimals(best["value_text"]), status,
                                       ";".join(_sources(same))]
                d = decimals(best["value_text"]) or 0
                for o in vals:
                    if o["value_text"] == best["value_text"]:
                        continue
                    tol = 0.5 * 10 ** -min(d, decimals(o["value_text"]) or 0)
                    if abs(float(o["value"]) - v) > tol + 1e-9:
                        notes[code].append(f"value {o['value_text']} ({o['status']}, {o['source_id']}) "
                                           f"disagrees with {best['value_text']}; kept {best['value_text']} "
                                           f"({status}, {len(set(_sources(same)))} source(s))")
        ranks = [r for r in rows if not pd.isna(r["rank"])]
        if ranks:
            best, tied = _pick(ranks, "rank")
            if best is None:
                notes[code].append("ranks " + " and ".join(
                    f"{int(t[0]['rank'])} ({', '.join(_sources(t))})" for t in tied)
                    + " are equally supported: no rank kept")
            else:
                same = tied[0]
                picked_ranks[code] = [int(best["rank"]), _best_status(same), ";".join(_sources(same))]
                for r in sorted({int(o["rank"]) for o in ranks} - {int(best["rank"])}):
                    notes[code].append(f"rank {r} also reported; kept {int(best['rank'])}")
    # One assignment per column, not per cell: row-by-row .loc writes were most of the time here.
    for picked, cols in ((picked_values, value_cols), (picked_ranks, rank_cols)):
        if picked:
            codes = list(picked)
            for j, col in enumerate(cols):
                df.loc[codes, col] = pd.array([picked[c][j] for c in codes], dtype=df[col].dtype)

    if conflicts:
        df.loc[list(conflicts), "conflict_values"] = pd.array(list(conflicts.values()), dtype="string")
    # Two provinces hold one rank only if their values tie. Both ranks stay: whether they can
    # hold together, and which one gives way, is the inference's and the audit's to say.
    for rank, rows in df[df["rank"].notna()].groupby("rank"):
        if len(rows) < 2:
            continue
        for code in rows.index:
            notes[code].append(f"rank {int(rank)} is also published for "
                               f"{', '.join(rows.drop(code)['province'])}")
    df["note"] = [" | ".join(notes[c]) for c in df.index]
    return IndexTable(index=index, year=year, data=df, origin="bundled")


def years_with_data(observations: pd.DataFrame, index: str) -> list[int]:
    return sorted(int(y) for y in observations.loc[observations["index"] == index, "year"].unique())


def disagreements(observations: pd.DataFrame, table: IndexTable) -> pd.DataFrame:
    """Cells where sources give different figures: every figure with its best status and number
    of sources, and the figure the table keeps (None: the conflict is left unresolved)."""
    obs = observations[(observations["index"] == table.index) & (observations["year"] == table.year)]
    # only the units with two different numbers for a cell are looked at figure by figure (the
    # loop below took a tenth of a document's rendering when it went through all of them)
    differ = set()
    for col in ("value", "rank"):
        n = obs.loc[obs[col].notna(), col].astype(float).round(6).groupby(obs["province_code"]).nunique()
        differ |= set(n.index[n > 1])
    rows = []
    for code, g in obs[obs["province_code"].isin(differ)].groupby("province_code", sort=False):
        for what, col in (("value", "value"), ("rank", "rank")):
            vals = g[g[col].notna()]
            keyed = vals.assign(_f=[str(int(x)) for x in vals["rank"]] if what == "rank"
                                else [str(t) for t in vals["value_text"]])
            figures = []
            for fig, rows_ in keyed.groupby("_f", sort=False):
                figures.append({"figure": fig, "status": _best_status(rows_.to_dict("records")), "sources": rows_["source_id"].nunique(),
                                "source_ids": list(dict.fromkeys(rows_["source_id"])),
                                "number": float(rows_[col].iloc[0])})
            if len({round(f["number"], 6) for f in figures}) < 2:
                continue
            d = table.data
            kept = d.at[code, "value_text" if what == "value" else "rank"]
            rows.append({"code": code, "province": d.at[code, "province"], "what": what, "figures": figures,
                         "kept": None if pd.isna(kept) else str(kept)})
    return pd.DataFrame(rows, columns=["code", "province", "what", "figures", "kept"])
