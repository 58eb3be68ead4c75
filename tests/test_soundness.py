"""Regression tests for the defects an independent re-derivation found (issue 18), each from
the inputs that showed it, and for the facts the bounds now use (counts, regional means)."""

from __future__ import annotations

import pathlib

import pandas as pd
import pytest

from parindex.infer import inference as inf
from parindex.infer.inference import Claim, Problem, band_of, text_interval

G = inf.GRID
SYN_PAR = pathlib.Path(__file__).parent / "fixtures" / "synthetic_par_index_2020.csv"


def value(i: int, text: str, status: str = "stated") -> Claim:
    lo, hi = text_interval(text)
    return Claim(f"value:{i}", "value", f"p{i} = {text}", status=status, province=i, lo=lo, hi=hi, published=text)


def rank(i: int, r: int, status: str = "stated") -> Claim:
    return Claim(f"rank:{i}", "rank", f"p{i} rank {r}", status=status, province=i, rank=r)


def test_one_claim_whose_removal_restores_consistency_is_the_one_set_aside():
    # Hà Nội 85.95 (28), Hà Giang 84.46 (29), Cao Bằng 84.66 (37), Bắc Kạn (34), Tuyên Quang
    # 83.52 (47). Hà Giang above Cao Bằng with a lower value: one of the four claims is wrong.
    # Removing Cao Bằng's rank alone does not help (84.66 would need a place above 29, where
    # Hà Nội's 85.95 sits at 28); removing Hà Giang's rank alone does. So only it goes, and Bắc
    # Kạn lies between Hà Nội (28) and Cao Bằng (37): 84.67 to 85.94.
    claims = [value(0, "85.95"), rank(0, 28), value(1, "84.46"), rank(1, 29), value(2, "84.66"), rank(2, 37),
              rank(3, 34), value(4, "83.52"), rank(4, 47)]
    p = Problem(63, [f"p{i}" for i in range(63)], claims)
    conflicts = inf.find_conflicts(p, claims)
    aside = {k for c in conflicts for k in c.set_aside}
    assert aside == {"rank:1"}
    rest = [c for c in claims if c.key not in aside]
    assert tuple(x / G for x in p.value_range(rest, 3)) == (84.67, 85.94)


def test_the_set_aside_rule_holds_with_two_independent_conflicts():
    # The same conflict twice, far apart: each is settled on its own (the old rule, asking the
    # whole record to become consistent, fell back to "the weakest of the set" and dropped both
    # ranks of each pair).
    claims = [value(0, "85.95"), rank(0, 28), value(1, "84.46"), rank(1, 29), value(2, "84.66"), rank(2, 37),
              value(4, "83.52"), rank(4, 47),
              value(5, "95.95"), rank(5, 2), value(6, "94.46"), rank(6, 3), value(7, "94.66"), rank(7, 10),
              value(8, "93.52"), rank(8, 20)]
    p = Problem(63, [f"p{i}" for i in range(63)], claims)
    aside = {k for c in inf.find_conflicts(p, claims) for k in c.set_aside}
    assert aside == {"rank:1", "rank:6"}


def _table_with(value_text: str, tmp_path: pathlib.Path) -> pathlib.Path:
    rows = SYN_PAR.read_text(encoding="utf-8").splitlines()
    assert rows[2].startswith("Hải Phòng,90.51,2,")
    rows[2] = rows[2].replace("90.51,2,", f"{value_text},,")
    f = tmp_path / "par.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return f


@pytest.mark.parametrize("typed, shown, group, counts", [
    # a value just under a cut-off is under it, and the counts say so too
    ("89.999991", 89.999991, "B", {"A": (1, 1), "B": (57, 57), "C": (5, 5), "D": (0, 0)}),
    # spreadsheet noise is the value it stands for (a user's table is read at 6 decimals)
    ("89.99999999999999", 90.0, "A", {"A": (2, 2), "B": (56, 56), "C": (5, 5), "D": (0, 0)}),
])
def test_values_at_a_cut_off_are_compared_at_the_declared_precision(tmp_path, typed, shown, group, counts):
    from conftest import summary_json

    from conftest import SYN_SIPAS

    doc = summary_json("--year", "2020", "--par-index", str(_table_with(typed, tmp_path)), "--sipas", str(SYN_SIPAS),
                       "--without", "regions")
    par = doc["par_index"]
    hp = next(p for p in par["provinces"] if p["province"] == "Hải Phòng")
    assert hp["value"] == shown and hp["bounds"] == [shown, shown] and hp["group"] == group
    assert {k: tuple(v) for k, v in par["count_ranges"].items()} == counts


