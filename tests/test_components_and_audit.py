def statuses(items):
    return {(i.index, i.fact): i.status for i in items}


def test_top10_components_add_up_to_published_totals(bundle):
    c = bundle.components
    parts = c[["appraisal_points", "sipas_points", "leader_survey_points", "socioeconomic_impact_points"]]
    gap = (parts.astype(float).sum(axis=1) - c["total"].astype(float)).abs()
    assert len(c) == 10 and gap.max() <= 0.02


def test_audit_on_bundled_data_says_what_is_identified(bundled_2020):
    s = statuses(bundled_2020.audit)
    # each count against all the other facts, the other counts included (leave one out)
    assert s[("par_index", "group_count_A")] == "reproduced"
    assert s[("par_index", "group_count_B")] == "reproduced"  # 58 at or above 80, A = 2
    assert s[("par_index", "group_count_C")] == "reproduced"
    assert s[("par_index", "mean_63")] == "consistent"
    assert s[("par_index", "max")] == s[("par_index", "min")] == s[("par_index", "range")] == "reproduced"
    assert s[("par_index", "leader")] == s[("par_index", "last_place")] == "reproduced"
    assert s[("par_index", "component_additivity")] == "reproduced"
    # checked against the 8 provinces known in both years (not used for the bounds)
    assert s[("par_index", "n_improved_vs_prev_year")] == "consistent"
    assert s[("sipas", "published_tier_highest")] == "reproduced"  # with the count of 6
    assert s[("sipas", "published_tier_lowest")] == "consistent"
    a = {i.fact: i for i in bundled_2020.par_index.audit}
    assert "Quảng Ninh" in a["group_count_A"].detail and "Hải Phòng" in a["group_count_A"].detail
    assert a["group_count_B"].computed == "56" and a["group_count_B"].range == [56, 56]
    assert bundled_2020.par_index.inference.count_ranges_without_counts["B"] == (55, 60)
    hi = {i.fact: i for i in bundled_2020.sipas.audit}["published_tier_highest"]
    assert "6 of 6" in hi.detail
    # the one contradiction: SIPAS ranks 22 of Thái Nguyên (derived) and Bình Dương (stated)
    assert [(i.index, i.fact) for i in bundled_2020.audit if i.status == "contradicted"] == [
        ("sipas", "published_ranks")]


def test_audit_on_complete_table_reproduces_everything_checkable(complete_2020):
    s = statuses(complete_2020.audit)
    for fact in ("group_count_A", "group_count_B", "group_count_C", "mean_63", "n_at_or_above_80",
                 "published_values", "published_ranks"):
        assert s[("par_index", fact)] == "reproduced", fact
    for fact in ("published_tier_highest", "published_tier_lowest"):
        assert s[("sipas", fact)] == "reproduced", fact
    # SIPAS 2020's cut-offs are unstated (variables): the values and the lists alone do not fix
    # how many are in a tier, so the announced sizes are consistent, not implied
    for fact in ("n_highest_group", "n_lowest_group"):
        assert s[("sipas", fact)] == "consistent", fact
    assert complete_2020.sipas.groups == {"highest": 6, "middle": 50, "lowest": 7}


def test_audit_flags_a_typing_error_in_a_users_table(tmp_path, bundle):
    from conftest import SYN_PAR
    from parindex.infer.analysis import analyse_index

    text = SYN_PAR.read_text(encoding="utf-8").replace("Hải Phòng,90.51", "Hải Phòng,89.51")
    f = tmp_path / "typo.csv"
    f.write_text(text, encoding="utf-8")
    res = analyse_index(bundle, "par_index", 2020, f)
    s = {i.fact: i for i in res.audit}
    assert s["group_count_A"].status == "contradicted" and s["group_count_A"].computed == "1"
    assert s["published_values"].status == "contradicted"
    assert "Hải Phòng 89.51≠90.51" in s["published_values"].detail


def test_a_province_named_by_a_published_fact_is_shown_by_name(bundled_2020):
    """national_facts records who rose most by the unit's code; the audit (and every page that
    prints it) gives the name: "Bến Tre", never "83"."""
    shown = {i.fact: i.published for i in bundled_2020.par_index.audit}
    assert (shown["largest_rise_province"], shown["smallest_rise_province"]) == ("Bến Tre", "Thái Bình")
