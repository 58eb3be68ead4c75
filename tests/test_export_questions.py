"""A researcher's first questions, answered from `parindex export` alone with plain pandas (issue 20)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import run_cli

pytestmark = pytest.mark.slow  # four bundled years solved and exported


# Seven provinces have a published PAR INDEX value in both 2022 and 2024 (data/observations.csv);
# Đồng Nai rose most: 82.92 -> 90.69.
LARGEST = ("Đồng Nai", 7.77)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, solve):
    for y in (2018, 2020, 2022, 2024):  # each year solved once a run (other tests need them too)
        solve(y)
    out = tmp_path_factory.mktemp("export") / "exp"
    r = run_cli("export", "--year", "2018,2020,2022,2024",
                "--out", str(out), "--xlsx")
    assert r.returncode == 0, r.stderr
    return out


def test_group_a_per_year_as_announced_and_as_proven(exported):
    g = pd.read_csv(exported / "groups.csv")
    a = g[(g["index_name"] == "par_index") & (g["group"] == "A")].set_index("year")
    # the announced counts (data/national_facts.csv), not the 5 units named in the bundled rows
    assert a.loc[2018, "announced"] == 9 and a.loc[2024, "announced"] == 13 and a.loc[2020, "announced"] == 2
    assert (a.loc[2020, "count_min"], a.loc[2020, "count_max"]) == (2, 2)
    # what the values and ranks allow without the announced counts (docs/method.md §4.2)
    assert (a.loc[2024, "count_min_without_counts"], a.loc[2024, "count_max_without_counts"]) == (12, 14)
    assert a.loc[2024, "units_placed"] == 7
    b = g[(g["index_name"] == "par_index") & (g["group"] == "B") & (g["year"] == 2020)].iloc[0]
    assert (b["announced"], b["count_min"], b["count_max"], b["count_min_without_counts"],
            b["count_max_without_counts"]) == (56, 56, 56, 55, 60)


def test_largest_value_change_2022_to_2024(exported):
    r = pd.read_csv(exported / "results.csv", dtype={"code": str})
    par = r[r["index_name"] == "par_index"].pivot(index="unit", columns="year", values="value")
    both = par[[2022, 2024]].dropna()
    change = (both[2024] - both[2022]).round(2)
    assert len(both) == 7
    assert change.idxmax() == LARGEST[0] and change.max() == LARGEST[1]


def test_national_regions_sources_and_codebook(exported):
    n = pd.read_csv(exported / "national.csv")
    mean = n[(n["index_name"] == "par_index") & (n["year"] == 2020) & (n["fact"] == "mean_63")].iloc[0]
    # the published mean, and what the rest of the record allows for it (the audit's leave-one-out)
    assert (mean["published"], mean["audit"], mean["allowed"]) == ("83.72", "consistent", "83.25–84.14")
    reg = pd.read_csv(exported / "regions.csv")
    th = reg[(reg["year"] == 2024) & (reg["index_name"] == "par_index") & (reg["region"] == "central_highlands")].iloc[0]
    assert (th["n_units"], th["mean_published"], th["region_vi"]) == (5, 85.63, "Tây Nguyên")
    assert reg[(reg["year"] == 2024) & (reg["index_name"] == "par_index")]["n_units"].sum() == 63
    src = pd.read_csv(exported / "sources.csv")
    cited = {s for f in ("results.csv", "national.csv", "regions.csv") for v in
             pd.read_csv(exported / f)["sources"].dropna() for s in v.split(";")}
    assert cited <= set(src["source_id"])
    assert src["url"].str.startswith("http").all() and src["class"].isin(["official", "press", "secondary"]).all()
    assert (src["published"].notna() | src["published_note"].notna()).all()
    desc = json.loads((exported / "datapackage.json").read_text(encoding="utf-8"))
    for res in desc["resources"]:
        assert all(f.get("description") for f in res["schema"]["fields"]), res["name"]
    wb = load_workbook(exported / "parindex.xlsx", read_only=True)
    assert wb.sheetnames[0] == "README"
    text = " ".join(str(c) for row in wb["README"].iter_rows(values_only=True) for c in row if c)
    assert "Cite as" in text and "index_name" in text and "count_max_without_counts" in text
