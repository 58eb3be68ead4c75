"""The 63 province-level units and every common way of writing their names.

One source of truth: data/provinces.csv. Matching is done on a folded key (no
diacritics, no case, no punctuation, no administrative prefix) so NFC/NFD input, old
and new tone placement ("Hòa"/"Hoà") and ASCII spellings all meet.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
from unidecode import unidecode

from .errors import ParindexError

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


class Registry:
    def __init__(self, table: pd.DataFrame):
        self.table = table.reset_index(drop=True)
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
        if text.isdigit():
            return self.by_code.get(str(int(text)).zfill(2))
        return self._keys.get(fold(text))

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
        """Like lookup, but an unknown name is an error that suggests the closest names."""
        p = self.lookup(spelling)
        if p is not None:
            return p
        hint = self.suggest(spelling)
        fix = ("did you mean " + " or ".join(f"'{h}'" for h in hint) + "?") if hint else \
            "use a province name from data/provinces.csv or its two-digit GSO code"
        raise ParindexError(f"unknown province '{spelling}'", fix=fix, file=file, row=row,
                            column=column)


@lru_cache(maxsize=4)
def _load(path: Path) -> Registry:
    from .datapackage import read_resource

    return Registry(read_resource("provinces", data_dir=path))


def default_registry() -> Registry:
    from .paths import data_dir

    return _load(data_dir())
