"""Groups, tiers and ranks, from the year's rules in data/classification_rules.csv.

The rules are read here; what the published record proves about each province's value
and group is computed jointly in ``inference`` (a complete official table is the case
where every value is known). A group is *known* only when every table consistent with
the record puts the province in it; nothing is guessed.
"""

from __future__ import annotations

import re

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import pandas as pd

from ..errors import ParindexError

from ..data.tables import IndexTable, file_source_id

if TYPE_CHECKING:
    from .inference import Inference

N_PROVINCES = 63


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
    lower_basis: str = ""
    upper_basis: str = ""

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

    def unstated_cutoffs(self) -> set[float]:
        """Cut-offs no source states (every bound at that value is inferred): an inference treats
        each as unknown, within what the published record allows."""
        stated: set[float] = set()
        inferred: set[float] = set()
        for r in self.rules:
            if r.kind != "band":
                continue
            for v, b in ((r.lower, r.lower_basis), (r.upper, r.upper_basis)):
                if v is not None:
                    (inferred if b == "inferred" else stated).add(v)
        return inferred - stated

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
                        basis="/".join(dict.fromkeys(bases)), source_ids=tuple(dict.fromkeys(srcs)),
                        lower_basis=r.lower_basis if isinstance(r.lower_basis, str) else "",
                        upper_basis=r.upper_basis if isinstance(r.upper_basis, str) else ""))
    return RuleSet(index, year, tuple(out))


def read_rules_file(path: str | Path, year: int) -> pd.DataFrame:
    """A user's cut-offs for a year data/ does not know, in the columns of
    data/classification_rules.csv. Bad input is one line naming the file, row and column."""
    from ..data.datapackage import resource
    from ..data.loading import check_input_file

    check_input_file(path)
    name = str(path)
    fields = resource("classification_rules")["schema"]["fields"]
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig", nrows=200)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ParindexError(f"cannot read the rules file ({type(e).__name__})", file=name,
                            fix="save it as CSV UTF-8 with the columns of data/classification_rules.csv") from None
    missing = [f["name"] for f in fields if f["name"] not in raw.columns]
    if missing:
        raise ParindexError(f"no '{missing[0]}' column", file=name, row=1, column=missing[0],
                            fix="use the columns of data/classification_rules.csv (empty cells are allowed)")
    out = pd.DataFrame(index=raw.index)
    for f in fields:
        col, c = raw[f["name"]], f.get("constraints", {})
        for i, v in col.items():
            row = int(i) + 2
            if pd.isna(v):
                if c.get("required"):
                    raise ParindexError(f"'{f['name']}' is empty", file=name, row=row, column=f["name"],
                                        fix="fill it in (see data/classification_rules.csv)")
                continue
            if f["type"] in ("number", "integer"):
                try:
                    x = float(v)
                except ValueError:
                    x = math.nan
                if not math.isfinite(x):  # 'nan' and 'inf' parse as floats, but are no cut-offs
                    raise ParindexError(f"'{v}' is not a number", file=name, row=row, column=f["name"],
                                        fix="write cut-offs in percent, e.g. 90") from None
                if f["type"] == "integer" and not x.is_integer():
                    raise ParindexError(f"'{v}' is not a whole number", file=name, row=row, column=f["name"],
                                        fix="write a whole number")
            elif f["type"] == "boolean" and str(v).lower() not in ("true", "false"):
                raise ParindexError(f"'{v}' is not true or false", file=name, row=row, column=f["name"],
                                    fix="write true or false")
            if "enum" in c and v not in c["enum"]:
                raise ParindexError(f"'{v}' is not one of {', '.join(c['enum'])}", file=name, row=row,
                                    column=f["name"], fix=f"use one of {', '.join(c['enum'])}")
        if f["type"] == "boolean":
            out[f["name"]] = col.str.lower().map({"true": True, "false": False}).astype("boolean")
        elif f["type"] in ("number", "integer"):
            out[f["name"]] = pd.to_numeric(col).astype("Float64" if f["type"] == "number" else "Int64")
        else:
            out[f["name"]] = col.astype("string")
    out = out[out["year"] == year]
    if out.empty:
        raise ParindexError(f"no rule for {year} in the rules file", file=name, column="year",
                            fix=f"give the {year} rules (one row per group) with year = {year}")
    for _, rows in out.groupby("index", sort=False):
        _check_partition(rows, name)
    return _as_users_claim(out, Path(path))


