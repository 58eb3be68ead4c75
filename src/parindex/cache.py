"""A disk cache for the joint inference: the one piece of speed machinery behind the analysis.

An inference is a pure function of the table, the year's facts, tiers and rules, the
assumption switch and the code that computes it. The key hashes all of them (the source of
inference.py and the solver's version included), so a cached answer is never stale: change
any input and the key changes. Entries are written atomically; an unreadable entry is
recomputed. ``PARINDEX_CACHE=off`` disables the cache, ``PARINDEX_CACHE=DIR`` moves it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Callable, TypeVar

import pandas as pd

T = TypeVar("T")
_SOURCE = Path(__file__).with_name("inference.py")


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
    h.update(_SOURCE.read_bytes())
    h.update(version("scipy").encode())
    for p in parts:
        if isinstance(p, pd.DataFrame):
            h.update(pd.util.hash_pandas_object(p.astype(str), index=True).values.tobytes())
            h.update(repr(list(p.columns)).encode())
        else:
            h.update(repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()


def cached(k: str, compute: Callable[[], T]) -> T:
    folder = cache_dir()
    if folder is None:
        return compute()
    path = folder / f"{k}.pickle"
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        pass
    value = compute()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass  # a read-only home is no reason to fail: the answer is computed anyway
    return value
