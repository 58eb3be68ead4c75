"""The HTML page around report content, shared by the HTML file and the PDF.

Kept free of nbconvert, matplotlib and WeasyPrint imports: PDF worker processes load
only this module and pdf.py.
"""

from __future__ import annotations

import html
import importlib.util
import re
from urllib.parse import unquote
from importlib.resources import files
from pathlib import Path

# Heading anchors help on screens; in print (and in a PDF joined from parts) they lead nowhere.
_ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="[^"]*"></a>')


def _font(name: str) -> Path:
    """matplotlib's bundled DejaVu fonts, found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("matplotlib is not installed; its DejaVu fonts are embedded in the PDF")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name


def stylesheet(for_pdf: bool) -> str:
    css = files("parindex").joinpath("templates/report.css").read_text(encoding="utf-8")
    if for_pdf:
        return (css.replace("{{FONT_REGULAR}}", _font("DejaVuSans.ttf").as_uri())
                   .replace("{{FONT_BOLD}}", _font("DejaVuSans-Bold.ttf").as_uri())
                   .replace("{{FONT_OBLIQUE}}", _font("DejaVuSans-Oblique.ttf").as_uri()))
    # The HTML stays free of external requests: no @font-face, system fonts only.
    return "\n".join(line for line in css.splitlines() if "@font-face" not in line)


_H2 = re.compile(r"<h2([^>]*)>(.*?)</h2>", re.S)
_ID = re.compile(r"""\bid=["']([^"']+)["']""")
_TAG = re.compile(r"<[^>]+>")


def with_contents(body: str, heading: str) -> str:
    """A contents list of the page's sections (its h2 headings), linked to them, after the cover."""
    entries: list[tuple[str, str]] = []

    def anchor(m: re.Match) -> str:
        attrs, inner = m.group(1), m.group(2)
        found = _ID.search(attrs)
        # nbconvert's ids are percent-encoded ("X%E1%BA%BFp-h…"); a link's fragment is read
        # decoded (WeasyPrint only; a browser tries both), so the id is written decoded too
        ident = unquote(html.unescape(found.group(1))) if found else f"sec-{len(entries) + 1}"
        label = html.unescape(_TAG.sub("", _ANCHOR_LINK.sub("", inner))).strip().rstrip("¶").strip()
        entries.append((ident, label))
        if found:
            attrs = attrs[:found.start()] + f"id='{html.escape(ident, quote=True)}'" + attrs[found.end():]
        return f"<h2 id='{html.escape(ident, quote=True)}'{attrs}>{inner}</h2>" if not found else f"<h2{attrs}>{inner}</h2>"

    body = _H2.sub(anchor, body)
    if len(entries) < 3:
        return body
    items = "".join(f"<li><a href='#{html.escape(i, quote=True)}'>{html.escape(t)}</a></li>" for i, t in entries)
    nav = f"<nav class='toc' aria-label='{html.escape(heading, quote=True)}'><h2>{html.escape(heading)}</h2><ol>{items}</ol></nav>"
    m = re.search(r"""<div class=["']cover[^>]*>""", body)
    start = m.start() if m else -1
    end = body.find("</div>", start) + len("</div>") if start >= 0 else 0
    return body[:end] + nav + body[end:]


# The HTML page's one script: the appendix tables sort by any column on a click or Enter. It
# compares only the keys htmltable.py computed in Python (data-sort: a value, or a name's place
# in parindex.collate's Vietnamese order), never the printed text, whose decimal mark is the
# edition's; a cell without a key (no value) stays last both ways. Inline, no request.
SORT_SCRIPT = """<script>
document.querySelectorAll('table.appendix').forEach(function (t) {
  var heads = t.querySelectorAll('thead th');
  heads.forEach(function (th, i) {
    th.setAttribute('data-sort', ''); th.setAttribute('tabindex', '0');
    var asc = true;
    function sort() {
      var rows = Array.prototype.slice.call(t.tBodies[0].rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].getAttribute('data-sort') || '', y = b.cells[i].getAttribute('data-sort') || '';
        if (x === '' || y === '') return (x === '') - (y === '');
        var r = Number(x) - Number(y);
        return asc ? r : -r;
      });
      rows.forEach(function (r) { t.tBodies[0].appendChild(r); });
      heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      asc = !asc;
    }
    th.addEventListener('click', sort);
    th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
  });
});
</script>"""

