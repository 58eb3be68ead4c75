import pandas as pd
import pytest

from parindex.infer.classify import classify, full_precision_rank, ruleset
from parindex.data.collate import vsorted
from parindex.infer.inference import infer
from parindex.data.tables import IndexTable, decimals, empty_frame


def classify_table(t: IndexTable, rs, bundle=None, facts=None):
    """Classify a hand-made table on its own claims (no national facts unless given)."""
    empty = pd.DataFrame(columns=["index", "year", "fact", "value", "status", "source_id"])
    return classify(t, rs, infer(t.data, t.index, t.year, rs, empty if facts is None else facts, None))


def table_with(registry, values: dict[str, str], ranks: dict[str, int] | None = None, year=2020):
    df = empty_frame(registry)
    for name, text in values.items():
        code = registry.lookup(name).code
        df.loc[code, ["value", "value_text", "value_decimals"]] = [float(text), text, decimals(text)]
    for name, r in (ranks or {}).items():
        df.loc[registry.lookup(name).code, "rank"] = r
    return IndexTable("par_index", year, df, origin="test")


@pytest.mark.parametrize("text,group", [
    ("90.00", "A"), ("89.999", "B"), ("89.995", "B"), ("80.00", "B"), ("79.995", "C"),
    ("79.999999", "C"), ("70", "C"), ("69.99", "D"), ("100", "A"),
])
def test_2020_boundaries_lower_inclusive_upper_exclusive_full_precision(bundle, text, group):
    rs = ruleset(bundle.rules, "par_index", 2020)
    assert rs.label_of(float(text)) == group


def test_2018_uses_its_own_cutoffs(bundle):
    rs = ruleset(bundle.rules, "par_index", 2018)
    assert [rs.label_of(v) for v in (80.0, 79.99, 75.0, 74.99, 70.0, 69.99)] == ["A", "B", "B", "C", "C", "D"]


def test_rule_bases_are_recorded(bundle):
    rs = ruleset(bundle.rules, "par_index", 2020)
    basis = {r.label: r.basis for r in rs.rules}
    assert basis["A"] == "stated" and basis["C"] == "stated/inferred" and basis["D"] == "inferred"
    assert {r.basis for r in ruleset(bundle.rules, "sipas", 2020).rules} == {"inferred"}


def test_ties_share_the_best_place():
    r = full_precision_rank(pd.Series([91.04, 90.51, 90.51, 88.47, 90.505]))
    assert list(r) == [1, 2, 2, 5, 4]


def test_ranks_are_not_computed_on_rounded_values():
    r = full_precision_rank(pd.Series([85.304, 85.296]))
    assert list(r) == [1, 2]  # both print as 85.30; rounding first would tie them


def test_rank_only_province_bounded_by_neighbours(bundle, registry):
    # Hà Nội is 5th: place 4 (open) lies between it and Thừa Thiên Huế (3rd, 88.47), so Hà Nội
    # is at most 88.46; places 6-62 (open) lie between it and Quảng Ngãi (63rd, 73.25), so at
    # least 73.26.
    t = table_with(registry, {"Quảng Ninh": "91.04", "Hải Phòng": "90.51", "Thừa Thiên Huế": "88.47",
                              "Quảng Ngãi": "73.25"},
                   {"Quảng Ninh": 1, "Hải Phòng": 2, "Thừa Thiên Huế": 3, "Hà Nội": 5, "Quảng Ngãi": 63})
    c = classify_table(t, ruleset(bundle.rules, "par_index", 2020)).set_index("province")
    assert (c.at["Hà Nội", "lo"], c.at["Hà Nội", "hi"]) == (73.26, 88.46)
    assert c.at["Hà Nội", "possible"] == "B,C" and pd.isna(c.at["Hà Nội", "group"])


def test_rounded_value_is_an_interval(bundled_2020):
    c = bundled_2020.sipas.classified.set_index("province")
    assert c.at["Cần Thơ", "lo"] == pytest.approx(83.93) or c.at["Cần Thơ", "lo"] >= 83.5
    assert c.at["Cần Thơ", "hi"] <= 84.5
    assert c.at["Cần Thơ", "group"] == "middle"


def test_complete_table_reproduces_2020_counts_and_tiers(complete_2020):
    assert complete_2020.par_index.groups == {"A": 2, "B": 56, "C": 5, "D": 0}
    assert complete_2020.par_index.members("A") == ["Hải Phòng", "Quảng Ninh"]
    assert complete_2020.sipas.members("highest") == vsorted(
        ["Quảng Ninh", "Hải Phòng", "Bắc Giang", "Hải Dương", "Hưng Yên", "Vĩnh Phúc"])
    assert complete_2020.sipas.members("lowest") == vsorted(
        ["Bình Thuận", "Đắk Lắk", "Cao Bằng", "Quảng Bình", "Quảng Ngãi", "Kiên Giang", "Bình Phước"])
    assert set(complete_2020.par_index.classified["group_basis"]) == {"value"}


def test_top_n_rules_follow_rank(bundle, registry):
    rs = ruleset(bundle.rules, "sipas", 2019)
    vals = {p.name_vi: f"{90 - i * 0.25:.2f}" for i, p in enumerate(registry)}
    t = table_with(registry, vals, year=2019)
    t.index = "sipas"
    t.data["rank"] = full_precision_rank(t.data["value"])  # a complete table is placed by its own order
    c = classify_table(t, rs)
    assert (c["group"] == "highest").sum() == 3 and (c["group"] == "lowest").sum() == 3
    assert (c["group"] == "middle").sum() == 57


def test_partial_rule_does_not_absorb_uncovered_intervals(bundle, registry):
    """SIPAS 2021 defines only 'highest >= 90': a value that may be below 90 is not 'highest'."""
    rs = ruleset(bundle.rules, "sipas", 2021)
    assert rs.labels == ["highest"]
    t = table_with(registry, {"Quảng Ninh": "94.07", "Hà Tĩnh": "89.10"}, {"Quảng Ninh": 1, "Bắc Giang": 2})
    t.index = "sipas"
    c = classify_table(t, rs).set_index("province")
    assert c.at["Quảng Ninh", "group"] == "highest"
    # below the only band the year's rules define: in no group ("none"), not "highest"
    assert c.at["Hà Tĩnh", "group"] == "none" and c.at["Hà Tĩnh", "possible"] == "none"
    assert pd.isna(c.at["Bắc Giang", "group"])  # rank 2 but no lower bound: may be under 90
    assert c.at["Bắc Giang", "possible"] == "highest,none"


def test_partition_detection(bundle):
    assert ruleset(bundle.rules, "par_index", 2020).is_partition()
    assert ruleset(bundle.rules, "par_index", 2018).is_partition()
    assert not ruleset(bundle.rules, "par_index", 2021).is_partition()  # no group below 70 stated
    assert ruleset(bundle.rules, "sipas", 2020).is_partition()
    assert not ruleset(bundle.rules, "sipas", 2021).is_partition()
    assert ruleset(bundle.rules, "sipas", 2019).is_partition()
