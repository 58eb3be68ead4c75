"""One year's analysis of both indices: the single entry point for the CLI and the notebooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .. import __version__
from . import cache
from .audit import AuditItem, announced_counts, run_audit
from .classify import RuleSet, classify, full_precision_rank, group_counts, ruleset
from . import cores
from ..data.collate import vsorted
from ..data.datapackage import checksums, read_resource
from ..errors import ParindexError
from collections.abc import Iterable

from .inference import FAMILIES, Inference, infer
from ..data.labels import read_labels
from ..data.loading import LoadReport, load_table
from ..data.paths import data_dir
from ..data.registry import Registry, default_registry, registry_for
from ..data.tables import COMPONENT_COLUMNS, INDEXES, IndexTable, consolidate, file_source_id, years_with_data


@dataclass
class Bundle:
    """All bundled resources, checksum-verified."""

    registry: Registry  # the 63 former provinces; units(year) gives the set a year is assessed on
    observations: pd.DataFrame
    components: pd.DataFrame
    published_tiers: pd.DataFrame
    national_facts: pd.DataFrame
    rules: pd.DataFrame
    legal_basis: pd.DataFrame
    sources: pd.DataFrame
    labels: pd.DataFrame
    checksums: dict[str, str]
    ministry_observations: pd.DataFrame = field(default_factory=pd.DataFrame)
    regions: pd.DataFrame | None = None  # the socio-economic regions and the years their membership holds
    region_ranks: pd.DataFrame | None = None  # places within a region, as published

    def units(self, year: int, kind: str = "provinces") -> Registry:
        return registry_for(year, kind)

    def published(self, index: str, year: int) -> pd.DataFrame:
        """The year's bundled province table (consolidate: one figure per unit, conflicts kept
        visible), computed once per bundle: the series, the briefs and the report all ask."""
        cache = self.__dict__.setdefault("_published", {})
        if (index, year) not in cache:
            cache[(index, year)] = consolidate(self.observations, index, year, self.units(year)).data
        return cache[(index, year)]

    def observations_of(self, kind: str = "provinces") -> pd.DataFrame:
        """Observations keyed like the provinces' (province_code, province), whatever the units."""
        if kind == "ministries":
            return self.ministry_observations
        return self.observations

    def facts_index(self, index: str, kind: str = "provinces") -> str:
        """The index name national facts are filed under for these units."""
        return f"{index}_ministries" if kind == "ministries" else index

    def has_ministries(self, year: int) -> bool:
        return bool((self.ministry_observations["year"] == year).any()
                    or (self.national_facts["index"].str.endswith("_ministries")
                        & (self.national_facts["year"] == year)).any())

    def first_year(self, index: str) -> tuple[int, list[str]] | None:
        """The first year an index was measured, derived from a published edition number (SIPAS
        2024 is its 8th: first measured for 2017), with the sources; None when none is published.
        Computed once per bundle: every section of a document asks."""
        cache = self.__dict__.setdefault("_first_year", {})
        if index not in cache:
            f = self.national_facts
            ed = f[(f["index"] == index) & (f["fact"] == "edition")]
            firsts = [(int(r.year) - int(float(r.value)) + 1, r.source_id) for r in ed.itertuples()]
            year = min((y for y, _ in firsts), default=None)
            cache[index] = None if year is None else (year, [sid for y, sid in firsts if y == year])
        found = cache[index]
        return None if found is None else (found[0], list(found[1]))

    def years(self, index: str | None = None) -> list[int]:
        idx = [index] if index else list(INDEXES)
        ys = set()
        for i in idx:
            ys |= set(years_with_data(self.observations, i))
            ys |= set(int(y) for y in self.national_facts.loc[self.national_facts["index"] == i, "year"])
        return sorted(ys)


@lru_cache(maxsize=2)
def _bundle(path: Path) -> Bundle:
    return Bundle(
        registry=default_registry(),
        observations=read_resource("observations", path),
        components=read_resource("components", path),
        published_tiers=read_resource("published_tiers", path),
        national_facts=read_resource("national_facts", path),
        rules=read_resource("classification_rules", path),
        legal_basis=read_resource("legal_basis", path),
        sources=read_resource("sources", path),
        labels=read_labels(),
        checksums=checksums(path),
        ministry_observations=read_resource("ministry_observations", path).rename(
            columns={"unit_code": "province_code", "unit": "province"}),
        regions=_optional_resource("regions", path),
        region_ranks=_optional_resource("region_ranks", path),
    )


