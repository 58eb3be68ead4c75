"""Vietnamese dictionary order (letters, then tones), wherever names are listed."""

import pytest

from parindex.data.collate import sort_key, vsorted


def test_alphabet_then_tones():
    # ă, â, đ, ê, ô, ơ, ư are letters of their own; a space sorts before any letter
    assert vsorted(["Vĩnh Phúc", "Điện Biên", "Đắk Nông", "Đà Nẵng", "Dak"]) == [
        "Dak", "Đà Nẵng", "Đắk Nông", "Điện Biên", "Vĩnh Phúc"]
    assert vsorted(["Bình Phước", "Bình Thuận", "Bình Định", "Bạc Liêu", "Bà Rịa - Vũng Tàu"]) == [
        "Bà Rịa - Vũng Tàu", "Bạc Liêu", "Bình Định", "Bình Phước", "Bình Thuận"]
    assert vsorted(["Cần Thơ", "Cao Bằng", "Cà Mau"]) == ["Cà Mau", "Cao Bằng", "Cần Thơ"]
    # same letters: ngang < huyền < hỏi < ngã < sắc < nặng
    assert vsorted(["má", "mạ", "mà", "mã", "mả", "ma"]) == ["ma", "mà", "mả", "mã", "má", "mạ"]
    # NFD input sorts like NFC; old and new tone placement meet
    assert sort_key("Hòa Bình")[:2] == sort_key("Hoà Bình")[:2] == sort_key("Ho\u0300a Bi\u0300nh")[:2]
    # a city's administrative prefix is not part of its name: TP. Hồ Chí Minh files under H
    assert vsorted(["Tây Ninh", "TP. Hồ Chí Minh", "Hưng Yên", "Hòa Bình"]) == [
        "Hòa Bình", "TP. Hồ Chí Minh", "Hưng Yên", "Tây Ninh"]


def test_summary_lists_follow_dictionary_order(bundled_2020):
    from parindex.infer.analysis import summary

    doc = summary(bundled_2020)
    for names in [doc["par_index"]["unknown"], *doc["par_index"]["members"].values(),
                  *doc["sipas"]["published_tiers"].values()]:
        assert names == vsorted(names)
    assert doc["sipas"]["published_tiers"]["lowest"] == [
        "Bình Phước", "Bình Thuận", "Cao Bằng", "Đắk Lắk", "Kiên Giang", "Quảng Bình", "Quảng Ngãi"]


# -- the decimal mark ---------------------------------------------------------------------------

def test_vietnamese_edition_writes_the_decimal_comma_only_on_numbers():
    from parindex.data.labels import Labels

    vi, en = Labels("vi"), Labels("en")
    assert vi.number("89.21") == "89,21" and en.number("89.21") == "89.21"
    assert vi.number("85.64–93.74") == "85,64–93,74"
    assert vi.number("Quảng Ninh 90.1; Hải Phòng +0.52") == "Quảng Ninh 90,1; Hải Phòng +0,52"
    # versions, dates, section marks, words and file names keep their dots
    for kept in ("parindex 0.3.0", "21.05.2021", "docs/method.md §7.1", "v1.2", "bang 1.5.csv", "2020", "≥ 90"):
        assert vi.number(kept) == kept
    # label fields: numbers are localised after their own format spec, verbatim fields are not
    assert vi("brief.margin_up", points=1.234, cutoff=90.0) == "Cần thêm 1,23 điểm để đạt ngưỡng 90%."
    assert en("brief.margin_up", points=1.234, cutoff=90.0).startswith("1.23 points")
    assert "0.3.1" in vi("report.provenance", version="0.3.1", origin="x 2.5", checksums="a.b")


