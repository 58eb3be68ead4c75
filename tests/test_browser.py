"""The HTML in a real browser (headless Chromium from Debian's packages): no horizontal overflow
at phone and desktop widths, no network request, and screenshots to look at."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import once

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-background-networking", "--disable-component-update"]
# Every check is a frame of one host page, so that Chromium starts once for all of them (a start
# costs a second of CPU; the suite started it six times). Each frame is a copy of a page with a
# probe added; the probe posts "<frame name> <answer>" to the host, which writes every answer
# into its own DOM for --dump-dom to return.
#
# Overflow: once laid out, how far the content overflows its frame's width and which resources
# the page itself loaded (data: URIs excepted).
PROBE = ("<script>window.addEventListener('load',function(){setTimeout(function(){"
         "var o=document.documentElement.scrollWidth-window.innerWidth;"
         "var r=performance.getEntriesByType('resource').map(function(e){return e.name})"
         ".filter(function(n){return !/^data:/.test(n)});"
         # the smallest scale a chart is shown at: 1 means natural size (7 pt text at 9 px and up)
         "var s=[].map.call(document.querySelectorAll('figure.chart img'),function(i){return i.clientWidth/i.naturalWidth});"
         "var k=s.length?Math.min.apply(null,s):0;"
         "parent.postMessage(window.name+' overflow:'+o+' width:'+window.innerWidth+' requests:'+r.length"
         "+' charts:'+s.length+' scale:'+(k>=0.99?'natural':k.toFixed(2)),'*');},300);});"
         "</script>")
# Sorting: the first appendix by value, then by name (a click each), and what the browser then shows.
SORT_PROBE = ("<script>window.addEventListener('load',function(){"
              "var t=document.querySelector('table.appendix'),h=t.querySelectorAll('thead th'),out={};"
              "function col(i){return [].map.call(t.tBodies[0].rows,function(r){return r.cells[i].textContent});}"
              "h[1].click();out.value=col(1);out.aria=h[1].getAttribute('aria-sort');"
              "h[1].click();out.value_desc=col(1);out.aria_desc=h[1].getAttribute('aria-sort');"
              "h[0].click();out.name=col(0);out.aria_value=h[1].getAttribute('aria-sort');"
              "parent.postMessage(window.name+' '+JSON.stringify(out),'*');});</script>")
WIDTHS = (390, 1280)
LANGS = ("vi", "en")
HEIGHT = 3000


def _browser(*args: str) -> str:
    if CHROMIUM is None:
        pytest.fail("chromium is missing: apt-get install chromium (.ci/run does)")
    return subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=120).stdout


@pytest.fixture(scope="session")
def browser(shared_root, report_2020_vi, report_2020_en) -> dict:
    """One Chromium run over every frame: {frame name: answer}, and the screenshot of the host
    (the page at each width side by side, kept to look at) in the folder beside the answers."""
    def make(folder: Path) -> None:
        folder.mkdir()
        frames = []
        for lang, built in (("vi", report_2020_vi), ("en", report_2020_en)):
            text = (built / f"yearly_report_2020_{lang}.html").read_text(encoding="utf-8")
            (folder / f"probe_{lang}.html").write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
            (folder / f"sort_{lang}.html").write_text(text.replace("</body>", SORT_PROBE + "</body>"), encoding="utf-8")
            frames += [(f"overflow-{lang}-{w}", f"probe_{lang}.html", w, HEIGHT) for w in WIDTHS]
            frames.append((f"sort-{lang}", f"sort_{lang}.html", 400, 200))
        # a headless window is at least 500 px wide: the frames set the widths
        host = folder / "host.html"
        host.write_text(
            "<!DOCTYPE html><html><head><title>wait</title></head><body style='margin:0;white-space:nowrap'>"
            + "".join(f"<iframe name='{n}' src='{src}' style='border:0;width:{w}px;height:{h}px;vertical-align:top'>"
                      "</iframe>" for n, src, w, h in frames)
            + f"<pre id='answers'></pre><script>var got={{}};addEventListener('message',function(e){{"
            "var i=e.data.indexOf(' ');got[e.data.slice(0,i)]=e.data.slice(i+1);"
            f"if(Object.keys(got).length=={len(frames)})"
            "document.getElementById('answers').textContent=JSON.stringify(got);});</script></body></html>",
            encoding="utf-8")
        dom = _browser(f"--window-size={sum(w for _, _, w, _ in frames)},{HEIGHT}", "--virtual-time-budget=10000",
                       "--dump-dom", f"--screenshot={folder / 'host.png'}", host.as_uri())
        found = re.search(r"<pre id=\"answers\">(.*?)</pre>", dom, re.S)
        assert found and found.group(1), f"not every frame answered: {dom[-2000:]}"
        (folder / "answers.json").write_text(html.unescape(found.group(1)), encoding="utf-8")

    folder = once(shared_root, "browser", make)
    return {"answers": json.loads((folder / "answers.json").read_text(encoding="utf-8")), "shot": folder / "host.png"}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_no_overflow_and_no_request(browser, lang, width):
    """The page in a frame of the wanted width: no sideways page scroll, nothing fetched; every
    chart at its natural size (wide ones scroll in their own box on a phone) so that no chart
    text is under 9 px."""
    answer = browser["answers"][f"overflow-{lang}-{width}"]
    assert re.fullmatch(rf"overflow:0 width:{width} requests:0 charts:([1-9]\d*) scale:natural", answer), answer
    assert browser["shot"].stat().st_size > 10_000  # a rendered page


@pytest.mark.parametrize("lang", LANGS)
def test_appendix_sorts_by_number_and_by_vietnamese_name(browser, report_2020_vi, report_2020_en, lang):
    from parindex.data.collate import vsorted

    text = (report_2020_vi if lang == "vi" else report_2020_en).joinpath(f"yearly_report_2020_{lang}.html") \
        .read_text(encoding="utf-8")
    assert text.count("<script") == 1  # the one inline script, still
    got = json.loads(browser["answers"][f"sort-{lang}"])
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
