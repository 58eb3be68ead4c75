"""The HTML in a real browser (headless Chromium from Debian's packages): no horizontal overflow
at phone and desktop widths, no network request, and screenshots to look at."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import run_cli

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


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    for lang in ("vi", "en"):
        r = run_cli("report", "--year", "2020", "--lang", lang, "--format", "html", "--out", str(out))
        assert r.returncode == 0, r.stderr
    return out


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
    dom = _browser(f"--window-size={width + 20},3000", "--virtual-time-budget=8000", "--dump-dom", host.as_uri())
    title = re.search(r"<title>([^<]*)</title>", dom).group(1)
    # no sideways page scroll, nothing fetched; every chart at its natural size (wide ones scroll
    # in their own box on a phone) so that no chart text is under 9 px
    assert re.fullmatch(rf"overflow:0 width:{width} requests:0 charts:([1-9]\d*) scale:natural", title), title
    shot = pages / f"{lang}_{width}.png"
    _browser(f"--window-size={width},2400", f"--screenshot={shot}", page.as_uri())
    assert shot.stat().st_size > 10_000  # a rendered page, kept in the test's folder to look at
