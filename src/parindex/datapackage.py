"""Read the bundled data package (data/datapackage.json) with checksum verification.

The descriptor follows the Frictionless Data Package layout; every resource carries a
``hash`` ("sha256:<hex>") and ``bytes``. A file whose bytes differ from the recorded
hash is refused: the numbers in a report must be the numbers that were reviewed.
After a deliberate edit, ``parindex data rehash`` records the new checksums.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .errors import DataPackageError

_PANDAS_TYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
                 "date": "string"}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _default_dir(data_dir: Path | None) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    from .paths import data_dir as find

    return find()


@lru_cache(maxsize=8)
def _descriptor(path: Path, mtime: float) -> dict:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def descriptor(data_dir: Path | None = None) -> dict:
    p = _default_dir(data_dir) / "datapackage.json"
    return _descriptor(p, p.stat().st_mtime)


def resource(name: str, data_dir: Path | None = None) -> dict:
    for r in descriptor(data_dir)["resources"]:
        if r["name"] == name:
            return r
    raise DataPackageError(f"data package has no resource '{name}'",
                           fix="restore data/datapackage.json from git")


def verify(name: str, data_dir: Path | None = None) -> Path:
    """Path of a resource's file after checking its checksum."""
    base = _default_dir(data_dir)
    res = resource(name, base)
    path = base / res["path"]
    if not path.is_file():
        raise DataPackageError("file listed in data/datapackage.json is missing",
                               fix="restore it from git", file=str(path))
    expected = res.get("hash", "").removeprefix("sha256:")
    actual = sha256(path)
    if expected != actual:
        raise DataPackageError(
            f"checksum mismatch: expected sha256 {expected[:12]}…, file has {actual[:12]}…",
            fix="restore the file from git, or after a reviewed edit run 'parindex data rehash'",
            file=str(path))
    return path


@lru_cache(maxsize=32)
def _read(path: Path, digest: str, fields: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    missing = [n for n, _ in fields if n not in df.columns]
    if missing:
        raise DataPackageError(f"columns {missing} described in datapackage.json are missing",
                               fix="restore the file from git", file=str(path), row=1)
    out = pd.DataFrame(index=df.index)
    for name, typ in fields:
        col = df[name]
        if typ == "boolean":
            out[name] = col.str.lower().map({"true": True, "false": False}).astype("boolean")
        elif typ in ("integer", "number"):
            out[name] = pd.to_numeric(col, errors="raise").astype(_PANDAS_TYPES[typ])
        else:
            out[name] = col.astype("string")
    # Keep the published text of values too: "91.8" and "91.80" differ in stated precision.
    if "value" in df.columns and dict(fields).get("value") == "number":
        out["value_text"] = df["value"].astype("string")
    return out


def read_resource(name: str, data_dir: Path | None = None) -> pd.DataFrame:
    """A resource as a typed DataFrame (copy), after checksum verification."""
    base = _default_dir(data_dir)
    path = verify(name, base)
    fields = tuple((f["name"], f["type"]) for f in resource(name, base)["schema"]["fields"])
    return _read(path, sha256(path), fields).copy()


def checksums(data_dir: Path | None = None) -> dict[str, str]:
    """Resource name -> recorded sha256, for the report's provenance line."""
    return {r["name"]: r.get("hash", "").removeprefix("sha256:") for r in descriptor(data_dir)["resources"]}


def validate_package(data_dir: Path | None = None) -> None:
    """Frictionless validation of every resource against its schema (types, constraints, keys,
    foreign keys), ignoring the recorded checksums: what ``rehash`` is about to replace."""
    try:
        from frictionless import Package
    except ImportError:
        raise DataPackageError("frictionless is needed to validate data/ before recording checksums",
                               fix="pip install -r requirements.lock") from None
    base = _default_dir(data_dir)
    with (base / "datapackage.json").open(encoding="utf-8") as fh:
        pkg = json.load(fh)
    for r in pkg["resources"]:
        r.pop("hash", None)
        r.pop("bytes", None)
    report = Package(pkg, basepath=str(base)).validate()
    for task in report.tasks:
        if task.errors:
            err = task.errors[0]
            cell = getattr(err, "cell", None)
            problem = f"'{cell}' does not fit the schema ({err.type})" if cell is not None else f"{err.type}: {err.note}"
            raise DataPackageError(problem, file=str(base / task.place),
                                   row=getattr(err, "row_number", None), column=getattr(err, "field_name", None),
                                   fix="correct the data, then run 'parindex data rehash' again")
    if report.errors:
        raise DataPackageError(f"{report.errors[0].type}: {report.errors[0].note}", file=str(base / "datapackage.json"),
                               fix="correct the descriptor, then run 'parindex data rehash' again")


def rehash(data_dir: Path | None = None, validate: bool = True) -> list[str]:
    """Validate the package, then record current checksums and sizes; returns the names whose hash changed."""
    base = _default_dir(data_dir)
    if validate:
        validate_package(base)
    path = base / "datapackage.json"
    with path.open(encoding="utf-8") as fh:
        pkg = json.load(fh)
    changed = []
    for r in pkg["resources"]:
        f = base / r["path"]
        new = "sha256:" + sha256(f)
        if r.get("hash") != new:
            changed.append(r["name"])
        r["hash"], r["bytes"] = new, f.stat().st_size
    write_text_atomic(path, json.dumps(pkg, ensure_ascii=False, indent=2) + "\n")
    _descriptor.cache_clear()
    return changed


def write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
