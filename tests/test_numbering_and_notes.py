"""Numbered tables, sources and notes under figures, and charts that draw what the record says
(issue 19: "Bảng 2" / "Nguồn:" / "Ghi chú:", components on their own scales, rounded values as
intervals, the distribution's vertical spread explained)."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pytest

from conftest import pdf_text
from parindex.data.labels import Labels, read_labels
from parindex.render import charts
from parindex.render.sections.yearly import _runs


def test_every_label_key_is_defined_once():
    """A second row for a key silently wins over the first: one key, one text."""
    keys = read_labels()["key"]
    assert not keys[keys.duplicated()].tolist()


def test_reference_runs():
    assert _runs([1, 2, 3, 5, 7, 8, 10, 11, 12, 13]) == ["1–3", "5", "7", "8", "10–13"]
    assert _runs([]) == [] and _runs([4]) == ["4"]


@pytest.mark.parametrize("lang,table,figure,source,note", [
    ("vi", "Bảng", "Hình", "Nguồn:", "Ghi chú:"), ("en", "Table", "Figure", "Source:", "Note:")])
def test_tables_and_figures_are_numbered_with_their_source(report_2020_vi, report_2020_en, lang, table, figure,
                                                           source, note):
    folder = report_2020_vi if lang == "vi" else report_2020_en
    text = pdf_text(folder / f"yearly_report_2020_{lang}.pdf")
    tables = [int(n) for n in re.findall(rf"^{table} (\d+)\. ", text, re.M)]
    figures = [int(n) for n in re.findall(rf"^{figure} (\d+)\. ", text, re.M)]
    # numbered 1, 2, 3, ... in the order of the pages, each once
    assert tables == list(range(1, len(tables) + 1)) and len(tables) >= 15
    assert figures == list(range(1, len(figures) + 1)) and len(figures) >= 8
    # every figure says its source under its caption, in references the reader can follow
    sources = re.findall(rf"^{source} .*?\[([\d,– ]+)\]", text, re.M)
    assert len(sources) >= len(figures) + 2  # and the two groups tables
    for m in re.finditer(rf"^{figure} (\d+)\. ", text, re.M):  # the line under each caption
        assert re.search(rf"^{source} ", text[m.end():m.end() + 600], re.M), f"{figure} {m.group(1)}"
    # the maps cite the geometry too: its two sources are in the reference list, and the maps'
    # source lines call them boundaries, apart from the published figures
    assert text.count("Natural Earth (public domain)" if lang == "en" else "Natural Earth (phạm vi công cộng)") >= 2
    flat = " ".join(text.split())
    shapes = {"vi": "; ranh giới [", "en": "; boundaries ["}[lang]
    assert flat.count(shapes) == 2, flat.count(shapes)  # the two maps, PAR INDEX and SIPAS
    # the distribution's vertical spread is explained where it is drawn
    assert re.search(rf"^{note} ", text, re.M)


def test_components_are_drawn_each_on_its_own_scale(bundled_2020):
    comp = bundled_2020.par_index.components
    fig = charts.components_chart(comp, Labels("en"), "components")
    axes = fig.axes
    assert len(axes) == 4
    # the largest bar of each panel is within its axis and fills most of it: one scale per part
    for ax, col in zip(axes, ["appraisal_points", "sipas_points", "leader_survey_points",
                              "socioeconomic_impact_points"]):
        top = comp[col].astype(float).max()
        assert 0.6 < top / ax.get_xlim()[1] < 1.0, col
    assert len({round(ax.get_xlim()[1]) for ax in axes}) == 4


def test_a_rounded_value_is_drawn_as_its_interval(bundled_2020):
    # SIPAS 2020: Đà Nẵng was published as "83"; its point is the interval 82.5–83.5
    a = bundled_2020
    fig = charts.scatter_chart(a.par_index, a.sipas, Labels("en"), "scatter")
    (ax,) = fig.axes
    bars = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)]
    segments = [s for c in bars for s in c.get_segments()]
    vertical = [s for s in segments if np.isclose(s[0][0], s[1][0])]
    assert any(np.allclose(sorted([s[0][1], s[1][1]]), [82.5, 83.5]) for s in vertical)


def test_a_copy_names_whose_article_it_is(report_2020_vi, report_2020_en):
    """A reprint is cited as its publisher's article, then where it was read: not as a bare IP
    address or a mirror's host (2020's component points; 2013's national facts)."""
    import pandas as pd

    from parindex.data.paths import data_dir

    src = pd.read_csv(data_dir() / "sources.csv", dtype=str).set_index("source_id")
    assert src.loc["ufabetindo-in-80cf32", "publisher"].startswith("VietnamPlus (TTXVN)")
    assert src.loc["211-88-39-63-54f035", "publisher"].startswith("Báo Đầu tư")
    vi = " ".join(pdf_text(report_2020_vi / "yearly_report_2020_vi.pdf").split())
    en = " ".join(pdf_text(report_2020_en / "yearly_report_2020_en.pdf").split())
    assert "Báo Đầu tư (bản đăng lại của Văn phòng Thương vụ Trung Quốc tại TP. Hồ Chí Minh)" in vi
    assert "Báo Đầu tư (reprinted by the Chinese commercial office in Ho Chi Minh City)" in en


