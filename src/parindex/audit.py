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

import re
from dataclasses import asdict, dataclass, field

import pandas as pd

from .collate import vsorted
from .inference import CONSISTENT, CONTRADICTED, REPRODUCED, FactCheck, Inference
from .tables import COMPONENT_COLUMNS, IndexTable, decimals

NOT_CHECKABLE = "not_checkable"
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
# Families of facts, by prefix or suffix, with the reason they are recorded but not checked.
_NOT_FROM_VALUES_PATTERNS = (
    (re.compile(r".*(change_vs_prev_year|_vs_prev_year|largest_(rise|fall)|smallest_(rise|fall))"),
     "needs the previous year's table"),
    (re.compile(r"regional_mean_.*"), "a regional mean: which provinces fill the open places is not known"),
    (re.compile(r"(survey_|respondents|edition|announcement_date|share_).*"), "about the survey, not the values"),
    (re.compile(r"(policy|public_admin_service|service_access)_satisfaction.*|(component_change|n_components).*"),
     "a sub-index or component, not the index value"),
)


def _not_from_values(fact: str) -> str:
    if fact in _NOT_FROM_VALUES:
        return _NOT_FROM_VALUES[fact]
    for pattern, reason in _NOT_FROM_VALUES_PATTERNS:
        if pattern.fullmatch(fact):
            return reason
    return _OTHER_REASONS["not_from_values"]
_OTHER_REASONS = {
    "no_rule": "no classification rule for this group in this year",
    "province_not_in_registry": "province not in the registry",
    "not_from_values": "not a function of the provincial values",
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
    range: list[float] | None = None  # what the rest of the record allows, where a range is checked
    conflict: list[str] = field(default_factory=list)  # the other claims of a contradiction
    set_aside: bool = False  # the bounds rest on the record without this claim

    def to_dict(self) -> dict:
        return asdict(self)


def _tol(text: str) -> float:
    d = decimals(text) or 0
    return 0.5 * 10 ** -d + 1e-9


def _fmt(x: float) -> str:
    return f"{x:.2f}"


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
        return (str(lo) if lo == hi else f"{lo}–{hi}"), [lo, hi]
    if kind in ("leader", "last"):  # margin to the best other province (negative: ahead)
        return "", [round(lo, 4), round(hi, 4)]
    return (_fmt(lo) if hi - lo < 1e-9 else f"{_fmt(lo)}–{_fmt(hi)}"), [round(lo, 4), round(hi, 4)]


def _detail(fc: FactCheck, names: pd.Series, label: str | None = None,
            classified: pd.DataFrame | None = None) -> str:
    c = fc.claim
    if fc.status == CONTRADICTED:
        text = ("cannot hold together with " + "; ".join(o.text for o in fc.conflict) if fc.conflict
                else "the table rules it out")
        return text + ("; set aside for the bounds" if fc.set_aside else "")
    if c.kind == "leader":
        return ("no other province can be above it" if fc.status == REPRODUCED
                else "the record allows another province to be first")
    if c.kind == "last":
        return ("no other province can be below it" if fc.status == REPRODUCED
                else "the record allows another province to be last")
    if c.kind == "tier":
        open_ = ", ".join(vsorted(str(names.iloc[i]) for i in fc.members_open))
        return (f"{fc.members_forced} of {len(c.members)} members placed in the tier by the rest of the record"
                + (f" (not placed by it: {open_})" if open_ else "")
                + f"; without the list the tier can hold {int(fc.range[0])}–{int(fc.range[1])} provinces")
    if c.kind == "count" and label is not None and classified is not None:
        sure = classified.loc[classified["group"] == label, "province"]
        if 0 < len(sure) <= 8:
            return "placed in the group: " + ", ".join(sure)
    return ""


def run_audit(table: IndexTable, inf: Inference, facts: pd.DataFrame, components: pd.DataFrame | None = None,
              reference: IndexTable | None = None, classified: pd.DataFrame | None = None) -> list[AuditItem]:
    """Audit ``table`` against the facts; ``reference`` is the public evidence to compare a user's table with."""
    idx, year = table.index, table.year
    items: list[AuditItem] = []
    names = table.data["province"]
    for fc in inf.checks:
        c = fc.claim
        text, rng = _range_text(fc)
        label = _group_label_of_fact(c.fact, idx)
        items.append(AuditItem(idx, year, c.fact, c.published, fc.status, computed=text,
                               detail=_detail(fc, names, label, classified),
                               source_ids=list(c.sources), range=rng,
                               conflict=[o.text for o in fc.conflict], set_aside=fc.set_aside))
    for fact, value, reason, srcs in inf.other:
        if fact.startswith("published_tier_") or reason != "not_from_values":
            detail = _OTHER_REASONS.get(reason, reason)
        else:
            detail = _not_from_values(fact)
        items.append(AuditItem(idx, year, fact, str(value), NOT_CHECKABLE, detail=detail, source_ids=list(srcs)))
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


def _audit_ranks(table: IndexTable, inf: Inference, classified: pd.DataFrame | None) -> list[AuditItem]:
    """Published ranks and values of the provinces: do they hold together (and with the facts)?"""
    d = table.data
    it = AuditItem(table.index, table.year, "published_ranks",
                   f"{int(d['rank'].notna().sum())} published ranks", NOT_CHECKABLE)
    if not d["rank"].notna().any():
        return [it]
    if table.complete and classified is not None:
        comp = classified["rank_computed"]
        bad = [f"{d.at[c, 'province']} {int(d.at[c, 'rank'])}≠{int(comp[c])}"
               for c in d.index[d["rank"].notna()] if int(d.at[c, "rank"]) != int(comp[c])]
        it.status = CONTRADICTED if bad else REPRODUCED
        it.detail = "; ".join(bad) or "every published rank equals the full-precision rank"
        return [it]
    by_key = {c.key: c for c in inf.claims}
    own = [cf for cf in inf.conflicts if any(by_key[k].kind in ("value", "rank") for k in cf.claims)]
    if own:
        it.status = CONTRADICTED
        it.conflict = ["; ".join(by_key[k].text for k in cf.claims) for cf in own]
        aside = vsorted({by_key[k].text for cf in own for k in cf.set_aside if by_key[k].kind in ("value", "rank")})
        it.detail = ("cannot all hold: " + " | ".join(it.conflict)
                     + (f"; set aside for the bounds: {', '.join(aside)}" if aside else ""))
        it.set_aside = bool(aside)
    else:
        it.status = CONSISTENT
        it.detail = (f"the {int(d['rank'].notna().sum())} published ranks and {table.n_value} values "
                     "hold together with the tie rule")
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
