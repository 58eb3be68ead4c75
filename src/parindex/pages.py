"""The HTML page around report content, shared by the HTML file and the PDF.

Kept free of nbconvert, matplotlib and WeasyPrint imports: PDF worker processes load
only this module and pdf.py.
"""

from __future__ import annotations

import html
import importlib.util
import re
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


def html_page(body: str, title: str, lang: str, for_pdf: bool, extra_css: str = "") -> str:
    """A complete, self-contained page: the stylesheet inline, no scripts, no external links."""
    if for_pdf:
        body = _ANCHOR_LINK.sub("", body)
    return (f"<!DOCTYPE html>\n<html lang='{lang}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{stylesheet(for_pdf)}{extra_css}</style>"
            f"</head><body>{body}</body></html>\n")