def _optional_resource(name: str, path: Path) -> pd.DataFrame | None:
    from ..data.datapackage import resource
    from ..errors import DataPackageError

    try:
        resource(name, path)
    except DataPackageError:  # a data package from before the regions were recorded
        return None
    return read_resource(name, path)


def load_bundle() -> Bundle:
    return _bundle(data_dir())


@dataclass
class IndexResult:
    table: IndexTable
    rules: RuleSet | None
    classified: pd.DataFrame
    announced: dict[str, int]
    audit: list[AuditItem]
    inference: Inference
    load_report: LoadReport | None = None
    components: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def groups(self) -> dict[str, int]:
        """Label -> number of provinces whose group is known."""
        return group_counts(self.classified, self.rules)

    @property
    def count_ranges(self) -> dict[str, tuple[int, int]]:
        """Label -> (min, max) provinces in the group over every table consistent with the record."""
        return self.inference.count_ranges

    def set_aside(self, kind: str) -> frozenset[str]:
        """Codes of the units whose published ``kind`` ("value" or "rank") the audit set aside: it
        contradicts the rest of the record, so the bounds do not rest on it, and every table or
        chart that prints it marks it."""
        keys = {k for cf in self.inference.conflicts for k in cf.set_aside}
        return frozenset(k.split(":", 1)[1] for k in keys if k.startswith(f"{kind}:"))

    def members(self, label: str) -> list[str]:
        c = self.classified
        return vsorted(c.loc[c["group"] == label, "province"])


@dataclass
class YearAnalysis:
    year: int
    par_index: IndexResult
    sipas: IndexResult
    bundle: Bundle
    without: frozenset[str] = frozenset()
    ministries: IndexResult | None = None  # the ministries' PAR INDEX, where the year has any data
    rules_file: str | None = None

    @property
    def assume_announced(self) -> bool:
        return "counts" not in self.without

    def result(self, index: str) -> IndexResult:
        return self.par_index if index == "par_index" else self.sipas

    @property
    def audit(self) -> list[AuditItem]:
        return self.par_index.audit + self.sipas.audit + (self.ministries.audit if self.ministries else [])


def _user_components(table: IndexTable) -> pd.DataFrame:
    d = table.data
    cols = [c for c in COMPONENT_COLUMNS if c in d.columns]
    if len(cols) < len(COMPONENT_COLUMNS):
        return pd.DataFrame()
    rows = d[d[cols].notna().all(axis=1) & d["value"].notna()]
    return pd.DataFrame({
        "index": table.index, "year": table.year, "province_code": rows.index, "province": rows["province"],
        "rank": rows["rank"], **{c: rows[c] for c in cols}, "total": rows["value"], "status": "user",
        "source_id": file_source_id(Path(table.origin).name)}).reset_index(drop=True)


def _for_inference(table: IndexTable) -> pd.DataFrame:
    """A complete table's own order is known: its full-precision ranks place every province.

    Published ranks in a complete table are audited against those (published_ranks), not
    used to place provinces."""
    if not table.complete:
        return table.data
    d = table.data.copy()
    d["rank"] = full_precision_rank(d["value"])
    d["rank_status"] = "user"
    return d


def parse_without(without: str | Iterable[str] | None) -> frozenset[str]:
    """``"counts,regions"`` -> the kinds of published fact to leave out of the bounds."""
    if without is None:
        return frozenset()
    items = [w.strip() for w in (without.split(",") if isinstance(without, str) else without)]
    items = [w for w in items if w]
    bad = [w for w in items if w not in FAMILIES]
    if bad:
        raise ParindexError(f"--without {bad[0]!r} is not a kind of published fact",
                            fix=f"use any of {', '.join(FAMILIES)}, separated by commas")
    return frozenset(items)


