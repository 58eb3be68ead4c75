"""Check a table against every published national fact of its year.

Each fact gets one status:
- reproduced: the table determines the figure and it equals the published one;
- consistent: the table does not determine it, but the published figure is within
  what the table allows (the range is given);
- contradicted: the table rules the published figure out;
- not_checkable: the figure does not follow from province values (survey facts,
  changes against the previous year).
Group counts are audited on value- and bound-based groups only: a group placed by
rank and announced counts would be checking the counts against themselves.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .classify import RuleSet
from .tables import COMPONENT_COLUMNS, IndexTable, decimals

REPRODUCED, CONSISTENT, CONTRADICTED, NOT_CHECKABLE = ("reproduced", "consistent", "contradicted",
                                                       "not_checkable")
ADDITIVITY_TOLERANCE = 0.02  # points; the published parts are themselves rounded to 2 decimals

_NOT_FROM_VALUES = {
    "n_improved_vs_prev_year": "needs the previous year's table",
    "largest_rise_province": "needs the previous year's table",
    "smallest_rise_province": "needs the previous year's table",
    "n_rank_up": "needs the previous year's table",
    "n_rank_down": "needs the previous year's table",
    "n_rank_unchanged": "needs the previous year's table",
    "national_rate": "survey-wide rate, not a function of the 63 provincial values",
}


@dataclass
class AuditItem:
    index: str
    year: int
    fact: str
    published: str
    status: str
    computed: str = ""
    detail: str = ""
    source_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _tol(text: str) -> float:
    d = decimals(text) or 0
    return 0.5 * 10 ** -d + 1e-9


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def _range_status(published: float, lo: float, hi: float, tol: float) -> str:
    if hi - lo <= 1e-9:
        return REPRODUCED if abs(published - lo) <= tol else CONTRADICTED
    return CONSISTENT if lo - tol <= published <= hi + tol else CONTRADICTED


def _count_check(pub: int, determined: int, possible: int) -> str:
    if determined == possible:
        return REPRODUCED if determined == pub else CONTRADICTED
    return CONSISTENT if determined <= pub <= possible else CONTRADICTED


def _facts_for(facts: pd.DataFrame, index: str, year: int) -> pd.DataFrame:
    f = facts[(facts["index"] == index) & (facts["year"] == year)]
    return f.sort_values(["fact", "status"], kind="stable")


def _group_label_of_fact(fact: str, index: str) -> str | None:
    if fact.startswith("group_count_"):
        return fact.removeprefix("group_count_")
    if index == "sipas" and fact.startswith("n_") and fact.endswith("_group"):
        return fact[2:-6]
    return None


def announced_counts(facts: pd.DataFrame, index: str, year: int) -> dict[str, int]:
    """Label -> announced number of provinces in that group (from national_facts)."""
    out: dict[str, int] = {}
    for r in _facts_for(facts, index, year).itertuples():
        lab = _group_label_of_fact(r.fact, index)
        if lab is not None:
            out.setdefault(lab, int(float(r.value)))
    return out


def national_bounds(facts: pd.DataFrame, index: str, year: int) -> tuple[float | None, float | None]:
    f = _facts_for(facts, index, year)
    mn = f.loc[f["fact"] == "min", "value"]
    mx = f.loc[f["fact"] == "max", "value"]
    # A conflicting pair of published minima (e.g. SIPAS 2021) gives no usable bound.
    mn_v = float(mn.iloc[0]) if mn.nunique() == 1 else None
    mx_v = float(mx.iloc[0]) if mx.nunique() == 1 else None
    return mn_v, mx_v


def run_audit(table: IndexTable, classified: pd.DataFrame, rs: RuleSet | None, facts: pd.DataFrame,
              published_tiers: pd.DataFrame | None = None, components: pd.DataFrame | None = None,
              reference: IndexTable | None = None) -> list[AuditItem]:
    """Audit ``table`` against the facts; ``reference`` is the public evidence to compare a user's table with."""
    idx, year = table.index, table.year
    items: list[AuditItem] = []
    lo, hi = classified["lo"].astype(float), classified["hi"].astype(float)
    names = classified["province"]

    for (fact, value), rows in _facts_for(facts, idx, year).groupby(["fact", "value"], sort=True):
        srcs = list(dict.fromkeys(rows["source_id"]))
        it = AuditItem(idx, year, fact, value, NOT_CHECKABLE, source_ids=srcs)
        items.append(it)
        label = _group_label_of_fact(fact, idx)
        if fact in _NOT_FROM_VALUES:
            it.detail = _NOT_FROM_VALUES[fact]
        elif label is not None:
            if rs is None or label not in rs.labels:
                it.detail = f"no rule for group '{label}' in {year}"
                continue
            by_bounds = classified["group_basis"].isin(["value", "bounds"])
            det = int(((classified["group"] == label) & by_bounds).sum())
            poss = int(classified["possible"].str.split(",").map(lambda p: label in p).sum())
            it.status = _count_check(int(float(value)), det, poss)
            it.computed = str(det) if det == poss else f"{det}–{poss}"
            members = classified.loc[(classified["group"] == label) & by_bounds, "province"]
            it.detail = (f"{det} identified from values and rank bounds"
                         + (f" ({', '.join(members)})" if 0 < det <= 8 else "")
                         + ("" if det == poss else f"; up to {poss} possible"))
        elif fact in ("n_at_or_above_80", "n_at_or_above_90", "n_below_80", "n_above_80", "n_below_60"):
            cut = float(fact.rsplit("_", 1)[1])
            if fact.startswith("n_below"):
                det, poss = int((hi < cut).sum()), int((lo < cut).sum())
            elif fact == "n_above_80":
                det, poss = int((lo > cut).sum()), int((hi > cut).sum())
            else:
                det, poss = int((lo >= cut).sum()), int((hi >= cut).sum())
            it.status = _count_check(int(float(value)), det, poss)
            it.computed = str(det) if det == poss else f"{det}–{poss}"
        elif fact in ("max", "min", "range", "mean_63", "median"):
            if fact == "max":
                a, b = lo.max(), hi.max()
            elif fact == "min":
                a, b = lo.min(), hi.min()
            elif fact == "range":
                a, b = max(lo.max() - hi.min(), 0.0), hi.max() - lo.min()
            elif fact == "mean_63":
                a, b = lo.mean(), hi.mean()
            else:
                a, b = float(np.median(lo)), float(np.median(hi))
            it.status = _range_status(float(value), a, b, _tol(value))
            it.computed = _fmt(a) if b - a <= 1e-9 else f"{_fmt(a)}–{_fmt(b)}"
        elif fact in ("leader", "last_place"):
            top = fact == "leader"
            key = (lo if top else -hi)
            other = (hi if top else -lo)
            match = names[names == value]
            if match.empty:
                it.detail = "province not in the registry"
                continue
            code = match.index[0]
            others = other.drop(code)
            if key[code] >= others.max() - 1e-9:
                it.status, it.computed = REPRODUCED, value
            elif other[code] >= key.drop(code).max() - 1e-9:
                it.status, it.detail = CONSISTENT, "the table allows this province to be " + (
                    "first" if top else "last") + " but does not fix it"
            else:
                it.status = CONTRADICTED
                best = (hi if top else -lo).idxmax()
                it.computed = names[best]
        elif (m := re.fullmatch(r"group_(\w+?)_(lower|upper)", fact)) is not None:
            lab, side = m.groups()
            rule = next((r for r in rs.rules if r.label == lab), None) if rs else None
            bound = getattr(rule, side) if rule is not None else None
            if bound is None:
                it.detail = "cut-off with no matching bound in classification_rules.csv"
            else:
                it.status = REPRODUCED if abs(bound - float(value)) < 1e-9 else CONTRADICTED
                it.computed = f"{bound:g}"
                it.detail = "cut-off as recorded in classification_rules.csv"
        elif fact == "n_groups":
            if rs is not None:
                nonempty = [lab for lab in rs.labels
                            if (classified["group"] == lab).any() or lab in ",".join(classified["possible"])]
                it.status = CONSISTENT if int(float(value)) <= len(nonempty) else CONTRADICTED
                it.computed = f"≤ {len(nonempty)}"
        else:
            it.detail = "not a function of the provincial values"

    if idx == "sipas" and published_tiers is not None and rs is not None:
        items += _audit_tiers(table, classified, rs, published_tiers)
    if components is not None:
        items += _audit_components(table, components)
    items += _audit_ranks(table, classified)
    if reference is not None:
        items += _audit_against_reference(table, reference)
    return items


