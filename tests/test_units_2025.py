"""Units by period (63 until 2024, 34 from 2025), a year data/ does not know, the ministries,
and the round-2 facts, checked through the library and the real CLI."""

from __future__ import annotations

import csv
import json
import random
import re

import pytest

from conftest import run_cli

SYNTHETIC = "SYNTHETIC test table of the 34 units, not an official result"
# Other spellings a provincial office might type: prefixes, no diacritics, English.
SPELLINGS = {"TP. Hồ Chí Minh": "Thành phố Hồ Chí Minh", "Huế": "Thành phố Huế", "Đắk Lắk": "Dak Lak",
             "Hà Nội": "Ha Noi", "Cần Thơ": "TP Cần Thơ", "Khánh Hòa": "Khánh Hoà"}
RULES_HEAD = ("index,year,label,order,kind,lower,lower_inclusive,lower_basis,lower_source_id,upper,"
              "upper_inclusive,upper_basis,upper_source_id,n,n_basis,n_source_id\n")


@pytest.fixture(scope="module")
def synthetic_2025(tmp_path_factory):
    from parindex.data.registry import registry_for

    rnd = random.Random(2025)
    path = tmp_path_factory.mktemp("y2025") / "synthetic_par_index_2025.csv"
    values = {}
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["province", "par_index", "data_status"])
        for p in registry_for(2025):
            values[p.code] = round(rnd.uniform(78, 96), 2)
            w.writerow([SPELLINGS.get(p.name_vi, p.name_vi), f"{values[p.code]:.2f}", SYNTHETIC])
    return path, values


@pytest.fixture(scope="module")
def rules_2025(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "rules_2025.csv"
    path.write_text(RULES_HEAD + "par_index,2025,A,1,band,90,true,stated,,,,,,,,\n"
                    "par_index,2025,B,2,band,80,true,stated,,90,false,stated,,,,\n"
                    "par_index,2025,C,3,band,,,,,80,false,stated,,,,\n", encoding="utf-8")
    return path


def test_units_follow_the_year():
    from parindex.data.registry import crosswalk, registry_for

    assert len(registry_for(2024)) == 63 and len(registry_for(2025)) == 34
    assert registry_for(2024).resolve("Thành phố Huế").name_vi == "Thừa Thiên Huế"
    assert registry_for(2025).resolve("Thừa Thiên Huế").name_vi == "Huế"
    # the codes of Quyết định 19/2025/QĐ-TTg: 15 is Lào Cai from 2025, Yên Bái before
    assert registry_for(2025).resolve("15").name_vi == "Lào Cai"
    assert registry_for(2024).resolve("15").name_vi == "Yên Bái"
    cw = crosswalk()
    assert len(cw) == 63 and cw["new_code"].nunique() == 34 and int(cw["unchanged"].sum()) == 11
    assert set(cw.loc[cw["new_province"] == "TP. Hồ Chí Minh", "old_province"]) == {
        "TP. Hồ Chí Minh", "Bình Dương", "Bà Rịa - Vũng Tàu"}


def test_a_former_unit_in_a_2025_table_names_its_successor(tmp_path):
    f = tmp_path / "old_names_2025.csv"
    f.write_text("province,par_index\nHà Nội,91.2\nBắc Kạn,85\n", encoding="utf-8")
    r = run_cli("validate", str(f), "--index", "par_index", "--year", "2025")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"error: {f}, row 3, column 'province': Bắc Kạn merged into Thái Nguyên on 1 July 2025 "
        "(Nghị quyết 202/2025/QH15) (fix: write the row for Thái Nguyên, the unit assessed from then on)"]
    f.write_text("province,par_index\n06,85\n", encoding="utf-8")  # Bắc Kạn's 2004 code
    r = run_cli("validate", str(f), "--index", "par_index", "--year", "2025")
    assert r.returncode == 2 and "Bắc Kạn merged into Thái Nguyên" in r.stderr
    # the same file is an ordinary 2024 table
    f.write_text("province,par_index\nHà Nội,91.2\nBắc Kạn,85\n", encoding="utf-8")
    assert run_cli("validate", str(f), "--index", "par_index", "--year", "2024").returncode == 0


