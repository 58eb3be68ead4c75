"""Check a table against every published national fact of its year, jointly.

Each fact gets one status, computed by the inference over all tables consistent with the
record (see inference):
- reproduced: the rest of the record forces the published figure;
- consistent: the figure holds together with everything else, but the rest of the record
  allows other figures too (``range`` gives what it allows);
- contradicted: the figure belongs to a smallest set of published claims that cannot all
  hold; the set is named (``conflict``) and ``set_aside`` says whether the bounds rest
  without it;
- not_checkable: the figure does not follow from provincial values (survey facts, changes
  against the previous year), or the year has no rule for the group it counts.
Group counts are checked against the record without any announced count, so that no
count is "reproduced" by the others. A cut-off is a rule (classification_rules.csv), not
an audit result, and is not listed.
"""

from __future__ import annotations

import math

import re
from dataclasses import asdict, dataclass, field

import pandas as pd

from ..data.collate import vsorted
from .claims import DOMAIN, GRID
from .inference import CONSISTENT, CONTRADICTED, REPRODUCED, FactCheck, Inference
from ..data.tables import COMPONENT_COLUMNS, IndexTable, decimals

NOT_CHECKABLE = "not_checkable"
ADDITIVITY_TOLERANCE = 0.02  # points; the published parts are themselves rounded to 2 decimals

# Why a published fact is recorded but not checked (label keys audit_text.reason_*).
_NOT_FROM_VALUES = {
    "n_improved_vs_prev_year": "previous_year", "largest_rise_province": "previous_year",
    "smallest_rise_province": "previous_year", "n_rank_up": "previous_year", "n_rank_down": "previous_year",
    "n_rank_unchanged": "previous_year", "national_rate": "survey_rate",
}
_NOT_FROM_VALUES_PATTERNS = (
    (re.compile(r".*(change_vs_prev_year|_vs_prev_year|largest_(rise|fall)|smallest_(rise|fall))"), "previous_year"),
    (re.compile(r"regional_mean_.*"), "regional_mean"),
    (re.compile(r"regional_(max|min)_.*"), "regional_extreme"),
    (re.compile(r"(survey_|respondents|edition|announcement_date|share_).*"), "survey"),
    (re.compile(r"(policy|public_admin_service|service_access)_satisfaction.*|(component_change|n_components).*"),
     "sub_index"),
)


