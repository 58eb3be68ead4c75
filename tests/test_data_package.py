import shutil

import pytest

from parindex.data.datapackage import read_resource, rehash, sha256, verify
from parindex.errors import DataPackageError

from conftest import ROOT, run_cli


def test_descriptor_is_a_valid_frictionless_package(bundle):
    frictionless = pytest.importorskip("frictionless")
    from conftest import ROOT

    report = frictionless.validate(str(ROOT / "data" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_every_row_cites_a_known_source(bundle):
    ids = set(bundle.sources["source_id"])
    for name in ("observations", "components", "published_tiers", "national_facts", "legal_basis"):
        df = getattr(bundle, name if name != "national_facts" else "national_facts")
        assert set(df["source_id"]) <= ids, name
    for col in ("lower_source_id", "upper_source_id", "n_source_id"):
        assert set(bundle.rules[col].dropna()) <= ids


def test_checksum_mismatch_is_refused(tmp_path):
    from conftest import ROOT

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    verify("observations", data)
    with (data / "observations.csv").open("a", encoding="utf-8") as fh:
        fh.write("par_index,2020,22,Quảng Ninh,99.99,1,stated,viet-jo-com-3f7d9f\n")
    with pytest.raises(DataPackageError) as e:
        read_resource("observations", data)
    assert "checksum mismatch" in str(e.value) and "observations.csv" in str(e.value)
    assert "parindex data rehash" in str(e.value)
    assert rehash(data) == ["observations"]
    assert len(read_resource("observations", data)) == len(read_resource("observations")) + 1


def test_recorded_hashes_match_files():
    from conftest import ROOT
    import json

    pkg = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    for r in pkg["resources"]:
        assert r["hash"] == "sha256:" + sha256(ROOT / "data" / r["path"]), r["path"]


def test_cutoffs_in_rules_match_the_stated_national_facts(bundle):
    """One fact, two tables: the rules file must agree with every stated cut-off fact."""
    f = bundle.national_facts
    cut = f[f["fact"].str.match(r"group_[A-Za-z]+_(lower|upper)$")]
    assert len(cut) >= 10
    for r in cut.itertuples():
        label, side = r.fact.split("_")[1], r.fact.split("_")[2]
        rule = bundle.rules[(bundle.rules["index"] == r.index) & (bundle.rules["year"] == r.year)
                            & (bundle.rules["label"] == label)]
        assert len(rule) == 1, r
        assert float(rule.iloc[0][side]) == float(r.value), r


def test_year_without_rule_gets_none(bundle):
    from parindex.infer.classify import ruleset

    assert ruleset(bundle.rules, "par_index", 2019) is None  # 2019 bands were never published
    assert ruleset(bundle.rules, "par_index", 2018).labels == ["A", "B", "C", "D"]


def test_published_precision_is_kept(bundle):
    obs = bundle.observations
    hn = obs[(obs["province"] == "Hà Nội") & (obs["index"] == "sipas") & (obs["year"] == 2020)]
    assert {"85", "85.15"} <= set(hn["value_text"].dropna())


def test_every_fact_and_region_has_a_label_in_both_languages(bundle):
    keys = set(bundle.labels["key"])
    for tier in set(bundle.published_tiers["tier"]):
        assert f"tier.{tier}" in keys, tier
    for fact in set(bundle.national_facts["fact"]):
        assert f"fact.{fact}" in keys, fact
    for region in set(bundle.registry.table["region"]):
        assert f"region.{region}" in keys, region
    assert not bundle.labels[["vi", "en"]].isna().any().any()


def test_rehash_validates_the_data_before_recording_checksums(tmp_path):
    import shutil

    from parindex.errors import ParindexError

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    text = (data / "observations.csv").read_text(encoding="utf-8").splitlines()
    text[1] = text[1].replace(",stated,", ",rumoured,", 1)  # a status outside the schema's enum
    (data / "observations.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    before = (data / "datapackage.json").read_text(encoding="utf-8")
    with pytest.raises(ParindexError) as e:
        rehash(data)
    msg = str(e.value)
    assert "observations.csv" in msg and "row 2" in msg and "'status'" in msg and "rumoured" in msg
    assert (data / "datapackage.json").read_text(encoding="utf-8") == before  # nothing recorded


@pytest.mark.slow  # solves a bundled year cold
def test_export_is_a_valid_frictionless_package_with_real_numbers(tmp_path):
    import csv

    from frictionless import Package

    r = run_cli("export", "--year", "2020", "--out", str(tmp_path / "exp"), "--xlsx")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "exp"
    assert sorted(p.name for p in out.iterdir()) == ["datapackage.json", "groups.csv", "national.csv",
                                                     "parindex.xlsx", "regions.csv", "results.csv", "sources.csv"]
    assert Package(str(out / "datapackage.json")).validate().valid
    rows = {(x["index_name"], x["unit"]): x for x in csv.DictReader((out / "results.csv").open(encoding="utf-8"))}
    assert len(rows) == 126
    qn = rows[("par_index", "Quảng Ninh")]
    assert (qn["value_published"], qn["rank_published"], qn["group"], qn["value_status"]) == ("91.04", "1", "A", "stated")
    vp = rows[("sipas", "Vĩnh Phúc")]  # no value published: empty, with the joint bounds and group
    # 91.65, not 91.66: round 3 adds its place, 6th, right after Hưng Yên's 91.66 in 5th (vietmaz list)
    assert (vp["value"], vp["lower_bound"], vp["upper_bound"], vp["group"], vp["group_basis"]) == (
        "", "89.15", "91.65", "highest", "record")
    srcs = {x["source_id"] for x in csv.DictReader((out / "sources.csv").open(encoding="utf-8"))}
    assert set(qn["sources"].split(";")) <= srcs
    r = run_cli("export", "--year", "2020", "--units", "ministries", "--out", str(tmp_path / "min"))
    assert r.returncode == 0, r.stderr
    m = list(csv.DictReader((tmp_path / "min" / "results.csv").open(encoding="utf-8")))
    assert len(m) == 17 and {x["units"] for x in m} == {"ministries"}
    r = run_cli("export", "--year", "1999")
    assert r.returncode == 2 and r.stderr.startswith("error: no bundled data for 1999")


# -- provenance: every row cites a known, followable, dated source (issue 18) -------------------

def _copy_data(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    return data


def _edit_csv(path, row: int, column: str, value: str) -> None:
    """Set one cell (row numbers as a spreadsheet shows them: the header is row 1)."""
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _source_row(data, source_id: str) -> int:
    import csv

    with (data / "sources.csv").open(encoding="utf-8", newline="") as fh:
        return 2 + [r["source_id"] for r in csv.DictReader(fh)].index(source_id)


@pytest.mark.parametrize("file, source, column, value, expect", [
    ("sources.csv", "vietnamplus-vn-99086f", "url", "", "has no URL"),
    ("sources.csv", "vietnamplus-vn-99086f", "class", "blog", "class 'blog' is not one of"),
    ("sources.csv", "vietnamplus-vn-99086f", "url", "docs/method.md", "allowed only for class project"),
    ("sources.csv", "parindex-method-rules", "url", "../../etc/passwd", "not a path inside the repository"),
    ("sources.csv", "vietnamplus-vn-99086f", "published", "06/04/2025", "is not an ISO date"),
    ("sources.csv", "vietnamplus-vn-99086f", "published", "2099-01-01", "is in the future"),
])
def test_verify_refuses_an_unciteable_source(tmp_path, file, source, column, value, expect):
    from parindex.data.datapackage import check_provenance

    data = _copy_data(tmp_path)
    row = _source_row(data, source)
    _edit_csv(data / file, row, column, value)
    if column == "published":
        _edit_csv(data / file, row, "published_note", "")
    with pytest.raises(DataPackageError) as e:
        check_provenance(data)
    msg = str(e.value)
    assert expect in msg and "sources.csv" in msg and f"row {row}" in msg and f"column '{column}'" in msg, msg
    assert "(fix: " in msg and "\n" not in msg


def test_an_undated_source_needs_a_note_and_a_future_date_is_allowed_with_one(tmp_path):
    from parindex.data.datapackage import check_provenance

    data = _copy_data(tmp_path)
    row = _source_row(data, "vietnamplus-vn-99086f")
    _edit_csv(data / "sources.csv", row, "published", "")
    _edit_csv(data / "sources.csv", row, "published_note", "")
    with pytest.raises(DataPackageError, match="no publication date and no note"):
        check_provenance(data)
    _edit_csv(data / "sources.csv", row, "published", "2099-01-01")
    _edit_csv(data / "sources.csv", row, "published_note", "scheduled release date as announced")
    check_provenance(data)  # a future date with a note is accepted


@pytest.mark.parametrize("file, column, value", [
    ("observations.csv", "source_id", "no-such-source"),
    ("crosswalk_2025.csv", "source_id", "vietnamnews-vn-749caa;no-such-source"),  # several ids in one cell
    ("classification_rules.csv", "upper_source_id", "no-such-source"),
    ("changes.csv", "source_id", "no-such-source"),
])
def test_verify_refuses_a_row_citing_an_unknown_source(tmp_path, file, column, value):
    from parindex.data.datapackage import check_provenance

    data = _copy_data(tmp_path)
    _edit_csv(data / file, 2 if file != "classification_rules.csv" else 8, column, value)
    with pytest.raises(DataPackageError) as e:
        check_provenance(data)
    msg = str(e.value)
    assert f"{file}, row" in msg and f"column '{column}'" in msg and "no-such-source" in msg, msg


def test_data_verify_cli_refuses_in_one_line_with_exit_2(tmp_path, monkeypatch):
    from conftest import run_cli

    data = _copy_data(tmp_path)
    (tmp_path / "src").mkdir()
    row = _source_row(data, "vietnamplus-vn-99086f")
    _edit_csv(data / "sources.csv", row, "url", "")
    rehash(data, validate=False)  # checksums current: only the provenance is wrong
    monkeypatch.setenv("PARINDEX_ROOT", str(tmp_path))  # the command's environment (run_cli passes this one)
    r = run_cli("data", "verify", cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    assert f"sources.csv, row {row}, column 'url'" in r.stderr and "has no URL" in r.stderr


def test_bundled_sources_are_all_followable_classed_dated_and_cited(bundle):
    import csv

    from parindex.data.datapackage import check_provenance

    check_provenance()
    src = bundle.sources.set_index("source_id")
    assert set(src["class"]) <= {"official", "press", "secondary", "project"}
    assert src["url"].notna().all()
    undated = src[src["published"].isna()]
    assert undated["published_note"].notna().all()
    # the withdrawn, unciteable ones are gone for good
    assert not src.index.str.startswith(("source-", "qd-641", "qd-628")).any()
    # no GitHub text file stands for a figure; the map geometry's GitHub copies are pinned to a commit
    github = src[src["url"].str.contains("github.com", na=False)]
    assert set(github.index) <= {"natural-earth-admin1", "natural-earth-archipelagos"}
    assert github["url"].str.contains("/blob/[0-9a-f]{40}/", regex=True).all()
    assert src.at["parindex-method-rules", "class"] == "project"
    assert src.at["parindex-method-rules", "url"] == "docs/method.md#71-inferred-cut-offs"
    assert src.at["qd-268-2025-bnv", "published"] == "2025-03-28"
    assert src.at["en-baochinhphu-vn-df71da", "published"] == "2024-04-17"  # from the article id in the URL
    assert src.at["en-baochinhphu-vn-df71da", "class"] == "official"
    assert src.at["vietnam-vn-f1a03c", "class"] == "secondary"  # machine-translated reprint
    # every source is cited by some row (nothing uncited stays)
    cited = set()
    for p in (ROOT / "data").glob("*.csv"):
        if p.name == "sources.csv":
            continue
        with p.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                for k, v in r.items():
                    if k == "source_id" or k.endswith("_source_id"):
                        cited.update(x for x in (v or "").split(";") if x)
    import json  # the map layers cite theirs in the descriptor

    cited.update(r["source_id"] for r in json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
                 ["resources"] if "source_id" in r)
    assert set(src.index) == cited


def test_the_same_figure_lists_its_official_source_first():
    import csv

    src = {r["source_id"]: r["class"] for r in csv.DictReader((ROOT / "data" / "sources.csv").open(encoding="utf-8"))}
    order = {"official": 0, "press": 1, "secondary": 2, "project": 3}
    rows = list(csv.DictReader((ROOT / "data" / "observations.csv").open(encoding="utf-8")))
    seen: dict[tuple, int] = {}
    for r in rows:
        key = (r["index"], r["year"], r["province_code"], r["value"], r["rank"])
        c = order[src[r["source_id"]]]
        assert c >= seen.get(key, -1), key
        seen[key] = c
    # Quảng Ninh's 91.04 (2020): the press report comes before the Chinese reprint (secondary)
    qn = [src[r["source_id"]] for r in rows if (r["index"], r["year"], r["province"], r["value"]) ==
          ("par_index", "2020", "Quảng Ninh", "91.04")]
    assert qn[0] != "secondary" and qn[-1] == "secondary"


def test_every_field_is_described_and_numbers_carry_a_unit():
    import json

    pkg = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    for r in pkg["resources"]:
        for f in r.get("schema", {}).get("fields", []):
            assert f.get("description"), (r["name"], f["name"])
            if f["type"] in ("number", "integer"):
                assert f.get("unit"), (r["name"], f["name"])
    fact = next(f for r in pkg["resources"] if r["name"] == "national_facts" for f in r["schema"]["fields"]
                if f["name"] == "fact")["description"]
    for name in ("regional_mean_<region>", "regional_max_<region>", "n_improved_vs_prev_year", "largest_fall",
                 "POSITIVE magnitudes", "largest_rise_province", "GSO code", "band_count_<a>_to_<b>",
                 "n_at_or_above_<x>", "n_below_<x>", "group_count_<label>"):
        assert name in fact, name


def test_the_import_is_deterministic_and_refuses_an_unciteable_research_row(tmp_path):
    """Run the import twice on a copy of the research: the same bytes as the bundled data/; then
    with one row's source made unciteable: refused in one line, exit 2, data/ untouched."""
    import csv
    import subprocess
    import sys

    research = ROOT.parent / "shared" / "research"
    if not (research / "round3" / "facts.csv").is_file():
        pytest.skip("the curated research folder is not next to this checkout")
    # on a copy of the checkout's data and script: a test never writes into data/
    work = tmp_path / "checkout"
    shutil.copytree(ROOT / "data", work / "data")
    shutil.copytree(ROOT / "scripts", work / "scripts")
    data = work / "data"
    before = {p.name: p.read_bytes() for p in (ROOT / "data").glob("*.csv")}
    script = work / "scripts" / "import_research.py"
    for _ in range(2):
        r = subprocess.run([sys.executable, str(script), str(research)], capture_output=True, text=True,
                           encoding="utf-8")
        assert r.returncode == 0, r.stderr
        assert {p.name: p.read_bytes() for p in data.glob("*.csv")} == before
    bad = tmp_path / "research"
    shutil.copytree(research, bad)
    (bad / "round3").chmod(0o755)
    rows = list(csv.reader((research / "round3" / "facts.csv").open(encoding="utf-8", newline="")))
    rows[1][rows[0].index("source_url")] = "github (repository not resolved): SKILL.md"
    (bad / "round3" / "facts.csv").chmod(0o644)
    with (bad / "round3" / "facts.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    r = subprocess.run([sys.executable, str(script), str(bad)], capture_output=True, text=True, encoding="utf-8")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("error: data/observations.csv, row ") and "not a followable URL" in r.stderr
    assert r.stderr.count("\n") == 1
    assert {p.name: p.read_bytes() for p in data.glob("*.csv")} == before