def membership(bundle: Bundle, index: str, year: int, registry: Registry) -> dict[str, tuple[str, ...]] | None:
    """Region key -> unit codes, where data/regions.csv records the membership the year's
    regional figures are on; None where it does not (regional figures are then not used)."""
    regions = bundle.regions
    if regions is None or regions.empty or index.endswith("_ministries"):
        return None
    regions = regions[regions["legal_basis"].notna() & (regions["legal_basis"].astype("string") != "")]
    ok = regions[(regions["first_year"].astype("Int64") <= year)
                 & (regions["last_year"].isna() | (regions["last_year"].astype("Float64") >= year))]
    if ok.empty:
        return None
    keys = set(ok["region"])
    out: dict[str, list[str]] = {}
    for p in registry:
        if p.region in keys:
            out.setdefault(p.region, []).append(p.code)
    return {k: tuple(v) for k, v in out.items()}


def secondary_sources(bundle: Bundle) -> frozenset[str]:
    src = bundle.sources
    if "class" not in src.columns:
        return frozenset()
    return frozenset(src.loc[src["class"] == "secondary", "source_id"])


def analyse_index(bundle: Bundle, index: str, year: int, file: str | Path | None = None,
                  complete: bool = False, without: Iterable[str] = (), rules: pd.DataFrame | None = None,
                  units: str = "provinces", convention: str = "published") -> IndexResult:
    """One index in one year on the units of that year (or the ministries).

    ``rules``: a user's cut-offs (read_rules_file) for a year data/ has none for;
    ``without``: kinds of published fact the bounds leave out (see inference.FAMILIES)."""
    registry = bundle.units(year, units)
    fidx = bundle.facts_index(index, units)
    obs = bundle.observations_of(units)
    reference = consolidate(obs, index, year, registry)
    report = None
    own = (bundle.components["index"] == index) & (bundle.components["year"] == year) & (units == "provinces")
    if file:
        table, report = load_table(file, index, year, registry, complete=complete)
        comps = _user_components(table)
        if comps.empty:
            comps = bundle.components[own]
    else:
        table = reference
        comps = bundle.components[own]
    all_rules = bundle.rules
    if rules is not None and len(rules):
        all_rules = pd.concat([all_rules, rules[rules["index"] == fidx]], ignore_index=True)
    rs = ruleset(all_rules, fidx, year)
    announced = announced_counts(bundle.national_facts, fidx, year)
    data = _for_inference(table)
    facts = bundle.national_facts[(bundle.national_facts["index"] == fidx) & (bundle.national_facts["year"] == year)]
    tiers = bundle.published_tiers[(bundle.published_tiers["index"] == fidx)
                                   & (bundle.published_tiers["year"] == year)]
    without = frozenset(without)
    members = membership(bundle, fidx, year, registry)
    # last year's published table on this year's units, for the facts that link two years
    previous = None
    if (year - 1) in bundle.years(index) and [u.code for u in registry_for(year - 1, units)] == [u.code for u in registry]:
        previous = consolidate(obs, index, year - 1, registry).data
    secondary = secondary_sources(bundle)
    k = cache.key("infer", fidx, year, data, facts, tiers, rs, sorted(without), members, previous,
                  sorted(secondary), convention)
    inf = cache.cached(k, lambda: infer(data, fidx, year, rs, facts, tiers, without=without, membership=members,
                                        previous=previous, secondary_sources=secondary, convention=convention,
                                        strict_ranks=convention != "unrounded_ranks"))
    classified = classify(table, rs, inf)
    audit = run_audit(table, inf, bundle.national_facts, comps if len(comps) else None,
                      reference=reference if file else None, classified=classified, previous=previous)
    for item in audit:
        item.index = fidx
    return IndexResult(table, rs, classified, announced, audit, inf, report, comps.reset_index(drop=True))


CONVENTIONS = ("mean_rounded", "unrounded_ranks", "truncated")