def test_a_complete_2025_table_with_the_users_rules(synthetic_2025, rules_2025):
    path, values = synthetic_2025
    r = run_cli("summary", "--year", "2025", "--par-index", str(path), "--rules", str(rules_2025), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    par = doc["par_index"]
    assert doc["units"] == 34 and doc["rules_file"] == str(rules_2025)
    assert par["coverage"]["complete"] and par["coverage"]["provinces"] == 34
    want = {"A": sum(v >= 90 for v in values.values()), "B": sum(80 <= v < 90 for v in values.values()),
            "C": sum(v < 80 for v in values.values())}
    assert par["groups"] == want and par["count_ranges"] == {k: [n, n] for k, n in want.items()}
    # the rules are the user's: their file (name and digest) is the source, "stated" is the user's word
    import hashlib

    digest = hashlib.sha256(rules_2025.read_bytes()).hexdigest()[:12]
    assert {r["basis"] for r in par["rules"]} == {"user"}
    assert all(s == f"file:rules_2025.csv (sha256 {digest})" for r in par["rules"] for s in r["sources"])
    # without rules everything else still works, and groups say no rule is recorded
    r = run_cli("summary", "--year", "2025", "--par-index", str(path))
    assert r.returncode == 0 and "no classification rule recorded for 2025" in r.stdout
    assert "values for 34 of 34" in r.stdout


def test_rules_file_never_replaces_recorded_rules_and_bad_cells_are_one_line(tmp_path, rules_2025):
    f = tmp_path / "rules_2020.csv"
    f.write_text(RULES_HEAD + "par_index,2020,A,1,band,95,true,stated,,,,,,,,\n", encoding="utf-8")
    r = run_cli("summary", "--year", "2020", "--rules", str(f))
    assert r.returncode == 2 and "data/ already records the 2020 rules for par_index" in r.stderr
    f.write_text(RULES_HEAD + "par_index,2025,A,1,band,ninety,true,stated,,,,,,,,\n", encoding="utf-8")
    r = run_cli("summary", "--year", "2025", "--par-index", str(rules_2025), "--rules", str(f))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow  # solves a bundled year cold
def test_2024_record_is_checked_jointly(bundle, solve):
    a = solve(2024)
    lo, hi = a.par_index.count_ranges["A"]
    assert lo <= 13 <= hi and a.par_index.rules is not None
    checks = {c.claim.fact: c for c in a.par_index.inference.checks}
    # 13 in A: with "all 63 at or above 80" and 50 in B it is implied (leave one out)
    assert checks["group_count_A"].status == "reproduced" and checks["last_place"].status == "reproduced"
    assert a.par_index.inference.count_ranges_without_counts["A"][1] > 13
    sip = {c.claim.fact: c.status for c in a.sipas.inference.checks}
    assert sip["published_tier_top_5"] != "contradicted" and sip["published_tier_bottom_5"] != "contradicted"


@pytest.mark.slow  # solves a bundled year cold
def test_a_published_top_five_places_the_unranked_member(bundle, solve):
    """PAR 2022: ranks 1-4 are published and Đà Nẵng is in the top-5 list, so it is fifth:
    below Bắc Giang's 88.54 (rank 4)."""
    c = solve(2022).par_index.classified.set_index("province")
    assert c.at["Đà Nẵng", "hi"] <= 88.54 + 1e-9


def test_conflicting_research_row_is_named_not_used(bundle):
    from parindex.data.tables import consolidate

    d = consolidate(bundle.observations, "sipas", 2021, bundle.registry).data.set_index("province")
    assert str(d.at["Đồng Tháp", "value"]) == "<NA>"
    assert "contradicts another source: not used" in d.at["Đồng Tháp", "note"]


@pytest.mark.slow  # solves a bundled year cold
def test_ministries_2020():
    r = run_cli("summary", "--year", "2020", "--units", "ministries", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    m = doc["ministries"]
    assert "par_index" not in doc and m["coverage"]["provinces"] == 17 and m["coverage"]["with_value"] == 4
    audit = {a["fact"]: a for a in doc["audit"]}
    assert audit["range"]["status"] == "reproduced" and audit["n_below_80"]["status"] == "reproduced"
    assert audit["mean_17"]["status"] == "consistent"
    moha = next(p for p in m["provinces"] if p["code"] == "MOHA")
    assert moha["rank_published"] == 6 and moha["value"] is None
    r = run_cli("summary", "--year", "2018", "--units", "ministries")
    assert r.returncode == 2 and "no data on the ministries for 2018" in r.stderr


@pytest.mark.slow
def test_2025_report_shows_units_beside_their_predecessors(synthetic_2025, rules_2025, tmp_path):
    path, _ = synthetic_2025
    r = run_cli("report", "--year", "2025", "--par-index", str(path), "--rules", str(rules_2025),
                "--format", "html", "--lang", "en", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "yearly_report_2025_en.html").read_text(encoding="utf-8")
    assert "The former provinces that make up each unit" in html
    # Thái Nguyên (2025) beside Bắc Kạn and Thái Nguyên (2024), each on its own row
    assert re.search(r"<td>Thái Nguyên</td>\s*<td>Bắc Kạn</td>", html)
    assert "complete table of 34 provinces" in html and "<td>2025 (34 units)</td>" in html
    record = json.loads((tmp_path / "yearly_report_2025_en.build.json").read_text(encoding="utf-8"))
    assert record["parameters"]["rules_file"] == str(rules_2025.resolve())
    assert set(record["inputs"]) == {"par_index_file", "rules_file"}


@pytest.mark.parametrize("rows,words", [
    ("par_index,2025,A,1,band,90,true,stated,,80,false,stated,,,,\n", "row 2, column 'lower': lower 90 is not below upper 80"),
    ("par_index,2025,A,1,band,80,true,stated,,,,,,,,\npar_index,2025,B,2,band,70,true,stated,,95,false,stated,,,,\n",
     "row 3, column 'lower': band 'B' (≥ 70, < 95) overlaps band 'A' (≥ 80) on row 2"),
    ("par_index,2025,A,1,band,90,true,stated,,,,,,,,\npar_index,2025,A,2,band,,,,,90,false,stated,,,,\n",
     "row 3, column 'label': label 'A' is also on row 2"),
    ("par_index,2025,A,1,band,nan,true,stated,,,,,,,,\n", "row 2, column 'lower': 'nan' is not a number"),
    ("par_index,2025,A,1,band,90,true,stated,,inf,true,stated,,,,\n", "column 'upper': 'inf' is not a number"),
    ("par_index,2025,A,1,band,90,true,stated,,,,,,,,\npar_index,2025,B,2,band,80,true,stated,,90,true,stated,,,,\n",
     "band 'B' (≥ 80, ≤ 90) overlaps band 'A' (≥ 90)"),
    ("par_index,2025,A,1,band,900,true,stated,,,,,,,,\n", "lower 900 is outside 0-100"),
])
def test_a_rules_file_must_divide_the_scale(tmp_path, rows, words):
    from parindex.infer.classify import read_rules_file
    from parindex.errors import ParindexError

    f = tmp_path / "rules.csv"
    f.write_text(RULES_HEAD + rows, encoding="utf-8")
    with pytest.raises(ParindexError) as e:
        read_rules_file(f, 2025)
    assert words in str(e.value) and e.value.exit_code == 2


def test_bands_that_meet_are_rules(tmp_path, rules_2025):
    from parindex.infer.classify import read_rules_file

    assert list(read_rules_file(rules_2025, 2025)["label"]) == ["A", "B", "C"]


def test_nan_in_a_rules_file_is_exit_2(tmp_path, synthetic_2025):
    f = tmp_path / "rules.csv"
    f.write_text(RULES_HEAD + "par_index,2025,A,1,band,nan,true,stated,,,,,,,,\n", encoding="utf-8")
    r = run_cli("summary", "--year", "2025", "--par-index", str(synthetic_2025[0]), "--rules", str(f))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "'nan' is not a number" in r.stderr


def test_an_old_code_whose_name_lives_on_names_the_merge(tmp_path):
    f = tmp_path / "code_89.csv"
    f.write_text("province,par_index\n89,85\n", encoding="utf-8")  # An Giang's code until 2025
    r = run_cli("validate", str(f), "--index", "par_index", "--year", "2025")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "An Giang and Kiên Giang merged into An Giang (code 91) on 1 July 2025" in r.stderr
    assert "An Giang merged into An Giang" not in r.stderr


def test_a_2025_report_speaks_of_the_users_table_and_its_34_units(synthetic_2025, rules_2025, tmp_path):
    """The cover says 'your table (file): n of 34'; the mean is of the 34 units, never 'of 63'."""
    import re as _re

    from parindex import Report

    path, values = synthetic_2025
    few = tmp_path / "five_2025.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    few.write_text("\n".join(rows[:6]) + "\n", encoding="utf-8")  # five of the 34
    r = Report(2025, par_index_file=str(few), lang="en", rules_file=str(rules_2025))
    cover = _re.sub(r"<[^>]+>", " ", r.title().data)
    assert "PAR INDEX: your table (five_2025.csv): values for 5 of 34 units" in cover
    assert "published for 5" not in cover
    figures = r.key_figures().data
    assert "Mean of the 34 units (published)" in figures and "of 63" not in figures
    # the rules are cited as the user's file, by name and digest, never as a bundled source
    method = r.method().data
    assert "rules_2025.csv (sha256 " in method and "from the user's file" in method
