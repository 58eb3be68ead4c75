"""User-visible text from data/labels.csv (one translation table for code, charts and reports)."""

from __future__ import annotations

from functools import lru_cache

from .errors import ParindexError

LANGS = ("vi", "en")


@lru_cache(maxsize=4)
def _table(lang: str) -> dict[str, str]:
    from .analysis import load_bundle

    lab = load_bundle().labels
    return dict(zip(lab["key"], lab[lang]))


class Labels:
    def __init__(self, lang: str = "vi"):
        if lang not in LANGS:
            raise ParindexError(f"unknown language '{lang}'", fix="use vi or en")
        self.lang = lang
        self._t = _table(lang)

    def __call__(self, key: str, **fmt: object) -> str:
        try:
            text = self._t[key]
        except KeyError:
            raise ParindexError(f"label '{key}' missing from data/labels.csv",
                                fix="add a row for it in both languages") from None
        return text.format(**fmt) if fmt else text

    def get(self, key: str, default: str) -> str:
        return self._t.get(key, default)
