import shutil

import pytest

from parindex.datapackage import read_resource, rehash, sha256, verify
from parindex.errors import DataPackageError


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
    for fact in set(bundle.national_facts["fact"]):
        assert f"fact.{fact}" in keys, fact
    for region in set(bundle.registry.table["region"]):
        assert f"region.{region}" in keys, region
    assert not bundle.labels[["vi", "en"]].isna().any().any()