def test_a_contradiction_reaches_the_audit_instead_of_being_dropped(bundle, record_2020):
    # SIPAS 2020: Thái Nguyên's derived rank 22 (87.66) and Bình Dương's stated rank 22 (88.07)
    # cannot both hold. Both ranks stay in the table; the inference sets the weaker one aside and
    # the audit names the conflict.
    from parindex.data.tables import consolidate

    d = consolidate(bundle.observations, "sipas", 2020, bundle.registry).data.set_index("province")
    assert int(d.at["Thái Nguyên", "rank"]) == 22 and int(d.at["Bình Dương", "rank"]) == 22
    res = record_2020.sipas  # without the announced counts
    ranks = next(i for i in res.audit if i.fact == "published_ranks")
    assert ranks.status == "contradicted" and ranks.set_aside
    assert any("Thái Nguyên rank 22" in s and "Bình Dương rank 22" in s for s in ranks.conflict)
    aside = {k for cf in res.inference.conflicts for k in cf.set_aside}
    tn = d.index.get_loc("Thái Nguyên")
    assert f"rank:{consolidate(bundle.observations, 'sipas', 2020, bundle.registry).data.index[tn]}" in aside


def test_a_value_below_every_band_is_in_no_group():
    # Rules with bands A >= 90 and B 80-<90 only (2024): a province that can be below 80 may be
    # in no group, and the possible groups say so.
    data = pd.DataFrame({"province": ["P0", "P1", "P2"], "value": [95.0, pd.NA, 70.0],
                         "value_text": ["95.00", pd.NA, "70.00"], "rank": [1, pd.NA, 3]}, index=["c0", "c1", "c2"])
    facts = pd.DataFrame(columns=["index", "year", "fact", "value", "status", "source_id"])

    class Rule:
        def __init__(self, label, lower, upper):
            self.label, self.lower, self.upper, self.kind = label, lower, upper, "band"
            self.lower_inclusive, self.upper_inclusive = True, False

    class Rules:
        rules = [Rule("A", 90, None), Rule("B", 80, 90)]
        labels = ["A", "B"]
        is_band = True

    res = inf.infer(data, "par_index", 2024, Rules(), facts, None)
    assert res.provinces.at["c1", "possible"] == ["A", "B", inf.OUTSIDE]
    assert res.provinces.at["c2", "group"] == inf.OUTSIDE and res.provinces.at["c2", "possible"] == [inf.OUTSIDE]


def test_a_solve_without_a_proof_is_an_outer_bound(monkeypatch):
    # max x0 + x1 with 2 x0 + 2 x1 <= 3 on integers: the LP optimum is 1.5, the integer one 1.
    # When the branch and bound stops without a proof (here: forced), the answer is the bound
    # HiGHS proved (the LP's 1.5, which contains the truth), never a feasible point taken for
    # the optimum, and the model says it is an outer bound.
    from parindex.infer import model

    real = model.highs

    def stopped(c, integ, *a, **kw):
        res = real(c, integ, *a, **kw)
        if integ is not None and any(integ):
            res.status, res.x, res.mip_dual_bound = 1, None, None
        return res

    m = inf._Model(2, [0, 0], [5, 5], [True, True])
    m.row({0: 2, 1: 2}, hi=3)
    monkeypatch.setattr(inf._Model, "_certify", lambda *a: None)  # no shortcut past the MIP
    assert m.solve({0: 1, 1: 1}, maximize=True) == 1 and not m.outer
    monkeypatch.setattr(model, "highs", stopped)
    assert m.solve({0: 1, 1: 1}, maximize=True) == pytest.approx(1.5) and m.outer


def test_2020_announced_counts_put_the_bottom_four_in_c(bundled_2020):
    c = bundled_2020.par_index.classified.set_index("province")
    assert {n: c.at[n, "group"] for n in ("Bắc Kạn", "Kiên Giang", "Phú Yên", "Quảng Ngãi")} == dict.fromkeys(
        ("Bắc Kạn", "Kiên Giang", "Phú Yên", "Quảng Ngãi"), "C")
    assert bundled_2020.par_index.count_ranges == {"A": (2, 2), "B": (56, 56), "C": (5, 5), "D": (0, 0)}


@pytest.fixture(scope="module")
def a2024(solve):
    return solve(2024)


@pytest.mark.slow  # solves a bundled year cold
def test_2024_every_province_is_at_or_above_80(a2024):
    c = a2024.par_index.classified
    assert c["lo"].min() >= 80.0  # "all 63 at or above 80" is a published fact the bounds use
    assert set(c["possible"].str.split(",").explode()) <= {"A", "B"}
    cb = c.set_index("province").loc["Cao Bằng"]
    assert cb["lo"] >= 80.0 and cb["group"] == "B"