def _audit_tiers(table: IndexTable, classified: pd.DataFrame, rs: RuleSet,
                 published: pd.DataFrame) -> list[AuditItem]:
    out = []
    pub = published[(published["index"] == table.index) & (published["year"] == table.year)]
    for tier, rows in pub.groupby("tier"):
        members = set(rows["province_code"])
        names = ", ".join(sorted(set(rows["province"])))
        it = AuditItem(table.index, table.year, f"published_tier_{tier}", names, NOT_CHECKABLE,
                       source_ids=list(dict.fromkeys(rows["source_id"])))
        out.append(it)
        if tier not in rs.labels:
            it.detail = f"no rule for tier '{tier}' in {table.year}"
            continue
        in_tier = classified["group"] == tier
        can_be = classified["possible"].str.split(",").map(lambda p: tier in p)
        known = classified["group"].notna()
        wrong_out = [classified.at[c, "province"] for c in members if known[c] and not in_tier[c]]
        wrong_in = [classified.at[c, "province"] for c in classified.index[in_tier] if c not in members]
        undetermined = [classified.at[c, "province"] for c in members if not known[c]]
        it.computed = ", ".join(sorted(classified.loc[in_tier, "province"]))
        if wrong_out or wrong_in:
            it.status = CONTRADICTED
            it.detail = "; ".join(filter(None, [
                f"published but not reproduced: {', '.join(wrong_out)}" if wrong_out else "",
                f"reproduced but not published: {', '.join(wrong_in)}" if wrong_in else ""]))
        elif not undetermined and int(can_be.sum()) == len(members):
            it.status = REPRODUCED
        else:
            it.status = CONSISTENT
            extra = int(can_be.sum()) - int(in_tier.sum())
            it.detail = (f"{int(in_tier.sum())} of {len(members)} members identified from values"
                         + (f"; not determined: {', '.join(sorted(undetermined))}" if undetermined else "")
                         + f"; {extra} province(s) without data could still fall in this tier")
    return out


