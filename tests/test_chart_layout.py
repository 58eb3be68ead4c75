"""Every chart's text, read back from the drawn figure: no two texts overlap and none leaves the
figure (issue 19: cut-off labels over each other, the legend over the axis title, a phone
chart's legend clipped). Drawn at page width and at phone width, in both editions."""

from __future__ import annotations

import itertools

import matplotlib
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from parindex.data.labels import Labels
from parindex.infer.trends import trend
from parindex.render import chartfit, charts

pytestmark = pytest.mark.slow  # the 2020 and 2024 analyses


def _drawn_texts(fig) -> list[tuple[str, object]]:
    FigureCanvasAgg(fig)
    fig.draw_without_rendering()  # every artist placed as a draw places it, without painting pixels
    renderer = fig.canvas.get_renderer()
    ticks, drawn = set(), set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for t in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks |= {id(t.label1), id(t.label2)}
            for t in axis._update_ticks():  # the ticks inside the view: the ones drawn
                drawn |= {id(t.label1), id(t.label2)}
    out = []
    for t in fig.findobj(matplotlib.text.Text):
        if t.get_visible() and t.get_text().strip() and (id(t) not in ticks or id(t) in drawn):
            out.append((t.get_text(), t.get_window_extent(renderer)))
    return out


def layout_problems(fig) -> list[str]:
    texts, frame = _drawn_texts(fig), fig.bbox
    bad = [f"{a!r} over {b!r}" for (a, ba), (b, bb) in itertools.combinations(texts, 2)
           if min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > 1 and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > 1]
    bad += [f"{a!r} outside the figure" for a, b in texts
            if b.x0 < frame.x0 - 1 or b.x1 > frame.x1 + 1 or b.y0 < frame.y0 - 1 or b.y1 > frame.y1 + 1]
    return bad + titles_placed_otherwise(fig)


def titles_placed_otherwise(fig) -> list[str]:
    """The charts' titles sit at the top of their axes (charts.subplots): each must be where
    matplotlib's own placement, which moves a title above any tick label over the axes, puts it."""
    renderer, bad = fig.canvas.get_renderer(), []
    for ax in fig.axes:
        if not ax.get_title() or ax._autotitlepos:
            continue
        x, y = ax.title.get_position()
        ax._autotitlepos = True
        try:
            ax._update_title_position(renderer)
            if abs(ax.title.get_position()[1] - y) > 1e-9:
                bad.append(f"{ax.get_title()!r} at {y}, matplotlib puts it at {ax.title.get_position()[1]}")
        finally:
            ax._autotitlepos = False
            ax.title.set_position((x, y))
    return bad


@pytest.fixture(autouse=True)
def _report_style():
    """The style the reports draw with (fonts and sizes decide where text falls)."""
    with matplotlib.rc_context():
        charts.setup_style()
        yield


@pytest.fixture(scope="module")
def analyses(bundled_2020, solve):
    return {2020: bundled_2020, 2024: solve(2024), 2013: solve(2013)}


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("narrow", [False, True])
def test_no_chart_text_overlaps_or_leaves_the_figure(analyses, lang, narrow):
    L = Labels(lang)
    problems = []
    for year, a in analyses.items():
        for idx in ("par_index", "sipas"):
            res = a.result(idx)
            # the report's own titles (the longest of them): a short stand-in hid a phone title
            # that ran past both edges of the distribution chart
            index_name = "PAR INDEX" if idx == "par_index" else "SIPAS"
            long = f"{L('report.distribution')} — {index_name} {year}"
            drawn = []
            with charts.narrow() if narrow else _nothing():
                if res.classified["value"].notna().sum() >= 3:
                    drawn += [("ranking", charts.ranking_chart(res, L, long)),
                              ("distribution", charts.distribution_chart(res, L, long))]
                tr = trend(a.bundle, idx, through=year)
                if not tr.empty:
                    drawn.append(("trend", charts.trend_chart(tr, L, f"{index_name}: {L('report.trend')}")))
                if idx == "par_index" and (a.par_index.classified["value"].notna()
                                           & a.sipas.classified["value"].notna()).sum() >= 2:
                    drawn.append(("scatter", charts.scatter_chart(a.par_index, a.sipas, L, "scatter")))
                comp = a.par_index.components
                if idx == "par_index" and comp is not None and len(comp):
                    drawn.append(("components", charts.components_chart(comp, L, f"{L('report.components')} {year}")))
                    from parindex.infer import review  # the review's robustness chart, with its legend

                    mc = review.weight_monte_carlo(comp, a.par_index.rules, 200, 0.2, 2020)
                    drawn.append(("monte carlo", charts.monte_carlo_chart(mc.summary, L, f"{L('review.components')} (±20%) {year}")))
            problems += [f"{year} {idx} {name}: {p}" for name, fig in drawn for p in layout_problems(fig)]
    assert not problems, "\n".join(problems)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("x", [0])
def test_the_checker_sees_an_overlap(x):
    fig = charts.subplots(figsize=(3, 2))[0]
    ax = fig.axes[0]
    ax.text(0.5, 0.5, "ngưỡng 80%")
    ax.text(0.52, 0.5, "ngưỡng 90%")
    ax.text(1.5, 0.5, "far out", transform=ax.transAxes)
    ax.set_title("tiêu đề")
    ax.xaxis.tick_top()  # tick labels above the axes: matplotlib would lift the title over them
    bad = layout_problems(fig)
    assert any("over" in b for b in bad) and any("outside" in b for b in bad)
    assert any("matplotlib puts it at" in b for b in bad), bad


@pytest.mark.parametrize("narrow", [False, True])
def test_a_complete_tables_ranking_fits_a_page(complete_2020, narrow):
    """63 provinces with values: a row each, closer together, in a chart an A4 page holds with its
    heading and caption (at 0.17 in a row it ran over the page's foot after a blank page)."""
    L = Labels("vi")
    for idx in ("par_index", "sipas"):
        with charts.narrow() if narrow else _nothing():
            fig = charts.ranking_chart(complete_2020.result(idx), L, f"{L('report.distribution')} — {idx} 2020")
        assert fig.get_figheight() <= chartfit.MAX_HEIGHT
        assert not layout_problems(fig), (idx, layout_problems(fig))


@pytest.mark.parametrize("lang,narrow", [("vi", False), ("en", True)])
def test_a_complete_tables_scatter_names_only_what_fits(complete_2020, lang, narrow):
    """63 named points: the names that would cover others are left out, farthest from the middle
    named first, and the chart says how many it left out."""
    L = Labels(lang)
    with charts.narrow() if narrow else _nothing():
        fig = charts.scatter_chart(complete_2020.par_index, complete_2020.sipas, L, "scatter")
    assert not layout_problems(fig)
    names = [t.get_text() for t in fig.axes[0].texts]
    assert 10 < len(names) < 63 and "Quảng Ninh" in names  # the leader of both indices
    said = [" ".join(t.get_text().split()) for t in fig.texts]  # wrapped on a phone
    assert said == [L("chart.names_left_out", n=63 - len(names))]
