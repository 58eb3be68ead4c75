"""Rebuild the evidence tables in data/ from the curated research folder.

This is the provenance step, run by a maintainer when ../shared/research changes
(never by the pipeline): it copies facts only. The research CSVs carry a free-text
``evidence`` column; that prose stays behind and each row keeps a ``source_id`` that
resolves to data/sources.csv, where the URL lives.

Usage:  python scripts/import_research.py [RESEARCH_DIR]
Then:   parindex data rehash   (records the new checksums in data/datapackage.json)
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

# Sources that are not web pages: the registry and the method facts.
MANUAL_SOURCES = [
    {
        "source_id": "gso-admin-codes",
        "url": "",
        "publisher": "Thủ tướng Chính phủ / Tổng cục Thống kê",
        "published": "2004-07-08",
        "title": "Quyết định 124/2004/QĐ-TTg: danh mục và mã số các đơn vị hành chính Việt Nam",
    },
    {
        "source_id": "gso-regions",
        "url": "",
        "publisher": "Tổng cục Thống kê",
        "published": "",
        "title": "Six socio-economic regions used in the GSO Statistical Yearbook",
    },
    {
        "source_id": "research-notes",
        "url": "",
        "publisher": "parindex research notes (shared/research/NOTES.md)",
        "published": "",
        "title": "Method facts and inferences recorded while curating the public evidence",
    },
]


# Compilations of other sources (a dataset preview, not the release): their rows are
# "secondary" whatever the research row says, so that a primary figure always wins (tables.py).
SECONDARY_HOSTS = {"huggingface.co"}


def status_of(row: dict[str, str]) -> str:
    host = urlparse(row["source_url"]).netloc.lower().removeprefix("www.")
    return "secondary" if host in SECONDARY_HOSTS else row["status"]


def source_id(url: str) -> str:
    host = urlparse(url).netloc.lower().removeprefix("www.").removeprefix("m.")
    slug = re.sub(r"[^a-z0-9]+", "-", host).strip("-") or "source"
    return f"{slug}-{hashlib.sha1(url.encode('utf-8')).hexdigest()[:6]}"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {path.relative_to(ROOT)} ({len(rows)} rows)")


def main(research: Path) -> None:
    codes = {r["name_vi"]: r["code"] for r in read(DATA / "provinces.csv")}
    used: dict[str, set[str]] = defaultdict(set)

    def sid(url: str, what: str) -> str:
        key = source_id(url)
        used[url].add(what)
        return key

    obs: list[dict[str, str]] = []
    for index, fname in (("par_index", "par_index_province.csv"), ("sipas", "sipas_province.csv")):
        seen = set()
        for r in read(research / fname):
            row = {
                "index": index,
                "year": r["year"],
                "province_code": codes[r["province"]],
                "province": r["province"],
                "value": r[index],
                "rank": r["rank"],
                "status": status_of(r),
                "source_id": sid(r["source_url"], f"{index} {r['year']} province values"),
            }
            key = tuple(row.values())
            if key in seen:  # the research file repeats some rows verbatim
                continue
            seen.add(key)
            obs.append(row)
    write(DATA / "observations.csv",
          ["index", "year", "province_code", "province", "value", "rank", "status", "source_id"], obs)

    comp = []
    for r in read(research / "par_index_2020_components.csv"):
        comp.append({
            "index": "par_index", "year": "2020", "province_code": codes[r["province"]],
            "province": r["province"], "rank": r["rank"],
            "appraisal_points": r["appraisal_points"], "sipas_points": r["sipas_points"],
            "leader_survey_points": r["leader_survey_points"],
            "socioeconomic_impact_points": r["socioeconomic_impact_points"],
            "total": r["par_index"], "status": "stated",
            "source_id": sid(r["source_url"], "par_index 2020 component points"),
        })
    write(DATA / "components.csv", list(comp[0].keys()), comp)

    tiers = []
    for r in read(research / "sipas_2020_tiers.csv"):
        tiers.append({
            "index": "sipas", "year": r["year"], "province_code": codes[r["province"]],
            "province": r["province"], "tier": r["tier"], "status": "stated",
            "source_id": sid(r["source_url"], f"sipas {r['year']} published tier membership"),
        })
    write(DATA / "published_tiers.csv", list(tiers[0].keys()), tiers)

    facts = []
    for r in read(research / "national_facts.csv"):
        facts.append({
            "index": r["index"].lower(), "year": r["year"], "fact": r["fact"], "value": r["value"],
            "status": r["status"],
            "source_id": sid(r["source_url"], f"{r['index'].lower()} {r['year']} national facts"),
        })
    write(DATA / "national_facts.csv", list(facts[0].keys()), facts)

    sources = list(MANUAL_SOURCES)
    for url in sorted(used, key=source_id):
        sources.append({
            "source_id": source_id(url),
            "url": url,
            "publisher": urlparse(url).netloc.lower().removeprefix("www."),
            "published": "",
            "title": "; ".join(sorted(used[url])),
        })
    write(DATA / "sources.csv", ["source_id", "url", "publisher", "published", "title"], sources)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "research")