def additivity_gap(comp: pd.DataFrame) -> float:
    """Largest gap, in points, between the sum of the four published parts and the published total."""
    parts = comp[list(COMPONENT_COLUMNS)].astype(float).sum(axis=1)
    return float((parts - comp["total"].astype(float)).abs().max())


def _audit_components(table: IndexTable, components: pd.DataFrame) -> list[AuditItem]:
    comp = components[(components["index"] == table.index) & (components["year"] == table.year)]
    if comp.empty:
        return []
    worst = additivity_gap(comp)
    it = AuditItem(table.index, table.year, "component_additivity",
                   f"{len(comp)} provinces with four published parts",
                   REPRODUCED if worst <= ADDITIVITY_TOLERANCE else CONTRADICTED,
                   computed=f"largest gap {worst:.3f} points",
                   detail=f"tolerance {ADDITIVITY_TOLERANCE} points",
                   source_ids=list(dict.fromkeys(comp["source_id"])))
    # the totals in the component table must also be the values in the index table
    v = table.data["value"]
    off = [r.province for r in comp.itertuples()
           if not pd.isna(v.get(r.province_code)) and abs(float(v[r.province_code]) - float(r.total)) > 0.005]
    if off:
        it.status, it.detail = CONTRADICTED, it.detail + f"; totals differ from the table for {', '.join(off)}"
    return [it]


def _audit_ranks(table: IndexTable, classified: pd.DataFrame) -> list[AuditItem]:
    d = table.data
    ranked = d[d["rank"].notna() & d["value"].notna()].sort_values("rank")
    it = AuditItem(table.index, table.year, "published_ranks",
                   f"{int(d['rank'].notna().sum())} published ranks", NOT_CHECKABLE)
    if table.complete and d["rank"].notna().any():
        comp = classified["rank_computed"]
        bad = [f"{d.at[c, 'province']} {int(d.at[c, 'rank'])}≠{int(comp[c])}"
               for c in d.index[d["rank"].notna()] if int(d.at[c, "rank"]) != int(comp[c])]
        it.status = CONTRADICTED if bad else REPRODUCED
        it.detail = "; ".join(bad) or "every published rank equals the full-precision rank"
    elif len(ranked) >= 2:
        vals = ranked["value"].astype(float).to_numpy()
        inversions = [f"{ranked.iloc[i]['province']} ({int(ranked.iloc[i]['rank'])}) < "
                      f"{ranked.iloc[i + 1]['province']} ({int(ranked.iloc[i + 1]['rank'])})"
                      for i in range(len(vals) - 1) if vals[i] < vals[i + 1] - 1e-9]
        bad = classified.index[classified["inconsistent"]]
        it.status = CONTRADICTED if inversions or len(bad) else CONSISTENT
        it.detail = "; ".join(inversions) or (
            f"values fall as published ranks rise for the {len(ranked)} provinces with both")
        if len(bad):
            it.detail += "; bounds empty for " + ", ".join(classified.loc[bad, "province"])
    return [it]


def _audit_against_reference(table: IndexTable, ref: IndexTable) -> list[AuditItem]:
    """A user's table against the published public figures (typing errors show here)."""
    r, d = ref.data, table.data
    both = r.index[r["value"].notna() & d["value"].notna()]
    bad = []
    for c in both:
        tol = max(_tol(str(r.at[c, "value_text"])), 0.005 + 1e-9)
        if abs(float(d.at[c, "value"]) - float(r.at[c, "value"])) > tol:
            bad.append(f"{r.at[c, 'province']}: table {float(d.at[c, 'value']):.2f}, "
                       f"published {r.at[c, 'value_text']}")
    missing = int((r["value"].notna() & d["value"].isna()).sum())
    it = AuditItem(table.index, table.year, "published_values", f"{int(r['value'].notna().sum())} published values",
                   CONTRADICTED if bad else (REPRODUCED if len(both) else NOT_CHECKABLE),
                   computed=f"{len(both) - len(bad)} of {len(both)} match",
                   detail="; ".join(bad) + (f"; {missing} published value(s) absent from the table" if missing else ""))
    out = [it]
    ranks_both = r.index[r["rank"].notna()]
    if table.complete and len(ranks_both):
        comp = d["value"].astype("Float64").rank(method="min", ascending=False)
        badr = [f"{r.at[c, 'province']}: computed {int(comp[c])}, published {int(r.at[c, 'rank'])}"
                for c in ranks_both if int(comp[c]) != int(r.at[c, "rank"])]
        out.append(AuditItem(table.index, table.year, "published_ranks_public",
                             f"{len(ranks_both)} ranks published in the public sources",
                             CONTRADICTED if badr else REPRODUCED,
                             computed=f"{len(ranks_both) - len(badr)} of {len(ranks_both)} match",
                             detail="; ".join(badr)))
    return out
