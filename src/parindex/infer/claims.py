"""What the published record says, as claims: the bands, the unstated cut-offs and the claims
built from the bundled facts (the vocabulary of the joint inference, parindex.infer.inference)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Sequence

import pandas as pd

from ..data.collate import vsorted
from ..data.tables import decimals

GRID = 100  # hundredths: the ministry publishes values with two decimals
PUBLISHED_DECIMALS = 2
DOMAIN = (0, 100 * GRID)  # a percentage
TOL = 1e-6


# Claim kinds, in the order a conflict gives them up (weakest first).
_SET_ASIDE_ORDER = {"count": 0, "n_groups": 0, "change": 0, "region_mean": 1, "median": 1, "range": 1, "mean": 1, "max": 2, "min": 2,
                    "leader": 3, "last": 3, "tier": 4, "rank": 5, "value": 6}
_STATUS_WEAKNESS = {"secondary": 0, "inferred": 0, "conflict": 0, "derived": 1, "stated": 2, "official": 3,
                    "user": 3}

# The kinds of published fact a user can leave out (``without``) to see what the rest proves.
FAMILIES = ("counts", "regions", "changes", "secondary")
_FAMILY = {"count": "counts", "n_groups": "counts", "region_mean": "regions", "change": "changes"}
OUTSIDE = "none"  # a value below (or above) every band of the year's rules: in no group

@dataclass(frozen=True)
class Cut:
    """A cut-off no source states: a variable of the programme, within what the record allows.

    As a band's lower end it means "at or above the cut-off", as its upper end "below it"."""

    nominal: float  # the inferred value, in hundredths (for its name and its order)

    def __str__(self) -> str:
        return f"{self.nominal / GRID:g}"


Band = tuple  # (a, b): a: inclusive lower end in hundredths or a Cut; b: inclusive upper end or a Cut; None = open


def text_interval(text: object, exact: bool = False, rounded: bool = False) -> tuple[float, float]:
    """[lo, hi] in hundredths that a published figure stands for (see module docstring).

    ``rounded``: the figure is a rounding whatever its decimals (a mean is not on the grid).
    """
    s = str(text).strip()
    q = Fraction(s)
    k = decimals(s) or 0
    if exact or (k >= PUBLISHED_DECIMALS and not rounded):
        v = float(q * GRID)
        return v, v
    half = Fraction(1, 2) * Fraction(1, 10 ** k)
    return float((q - half) * GRID), float((q + half) * GRID)


def band_of(lower: float | None, lower_inclusive: bool, upper: float | None, upper_inclusive: bool) -> Band:
    """A rule's band as an inclusive interval on the grid of integers (hundredths)."""
    a = None if lower is None else (math.ceil(lower * GRID - TOL) if lower_inclusive
                                    else math.floor(lower * GRID + TOL) + 1)
    b = None if upper is None else (math.floor(upper * GRID + TOL) if upper_inclusive
                                    else math.ceil(upper * GRID - TOL) - 1)
    return a, b


def has_cut(band: Band) -> bool:
    return any(isinstance(e, Cut) for e in band)


def in_band(v: float, band: Band) -> bool:
    """For a fixed value (possibly off the grid): inside the band's real interval."""
    a, b = band
    if has_cut(band):
        raise TypeError("a band with an unstated cut-off has no fixed interval")
    return (a is None or v >= a - TOL) and (b is None or v < b + 1 - TOL)


def places(i: int, lo: Sequence[float], hi: Sequence[float]) -> tuple[int, int]:
    """The first and last places (0-based, in descending order of value) that the provinces'
    own bounds ``lo``/``hi`` allow province i. One whose bounds put it strictly above (below) i
    holds a place above (below) it in every table of values on the grid, so there the window is
    implied by the order and a programme limited to it has the same answers (docs/method.md §3)."""
    above = sum(1 for j in range(len(lo)) if j != i and lo[j] > hi[i] + TOL)
    below = sum(1 for j in range(len(lo)) if j != i and hi[j] < lo[i] - TOL)
    return above, len(lo) - 1 - below


def in_band_at(x: float, band: Band, cuts: dict[Cut, float]) -> bool | None:
    """For a value on the grid in one table: inside the band at that table's unstated cut-offs
    (at or above the lower one, a grid step below the upper one); None when a cut-off of the
    band is not among ``cuts``."""
    a, b = band
    if any(isinstance(e, Cut) and e not in cuts for e in band):
        return None
    return ((a is None or (x >= cuts[a] if isinstance(a, Cut) else x >= a - TOL))
            and (b is None or (x <= cuts[b] - 1 if isinstance(b, Cut) else x < b + 1 - TOL)))


