"""What a province brief says, as plain data (the notebook only displays it)."""

from __future__ import annotations

from ..errors import ParindexError

from dataclasses import dataclass

import pandas as pd

from .analysis import IndexResult, YearAnalysis
from ..data.collate import by_name
from ..data.registry import Province


@dataclass
class Standing:
    """One index, one province, one year: exactly what is known."""

    index: str
    value: float | None
    value_text: str | None
    rank: int | None
    group: str | None
    group_basis: str
    possible: list[str]
    lo: float
    hi: float
    margin_up: tuple[float, float] | None  # (cut-off above, points needed)
    margin_down: tuple[float, float] | None  # (cut-off below, points of headroom)
    above: list[tuple[str, str, float | None, int | None]]  # (code, name, value, rank)
    below: list[tuple[str, str, float | None, int | None]]
    sources: list[str]

    @property
    def kind(self) -> str:
        if self.value is not None:
            return "value"
        if self.rank is not None:
            return "rank_only"
        return "nothing"


def _val(x: object) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def standing(res: IndexResult, code: str) -> Standing:
    c = res.classified
    d = res.table.data
    row = c.loc[code]
    v = _val(row["value"])
    rank = None if pd.isna(row["rank_published"]) else int(row["rank_published"])
    up = down = None
    if v is not None and res.rules is not None and res.rules.is_band:
        cuts = res.rules.cutoffs()
        above = [x for x in cuts if x > v]
        below = [x for x in cuts if x <= v]
        up = (above[0], round(above[0] - v, 4)) if above else None
        down = (below[-1], round(v - below[-1], 4)) if below else None
    # neighbours: by published rank where the province has one, else by value
    order = c.assign(_r=c["rank_published"].astype("Float64"), _v=c["value"].astype("Float64"))
    if rank is not None:
        ranked = order[order["_r"].notna()].sort_values("_r")
        pos = list(ranked.index).index(code)
        nb_above = list(ranked.index[max(0, pos - 2):pos])
        nb_below = list(ranked.index[pos + 1:pos + 3])
    elif v is not None:
        valued = order[order["_v"].notna()].sort_values("_v", ascending=False)
        pos = list(valued.index).index(code)
        nb_above = list(valued.index[max(0, pos - 2):pos])
        nb_below = list(valued.index[pos + 1:pos + 3])
    else:
        nb_above, nb_below = [], []

    def info(codes: list[str]) -> list[tuple[str, str, float | None, int | None]]:
        return [(k, c.at[k, "province"], _val(c.at[k, "value"]),
                 None if pd.isna(c.at[k, "rank_published"]) else int(c.at[k, "rank_published"])) for k in codes]

    srcs = []
    for col in ("value_sources", "rank_sources"):
        if not pd.isna(d.at[code, col]):
            srcs += [s for s in str(d.at[code, col]).split(";") if s not in srcs]
    return Standing(res.table.index, v, None if pd.isna(d.at[code, "value_text"]) else str(d.at[code, "value_text"]),
                    rank, None if pd.isna(row["group"]) else str(row["group"]), str(row["group_basis"]),
                    [p for p in str(row["possible"]).split(",") if p], float(row["lo"]), float(row["hi"]),
                    up, down, info(nb_above), info(nb_below), srcs)


def region_peers(a: YearAnalysis, province: Province) -> pd.DataFrame:
    reg = a.bundle.units(a.year).table
    codes = list(reg.loc[reg["region"] == province.region, "code"])
    rows = []
    for code in codes:
        p, s = a.par_index.classified.loc[code], a.sipas.classified.loc[code]
        rows.append({"code": code, "province": p["province"], "par_value": _val(p["value"]),
                     "par_rank": None if pd.isna(p["rank_published"]) else int(p["rank_published"]),
                     "par_group": None if pd.isna(p["group"]) else p["group"], "sipas_value": _val(s["value"]),
                     "sipas_rank": None if pd.isna(s["rank_published"]) else int(s["rank_published"]),
                     "sipas_group": None if pd.isna(s["group"]) else s["group"]})
    df = pd.DataFrame(rows)
    return df.sort_values(["par_rank", "par_value", "province"], ascending=[True, False, True], key=by_name,
                          na_position="last").reset_index(drop=True)


def _code(units, name: str) -> str | None:
    try:
        return units.resolve(name).code
    except ParindexError:  # a name the registry does not know is no one's
        return None


def history(a: YearAnalysis, province: Province) -> pd.DataFrame:
    """Value and rank per year and index from the bundled evidence (the analysed year from the
    user's table where one was given); missing stays missing."""
    from .trends import ends

    obs = a.bundle.observations
    years = a.bundle.years()
    rows = []
    for y in range(min(years), max(years) + 1):
        row: dict[str, object] = {"year": y}
        for idx in ("par_index", "sipas"):
            # a unit's history is its own code's in its own period (a 2025 code may be another
            # province's 2004 code): the predecessors' figures are in the report, not mixed in here
            row[f"{idx}_sources"] = ""
            if a.bundle.units(y) is not a.bundle.units(a.year):
                row[f"{idx}_value"] = row[f"{idx}_rank"] = None
                continue
            sources: list[str] = []
            own = a.result(idx).table
            if y == a.year and own.origin != "bundled":
                # the year of a user's table: its figures, as the brief states them above the table
                d = own.data.loc[province.code] if province.code in own.data.index else None
                row[f"{idx}_value"] = None if d is None or pd.isna(d["value_text"]) else str(d["value_text"])
                row[f"{idx}_rank"] = None if d is None or pd.isna(d["rank"]) else int(d["rank"])
                sources += [] if d is None else [d[col] for col in ("value_sources", "rank_sources") if not pd.isna(d[col])]
                row[f"{idx}_sources"] = ";".join(dict.fromkeys(x for v in sources for x in str(v).split(";") if x))
                continue
            if ((obs["index"] == idx) & (obs["year"] == y) & (obs["province_code"] == province.code)).any():
                d = a.bundle.published(idx, y).loc[province.code]
                row[f"{idx}_value"] = None if pd.isna(d["value_text"]) else str(d["value_text"])
                row[f"{idx}_rank"] = None if pd.isna(d["rank"]) else int(d["rank"])
                sources += [d[col] for col in ("value_sources", "rank_sources") if not pd.isna(d[col])]
            else:
                row[f"{idx}_value"] = row[f"{idx}_rank"] = None
            # the year's leader or last place is this unit: the maximum (minimum) is its value,
            # as the national series says (trends.ends); one answer in the brief and the report
            e = ends(a.bundle, idx, y)
            for who, fig, rank in (("leader", "max", 1), ("last_place", "min", len(a.bundle.units(y)))):
                if e[who][0] is not None and _code(a.bundle.units(y), e[who][0]) == province.code:
                    row[f"{idx}_rank"] = row[f"{idx}_rank"] or rank
                    row[f"{idx}_value"] = row[f"{idx}_value"] or e[fig][0]
                    sources += [e[who][1], e[fig][1]]
            # the sources of what the row shows: "a;b" (tables) or "a, b" (the series)
            ids = [x.strip() for v in sources for x in str(v).replace(",", ";").split(";") if x.strip()]
            row[f"{idx}_sources"] = ";".join(dict.fromkeys(ids))
        rows.append(row)
    return pd.DataFrame(rows)
