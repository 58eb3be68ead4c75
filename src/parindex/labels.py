"""User-visible text: one translation table (``labels.csv`` beside this module) for code,
charts and reports.

The captions are part of the package, not of the checksummed evidence in data/: editing a
caption changes no number, so it needs no ``parindex data rehash``.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from importlib import resources

import pandas as pd

from .errors import ParindexError

LANGS = ("vi", "en")

# A decimal number standing alone: not part of a version (0.3.0), a date (21.05.2021), a
# section mark (§7.1) or a word (v1.2). Only these get the edition's decimal mark.
_DECIMAL = re.compile(r"(?<![\w.,§])(\d+)\.(\d+)(?![\w.]|,\d)")
# Template fields that carry names, file names, versions or checksums: never re-punctuated.
_FORMATTER = string.Formatter()
_VERBATIM_FIELDS = frozenset({"origin", "version", "checksums", "date", "title", "file", "path"})


@lru_cache(maxsize=1)
def read_labels() -> pd.DataFrame:
    """key, vi, en: every user-visible string in both languages."""
    with resources.files("parindex").joinpath("labels.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@lru_cache(maxsize=4)
def _table(lang: str) -> dict[str, str]:
    lab = read_labels()
    return dict(zip(lab["key"], lab[lang]))


class Labels:
    def __init__(self, lang: str = "vi"):
        if lang not in LANGS:
            raise ParindexError(f"unknown language '{lang}'", fix="use vi or en")
        self.lang = lang
        self._t = _table(lang)
        self.n_units = 63  # the number of units the year is assessed on; a report sets its own
        self.decimal_mark = self._t.get("number.decimal_mark", ".")

    def number(self, text: object) -> str:
        """Numbers in ``text`` with this edition's decimal mark: 89,21 in Vietnamese, 89.21 in
        English. The digits are kept as they are; only the mark changes."""
        s = str(text)
        if self.decimal_mark == ".":
            return s
        return _DECIMAL.sub(lambda m: f"{m.group(1)}{self.decimal_mark}{m.group(2)}", s)

    def __call__(self, key: str, **fmt: object) -> str:
        try:
            text = self._t[key]
        except KeyError:
            raise ParindexError(f"label '{key}' missing from src/parindex/labels.csv",
                                fix="add a row for it in both languages") from None
        if not fmt and "{n_units}" not in text:
            return text
        values = {"n_units": self.n_units, **fmt}
        out = []
        # each field formatted with its own spec ({p:.2f}), then given the edition's decimal mark
        for literal, field, spec, conv in _FORMATTER.parse(text):
            out.append(literal)
            if field is None:
                continue
            v = _FORMATTER.convert_field(_FORMATTER.get_field(field, (), values)[0], conv)
            v = format(v, spec or "")
            out.append(v if field in _VERBATIM_FIELDS else self.number(v))
        return "".join(out)

    def date(self, iso):
        """An ISO date (2021-05-25) as the edition writes dates: 25/05/2021 in Vietnamese, as is
        in English. Anything else (a year, a missing date) is returned unchanged."""
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso.strip()) if isinstance(iso, str) else None
        if not m:
            return iso
        return self._t.get("date.format", "{y}-{m}-{d}").format(y=m.group(1), m=m.group(2), d=m.group(3))

    def get(self, key: str, default: str) -> str:
        return self._t.get(key, default)
