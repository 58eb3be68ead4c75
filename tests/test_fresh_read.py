"""What a page-by-page read of 2013, the 2020 English edition, the review and a brief found,
each held by a test that fails on the old behaviour."""

from __future__ import annotations

import pandas as pd
import pytest

from parindex.render.charts import place_keys
from parindex.render.sections.references import _readable_url


def test_a_value_without_a_rank_stands_among_the_ranks():
    # 2013: Đà Nẵng 87.02 (1), Đồng Nai rank 17, Sơn La 58.91 (63); Hải Phòng 86.93 and Bình
    # Dương 86.86 have values only. They belong after rank 1, not after rank 63.
    c = pd.DataFrame({"value": [87.02, None, 58.91, 86.93, 86.86, None],
                      "rank_published": [1, 17, 63, None, None, None]},
                     index=["48", "75", "14", "31", "74", "01"])
    k = place_keys(c)
    assert list(k.dropna().sort_values().index) == ["48", "31", "74", "75", "14"]
    assert k["31"] == k["74"] == 1.5 and pd.isna(k["01"])  # neither value nor rank: no place


def test_links_are_shown_as_readers_type_them_and_kept_as_recorded():
    assert _readable_url("https://baomoi.com/ch%E1%BB%89-s%E1%BB%91") == "https://baomoi.com/chỉ-số"
    # letters the report's font cannot draw, controls, bidi marks, spaces and broken bytes stay escaped
    for url in ("https://viet-jo.com/%E3%83%99", "https://x.vn/%0a", "https://x.vn/%E2%80%AE",
                "https://x.vn/a%20b", "https://x.vn/%ff"):
        assert _readable_url(url) == url


@pytest.mark.slow  # solves 2013 and 2020 (shared with the rest of the run)
def test_2013_says_once_that_sipas_did_not_exist_and_orders_its_appendix(solve):
    from parindex import Report

    solve(2013)
    r = Report(2013)
    assert [i for i in r.a.audit if i.index == "sipas"]  # the analysis has it ("0 ranks"): the page does not
    assert "<td>SIPAS</td>" not in r.audit().data and "<td>PAR INDEX</td>" in r.audit().data
    assert r.scatter().data == "" and r.heading("report.scatter", needs="sipas").data == ""
    assert r.heading("report.scatter").data.startswith("## ")
    html = r.appendix("par_index").data
    order = [n for n in ("Đà Nẵng", "Hải Phòng", "Bình Dương", "Đồng Nai", "Sơn La") if n in html]
    assert sorted(order, key=html.index) == ["Đà Nẵng", "Hải Phòng", "Bình Dương", "Đồng Nai", "Sơn La"]


@pytest.mark.slow
def test_a_rounded_value_is_drawn_as_its_interval(solve):
    # SIPAS 2020: Cần Thơ and TP. Hồ Chí Minh ≈84, Đà Nẵng ≈83 (whole percents): open dots with
    # a bar of ±0.5, not exact points
    import matplotlib.pyplot as plt

    from parindex.data.labels import Labels
    from parindex.render import charts

    a = solve(2020)
    fig = charts.ranking_chart(a.sipas, Labels("en"), "SIPAS 2020")
    try:
        ax = fig.axes[0]
        open_dots = [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_markerfacecolor() in ("white", (1, 1, 1, 1))]
        assert sorted(float(ln.get_xdata()[0]) for ln in open_dots) == [83.0, 84.0, 84.0]
        bars = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"]
        spans = sorted(round(float(seg[1][0] - seg[0][0]), 6) for c in bars for seg in c.get_segments())
        assert spans.count(1.0) == 3  # each ±0.5
        texts = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
        assert any("rounded" in t for t in texts)
    finally:
        plt.close(fig)


@pytest.mark.slow
def test_a_range_is_drawn_from_its_bounds_or_from_the_axis_with_an_arrow(solve):
    """PAR INDEX 2020, read back from the figure: each ranked unit without a value has its range
    at its row, with a mark at each end; a range with no lower bound (two set so here) starts at the
    axis's edge with an arrow instead of a mark."""
    import copy

    import numpy as np

    from parindex.data.labels import Labels
    from parindex.render import charts

    res = copy.copy(solve(2020).par_index)
    c = res.classified.copy()
    unknown = list(c.index[c["value"].isna() & c["rank_published"].notna()])  # the rows drawn without a value
    c.loc[unknown[:2], "lo"] = 0.0
    res.classified = c
    ax = charts.ranking_chart(res, Labels("en"), "PAR INDEX 2020").axes[0]
    names = [t.get_text().split(" (")[0] for t in ax.get_yticklabels()]
    left = ax.get_xlim()[0]
    marks: dict[str, dict[str, list[float]]] = {}
    for line in ax.lines:
        if line.get_transform() is not ax.transData:
            continue
        kind = {"|": "ends", "<": "arrows"}.get(line.get_marker(), "segment" if line.get_linestyle() == "--" else "")
        for x, y in zip(np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)):
            if kind and not np.isnan(x):
                marks.setdefault(names[int(y)], {}).setdefault(kind, []).append(round(float(x), 2))
    assert len(unknown) == 15 and set(marks) == set(c.loc[unknown, "province"])
    for code in unknown:
        name, lo, hi = c.at[code, "province"], float(c.at[code, "lo"]), float(c.at[code, "hi"])
        got = marks[name]
        if lo == 0.0:
            assert got == {"segment": [round(left, 2), round(hi, 2)], "ends": [round(hi, 2)],
                           "arrows": [round(left, 2)]}, name
        else:
            assert got == {"segment": [round(lo, 2), round(hi, 2)], "ends": [round(lo, 2), round(hi, 2)]}, name
