"""The notebooks as researchers use them: stock papermill and nbconvert give the report's content,
their own pyplot and seaborn cells show up everywhere, a failure keeps its evidence, briefs do not
share a namespace, and the README's worked example runs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, run_cli

pytestmark = pytest.mark.slow
NOTEBOOK = ROOT / "notebooks" / "yearly_report.ipynb"
BIN = Path(sys.executable).parent


def report_content(nb) -> list[str]:
    """The text of what the report shows: every output of every cell the report keeps.

    Figures count by kind (an SVG carries its own random ids and dates); notes tagged
    notebook-only and the parameters cells are not report content."""
    out = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code" or {"notebook-only", "parameters", "injected-parameters"} & set(tags):
            continue
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            for kind in ("text/markdown", "text/html", "text/plain"):
                if kind in data:
                    out.append(f"{kind}: {data[kind]}")
                    break
            for kind in ("image/svg+xml", "image/png"):
                if kind in data:
                    out.append(kind)
            if o.get("output_type") in ("stream", "error"):
                out.append(f"{o['output_type']}: {o.get('text', o.get('evalue'))}")
    return out


def test_notebooks_read_as_documents():
    for name in ("yearly_report", "methodology_review", "province_brief"):
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        heads = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                 if line.startswith("#")]
        assert heads[0].startswith("# ") and len(heads) >= 3, name
        assert all("notebook-only" in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "markdown")
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "stored without outputs"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert 'r.table("par_index")' in [c.source for c in nb.cells]


def test_stock_papermill_gives_the_reports_content(report_2013_vi, tmp_path):
    """One whole document through stock papermill: it injects the parameters and runs the stored
    notebook, and gives what `parindex report` gives (2013: every cell, a third of 2020's charts)."""
    ours = report_content(nbformat.read(report_2013_vi / "yearly_report_2013_vi.ipynb", as_version=4))
    subprocess.run([str(BIN / "papermill"), str(NOTEBOOK), str(tmp_path / "pm.ipynb"), "-p", "year", "2013",
                    "-p", "lang", "vi", "--no-progress-bar"], check=True, capture_output=True, cwd=ROOT / "notebooks")
    assert report_content(nbformat.read(tmp_path / "pm.ipynb", as_version=4)) == ours
    assert sum(x.count("<figure class='chart") for x in ours) >= 3


def test_stock_nbconvert_executes_the_stored_notebook(report_2020_vi, tmp_path):
    """`jupyter nbconvert --execute` on the notebook as stored (2020, Vietnamese), through its
    first chart: the same content as that edition's cells. (The whole document through a stock
    runner is papermill's test above: the cells are the same library calls.)"""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    end = next(i for i, c in enumerate(nb.cells) if c.source == 'r.ranking("par_index")') + 1
    nb.cells = nb.cells[:end]
    nbformat.write(nb, tmp_path / "first.ipynb")
    subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", str(tmp_path / "first.ipynb"),
                    "--output-dir", str(tmp_path), "--output", "nbc"], check=True, capture_output=True,
                   cwd=ROOT / "notebooks")
    ours = report_content(nbformat.read(report_2020_vi / "yearly_report_2020_vi.ipynb", as_version=4))
    got = report_content(nbformat.read(tmp_path / "nbc.ipynb", as_version=4))
    assert len(got) >= 5 and got == ours[:len(got)]
    assert any("<figure class='chart" in x for x in got)


def _readme_cell() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- worked-example-cell.*?-->\n```python\n(.*?)```", text, re.S)
    assert m, "README lost its worked example"
    return m.group(1)


