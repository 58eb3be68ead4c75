"""The HTML appendix: sort keys computed in Python (numbers whatever the decimal mark, names in
parindex.data.collate's order), reference markers linked, the table as a CSV data: link."""

from __future__ import annotations

import base64
import csv
import io
import re

import pandas as pd
import pytest

from parindex.data.collate import vsorted
from parindex.render.htmltable import csv_link, name_key, sort_keys, sortable
from parindex.render.pages import html_page, link_citations

NAMES = ["Thanh Hóa", "TP. Hồ Chí Minh", "Hà Nội", "Điện Biên", "Đà Nẵng", "Bạc Liêu", "Bà Rịa - Vũng Tàu",
         "Bình Định", "Hòa Bình", "Hậu Giang", "Vĩnh Phúc", "Thái Bình"]


def test_name_keys_order_as_the_reports_lists():
    assert sorted(NAMES, key=name_key) == vsorted(NAMES)
    order = sorted(NAMES, key=name_key)
    assert order[order.index("Hòa Bình") + 1] == "TP. Hồ Chí Minh"  # under H, not T


def test_numeric_columns_sort_by_number_and_missing_is_empty():
    df = pd.DataFrame({"p": ["A", "B", "C", "D", "E"], "v": ["83.93", "83.82", "—", "≈83", "83.81"],
                       "s": ["[12, 3]", "[2]", "[10]", "—", "[1]"], "g": ["Nhóm B", "Nhóm A", "—", "Nhóm A", "x"]})
    kinds, keys = sort_keys(df, ["—"])
    assert kinds == ["text", "number", "number", "text"]
    values = [row[1] for row in keys]
    assert values == ["83.93", "83.82", "", "83.0", "83.81"]
    ordered = sorted((v for v in values if v), key=float)
    assert ordered == ["83.0", "83.81", "83.82", "83.93"]  # parseFloat("83,93") would have read 83
    assert [row[2] for row in keys] == ["12.0", "2.0", "10.0", "", "1.0"]  # a citation by its first number
    assert [row[3] for row in keys] == ["1", "0", "", "0", "2"]  # a text by its place; equal texts tie


@pytest.mark.usefixtures("bundled_2020")  # sections of 2020: its inference, solved once a run
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_appendix_cells_carry_their_sort_keys(lang):
    from parindex.render import sections

    r = sections.Report(2020, lang=lang)
    out = r.appendix("par_index").data
    table = out[:out.index("</table>")]
    heads = re.findall(r"<th data-sort-type='(\w+)'>([^<]*)</th>", table)
    # province, value, rank, bounds, group, basis, status, Δ value, Δ rank (2020 against 2019), sources
    assert [k for k, _ in heads] == ["text", "number", "number", "number", "text", "text", "text", "number", "number",
                                     "number"]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    cells = [re.findall(r"<td data-sort='([^']*)'>([^<]*)</td>", row) for row in rows]
    assert len(cells) >= 30 and all(len(c) == 10 for c in cells)
    moved = [c for c in cells if c[8][0]]  # a rank change keyed by its signed number: "−3" sorts as -3
    assert moved and all(float(c[8][0]) == float(c[8][1].replace("\u2212", "-")) for c in moved)
    mark = "," if lang == "vi" else "."
    for c in cells:
        key, text = c[1]
        if key:  # the printed value with the edition's mark; the key always a plain number
            assert float(key) == float(text.lstrip("≈").replace(mark, ".")), c[1]
        else:
            assert text == r.L("missing")
    names = [c[0][1] for c in cells]
    by_key = [t for _, t in sorted((c[0] for c in cells), key=lambda kv: int(kv[0]))]
    assert by_key == vsorted(names)  # "TP. Hồ Chí Minh" files under H


@pytest.mark.usefixtures("bundled_2020")  # sections of 2020: its inference, solved once a run
def test_appendix_downloads_as_csv_from_a_data_link():
    from parindex.render import sections

    out = sections.Report(2020, lang="vi").appendix("par_index").data
    m = re.search(r"<p class='download'><a href='data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)' "
                  r"download='parindex_par_index_2020_vi.csv'>Tải bảng trên về máy \(tệp CSV\)</a></p>", out)
    assert m
    text = base64.b64decode(m.group(1)).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Tỉnh/thành phố", "Giá trị (%)", "Hạng công bố"]
    table = out[:out.index("</table>")]
    assert len(rows) - 1 == table.count("<tr>")  # every body row of the table (the header row has a style)
    qn = next(r for r in rows if r[0] == "Quảng Ninh")
    assert qn[1:3] == ["91.04", "1"] and qn[3] == ""  # machine-readable numbers; no "—" for a missing cell


def test_citations_link_to_their_reference_outside_tags_and_scripts():
    body = ("<p>Giá trị 91,04 [1, 2]. Xem [3] và [9].</p><img alt='[1]'><script>var a = [1];</script>"
            "<a href='#x'>[2]</a><ol class='refs'><li id='ref-1'>a</li><li id='ref-2'>b</li><li id='ref-3'>c</li></ol>")
    out = link_citations(body)
    assert ("[<a class='cite' href='#ref-1'>1</a>, <a class='cite' href='#ref-2'>2</a>]. Xem "
            "[<a class='cite' href='#ref-3'>3</a>] và [9].") in out  # [9] has no entry: left as text
    assert "<img alt='[1]'>" in out and "var a = [1];" in out and "<a href='#x'>[2]</a>" in out
    # a run of three or more, as cite() writes it: both ends are links
    runs = link_citations("<p>[1, 3–5]</p>" + "".join(f"<li id='ref-{n}'>x</li>" for n in range(1, 6)))
    assert ("[<a class='cite' href='#ref-1'>1</a>, <a class='cite' href='#ref-3'>3</a>–"
            "<a class='cite' href='#ref-5'>5</a>]") in runs


def test_download_and_links_only_in_the_html():
    df = pd.DataFrame({"a": ["x"]})
    body = "<p>[1]</p>" + csv_link(df, "f.csv", "CSV", []) + "<ol><li id='ref-1'>s</li></ol>"
    pdf = html_page(body, "t", "vi", for_pdf=True)
    assert "class='download'" not in pdf and "data:text/csv" not in pdf and "href='#ref-1'" not in pdf
    page = html_page(body, "t", "vi", for_pdf=False)
    assert "data:text/csv" in page and "href='#ref-1'" in page
    exported = body.replace("class='download'", 'class="download"')  # as nbconvert writes it back
    assert "data:text/csv" not in html_page(exported, "t", "vi", for_pdf=True)


def test_sortable_leaves_other_markup_alone():
    df = pd.DataFrame({"Tỉnh": ["Hà Nội", "An Giang"], "Giá trị": ["85.1", "—"]})
    out = sortable(df.to_html(index=False), df, ["—"])
    assert out.count("data-sort='") == 4 and out.count("data-sort-type=") == 2
