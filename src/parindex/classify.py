"""Groups, tiers and ranks, computed from the year's rules in data/classification_rules.csv.

Classification works on an interval [lo, hi] per province rather than on a bare value,
so one code path serves a complete official table (every interval is a point) and the
partial public evidence (a published rank bounds a missing value by its neighbours'
values; a rounded value such as "84" stands for [83.5, 84.5]). A group is *known* only
when the whole interval lies in one band; nothing is guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import ParindexError
from .tables import IndexTable

N_PROVINCES = 63
FULL_PRECISION_DECIMALS = 2  # the ministry publishes two decimals; fewer means rounded


@dataclass(frozen=True)
class Rule:
    label: str
    order: int
    kind: str  # band | top_n | bottom_n | rest
    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = False
    n: int | None = None
    basis: str = ""  # summary of the bounds' bases, e.g. "stated" or "stated/inferred"
    source_ids: tuple[str, ...] = ()

    def contains(self, v: float) -> bool:
        if self.lower is not None and (v < self.lower or (v == self.lower and not self.lower_inclusive)):
            return False
        if self.upper is not None and (v > self.upper or (v == self.upper and not self.upper_inclusive)):
            return False
        return True

    def meets(self, lo: float, hi: float) -> bool:
        """Whether [lo, hi] shares any value with this band."""
        if self.lower is not None and (hi < self.lower or (hi == self.lower and not self.lower_inclusive)):
            return False
        if self.upper is not None and (lo > self.upper or (lo == self.upper and not self.upper_inclusive)):
            return False
        return True

    def describe(self) -> str:
        if self.kind == "band":
            lo = "" if self.lower is None else f"{'≥' if self.lower_inclusive else '>'} {self.lower:g}"
            hi = "" if self.upper is None else f"{'≤' if self.upper_inclusive else '<'} {self.upper:g}"
            return ", ".join(filter(None, [lo, hi])) or "all values"
        if self.kind in ("top_n", "bottom_n"):
            return f"{'top' if self.kind == 'top_n' else 'bottom'} {self.n}"
        return "the rest"


@dataclass(frozen=True)
class RuleSet:
    index: str
    year: int
    rules: tuple[Rule, ...]

    @property
    def labels(self) -> list[str]:
        return [r.label for r in sorted(self.rules, key=lambda r: r.order)]

    @property
    def is_band(self) -> bool:
        return all(r.kind == "band" for r in self.rules)

    def is_partition(self) -> bool:
        """Whether every province falls in exactly one group (bands cover all values, or a 'rest' group)."""
        if not self.is_band:
            return any(r.kind == "rest" for r in self.rules)
        bands = sorted(self.rules, key=lambda r: -math.inf if r.lower is None else r.lower)
        if bands[0].lower is not None or bands[-1].upper is not None:
            return False
        for a, b in zip(bands, bands[1:]):
            if a.upper != b.lower or a.upper_inclusive == b.lower_inclusive:
                return False
        return True

    def label_of(self, v: float) -> str | None:
        for r in self.rules:
            if r.kind == "band" and r.contains(v):
                return r.label
        return None

    def possible(self, lo: float, hi: float) -> list[str]:
        return [r.label for r in sorted(self.rules, key=lambda r: r.order)
                if r.kind == "band" and r.meets(lo, hi)]

    def cutoffs(self) -> list[float]:
        return sorted({b for r in self.rules if r.kind == "band" for b in (r.lower, r.upper) if b is not None})


def _bool(x: object, default: bool) -> bool:
    return default if x is None or pd.isna(x) else bool(x)


def _num(x: object) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def ruleset(rules: pd.DataFrame, index: str, year: int) -> RuleSet | None:
    """The year's rules, or None when no rule is recorded for that year (none is borrowed)."""
    rows = rules[(rules["index"] == index) & (rules["year"] == year)].sort_values("order")
    if rows.empty:
        return None
    out = []
    for r in rows.itertuples():
        bases = [b for b in (r.lower_basis, r.upper_basis, r.n_basis) if isinstance(b, str)]
        srcs = [s for s in (r.lower_source_id, r.upper_source_id, r.n_source_id) if isinstance(s, str)]
        out.append(Rule(label=r.label, order=int(r.order), kind=r.kind, lower=_num(r.lower),
                        lower_inclusive=_bool(r.lower_inclusive, True), upper=_num(r.upper),
                        upper_inclusive=_bool(r.upper_inclusive, False),
                        n=None if pd.isna(r.n) else int(r.n),
                        basis="/".join(dict.fromkeys(bases)), source_ids=tuple(dict.fromkeys(srcs))))
    return RuleSet(index, year, tuple(out))