@pytest.mark.usefixtures("bundled_2020")  # 2020 solved once a run, read from the shared cache
def test_readme_worked_example_and_ordinary_cells_show_everywhere(tmp_path):
    """The README's cell (pyplot + seaborn) in a copy of the notebook: its figure is in the executed
    notebook, the HTML and the PDF, built through the CLI as the README says."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.source == 'r.groups("par_index")') + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(_readme_cell()))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(
        'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [2, 1, 3])\nplt.title("plain pyplot")\nplt.show()'))
    # the rest of the report adds nothing to what is checked here: the copy ends with the added cells
    del nb.cells[at + 2:]
    copy = tmp_path / "my_report.ipynb"
    nbformat.write(nb, copy)
    r = run_cli("report", "--year", "2020", "--lang", "en", "--notebook", str(copy), "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    ex = nbformat.read(tmp_path / "out" / "my_report_2020_en.ipynb", as_version=4)
    added = [c for c in ex.cells if c.source in (nb.cells[at].source, nb.cells[at + 1].source)]
    assert len(added) == 2
    for cell in added:
        assert [o for o in cell.outputs if "image/png" in o.get("data", {})], cell.source
    html = (tmp_path / "out" / "my_report_2020_en.html").read_text(encoding="utf-8")
    assert html.count("data:image/png") == 2
    assert "notebook-only" not in html and "r.table(" not in html  # the notebook's notes stay out
    images = subprocess.run(["pdfimages", "-list", str(tmp_path / "out" / "my_report_2020_en.pdf")],
                            capture_output=True, text=True, check=True).stdout
    assert sum(1 for line in images.splitlines()[2:] if line.split()[2] == "image") == 2


def test_a_failing_cell_keeps_its_evidence_and_the_previous_report(report_2020_en, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(report_2020_en, out)  # a good report, built before
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # early, after the key findings: the cover's part is then exported before the failure (the
    # cells after a failure do not run, and the ones before it would only draw charts)
    at = next(i for i, c in enumerate(nb.cells) if c.source == "r.key_findings()") + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell('df = r.table("par_index")\ndf["no_such_column"]'))
    copy = tmp_path / "yearly_report.ipynb"  # same name: it would replace the good report
    nbformat.write(nb, copy)
    r = run_cli("report", "--year", "2020", "--lang", "en", "--format", "html", "--notebook", str(copy),
                "--out", str(out), "--verbose")
    assert r.returncode == 1
    failed = out / "yearly_report_2020_en.failed.ipynb"
    line = [x for x in r.stderr.splitlines() if x.startswith("error:")]
    assert line == [f"error: {failed}: cell {line[0].split('cell ')[1].split()[0]} failed: KeyError: "
                    "'no_such_column' (fix: open this notebook: the failing cell shows the traceback; "
                    "the previous report was kept)"]
    assert "--- kernel log" in r.stderr and "--- traceback ---" in r.stderr  # --verbose
    assert "KeyError" in r.stderr.split("--- traceback ---")[1] and "\x1b[" not in r.stderr
    ex = nbformat.read(failed, as_version=4)
    assert any("papermill-error-cell-tag" in c.metadata.get("tags", []) for c in ex.cells)
    assert any(o.get("ename") == "KeyError" for c in ex.cells for o in c.get("outputs", []))
    assert {p.name: p.read_bytes() for p in out.iterdir() if p != failed} == before
    # A good build of the same name supersedes the evidence of the old failure: the notebook's
    # parameters cell alone makes one (a whole report would prove no more here).
    nb.cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    nbformat.write(nb, copy)
    r = run_cli("report", "--year", "2020", "--lang", "en", "--format", "html", "--notebook", str(copy),
                "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert not failed.exists() and (out / "yearly_report_2020_en.html").read_bytes() != before["yearly_report_2020_en.html"]


@pytest.mark.usefixtures("bundled_2020")  # 2020 solved once a run, read from the shared cache
def test_each_brief_starts_from_a_clean_namespace(tmp_path):
    from parindex.build.briefs import build_briefs

    nb = nbformat.read(ROOT / "notebooks" / "province_brief.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        'assert "left_by_the_previous_brief" not in globals(), "namespace shared between briefs"\n'
        'left_by_the_previous_brief = province'))
    copy = tmp_path / "province_brief.ipynb"
    nbformat.write(nb, copy)
    res = build_briefs(2020, ["Quảng Ninh", "Hà Nội"], "en", ("html",), tmp_path / "b", notebook_path=copy)
    assert len([f for f in res.files if f.suffix == ".html"]) == 3  # two briefs (the second would fail) and the index
    assert json.loads(nbformat.writes(nbformat.read(next(f for f in res.files if f.suffix == ".ipynb"),
                                                    as_version=4)))["cells"]
