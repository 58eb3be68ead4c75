"""Every year, every province, on a map."""

import json
import re

import matplotlib
import matplotlib.path
import pandas as pd
import pytest

from conftest import pdf_text, run_cli

slow = pytest.mark.slow  # builds through a kernel or solves a bundled year cold


def test_years_with_data(bundle):
    assert bundle.years() == [2012, 2013, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024]


@slow
def test_year_without_a_stated_rule_uses_none(bundle, solve):
    a = solve(2019)
    assert a.par_index.rules is None and a.par_index.groups == {}
    assert set(a.par_index.classified["group_basis"]) == {"unknown"}
    assert a.sipas.rules.labels == ["highest", "middle", "lowest"]  # 2019 named top-3 / bottom-3 lists


def test_trend_has_sourced_points_and_gaps(bundle):
    from parindex.infer.trends import trend

    tr = trend(bundle, "par_index").set_index("year")
    assert list(tr.index) == list(range(2012, 2025))
    assert tr.at[2020, "mean_63"] == "83.72" and tr.at[2020, "leader"] == "Quảng Ninh"
    assert "viet-jo-com-3f7d9f" in tr.at[2020, "mean_63_sources"]
    assert pd.isna(tr.at[2014, "mean_63_num"]) and pd.isna(tr.at[2014, "mean_63"])  # a gap stays a gap
    assert tr.at[2018, "leader"] == "Quảng Ninh" and tr.at[2018, "max"] == "89.06"
    s = trend(bundle, "sipas").set_index("year")
    assert bool(s.at[2021, "min_conflict"]) is True  # 82.79 vs 85.54 are both published