@dataclass(frozen=True)
class Claim:
    """One published statement. ``key`` names it in conflicts and audit rows."""

    key: str
    kind: str  # value rank leader last max min range mean median count tier n_groups
    text: str
    count: bool = False  # an announced count: an assumption for the bounds
    status: str = "stated"
    province: int | None = None  # position in the table
    lo: float | None = None  # hundredths (value, max, min, range, mean, median)
    hi: float | None = None
    rank: int | None = None
    bands: tuple[Band, ...] = ()  # count: values in any of these bands are counted
    n: tuple[int, int] | None = None  # count / n_groups: allowed number
    members: tuple[int, ...] = ()  # tier: provinces named in the list
    slot_window: tuple[int, int] | None = None  # tier of a top_n / bottom_n rule
    fact: str = ""  # the national fact (or list) this claim comes from
    published: str = ""
    sources: tuple[str, ...] = ()
    secondary: bool = False  # every source of it is a secondary one (aggregator, unverified copy)

    @property
    def weakness(self) -> tuple[int, int]:
        return (_SET_ASIDE_ORDER.get(self.kind, 0),
                _STATUS_WEAKNESS["secondary"] if self.secondary else _STATUS_WEAKNESS.get(self.status, 1))

    @property
    def family(self) -> str:
        """The kind of fact for ``without``: counts, regions, changes, or the record itself."""
        return _FAMILY.get(self.kind, "record")




COUNT_FACTS = re.compile(r"group_count_(?P<g>\w+)|n_(?P<t>\w+)_group|n_(?P<op>at_or_above|above|below)_(?P<x>[\d.]+)"
                         r"|band_count_(?P<a>[\d.]+)_to_(?P<b>[\d.]+)|band_count_above_(?P<c>[\d.]+)")
RULE_FACT = re.compile(r"group_\w+_(lower|upper)")
VALUE_FACTS = {"max": "max", "min": "min", "range": "range", "mean_63": "mean", "mean_17": "mean", "median": "median"}
# A published list of the n best or worst units ("top_5"): membership, not order.
LIST_TIER = re.compile(r"(?P<end>top|bottom)_(?P<n>\d+)")
PLACE_FACTS = {"leader": "leader", "last_place": "last"}


def rule_bands(rs) -> dict[str, Band]:
    """Label -> band on the grid, for the year's band rules."""
    if rs is None:
        return {}
    unstated = rs.unstated_cutoffs() if hasattr(rs, "unstated_cutoffs") else set()
    out: dict[str, Band] = {}
    for r in rs.rules:
        if r.kind != "band":
            continue
        a, b = band_of(r.lower, r.lower_inclusive, r.upper, r.upper_inclusive)
        # a cut-off no source states is not a number but a variable (docs/method.md §7.1)
        out[r.label] = (Cut(r.lower * GRID) if r.lower in unstated else a,
                        Cut(r.upper * GRID) if r.upper in unstated else b)
    return out


def _count_bands(m: re.Match, rs, labels_bands: dict[str, Band]) -> tuple[Band, ...] | None:
    if m["g"] or m["t"]:
        band = labels_bands.get(m["g"] or m["t"])
        return None if band is None else (band,)
    if m["op"]:
        x = float(m["x"])
        return ((band_of(x, True, None, False),) if m["op"] == "at_or_above"
                else (band_of(x, False, None, False),) if m["op"] == "above"
                else (band_of(None, True, x, False),))
    if m["a"]:
        return (band_of(float(m["a"]), True, float(m["b"]), False),)
    return (band_of(float(m["c"]), True, None, False),)


def _split(text: object) -> tuple[str, ...]:
    return () if text is None or pd.isna(text) else tuple(s for s in str(text).split(";") if s)


REGION_FACT = re.compile(r"regional_mean_(?P<region>\w+)")
def claims_for(data: pd.DataFrame, index: str, year: int, rs, facts: pd.DataFrame,
               tiers: pd.DataFrame | None, exact_values: bool = False,
               membership: dict[str, tuple[str, ...]] | None = None, previous: pd.DataFrame | None = None,
               secondary_sources: frozenset[str] = frozenset(), convention: str = "published",
               ) -> tuple[list[Claim], list[tuple]]:
    """Claims from a consolidated table (rows in registry order) and the year's facts.

    ``membership``: region key -> unit codes, where the year's regional facts are on a known
    membership; ``previous``: last year's table on the same units (for the change facts);
    ``convention``: "published" (figures with fewer decimals are roundings; a mean is within
    0.01 of the mean of the two-decimal values, whichever way the ministry averages),
    "mean_rounded" (a mean is the mean of the published two-decimal values, to its rounding),
    "truncated" (press figures with fewer decimals are cut, not rounded), "unrounded_ranks"
    (ranks follow unrounded scores: two provinces of different rank may share a published value).
    Returns the claims and the facts that are not claims: (fact, value, reason, sources).
    """
    claims, other = _claims_for(data, index, year, rs, facts, tiers, exact_values, membership, convention)
    if secondary_sources:
        claims = [replace(c, secondary=bool(c.sources) and all(s in secondary_sources for s in c.sources))
                  for c in claims]
    return claims, other


