"""nbconvert exporters: a self-contained HTML page and an A4 PDF from the same HTML.

The HTML uses nbconvert's 'basic' template (cell outputs only, no scripts, no CDN
links) wrapped in our own page and stylesheet. The PDF exporter renders that HTML
with WeasyPrint, embedding matplotlib's DejaVu Sans (complete precomposed Vietnamese
glyphs), so it needs no LaTeX and no system fonts beyond Pango.
"""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path

import matplotlib
from nbconvert.exporters import HTMLExporter
from traitlets import Unicode


def _font(name: str) -> Path:
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def stylesheet(for_pdf: bool) -> str:
    css = files("parindex").joinpath("templates/report.css").read_text(encoding="utf-8")
    if for_pdf:
        return (css.replace("{{FONT_REGULAR}}", _font("DejaVuSans.ttf").as_uri())
                   .replace("{{FONT_BOLD}}", _font("DejaVuSans-Bold.ttf").as_uri())
                   .replace("{{FONT_OBLIQUE}}", _font("DejaVuSans-Oblique.ttf").as_uri()))
    # The HTML stays free of external requests: no @font-face, system fonts only.
    return "\n".join(line for line in css.splitlines() if "@font-face" not in line)


class ReportHTMLExporter(HTMLExporter):
    """Outputs only (no code, no prompts), one file, no scripts."""

    export_from_notebook = "parindex HTML"
    page_title = Unicode("parindex report").tag(config=True)
    lang = Unicode("vi").tag(config=True)
    for_pdf = False

    def __init__(self, **kw):
        kw.setdefault("template_name", "basic")
        super().__init__(**kw)
        self.exclude_input = True
        self.exclude_input_prompt = True
        self.exclude_output_prompt = True
        self.anchor_link_text = ""  # no pilcrow links after headings in a printed report

    def from_notebook_node(self, nb, resources=None, **kw):
        body, resources = super().from_notebook_node(nb, resources, **kw)
        body = _apply_alt_texts(nb, body)
        page = (f"<!DOCTYPE html>\n<html lang='{self.lang}'><head><meta charset='utf-8'>"
                f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
                f"<title>{html.escape(self.page_title)}</title><style>{stylesheet(self.for_pdf)}</style>"
                f"</head><body>{body}</body></html>\n")
        return page, resources


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


class ReportPDFExporter(ReportHTMLExporter):
    """A4 PDF through WeasyPrint: page numbers, repeated table headers, rows kept whole."""

    export_from_notebook = "parindex PDF"
    for_pdf = True

    def from_notebook_node(self, nb, resources=None, **kw):
        from weasyprint import HTML

        page, resources = super().from_notebook_node(nb, resources, **kw)
        pdf = HTML(string=page, base_url=str(Path.cwd())).write_pdf()
        resources["output_extension"] = ".pdf"
        return pdf, resources