def convention_sensitivity(bundle: Bundle, res: IndexResult, without: Iterable[str] = ()) -> list[dict]:
    """The headline ranges (group counts, unstated cut-offs, the mean the rest allows) under each
    alternative convention, beside the default's, and whether they move (docs/method.md §3)."""
    index, year = res.table.index, res.table.year
    if res.table.origin != "bundled" or index.endswith("_ministries"):
        return []
    registry = bundle.units(year)
    facts = bundle.national_facts[(bundle.national_facts["index"] == index) & (bundle.national_facts["year"] == year)]
    tiers = bundle.published_tiers[(bundle.published_tiers["index"] == index)
                                   & (bundle.published_tiers["year"] == year)]
    members = membership(bundle, index, year, registry)
    secondary = secondary_sources(bundle)
    without = frozenset(without)

    def headline(inf: Inference) -> dict:
        mean = next((fc.range for fc in inf.checks if fc.claim.kind == "mean"), None)
        return {"count_ranges": {k: list(v) for k, v in inf.count_ranges.items()},
                "cutoffs_allowed": {k: list(v) for k, v in inf.cut_ranges.items()},
                "mean_allowed": None if mean is None else [round(mean[0], 4), round(mean[1], 4)],
                "conflicts": len(inf.conflicts)}

    def run(convention: str) -> dict:
        data = _for_inference(res.table)
        k = cache.key("headline", index, year, data, facts, tiers, res.rules, sorted(without), members,
                      sorted(secondary), convention)
        inf = cache.cached(k, lambda: infer(data, index, year, res.rules, facts, tiers, without=without,
                                            membership=members, secondary_sources=secondary, convention=convention,
                                            strict_ranks=convention != "unrounded_ranks", headline=True))
        return headline(inf)

    base = run("published")
    out = [{"convention": "published", **base, "moves": []}]
    for conv in CONVENTIONS:
        h = run(conv)
        out.append({"convention": conv, **h, "moves": [k for k in ("count_ranges", "cutoffs_allowed", "mean_allowed",
                                                                 "conflicts") if h[k] != base[k]]})
    return out


def check_rules(bundle: Bundle, rules: pd.DataFrame | None, year: int, source: str) -> None:
    """A rules file is for a year data/ has no rules for: it never replaces recorded rules."""
    if rules is None:
        return
    for index in dict.fromkeys(rules["index"]):
        if ruleset(bundle.rules, str(index), year) is not None:
            raise ParindexError(f"data/ already records the {year} rules for {index}", file=source,
                                fix="drop --rules (it supplies cut-offs only for a year data/ does not know)")


def check_inputs(year: int, par_index_file: str | Path | None = None, sipas_file: str | Path | None = None,
                 complete: bool = False, rules_file: str | Path | None = None,
                 ministries_file: str | Path | None = None) -> pd.DataFrame | None:
    """A year and a user's files, read and checked without solving anything (milliseconds): each
    table, and the rules file, which is returned (None without one)."""
    bundle = load_bundle()
    known = bundle.years()
    if year not in known and not (par_index_file or sipas_file or ministries_file):
        raise ParindexError(f"no bundled data for {year}",
                            fix=f"choose one of {', '.join(map(str, known))} or pass --par-index/--sipas")
    rules = None
    if rules_file:
        from .classify import read_rules_file

        rules = read_rules_file(rules_file, year)
        check_rules(bundle, rules, year, str(rules_file))
    for index, file, units in (("par_index", par_index_file, "provinces"), ("sipas", sipas_file, "provinces"),
                               ("par_index", ministries_file, "ministries")):
        if file:
            load_table(file, index, year, bundle.units(year, units), complete=complete)
    return rules


def analyse(year: int, par_index_file: str | Path | None = None, sipas_file: str | Path | None = None,
            complete: bool = False, assume_announced: bool | None = None, rules_file: str | Path | None = None,
            ministries_file: str | Path | None = None, without: str | Iterable[str] | None = None) -> YearAnalysis:
    """``assume_announced`` is kept for old callers and does nothing: the announced counts are
    claims by default (``without="counts"`` leaves them out)."""
    without = parse_without(without)
    bundle = load_bundle()
    # A user's tables are read first, one after the other: a bad cell is an input error now, not
    # after the other index's solve (which the thread pool would wait for) has run its course.
    rules = check_inputs(year, par_index_file, sipas_file, complete, rules_file, ministries_file)
    # The two indices are independent and their solves release the GIL: one thread each.
    # A stop leaves without waiting for the solves in flight (cores.gather).
    calls = [lambda: analyse_index(bundle, "par_index", year, par_index_file, complete, without, rules),
             lambda: analyse_index(bundle, "sipas", year, sipas_file, complete, without, rules)]
    if ministries_file or bundle.has_ministries(year):
        calls.append(lambda: analyse_index(bundle, "par_index", year, ministries_file, complete, without, rules,
                                           units="ministries"))
    par, sip, *mins = cores.gather(calls, workers=min(2, cores._WORKERS))
    return YearAnalysis(year, par, sip, bundle, without, ministries=mins[0] if mins else None,
                        rules_file=str(rules_file) if rules_file else None)


