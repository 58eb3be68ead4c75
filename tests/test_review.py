"""Methodology review: sensitivity, rounding, Monte Carlo, bounds, coherence, and the notebook."""

import re
import unicodedata
from html import escape

import numpy as np
import pandas as pd
import pytest

from conftest import SYN_PAR, SYN_SIPAS, pdf_text, run_cli
from parindex.infer import review
from parindex.infer.classify import classify
from parindex.data.tables import IndexTable


def test_sensitivity_at_official_cutoffs_equals_the_report(bundled_2020, record_2020, complete_2020):
    # at the real cut-offs, "at or above" counts are sums of the report's group count ranges' ends
    res = record_2020.par_index  # without the announced counts, which pin them
    s = review.cutoff_sensitivity(res).set_index(["cutoff", "shift"])
    assert tuple(s.loc[(90.0, 0.0), ["determined", "possible"]]) == res.count_ranges["A"] == (2, 2)
    assert tuple(s.loc[(80.0, 0.0), ["determined", "possible"]]) == (57, 62)
    audit = {i.fact: i for i in res.audit}
    assert audit["n_at_or_above_80"].range == [57, 62]
    # with them (the default): 58 at or above 80, as announced
    s = review.cutoff_sensitivity(bundled_2020.par_index).set_index(["cutoff", "shift"])
    assert tuple(s.loc[(80.0, 0.0), ["determined", "possible"]]) == (58, 58)
    full = review.cutoff_sensitivity(complete_2020.par_index).set_index(["cutoff", "shift"])
    assert tuple(full.loc[(90.0, 0.0), ["determined", "possible"]]) == (2, 2)
    assert tuple(full.loc[(80.0, 0.0), ["determined", "possible"]]) == (58, 58)
    assert tuple(full.loc[(70.0, 0.0), ["determined", "possible"]]) == (63, 63)


def test_sensitivity_grid_and_monotonic_counts(complete_2020):
    s = review.cutoff_sensitivity(complete_2020.par_index, step=0.05, span=2.0)
    assert sorted(s["cutoff"].unique()) == [70.0, 80.0, 90.0]
    assert s["shift"].nunique() == 81 and s["shift"].min() == -2.0 and s["shift"].max() == 2.0
    a = s[s["cutoff"] == 90].sort_values("shift")
    assert a["determined"].is_monotonic_decreasing  # raising the cut-off can only shrink the count
    # moving the 90 cut-off down to 88.45 brings Thừa Thiên Huế (88.47) in
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
    assert r.iloc[0]["tied_with"] == ["A"]
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


def test_bounds_contain_every_known_value_when_it_is_hidden(bundle, bundled_2020):
    from parindex.infer.inference import infer

    res = bundled_2020.par_index
    known = res.table.data.index[res.table.data["value"].notna()]
    assert len(known) == 21
    for code in known[::3]:  # every third: each hidden value needs a fresh inference
        d = res.table.data.copy()
        true = float(d.at[code, "value"])
        d.loc[code, ["value", "value_text", "value_decimals"]] = [pd.NA, pd.NA, pd.NA]
        hidden = IndexTable("par_index", 2020, d)
        c = classify(hidden, res.rules, infer(d, "par_index", 2020, res.rules, bundle.national_facts, None))
        lo, hi = float(c.at[code, "lo"]), float(c.at[code, "hi"])
        assert lo - 1e-9 <= true <= hi + 1e-9, (d.at[code, "province"], lo, true, hi)


def test_bounds_are_the_reports_and_collapse_on_a_complete_table(bundled_2020, complete_2020):
    b = review.bounds(bundled_2020.par_index).set_index("province")
    c = bundled_2020.par_index.classified.set_index("province")
    assert (b["lo"] == c["lo"]).all() and (b["hi"] == c["hi"]).all()
    assert (b.at["Bắc Kạn", "lo"], b.at["Bắc Kạn", "hi"]) == (73.28, 79.99)  # C by the announced counts
    assert b.at["Thái Nguyên", "lo"] == 85.34 and b.at["Thái Nguyên", "hi"] == 85.73
    full = review.bounds(complete_2020.par_index)
    assert (full["width"].abs() < 1e-9).all()


