"""Vietnamese dictionary order for names, in both editions.

Code-point order puts "Điện Biên" after "Vĩnh Phúc" and "Bình Định" before "Bạc Liêu". Vietnamese
dictionaries order by letters first, the alphabet being

    a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y

(ă, â, đ, ê, ô, ơ, ư are letters of their own, not accented a, d, e, o, u), and only then by the tone
marks, in the order ngang (none), huyền (`), hỏi (?), ngã (~), sắc (´), nặng (.). A space sorts
before any letter, so syllable by syllable "Bà Rịa" comes before "Bạc Liêu". Letters outside the
alphabet (f, j, w, z) take their Latin place; digits come before letters; other characters
(hyphens, dots) are ignored at the first level. The administrative prefix of a city's name
("TP. Hồ Chí Minh", "Thành phố Hồ Chí Minh") is not part of the name: it files under H, as in
an index of place names.

A small, documented implementation rather than ICU: the rule is short and fixed, and a
dependency with a C library would be needed for nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

_CITY_PREFIX = re.compile(r"^(TP\.|Tp\.|Thành phố)\s+")

# The alphabet with the four Latin letters Vietnamese does not use, in Latin order.
_LETTERS = ["a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n",
            "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z"]
_RANK = {c: i + 11 for i, c in enumerate(_LETTERS)}  # 0: space, 1-10: digits
# Combining marks that make a letter (kept with the base letter) and tone marks (second level).
_LETTER_MARKS = {"\u0306": "̆", "\u0302": "̂", "\u031b": "̛"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _letters(text: str) -> Iterable[tuple[str, int]]:
    """(letter, tone) per letter of the text, lower-cased, with the tone taken off."""
    for ch in unicodedata.normalize("NFC", text).lower():
        d = unicodedata.normalize("NFD", ch)
        base, marks = d[0], d[1:]
        tone = 0
        letter_marks = ""
        for m in marks:
            if m in _TONES:
                tone = _TONES[m]
            elif m in _LETTER_MARKS:
                letter_marks += m
        yield unicodedata.normalize("NFC", base + letter_marks), tone


def sort_key(text: object) -> tuple:
    """A key for sorted(): letters first, then each syllable's tone, then the text itself.

    A tone belongs to its syllable, not to a letter, so "Hòa" and "Hoà" (old and new
    placement) sort together."""
    s = "" if text is None else str(text)
    name = _CITY_PREFIX.sub("", unicodedata.normalize("NFC", s))
    primary: list[int] = []
    tones: list[int] = []
    tone, in_syllable = 0, False
    for letter, t in _letters(name):
        if letter.isalpha():
            primary.append(_RANK.get(letter, 100 + ord(letter)))  # another script: after the alphabet
            tone, in_syllable = max(tone, t), True
            continue
        if in_syllable:
            tones.append(tone)
            tone, in_syllable = 0, False
        if letter == " ":
            primary.append(0)
        elif letter in "0123456789":
            primary.append(1 + int(letter))
        # punctuation: ignored at the first level
    if in_syllable:
        tones.append(tone)
    return tuple(primary), tuple(tones), s


def vsorted(names: Iterable, key=None) -> list:
    """Names (or items, with ``key`` giving the name) in Vietnamese dictionary order."""
    if key is None:
        return sorted(names, key=sort_key)
    return sorted(names, key=lambda x: sort_key(key(x)))


def series_key(s):
    """For pandas ``sort_values(key=...)``: the same order on a Series of names."""
    import pandas as pd

    return pd.Series([sort_key(x) for x in s], index=s.index, dtype=object)


def by_name(s):
    """``sort_values(key=by_name)``: Vietnamese order for the name columns, others unchanged."""
    return series_key(s) if s.name in ("province", "unit", "old_province", "name") else s