def _as_users_claim(rules: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A user's rules carry their own provenance: the file's name and digest stand as the source,
    a cut-off the file calls stated is the user's ('user'), and a source id it cites is shown as
    what the file says, not as a source parindex checked (a rules file may reuse any id)."""
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    out = rules.copy()
    for end in ("lower", "upper", "n"):
        basis, src = f"{end}_basis", f"{end}_source_id"
        if basis in out:
            out[basis] = out[basis].mask(out[basis].isin(["stated", "official"]), "user")
        if src in out:
            cited = out[src].fillna("")
            own = file_source_id(f"{path.name} (sha256 {digest})")
            # (one id: the citation lists split on ';' and ',')
            out[src] = pd.Series([own + (" cites " + re.sub(r"[;,\s]+", " ", c).strip() if c else "") for c in cited],
                                 index=out.index, dtype="string")
            out.loc[out[basis].isna() if basis in out else out.index[:0], src] = pd.NA
    return out


def _check_partition(rows: pd.DataFrame, name: str) -> None:
    """One index's rules for one year must divide the scale: each band a real interval within 0-100,
    no value in two bands, no label twice. (Gaps are allowed: the record may not state every group.)"""
    seen: dict[str, int] = {}
    bands: list[tuple[int, Rule]] = []
    for i, r in rows.iterrows():
        row = int(i) + 2
        label = str(r["label"])
        if label in seen:
            raise ParindexError(f"label '{label}' is also on row {seen[label]}", file=name, row=row, column="label",
                                fix="give each group its own label")
        seen[label] = row
        if r["kind"] != "band":
            continue
        rule = Rule(label=label, order=0, kind="band", lower=_num(r["lower"]),
                    lower_inclusive=_bool(r["lower_inclusive"], True), upper=_num(r["upper"]),
                    upper_inclusive=_bool(r["upper_inclusive"], False))
        for col, x in (("lower", rule.lower), ("upper", rule.upper)):
            if x is not None and not 0 <= x <= 100:
                raise ParindexError(f"{col} {x:g} is outside 0-100", file=name, row=row, column=col,
                                    fix="write cut-offs in percent, e.g. 90")
        if rule.lower is not None and rule.upper is not None and not (
                rule.lower < rule.upper or (rule.lower == rule.upper and rule.lower_inclusive and rule.upper_inclusive)):
            raise ParindexError(f"lower {rule.lower:g} is not below upper {rule.upper:g}", file=name, row=row,
                                column="lower", fix="swap them, or correct one of the two")
        for other_row, other in bands:
            if _overlap(rule, other):
                raise ParindexError(f"band '{label}' ({rule.describe()}) overlaps band '{other.label}' "
                                    f"({other.describe()}) on row {other_row}", file=name, row=row, column="lower",
                                    fix="make the bands meet without overlapping, e.g. A ≥ 90 and B ≥ 80, < 90")
        bands.append((row, rule))


def _overlap(a: Rule, b: Rule) -> bool:
    """Whether some value lies in both bands (a shared end point counts when both include it)."""
    lo = max(-math.inf if a.lower is None else a.lower, -math.inf if b.lower is None else b.lower)
    hi = min(math.inf if a.upper is None else a.upper, math.inf if b.upper is None else b.upper)
    return lo < hi or (lo == hi and math.isfinite(lo) and a.contains(lo) and b.contains(lo))


def full_precision_rank(values: pd.Series) -> pd.Series:
    """Rank 1 = highest, ties share the best place (min method), on unrounded values."""
    return values.astype("Float64").rank(method="min", ascending=False).astype("Int64")


def classify(table: IndexTable, rs: RuleSet | None, inf: Inference) -> pd.DataFrame:
    """Per province: bounds, computed rank, group and how the group is known, from the inference.

    ``lo``/``hi`` and ``possible`` are true minima, maxima and possibilities over every table
    consistent with the record (see inference); group_basis is ``value`` (the province's own
    value decides it), ``record`` (the published record as a whole forces it),
    ``announced_counts`` (forced only once the announced counts are assumed) or ``unknown``.
    """
    d = table.data
    p = inf.provinces.reindex(d.index)
    out = pd.DataFrame(index=d.index)
    out["province"] = d["province"]
    out["value"] = d["value"]
    out["rank_published"] = d["rank"]
    out["rank_computed"] = full_precision_rank(d["value"]) if table.complete else pd.array(
        [pd.NA] * len(d), dtype="Int64")
    out["lo"] = p["lo"].astype(float)
    out["hi"] = p["hi"].astype(float)
    point = d["value"].notna() & (out["lo"] == out["hi"])
    out["bound_basis"] = np.where(d["value"].notna(), np.where(point, "value", "rounded_value"), "record")
    out["inconsistent"] = out["lo"].isna()
    out["group"] = pd.array(list(p["group"]), dtype="string")
    out["group_basis"] = p["group_basis"].fillna("unknown")
    out["possible"] = [",".join(x) if isinstance(x, list) else "" for x in p["possible"]]
    return out


def group_counts(classified: pd.DataFrame, rs: RuleSet | None) -> dict[str, int]:
    """Label -> number of provinces whose group is known (any basis)."""
    if rs is None:
        return {}
    g = classified["group"].dropna()
    return {lab: int((g == lab).sum()) for lab in rs.labels}