def _citations(page: str) -> tuple[set[int], set[int]]:
    """(numbers cited in the text, numbers in the reference list) of an HTML document: a run
    "[4–7]" is linked at its two ends and cites the numbers between."""
    listed = {int(n) for n in re.findall(r"""<li id=['"]ref-(\d+)['"]""", page)}
    cited = {int(n) for n in re.findall(r"""class=['"]cite['"] href=['"]#ref-(\d+)['"]""", page)}
    for a, b in re.findall(r"""#ref-(\d+)['"]>\d+</a>–<a class=['"]cite['"] href=['"]#ref-(\d+)['"]""", page):
        cited |= set(range(int(a), int(b) + 1))
    return cited, listed


def test_every_reference_is_cited_and_every_citation_listed(report_2020_vi, report_2020_en, report_2013_vi,
                                                            report_2024_vi, briefs_2020):
    # A numbered reference no sentence, table or figure cites sends the reader nowhere; the
    # brief and the 2013 report once listed the sources of tables they do not print.
    pages = [*report_2020_vi.glob("*.html"), *report_2020_en.glob("*.html"), *report_2013_vi.glob("*.html"),
             *report_2024_vi.glob("*.html"), *[p for p in briefs_2020.glob("*.html") if not p.name.startswith("index")]]
    assert len(pages) >= 6
    for page in pages:
        cited, listed = _citations(page.read_text(encoding="utf-8"))
        assert listed and listed == set(range(1, len(listed) + 1)), page.name
        assert cited == listed, (page.name, sorted(listed - cited), sorted(cited - listed))
    # In the PDF each entry runs on from its number: never a first word alone on the entry's
    # first line (WeasyPrint broke "13. Bộ / Nội vụ (…)" before the document's title in italics)
    for pdf in (*report_2020_vi.glob("*.pdf"), *report_2020_en.glob("*.pdf")):
        assert not re.findall(r"(?m)^ *\d+\. \S+$", pdf_text(pdf, "-layout")), pdf.name


def test_close_values_are_drawn_apart_in_the_distribution():
    # the note under the chart says the vertical spread only keeps dots from overlapping: so it
    # must (2013's 86,86 and 86,93 were drawn over each other by a seeded random jitter)
    y = charts.swarm_levels(np.array([86.93, 86.86, 86.90, 70.0]), width=0.5)
    assert len({y[0], y[1], y[2]}) == 3 and y[3] == 0.0
    assert (charts.swarm_levels(np.array([86.93, 86.86]), 0.5) == charts.swarm_levels(np.array([86.93, 86.86]), 0.5)).all()