def test_mean_check_gives_what_the_rest_of_the_record_allows(bundled_2020):
    m = review.mean_check(bundled_2020.par_index)
    assert m["n_unpublished"] == 42 and m["status"] == "consistent"
    # what the bounds use (default convention: within 0.01 of the published mean, as the
    # conventions table says), not the figure's own rounding of 0.005
    assert (round(m["published_lo"], 6), round(m["published_hi"], 6)) == (83.71, 83.73)
    assert m["lo"] < 83.71 < 83.73 < m["hi"]


def test_bounds_chart_draws_each_row_once_as_its_point_or_range(bundled_2020):
    """Read back from the figure: each province's row holds its published value as a point, or
    its range from lo to hi with a mark at each end, in its group's colour, and nothing else."""
    import matplotlib.colors

    from parindex.data.labels import Labels
    from parindex.render import charts

    res = bundled_2020.par_index
    b = review.bounds(res).set_index("province")
    ax = charts.bounds_chart(b.reset_index(), res.rules.labels, Labels("en"), "t").axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(names) == sorted(b.index)
    points, ranges, ends = {}, {}, {}
    for line in ax.lines:
        if line.get_transform() is not ax.transData:  # the rule under the placed rows
            continue
        xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        colour = matplotlib.colors.to_hex(line.get_color())
        for x, y in zip(xs, ys):
            if np.isnan(x) or np.isnan(y):  # where a line breaks between two ranges
                continue
            row = names[int(y)]
            kind = points if line.get_marker() == "o" else ends if line.get_marker() == "|" else ranges
            kind.setdefault(row, []).append((round(float(x), 2), colour))
    colours = charts.group_colours(res.rules.labels)
    for name, r in b.iterrows():
        colour = colours.get(r["group"], charts.UNKNOWN_COLOUR) if not pd.isna(r["group"]) else charts.UNKNOWN_COLOUR
        if not pd.isna(r["value"]):
            assert points.pop(name) == [(round(float(r["value"]), 2), colour)] and name not in ranges, name
        else:
            expected = [(round(float(r["lo"]), 2), colour), (round(float(r["hi"]), 2), colour)]
            assert ranges.pop(name) == expected == ends.pop(name), name
    assert not points and not ranges and not ends
    assert (b["value"].notna().sum(), b["value"].isna().sum()) == (21, 42)


def test_correlation_states_n_and_selection_and_no_interval_on_few(bundled_2020):
    r = review.correlation(bundled_2020.par_index, bundled_2020.sipas, boot=500, seed=1)
    both = (bundled_2020.par_index.classified["value"].notna() & bundled_2020.sipas.classified["value"].notna())
    assert r["n"] == int(both.sum()) == 8
    assert r["selection"] == {"top_n": 8, "in_par_top_n": 6}
    assert r["boot"] is None and "pearson_ci" not in r  # 8 < MIN_N_BOOTSTRAP
    assert r == review.correlation(bundled_2020.par_index, bundled_2020.sipas, boot=500, seed=1)


def test_bootstrap_intervals_agree_with_a_plain_loop(complete_2020):
    """The intervals on 63 units, against one resample at a time with pandas' own correlations
    (Spearman: Pearson on average ranks, ties included)."""
    par, sip = complete_2020.par_index, complete_2020.sipas
    r = review.correlation(par, sip, boot=300, seed=7)
    both = pd.DataFrame({"p": par.classified["value"], "s": sip.classified["value"]}).dropna().astype(float)
    assert r["n"] == len(both) == 63 and r["boot"] == 300
    rng = np.random.default_rng(7)
    pb, sb = [], []
    for _ in range(300):
        d = both.iloc[rng.integers(0, 63, 63)]
        if d["p"].nunique() > 1 and d["s"].nunique() > 1:
            pb.append(d["p"].corr(d["s"]))
            sb.append(d["p"].rank().corr(d["s"].rank()))
    for key, draws in (("pearson_ci", pb), ("spearman_ci", sb)):
        assert r[key] == pytest.approx([np.percentile(draws, 2.5), np.percentile(draws, 97.5)], abs=1e-12), key