# "[3]", "[3, 7]": the report's reference markers (Report.cite), in text, never in an attribute.
_CITE = re.compile(r"\[(\d+(?:–\d+)?(?:, \d+(?:–\d+)?)*)\]")  # "[3, 7–9]": runs as the cite() writes them
_PIECES = re.compile(r"(<[^>]*>)")
_SKIP = {"a", "script", "style", "title"}  # text inside these stays as it is
_DOWNLOAD = re.compile(r"""<p class=["']download["']>.*?</p>""", re.S)  # quoted either way once exported


def link_citations(body: str) -> str:
    """Each number of a "[3, 7]" marker a link to its entry in the references (``id='ref-3'``),
    where the page has that entry."""
    targets = set(re.findall(r"""\bid=['"]ref-(\d+)['"]""", body))
    if not targets:
        return body
    out, skip = [], 0

    def linked(m: re.Match) -> str:
        items = [part.split("–") for part in m.group(1).split(", ")]
        if not all(n in targets for item in items for n in item):
            return m.group(0)
        # a run "7–9" is two links, to its first and last entries (the entries between are adjacent)
        return "[" + ", ".join("–".join(f"<a class='cite' href='#ref-{n}'>{n}</a>" for n in item)
                               for item in items) + "]"

    for piece in _PIECES.split(body):
        if piece.startswith("<"):
            tag = re.match(r"</?\s*([a-zA-Z0-9]+)", piece)
            name = tag.group(1).lower() if tag else ""
            if name in _SKIP and not piece.endswith("/>"):
                skip += -1 if piece.startswith("</") else 1
            out.append(piece)
        else:
            out.append(piece if skip > 0 else _CITE.sub(linked, piece))
    return "".join(out)


def html_page(body: str, title: str, lang: str, for_pdf: bool, extra_css: str = "", contents: str = "") -> str:
    """A complete, self-contained page: the stylesheet inline, no scripts, no external links.

    ``contents``: the heading of a contents list to put after the cover (HTML only)."""
    if for_pdf:
        # a heading's anchor and a table's download lead nowhere on paper
        body = _DOWNLOAD.sub("", _ANCHOR_LINK.sub("", body))
    else:
        body = link_citations(body)
        if contents:
            body = with_contents(body, contents)
    return (f"<!DOCTYPE html>\n<html lang='{lang}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{stylesheet(for_pdf)}{extra_css}</style>"
            f"</head><body>{body}{SORT_SCRIPT if not for_pdf and 'ptable appendix' in body else ''}</body></html>\n")


# -- laying out a document from its parts -------------------------------------------------

_COMPACT = re.compile(r"""class=["']cover compact["']""")
THIN_CHARS = 900  # a part with less text than this, and no figure, does not get pages of its own


def is_compact(bodies: list[str]) -> bool:
    """A thin year's report (Report.compact): no contents page, one flowing text."""
    return bool(bodies) and bool(_COMPACT.search(bodies[0]))


def is_thin(body: str) -> bool:
    return "<svg" not in body and "<img" not in body and len(_TAG.sub("", body).split()) * 7 < THIN_CHARS


def thin_groups(bodies: list[str]) -> list[list[int]]:
    """Parts to lay out together: each thin part joins the part after it (the last, the one before)."""
    if is_compact(bodies):  # a thin year: one flowing text (the cover keeps its page)
        return [list(range(len(bodies)))]
    groups: list[list[int]] = []
    pending: list[int] = []
    for i, body in enumerate(bodies):
        pending.append(i)
        if not is_thin(body) or i == 0:  # the cover keeps its own page
            groups.append(pending)
            pending = []
    if pending:
        if groups and len(groups) > 1:
            groups[-1] += pending
        else:
            groups.append(pending)
    return groups


def joined(bodies: list[str], group: list[int]) -> str:
    """One body for a group of parts: only the first may start a new page."""
    return bodies[group[0]] + "".join(bodies[i].replace("celltag_new-page", "celltag_joined") for i in group[1:])


def pdf_layout(bodies: list[str], contents: str) -> tuple[list[list[int]], list[str], str]:
    """What the PDF lays out, for ``parindex report`` and nbconvert's exporter alike: the groups
    of parts (thin_groups), each group's HTML, and the heading of a contents page ("" for none).
    A compact year has no contents page: its contents list flows after the cover, with the
    page numbers the layout gives (one flowing text, so they are the final ones)."""
    groups = thin_groups(bodies)
    texts = [joined(bodies, g) for g in groups]
    if not is_compact(bodies):
        return groups, texts, contents
    if contents:
        texts = [with_contents(t, contents).replace("<nav class='toc'", "<nav class='toc ptoc'", 1) for t in texts]
    return groups, texts, ""
