"""The units an index is assessed on, by period, and every common way of writing their names.

- The 63 province-level units (data/provinces.csv) until 30 June 2025; the 34 units of
  Nghị quyết 202/2025/QH15 (data/units_2025.csv) from 1 July 2025, with the crosswalk of
  the 63 to the 34 (data/crosswalk_2025.csv). A year is assessed on the units in force on
  its last day, so 2024 (announced April 2025) has 63 and 2025 has 34.
- The ministries and ministry-level agencies (data/ministries.csv).

Matching is done on a folded key (no diacritics, no case, no punctuation, no
administrative prefix) so NFC/NFD input, old and new tone placement ("Hòa"/"Hoà") and
ASCII spellings all meet. In a year of the 34, a former unit's name is not silently
mapped: it is an error naming the unit it became part of.
"""

from __future__ import annotations

from typing import Iterable

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
from unidecode import unidecode

from ..errors import ParindexError

_PREFIXES = ("thanh pho ", "tp. ", "tp ", "tp.", "tinh ", "city of ")
_SUFFIXES = (" city", " province", " municipality")


@dataclass(frozen=True)
class Province:
    code: str
    name_vi: str
    name_ascii: str
    name_en: str
    region: str
    iso_3166_2: str

    def name(self, lang: str = "vi") -> str:
        return self.name_vi if lang == "vi" else self.name_en


def fold(text: str) -> str:
    """Reduce a province spelling to its matching key."""
    s = unicodedata.normalize("NFC", str(text)).strip().lower()
    s = unidecode(s)  # handles đ -> d and both tone placements
    s = re.sub(r"\s+", " ", s)
    changed = True
    while changed:
        changed = False
        for p in _PREFIXES:
            if s.startswith(p):
                s, changed = s[len(p):].strip(), True
        for suf in _SUFFIXES:
            if s.endswith(suf):
                s, changed = s[: -len(suf)].strip(), True
    return re.sub(r"[^a-z0-9]", "", s)


@dataclass(frozen=True)
class Successor:
    """A former unit that is part of a unit of the current set."""

    old_name: str
    new_name: str
    effective: str  # ISO date
    legal_basis: str
    merged: tuple[str, ...] = ()  # every former unit merged into new_name, this one included
    old_code: str = ""
    new_code: str = ""

    def message(self) -> str:
        y, m, d = self.effective.split("-")
        when = f"on {int(d)} {_MONTHS[int(m) - 1]} {y} ({self.legal_basis})"
        others = [n for n in self.merged if n != self.old_name]
        if self.old_name == self.new_name and others:
            # only the old code can point here (the name is the new unit's): say what merged
            who = self.old_name + (f" and {others[0]}" if len(others) == 1 else
                                   ", " + ", ".join(others[:-1]) + f" and {others[-1]}")
            code = f" (code {self.new_code})" if self.new_code else ""
            return f"code {self.old_code} is the former {self.old_name}'s: {who} merged into {self.new_name}{code} {when}"
        return f"{self.old_name} merged into {self.new_name} {when}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def _is_code(text: str) -> bool:
    """A GSO code as typed: ASCII digits only (str.isdigit also takes '²' and other scripts' digits,
    which int() then refuses), and short (a 5000-digit 'code' is past Python's int-string limit)."""
    return re.fullmatch(r"[0-9]{1,4}", text) is not None