def _not_from_values(fact: str) -> tuple[str, dict]:
    if fact in _NOT_FROM_VALUES:
        return (f"reason_{_NOT_FROM_VALUES[fact]}", {})
    for pattern, reason in _NOT_FROM_VALUES_PATTERNS:
        if pattern.fullmatch(fact):
            return (f"reason_{reason}", {})
    return ("reason_not_from_values", {})


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
    range: list[float] | None = None  # what the rest of the record allows, where a range is checked
    conflict: list[str] = field(default_factory=list)  # the other claims of a contradiction
    set_aside: bool = False  # the bounds rest on the record without this claim
    # The same texts as label keys and arguments, for each edition (render()); the English
    # strings above are what the JSON carries.
    texts: dict[str, tuple[str, dict]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("texts")
        return d

    def text(self, part: str, L) -> str:
        """``published``, ``computed`` or ``detail`` in the edition of ``L``."""
        if part in self.texts:
            return render(*self.texts[part], L)
        value = getattr(self, part)
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return L.date(value)  # a published date, in the edition's own form
        return L.number(value)


_EN = None


def _english():
    global _EN
    if _EN is None:
        from ..data.labels import Labels

        _EN = Labels("en")
    return _EN


def claim_ref(c, names: pd.Series) -> dict:
    """A claim as its parts, to be written in either language."""
    return {"kind": c.kind, "province": None if c.province is None else str(names.iloc[c.province]),
            "published": c.published, "fact": c.fact}


def range_text(lo: object, hi: object) -> str:
    """'5' for an exact number, '3–7' for a range (never '5–5'); the report's ranges use it too."""
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def claim_text(x: dict, L) -> str:
    if x["kind"] == "value":
        return L("claim.value", province=x["province"], value=x["published"])
    if x["kind"] == "rank":
        return L("claim.rank", province=x["province"], rank=x["published"])
    if x["kind"] == "tier":
        tier = (x["fact"] or "").removeprefix("published_tier_")
        return L("claim.tier", tier=L.get(f"tier.{tier}", tier.replace("_", " ")))
    return L("claim.fact", fact=L.get(f"fact.{x['fact']}", x["fact"]), value=x["published"])


def render(key: str, args: dict, L) -> str:
    """A label with its arguments; lists of claims and of names are joined in the edition's words."""
    a = {}
    for k, v in args.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            a[k] = "; ".join(claim_text(x, L) for x in v)
        elif isinstance(v, list) and v and isinstance(v[0], list):  # several conflicting sets
            a[k] = " | ".join("; ".join(claim_text(x, L) for x in group) for group in v)
        elif isinstance(v, list):
            a[k] = ", ".join(map(str, v))
        else:
            a[k] = v
    return L(f"audit_text.{key}", **a)


def _t(item: AuditItem, **parts: tuple[str, dict] | None) -> AuditItem:
    """Set localisable texts on an item, and their English form in the plain fields."""
    for part, spec in parts.items():
        if spec is None:
            continue
        item.texts[part] = spec
        setattr(item, part, render(*spec, _english()))
    return item


def _tol(text: str) -> float:
    d = decimals(text) or 0
    return 0.5 * 10 ** -d + 1e-9


def _fmt(x: float, tie: int = 0) -> str:
    """Two decimals, the nearest; a value half-way (after the solver's float noise, 1e-6 of a
    hundredth, is cleared) goes down for a lower bound (``tie`` -1) and up for an upper (+1),
    so that a range is never narrowed by its rounding and the same answer prints the same."""
    v = round(x * 100, 6)
    h = math.ceil(v - 0.5) if tie < 0 else math.floor(v + 0.5) if tie > 0 else round(v)
    return f"{h / 100:.2f}"


def bound_end(x: float, end: str) -> str:
    """One end ("lo" or "hi") of a proven range, printed as ``bound_text`` prints it."""
    return _fmt(x, -1 if end == "lo" else 1)


def bound_text(lo: float, hi: float) -> str:
    """A proven range in percent, as every table and the audit print it: "83.43–89.95", its ends
    rounded outward at a tie (``_fmt``), so one answer prints one way wherever it is shown. A range
    that reaches the bottom of the scale has no lower bound in the record: "≤ 81.73", not "0.00–81.73"."""
    if lo <= DOMAIN[0] / GRID + 1e-9:
        return f"≤ {_fmt(hi, 1)}"
    return f"{_fmt(lo, -1)}–{_fmt(hi, 1)}"


def _group_label_of_fact(fact: str, index: str) -> str | None:
    if fact.startswith("group_count_"):
        return fact.removeprefix("group_count_")
    if index == "sipas" and fact.startswith("n_") and fact.endswith("_group"):
        return fact[2:-6]
    return None


def _facts_for(facts: pd.DataFrame, index: str, year: int) -> pd.DataFrame:
    f = facts[(facts["index"] == index) & (facts["year"] == year)]
    return f.sort_values(["fact", "status"], kind="stable")


def announced_counts(facts: pd.DataFrame, index: str, year: int) -> dict[str, int]:
    """Label -> announced number of provinces in that group (from national_facts)."""
    out: dict[str, int] = {}
    for r in _facts_for(facts, index, year).itertuples():
        lab = _group_label_of_fact(r.fact, index)
        if lab is not None:
            out.setdefault(lab, int(float(r.value)))
    return out


def _range_text(fc: FactCheck) -> tuple[str, list[float] | None]:
    if fc.range is None:
        return "", None
    lo, hi = fc.range
    kind = fc.claim.kind
    if kind in ("count", "n_groups", "tier"):
        lo, hi = int(round(lo)), int(round(hi))
        return range_text(lo, hi), [lo, hi]
    if kind in ("leader", "last"):  # margin to the best other province (negative: ahead)
        return "", [round(lo, 4), round(hi, 4)]
    return (_fmt(lo) if hi - lo < 1e-9 else f"{_fmt(lo, -1)}–{_fmt(hi, 1)}"), [round(lo, 4), round(hi, 4)]


def _detail(fc: FactCheck, names: pd.Series, label: str | None = None,
            classified: pd.DataFrame | None = None) -> tuple[str, dict] | None:
    c = fc.claim
    if fc.status == CONTRADICTED:
        if fc.conflict:
            return ("conflict_aside" if fc.set_aside else "conflict",
                    {"others": [claim_ref(o, names) for o in fc.conflict]})
        return ("ruled_out_aside" if fc.set_aside else "ruled_out", {})
    if c.kind == "leader":
        return ("leader_sure", {}) if fc.status == REPRODUCED else ("leader_open", {})
    if c.kind == "last":
        return ("last_sure", {}) if fc.status == REPRODUCED else ("last_open", {})
    if c.kind == "tier":
        open_ = vsorted(str(names.iloc[i]) for i in fc.members_open)
        return ("tier_open" if open_ else "tier", {
            "forced": fc.members_forced, "n": len(c.members), "open": open_,
            "size": range_text(int(fc.range[0]), int(fc.range[1]))})
    if c.kind == "count" and label is not None and classified is not None:
        sure = classified.loc[classified["group"] == label, "province"]
        if 0 < len(sure) <= 8:
            return ("placed", {"names": vsorted(sure)})
    return None


CHANGE_FACTS = ("largest_rise", "smallest_rise", "largest_fall", "smallest_fall", "n_improved_vs_prev_year",
                "n_declined_vs_prev_year", "n_unchanged_vs_prev_year")


def known_changes(table: IndexTable, previous: pd.DataFrame | None) -> pd.Series:
    """Change in points of every unit whose value is published on the grid in both years."""
    if previous is None:
        return pd.Series(dtype=float)
    d = table.data
    both = [c for c in d.index if c in previous.index and not pd.isna(d.at[c, "value"])
            and not pd.isna(previous.at[c, "value"])
            and (decimals(str(d.at[c, "value_text"])) or 0) >= 2
            and (decimals(str(previous.at[c, "value_text"])) or 0) >= 2]
    return pd.Series({c: round(float(d.at[c, "value"]) - float(previous.at[c, "value"]), 2) for c in both},
                     dtype=float)


def _change_check(fact: str, value: str, diffs: pd.Series, names: pd.Series) -> tuple[str, tuple, tuple] | None:
    """A year-on-year fact against the units known in both years (it links two unknown tables
    otherwise, and is not used for the bounds: docs/method.md §4.4)."""
    if diffs.empty:
        return None
    try:
        x = abs(float(str(value).replace("\u2212", "-").replace("+", "")))
    except ValueError:
        return None
    n = len(diffs)
    if fact in ("largest_rise", "largest_fall"):
        sign = 1 if fact == "largest_rise" else -1
        over = diffs[sign * diffs > x + 1e-9]
        if len(over):
            bad = vsorted(f"{names[c]} {sign * over[c]:+.2f}" for c in over.index)
            return CONTRADICTED, ("change_known", {"n": n}), ("change_beyond", {"list": bad})
        return CONSISTENT, ("change_known", {"n": n}), None
    if fact in ("n_improved_vs_prev_year", "n_declined_vs_prev_year", "n_unchanged_vs_prev_year"):
        k = int((diffs > 0).sum() if "improved" in fact else (diffs < 0).sum() if "declined" in fact
                else (diffs == 0).sum())
        status = CONTRADICTED if k > int(x) else CONSISTENT
        return status, ("change_counted", {"k": k, "n": n}), None
    if fact in ("smallest_rise", "smallest_fall"):
        sign = 1 if fact == "smallest_rise" else -1
        under = diffs[(sign * diffs > 0) & (sign * diffs < x - 1e-9)]
        if len(under):
            bad = vsorted(f"{names[c]} {sign * under[c]:+.2f}" for c in under.index)
            return CONTRADICTED, ("change_known", {"n": n}), ("change_beyond", {"list": bad})
        return CONSISTENT, ("change_known", {"n": n}), None
    return None


def run_audit(table: IndexTable, inf: Inference, facts: pd.DataFrame, components: pd.DataFrame | None = None,
              reference: IndexTable | None = None, classified: pd.DataFrame | None = None,
              previous: pd.DataFrame | None = None) -> list[AuditItem]:
    """Audit ``table`` against the facts; ``reference`` is the public evidence to compare a user's table with."""
    idx, year = table.index, table.year
    items: list[AuditItem] = []
    names = table.data["province"]
    for fc in inf.checks:
        c = fc.claim
        text, rng = _range_text(fc)
        label = _group_label_of_fact(c.fact, idx)
        items.append(_t(AuditItem(idx, year, c.fact, c.published, fc.status, computed=text,
                                  source_ids=list(c.sources), range=rng,
                                  conflict=[o.text for o in fc.conflict], set_aside=fc.set_aside),
                        detail=_detail(fc, names, label, classified)))
    diffs = known_changes(table, previous)
    for fact, value, reason, srcs in inf.other:
        if fact in CHANGE_FACTS and (chk := _change_check(fact, value, diffs, names)) is not None \
                and chk[0] is not None:
            status, computed, detail = chk
            items.append(_t(AuditItem(idx, year, fact, str(value), status, source_ids=list(srcs)),
                            computed=computed, detail=detail or ("change_not_bounds", {})))
            continue
        if fact.startswith("published_tier_") or reason != "not_from_values":
            detail = (f"reason_{reason}", {})
        else:
            detail = _not_from_values(fact)
        shown = str(value)
        if fact.endswith("_province") and shown in names.index:  # recorded as the unit's code: shown by name
            shown = str(names[shown])
        items.append(_t(AuditItem(idx, year, fact, shown, NOT_CHECKABLE, source_ids=list(srcs)),
                        detail=detail))
    items.sort(key=lambda i: (i.fact.startswith("published_tier_"), i.fact, i.published))
    if components is not None:
        items += _audit_components(table, components)
    items += _audit_ranks(table, inf, classified)
    if reference is not None:
        items += _audit_against_reference(table, reference)
    return items


def additivity_gap(comp: pd.DataFrame) -> float:
    """Largest gap, in points, between the sum of the four published parts and the published total."""
    parts = comp[list(COMPONENT_COLUMNS)].astype(float).sum(axis=1)
    return float((parts - comp["total"].astype(float)).abs().max())


def _audit_components(table: IndexTable, components: pd.DataFrame) -> list[AuditItem]:
    comp = components[(components["index"] == table.index) & (components["year"] == table.year)]
    if comp.empty:
        return []
    worst = additivity_gap(comp)
    it = AuditItem(table.index, table.year, "component_additivity", "",
                   REPRODUCED if worst <= ADDITIVITY_TOLERANCE else CONTRADICTED,
                   source_ids=list(dict.fromkeys(comp["source_id"])))
    # the totals in the component table must also be the values in the index table
    v = table.data["value"]
    off = [r.province for r in comp.itertuples()
           if not pd.isna(v.get(r.province_code)) and abs(float(v[r.province_code]) - float(r.total)) > 0.005]
    if off:
        it.status = CONTRADICTED
    return [_t(it, published=("components_published", {"n": len(comp)}),
               computed=("largest_gap", {"gap": f"{worst:.3f}"}),
               detail=("tolerance_off", {"tol": ADDITIVITY_TOLERANCE, "names": vsorted(off)}) if off
               else ("tolerance", {"tol": ADDITIVITY_TOLERANCE}))]


def _audit_ranks(table: IndexTable, inf: Inference, classified: pd.DataFrame | None) -> list[AuditItem]:
    """Published ranks and values of the provinces: do they hold together (and with the facts)?"""
    d = table.data
    n_ranks = int(d["rank"].notna().sum())
    it = _t(AuditItem(table.index, table.year, "published_ranks", "", NOT_CHECKABLE),
            published=("ranks_published", {"n": n_ranks}))
    if not d["rank"].notna().any():
        return [it]
    if table.complete and classified is not None:
        comp = classified["rank_computed"]
        bad = [f"{d.at[c, 'province']} {int(d.at[c, 'rank'])}≠{int(comp[c])}"
               for c in d.index[d["rank"].notna()] if int(d.at[c, "rank"]) != int(comp[c])]
        it.status = CONTRADICTED if bad else REPRODUCED
        return [_t(it, detail=("rank_mismatch", {"list": bad}) if bad else ("ranks_all_equal", {}))]
    by_key = {c.key: c for c in inf.claims}
    own = [cf for cf in inf.conflicts if any(by_key[k].kind in ("value", "rank") for k in cf.claims)]
    if own:
        names = d["province"]
        it.status = CONTRADICTED
        it.conflict = ["; ".join(by_key[k].text for k in cf.claims) for cf in own]
        sets = [[claim_ref(by_key[k], names) for k in cf.claims] for cf in own]
        aside_keys = list(dict.fromkeys(k for cf in own for k in cf.set_aside if by_key[k].kind in ("value", "rank")))
        aside = [claim_ref(by_key[k], names) for k in aside_keys]
        it.set_aside = bool(aside)
        _t(it, detail=("ranks_conflict_aside", {"sets": sets, "aside": aside}) if aside
           else ("ranks_conflict", {"sets": sets}))
    else:
        it.status = CONSISTENT
        _t(it, detail=("ranks_hold", {"n": n_ranks, "n_value": table.n_value}))
    return [it]


def _audit_against_reference(table: IndexTable, ref: IndexTable) -> list[AuditItem]:
    """A user's table against the published public figures (typing errors show here)."""
    r, d = ref.data, table.data
    both = r.index[r["value"].notna() & d["value"].notna()]
    bad = []
    for c in both:
        tol = max(_tol(str(r.at[c, "value_text"])), 0.005 + 1e-9)
        if abs(float(d.at[c, "value"]) - float(r.at[c, "value"])) > tol:
            bad.append(f"{r.at[c, 'province']} {float(d.at[c, 'value']):.2f}≠{r.at[c, 'value_text']}")
    missing = int((r["value"].notna() & d["value"].isna()).sum())
    it = _t(AuditItem(table.index, table.year, "published_values", "",
                      CONTRADICTED if bad else (REPRODUCED if len(both) else NOT_CHECKABLE)),
            published=("values_published", {"n": int(r["value"].notna().sum())}),
            computed=("n_match", {"k": len(both) - len(bad), "n": len(both)}),
            detail=(("values_mismatch_missing" if missing else "values_mismatch") if bad else
                    ("values_missing" if missing else None), {"list": bad, "missing": missing})
            if (bad or missing) else None)
    out = [it]
    ranks_both = r.index[r["rank"].notna()]
    if table.complete and len(ranks_both):
        comp = d["value"].astype("Float64").rank(method="min", ascending=False)
        badr = [f"{r.at[c, 'province']} {int(comp[c])}≠{int(r.at[c, 'rank'])}"
                for c in ranks_both if int(comp[c]) != int(r.at[c, "rank"])]
        out.append(_t(AuditItem(table.index, table.year, "published_ranks_public", "",
                                CONTRADICTED if badr else REPRODUCED),
                      published=("ranks_public", {"n": len(ranks_both)}),
                      computed=("n_match", {"k": len(ranks_both) - len(badr), "n": len(ranks_both)}),
                      detail=("ranks_public_mismatch", {"list": badr}) if badr else None))
    return out
