"""PDF rendering with WeasyPrint, and joining separately rendered parts with pikepdf.

A report's PDF is rendered in parts (runs of cells between ``new-page`` tags, see
exporters.py), so parts can be laid out in worker processes while the kernel still runs.
Parts carry no page furniture; ``assemble`` joins them and stamps page numbers, the
running title and the bookmarks once over the whole document, so the PDF does not
depend on how it was split.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import shutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..proc.gcpause import gc_paused
from ..proc.lifecycle import make_scratch, remove_stale, runtime_parent
from .pages import html_page, stylesheet

# Parts are laid out without page furniture; it is stamped once over the joined pages.
_NO_FURNITURE = "@page { @bottom-center { content: none; } @top-right { content: none; } }"
# Every page is laid out tagged (a structure tree for screen readers: PDF/UA) and as PDF/A-3u
# (fonts embedded, sRGB output intent, XMP identification) for archives; assemble keeps both
# when it joins parts.
PDF_OPTIONS = {"pdf_variant": "pdf/a-3u", "pdf_tags": True}
CSS_PX_TO_PT = 0.75


@dataclass
class RenderedPart:
    """One laid-out part: its PDF, page count and headings (page, level, label, x, y in CSS px)."""

    pdf: bytes
    pages: int
    bookmarks: list[tuple[int, int, str, float, float]] = field(default_factory=list)


_FONT_CONFIG = None


def _weasyprint():
    """The weasyprint module, imported without its library search on Linux.

    WeasyPrint opens GObject, Pango, HarfBuzz and fontconfig by trying Windows and macOS names
    before the Linux sonames, and on Linux each miss made ctypes.util.find_library run ldconfig,
    gcc and ld: some 200 processes and 0.3 s in every process that lays out a PDF (each PDF
    worker). While this thread imports it, the search answers "not found" at once and the soname
    tried next is opened directly; should that fail on some system, the import is done again with
    the search (and its messages)."""
    if "weasyprint" not in sys.modules and sys.platform.startswith("linux"):
        import ctypes.util
        import threading

        search, me = ctypes.util.find_library, threading.get_ident()
        ctypes.util.find_library = lambda name: None if threading.get_ident() == me else search(name)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                import weasyprint  # noqa: F401
        except (ImportError, OSError):
            pass
        finally:
            ctypes.util.find_library = search
    import weasyprint

    return weasyprint


def _font_config():
    """One WeasyPrint font configuration per process: the @font-face files load once, not per part.

    WeasyPrint copies those fonts into a temporary folder that it removes only when the
    configuration is garbage-collected, which never happens in a worker process that ends
    with os._exit; the folder is removed explicitly at exit instead (normal exit or
    multiprocessing worker exit, whichever this process has), or by a later process when
    this one was killed.
    """
    global _FONT_CONFIG
    if _FONT_CONFIG is None:
        import atexit
        from multiprocessing import util

        from weasyprint.text.fonts import FontConfiguration

        _FONT_CONFIG = FontConfiguration()
        # A process that is killed runs no exit hook; its font folder is then a marked scratch
        # folder that the next process to render removes, never a stray weasyprint-* in /tmp.
        parent = runtime_parent()
        remove_stale(parent, "wp")
        _FONT_CONFIG._folder = make_scratch("wp", parent)
        atexit.register(_drop_font_config)
        util.Finalize(None, _drop_font_config, exitpriority=10)  # runs only in this process
    return _FONT_CONFIG


def _fetcher():
    """WeasyPrint may resolve only data: URIs (the report's own inline figures): never the
    network, never a file, whatever a cell or a file name smuggles into the page."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, timeout=1, allow_redirects=False)


def _drop_font_config() -> None:
    global _FONT_CONFIG
    folder = getattr(_FONT_CONFIG, "_folder", None)
    _FONT_CONFIG = None
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def render_body(body: str, title: str, lang: str, furniture: bool) -> RenderedPart:
    """Lay out and draw HTML body content as A4 pages (module-level: worker processes run it)."""
    HTML = _weasyprint().HTML

    page = html_page(body, title, lang, for_pdf=True, extra_css="" if furniture else _NO_FURNITURE)
    with gc_paused():
        doc = HTML(string=page, base_url=str(Path.cwd()), url_fetcher=_fetcher()).render(font_config=_font_config())
        marks = [(i, level, label, x, y) for i, pg in enumerate(doc.pages)
                 for level, label, (x, y), _state in pg.bookmarks]
        return RenderedPart(doc.write_pdf(**PDF_OPTIONS), len(doc.pages), marks)


def warm_up(niceness: int = 0, scratch: str = "") -> None:
    """Load WeasyPrint and the fonts once per worker process.

    A worker that renders beside a running kernel lowers its own priority, so the kernel
    (whose cells the worker is waiting for) keeps a whole core. With ``scratch``, its
    temporary files go into that folder, which the build removes even if the worker is killed.
    """
    if scratch:
        import tempfile

        tempfile.tempdir = scratch
    if niceness:
        with contextlib.suppress(OSError):
            os.nice(niceness)
    render_body("<h1>Ắ ể ở</h1><table><tr><td>1</td></tr></table>", "warm-up", "vi", furniture=False)


def _furniture_pdf(pages: int, heading: str, lang: str) -> bytes:
    """Page numbers "n / N" and the running title, on otherwise empty pages."""
    HTML = _weasyprint().HTML

    body = (f"<div class='furniture-title'>{html.escape(heading)}</div>"
            + "<div class='furniture-page'></div>" * (pages - 1))
    css = (stylesheet(for_pdf=True)
           + ".furniture-title { string-set: doctitle content(); visibility: hidden; height: 0; margin: 0; }"
           + ".furniture-page { break-before: page; height: 0; }")
    with gc_paused():
        doc = HTML(string=f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><style>{css}</style>"
                          f"</head><body>{body}</body></html>", url_fetcher=_fetcher()).render(font_config=_font_config())
        if len(doc.pages) != pages:  # a guard: the stamp must line up page for page
            raise RuntimeError(f"page furniture has {len(doc.pages)} pages for {pages}")
        return doc.write_pdf()


_TOC_URL = "https://toc.invalid/"  # placeholder link targets, turned into page destinations


def _contents_pdf(entries: list[tuple[int, int, str]], heading: str, lang: str) -> tuple[bytes, int]:
    """A contents page: (page number, level, label) per heading; each line links to its page."""
    HTML = _weasyprint().HTML

    items = "".join(
        f"<li class='toc{level}'><a href='{_TOC_URL}{i}'><span class='label'>{html.escape(label)}</span>"
        f"<span class='page'>{page}</span></a></li>" for i, (page, level, label) in enumerate(entries))
    css = (stylesheet(for_pdf=True) + _NO_FURNITURE
           + "ol.toc { list-style: none; padding: 0; margin: 0; font-size: .9rem; }"
           + "ol.toc li { margin: .25rem 0; } ol.toc li.toc3 { padding-left: 1.2rem; font-size: .82rem; }"
           + "ol.toc a { color: inherit; text-decoration: none; display: flex; }"
           + "ol.toc .label { flex: 1; } ol.toc .page { padding-left: .6rem; }")
    with gc_paused():
        doc = HTML(string=f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><style>{css}</style>"
                          f"</head><body><h2>{html.escape(heading)}</h2><ol class='toc'>{items}</ol></body></html>",
                   url_fetcher=_fetcher()).render(font_config=_font_config())
        return doc.write_pdf(**PDF_OPTIONS), len(doc.pages)


def _link_contents(out, first: int, n: int, targets: list[int]) -> None:
    """Point the contents' placeholder links at their pages (a GoTo, not a web address)."""
    import pikepdf

    for page in list(out.pages)[first:first + n]:
        for annot in page.obj.get("/Annots", []):
            uri = str(annot.get("/A", {}).get("/URI", ""))
            if uri.startswith(_TOC_URL):
                target = out.pages[targets[int(uri[len(_TOC_URL):])]]
                del annot["/A"]
                annot["/Dest"] = pikepdf.Array([target.obj, pikepdf.Name("/Fit")])


def _resolve_named_links(out, src, offset: int) -> None:
    """A part's links to its own anchors (a compact year's contents list: "#sec-2") are named
    destinations, kept in the part's name tree, which copying its pages leaves behind: each
    becomes an explicit destination on the copied page, so it still leads somewhere."""
    import pikepdf

    if "/Names" not in src.Root or "/Dests" not in src.Root.Names:
        return
    tree = pikepdf.NameTree(src.Root.Names.Dests)
    index = {p.obj.objgen: i for i, p in enumerate(src.pages)}
    for i in range(len(src.pages)):
        for annot in out.pages[offset + i].obj.get("/Annots", []):
            name = annot.get("/Dest")
            if not isinstance(name, (pikepdf.String, pikepdf.Name)) or str(name).lstrip("/") not in tree:
                continue
            dest = tree[str(name).lstrip("/")]
            dest = dest.D if isinstance(dest, pikepdf.Dictionary) else dest
            target = index.get(dest[0].objgen)
            if target is not None:
                annot.Dest = pikepdf.Array([out.pages[offset + target].obj, *list(dest)[1:]])


def assemble(parts: list[RenderedPart], title: str, lang: str, contents: str = "") -> bytes:
    """Join parts into one PDF with page numbers, running title, bookmarks and metadata.

    With ``contents`` (its heading), a contents page listing the sections with their page
    numbers and links follows the first page (the cover)."""
    import pikepdf

    sources = [pikepdf.open(io.BytesIO(p.pdf)) for p in parts]
    out = pikepdf.new()
    marks: list[tuple[int, int, str, float, float]] = []
    spans: list[tuple[int, object]] = []  # (first page, source) in page order
    for part, src in zip(parts, sources):
        offset = len(out.pages)
        marks += [(offset + i, level, label, x, y) for i, level, label, x, y in part.bookmarks]
        with warnings.catch_warnings():  # named destinations: resolved just below
            warnings.simplefilter("ignore", pikepdf.exceptions.PageCopyWarning)
            out.pages.extend(src.pages)
        _resolve_named_links(out, src, offset)
        spans.append((offset, src))
    if contents:
        entries = [(page_no, level, label) for page_no, level, label, _, _ in marks if level in (2, 3) and page_no > 0]
        n = 1
        for _ in range(3):  # the contents' own length moves every page after it
            pdf, pages = _contents_pdf([(p + 1 + n, lv, lab) for p, lv, lab in entries], contents, lang)
            if pages == n:
                break
            n = pages
        toc = pikepdf.open(io.BytesIO(pdf))
        for k, page in enumerate(toc.pages):
            out.pages.insert(1 + k, page)
        marks = [(p + n if p > 0 else p, lv, lab, x, y) for p, lv, lab, x, y in marks]
        _link_contents(out, 1, n, [p + n for p, _, _ in entries])
        spans = [spans[0], (1, toc)] + [(o + n, src) for o, src in spans[1:]]
        sources.append(toc)
    _join_structure(out, [src for _, src in spans])
    heading = next((label for _, level, label, _, _ in marks if level == 1), title)
    furniture = pikepdf.open(io.BytesIO(_furniture_pdf(len(out.pages), heading, lang)))
    for page, stamp in zip(out.pages, furniture.pages):
        _stamp_artifact(out, page, stamp)
    with out.open_outline() as outline:
        stack: list[tuple[int, pikepdf.OutlineItem]] = []  # (level, item): nest by heading level
        for page_no, level, label, x, y in marks:
            height = float(out.pages[page_no].mediabox[3])
            item = pikepdf.OutlineItem(label, page_no, "XYZ", left=x * CSS_PX_TO_PT, top=height - y * CSS_PX_TO_PT)
            while stack and stack[-1][0] >= level:
                stack.pop()
            (stack[-1][1].children if stack else outline.root).append(item)
            stack.append((level, item))
    first = sources[0].Root
    if "/OutputIntents" in first:
        out.Root.OutputIntents = _copy(out, sources[0], first.OutputIntents)
    return finish(out, title, lang, sources[0].docinfo.get("/Producer", "WeasyPrint"))


def _join_structure(out, sources: list) -> None:
    """One structure tree for the joined pages: each part's elements under one Document element,
    its page keys (StructParents) renumbered after the parts before it."""
    import pikepdf

    doc = out.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Document,
                                               K=pikepdf.Array()))
    root = out.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot, K=pikepdf.Array([doc])))
    doc.P = root
    nums = pikepdf.Array()
    next_key = 0
    copied_pages = {}
    for page in out.pages:
        copied_pages.setdefault(page.objgen, page)
    page_of = {}
    for src in sources:
        st = src.Root.get("/StructTreeRoot")
        if st is None:
            continue
        kids = st.K if isinstance(st.K, pikepdf.Array) else pikepdf.Array([st.K])
        for part_doc in kids:
            copied = _copy(out, src, part_doc)
            inner = copied.get("/K", pikepdf.Array())
            for elem in (inner if isinstance(inner, pikepdf.Array) else [inner]):
                if isinstance(elem, pikepdf.Dictionary):
                    elem.P = doc
                doc.K.append(elem)
        tree = st.ParentTree
        pairs = list(tree.get("/Nums", pikepdf.Array()))
        for kid in tree.get("/Kids", pikepdf.Array()):  # a number tree may be split into kids
            pairs += list(kid.get("/Nums", pikepdf.Array()))
        top = -1
        for i in range(0, len(pairs), 2):
            key = int(pairs[i])
            nums.append(key + next_key)
            nums.append(_copy(out, src, pairs[i + 1]))
            top = max(top, key)
        for page in src.pages:  # the copies of this source's pages carry its keys
            page_of[out.copy_foreign(page.obj).objgen] = next_key
        next_key += top + 1
    for page in out.pages:
        shift = page_of.get(page.objgen)
        if shift is None:
            continue
        if "/StructParents" in page.obj:
            page.obj.StructParents = int(page.obj.StructParents) + shift
        for annot in page.obj.get("/Annots", []):
            if "/StructParent" in annot:
                annot.StructParent = int(annot.StructParent) + shift
    root.ParentTree = out.make_indirect(pikepdf.Dictionary(Nums=nums))
    root.ParentTreeNextKey = next_key
    out.Root.StructTreeRoot = root
    out.Root.MarkInfo = pikepdf.Dictionary(Marked=True)


