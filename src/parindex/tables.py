"""One table per index and year: all 63 provinces, value and published rank, or missing.

The bundled data holds one row per source; ``consolidate`` turns them into one row per
province with an explicit, documented preference (stated over derived, then the most
precise figure, then the most sources) and records every disagreement it resolves in a
``note`` column. Nothing is filled in: a province no source covers keeps NA.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .registry import Registry

INDEXES = ("par_index", "sipas")
# The four published parts of the PAR INDEX total (points, not percent).
COMPONENT_COLUMNS = ("appraisal_points", "sipas_points", "leader_survey_points", "socioeconomic_impact_points")
STATUS_ORDER = {"stated": 0, "user": 0, "derived": 1}

COLUMNS = ["province", "region", "value", "value_text", "value_decimals", "value_status",
           "value_sources", "rank", "rank_status", "rank_sources", "note"]


@dataclass
class IndexTable:
    """Values and published ranks of one index in one year, indexed by GSO code (63 rows)."""

    index: str
    year: int
    data: pd.DataFrame
    origin: str = "bundled"  # "bundled" or the path of the user's file
    notes: list[str] = field(default_factory=list)

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
    if text is None or pd.isna(text):
        return None
    s = str(text).strip()
    return len(s.split(".", 1)[1]) if "." in s else 0


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
    df["note"] = ""
    return df[COLUMNS]


def _pick(cands: pd.DataFrame, col: str) -> tuple[pd.Series, pd.DataFrame]:
    """Best candidate for one figure, and the group of rows that give that same figure."""
    grouped = []
    for val, rows in cands.groupby(col, sort=False):
        best_status = min(STATUS_ORDER.get(s, 9) for s in rows["status"])
        prec = rows["value_text"].map(decimals).max() if col == "value_text" else 0
        grouped.append((best_status, -int(prec or 0), -len(rows), str(val), rows))
    grouped.sort(key=lambda g: g[:4])
    rows = grouped[0][4]
    return rows.iloc[0], rows


def consolidate(observations: pd.DataFrame, index: str, year: int, registry: Registry) -> IndexTable:
    obs = observations[(observations["index"] == index) & (observations["year"] == year)]
    df = empty_frame(registry)
    notes: dict[str, list[str]] = {c: [] for c in df.index}

    value_cols = ["value", "value_text", "value_decimals", "value_status", "value_sources"]
    rank_cols = ["rank", "rank_status", "rank_sources"]
    picked_values: dict[str, list] = {}
    picked_ranks: dict[str, list] = {}
    for code, rows in obs.groupby("province_code"):
        vals = rows[rows["value"].notna()]
        if len(vals):
            best, same = _pick(vals, "value_text")
            v = float(best["value"])
            picked_values[code] = [v, best["value_text"], decimals(best["value_text"]),
                                   "stated" if (same["status"] == "stated").any() else "derived",
                                   ";".join(dict.fromkeys(same["source_id"]))]
            d = decimals(best["value_text"]) or 0
            for _, o in vals[vals["value_text"] != best["value_text"]].iterrows():
                tol = 0.5 * 10 ** -min(d, decimals(o["value_text"]) or 0)
                if abs(float(o["value"]) - v) > tol + 1e-9:
                    notes[code].append(f"value {o['value_text']} ({o['status']}, {o['source_id']}) "
                                       f"disagrees with {best['value_text']}")
        ranks = rows[rows["rank"].notna()]
        if len(ranks):
            best, same = _pick(ranks, "rank")
            picked_ranks[code] = [int(best["rank"]), "stated" if (same["status"] == "stated").any() else "derived",
                                  ";".join(dict.fromkeys(same["source_id"]))]
            for r in sorted(set(ranks["rank"].astype(int)) - {int(best["rank"])}):
                notes[code].append(f"rank {r} also reported; kept {int(best['rank'])}")
    # One assignment per column, not per cell: row-by-row .loc writes were most of the time here.
    for picked, cols in ((picked_values, value_cols), (picked_ranks, rank_cols)):
        if picked:
            codes = list(picked)
            for j, col in enumerate(cols):
                df.loc[codes, col] = pd.array([picked[c][j] for c in codes], dtype=df[col].dtype)

    # Two provinces cannot hold one rank unless their values tie; a derived rank that
    # collides with a stated one is the weaker claim and is dropped, with a note.
    for rank, rows in df[df["rank"].notna()].groupby("rank"):
        if len(rows) < 2:
            continue
        stated = rows[rows["rank_status"] == "stated"]
        if len(stated) and len(stated) < len(rows):
            for code in rows.index.difference(stated.index):
                notes[code].append(f"derived rank {int(rank)} dropped: {', '.join(stated['province'])} "
                                   f"has stated rank {int(rank)}")
                df.loc[code, ["rank", "rank_status", "rank_sources"]] = [pd.NA, pd.NA, pd.NA]
        else:
            for code in rows.index:
                notes[code].append(f"rank {int(rank)} is shared with "
                                   f"{', '.join(rows.drop(code)['province'])}")
    df["note"] = [" | ".join(notes[c]) for c in df.index]
    return IndexTable(index=index, year=year, data=df, origin="bundled")


def years_with_data(observations: pd.DataFrame, index: str) -> list[int]:
    return sorted(int(y) for y in observations.loc[observations["index"] == index, "year"].unique())
