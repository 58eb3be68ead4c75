"""What every section shares: figures and tables as HTML, the cached analysis, small texts."""

from __future__ import annotations

import base64
import html
import io
import re
from functools import lru_cache
from typing import Callable, Iterable

import matplotlib
import pandas as pd
from IPython.display import HTML
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine

from .. import charts
from ..charts import ASIDE_MARK
from ...data.labels import Labels
from ...infer.analysis import YearAnalysis, analyse
from ...infer.audit import bound_text, range_text  # noqa: F401  (one "5" / "3–7" for the audit and the report)
from ...proc.gcpause import gc_paused

INDEX_NAMES = ("par_index", "sipas")
SHORT_TABLE_ROWS = 8
SHORT_TABLE_CHARS = 500  # about a quarter of a page of cells


def _svg(fig: Figure, L: Labels | None = None, crop: bool = True) -> str:
    """The figure as SVG text. ``crop`` trims it to what is drawn (a second layout pass); the
    charts lay themselves out to their full size (tight_layout) and skip it."""
    if L is not None:
        charts.use_decimal_mark(fig, L)
    if isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine):
        # what tight_layout leaves behind: with it, savefig drew the whole figure once more,
        # to run a layout that does nothing (a quarter of a chart's time). None means "no
        # engine" only while the rc settings ask for none: a researcher's figure.autolayout
        # would have installed one that lays the chart out again, over its legend's band.
        with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
            fig.set_layout_engine(None)
    buf = io.StringIO()
    with gc_paused():  # see gcpause
        fig.savefig(buf, format="svg", bbox_inches="tight" if crop else None, metadata={"Date": None})  # reproducible bytes
    return buf.getvalue()


def _fig(fig: Figure | Callable[[], Figure], alt: str, caption: str | None = None, L: Labels | None = None,
         crop: bool = False, below: tuple[str, ...] = ()) -> HTML:
    """A figure with its description as alt text (read out by screen readers, carried into the
    PDF's structure) and as a caption in real text under it.

    Given as a function that draws it, the figure is also drawn narrow, for phones: the HTML
    shows that version on screens up to 40rem (a ``<picture>`` source; the PDF uses the page
    version). Either one is shown at its natural size, so that its smallest text (7 pt) is
    9 px or more; what is still wider than the screen scrolls sideways in its own box."""
    src = ""
    if callable(fig):
        with gc_paused():  # the drawing and its layout too (5-7 % of a chart's time)
            with charts.narrow():
                small = base64.b64encode(_svg(fig(), L, crop=crop).encode("utf-8")).decode("ascii")
            src = f"<source media='(max-width: 40rem)' srcset='data:image/svg+xml;base64,{small}'>"
            data = base64.b64encode(_svg(fig(), L, crop=crop).encode("utf-8")).decode("ascii")
    else:
        data = base64.b64encode(_svg(fig, L).encode("utf-8")).decode("ascii")
    text = html.escape(caption if caption is not None else alt)
    # "Nguồn: …" / "Ghi chú: …" lines under the caption, as a statistical publication prints them
    text += "".join(f"<span class='fig-note'>{html.escape(line)}</span>" for line in below)
    img = f"<img alt='{html.escape(alt, quote=True)}' src='data:image/svg+xml;base64,{data}'>"
    kind = "chart map" if crop else "chart"  # crop: the maps, whose printed height is capped (report.css)
    return HTML(f"<figure class='{kind}'><div class='tscroll'>{f'<picture>{src}{img}</picture>' if src else img}</div>"
                f"<figcaption>{text}</figcaption></figure>")


def _table(df: pd.DataFrame, cls: str = "", L: Labels | None = None, caption: str | None = None) -> HTML:
    """``df`` as an HTML table; with ``L``, its numbers carry that edition's decimal mark;
    ``caption`` (plain text, e.g. "Bảng 3. …") becomes the table's own caption."""
    if df.empty:  # never a table of headers alone
        return HTML("")
    # On a narrow screen a wide table scrolls inside its own box (with a shadow as the cue),
    # instead of widening the page; print and PDF lay it out at full width.
    body = df.to_html(index=False, escape=True, na_rep="—", classes=f"ptable {cls}".strip(), border=0)
    if L is not None:  # pandas' own number formatting, then the edition's decimal mark on the text
        body = re.sub(r">([^<]+)<", lambda m: ">" + L.number(m.group(1)) + "<", body)
    # the indices' names are never hyphenated in a narrow header ("SI-PAS" in the English edition)
    body = re.sub(r"<thead>.*?</thead>", lambda m: re.sub(r"\b(SIPAS|PAR INDEX)\b", r"<span class='nohy'>\1</span>",
                                                       m.group(0)), body, count=1, flags=re.S)
    if caption:  # after the numbers: a caption is text as written
        body = re.sub(r"(<table[^>]*>)", lambda m: m.group(1) + f"<caption>{html.escape(caption)}</caption>", body,
                      count=1)
    # a short table is read whole: printed on one page rather than split a few rows from its end
    # (by its text too: three rows that list fifty provinces fill most of a page, and kept whole
    # they left the page before them half empty)
    short = len(df) <= SHORT_TABLE_ROWS and sum(len(str(x)) for x in df.to_numpy().ravel()) <= SHORT_TABLE_CHARS
    keep = " keep-whole" if short else ""
    return HTML(f"<div class='tscroll{keep}'>" + body + "</div>")


def rank_cell(res, code: str, rank: object) -> object:
    """A published rank for a table: "—" where none, "22*" where the audit set it aside."""
    if rank is None or pd.isna(rank):
        return "—"
    return f"{int(rank)}{ASIDE_MARK}" if code in res.set_aside("rank") else int(rank)


def value_cell(res, code: str, text: str | None, missing: str) -> str:
    """A published value as printed ("87.66"), "87.66*" where the audit set it aside."""
    if not text:
        return missing
    return f"{text}{ASIDE_MARK}" if code in res.set_aside("value") else text


def aside_note(L: Labels, results, shown: Iterable[str] | None = None, year: int | None = None) -> str | None:
    """The note under a table or figure that prints a set-aside figure ("*"), or None; ``shown``
    limits it to the units the table prints; ``year``: the document has no audit of its own (a
    brief), and the note sends the reader to that year's report."""
    codes = set().union(*(r.set_aside("rank") | r.set_aside("value") for r in results))
    if shown is not None:
        codes &= set(shown)
    if not codes:
        return None
    return L("note.set_aside", mark=ASIDE_MARK) if year is None else L("note.set_aside_brief", mark=ASIDE_MARK, year=year)


def _bounds_cell(r: pd.Series) -> str:
    """A unit's possible range for a table: "—" where it is a single point (the value) or unknown."""
    if pd.isna(r["lo"]) or r["lo"] == r["hi"]:
        return "—"
    return bound_text(float(r["lo"]), float(r["hi"]))


def md_text(text: str) -> str:
    """User text for a Markdown cell: HTML escaped and Markdown punctuation backslashed, so a
    name like '![x](http://host/x).csv' or '<img src=...>' shows as itself."""
    escaped = html.escape(str(text), quote=True)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>])", r"\\\1", escaped)


@lru_cache(maxsize=4)
def _cached_analyse(year: int, par_index_file: str, sipas_file: str, rules_file: str = "",
                    without: str = "") -> YearAnalysis:
    return analyse(year, par_index_file or None, sipas_file or None, rules_file=rules_file or None,
                   without=without)


def L_idx(L: Labels, idx: str) -> str:
    return L(f"index_short.{idx}")