def test_monte_carlo_says_what_factors_it_applied(bundled_2020):
    mc = review.weight_monte_carlo(bundled_2020.par_index.components, bundled_2020.par_index.rules,
                                   draws=2000, spread=0.2, seed=2020)
    assert 0.6 < mc.factor_lo < 0.8 and 1.3 < mc.factor_hi < 1.5  # wider than the drawn 0.8-1.2


def test_sipas_points_against_percent(bundled_2020):
    t = review.sipas_points_vs_percent(bundled_2020.par_index.components, bundled_2020.sipas).set_index("province")
    assert t.at["Quảng Ninh", "difference"] == pytest.approx(9.56 - 9.576)
    assert bool(t.at["Đà Nẵng", "percent_rounded"]) is True
    assert t["difference"].abs().max() < 0.1


def _numbered_once(text: str) -> None:
    """Every table and figure is numbered and titled, once: no bare "Bảng 4." and no "Hình 3. 3."."""
    assert not re.findall(r"^(?:Bảng|Hình|Table|Figure) \d+\.(?: \d+\.)?$", text, flags=re.M)
    assert not re.findall(r"(?:Bảng|Hình|Table|Figure) \d+\. \d+\.", text)


@pytest.mark.slow
@pytest.mark.parametrize("lang,complete,title,needle", [
    ("vi", False, "Đánh giá phương pháp PAR INDEX & SIPAS năm 2020", "Đánh giá phương pháp"),
    ("en", True, "Methodology review: PAR INDEX & SIPAS 2020", "Complete table: the computed mean is 83.7195"),
])
def test_review_notebook_builds_on_bundled_and_complete_tables(request, tmp_path, lang, complete, title, needle):
    """The review notebook through the command line, on the bundled record (HTML and PDF) and on
    a user's complete tables in English (HTML: its PDF is laid out by the same code from the same
    title, which the HTML page carries, so a second review PDF would add four CPU-seconds and no
    check)."""
    request.getfixturevalue("complete_2020" if complete else "bundled_2020")  # its inference, solved once a run
    extra = ["--par-index", str(SYN_PAR), "--sipas", str(SYN_SIPAS), "--format", "html"] if complete else []
    out = tmp_path / lang
    r = run_cli("review", "--year", "2020", "--lang", lang, "--out", str(out), *extra)
    assert r.returncode == 0, r.stderr
    html = (out / f"methodology_review_2020_{lang}.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert needle in html
    assert f"<title>{escape(title)}</title>" in html
    _numbered_once(re.sub(r"<[^>]+>", "\n", html))  # the captions are the HTML's; the PDF's text below
    # a source line names the user's file once, not once per row of the table it cites
    assert not re.search(r"(synthetic_\w+\.csv)\W+\1", html)
    if complete:  # said as the user's file, not among the published figures
        assert "Source: your file “synthetic_par_index_2020.csv”; published figures [" in html
        assert not re.search(r"published figures \[[^]]*\] synthetic", html)
        assert not (out / f"methodology_review_2020_{lang}.pdf").exists()
        return
    text = pdf_text(out / f"methodology_review_2020_{lang}.pdf")
    assert not [ch for ch in text if unicodedata.combining(ch)]
    _numbered_once(text)
    # one page number per page, counting every page (the contents page too)
    pages = text.count("\f")
    assert re.findall(r"^(\d+) / (\d+)$", text, flags=re.M) == [(str(i), str(pages)) for i in range(1, pages + 1)]
    from test_publication import check_pdf_metadata  # its own title, not the report's

    check_pdf_metadata(out / f"methodology_review_2020_{lang}.pdf", title)
