"""A disk cache for the joint inference: the one piece of speed machinery behind the analysis.

An inference is a pure function of the table, the year's facts, tiers and rules, the
assumption switch and the code that computes it. The key hashes all of them (the source of
the inference's modules and the solver's version included), so a cached answer is never stale: change
any input and the key changes. ``PARINDEX_CACHE=off`` disables the cache, ``PARINDEX_CACHE=DIR``
moves it.

Entries are data, never code: JSON with a format version and the key they answer, written
atomically. Reading one can build only parindex's own dataclasses (and enums) and plain
values (numbers, strings, lists, tuples, sets, dicts, Fractions, numpy scalars and arrays,
pandas frames and series); anything else, an unreadable or foreign entry, an entry of
another version or another key is ignored and the answer recomputed. (Pickle, used before,
runs whatever a planted file tells it to.) The encoding is generic, so it follows the
inference's dataclasses as they change; a value it cannot encode is simply not cached.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
import json
import math
import os
import tempfile
from fractions import Fraction
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")
# the joint inference, split by job (claims, model, solving, ...): every part is in the key
_SOURCES = tuple(Path(__file__).with_name(f"{m}.py") for m in
                 ("claims", "cores", "milp", "model", "solving", "conflicts", "answers", "inference"))
FORMAT = "parindex-inference-cache"
VERSION = 1
MAX_ENTRY_BYTES = 16 * 1024 * 1024  # entries are ~100 KB; a planted giant file is not read into memory


def cache_dir() -> Path | None:
    env = os.environ.get("PARINDEX_CACHE", "")
    if env.lower() in ("off", "0", "no"):
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "parindex"


def key(*parts: object) -> str:
    h = hashlib.sha256()
    for source in _SOURCES:
        h.update(source.read_bytes())
    h.update(version("scipy").encode())
    h.update(version("highspy").encode())
    for p in parts:
        if isinstance(p, pd.DataFrame):
            h.update(pd.util.hash_pandas_object(p.astype(str), index=True).values.tobytes())
            h.update(repr(list(p.columns)).encode())
        else:
            h.update(repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()


# Encoding -------------------------------------------------------------------------------------

class Unreadable(ValueError):
    """An entry that is not one this version of parindex wrote: recompute."""


def _own_class(name: str) -> type:
    """A class named in an entry: only parindex's own dataclasses and enums are ever built."""
    module, _, qual = name.partition(":")
    if not (module == "parindex" or module.startswith("parindex.")) or not qual:
        raise Unreadable(f"class {name!r} is not parindex's")
    try:
        obj: Any = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise Unreadable(str(e)) from None
    if not isinstance(obj, type) or not (dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum)):
        raise Unreadable(f"{name!r} is not a dataclass")
    return obj


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _float(x: float) -> object:
    return x if math.isfinite(x) else {"$float": repr(x)}  # nan, inf: not JSON numbers


_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float: the only array dtypes kept