@pytest.mark.slow  # solves a bundled year cold
def test_2024_regions_respect_their_published_means(a2024, bundle):
    from parindex.infer.analysis import analyse_index, parse_without

    # PAR INDEX alone: SIPAS's solve without the regions would double the test's time (2.5 s)
    plain = analyse_index(bundle, "par_index", 2024, without=parse_without("regions")).classified
    c = a2024.par_index.classified
    facts = bundle.national_facts
    f = facts[(facts["index"] == "par_index") & (facts["year"] == 2024) & facts["fact"].str.startswith("regional_mean_")]
    assert len(f) == 6
    for r in f.itertuples():
        region = r.fact.removeprefix("regional_mean_")
        codes = [p.code for p in bundle.units(2024) if p.region == region]
        mean = float(r.value)
        # within 0.01 of the published mean (docs/method.md): the members' bounds allow it ...
        assert c.loc[codes, "lo"].sum() <= len(codes) * (mean + 0.01) + 1e-6
        assert c.loc[codes, "hi"].sum() >= len(codes) * (mean - 0.01) - 1e-6
        # ... and no member's bound goes beyond what its region's mean allows with the others at
        # their bounds
        for code in codes:
            others_hi = c.loc[[x for x in codes if x != code], "hi"].sum()
            assert c.at[code, "lo"] >= len(codes) * (mean - 0.01) - others_hi - 0.011
        assert (c.loc[codes, "lo"] >= plain.loc[codes, "lo"] - 1e-9).all()
        assert (c.loc[codes, "hi"] <= plain.loc[codes, "hi"] + 1e-9).all()
    ch = c.loc[[p.code for p in bundle.units(2024) if p.region == "central_highlands"]]
    assert len(ch) == 5


@pytest.mark.slow  # solves a bundled year cold
def test_2024_regional_means_are_audited(a2024):
    items = {i.fact: i for i in a2024.par_index.audit}
    th = items["regional_mean_central_highlands"]
    assert th.status in ("consistent", "reproduced") and th.range is not None
    assert "regional_means" in a2024.par_index.inference.assumptions


def test_the_hull_of_the_published_rules_bands_is_checked_first():
    band = band_of(80, True, 90, False)
    assert band == (8000, 8999)


def test_a_regional_mean_bounds_its_members():
    # p0 first at 90.00, p3 last at 70.00; p1 and p2 (one region, mean 85.00) hold places 2 and
    # 3 (a tie with p0 is allowed: ties share the best place). Their sum is 170.00 within 0.02 (a
    # mean within 0.01, docs/method.md), so p1 is at least 170.00 - 0.02 - 90.00 = 79.98, where
    # without the region it could be 70.01.
    lo, hi = text_interval("85.00", rounded=True)
    region = Claim("fact:regional_mean_x=85.00", "region_mean", "mean", lo=lo - 0.5, hi=hi + 0.5,
                   members=(1, 2), fact="regional_mean_x")
    claims = [value(0, "90.00"), rank(0, 1), value(3, "70.00"), rank(3, 4)]
    p = Problem(4, [f"p{i}" for i in range(4)], claims + [region])
    assert tuple(x / G for x in p.value_range(claims, 1)) == (70.01, 90.0)
    assert tuple(x / G for x in p.value_range(claims + [region], 1)) == (79.98, 90.0)
    assert tuple(x / 2 / G for x in p.region_range(claims, (1, 2))) == (70.01, 90.0)


@pytest.mark.slow  # solves a bundled year cold
def test_year_on_year_facts_are_checked_against_the_provinces_known_in_both_years(a2024):
    items = {i.fact: i for i in a2024.par_index.audit}
    for fact in ("largest_rise", "largest_fall", "smallest_rise", "n_improved_vs_prev_year"):
        assert items[fact].status == "consistent", fact
        assert "known in both years" in items[fact].computed
        assert "not used to bound" in items[fact].detail


def test_a_half_way_bound_prints_outward_whatever_the_solver_noise():
    # 2024's Trung du và miền núi phía Bắc: the least regional mean the rest allows is 83.435;
    # HiGHS returns it as 83.43499999999 or 83.43500000001 depending on the build. A lower bound
    # half-way prints down and an upper one up, so the printed range always holds the true one.
    from parindex.infer.audit import _fmt

    for noise in (-1e-9, 0.0, 1e-9):
        assert _fmt(83.435 + noise, -1) == "83.43"
        assert _fmt(89.955 + noise, 1) == "89.96"
    assert _fmt(83.4351, -1) == "83.44" and _fmt(89.9549, 1) == "89.95"  # not half-way: the nearest


def test_a_solve_after_a_researchers_own_highs_solve_on_the_same_thread():
    """HiGHS keeps one task scheduler per thread; parindex asks for one thread of its own. After
    a solve with HiGHS's default thread count on the same thread (a researcher's highspy in the
    kernel), HiGHS refused that (status "Not Set", "solver stopped without a proof"); now the
    solve runs with the thread count HiGHS already has, and proves the same optimum."""
    import subprocess
    import sys

    code = ("import numpy as np; from highspy import _core as hc; from parindex.infer.model import highs\n"
            "h = hc._Highs(); h.setOptionValue('output_flag', False); lp = hc.HighsLp(); lp.num_col_ = 1\n"
            "lp.col_cost_ = np.array([-1.0]); lp.col_lower_ = np.array([0.0]); lp.col_upper_ = np.array([1.0])\n"
            "h.passModel(lp); h.run()\n"
            "r = highs(np.array([-1.0]), np.array([True]), np.array([0.0]), np.array([2.5]), None, np.array([]),"
            " np.array([]), presolve=True)\n"
            "print(r.status, r.fun)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)  # a fresh HiGHS
    assert r.returncode == 0 and r.stdout.split() == ["0", "-2.0"], (r.stdout, r.stderr)
