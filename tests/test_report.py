"""The yearly report, executed for real: bundled data and a complete synthetic table."""

import json
import re
import subprocess
import unicodedata

import nbformat
import pytest

from conftest import ROOT, pdf_text, run_cli
from parindex.errors import ParindexError

slow = pytest.mark.slow  # builds through a kernel


@pytest.fixture
def previous_report(tmp_path):
    """A folder holding an earlier build's files, by name (what a refused build must not touch)."""
    out = tmp_path / "r"
    out.mkdir()
    for ext in ("html", "pdf", "ipynb", "build.json"):
        (out / f"yearly_report_2020_vi.{ext}").write_text(f"the previous {ext}", encoding="utf-8")
    return out


@pytest.fixture
def bundled_report(report_2020_vi):
    return report_2020_vi


@pytest.fixture
def complete_report(complete_report_en):
    return complete_report_en


@slow
def test_outputs_and_recorded_parameters(bundled_report):
    names = sorted(p.name for p in bundled_report.iterdir())
    assert names == ["yearly_report_2020_vi.build.json", "yearly_report_2020_vi.html",
                     "yearly_report_2020_vi.ipynb", "yearly_report_2020_vi.pdf"]
    nb = nbformat.read(bundled_report / "yearly_report_2020_vi.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "year = 2020" in injected[0].source and 'lang = "vi"' in injected[0].source
    build = json.loads((bundled_report / "yearly_report_2020_vi.build.json").read_text())
    assert build["parameters"]["year"] == 2020 and build["data_checksums"]["observations"]


@slow
def test_html_is_self_contained_without_code(bundled_report):
    html = (bundled_report / "yearly_report_2020_vi.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html)
    assert html.count("<script") == 1 and "table.appendix" in html  # the one inline script: sorting
    assert not re.search(r"""src=["']https?://""", html)  # nothing is loaded from outside
    # the only web addresses are the references' links, which load nothing
    refs = re.search(r"""<ol class=["']refs["']>.*?</ol>""", html, re.S).group(0)
    assert len(re.findall(r"""href=["']https?://""", html)) == len(re.findall(r"""href=["']https?://""", refs)) > 10
    text = re.sub(r"<[^>]+>", " ", html.replace(refs, ""))
    assert not re.search(r"\b[a-z0-9]+(-[a-z0-9]+)+-[0-9a-f]{6}\b", text)  # no raw source id outside the list
    assert "@import" not in html and "<link" not in html
    assert "jp-InputArea" not in html and "r.ranking(" not in html and "from parindex" not in html
    assert html.count("data:image/svg+xml") + html.count("<svg") >= 5  # figures embedded, not linked
    assert "PAR INDEX: giá trị công bố của 21/63 tỉnh; thứ hạng của 36/63; 27 tỉnh chưa được công bố giá trị hay thứ hạng." in html
    for name in ("Quảng Ninh", "Hải Phòng", "Bình Thuận", "Vĩnh Phúc", "Thừa Thiên Huế"):
        assert name in html
    assert "không có số liệu" in html  # missing values shown as missing


@slow
def test_pdf_text_has_names_counts_and_no_combining_marks(bundled_report):
    text = pdf_text(bundled_report / "yearly_report_2020_vi.pdf", "-layout")
    assert not [ch for ch in text if unicodedata.combining(ch)]
    assert text == unicodedata.normalize("NFC", text)
    for name in ("Quảng Ninh", "Hải Phòng", "Thừa Thiên Huế", "Bà Rịa - Vũng Tàu", "Đắk Lắk", "Quảng Ngãi"):
        assert name in text, name
    assert "27 tỉnh chưa được công bố giá trị hay thứ hạng" in " ".join(text.split())  # the cover's line wraps
    assert re.search(r"Nhóm A\s+2\s+2\s+tái tạo", text)
    assert re.search(r"Nhóm B\s+56\s+56\s+tái tạo được", text)  # announced, allowed, implied by the rest


@slow
def test_pdf_fonts_are_embedded(bundled_report):
    out = subprocess.run(["pdffonts", str(bundled_report / "yearly_report_2020_vi.pdf")], capture_output=True,
                         text=True, check=True).stdout.splitlines()[2:]
    assert out and all(line.split()[-5] == "yes" for line in out), out


@slow
def test_complete_table_report_reproduces_counts_and_tiers(complete_report):
    html = (complete_report / "yearly_report_2020_en.html").read_text(encoding="utf-8")
    assert "PAR INDEX: complete table of 63 provinces (synthetic_par_index_2020.csv)." in html
    # the appendix's ranks are the file's, not the Ministry's: said so in its header
    appendix = re.findall(r"<table[^>]*class=\"[^\"]*appendix[^\"]*\".*?</thead>", html, re.S)
    assert len(appendix) == 2 and all("Rank (your table)" in t and "Published rank" not in t for t in appendix)
    # so is the key figures' column: its highest and lowest values are the file's, not published
    (figures,) = re.findall(r"Table 1\. Key figures\..*?</thead>", html, re.S)
    assert "<th>Value</th>" in figures and "Published" not in figures
    text = pdf_text(complete_report / "yearly_report_2020_en.pdf", "-layout")
    assert re.search(r"Group A\s+2\s+2\s+reproduced", text)
    assert re.search(r"Group B\s+56\s+56\s+reproduced", text)
    assert re.search(r"Group C\s+5\s+5\s+reproduced", text)
    for name in ("Quảng Ninh", "Hải Phòng", "Bắc Giang", "Hải Dương", "Hưng Yên", "Vĩnh Phúc",
                 "Bình Thuận", "Đắk Lắk", "Cao Bằng", "Quảng Bình", "Quảng Ngãi", "Kiên Giang", "Bình Phước"):
        assert name in text
    assert not [ch for ch in text if unicodedata.combining(ch)]


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("args,needle", [
    (["--lang", "fr"], "unknown language 'fr'"),
    (["--year", "1999"], "no bundled data for 1999"),
    (["--format", "docx"], "unknown format 'docx'"),
])
def test_bad_parameter_keeps_the_old_report(previous_report, args, needle):
    out = previous_report
    before = _snapshot(out)
    r = run_cli("report", "--out", str(out), *(args if "--year" in args else ["--year", "2020", *args]))
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert _snapshot(out) == before


def test_a_bad_table_is_refused_before_a_kernel_is_launched(tmp_path, monkeypatch):
    from parindex.build import report

    def launched(*a, **kw):
        raise AssertionError("a kernel was launched for a table that cannot be read")

    monkeypatch.setattr(report, "ReportKernel", launched)
    bad = tmp_path / "bad.csv"
    bad.write_text("province,par_index\nHà Nội,abc\n", encoding="utf-8")
    with pytest.raises(ParindexError, match="'abc' is not a number"):
        report.build(2020, par_index_file=str(bad), out=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_bad_user_table_fails_before_the_kernel(previous_report, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("province,par_index\nAtlantis,91\n", encoding="utf-8")
    out = previous_report
    before = _snapshot(out)
    r = run_cli("report", "--year", "2020", "--par-index", str(bad), "--out", str(out))
    assert r.returncode == 2 and "unknown province 'Atlantis'" in r.stderr
    assert _snapshot(out) == before


@slow
def test_failing_cell_keeps_the_old_report(previous_report, tmp_path):
    from parindex.build.report import build

    nb = nbformat.read(ROOT / "notebooks" / "yearly_report.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('boom in a cell')"))
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nb, broken)
    out = previous_report
    for p in out.iterdir():  # same stem as the broken build would write
        p.rename(out / p.name.replace("yearly_report", "broken"))
    before = _snapshot(out)
    with pytest.raises(ParindexError) as e:
        build(2020, out=out, notebook="broken", notebook_path=broken, formats=("html",))
    assert e.value.exit_code == 1
    assert "broken_2020_vi.failed.ipynb" in str(e.value) and "RuntimeError: boom in a cell" in str(e.value)
    failed = out / "broken_2020_vi.failed.ipynb"  # the evidence, beside the untouched old report
    assert failed.is_file()
    failed.unlink()
    assert _snapshot(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".r.building")]


def test_parameters_are_validated_before_running(tmp_path):
    from parindex.build.parameters import validate_parameters

    nb = ROOT / "notebooks" / "yearly_report.ipynb"
    with pytest.raises(ParindexError, match="unknown parameter 'yaer'"):
        validate_parameters({"yaer": 2020}, nb)
    with pytest.raises(ParindexError, match="parameter 'year' must be int"):
        validate_parameters({"year": "2020"}, nb)
    # the names are papermill's reading of the cell: annotations and comments included
    own = nbformat.v4.new_notebook()
    own.cells = [nbformat.v4.new_code_cell('year: int = 2020  # the year\n# sipas_file = ""\nlang = "vi"  # x = 1')]
    own.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(own, tmp_path / "own.ipynb")
    validate_parameters({"year": 2020}, tmp_path / "own.ipynb")
    with pytest.raises(ParindexError, match=r"no parameter \['sipas_file'\]"):
        validate_parameters({"year": 2020, "sipas_file": ""}, tmp_path / "own.ipynb")
    # a line papermill cannot read is named in the one-line error, not logged beside it
    with pytest.raises(ParindexError, match=r"no parameter \['lang'\].*papermill: Unable to parse line 3"):
        validate_parameters({"year": 2020, "lang": "vi"}, tmp_path / "own.ipynb")
    own.cells[0].metadata["tags"] = []
    nbformat.write(own, tmp_path / "own.ipynb")
    with pytest.raises(ParindexError, match="no cell tagged 'parameters'"):
        validate_parameters({"year": 2020}, tmp_path / "own.ipynb")


def test_stored_notebooks_have_no_outputs():
    for p in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(p, as_version=4)
        for c in nb.cells:
            if c.cell_type == "code":
                assert not c.outputs and c.execution_count is None, p


@slow
def test_pdf_pages_numbered_titled_and_bookmarked(bundled_report):
    import pikepdf

    path = bundled_report / "yearly_report_2020_vi.pdf"
    pdf = pikepdf.open(path)
    n = len(pdf.pages)
    pages = pdf_text(path).split("\f")[:n]
    for i, page in enumerate(pages, start=1):  # stamped once over the joined parts
        assert re.search(rf"\b{i} / {n}\b", page), (i, page[-200:])
        assert "Báo cáo PAR INDEX & SIPAS năm 2020" in page.splitlines()[0]
    with pdf.open_outline() as outline:
        (root,) = outline.root
        starts = {item.title: pdf.pages.index(pikepdf.Page(item.destination[0])) for item in root.children}
    assert root.title == "Báo cáo PAR INDEX & SIPAS năm 2020"
    assert list(starts.values()) == sorted(starts.values())
    # A cell tagged new-page starts its section at the top of a page.
    for title in ("Các thành phần của PAR INDEX", "Phương pháp và dữ liệu", "Phụ lục: bảng 63 tỉnh, thành phố — SIPAS"):
        first_lines = [ln.strip() for ln in pages[starts[title]].splitlines()[1:] if ln.strip()]
        assert first_lines[0] == title, (title, first_lines[:3])
    assert pdf.Root.Lang == "vi" and str(pdf.docinfo["/Title"]) == "Báo cáo PAR INDEX & SIPAS năm 2020"


@slow
@pytest.mark.parametrize("year", [2020, 2013])
def test_report_is_the_same_however_it_is_split(request, year, tmp_path):
    """The HTML file is the parts' HTML joined; the pipelined PDF equals the exporter's PDF:
    2020's parts on pages of their own after a contents page, 2013's as one flowing text with its
    contents list after the cover (the exporter's PDF had none)."""
    from parindex.render.exporters import ReportHTMLExporter, part_notebook, part_ranges, render_pdf
    from parindex.render.pages import html_page

    built = request.getfixturevalue(f"report_{year}_vi")
    nb = nbformat.read(built / f"yearly_report_{year}_vi.ipynb", as_version=4)
    ranges = part_ranges(nb)
    assert len(ranges) == 1 + sum("new-page" in c.metadata.get("tags", []) for c in nb.cells) == 8
    title = f"Báo cáo PAR INDEX & SIPAS năm {year}"
    exporter = ReportHTMLExporter(page_title=title, lang="vi")
    whole = exporter.body(nb)
    assert whole == "".join(exporter.body(part_notebook(nb, a, b)) for a, b in ranges)
    html = (built / f"yearly_report_{year}_vi.html").read_text(encoding="utf-8")
    assert html == html_page(whole, title, "vi", for_pdf=False, contents="Mục lục")
    again = tmp_path / "again.pdf"
    again.write_bytes(render_pdf(nb, title, "vi", "Mục lục"))  # one process, part after part
    text = pdf_text(again, "-layout")
    assert text == pdf_text(built / f"yearly_report_{year}_vi.pdf", "-layout")
    assert "Mục lục" in text.split("\f")[1]  # the contents: a page of its own, or after the cover


@slow
@pytest.mark.parametrize("year,compact", [(2013, True), (2020, False)])
def test_a_thin_years_parts_are_laid_out_once(request, year, compact):
    """A thin year's PDF is one flowing text laid out at the end (pages.pdf_layout): its parts
    go to the PDF workers no sooner, one by one, only to be laid out again; other years' do, and
    only a thin part is laid out again, with its neighbour."""
    from concurrent.futures import Future

    from parindex.build.parts import PartExports
    from parindex.render.pages import pdf_layout

    class Pool:  # what the workers are asked to do, each answered at once
        def __init__(self):
            self.asked = []

        def submit(self, fn, *args):
            self.asked.append(fn.__name__)
            done = Future()
            done.set_result(None)
            return done

    nb = nbformat.read(request.getfixturevalue(f"report_{year}_vi") / f"yearly_report_{year}_vi.ipynb", as_version=4)
    ex = PartExports("t", "vi", 0)
    ex.pool = pool = Pool()
    try:
        for i in range(len(nb.cells)):
            ex.cell_complete(i, nb)
        ex.complete(nb)
        for body in ex.bodies.values():  # the parts still exporting on the thread
            body.result()
        before = list(pool.asked)  # the parts laid out while the kernel ran
        ex.pdf(nb)
        bodies = [ex.bodies[r].result() for r in ex.ranges]
    finally:
        ex.pool = None
        ex.close()
    assert ex.compact is compact
    groups = pdf_layout(bodies, "")[0]
    assert before == ([] if compact else ["render_body"] * 8)
    assert pool.asked[len(before):] == (["render_body"] * (1 if compact else sum(len(g) > 1 for g in groups))
                                        + ["assemble"])


def _small_notebook(path, *code):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('year = 2020\npar_index_file = ""\nsipas_file = ""\nlang = "vi"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in code)]
    nbformat.write(nb, path)
    return path


@slow
def test_report_kernel_is_this_python_with_an_empty_namespace(tmp_path):
    import sys

    from parindex.build.report import build

    nb_path = _small_notebook(tmp_path / "probe.ipynb", "import sys\nprint(sys.executable)",
                              "print(sorted(k for k in globals() if not k.startswith('_')))")
    res = build(2020, out=tmp_path / "out", notebook="probe", notebook_path=nb_path, formats=("html",))
    nb = nbformat.read(res.out_dir / "probe_2020_vi.ipynb", as_version=4)
    assert nb.cells[2].outputs[0]["text"].strip() == sys.executable
    names = eval(nb.cells[3].outputs[0]["text"])  # the preloaded modules left no names behind
    assert set(names) - {"In", "Out", "exit", "quit", "get_ipython", "open"} == {  # a stock kernel's names
        "year", "par_index_file", "sipas_file", "lang", "sys"}


@slow
def test_dying_kernel_is_one_error_and_keeps_the_old_report(tmp_path):
    from parindex.build.report import build

    nb_path = _small_notebook(tmp_path / "dies.ipynb", "import os\nos._exit(3)")
    out = tmp_path / "out"
    out.mkdir()
    (out / "dies_2020_vi.html").write_text("the previous report", encoding="utf-8")
    with pytest.raises(ParindexError, match="the kernel died") as e:
        build(2020, out=out, notebook="dies", notebook_path=nb_path, formats=("html",))
    assert e.value.exit_code == 1
    assert (out / "dies_2020_vi.html").read_text(encoding="utf-8") == "the previous report"


def test_a_kernel_whose_process_ended_is_dead_without_asking_its_heartbeat():
    """The liveness check asks our kernel's process first: an exited kernel is reported at the
    next check, not after the heartbeat has missed its beats (two seconds more)."""
    import asyncio

    from nbclient.exceptions import DeadKernelError

    from parindex.build.execute import StoppableClient

    class Ended:
        has_kernel = False

    class NoHeartbeat:
        def is_alive(self):
            raise AssertionError("the heartbeat was asked about a kernel whose process had ended")

    client = StoppableClient.__new__(StoppableClient)
    client.km, client.kc = Ended(), NoHeartbeat()
    loop = asyncio.new_event_loop()  # a loop of its own: asyncio.run would unset the thread's
    try:  # current one, which nbclient's runs in this worker reuse (jupyter_core)
        with pytest.raises(DeadKernelError):
            loop.run_until_complete(client._async_check_alive())
    finally:
        loop.close()


@slow
def test_kernel_that_answers_late_is_still_reached(tmp_path):
    """A kernel slowed down at start (a busy machine) answers its first requests late."""
    import os
    import signal
    import threading

    from parindex.build.kernel import ReportKernel

    k = ReportKernel(tmp_path, tmp_path / "kernel.log")
    try:
        os.kill(k.proc.pid, signal.SIGSTOP)
        k.connect()
        threading.Timer(1.5, os.kill, (k.proc.pid, signal.SIGCONT)).start()
        kc = k.client(timeout=30)
        msg_id = kc.kernel_info()
        from jupyter_client.utils import run_sync

        assert run_sync(kc.get_shell_msg)(timeout=10)["parent_header"]["msg_id"] == msg_id
        kc.stop_channels()
    finally:
        k.shutdown()
