"""User-visible text: one translation table (``labels.csv`` beside this module) for code,
charts and reports.

The captions are part of the package, not of the checksummed evidence in data/: editing a
caption changes no number, so it needs no ``parindex data rehash``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

from .errors import ParindexError

LANGS = ("vi", "en")


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

    def __call__(self, key: str, **fmt: object) -> str:
        try:
            text = self._t[key]
        except KeyError:
            raise ParindexError(f"label '{key}' missing from src/parindex/labels.csv",
                                fix="add a row for it in both languages") from None
        if not fmt and "{n_units}" not in text:
            return text
        return text.format(**{"n_units": self.n_units, **fmt})

    def get(self, key: str, default: str) -> str:
        return self._t.get(key, default)
