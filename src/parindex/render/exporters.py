"""nbconvert exporters: a self-contained HTML page and an A4 PDF from the same HTML.

The HTML uses nbconvert's 'basic' template (cell outputs only, no scripts, no CDN
links) wrapped in our own page and stylesheet (pages.py). The PDF exporter renders that
HTML with WeasyPrint (pdf.py), embedding matplotlib's DejaVu Sans (complete precomposed
Vietnamese glyphs), so it needs no LaTeX and no system fonts beyond Pango.

A notebook cell tagged ``new-page`` starts a new PDF page. The runs of cells between
those breaks ("parts") are exported and laid out independently, which lets
``parindex report`` render each part while the kernel is still computing the next one.
"""

from __future__ import annotations

import html

from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets import Unicode

from ..proc.gcpause import gc_paused
from .pages import html_page

NEW_PAGE_TAG = "new-page"
NOTEBOOK_ONLY_TAG = "notebook-only"


def part_ranges(nb) -> list[tuple[int, int]]:
    """[start, stop) cell ranges, split before every cell tagged ``new-page``."""
    starts = [0] + [i for i, c in enumerate(nb.cells)
                    if i > 0 and NEW_PAGE_TAG in c.get("metadata", {}).get("tags", [])]
    return list(zip(starts, starts[1:] + [len(nb.cells)]))


def part_notebook(nb, start: int, stop: int):
    """A notebook holding cells [start, stop) of ``nb``, with its metadata."""
    import nbformat

    return nbformat.from_dict({"nbformat": nb.nbformat, "nbformat_minor": nb.nbformat_minor,
                               "metadata": nb.metadata, "cells": nb.cells[start:stop]})


class ReportHTMLExporter(HTMLExporter):
    """Outputs only (no code, no prompts), one file, no scripts."""

    export_from_notebook = "parindex HTML"
    page_title = Unicode("parindex report").tag(config=True)
    lang = Unicode("vi").tag(config=True)

    def __init__(self, **kw):
        kw.setdefault("template_name", "basic")
        super().__init__(**kw)
        self.exclude_input = True
        self.exclude_input_prompt = True
        self.exclude_output_prompt = True
        self.anchor_link_text = ""  # no pilcrow links after headings in a printed report
        # The notebooks' own outline and notes (cells tagged notebook-only) are for the reader in
        # Jupyter; the report carries its localised headings in its outputs instead.
        self.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={NOTEBOOK_ONLY_TAG}), enabled=True)

    def body(self, nb) -> str:
        """The cells' outputs as HTML (no page around them); a notebook's parts concatenate to the whole."""
        with gc_paused():
            body, _ = super().from_notebook_node(nb)
        return _apply_alt_texts(nb, body)

    def from_notebook_node(self, nb, resources=None, **kw):
        resources = self._init_resources(resources)
        return html_page(self.body(nb), self.page_title, self.lang, for_pdf=False), resources


_PLACEHOLDER_ALT = 'alt="No description has been provided for this image"'


def _apply_alt_texts(nb, body: str) -> str:
    """Give each figure the description stored in its output metadata, in output order."""
    alts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if "image/svg+xml" in o.get("data", {}) or "image/png" in o.get("data", {}):
                md = o.get("metadata", {})
                alt = (md.get("image/svg+xml") or md.get("image/png") or {}).get("alt") or md.get("alt") or ""
                alts.append(alt)
    for alt in alts:
        if _PLACEHOLDER_ALT not in body:
            break
        body = body.replace(_PLACEHOLDER_ALT, f'alt="{html.escape(alt or "figure", quote=True)}"', 1)
    return body


def render_pdf(nb, title: str, lang: str, contents: str = "") -> bytes:
    """The PDF of an executed notebook, laid out part by part in this process (thin parts
    together with their neighbours, a compact year's contents after its cover: as parindex
    report does)."""
    from .pages import pdf_layout
    from .pdf import render_parts

    exporter = ReportHTMLExporter(page_title=title, lang=lang)
    _, texts, contents = pdf_layout([exporter.body(part_notebook(nb, a, b)) for a, b in part_ranges(nb)], contents)
    return render_parts(texts, title, lang, contents)


class ReportPDFExporter(ReportHTMLExporter):
    """A4 PDF through WeasyPrint: page numbers, repeated table headers, rows kept whole."""

    export_from_notebook = "parindex PDF"

    def from_notebook_node(self, nb, resources=None, **kw):
        resources = self._init_resources(resources)
        resources["output_extension"] = ".pdf"
        from ..data.labels import Labels

        return render_pdf(nb, self.page_title, self.lang, Labels(self.lang)("report.contents")), resources