def full_precision_rank(values: pd.Series) -> pd.Series:
    """Rank 1 = highest, ties share the best place (min method), on unrounded values."""
    return values.astype("Float64").rank(method="min", ascending=False).astype("Int64")


def _half_unit(dec: object) -> float:
    if dec is None or pd.isna(dec) or int(dec) >= FULL_PRECISION_DECIMALS:
        return 0.0
    return 0.5 * 10 ** -int(dec)


def value_intervals(table: IndexTable, national_min: float | None = None,
                    national_max: float | None = None) -> pd.DataFrame:
    """[lo, hi] for every province's value, from its value, its rank, or the open ranks.

    Assumes the published ranking orders all 63 provinces by value (the audit checks
    that the published ranks and values agree). ``basis`` says where the bounds come from.
    """
    d = table.data
    floor = national_min if national_min is not None else 0.0
    ceil = national_max if national_max is not None else 100.0
    lo = pd.Series(floor, index=d.index, dtype=float)
    hi = pd.Series(ceil, index=d.index, dtype=float)
    basis = pd.Series("none", index=d.index, dtype=object)

    known = d["value"].notna()
    half = d["value_decimals"].map(_half_unit).astype(float)
    lo[known] = d.loc[known, "value"].astype(float) - half[known]
    hi[known] = d.loc[known, "value"].astype(float) + half[known]
    basis[known] = np.where(half[known] > 0, "rounded_value", "value")

    anchors = d[known & d["rank"].notna()]
    a_rank = anchors["rank"].astype(int).to_numpy()
    a_lo, a_hi = lo[anchors.index].to_numpy(), hi[anchors.index].to_numpy()

    def bounds_for_rank(r: int) -> tuple[float, float]:
        above = a_rank < r
        below = a_rank > r
        h = min([ceil, *a_hi[above]])
        lw = max([floor, *a_lo[below]])
        return lw, h

    taken = set(int(x) for x in d["rank"].dropna())
    open_ranks = sorted(set(range(1, N_PROVINCES + 1)) - taken)
    for code, row in d.iterrows():
        if not pd.isna(row["rank"]):
            blo, bhi = bounds_for_rank(int(row["rank"]))
            b = "rank"
        elif open_ranks:
            blo, bhi = bounds_for_rank(max(open_ranks))[0], bounds_for_rank(min(open_ranks))[1]
            b = "open_ranks"
        else:
            blo, bhi, b = floor, ceil, "none"
        if known[code]:
            lo[code], hi[code] = max(lo[code], blo), min(hi[code], bhi)
        else:
            lo[code], hi[code], basis[code] = blo, bhi, b
    bad = lo > hi + 1e-9
    return pd.DataFrame({"lo": lo, "hi": hi, "basis": basis, "inconsistent": bad})


def derived_counts(rs: RuleSet, announced: dict[str, int]) -> dict[str, int]:
    """Announced counts, with one missing label filled as 63 minus the others (stated arithmetic)."""
    counts = dict(announced)
    missing = [lab for lab in rs.labels if lab not in counts]
    if len(missing) == 1 and rs.is_partition():
        counts[missing[0]] = N_PROVINCES - sum(counts[lab] for lab in rs.labels if lab in counts)
    return counts


