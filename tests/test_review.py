"""Methodology review: sensitivity, rounding, Monte Carlo, bounds, coherence, and the notebook."""

import subprocess
import unicodedata

import pandas as pd
import pytest

from conftest import SYN_PAR, SYN_SIPAS, run_cli
from parindex import review
from parindex.classify import classify
from parindex.tables import IndexTable


def test_sensitivity_at_official_cutoffs_equals_the_classification(bundled_2020, complete_2020):
    for a in (bundled_2020, complete_2020):
        res = a.par_index
        sens = review.cutoff_sensitivity(res)
        at0 = sens[sens["shift"] == 0]
        by_bounds = res.classified[res.classified["group_basis"].isin(["value", "bounds"])]
        for lab in res.rules.labels:
            rows = at0[at0["label"] == lab]
            assert (rows["determined"] == int((by_bounds["group"] == lab).sum())).all(), lab
    s = review.cutoff_sensitivity(complete_2020.par_index)
    at0 = s[(s["shift"] == 0) & (s["cutoff"] == 90)].set_index("label")
    assert at0["determined"].to_dict() == {"A": 2, "B": 56, "C": 5, "D": 0}
    assert (at0["determined"] == at0["possible"]).all()


def test_sensitivity_grid_and_monotonic_counts(complete_2020):
    s = review.cutoff_sensitivity(complete_2020.par_index, step=0.05, span=2.0)
    assert sorted(s["cutoff"].unique()) == [70.0, 80.0, 90.0]
    assert s["shift"].nunique() == 81 and s["shift"].min() == -2.0 and s["shift"].max() == 2.0
    a = s[(s["cutoff"] == 90) & (s["label"] == "A")].sort_values("shift")
    assert a["determined"].is_monotonic_decreasing  # raising the A cut-off can only shrink A
    # moving the 90 cut-off down to 88.47 (Thừa Thiên Huế) brings a third province into A
    assert int(a[a["position"] == 88.45]["determined"].iloc[0]) == 3


def test_closest_to_cutoffs_reports_signed_margins(bundled_2020):
    c = review.closest_to_cutoffs(bundled_2020.par_index, n=2)
    at90 = c[c["cutoff"] == 90].set_index("province")
    assert at90.loc["Hải Phòng", "margin"] == pytest.approx(0.51)
    assert at90.loc["Quảng Ninh", "margin"] == pytest.approx(1.04)
    at80 = c[c["cutoff"] == 80].iloc[0]
    assert at80["province"] == "Tiền Giang" and at80["margin"] == pytest.approx(0.89)


def test_rounding_before_ranking_creates_false_ties():
    names = pd.Series({"a": "A", "b": "B", "c": "C"})
    v = pd.Series({"a": 85.304, "b": 85.296, "c": 80.0})
    r = review.rounding_effects(v, names, decimals=2)
    assert list(r["province"]) == ["B"]
    assert r.iloc[0]["rank_full"] == 2 and r.iloc[0]["rank_rounded"] == 1
    assert "tie created by rounding with A" in r.iloc[0]["reason"]
    assert review.rounding_effects(v, names, decimals=3).empty


def test_monte_carlo_is_reproducible_with_its_seed(bundle, bundled_2020):
    comp, rs = bundled_2020.par_index.components, bundled_2020.par_index.rules
    a = review.weight_monte_carlo(comp, rs, draws=1000, spread=0.2, seed=7).summary
    b = review.weight_monte_carlo(comp, rs, draws=1000, spread=0.2, seed=7).summary
    c = review.weight_monte_carlo(comp, rs, draws=1000, spread=0.2, seed=8).summary
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert len(a) == 10 and list(a["rank"]) == list(range(1, 11))
    assert (a["rank_min"] <= a["rank"]).all() and (a["rank"] <= a["rank_max"]).all()
    assert a["p_keep_rank"].between(0, 1).all()
    # Thừa Thiên Huế is 1.54 points clear of 4th: no +-20 % reweighting moves it
    assert a.set_index("province").at["Thừa Thiên Huế", "p_keep_rank"] == 1.0


