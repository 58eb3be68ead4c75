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
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..errors import DataPackageError

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
    check_provenance(base)
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


# -- provenance: every row cites a known, followable, dated source ----------------------------

SOURCE_CLASSES = ("official", "press", "secondary", "project")


def _csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def check_provenance(data_dir: Path | None = None, today: date | None = None) -> None:
    """Refuse, in one line naming file, row, column and fix: a source without a followable URL
    (a repository-relative path only for class ``project``), a class outside the four, a
    ``published`` date that is not ISO (YYYY-MM-DD) or lies in the future without a note, an
    undated source without a note saying why, and a data row citing an unknown source_id
    (``;`` separates several ids in one cell)."""
    from datetime import date as _date

    base = _default_dir(data_dir)
    today = today or _date.today()
    spath = base / "sources.csv"
    ids: set[str] = set()
    for n, r in enumerate(_csv_rows(spath), start=2):
        sid = (r.get("source_id") or "").strip()
        ids.add(sid)
        cls = (r.get("class") or "").strip()
        url = (r.get("url") or "").strip()
        note = (r.get("published_note") or "").strip()
        pub = (r.get("published") or "").strip()

        def bad(problem: str, column: str, fix: str) -> DataPackageError:
            return DataPackageError(f"source '{sid}': {problem}", file=str(spath), row=n, column=column, fix=fix)

        if cls not in SOURCE_CLASSES:
            raise bad(f"class '{cls}' is not one of {', '.join(SOURCE_CLASSES)}", "class",
                      "official (a decision or a government page), press, secondary (aggregator, unverified "
                      "compilation, reprint) or project (parindex's own docs)")
        if not url:
            raise bad("has no URL", "url", "give the address of a public page of the source, or withdraw the "
                                           "source and the rows that cite it")
        if url.lower().startswith(("http://", "https://")):
            pass
        elif cls != "project":
            raise bad(f"'{url}' is not a web address (a repository path is allowed only for class project)",
                      "url", "give the http(s) address of a public page")
        elif url.startswith("/") or ".." in Path(url.split("#")[0]).parts or ":" in url.split("#")[0]:
            raise bad(f"'{url}' is not a path inside the repository", "url", "write it like docs/method.md#anchor")
        if pub:
            try:
                when = _date.fromisoformat(pub)
                if len(pub) != 10:
                    raise ValueError(pub)
            except ValueError:
                raise bad(f"published '{pub}' is not an ISO date", "published",
                          "write YYYY-MM-DD, or leave it empty and say why in published_note") from None
            if when > today and not note:
                raise bad(f"published {pub} is in the future", "published",
                          "correct the date, or explain it in published_note")
        elif not note:
            raise bad("has no publication date and no note saying why", "published_note",
                      "fill published (YYYY-MM-DD) or say in published_note why no date can be given")
    with (base / "datapackage.json").open(encoding="utf-8") as fh:
        pkg = json.load(fh)
    for res in pkg["resources"]:
        if res["name"] == "sources" or "schema" not in res:
            continue
        cols = [f["name"] for f in res["schema"]["fields"]
                if f["name"] == "source_id" or f["name"].endswith("_source_id")]
        if not cols:
            continue
        path = base / res["path"]
        for n, r in enumerate(_csv_rows(path), start=2):
            for c in cols:
                for one in (x.strip() for x in (r.get(c) or "").split(";")):
                    if one and one not in ids:
                        raise DataPackageError(f"cites unknown source '{one}'", file=str(path), row=n, column=c,
                                               fix="add the source to data/sources.csv or correct the id")