def test_chart_numbers_take_the_edition_mark():
    from parindex.render import charts
    from parindex.data.labels import Labels

    fig, ax = charts.subplots(figsize=(3, 2))
    ax.plot([0, 0.5, 1.5], [1, 2, 3])
    ax.text(0.1, 1.5, "89.21")
    charts.use_decimal_mark(fig, Labels("vi"))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.draw_without_rendering()  # tick labels exist only once drawn (placed, no pixels painted)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "0,5" in ticks and not any("." in t for t in ticks), ticks
    assert any(t.get_text() == "89,21" for t in ax.texts)


@pytest.mark.usefixtures("bundled_2020")  # sections of 2020: its inference, solved once a run
def test_charts_have_a_phone_version_that_fits_390px():
    """Every chart of the report comes in a narrow version for screens up to 40rem, drawn at
    3.75 in: at its natural size (7 pt text = 9 px) it fits a 390 px phone."""
    import base64
    import re

    from parindex.render.sections import Report

    r = Report(2020, lang="vi")
    for out in (r.ranking("par_index"), r.distribution("par_index"), r.components(), r.scatter(), r.trend("sipas")):
        m = re.search(r"<source media='\(max-width: 40rem\)' srcset='data:image/svg\+xml;base64,([^']+)'>", out.data)
        assert m, out.data[:200]
        svg = base64.b64decode(m.group(1)).decode("utf-8")
        width_pt = float(re.search(r'width="([\d.]+)pt"', svg).group(1))
        assert width_pt * 4 / 3 <= 380, width_pt  # CSS px, inside the page's padding at 390 px
        assert min(float(x) for x in re.findall(r"font-size: ([\d.]+)px", svg)) >= 7


# -- thousands and the minus sign ------------------------------------------------------------------

def test_thousands_and_minus_in_both_editions():
    from parindex.data.labels import MINUS, Labels

    vi, en = Labels("vi"), Labels("en")
    wj = "\u2060"
    # 35000 and 85600 as the editor asked: 35.000 / 35,000; the joiner is invisible
    assert vi.number("hơn 35000 người") == f"hơn 35.{wj}000 người" and en.number("over 35000 people") == "over 35,000 people"
    assert vi.number("85600.") == f"85.{wj}600." and en.number("1234567.5") == "1,234,567.5"
    assert vi.number("1234567.5") == f"1.{wj}234.{wj}567,5"
    assert vi.number("-2.94") == f"{MINUS}2,94" and en.number("(-2.94)") == f"({MINUS}2.94)"
    assert en.number("-35000") == f"{MINUS}35,000"
    assert vi.number("89.21.") == "89,21."  # a number that ends a sentence
    # years, ranges, codes, dates, paths and addresses keep their digits and hyphens
    for kept in ("2020", "2020-2024", "VN-44", "2025-04-06", "/1720781/", "https://x.vn/a-2155771.html",
                 "--year 2020", "a-5", "0123456", "Hạng 13/63", "bang 1.5.csv"):
        assert vi.number(kept) == kept and en.number(kept) == kept, kept
    # a second pass changes nothing (a label's text put in a table cell gets it again)
    for text in ("hơn 35000 người", "1234567.5", "-2.94", "83.719", "0.012", "85.64–93.74"):
        once_vi, once_en = vi.number(text), en.number(text)
        assert vi.number(once_vi) == once_vi and en.number(once_en) == once_en, text
    assert vi("brief.margin_up", points=-1.234, cutoff=90.0).startswith(f"Cần thêm {MINUS}1,23")
    assert vi("report.title", index="PAR INDEX & SIPAS", year=2020) == "Báo cáo PAR INDEX & SIPAS năm 2020"


def test_chart_text_takes_the_minus_in_english_too():
    from parindex.render import charts
    from parindex.data.labels import MINUS, Labels

    fig, ax = charts.subplots(figsize=(3, 2))
    ax.text(0.1, 0.5, "-2.94")
    charts.use_decimal_mark(fig, Labels("en"))
    assert [t.get_text() for t in ax.texts] == [f"{MINUS}2.94"]
