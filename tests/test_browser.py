"""The HTML in a real browser (headless Chromium from Debian's packages): no horizontal overflow
at phone and desktop widths, no network request, and screenshots to look at."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-background-networking", "--disable-component-update"]
# Added to a copy of the page: once laid out, tell the host page how far the content overflows
# and which resources the page itself loaded (data: URIs excepted).
PROBE = ("<script>window.addEventListener('load',function(){setTimeout(function(){"
         "var o=document.documentElement.scrollWidth-window.innerWidth;"
         "var r=performance.getEntriesByType('resource').map(function(e){return e.name})"
         ".filter(function(n){return !/^data:/.test(n)});"
         # the smallest scale a chart is shown at: 1 means natural size (7 pt text at 9 px and up)
         "var s=[].map.call(document.querySelectorAll('figure.chart img'),function(i){return i.clientWidth/i.naturalWidth});"
         "var k=s.length?Math.min.apply(null,s):0;"
         "parent.postMessage('overflow:'+o+' width:'+window.innerWidth+' requests:'+r.length"
         "+' charts:'+s.length+' scale:'+(k>=0.99?'natural':k.toFixed(2)),'*');},300);});"
         "</script>")


def _browser(*args: str) -> str:
    if CHROMIUM is None:
        pytest.fail("chromium is missing: apt-get install chromium (.ci/run does)")
    return subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=120).stdout


@pytest.fixture
def pages(request, lang, tmp_path):
    """This test's own copy of the 2020 page in its language (the probes and screenshots go beside it)."""
    shutil.copy(request.getfixturevalue(f"report_2020_{lang}") / f"yearly_report_2020_{lang}.html", tmp_path)
    return tmp_path


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("width", [390, 1280])
def test_no_overflow_and_no_request(pages, lang, width):
    page = pages / f"yearly_report_2020_{lang}.html"
    probe = pages / f"probe_{lang}.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    # The page in a frame of the wanted width (a headless window is at least 500 px wide).
    host = pages / f"host_{lang}_{width}.html"
    host.write_text("<!DOCTYPE html><html><head><title>wait</title></head><body style='margin:0'>"
                    f"<iframe src='{probe.name}' style='border:0;width:{width}px;height:3000px'></iframe>"
                    "<script>addEventListener('message',function(e){document.title=e.data;});</script>"
                    "</body></html>", encoding="utf-8")
    # one browser run: the probe's answer, and a screenshot of the page at that width in its frame
    # (kept in the test's folder to look at)
    shot = pages / f"{lang}_{width}.png"
    dom = _browser(f"--window-size={width + 20},3000", "--virtual-time-budget=8000", "--dump-dom",
                   f"--screenshot={shot}", host.as_uri())
    title = re.search(r"<title>([^<]*)</title>", dom).group(1)
    # no sideways page scroll, nothing fetched; every chart at its natural size (wide ones scroll
    # in their own box on a phone) so that no chart text is under 9 px
    assert re.fullmatch(rf"overflow:0 width:{width} requests:0 charts:([1-9]\d*) scale:natural", title), title
    assert shot.stat().st_size > 10_000  # a rendered page


# Added to a copy of the page: sort the first appendix by value, then by name (a click each), and
# write what the browser then shows into the page for --dump-dom to return.
SORT_PROBE = ("<script>window.addEventListener('load',function(){"
              "var t=document.querySelector('table.appendix'),h=t.querySelectorAll('thead th'),out={};"
              "function col(i){return [].map.call(t.tBodies[0].rows,function(r){return r.cells[i].textContent});}"
              "h[1].click();out.value=col(1);out.aria=h[1].getAttribute('aria-sort');"
              "h[1].click();out.value_desc=col(1);out.aria_desc=h[1].getAttribute('aria-sort');"
              "h[0].click();out.name=col(0);out.aria_value=h[1].getAttribute('aria-sort');"
              "var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify(out);"
              "document.body.appendChild(p);});</script>")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_appendix_sorts_by_number_and_by_vietnamese_name(pages, lang):
    import html as htmlmod
    import json

    from parindex.data.collate import vsorted

    page = pages / f"yearly_report_2020_{lang}.html"
    text = page.read_text(encoding="utf-8")
    assert text.count("<script") == 1  # the one inline script, still
    probe = pages / f"sort_{lang}.html"
    probe.write_text(text.replace("</body>", SORT_PROBE + "</body>"), encoding="utf-8")
    dom = _browser("--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    got = json.loads(htmlmod.unescape(re.search(r"<pre id=\"probe\">(.*?)</pre>", dom, re.S).group(1)))
    mark = "," if lang == "vi" else "."

    def number(s):
        return float(s.lstrip("≈").replace(mark, "."))

    missing = {"không có số liệu", "not published"}
    shown = [v for v in got["value"] if v not in missing]
    assert len(shown) >= 20 and [number(v) for v in shown] == sorted(number(v) for v in shown)
    assert got["value"][len(shown):] == [v for v in got["value"] if v in missing]  # no value: last
    desc = [v for v in got["value_desc"] if v not in missing]
    assert [number(v) for v in desc] == sorted((number(v) for v in desc), reverse=True)
    assert (got["aria"], got["aria_desc"], got["aria_value"]) == ("ascending", "descending", None)
    assert got["name"] == vsorted(got["name"])  # the report's own order ("TP. Hồ Chí Minh" under H)
    # the reference markers are links to their entries
    assert re.search(r"\[<a class='cite' href='#ref-1'>1</a>", text) and re.search(r"<li id=[\"']ref-1[\"']", text)