def _copy(out, src, obj):
    """An object of ``src`` in ``out``; a direct array or dictionary is made indirect first
    (qpdf copies only indirect objects), which changes nothing in a source about to be closed."""
    if not getattr(obj, "is_indirect", True):
        obj = src.make_indirect(obj)
    return out.copy_foreign(obj)


def _stamp_artifact(out, page, stamp) -> None:
    """Draw the page number and running title over the page as an artifact (not content a screen
    reader reads), keeping the page's own graphics state untouched."""
    import pikepdf

    xobj = out.copy_foreign(stamp.as_form_xobject())
    name = page.add_resource(xobj, pikepdf.Name.XObject, prefix="Furn")
    page.contents_add(out.make_stream(b"q"), prepend=True)
    page.contents_add(out.make_stream(b"Q /Artifact BMC q " + bytes(name) + b" Do Q EMC"), prepend=False)


# PDF/A admits in XMP only the schemas of XMP itself unless the file describes the others
# (ISO 19005-3, 6.6.2.3.1): pdfuaid, the PDF/UA identification, is described here as the PDF/UA
# standard gives it (ISO 14289-1, 5: the namespace, its prefix and its one property, part).
PDFUA_EXTENSION_SCHEMA = """<rdf:Description rdf:about=""
    xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
    xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
    xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
  <pdfaExtension:schemas>
    <rdf:Bag>
      <rdf:li rdf:parseType="Resource">
        <pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
        <pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
        <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
        <pdfaSchema:property>
          <rdf:Seq>
            <rdf:li rdf:parseType="Resource">
              <pdfaProperty:name>part</pdfaProperty:name>
              <pdfaProperty:valueType>Integer</pdfaProperty:valueType>
              <pdfaProperty:category>internal</pdfaProperty:category>
              <pdfaProperty:description>Indicates, which part of ISO 14289 standard is followed</pdfaProperty:description>
            </rdf:li>
          </rdf:Seq>
        </pdfaSchema:property>
      </rdf:li>
    </rdf:Bag>
  </pdfaExtension:schemas>
</rdf:Description>"""


