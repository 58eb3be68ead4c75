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

from ..errors import ParindexError

LANGS = ("vi", "en")

# A number standing alone: not part of a version (0.3.0), a date (21.05.2021), a section mark
# (§7.1) or a word (v1.2), and one that ends a sentence (89.21.) too; its minus only where it
# stands before the digits, not in a range (2020-2024) or a code (VN-44). Only these get the
# edition's typography.
_NUMBER = re.compile(r"(?<![\w.,§])(?P<minus>(?<![\w.,§/\-])-)?(?P<int>\d+)(?:\.(?P<frac>\d+))?(?!\w|[.,]\w)")
MINUS = "\u2212"
# Digits are grouped in threes from five digits up (35.000, 85.600; 35,000 in English): a year
# (2020) never is. In the Vietnamese edition each group's dot is followed by a word joiner
# (U+2060, zero width, in the report's font): text is sometimes given its typography twice (a
# label put in a table cell), and without the joiner a second pass would read 35.000 as the
# decimal 35,000. With it, the second pass leaves the number as it is.
GROUP_FROM_DIGITS = 5
_WORD_JOINER = "\u2060"
# Template fields that carry names, file names, versions or checksums: never re-punctuated.
_FORMATTER = string.Formatter()
_VERBATIM_FIELDS = frozenset({"origin", "version", "checksums", "date", "title", "file", "path"})
# counts of draws and resamples: grouped from four digits (2.000 lần), which a year never is
_COUNT_FIELDS = frozenset({"draws", "boot"})


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
        self.thousands_sep = "." if self.decimal_mark == "," else ","

    def number(self, text: object) -> str:
        """Numbers in ``text`` in this edition's typography: its decimal mark (89,21 in Vietnamese,
        89.21 in English), its thousands separator from five digits up (35.000; 35,000) and a
        true minus sign (−2,94; −2.94). The digits are kept as they are. The one number
        formatter of the package: labels, tables and figures all pass through it."""
        s = str(text)
        if not any(c.isdigit() for c in s):
            return s
        return _NUMBER.sub(lambda m: self._typeset(m, s), s)

    def count(self, n: int) -> str:
        """A count grouped from four digits (2.000; 2,000): a year is never passed here."""
        sep = self.thousands_sep + (_WORD_JOINER if self.thousands_sep == "." else "")
        return f"{n:,d}".replace(",", sep)

    def _typeset(self, m: re.Match, s: str) -> str:
        whole, frac = m.group("int"), m.group("frac")
        before = s[m.start() - 1] if m.start() > 0 else ""
        after = s[m.end()] if m.end() < len(s) else ""
        # not in a path, a web address or a hyphenated code: /1720781/, post-2155771.html
        if len(whole) >= GROUP_FROM_DIGITS and whole[0] != "0" and before not in ("/", "-") and after != "/":
            sep = self.thousands_sep + (_WORD_JOINER if self.thousands_sep == "." else "")
            head = len(whole) % 3 or 3
            whole = whole[:head] + "".join(sep + whole[i:i + 3] for i in range(head, len(whole), 3))
        out = (MINUS if m.group("minus") else "") + whole
        return out + (self.decimal_mark + frac if frac is not None else "")

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
            if field in _COUNT_FIELDS and v.isdigit():
                v = self.count(int(v))
            out.append(v if field in _VERBATIM_FIELDS | _COUNT_FIELDS else self.number(v))
        return "".join(out)

    def date(self, iso):
        """An ISO date (2021-05-25) as the edition writes dates: 25/05/2021 in Vietnamese, as is
        in English. Anything else (a year, a missing date) is returned unchanged."""
        if iso is None or (not isinstance(iso, str) and pd.isna(iso)) or (isinstance(iso, str) and not iso.strip()):
            return self("date.unknown")  # never '<NA>' or 'nan' on a page
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso.strip()) if isinstance(iso, str) else None
        if not m:
            return iso
        y, mo, d = m.group(1), m.group(2), m.group(3)
        # "25/05/2021"; "25 May 2021": a reader's date, never the ISO form, in either edition
        return self._t.get("date.format", "{y}-{m}-{d}").format(
            y=y, m=mo, d=d, day=int(d), month=self._t.get(f"month.{int(mo)}", mo))

    def get(self, key: str, default: str) -> str:
        return self._t.get(key, default)