def classify(table: IndexTable, rs: RuleSet | None, announced: dict[str, int] | None = None,
             national_min: float | None = None, national_max: float | None = None) -> pd.DataFrame:
    """Per province: lo, hi, computed rank, group and how the group is known.

    group_basis is ``value`` (the value lies in one band), ``bounds`` (the interval implied
    by published ranks lies in one band), ``rank_and_counts`` (published rank placed within
    the year's announced group sizes) or ``unknown``; ``possible`` lists the groups still open.
    """
    d = table.data
    iv = value_intervals(table, national_min, national_max)
    out = pd.DataFrame(index=d.index)
    out["province"] = d["province"]
    out["value"] = d["value"]
    out["rank_published"] = d["rank"]
    out["rank_computed"] = full_precision_rank(d["value"]) if table.complete else pd.array(
        [pd.NA] * len(d), dtype="Int64")
    out[["lo", "hi", "bound_basis", "inconsistent"]] = iv[["lo", "hi", "basis", "inconsistent"]]
    out["group"] = pd.array([pd.NA] * len(d), dtype="string")
    out["group_basis"] = "unknown"
    out["possible"] = ""
    if rs is None:
        return out

    counts = derived_counts(rs, announced or {})
    have_counts = all(lab in counts for lab in rs.labels) and sum(counts.values()) == N_PROVINCES
    cum, start = {}, 1
    for lab in rs.labels:
        if have_counts:
            cum[lab] = (start, start + counts[lab] - 1)
            start += counts[lab]

    if rs.is_band:
        for code in d.index:
            lo, hi = float(iv.at[code, "lo"]), float(iv.at[code, "hi"])
            poss = rs.possible(lo, hi)
            out.at[code, "possible"] = ",".join(poss)
            # Known only if one band holds the whole interval: where the year's bands leave
            # a gap (e.g. only "highest >= 90" is defined), touching one band is not enough.
            inside = [r.label for r in rs.rules if r.kind == "band" and r.contains(lo) and r.contains(hi)]
            if inside:
                out.at[code, "group"] = inside[0]
                out.at[code, "group_basis"] = "value" if iv.at[code, "basis"] == "value" else "bounds"
            elif have_counts and not pd.isna(d.at[code, "rank"]):
                r = int(d.at[code, "rank"])
                lab = next((k for k, (a, b) in cum.items() if a <= r <= b), None)
                if lab in poss:
                    out.at[code, "group"] = lab
                    out.at[code, "group_basis"] = "rank_and_counts"
    else:
        _classify_by_position(out, rs, d, table.complete)
    return out


def _classify_by_position(out: pd.DataFrame, rs: RuleSet, d: pd.DataFrame, complete: bool) -> None:
    """top_n / bottom_n rules: membership follows rank (computed on a complete table)."""
    rank = out["rank_computed"] if complete else d["rank"]
    for code in d.index:
        r = rank[code]
        if pd.isna(r):
            out.at[code, "possible"] = ",".join(rs.labels)
            continue
        lab = None
        for rule in rs.rules:
            if rule.kind == "top_n" and int(r) <= rule.n:
                lab = rule.label
            elif rule.kind == "bottom_n" and int(r) > N_PROVINCES - rule.n:
                lab = rule.label
        if lab is None:
            lab = next((x.label for x in rs.rules if x.kind == "rest"), None)
        if lab is not None:
            out.at[code, "group"] = lab
            out.at[code, "group_basis"] = "value" if complete else "rank"
            out.at[code, "possible"] = lab


def group_counts(classified: pd.DataFrame, rs: RuleSet | None) -> dict[str, int]:
    """Label -> number of provinces whose group is known (any basis)."""
    if rs is None:
        return {}
    g = classified["group"].dropna()
    return {lab: int((g == lab).sum()) for lab in rs.labels}


def margin_to_cutoffs(value: float, rs: RuleSet) -> dict[str, float]:
    """Signed distance from the value to each cut-off (positive: above it)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ParindexError("margin needs a value")
    return {f"{c:g}": round(value - c, 6) for c in rs.cutoffs()}