@slow
def test_years_build_and_a_second_run_rebuilds_only_what_changed(tmp_path):
    """build_all through the Python API on two years, then --year all on the same folder: the CLI
    reports progress over every year, rebuilds the one year whose output is gone and skips the
    others untouched. The other ten years are laid out as an unchanged earlier build leaves them
    (files and a record with the build key that build would have had): building them as well
    would prove nothing more about the skipping."""
    from parindex.infer.analysis import load_bundle
    from parindex.build.parameters import build_key
    from parindex.data.paths import notebooks_dir
    from parindex.build.years import build_all

    years = load_bundle().years()
    built = [2013, 2016]  # two thin years: the skipping is the same for any
    first = build_all(built, formats=("html",), out=tmp_path, workers=2)
    assert all(not isinstance(r, Exception) for r in first.values()), first
    assert sorted(first) == built and not any(r.skipped for r in first.values())
    nb = notebooks_dir() / "yearly_report.ipynb"

    def params(y):
        return {"year": y, "par_index_file": "", "sipas_file": "", "lang": "vi"}

    for y in built:
        assert (tmp_path / str(y) / f"yearly_report_{y}_vi.html").is_file()
        rec = json.loads((tmp_path / str(y) / f"yearly_report_{y}_vi.build.json").read_text())
        assert rec["parameters"] == params(y) and rec["build_key"] == build_key(nb, params(y), ("html",))
    for y in set(years) - set(built):
        (tmp_path / str(y)).mkdir()
        for ext in ("ipynb", "html"):
            (tmp_path / str(y) / f"yearly_report_{y}_vi.{ext}").write_text("built before", encoding="utf-8")
        (tmp_path / str(y) / f"yearly_report_{y}_vi.build.json").write_text(
            json.dumps({"build_key": build_key(nb, params(y), ("html",))}), encoding="utf-8")
    (tmp_path / "2016" / "yearly_report_2016_vi.html").unlink()
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.html")}
    r = run_cli("report", "--year", "all", "--format", "html", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "12/12" in r.stdout and "2016: built" in r.stdout
    assert r.stdout.count("unchanged, skipped") == 11 and (tmp_path / "2016" / "yearly_report_2016_vi.html").is_file()
    assert "2013: unchanged, skipped" in r.stdout  # a real build's record, too
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.html") if p.parent.name != "2016"} == mtimes


@pytest.fixture
def briefs(briefs_2020):
    return briefs_2020


def test_brief_for_rank_only_province_says_so(briefs):
    html = (briefs / "bac-giang_2020_vi.html").read_text(encoding="utf-8")
    assert "Chỉ có thứ hạng: 13/63, giá trị chưa công bố" in html
    assert "85,33–85,72" in html and "Nhóm B" in html  # between Phú Thọ (10th, 85.74) and Hà Tĩnh (16th, 85.31)
    assert "<script" not in html
    text = " ".join(pdf_text(briefs / "bac-giang_2020_vi.pdf").split())
    assert "Bắc Giang" in text and "92,54" in text  # the Vietnamese edition's decimal comma
    assert "Trung du và miền núi phía Bắc" in text  # region peers
    from test_publication import check_pdf_metadata, check_pdfa

    check_pdf_metadata(briefs / "bac-giang_2020_vi.pdf", "Bắc Giang: PAR INDEX và SIPAS 2020")
    check_pdf_metadata(briefs / "vinh-phuc_2020_en.pdf", "Vĩnh Phúc: PAR INDEX and SIPAS 2020")
    # one spelling in an edition: the English brief names the province as its tables do
    assert "Vinh Phuc" not in (briefs / "vinh-phuc_2020_en.html").read_text(encoding="utf-8")
    check_pdfa(briefs / "bac-giang_2020_vi.pdf")


def test_brief_for_province_with_nothing_published_says_so(briefs):
    html = (briefs / "vinh-phuc_2020_en.html").read_text(encoding="utf-8")
    assert "Neither value nor rank is published" in html
    assert "Named in the published highest satisfaction list" in html
    # its SIPAS place (6th, round 3) has neighbours: Hưng Yên 5th at 91.66
    assert "Hưng Yên" in html
    assert (briefs / "index_2020_en.html").is_file()


def test_unknown_province_for_brief_is_one_line(tmp_path):
    r = run_cli("brief", "--province", "Atlantis", "--out", str(tmp_path))
    assert r.returncode == 2 and "unknown province 'Atlantis'" in r.stderr and "Traceback" not in r.stderr


def test_map_has_one_shape_per_province_and_legend_matches_groups(bundled_2020, registry):
    from parindex.render import maps
    from parindex.render.charts import group_colours
    from parindex.data.labels import Labels

    geo = maps.shapes()
    assert maps.n_shapes() == 63
    assert set(geo) == {p.iso_3166_2 for p in registry}
    res = bundled_2020.par_index
    iso = registry.table.set_index("code")["iso_3166_2"]
    L = Labels("en")
    fig = maps.choropleth(res.classified, maps.rings_by_unit(list(res.classified.index), iso=iso),
                          res.rules.labels, L, "t", lambda lab: f"Group {lab}")
    ax = fig.axes[0]

    def rings(patch):
        return int((patch.get_path().codes == matplotlib.path.Path.MOVETO).sum())

    # every ring of every province drawn exactly once (one compound shape per fill style)
    assert sum(rings(p) for p in ax.patches) == sum(len(r) for r in geo.values())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    present = [lab for lab in res.rules.labels if (res.classified["group"] == lab).any()]
    # each group as drawn: its colour where a value places it, its hatched shade where only the record does
    placed_by_value = {res.classified.at[c, "group"] for c in res.classified.index if not pd.isna(res.classified.at[c, "value"])}
    by_record = {res.classified.at[c, "group"] for c in res.classified.index
                 if pd.isna(res.classified.at[c, "value"]) and not pd.isna(res.classified.at[c, "group"])}
    want = []
    for lab in present:
        if lab in placed_by_value or lab not in by_record:
            want.append(f"Group {lab}")
        if lab in by_record:
            want.append(L("map.by_rank_group", group=f"Group {lab}"))
    assert legend[:len(want)] == want == ["Group A", "Group B", "Group B: inferred from the record, no value", "Group C",
                                          "Group C: inferred from the record, no value"]
    assert legend[-1] == L("missing")
    colours = group_colours(res.rules.labels)
    handles = ax.get_legend().legend_handles
    for h, text in zip(handles, want):  # a swatch in its group's colour (the hatched shade too)
        assert matplotlib.colors.to_hex(h.get_facecolor()) == colours[text.split(":")[0].removeprefix("Group ")]
    # the provinces with a published value in group A, and only they, are drawn in A's colour
    a_codes = res.classified.index[(res.classified["group"] == "A") & res.classified["value"].notna()]
    (a_shape,) = [p for p in ax.patches if matplotlib.colors.to_hex(p.get_facecolor()) == colours["A"]]
    assert rings(a_shape) == sum(len(geo[iso[c]]) for c in a_codes) > 0
    del fig


SECTION_CALLS = {
    "Report": ["title", "key_figures", ("ranking", "par_index"), ("ranking", "sipas"), ("unknown_list", "par_index"),
               ("distribution_heading", "par_index"), ("distribution", "par_index"), ("groups", "par_index"),
               ("groups", "sipas"), ("map", "par_index"),
               ("map", "sipas"), "components", "additivity", "sipas_tiers", "scatter",
               ("trend", "par_index"), ("trend", "sipas"), "method", "audit", "sources", ("appendix", "par_index"),
               ("appendix", "sipas")],
    "Review": ["title", ("sensitivity", "par_index"), ("sensitivity_table", "par_index"), ("closest", "sipas"),
               ("rounding", "par_index"), "monte_carlo", ("bounds", "par_index"), ("bounds_text", "par_index"),
               ("bounds_table", "sipas"), ("bounds", "sipas"), "coherence"],
    "Brief": ["title", "locator", "standing", "neighbours", "peers", "history"],
}


NOTEBOOKS = {"Report": "yearly_report", "Review": "methodology_review", "Brief": "province_brief"}
# Documents the suite builds whole on the bundled data (conftest's shared reports, test_review's
# bundled review): every section call of theirs runs there, in a kernel, so the test below does
# not render them a second time.
BUILT_ELSEWHERE = {("Report", 2020, "vi"), ("Report", 2020, "en"), ("Report", 2013, "vi"), ("Report", 2024, "vi"),
                   ("Review", 2020, "vi")}


def _calls(cls: str) -> list[str]:
    return [f'r.{name}(' + ", ".join(f'"{a}"' for a in args) + ")"
            for name, *args in (c if isinstance(c, tuple) else (c,) for c in SECTION_CALLS[cls])]


def test_each_document_calls_every_section_unconditionally():
    """What lets a document built whole stand for its year in the test below: its notebook makes
    each of the section calls as a line of its own, at the top level (not under a condition)."""
    import nbformat

    from conftest import ROOT

    for cls, name in NOTEBOOKS.items():
        lines = {line for c in nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells
                 if c.cell_type == "code" for line in c.source.splitlines()}
        assert not [c for c in _calls(cls) if c not in lines], name


@slow
# 2024 and 2013 first: this test heads a worker's share of the run (conftest.FIRST) while the other
# worker reaches the chart-layout tests, which read them; last, 2024 was still being solved there
# then, and this worker sat waiting for it (5 s).
@pytest.mark.parametrize("year", [2024, 2013, 2012, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023])
def test_every_section_of_every_document_renders_for_every_year(year, solve):
    from parindex.render import sections

    solve(year)  # once a run, whichever worker (or fixture) asks first; the documents read it

    for cls, calls in SECTION_CALLS.items():
        # 2019 in both editions too: the one year with SIPAS groups and no PAR INDEX bands, and
        # regional means whose members are not all known (no document of it is built whole)
        for lang in (("vi", "en") if year in (2019, 2020) else ("en" if year % 2 else "vi",)):
            if (cls, year, lang) in BUILT_ELSEWHERE:
                continue
            obj = (sections.Brief(year, "Hà Nội", lang=lang) if cls == "Brief"
                   else getattr(sections, cls)(year, lang=lang))
            for call in calls:
                name, *args = call if isinstance(call, tuple) else (call,)
                out = getattr(obj, name)(*args)
                assert hasattr(out, "data"), (cls, name)


@pytest.mark.usefixtures("bundled_2020")  # 2020 solved once a run, read from the shared cache
@slow
def test_brief_index_uses_the_users_table(tmp_path):
    from conftest import SYN_PAR

    r = run_cli("brief", "--province", "Vĩnh Phúc", "--year", "2020", "--par-index", str(SYN_PAR),
                "--format", "html", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    synthetic = next(line.split(",")[1] for line in SYN_PAR.read_text(encoding="utf-8").splitlines()
                     if line.startswith("Vĩnh Phúc,"))
    assert f"<td>{synthetic.replace('.', ',')}</td>" in (tmp_path / "index_2020_vi.html").read_text(encoding="utf-8")
    # one set of numbers: the brief's table across the years shows the year's figures it states,
    # the user's, with their file as the source (not the bundled record's "—")
    brief = (tmp_path / "vinh-phuc_2020_vi.html").read_text(encoding="utf-8")
    assert re.search(rf"<td>2020</td>\s*<td>{synthetic.replace('.', ',')}</td>\s*<td>46</td>.*?"
                     r"\[tệp của bạn “synthetic_par_index_2020\.csv”\]</td>", brief, re.S)


@slow
def test_leader_and_last_place_one_answer_in_series_and_brief(bundle, bundled_2020):
    """A published rank 1 names the year's leader and its value is the maximum; the national
    facts say the same the other way round. The series and the brief give that one answer."""
    from parindex.infer.profile import history
    from parindex.infer.trends import trend

    sip = trend(bundle, "sipas").set_index("year")
    # no national fact for 2022: Quảng Ninh is published at rank 1 with 87.59
    assert (sip.at[2022, "leader"], sip.at[2022, "max"]) == ("Quảng Ninh", "87.59")
    par = trend(bundle, "par_index").set_index("year")
    assert par.at[2024, "leader"] == "Hải Phòng"
    # Quảng Ninh's own 2021 SIPAS row has a rank but no value; it is the leader, whose value is published
    a = bundled_2020
    h = history(a, a.bundle.units(2020).resolve("Quảng Ninh")).set_index("year")
    assert (h.at[2021, "sipas_value"], h.at[2021, "sipas_rank"]) == (sip.at[2021, "max"], 1) == ("94.07", 1)


@slow
def test_a_brief_cites_what_its_tables_print_and_itself(solve):
    """Vĩnh Phúc 2024 has no figure of its own that year, but its tables print its region peers'
    values and its own earlier years: their sources are the brief's references (never "not
    published" under sourced figures), and the brief is cited as itself, not as the yearly report."""
    from parindex.render.sections import Brief, Report

    solve(2024)
    b = Brief(2024, "Vĩnh Phúc", lang="en")
    d = b.a.par_index.table.data
    hai_phong = d.index[d["province"] == "Hải Phòng"][0]  # a region peer, 96.17 in the peers table
    assert set(str(d.at[hai_phong, "value_sources"]).split(";")) <= set(b.refs)
    html = b.sources().data
    assert "<ol class='refs'>" in html and "Vĩnh Phúc: PAR INDEX and SIPAS 2024" in html
    peers = b.peers().data
    assert "Table 1. Region peers" in peers
    # Hải Dương, a peer with no SIPAS value or rank in 2024, is in the published top five: its
    # group cell says so, as the report's appendix does, and the list is among the references
    row = re.search(r"<tr>\s*<td>Hải Dương</td>(.*?)</tr>", peers, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row)[-1] == "top five"
    appendix = Report(2024, lang="en").appendix("sipas").data
    assert re.search(r"<td[^>]*>Hải Dương</td>(\s*<td[^>]*>[^<]*</td>){3}\s*<td[^>]*>top five</td>", appendix)
    assert "vietnam-vnanet-vn-94b5b2" in b.refs


def test_a_leaders_own_value_wins_over_a_disagreeing_maximum_and_is_marked(bundle):
    """SIPAS 2024: Hải Phòng is published at rank 1 with 90.59; another source gives a maximum
    of 91.10. The series pairs the leader with its own value, as the key findings do, and
    marks the year's sources as disagreeing (the audit names the contradiction)."""
    from parindex.infer.trends import trend

    s = trend(bundle, "sipas").set_index("year")
    assert (s.at[2024, "leader"], s.at[2024, "max"], bool(s.at[2024, "max_conflict"])) == ("Hải Phòng", "90.59", True)
    p = trend(bundle, "par_index").set_index("year")
    assert (p.at[2024, "max"], bool(p.at[2024, "max_conflict"])) == ("96.17", False)  # agreeing sources: no mark
