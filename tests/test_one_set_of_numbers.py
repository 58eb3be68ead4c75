"""What a reader sees, read back from the built documents (issue 19): no internal data on any page,
and a figure printed in several places has one value."""

from __future__ import annotations

import re

import pytest

from conftest import pdf_text

pytestmark = pytest.mark.slow

# Internal data that must never reach a page: missing markers, raw keys, ISO dates (the editions
# write 25/05/2021 and 25 May 2021), a range of one number.
_RAW = [(re.compile(r"<NA>|\bNone\b|\bnan\b|\bNaN\b"), "a missing marker"),
        (re.compile(r"\b(?:published_tier|regional_mean|group_count|band_count|n_at_or_above|mean_63)_?\w*"), "a raw key"),
        (re.compile(r"\b(\d+)–\1\b(?![,.]\d)"), "a range of one number")]
_ISO = re.compile(r"\b20\d\d-[01]\d-[0-3]\d\b")


def _documents(*folders):
    for folder in folders:
        for pdf in sorted(folder.glob("*.pdf")):
            yield pdf, pdf_text(pdf, "-layout")


def test_no_internal_data_on_any_page(report_2020_vi, report_2020_en, report_2013_vi, report_2024_vi, briefs_2020):
    bad = []
    for pdf, text in _documents(report_2020_vi, report_2020_en, report_2013_vi, report_2024_vi, briefs_2020):
        body = "\n".join(line for line in text.splitlines() if "http" not in line)  # URLs may hold anything
        for rx, what in _RAW:
            bad += [f"{pdf.name}: {what}: {m.group(0)!r}" for m in rx.finditer(body)]
        bad += [f"{pdf.name}: an ISO date {m.group(0)!r}" for m in _ISO.finditer(body)]
    assert not bad, "\n".join(bad[:30])


def _figure(text: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, re.sub(r"\s+", " ", text)))


def test_leader_and_national_figures_agree_across_the_pages(report_2024_vi, report_2020_vi, report_2020_en):
    t24 = pdf_text(report_2024_vi / "yearly_report_2024_vi.pdf", "-layout")
    flat = re.sub(r"\s+", " ", t24)
    # 2024: Hải Phòng first at 96,17 in the key findings, the key figures and the appendix; never
    # "not published" for the highest value beside it
    assert "Hải Phòng dẫn đầu (96,17%)" in flat
    assert re.search(r"PAR INDEX — Cao nhất 96,17 \(Hải Phòng\)", flat)
    # the SIPAS national rate: one value wherever it is printed (key figures and the series)
    assert len(_figure(t24, r"Tỷ lệ hài lòng chung \(SIPAS\) (\d+,\d+)")) == 1
    assert "83,94" in flat
    # 2020: the mean, the leader and the counts: the same in both editions
    vi = re.sub(r"\s+", " ", pdf_text(report_2020_vi / "yearly_report_2020_vi.pdf", "-layout"))
    en = re.sub(r"\s+", " ", pdf_text(report_2020_en / "yearly_report_2020_en.pdf", "-layout"))
    assert "Quảng Ninh dẫn đầu (91,04%)" in vi and "Quảng Ninh first (91.04%)" in en
    assert "83,72" in vi and "83.72" in en
    for text in (vi, en):
        assert "Nhóm A 2, Nhóm B 56, Nhóm C 5" in text or "Group A 2, Group B 56, Group C 5" in text


def test_a_proven_range_prints_the_same_in_every_table(report_2024_vi):
    """Trung du và miền núi phía Bắc's mean in 2024 is proven to lie from 83.435 (a tie at two
    decimals) to 89.95: the regions table and the audit both print its lower end outward."""
    flat = re.sub(r"\s+", " ", pdf_text(report_2024_vi / "yearly_report_2024_vi.pdf", "-layout"))
    assert "83,43–89,95" in flat and "83,44–89,95" not in flat


def test_a_range_without_a_lower_bound_is_said_so(report_2024_vi):
    """SIPAS 2024's bottom-five members without a published value have no lower bound in the
    record: "≤ 81,73", never "0,00–81,73" (and the ranking chart's axis is not stretched to 0)."""
    flat = re.sub(r"\s+", " ", pdf_text(report_2024_vi / "yearly_report_2024_vi.pdf", "-layout"))
    assert "≤ 81,73" in flat and not re.search(r"(?<![\d,])0,00–", flat)
