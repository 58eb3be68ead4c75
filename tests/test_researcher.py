"""The researcher's way in: the units of a year, a template to fill, joining other indices, JupyterLab (issue 20)."""

from __future__ import annotations

import json
import subprocess

import pandas as pd

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
    from parindex.registry import registry_for

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