def build_time():
    """When the document was made (UTC, whole seconds): SOURCE_DATE_EPOCH when set, the
    reproducible-builds convention for a fixed date, else now."""
    from datetime import datetime, timezone

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch.isdigit() else datetime.now(timezone.utc)
    return when.replace(microsecond=0)


def _declare_pdfua_schema(out) -> None:
    """Add the extension schema description of pdfuaid to the document's XMP packet."""
    from lxml import etree

    meta = out.Root.Metadata
    tree = etree.fromstring(meta.read_bytes())
    rdf = tree if etree.QName(tree).localname == "RDF" else tree.find(".//{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF")
    rdf.append(etree.fromstring(PDFUA_EXTENSION_SCHEMA))
    meta.write(etree.tostring(tree, encoding="utf-8"))


def finish(out, title: str, lang: str, producer: str) -> bytes:
    """Document metadata and identification (title, language, producer, dates; PDF/A-3u and
    PDF/UA-1, with the extension schema PDF/A requires for pdfuaid). The Info dictionary follows
    the XMP (pikepdf keeps them equal, as PDF/A requires)."""
    import pikepdf

    when = build_time().isoformat()
    out.docinfo["/Title"] = title
    out.docinfo["/Producer"] = producer
    out.docinfo["/Creator"] = "parindex"
    out.Root.Lang = pikepdf.String(lang)
    out.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
    with out.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = title
        meta["dc:language"] = [lang]
        meta["pdf:Producer"] = str(producer)
        meta["xmp:CreatorTool"] = "parindex"
        meta["xmp:CreateDate"] = when  # and /CreationDate, /ModDate in the Info dictionary
        meta["xmp:ModifyDate"] = when
        meta["xmp:MetadataDate"] = when
        meta["pdfaid:part"] = "3"
        meta["pdfaid:conformance"] = "U"
        meta["pdfuaid:part"] = "1"
    _declare_pdfua_schema(out)
    buf = io.BytesIO()
    out.save(buf, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return buf.getvalue()


def single(pdf: bytes, title: str, lang: str) -> bytes:
    """A one-part PDF (its furniture drawn by WeasyPrint) with the same metadata as a joined one."""
    import pikepdf

    src = pikepdf.open(io.BytesIO(pdf))
    return finish(src, title, lang, src.docinfo.get("/Producer", "WeasyPrint"))


def render_parts(bodies: list[str], title: str, lang: str, contents: str = "") -> bytes:
    """The PDF of one document given as the HTML bodies of its parts, rendered one after another."""
    if len(bodies) == 1 and not contents:  # one part: WeasyPrint draws the furniture itself
        return single(render_body(bodies[0], title, lang, furniture=True).pdf, title, lang)
    return assemble([render_body(b, title, lang, furniture=False) for b in bodies], title, lang, contents)
