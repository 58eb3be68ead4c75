"""What the HTML page's sortable tables need, computed here rather than in the browser.

The page's one script (pages.SORT_SCRIPT) only compares keys: each cell carries a machine-readable
``data-sort`` number, so that a value printed "83,93" in the Vietnamese edition sorts as 83.93, and a
name sorts by its place in the Vietnamese dictionary order of ``parindex.collate`` ("TP. Hồ Chí
Minh" under H), the order of every list in the report. A table also gets a download of itself as CSV, as a
``data:`` link: the page stays free of requests.

Kept free of nbconvert, matplotlib and WeasyPrint imports, like pages.py.
"""

from __future__ import annotations

import base64
import html
import re
from typing import Iterable

import pandas as pd

from ..data.collate import sort_key

# A number at the start of a cell as the library writes it (always with a dot, before the
# edition's decimal mark is applied): "85.33", "≈83", "13", the lower end of "85.33–85.72", the
# first reference of "[3, 7]".
_NUMBER = re.compile(r"^\s*[\[≈]?\s*([-+]?\d+(?:\.\d+)?)")
_TBODY = re.compile(r"<tbody>.*?</tbody>", re.S)
_THEAD = re.compile(r"<thead>.*?</thead>", re.S)


def _number(text: str) -> float | None:
    m = _NUMBER.match(text)
    return float(m.group(1)) if m else None


def name_key(text: object) -> str:
    """``collate.sort_key`` as a string that orders the same way compared character by character
    (as a browser compares strings): the letters' ranks at a fixed width (any code point fits),
    then the tones, then the text."""
    primary, tones, s = sort_key(text)
    return "".join(f"{p:07d}" for p in primary) + " " + "".join(map(str, tones)) + " " + s


def sort_keys(df: pd.DataFrame, missing: Iterable[str]) -> tuple[list[str], list[list[str]]]:
    """Per column "number" or "text", and per cell its key, always a number: the cell's own in a
    numeric column (every cell that is not a ``missing`` marker starts with a number), its place
    in the column's Vietnamese order in a text column. A missing cell's key is empty (the script
    puts it last, whichever the direction)."""
    gone = {str(m) for m in missing} | {""}
    kinds: list[str] = []
    cols: list[list[str]] = []
    for j in range(df.shape[1]):
        texts = ["" if pd.isna(v) else str(v) for v in df.iloc[:, j]]
        present = [t for t in texts if t not in gone]
        numeric = bool(present) and all(_number(t) is not None for t in present)
        kinds.append("number" if numeric else "text")
        if numeric:
            cols.append(["" if t in gone else repr(_number(t)) for t in texts])
        else:  # a text's place in the column's Vietnamese order: a short key, compared as a number
            place = {k: i for i, k in enumerate(sorted({name_key(t) for t in present}))}
            cols.append(["" if t in gone else str(place[name_key(t)]) for t in texts])
    return kinds, [list(row) for row in zip(*cols)]


def sortable(table_html: str, df: pd.DataFrame, missing: Iterable[str]) -> str:
    """``table_html`` (``df`` as written by pandas' to_html) with each header's sort type and each
    body cell's sort key as attributes."""
    kinds, keys = sort_keys(df, missing)
    flat = iter(k for row in keys for k in row)
    heads = iter(kinds)

    def th(m: re.Match) -> str:
        return f"<th data-sort-type='{next(heads)}'"

    def body(m: re.Match) -> str:
        return re.sub(r"<td(?=[ >])", lambda _: f"<td data-sort='{html.escape(next(flat), quote=True)}'", m.group(0))

    out = _THEAD.sub(lambda m: re.sub(r"<th(?=[ >])", th, m.group(0)), table_html, count=1)
    return _TBODY.sub(body, out, count=1)


def csv_link(df: pd.DataFrame, filename: str, text: str, missing: Iterable[str]) -> str:
    """A link that saves ``df`` as a CSV file (UTF-8 with a byte-order mark, which spreadsheet
    programs need to read Vietnamese letters), the data inside the link: no request."""
    gone = {str(m) for m in missing}
    clean = df.map(lambda v: "" if pd.isna(v) or str(v) in gone else str(v))
    data = ("\ufeff" + clean.to_csv(index=False, lineterminator="\r\n")).encode("utf-8")
    href = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    return (f"<p class='download'><a href='{href}' download='{html.escape(filename, quote=True)}'>"
            f"{html.escape(text)}</a></p>")