class Registry:
    def __init__(self, table: pd.DataFrame, kind: str = "provinces",
                 successors: dict[str, Successor] | None = None, former_codes: dict[str, Successor] | None = None):
        self.kind = kind  # "provinces" or "ministries": what the units are called in messages
        self.table = table.reset_index(drop=True)
        if "region" not in self.table:
            self.table["region"] = ""
        if "iso_3166_2" not in self.table:
            self.table["iso_3166_2"] = ""
        self.successors = successors or {}  # folded spelling of a former unit -> its successor
        self.former_codes = former_codes or {}
        self.provinces: list[Province] = [
            Province(r.code, r.name_vi, r.name_ascii, r.name_en, r.region, r.iso_3166_2)
            for r in self.table.itertuples()
        ]
        self.by_code = {p.code: p for p in self.provinces}
        self._keys: dict[str, Province] = {}
        for p, aliases in zip(self.provinces, self.table["aliases"].fillna("")):
            for spelling in [p.name_vi, p.name_ascii, p.name_en, *filter(None, aliases.split("|"))]:
                key = fold(spelling)
                other = self._keys.get(key)
                if other is not None and other != p:
                    raise ParindexError(f"registry spelling '{spelling}' is ambiguous "
                                        f"({other.name_vi} / {p.name_vi})",
                                        fix="make the alias unique in data/provinces.csv")
                self._keys[key] = p

    def __len__(self) -> int:
        return len(self.provinces)

    def __iter__(self):
        return iter(self.provinces)

    def lookup(self, spelling: object) -> Province | None:
        """The province a name or GSO code refers to, or None."""
        if spelling is None or (isinstance(spelling, float) and pd.isna(spelling)):
            return None
        text = str(spelling).strip()
        if isinstance(spelling, (int, float)) and float(spelling).is_integer():
            text = str(int(spelling))
        if _is_code(text):
            return self.by_code.get(str(int(text)).zfill(2))
        return self._keys.get(fold(text))

    def codes(self, spellings: Iterable[object]) -> pd.Series:
        """The unit code of each name or code as typed (any registry spelling, with or without
        diacritics, the English name, an alias), <NA> where none matches: the key to join another
        table of provinces (PAPI, PCI, one's own) on, e.g.
        ``papi.assign(code=reg.codes(papi["province"])).merge(results, on="code")``."""
        items = list(spellings)
        found = [self.lookup(x) for x in items]
        return pd.Series([pd.NA if p is None else p.code for p in found],
                         index=getattr(spellings, "index", None), dtype="string")

    def frame(self) -> pd.DataFrame:
        """One row per unit: code (the GSO code; Quyết định 19/2025/QĐ-TTg's from 2025), names in
        Vietnamese, without diacritics and in English, region, ISO 3166-2 code and aliases."""
        cols = [c for c in ("code", "name_vi", "name_ascii", "name_en", "unit_type", "region", "iso_3166_2",
                            "aliases", "valid_from", "source_id") if c in self.table]
        out = self.table[cols].copy()
        for c in ("region", "iso_3166_2", "aliases"):
            if c in out:
                out[c] = out[c].astype("string").replace("", pd.NA)
        return out

    def suggest(self, spelling: object, n: int = 3) -> list[str]:
        keys = difflib.get_close_matches(fold(str(spelling)), list(self._keys), n=n * 3, cutoff=0.6)
        names: list[str] = []
        for k in keys:
            name = self._keys[k].name_vi
            if name not in names:
                names.append(name)
        return names[:n]

    def resolve(self, spelling: object, *, file: str | None = None, row: int | None = None,
                column: str | None = None) -> Province:
        """Like lookup, but an unknown name is an error that suggests the closest names.

        A former unit's name or code in a year of the current set names its successor."""
        p = self.lookup(spelling)
        if p is not None:
            return p
        text = str(spelling).strip()
        succ = self.former_codes.get(str(int(text)).zfill(2)) if _is_code(text) else self.successors.get(fold(text))
        if succ is not None:
            raise ParindexError(succ.message(), file=file, row=row, column=column,
                                fix=f"write the row for {succ.new_name}, the unit assessed from then on")
        hint = self.suggest(spelling)
        what = "ministry" if self.kind == "ministries" else "province"
        file_ = "units_2025" if self.successors else self.kind
        where = f"use a {what} name from data/{file_}.csv" + (" or its two-digit code" if what == "province" else "")
        fix = ("did you mean " + " or ".join(f"'{h}'" for h in hint) + "?") if hint else where
        raise ParindexError(f"unknown {what} '{spelling}'", fix=fix, file=file, row=row, column=column)


@lru_cache(maxsize=4)
def _load(path: Path) -> Registry:
    from .datapackage import read_resource

    return Registry(read_resource("provinces", data_dir=path))


@lru_cache(maxsize=4)
def _load_2025(path: Path) -> Registry:
    from .datapackage import read_resource

    units = read_resource("units_2025", data_dir=path)
    former = _load(path)
    cross = read_resource("crosswalk_2025", data_dir=path)
    new_keys = {fold(n) for n in units["name_vi"]}
    for a in units["aliases"].dropna():
        new_keys |= {fold(x) for x in str(a).split("|") if x}
    successors: dict[str, Successor] = {}
    codes: dict[str, Successor] = {}
    new_codes = set(units["code"])
    code_of = dict(zip(units["name_vi"], units["code"]))
    merged = {new: tuple(former.by_code[c].name_vi for c in cross.loc[cross["new_province"] == new, "old_code"])
              for new in cross["new_province"].unique()}
    for r in cross.itertuples():
        old = former.by_code[r.old_code]
        s = Successor(old.name_vi, r.new_province, r.effective, r.legal_basis, merged[r.new_province], r.old_code,
                      str(code_of.get(r.new_province, "")))
        spellings = [old.name_vi, old.name_ascii, old.name_en,
                     *filter(None, str(former.table.loc[former.table["code"] == r.old_code, "aliases"].fillna("").iloc[0]).split("|"))]
        for sp in spellings:
            if fold(sp) not in new_keys:
                successors[fold(sp)] = s
        if r.old_code not in new_codes:
            codes[r.old_code] = s
    return Registry(units, successors=successors, former_codes=codes)


@lru_cache(maxsize=4)
def _load_ministries(path: Path) -> Registry:
    from .datapackage import read_resource

    return Registry(read_resource("ministries", data_dir=path), kind="ministries")


def default_registry() -> Registry:
    """The 63 province-level units (2012-2024)."""
    from .paths import data_dir

    return _load(data_dir())


def first_year_of_2025_units() -> int:
    """The first assessment year whose last day falls in the period of the 34 units."""
    from .paths import data_dir

    return _first_year_2025(data_dir())


@lru_cache(maxsize=4)  # as the registries are: asked for at every table a document prints
def _first_year_2025(path: Path) -> int:
    from .datapackage import read_resource

    start = str(read_resource("units_2025", data_dir=path)["valid_from"].min())
    return int(start[:4])  # in force on 31 December of that year


def registry_for(year: int, units: str = "provinces") -> Registry:
    """The units a year is assessed on: the 63, the 34 from 2025, or the ministries."""
    from .paths import data_dir

    if units == "ministries":
        return _load_ministries(data_dir())
    return _load_2025(data_dir()) if year >= first_year_of_2025_units() else _load(data_dir())


def crosswalk() -> pd.DataFrame:
    """The 63 former units with the code and name of their 2025 successor."""
    from .datapackage import read_resource
    from .paths import data_dir

    cw = read_resource("crosswalk_2025", data_dir=data_dir())
    new = _load_2025(data_dir())
    cw["new_code"] = [new.resolve(n).code for n in cw["new_province"]]
    return cw
