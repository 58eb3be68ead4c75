"""The researcher's way in: the units of a year, a template to fill, joining other indices, JupyterLab (issue 20)."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest

from conftest import ROOT, run_cli


def test_units_of_2025_with_codes_former_units_and_basis(tmp_path):
    r = run_cli("units", "--year", "2025", "--json")
    assert r.returncode == 0, r.stderr
    units = json.loads(r.stdout)["units"]
    assert len(units) == 34
    cm = next(u for u in units if u["name_vi"] == "Cà Mau")
    assert cm["code"] == "96" and cm["former_units"] == "Bạc Liêu (95); Cà Mau (96)"
    assert cm["legal_basis"] == "Nghị quyết 202/2025/QH15"
    r = run_cli("units", "--year", "2020", "--json")
    units = json.loads(r.stdout)["units"]
    assert len(units) == 63 and units[0]["iso_3166_2"] == "VN-HN" and units[0]["former_units"] is None
    assert units[0]["legal_basis"].startswith("Quyết định 124/2004/QĐ-TTg")


def test_template_is_accepted_once_filled(tmp_path):
    tpl = tmp_path / "par_2025.csv"
    r = run_cli("units", "--year", "2025", "--template", str(tpl))
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(tpl)
    assert list(t.columns) == ["province", "par_index", "rank"] and len(t) == 34 and t["par_index"].isna().all()
    t["par_index"] = [90 - i * 0.25 for i in range(34)]
    t["rank"] = range(1, 35)
    t.to_csv(tpl, index=False)
    r = run_cli("validate", str(tpl), "--index", "par_index", "--year", "2025", "--complete")
    assert r.returncode == 0, r.stdout + r.stderr
    assert run_cli("units", "--year", "2025", "--template", str(tmp_path)).returncode == 2
    bad = run_cli("units", "--year", "2025", "--template", str(tmp_path / "no" / "x.csv"))
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr
    assert not list(tmp_path.glob(".*.tmp"))


def test_another_index_joins_on_the_codes_with_one_merge():
    from parindex.data.registry import registry_for

    reg = registry_for(2020)
    # how other indices spell provinces: without diacritics, in English, by code
    theirs = pd.DataFrame({"province": ["Ha Noi", "Hanoi", "Thừa Thiên Huế", "Thua Thien Hue", "79", "Atlantis"],
                           "score": [1, 2, 3, 4, 5, 6]})
    codes = reg.codes(theirs["province"])
    assert list(codes.iloc[:5]) == ["01", "01", "46", "46", "79"] and pd.isna(codes.iloc[5])
    joined = theirs.assign(code=codes).merge(reg.frame()[["code", "name_vi", "iso_3166_2"]], on="code", how="left")
    assert joined.loc[4, "name_vi"] == "TP. Hồ Chí Minh" and pd.isna(joined.loc[5, "name_vi"])


def test_make_lab_takes_port_and_no_browser_and_runs_as_root():
    out = subprocess.run(["make", "-n", "lab", "PORT=8899", "NO_BROWSER=1"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "--port=8899" in out and "--no-browser" in out and "--allow-root" in out
    plain = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "--port" not in plain and "--no-browser" not in plain


def _readme_cell() -> str:
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"<!-- worked-example-cell.*?-->\n```python\n(.*?)```", text, re.S).group(1)


@pytest.mark.slow
def test_worked_example_warns_without_a_group_rule_and_still_plots(capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from parindex import Report

    for year, warned in ((2022, True), (2020, False)):
        plt.close("all")
        ns = {"r": Report(year, lang="en"), "year": year}
        exec(_readme_cell(), ns)
        out = capsys.readouterr().out
        assert ("no group rule recorded" in out) is warned, year
        ax = plt.gcf().axes[0]
        assert ax.collections and sum(len(c.get_offsets()) for c in ax.collections) >= 5  # points drawn
        assert ("(20 of 63)" if year == 2022 else "of 63)") in ax.get_title()


@pytest.mark.slow
def test_api_tables_name_their_columns_plainly_and_refuse_unknown_names():
    from parindex.errors import ParindexError
    from parindex import Report

    r = Report(2020, lang="en")
    df = r.table("par_index")
    assert "index_name" in df.columns and "index" not in df.columns
    for col in df.columns:  # one missing marker: pd.NA, never NaN or None
        assert not any(v is None or (isinstance(v, float) and v != v) for v in df[col].tolist()), col
    assert df["value"].isna().sum() > 0 and str(df["value"].dtype) == "Float64"
    for bad in ("par", "PAR_INDEX"):
        with pytest.raises(ParindexError) as e:
            r.table(bad)
        assert "par_index, sipas, ministries" in str(e.value) and "\n" not in str(e.value)
