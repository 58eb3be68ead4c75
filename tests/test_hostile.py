"""User strings are text: a file name never becomes markup, and the PDF renderer fetches nothing."""

from __future__ import annotations

import html
import socket
import threading

import pytest

from conftest import HOSTILE_NAME, pdf_text


def _listener() -> tuple[socket.socket, list[bytes]]:
    """A local socket that records any connection (loopback only, closed by the test)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(0.2)
    hits: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except (socket.timeout, OSError):
                if srv.fileno() == -1:
                    return
                continue
            hits.append(conn.recv(1024))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv, hits


def test_pdf_renderer_fetches_no_url_and_embeds_no_file():
    from parindex.render.pdf import render_body

    srv, hits = _listener()
    port = srv.getsockname()[1]
    try:
        part = render_body(f"<p>x</p><img src='http://127.0.0.1:{port}/x.png'>"
                           f"<link rel='stylesheet' href='http://127.0.0.1:{port}/s.css'>"
                           "<a rel='attachment' href='file:///etc/hostname'>a</a>"
                           "<img src='file:///etc/hostname'>", "t", "en", furniture=False)
    finally:
        srv.close()
    assert hits == []
    assert b"EmbeddedFile" not in part.pdf


def test_a_hostile_file_name_is_shown_as_text(complete_report_en):
    """The complete-table report reads its SIPAS table from a file named with markup and a link
    (conftest.HOSTILE_NAME): the HTML and the PDF show the name, and nothing it smuggles."""
    page = (complete_report_en / "yearly_report_2020_en.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "<img src=\"http" not in page and "src='http" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # shown, as text
    # whole wherever it is cited (its ";" does not cut it into "sources"), and once in a citation,
    # not once per row of the table cited
    whole = html.escape(HOSTILE_NAME, quote=False)
    assert page.count("&lt;img src=x") == page.count(whole) > 0
    assert f"{whole} {whole}" not in page
    text = pdf_text(complete_report_en / "yearly_report_2020_en.pdf")
    assert "<img src=x onerror=alert(1)>" in text


@pytest.mark.parametrize("name", [HOSTILE_NAME, "a;b,c.csv", "100%3B.csv", "bảng 2020 (1).xlsx"])
def test_a_file_is_one_source_whatever_its_name(name):
    """A user's file cited among other sources, in the lists the documents join with ";" and
    split on ";" and ",", comes back as its whole name."""
    from parindex.data.tables import file_name_of, file_source_id

    sid = file_source_id(name)
    assert ";" not in sid and "," not in sid
    assert [file_name_of(x) for x in f"src-1;{sid},{sid}".replace(",", ";").split(";")] == [None, name, name]


@pytest.mark.usefixtures("bundled_2020")  # the index reads the 2020 analysis: solved once a run
def test_the_brief_index_escapes_names_and_file_names(tmp_path, registry):
    import dataclasses

    from parindex.build.briefs import write_brief_index

    p = registry.resolve("Bắc Giang")
    odd = dataclasses.replace(p, name_vi="<script>alert(1)</script>", name_ascii="a' onmouseover='x")
    write_brief_index(tmp_path, 2020, "vi", [odd], ("html",))
    page = (tmp_path / "index_2020_vi.html").read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "onmouseover='" not in page and "href='a&#39;-onmouseover=&#39;x_2020_vi.html'" in page


def test_a_very_long_number_stays_on_the_page():
    from parindex.render.pages import html_page
    from parindex.render.pdf import _weasyprint

    HTML = _weasyprint().HTML  # as the PDF workers import it

    long = "91." + "0" * 299 + "1"
    body = (f"<p>value {long}</p><table class='ptable'><thead><tr><th>province</th><th>value</th></tr></thead>"
            f"<tbody><tr><td>Quảng Ninh</td><td>{long}</td></tr></tbody></table>")
    doc = HTML(string=html_page(body, "t", "en", for_pdf=True)).render()

    def boxes(box):
        yield box
        for child in getattr(box, "children", []):
            yield from boxes(child)

    for page in doc.pages:
        right = max(b.position_x + b.width for b in boxes(page._page_box) if getattr(b, "width", None) is not None)
        assert right <= page.width + 0.5, (right, page.width)
