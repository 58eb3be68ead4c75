from parindex.data.tables import consolidate


def test_2020_par_index_coverage_matches_the_research_notes(bundle, registry):
    t = consolidate(bundle.observations, "par_index", 2020, registry)
    assert t.coverage() == {"provinces": 63, "with_value": 21, "with_rank_only": 15, "unknown": 27,
                            "complete": False}
    d = t.data.set_index("province")
    assert d.at["Quảng Ninh", "value"] == 91.04 and d.at["Quảng Ninh", "rank"] == 1
    assert d.at["Quảng Ngãi", "value"] == 73.25 and d.at["Quảng Ngãi", "rank"] == 63
    assert d.at["Bắc Ninh", "value_status"] == "derived"


def test_stated_value_wins_over_derived_and_conflict_is_noted(bundle, registry):
    d = consolidate(bundle.observations, "par_index", 2020, registry).data.set_index("province")
    assert d.at["Tiền Giang", "value"] == 80.89
    assert "80.88" in d.at["Tiền Giang", "note"]


def test_most_precise_value_wins_without_a_conflict(bundle, registry):
    d = consolidate(bundle.observations, "sipas", 2020, registry).data.set_index("province")
    assert d.at["Hà Nội", "value_text"] == "85.15"
    assert d.at["Hà Nội", "note"] == ""  # 85 is 85.15 rounded, not a disagreement
    assert d.at["Cần Thơ", "value_decimals"] == 0


def test_a_derived_rank_colliding_with_a_stated_rank_is_kept_for_the_audit(bundle, registry):
    # nothing is dropped before the audit: the inference sets the weaker one aside, and says so
    d = consolidate(bundle.observations, "sipas", 2020, registry).data.set_index("province")
    assert d.at["Bình Dương", "rank"] == 22 and d.at["Thái Nguyên", "rank"] == 22
    assert "Bình Dương" in d.at["Thái Nguyên", "note"]
    t = consolidate(bundle.observations, "sipas", 2020, registry)
    # 19: Sóc Trăng 88.67 (derived, round 2); 5 ranks only: Vĩnh Phúc 6th joins in round 3
    assert t.coverage()["with_value"] == 19 and t.coverage()["with_rank_only"] == 5


def test_values_print_as_published(bundle):
    from parindex.data.tables import consolidate, value_as_published

    s = consolidate(bundle.observations, "sipas", 2020, bundle.registry).data.set_index("province")
    assert value_as_published(s, "Cần Thơ") == "≈84" and value_as_published(s, "Quảng Ninh") == "95.76"
    p21 = consolidate(bundle.observations, "par_index", 2021, bundle.registry).data.set_index("province")
    assert value_as_published(p21, "Nam Định") == "≈86.4" and value_as_published(p21, "Hải Phòng") == "91.80"
    assert value_as_published(s, "Bắc Kạn") is None


def test_disagreements_list_every_figure_and_the_one_kept(bundle):
    from parindex.data.tables import consolidate, disagreements

    t = consolidate(bundle.observations, "par_index", 2020, bundle.registry)
    d = disagreements(bundle.observations, t).set_index("province")
    tg = d.loc["Tiền Giang"]
    assert tg["kept"] == "80.89" and {f["figure"]: f["status"] for f in tg["figures"]} == {"80.89": "stated",
                                                                                          "80.88": "derived"}
    t23 = consolidate(bundle.observations, "par_index", 2023, bundle.registry)
    d23 = disagreements(bundle.observations, t23).set_index(["province", "what"])
    assert d23.loc[("Hải Phòng", "value"), "kept"] is None and d23.loc[("Long An", "rank"), "kept"] is None