def _interval(text: object, convention: str, exact: bool = False, rounded: bool = False,
              mean: bool = False) -> tuple[float, float]:
    lo, hi = text_interval(text, exact=exact, rounded=rounded)
    if mean and convention != "mean_rounded":
        # The ministry may average the unrounded scores: the mean of the published two-decimal
        # values then lies within a further 0.005 of the mean it publishes (0.01 in all). The
        # tighter reading (the mean of the published values, +-0.005) is the alternative
        # convention "mean_rounded"; 2024's regional and national means contradict it.
        return lo - 0.5, hi + 0.5
    if exact or lo == hi:
        return lo, hi
    if convention == "truncated" and not rounded:
        # a press figure cut after k decimals: [v, v + 10^-k), on the grid up to the last point below
        k = decimals(str(text).strip()) or 0
        v = Fraction(str(text).strip())
        return float(v * GRID), float((v + Fraction(1, 10 ** k)) * GRID) - 1
    return lo, hi


def _claims_for(data: pd.DataFrame, index: str, year: int, rs, facts: pd.DataFrame,
                tiers: pd.DataFrame | None, exact_values: bool, membership, convention: str,
                ) -> tuple[list[Claim], list[tuple]]:
    pos = {code: i for i, code in enumerate(data.index)}
    by_name = {name: i for i, name in enumerate(data["province"])}
    claims: list[Claim] = []
    other: list[tuple] = []
    for code, r in data.iterrows():
        i = pos[code]
        if not pd.isna(r["value"]):
            text = r["value_text"] if not pd.isna(r.get("value_text", pd.NA)) else f"{float(r['value']):g}"
            status = "stated" if pd.isna(r.get("value_status", pd.NA)) else str(r["value_status"])
            lo, hi = _interval(text, convention, exact=exact_values or status == "user")
            claims.append(Claim(f"value:{code}", "value", f"{r['province']} = {text}", status=status, province=i,
                                lo=lo, hi=hi, published=str(text),
                                sources=_split(r.get("value_sources"))))
        elif "conflict_values" in r and not pd.isna(r["conflict_values"]):
            ivs = [text_interval(t) for t in str(r["conflict_values"]).split("|")]
            lo, hi = min(a for a, _ in ivs), max(b for _, b in ivs)
            claims.append(Claim(f"value:{code}", "value", f"{r['province']} between "
                                + " and ".join(str(r["conflict_values"]).split("|")), status="conflict",
                                province=i, lo=lo, hi=hi, published=str(r["conflict_values"])))
        if not pd.isna(r["rank"]):
            status = "stated" if pd.isna(r.get("rank_status", pd.NA)) else str(r["rank_status"])
            claims.append(Claim(f"rank:{code}", "rank", f"{r['province']} rank {int(r['rank'])}", status=status,
                                province=i, rank=int(r["rank"]), published=str(int(r["rank"])),
                                sources=_split(r.get("rank_sources"))))
    bands = rule_bands(rs)
    f = facts[(facts["index"] == index) & (facts["year"] == year)]
    for (fact, value), rows in f.groupby(["fact", "value"], sort=True):
        srcs = tuple(dict.fromkeys(rows["source_id"]))
        status = "stated" if (rows["status"] == "stated").any() else str(rows["status"].iloc[0])
        key = f"fact:{fact}={value}"
        if RULE_FACT.fullmatch(fact):
            continue  # a cut-off is a rule (classification_rules.csv), not something to audit
        if (rm := REGION_FACT.fullmatch(fact)) is not None:
            codes = (membership or {}).get(rm["region"])
            members = tuple(sorted(pos[c] for c in codes or () if c in pos))
            if not members:
                other.append((fact, value, "no_membership", srcs))
                continue
            lo, hi = _interval(value, convention, rounded=True, mean=True)
            claims.append(Claim(key, "region_mean", f"{fact} = {value}", status=status, lo=lo, hi=hi,
                                members=members, fact=fact, published=str(value), sources=srcs))
        elif fact in VALUE_FACTS:
            lo, hi = _interval(value, convention, rounded=VALUE_FACTS[fact] in ("mean", "median"),
                               mean=VALUE_FACTS[fact] == "mean")
            if fact == "range":
                lo, hi = max(lo, 0.0), hi
            claims.append(Claim(key, VALUE_FACTS[fact], f"{fact} = {value}", status=status, lo=lo, hi=hi,
                                fact=fact, published=str(value), sources=srcs))
        elif fact in PLACE_FACTS:
            if value not in by_name:
                other.append((fact, value, "province_not_in_registry", srcs))
                continue
            claims.append(Claim(key, PLACE_FACTS[fact], f"{fact} = {value}", status=status,
                                province=by_name[value], fact=fact, published=str(value), sources=srcs))
        elif fact == "n_groups":
            if rs is None or not rs.is_band:
                other.append((fact, value, "no_rule", srcs))
                continue
            n = int(float(value))
            claims.append(Claim(key, "n_groups", f"{fact} = {value}", count=True, status=status,
                                bands=tuple(bands.values()), n=(n, n), fact=fact, published=str(value),
                                sources=srcs))
        elif (m := COUNT_FACTS.fullmatch(fact)) is not None:
            cb = _count_bands(m, rs, bands)
            if cb is None:
                other.append((fact, value, "no_rule", srcs))
                continue
            n = int(float(value))
            claims.append(Claim(key, "count", f"{fact} = {value}", count=True, status=status, bands=cb,
                                n=(n, n), fact=fact, published=str(value), sources=srcs))
        else:
            other.append((fact, value, "not_from_values", srcs))
    if tiers is not None:
        t = tiers[(tiers["index"] == index) & (tiers["year"] == year)]
        rules = {r.label: r for r in rs.rules} if rs is not None else {}
        n = len(data)
        for tier, rows in t.groupby("tier", sort=True):
            members = tuple(sorted({pos[c] for c in rows["province_code"] if c in pos}))
            srcs = tuple(dict.fromkeys(rows["source_id"]))
            names = ", ".join(vsorted(set(rows["province"])))
            rule = rules.get(tier)
            key = f"tier:{tier}"
            if (lm := LIST_TIER.fullmatch(tier)) is not None:
                k = int(lm["n"])
                window = (1, k) if lm["end"] == "top" else (n - k + 1, n)
                claims.append(Claim(key, "tier", f"published {tier.replace('_', ' ')} list", members=members,
                                    slot_window=window, fact=f"published_tier_{tier}", published=names,
                                    sources=srcs))
            elif rule is None or rule.kind == "rest":
                other.append((f"published_tier_{tier}", names, "no_rule", srcs))
            elif rule.kind == "band":
                claims.append(Claim(key, "tier", f"published {tier} list", bands=(bands[tier],), members=members,
                                    fact=f"published_tier_{tier}", published=names, sources=srcs))
            else:
                window = (1, rule.n) if rule.kind == "top_n" else (n - rule.n + 1, n)
                claims.append(Claim(key, "tier", f"published {tier} list", members=members, slot_window=window,
                                    fact=f"published_tier_{tier}", published=names, sources=srcs))
    return claims, other