def test_bounds_contain_every_known_value_when_it_is_hidden(bundled_2020):
    res = bundled_2020.par_index
    known = res.table.data.index[res.table.data["value"].notna()]
    assert len(known) == 21
    for code in known:
        d = res.table.data.copy()
        true = float(d.at[code, "value"])
        d.loc[code, ["value", "value_text", "value_decimals"]] = [pd.NA, pd.NA, pd.NA]
        hidden = IndexTable("par_index", 2020, d)
        c = classify(hidden, res.rules, res.announced, 73.25, 91.04)
        lo, hi = float(c.at[code, "lo"]), float(c.at[code, "hi"])
        assert lo - 1e-9 <= true <= hi + 1e-9, (d.at[code, "province"], lo, true, hi)


def test_bounds_use_announced_counts_and_collapse_on_a_complete_table(bundled_2020, complete_2020):
    b = review.bounds(bundled_2020.par_index).set_index("province")
    assert b.at["Bắc Kạn", "hi"] == 80.0 and b.at["Bắc Kạn", "lo"] == 73.25  # C by rank 59 and counts
    assert b.at["Thái Nguyên", "lo"] == 85.31 and b.at["Thái Nguyên", "hi"] == 85.74
    full = review.bounds(complete_2020.par_index)
    assert (full["width"].abs() < 1e-9).all()


def test_implied_mean_of_unpublished_provinces(bundled_2020, complete_2020):
    m = review.implied_unpublished_mean(bundled_2020.par_index, 83.72)
    known = bundled_2020.par_index.classified["value"].dropna().astype(float)
    assert m["n_unpublished"] == 42
    assert m["mean"] == pytest.approx((83.72 * 63 - known.sum()) / 42, abs=1e-4)
    assert m["bounds_mean_lo"] <= m["lo"] <= m["hi"] <= m["bounds_mean_hi"]
    full = review.implied_unpublished_mean(complete_2020.par_index, 83.72)
    assert full["n_unpublished"] == 0 and round(full["computed_mean"], 2) == 83.72


def test_correlation_has_n_and_bootstrap_interval(bundled_2020):
    r = review.correlation(bundled_2020.par_index, bundled_2020.sipas, boot=500, seed=1)
    both = (bundled_2020.par_index.classified["value"].notna() & bundled_2020.sipas.classified["value"].notna())
    assert r["n"] == int(both.sum()) == 8
    assert r["pearson_ci"][0] <= r["pearson"] <= r["pearson_ci"][1]
    assert r == review.correlation(bundled_2020.par_index, bundled_2020.sipas, boot=500, seed=1)


def test_sipas_points_against_percent(bundled_2020):
    t = review.sipas_points_vs_percent(bundled_2020.par_index.components, bundled_2020.sipas).set_index("province")
    assert t.at["Quảng Ninh", "difference"] == pytest.approx(9.56 - 9.576)
    assert bool(t.at["Đà Nẵng", "percent_rounded"]) is True
    assert t["difference"].abs().max() < 0.1


def test_review_notebook_builds_on_bundled_and_complete_tables(tmp_path):
    for extra, lang in (([], "vi"), (["--par-index", str(SYN_PAR), "--sipas", str(SYN_SIPAS)], "en")):
        out = tmp_path / lang
        r = run_cli("review", "--year", "2020", "--lang", lang, "--out", str(out), *extra)
        assert r.returncode == 0, r.stderr
        text = subprocess.run(["pdftotext", str(out / f"methodology_review_2020_{lang}.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert not [ch for ch in text if unicodedata.combining(ch)]
        html = (out / f"methodology_review_2020_{lang}.html").read_text(encoding="utf-8")
        assert "<script" not in html
    assert "Complete table: the computed mean is 83.7195" in html
    assert "Đánh giá phương pháp" in (tmp_path / "vi" / "methodology_review_2020_vi.html").read_text(encoding="utf-8")
