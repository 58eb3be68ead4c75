import shutil

import pytest

from parindex.datapackage import read_resource, rehash, sha256, verify
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
    from parindex.classify import ruleset

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


def test_export_is_a_valid_frictionless_package_with_real_numbers(tmp_path):
    import csv

    from frictionless import Package

    r = run_cli("export", "--year", "2020", "--out", str(tmp_path / "exp"), "--xlsx")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "exp"
    assert sorted(p.name for p in out.iterdir()) == ["datapackage.json", "parindex.xlsx", "results.csv",
                                                     "sources.csv"]
    assert Package(str(out / "datapackage.json")).validate().valid
    rows = {(x["index"], x["unit"]): x for x in csv.DictReader((out / "results.csv").open(encoding="utf-8"))}
    assert len(rows) == 126
    qn = rows[("par_index", "Quảng Ninh")]
    assert (qn["value_published"], qn["rank_published"], qn["group"], qn["value_status"]) == ("91.04", "1", "A", "stated")
    vp = rows[("sipas", "Vĩnh Phúc")]  # no value published: empty, with the joint bounds and group
    # 91.65, not 91.66: round 3 adds its place, 6th, right after Hưng Yên's 91.66 in 5th (vietmaz list)
    assert (vp["value"], vp["lower_bound"], vp["upper_bound"], vp["group"], vp["group_basis"]) == (
        "", "90.0", "91.65", "highest", "record")
    srcs = {x["source_id"] for x in csv.DictReader((out / "sources.csv").open(encoding="utf-8"))}
    assert set(qn["sources"].split(";")) <= srcs
    r = run_cli("export", "--year", "2020", "--units", "ministries", "--out", str(tmp_path / "min"))
    assert r.returncode == 0, r.stderr
    m = list(csv.DictReader((tmp_path / "min" / "results.csv").open(encoding="utf-8")))
    assert len(m) == 17 and {x["units"] for x in m} == {"ministries"}
    r = run_cli("export", "--year", "1999")
    assert r.returncode == 2 and r.stderr.startswith("error: no bundled data for 1999")