def encode(v: object) -> object:
    """A JSON-able tree for ``v``; TypeError for what cannot be written as data."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int) and not isinstance(v, bool) and type(v) is int:
        return v
    if type(v) is float:
        return _float(v)
    if v is pd.NA:
        return {"$na": 1}
    if v is pd.NaT:
        return {"$nat": 1}
    if isinstance(v, np.generic):
        if v.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"numpy scalar of dtype {v.dtype}")
        item = v.item()
        return {"$np": v.dtype.str, "v": _float(item) if isinstance(item, float) else item}
    if isinstance(v, np.ndarray):
        if v.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"numpy array of dtype {v.dtype}")
        return {"$ndarray": v.dtype.str, "shape": list(v.shape), "v": [encode(x) for x in v.ravel().tolist()]}
    if isinstance(v, Fraction):
        return {"$fraction": [str(v.numerator), str(v.denominator)]}
    if isinstance(v, enum.Enum):
        return {"$enum": _name(type(v)), "v": encode(v.value)}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {"$dc": _name(type(v)), "f": {f.name: encode(getattr(v, f.name)) for f in dataclasses.fields(v)}}
    if type(v) is tuple:
        return {"$tuple": [encode(x) for x in v]}
    if type(v) is list:
        return [encode(x) for x in v]
    if type(v) in (set, frozenset):
        items = [encode(x) for x in v]
        items.sort(key=lambda x: json.dumps(x, sort_keys=True))  # the same entry for the same set
        return {"$frozenset" if type(v) is frozenset else "$set": items}
    if type(v) is dict:
        return {"$dict": [[encode(k), encode(x)] for k, x in v.items()]}
    if isinstance(v, pd.DataFrame):
        return {"$df": {"index": _encode_index(v.index), "columns": _encode_index(v.columns),
                        "data": [_encode_series(v.iloc[:, i]) for i in range(v.shape[1])]}}
    if isinstance(v, pd.Series):
        return {"$series": _encode_series(v), "index": _encode_index(v.index), "name": encode(v.name)}
    if isinstance(v, pd.Index):
        return {"$index": _encode_index(v)}
    raise TypeError(f"cannot cache a {type(v).__module__}.{type(v).__qualname__}")


def _encode_series(s: pd.Series) -> dict:
    return {"dtype": str(s.dtype), "v": [encode(x) for x in s.tolist()]}


def _encode_index(ix: pd.Index) -> dict:
    if isinstance(ix, pd.MultiIndex):
        return {"multi": [encode(n) for n in ix.names], "v": [encode(t) for t in ix.tolist()]}
    if isinstance(ix, pd.RangeIndex):
        return {"range": [ix.start, ix.stop, ix.step], "name": encode(ix.name)}
    return {"dtype": str(ix.dtype), "name": encode(ix.name), "v": [encode(x) for x in ix.tolist()]}


def decode(t: object) -> object:
    """The value ``encode`` wrote; Unreadable for anything else."""
    if t is None or isinstance(t, (bool, int, float, str)):
        return t
    if isinstance(t, list):
        return [decode(x) for x in t]
    if not isinstance(t, dict) or not t:
        raise Unreadable("not an encoded value")
    tag = next(iter(t))
    try:
        if tag == "$float":
            if t[tag] not in ("nan", "inf", "-inf"):
                raise Unreadable("$float")
            return float(t[tag])
        if tag == "$na":
            return pd.NA
        if tag == "$nat":
            return pd.NaT
        if tag == "$np":
            dtype = np.dtype(t[tag])
            if dtype.kind not in _NUMERIC_KINDS:
                raise Unreadable(f"dtype {dtype}")
            return dtype.type(decode(t["v"]))
        if tag == "$ndarray":
            dtype = np.dtype(t[tag])
            if dtype.kind not in _NUMERIC_KINDS:
                raise Unreadable(f"dtype {dtype}")
            return np.array([decode(x) for x in t["v"]], dtype=dtype).reshape([int(n) for n in t["shape"]])
        if tag == "$fraction":
            num, den = t[tag]
            return Fraction(int(num), int(den))
        if tag == "$enum":
            return _own_class(t[tag])(decode(t["v"]))
        if tag == "$dc":
            cls = _own_class(t[tag])
            names = {f.name for f in dataclasses.fields(cls)}
            values = t["f"]
            if not isinstance(values, dict) or set(values) != names:
                raise Unreadable(f"fields of {t[tag]} differ")
            obj = cls.__new__(cls)
            for name, x in values.items():
                object.__setattr__(obj, name, decode(x))  # frozen ones too; no __init__ side effects
            return obj
        if tag == "$tuple":
            return tuple(decode(x) for x in t[tag])
        if tag == "$set":
            return {decode(x) for x in t[tag]}
        if tag == "$frozenset":
            return frozenset(decode(x) for x in t[tag])
        if tag == "$dict":
            return {decode(k): decode(x) for k, x in t[tag]}
        if tag == "$df":
            d = t[tag]
            index, columns = _decode_index(d["index"]), _decode_index(d["columns"])
            series = [_decode_series(x) for x in d["data"]]
            if any(len(x) != len(index) for x in series) or len(series) != len(columns):
                raise Unreadable("frame shape")
            # arrays, not Series: placed by position, with their own dtypes
            df = pd.DataFrame({i: x.array for i, x in enumerate(series)}, index=index)
            df.columns = columns
            return df
        if tag == "$series":
            x, index = _decode_series(t[tag]), _decode_index(t["index"])
            if len(x) != len(index):
                raise Unreadable("series length")
            return pd.Series(x.array, index=index, name=decode(t["name"]))
        if tag == "$index":
            return _decode_index(t[tag])
    except Unreadable:
        raise
    except (KeyError, TypeError, ValueError, IndexError, OverflowError, AttributeError) as e:
        raise Unreadable(f"{tag}: {e}") from None
    raise Unreadable(f"unknown tag {tag!r}")


def _decode_series(d: dict) -> pd.Series:
    values = [decode(x) for x in d["v"]]
    dtype = str(d["dtype"])
    if dtype == "object":
        return pd.Series(values, dtype=object)
    return pd.Series(pd.array(values, dtype=dtype) if values else pd.array([], dtype=dtype))


def _decode_index(d: dict) -> pd.Index:
    if "range" in d:
        start, stop, step = (int(x) for x in d["range"])
        return pd.RangeIndex(start, stop, step, name=decode(d["name"]))
    if "multi" in d:
        return pd.MultiIndex.from_tuples([decode(x) for x in d["v"]], names=[decode(n) for n in d["multi"]])
    return pd.Index(_decode_series({"dtype": d["dtype"], "v": d["v"]}).array, name=decode(d["name"]))


# The cache --------------------------------------------------------------------------------

def _read(path: Path, k: str) -> object:
    with path.open("rb") as fh:
        raw = fh.read(MAX_ENTRY_BYTES + 1)
    if len(raw) > MAX_ENTRY_BYTES:
        raise Unreadable("too large")
    doc = json.loads(raw.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION \
            or doc.get("key") != k or "value" not in doc:
        raise Unreadable("another format, version or key")
    return decode(doc["value"])


def _lookup(k: str) -> tuple[Path | None, object]:
    """(where the entry for ``k`` goes, its value or _MISSING)."""
    folder = cache_dir()
    if folder is None:
        return None, _MISSING
    path = folder / f"{k}.json"
    try:
        return path, _read(path, k)
    except (OSError, ValueError, RecursionError):  # Unreadable and JSON errors are ValueErrors
        return path, _MISSING


def _store(path: Path, k: str, value: object) -> None:
    try:
        text = json.dumps({"format": FORMAT, "version": VERSION, "key": k, "value": encode(value)},
                          ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return  # something this encoding does not know: computed, not cached
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass  # a read-only home is no reason to fail: the answer is computed anyway


_MISSING = object()


def cached(k: str, compute: Callable[[], T]) -> T:
    path, value = _lookup(k)
    if value is not _MISSING:
        return value  # type: ignore[return-value]
    value = compute()
    if path is not None:
        _store(path, k, value)
    return value


def cached_items(k: str, items: list, compute: Callable[[list], list]) -> dict:
    """``{item: answer}`` for ``items``, where ``compute(missing)`` answers a list of items in
    order. One entry per key holds every item answered so far, so a question asked before in
    another set (a report's few places, then a review's every place) is not solved again. Two
    processes adding to one entry at once may keep only one's additions: a later ask solves the
    others again, never answers wrongly."""
    path, known = _lookup(k)
    have = dict(known) if isinstance(known, list) else {}
    missing = [x for x in dict.fromkeys(items) if x not in have]
    if missing:
        have.update(zip(missing, compute(missing)))
        if path is not None:
            _store(path, k, sorted(have.items(), key=lambda kv: repr(kv[0])))  # any items, one order
    return {x: have[x] for x in items}