# Answers -----------------------------------------------------------------------------------

REPRODUCED, CONSISTENT, CONTRADICTED = "reproduced", "consistent", "contradicted"




def own_region(claims: Sequence[Claim], i: int) -> list[Claim]:
    """The claims a province's own bounds rest on: every claim but the means of other regions.

    (The six regional means together make the programme too slow to prove optimal within the
    time budget; each province's bounds are exact over the record with its own region's mean.)"""
    return [c for c in claims if c.kind != "region_mean" or i in c.members]


def joint(claims: Sequence[Claim]) -> list[Claim]:
    """The claims that national figures (count ranges, places) rest on: all but regional means."""
    return [c for c in claims if c.kind != "region_mean"]




def used(c: Claim, without: frozenset[str]) -> bool:
    """Whether the bounds use claim ``c`` when the kinds of fact in ``without`` are left out."""
    return c.family not in without and not (c.secondary and "secondary" in without)




def _signature(i: int, claims: Sequence[Claim]) -> tuple:
    sig = []
    for c in claims:
        if c.province == i and c.kind in ("value", "rank", "leader", "last"):
            sig.append((c.kind, c.lo, c.hi, c.rank))
        elif c.kind == "change" and c.province == i:
            sig.append(("change", c.lo, c.hi))
        elif c.kind in ("tier", "region_mean") and i in c.members:
            sig.append((c.kind, c.key))
    return tuple(sorted(sig, key=repr))