def _index_summary(res: IndexResult) -> dict:
    c = res.classified
    by_key = {cl.key: cl for cl in res.inference.claims}
    provinces = []
    for code, r in c.iterrows():
        d = res.table.data.loc[code]
        provinces.append({
            "code": code, "province": r["province"],
            "value": None if pd.isna(r["value"]) else float(r["value"]),
            "rank_published": None if pd.isna(r["rank_published"]) else int(r["rank_published"]),
            "rank_computed": None if pd.isna(r["rank_computed"]) else int(r["rank_computed"]),
            "bounds": None if pd.isna(r["lo"]) else [round(float(r["lo"]), 6), round(float(r["hi"]), 6)],
            "group": None if pd.isna(r["group"]) else str(r["group"]),
            "group_basis": r["group_basis"],
            "possible_groups": [p for p in r["possible"].split(",") if p],
            "status": None if pd.isna(d["value_status"]) else str(d["value_status"]),
            "sources": [s for s in str(d["value_sources"] if not pd.isna(d["value_sources"])
                                        else d["rank_sources"] if not pd.isna(d["rank_sources"]) else "").split(";") if s],
            "note": d["note"] or None,
        })
    rs = res.rules
    return {
        "origin": res.table.origin,
        "coverage": res.table.coverage(),
        "rules": None if rs is None else [
            {"label": r.label, "kind": r.kind, "rule": r.describe(), "basis": r.basis,
             "sources": list(r.source_ids)} for r in sorted(rs.rules, key=lambda r: r.order)],
        "assumptions": res.inference.assumptions,
        "proven": res.inference.proven,
        # an unstated cut-off: every value in [lo, hi] (hundredths of a point apart) fits the record
        "cutoffs_allowed": {k: list(v) for k, v in res.inference.cut_ranges.items()},
        "announced_counts": res.announced,
        "count_ranges": {lab: list(v) for lab, v in res.count_ranges.items()},
        "count_ranges_without_counts": {lab: list(v) for lab, v in
                                        res.inference.count_ranges_without_counts.items()},
        "groups": res.groups,
        "groups_by_basis": {b: int((c["group_basis"] == b).sum()) for b in
                            ("value", "record", "announced_counts", "unknown")},
        "conflicts": [{"claims": [by_key[k].text for k in cf.claims],
                       "set_aside": [by_key[k].text for k in cf.set_aside]} for cf in res.inference.conflicts],
        "members": {lab: res.members(lab) for lab in (rs.labels if rs else [])},
        "unknown": vsorted(c.loc[c["group"].isna(), "province"]),
        "provinces": provinces,
        "missing_from_file": res.load_report.missing if res.load_report else None,
    }


def summary(a: YearAnalysis) -> dict:
    """A stable, JSON-ready document of the year's classification, coverage and audit."""
    par = _index_summary(a.par_index)
    sip = _index_summary(a.sipas)
    sip["tiers"] = {"highest": sip["members"].get("highest", []), "lowest": sip["members"].get("lowest", [])}
    pub = a.bundle.published_tiers
    pub = pub[(pub["index"] == "sipas") & (pub["year"] == a.year)]
    sip["published_tiers"] = {t: vsorted(set(g["province"])) for t, g in pub.groupby("tier")}
    return {
        "schema": "parindex.summary/2",
        "parindex_version": __version__,
        "year": a.year,
        "without": sorted(a.without),
        "assume_announced": a.assume_announced,
        "data_checksums": a.bundle.checksums,
        "units": len(a.par_index.table.data),
        "rules_file": a.rules_file,
        "par_index": par,
        "sipas": sip,
        "ministries": _index_summary(a.ministries) if a.ministries else None,
        "audit": [i.to_dict() for i in a.audit],
    }
