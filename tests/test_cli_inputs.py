"""Every bad input: one line naming file/row/column and the fix, exit code 2, no traceback."""

import unicodedata

import pytest

from conftest import SYN_PAR, SYN_SIPAS, run_cli, summary_json

GOOD = SYN_PAR.read_text(encoding="utf-8")


def write(tmp_path, name, content, mode="text", encoding="utf-8"):
    p = tmp_path / name
    if mode == "bytes":
        p.write_bytes(content)
    else:
        p.write_text(content, encoding=encoding)
    return p


def assert_one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [x for x in r.stderr.strip().splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def validate(path, *extra):
    return run_cli("validate", str(path), "--index", "par_index", "--year", "2020", *extra)


def test_good_complete_table_validates(tmp_path):
    r = validate(SYN_PAR, "--complete")
    assert r.returncode == 0, r.stderr
    assert "63 values" in r.stdout and "complete table" in r.stdout


def test_bom_semicolon_decimal_comma_and_percent_are_accepted(tmp_path):
    rows = GOOD.splitlines()
    out = ["province;par_index;rank"]
    for line in rows[1:]:
        name, val, rank, _ = line.split(",", 3)
        out.append(f"{name};{val.replace('.', ',')}%;{rank}")
    p = write(tmp_path, "bom.csv", "\ufeff" + "\n".join(out) + "\n")
    r = validate(p, "--complete")
    assert r.returncode == 0, r.stderr
    doc = summary_json("--par-index", str(p), "--sipas", str(SYN_SIPAS))  # (a complete SIPAS: solved at once)
    assert doc["par_index"]["groups"] == {"A": 2, "B": 56, "C": 5, "D": 0}


def test_partial_table_reports_missing_provinces(tmp_path):
    p = write(tmp_path, "partial.csv", "province,par_index\nQuảng Ninh,91.04\nHai Phong,\"90,51\"\n")
    r = validate(p)
    assert r.returncode == 0, r.stderr
    assert "missing provinces (61)" in r.stdout and "Thừa Thiên Huế" in r.stdout
    assert "partial table" in r.stdout


def test_empty_file(tmp_path):
    assert_one_line_error(validate(write(tmp_path, "empty.csv", "")), "empty.csv", "empty", "fix:")


def test_header_only(tmp_path):
    assert_one_line_error(validate(write(tmp_path, "h.csv", "province,par_index\n")), "row 2", "no data rows")


def test_missing_value_column(tmp_path):
    p = write(tmp_path, "nocol.csv", "province,value\nQuảng Ninh,91.04\n")
    assert_one_line_error(validate(p), "nocol.csv", "row 1", "column 'par_index'", "no 'par_index' column",
                          "found: province, value")


def test_unknown_province_suggests(tmp_path):
    p = write(tmp_path, "unk.csv", "province,par_index\nQuảng Ninh,91.04\nHai Phong x,90.51\n")
    assert_one_line_error(validate(p), "unk.csv", "row 3", "column 'province'", "unknown province",
                          "Hải Phòng")


def test_duplicate_province_in_two_spellings(tmp_path):
    p = write(tmp_path, "dup.csv", "province,par_index\nQuảng Ninh,91.04\nQuang Ninh,90.51\n")
    assert_one_line_error(validate(p), "dup.csv", "row 3", "duplicate province 'Quảng Ninh'", "row 2")


@pytest.mark.parametrize("value", ["101", "-1", "9104"])
def test_value_out_of_range(tmp_path, value):
    p = write(tmp_path, "range.csv", f"province,par_index\nQuảng Ninh,{value}\n")
    assert_one_line_error(validate(p), "row 2", "column 'par_index'", "outside 0-100", "percent")


@pytest.mark.parametrize("value", ["abc", "91.0.4", "91,04.1"])
def test_non_numeric_value(tmp_path, value):
    p = write(tmp_path, "nan.csv", f'province,par_index\nQuảng Ninh,"{value}"\n')
    assert_one_line_error(validate(p), "row 2", "column 'par_index'", "is not a number")


def test_missing_province_in_table_declared_complete(tmp_path):
    p = write(tmp_path, "short.csv", "\n".join(GOOD.splitlines()[:-1]) + "\n")
    assert_one_line_error(validate(p, "--complete"), "short.csv", "1 province(s) missing", "Quảng Ngãi")


def test_windows_1258_export_is_refused(tmp_path):
    # Windows-1258 encodes ơ as 0xF5 and ả via combining marks; any such byte is invalid UTF-8.
    p = write(tmp_path, "cp1258.csv", unicodedata.normalize("NFD", "province,par_index\nQuảng Ninh,91.04\n").encode("cp1258"), mode="bytes")
    assert_one_line_error(validate(p), "cp1258.csv", "not UTF-8", "CSV UTF-8")


def test_utf16_export_is_refused(tmp_path):
    p = write(tmp_path, "u16.csv", "province,par_index\nQuảng Ninh,91.04\n".encode("utf-16"), mode="bytes")
    assert_one_line_error(validate(p), "u16.csv", "UTF-16", "CSV UTF-8")


def test_xlsx_with_header_below_a_title_row(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Phụ lục: Chỉ số CCHC năm 2020"])
    ws.append([])
    ws.append(["Tỉnh/thành phố", "PAR INDEX", "Xếp hạng"])
    ws.append(["Quảng Ninh", 91.04, 1])
    p = tmp_path / "annex.xlsx"
    wb.save(p)
    assert_one_line_error(validate(p), "annex.xlsx", "header is on row 3", "delete the 2 row(s)")


def test_xlsx_with_percent_cells_and_codes(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Mã tỉnh", "PAR INDEX", "Xếp hạng"])
    for line in GOOD.splitlines()[1:]:
        name, val, rank, _ = line.split(",", 3)
        from parindex.infer.analysis import load_bundle

        code = load_bundle().registry.lookup(name).code
        ws.append([int(code), float(val) / 100, int(rank)])
        ws.cell(ws.max_row, 2).number_format = "0.00%"
    p = tmp_path / "codes.xlsx"
    wb.save(p)
    assert validate(p, "--complete").returncode == 0
    doc = summary_json("--par-index", str(p), "--sipas", str(SYN_SIPAS))
    assert doc["par_index"]["groups"]["A"] == 2 and doc["par_index"]["groups"]["B"] == 56


def test_missing_file_and_unknown_year():
    assert_one_line_error(validate("nope.csv"), "nope.csv", "file not found")
    r = run_cli("summary", "--year", "1999")
    assert_one_line_error(r, "no bundled data for 1999")


@pytest.mark.slow  # solves a bundled year cold
def test_summary_json_has_the_promised_keys():
    doc = summary_json("--year", "2020")
    assert doc["par_index"]["groups"] == {"A": 2, "B": 30, "C": 4, "D": 0}  # the counts place 3 more in C
    assert doc["par_index"]["count_ranges"]["B"] == [56, 56]
    assert doc["par_index"]["count_ranges_without_counts"]["B"] == [55, 60]
    assert doc["sipas"]["cutoffs_allowed"] == {"90": [89.15, 91.65], "80": [77.43, 81.82]}
    assert doc["par_index"]["coverage"]["with_value"] == 21
    assert sorted(doc["sipas"]["tiers"]["highest"]) == sorted(doc["sipas"]["published_tiers"]["highest"])
    assert sorted(doc["sipas"]["tiers"]["lowest"]) == sorted(doc["sipas"]["published_tiers"]["lowest"])
    assert doc["sipas"]["published_tiers"]["highest"][-1] == "Vĩnh Phúc"
    assert {a["status"] for a in doc["audit"]} <= {"reproduced", "consistent", "contradicted", "not_checkable"}
    qn = next(p for p in doc["par_index"]["provinces"] if p["province"] == "Quảng Ninh")
    assert qn["value"] == 91.04 and qn["group"] == "A" and qn["sources"]
    vp = next(p for p in doc["par_index"]["provinces"] if p["province"] == "Vĩnh Phúc")
    assert vp["value"] is None and vp["group"] is None and vp["possible_groups"] == ["B", "C"]


def test_summary_json_on_complete_tables():
    from conftest import SYN_SIPAS

    doc = summary_json("--par-index", str(SYN_PAR), "--sipas", str(SYN_SIPAS))
    assert doc["par_index"]["groups"] == {"A": 2, "B": 56, "C": 5, "D": 0}
    assert sorted(doc["sipas"]["tiers"]["highest"]) == sorted(doc["sipas"]["published_tiers"]["highest"])
    assert sorted(doc["sipas"]["tiers"]["lowest"]) == sorted(doc["sipas"]["published_tiers"]["lowest"])


@pytest.mark.parametrize("args,words", [
    (["report", "--lang", "fr"], "unknown language 'fr'"),
    (["report", "--year", "²"], "four-digit year"),
    (["report", "--year", "9" * 5000], "four-digit year"),
    (["report", "--format", "docx"], "unknown format 'docx'"),
    (["report", "--out", "README.md"], "--out is a file"),
    (["review", "--out", "/proc/parindex-x"], "cannot write next to --out"),
    (["nosuchcommand"], "No such command"),
    (["report", "--lang"], "requires an argument"),
    (["summary", "--year", "abc"], "Invalid value for '--year'"),
])
def test_options_are_refused_in_one_line_before_any_kernel(args, words):
    r = run_cli(*args)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], r.stderr
    assert len(lines[0]) < 500


def test_paths_that_are_not_files_are_named_precisely(tmp_path):
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for path, words in ((str(tmp_path), "a folder, not a file"), (str(fifo), "a pipe (FIFO)"),
                        ("/dev/null", "a device"), ("", "the file name is empty")):
        r = run_cli("validate", path, "--index", "par_index")
        assert r.returncode == 2 and words in r.stderr, (path, r.stderr)


def test_user_text_is_never_markup_or_escape_sequences(tmp_path):
    odd = tmp_path / "a[/]b [blink red]x\x1b[31m.csv"
    r = run_cli("validate", str(odd), "--index", "par_index")
    assert r.returncode == 2
    assert "[blink red]" in r.stderr and "a[/]b" in r.stderr and "\x1b" not in r.stderr


def test_bounded_reading_and_shifted_rows(tmp_path):
    from openpyxl import Workbook

    shifted = tmp_path / "shift.csv"
    shifted.write_text("province,par_index,rank\nQuảng Ninh,91,04,1\n", encoding="utf-8")
    r = run_cli("validate", str(shifted), "--index", "par_index")
    assert r.returncode == 2 and "row 2" in r.stderr and "decimal comma" in r.stderr
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["A2"], ws["B2"] = "province", "par_index", "Quảng Ninh", 91.04
    ws["XFD1048576"] = "stray"
    far = tmp_path / "far.xlsx"
    wb.save(far)
    r = run_cli("validate", str(far), "--index", "par_index")
    assert r.returncode == 0, r.stderr  # read only as wide and as long as a table can be
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("province,par_index\n" + "\n" * (6 * 1024 * 1024))
    r = run_cli("validate", str(big), "--index", "par_index")
    assert r.returncode == 2 and "too large" in r.stderr
    long_field = tmp_path / "long.csv"
    long_field.write_text("province,par_index\n\"" + "x" * 200_000 + "\",1\n", encoding="utf-8")
    r = run_cli("validate", str(long_field), "--index", "par_index")
    assert r.returncode == 2 and "unreadable row" in r.stderr


def test_out_of_range_components_and_valueless_tables_are_refused(tmp_path):
    comp = tmp_path / "comp.csv"
    comp.write_text("province,par_index,appraisal_points\nQuảng Ninh,91.04,99999\n", encoding="utf-8")
    r = run_cli("validate", str(comp), "--index", "par_index")
    assert r.returncode == 2 and "appraisal_points" in r.stderr and "outside 0-100" in r.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("province,par_index\nQuảng Ninh,\nHải Phòng,\n", encoding="utf-8")
    r = run_cli("validate", str(empty), "--index", "par_index")
    assert r.returncode == 2 and "no row has a value" in r.stderr


def _xlsx(path, sheet_rows: str = "", shared: bytes | None = None, sheet: bytes | None = None,
          extra: dict | None = None):
    """A minimal workbook written part by part (streamed: a huge part costs little disk or memory)."""
    import zipfile

    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                   '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
                   f'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}"><sheets>'
                   '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
                   f'Target="worksheets/sheet1.xml"/></Relationships>')
        for part, body in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", shared),
                           *(extra or {}).items()):
            if part.endswith("sheet1.xml") and body is None:
                body = f'<?xml version="1.0"?><worksheet {ns}><sheetData>{sheet_rows}</sheetData></worksheet>'.encode()
            if body is None:
                continue
            with z.open(part, "w", force_zip64=True) as f:
                for i in range(0, len(body), 1 << 22):
                    f.write(body[i:i + (1 << 22)])
    return path


def _repeat(head: str, unit: str, n: int, tail: str) -> bytes:
    return head.encode() + unit.encode() * n + tail.encode()


_WS = '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
_SST = '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


@pytest.mark.parametrize("shape,words", [
    # one huge inline string (the issue's was 300 MB from 310 KB on disk)
    (dict(sheet=_repeat(_WS + '<row r="1"><c r="A1" t="inlineStr"><is><t>', "a", 60_000_000,
                        "</t></is></c></row></sheetData></worksheet>")), "unpacks to 57 MB"),
    # a long string that fits in a part, but not in a cell
    (dict(sheet=_repeat(_WS + '<row r="1"><c r="A1" t="inlineStr"><is><t>', "a", 5_000_000,
                        "</t></is></c></row></sheetData></worksheet>")), "more than 2000 characters"),
    # one shared string in many rich-text runs, each short
    (dict(shared=_repeat(_SST + "<si>", "<r><t>" + "a" * 1500 + "</t></r>", 1000, "</si></sst>")),
     "more than 2000 characters"),
    # millions of shared strings (the issue's: 20 M in 830 KB)
    (dict(shared=_repeat(_SST, "<si><t>a</t></si>", 2_000_000, "</sst>")), "sharedStrings.xml unpacks to"),
    (dict(shared=_repeat(_SST, "<si><t>a</t></si>", 400_000, "</sst>")), "more than 50000 shared strings"),
    # a row of millions of cells (the issue's: 3 M cells in 92 KB)
    (dict(sheet=_repeat(_WS + '<row r="1">', "<c/>", 3_000_000, "</row></sheetData></worksheet>")),
     "sheet1.xml unpacks to"),
    (dict(sheet=_repeat(_WS + '<row r="1">', "<c/>", 2_000_000, "</row></sheetData></worksheet>")),
     "more than 50000 cells"),
    (dict(sheet=_repeat(_WS + '<row r="1">', "<x/>", 2_000_000, "</row></sheetData></worksheet>")),
     "more than 300000 XML elements"),
    # a part openpyxl parses whole (styles) is held to less
    (dict(extra={"xl/styles.xml": _repeat("<styleSheet>", "<x/>", 1_300_000, "</styleSheet>")}),
     "part xl/styles.xml unpacks to 5 MB"),
    (dict(sheet=_repeat('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]>' + _WS, "", 0,
                        "</sheetData></worksheet>")), "cannot read the workbook"),
])
def test_small_xlsx_that_unpacks_to_a_lot_is_refused_before_reading(tmp_path, shape, words):
    p = _xlsx(tmp_path / "t.xlsx", **shape)
    assert p.stat().st_size < 200_000  # small on disk
    r = validate(p)
    assert_one_line_error(r, "t.xlsx", words)


def test_formula_without_saved_result_is_named(tmp_path):
    p = _xlsx(tmp_path / "f.xlsx", '<row r="1"><c r="A1" t="inlineStr"><is><t>province</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>par_index</t></is></c></row>'
              '<row r="2"><c r="A2" t="str"><f>UPPER("Hà Nội")</f></c><c r="B2"><v>80.1</v></c></row>')
    assert_one_line_error(validate(p), "cell A2 holds a formula without a saved result")
    ok = _xlsx(tmp_path / "ok.xlsx", '<row r="1"><c r="A1" t="inlineStr"><is><t>province</t></is></c>'
               '<c r="B1" t="inlineStr"><is><t>par_index</t></is></c></row>'
               '<row r="2"><c r="A2" t="str"><f>"Hà Nội"</f><v>Hà Nội</v></c><c r="B2"><v>80.1</v></c></row>')
    r = validate(ok)
    assert r.returncode == 0 and "1 rows, 1 values" in r.stdout, r.stderr


def test_xlsx_named_csv_is_recognised_by_its_signature(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["province", "par_index"])
    wb.active.append(["Hà Nội", 80.1])
    p = tmp_path / "table.csv"
    wb.save(p)
    assert_one_line_error(validate(p), "table.csv", "ZIP file (an XLSX workbook?) named .csv", "rename it to .xlsx")


@pytest.fixture
def mount(tmp_path):
    """mount(options) -> a fresh tmpfs folder mounted with those options (skipped where mounting is not allowed)."""
    import subprocess

    done = []

    def make(options: str, name: str = "mnt"):
        d = tmp_path / name
        d.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(d)], capture_output=True)
        if r.returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        done.append(d)
        return d

    yield make
    for d in done:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


@pytest.mark.parametrize("cmd", [["report", "--year", "2020"], ["export", "--year", "2020"]])
def test_out_is_checked_before_anything_starts(tmp_path, mount, cmd):
    assert_one_line_error(run_cli(*cmd, "--out", ""), "--out is empty")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert_one_line_error(run_cli(*cmd, "--out", str(tmp_path / "dangling")), "which does not exist")
    ro = mount("ro,size=1m")
    assert_one_line_error(run_cli(*cmd, "--out", str(ro)), "cannot write into --out", "Read-only file system")
    assert_one_line_error(run_cli(*cmd, "--out", str(ro / "sub")), "cannot write next to --out")


def test_a_year_without_data_is_refused_before_any_folder(tmp_path):
    for cmd in (["report"], ["brief", "--province", "all"]):
        r = run_cli(*cmd, "--year", "1999", "--out", str(tmp_path / "new" / "deep"))
        assert_one_line_error(r, "no bundled data for 1999")
        assert not (tmp_path / "new").exists()


def test_bundled_years_read_without_pandas_match_the_bundle(bundle):
    from parindex.data.paths import bundled_years

    assert bundled_years() == bundle.years()


def test_an_invalid_notebook_is_one_line(tmp_path):
    for text in ('{"not": 1', '{"cells": 5}', "\udcff"):
        nb = tmp_path / "mine.ipynb"
        nb.write_text(text, encoding="utf-8", errors="surrogateescape")
        r = run_cli("report", "--year", "2020", "--notebook", str(nb), "--out", str(tmp_path / "o"))
        assert_one_line_error(r, "mine.ipynb: not a readable notebook")
        assert not (tmp_path / "o").exists()


def test_disk_full_and_file_size_limit_are_named(tmp_path, mount):
    import resource
    import subprocess
    import sys

    from conftest import ROOT

    # one thin year, quick to solve cold (33 KB of files, results.csv 11.8 KB): every year would solve twelve
    full = mount("size=16k", "full")
    r = run_cli("export", "--year", "2015", "--out", str(full))
    assert r.returncode == 1 and "the disk is full" in r.stderr and "internal error" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (8_000, 8_000))

    r = subprocess.run([sys.executable, "-m", "parindex.cli", "export", "--year", "2015", "--out",
                        str(tmp_path / "big")], capture_output=True, text=True, cwd=ROOT, preexec_fn=small_files)
    assert r.returncode == 1 and "file-size limit" in r.stderr and "internal error" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_table_of_fractions_is_refused(tmp_path):
    rows = GOOD.splitlines()
    out = [rows[0]]
    for line in rows[1:]:
        name, val, rest = line.split(",", 2)
        out.append(f"{name},{float(val) / 100:.4f},{rest}")
    p = write(tmp_path, "fractions.csv", "\n".join(out) + "\n")
    r = validate(p, "--complete")
    assert_one_line_error(r, "fractions.csv", "these look like fractions, not percent", "91.04, not 0.9104")


@pytest.mark.parametrize("code", ["²", "٣", "9" * 5000])
def test_odd_digits_and_huge_codes_are_unknown_provinces(tmp_path, code):
    p = write(tmp_path, "codes.csv", f"province,par_index\n{code},85\n")
    assert_one_line_error(validate(p), "row 2, column 'province': unknown province")
    assert_one_line_error(run_cli("brief", "--province", code, "--out", str(tmp_path / "b")), "unknown province")
    assert not (tmp_path / "b").exists()


def test_native_solver_output_is_silenced(tmp_path, monkeypatch):
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import os\nfrom parindex.cli import _native_output_silenced\nwith _native_output_silenced():\n"
            "    os.write(1, b'Running HiGHS 1.x\\n'); os.write(2, b'WARNING: HiGHS\\n')\nprint('after')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout == "after\n" and r.stderr == "", (r.stdout, r.stderr)
    # a thin year (22 HiGHS solves, 0.3 s), cold: with the run's shared cache another test's solve
    # of it would leave HiGHS nothing to print
    monkeypatch.setenv("PARINDEX_CACHE", str(tmp_path / "cache"))
    r = run_cli("summary", "--year", "2015")
    assert r.returncode == 0 and r.stderr == "", r.stderr


BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidi_controls_never_reach_the_terminal(tmp_path):
    from parindex.errors import clean

    assert clean(f"a{BIDI}b") == "a" + "?" * len(BIDI) + "b"
    p = write(tmp_path, "table\u202ecsv.exe.csv", "province,par_index\nmoc\u202eevil,91.04\n")
    r = validate(p)
    assert r.returncode == 2 and not any(c in r.stderr for c in BIDI) and "table?csv.exe.csv" in r.stderr and "moc?evil" in r.stderr, r.stderr
    ok = write(tmp_path, "ok\u2067.csv", "province,par_index\nQuảng Ninh,91.04\n")
    r = validate(ok)
    assert r.returncode == 0 and not any(c in r.stdout + r.stderr for c in BIDI) and "ok?.csv" in r.stdout


def test_the_cache_runs_no_code_and_recomputes_what_is_not_its_own(tmp_path, monkeypatch):
    import os
    import pickle

    cache, proof = tmp_path / "cache", tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {proof}",))

    monkeypatch.setenv("PARINDEX_CACHE", str(cache))  # the CLI's process gets this environment

    def summary() -> str:
        r = run_cli("summary", "--year", "2015", "--json")  # a year quick to solve cold
        assert r.returncode == 0 and r.stderr == "", r.stderr
        return r.stdout

    cold = summary()
    entries = sorted(cache.iterdir())
    assert entries and all(p.suffix == ".json" for p in entries)
    assert summary() == cold  # read back from the cache: the same answer
    foreign = [
        '{"format": "parindex-inference-cache", "version": 1, "key": "%s", "value": {"$dc": "os:system", "f": {}}}',
        '{"format": "parindex-inference-cache", "version": 1, "key": "%s", "value": {"$dc": "parindex.cli:app", "f": {}}}',
        '{"format": "parindex-inference-cache", "version": 1, "key": "not-%s", "value": null}',
        '{"format": "parindex-inference-cache", "version": 2, "key": "%s", "value": null}',
        "not json %s",
    ]
    for i, p in enumerate(entries):
        p.write_text(foreign[i % len(foreign)] % p.stem, encoding="utf-8")
        p.with_suffix(".pickle").write_bytes(pickle.dumps(Evil()))  # what the pickle cache would have run
    assert summary() == cold and not proof.exists()
    assert all(p.read_text(encoding="utf-8").startswith('{"format":"parindex-inference-cache"') for p in entries)


def test_cache_encoding_round_trips_plain_values():
    from fractions import Fraction

    import numpy as np
    import pandas as pd

    from parindex.infer import cache
    from parindex.infer.classify import Rule

    value = {"t": (1, 2.5, None), "s": frozenset({(1, 2), (3, 4)}), ("k", 1): [Fraction(1, 3), np.float64(0.1),
             np.int64(7), np.bool_(True), float("nan")], "r": Rule("A", 1, "band", lower=90.0),
             "df": pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [[1], []]}, index=["x", "y"])}
    back = cache.decode(__import__("json").loads(__import__("json").dumps(cache.encode(value))))
    assert back["t"] == (1, 2.5, None) and back["s"] == value["s"] and back["r"] == value["r"]
    assert back[("k", 1)][:4] == [Fraction(1, 3), 0.1, 7, True] and type(back[("k", 1)][1]) is np.float64
    pd.testing.assert_frame_equal(back["df"], value["df"])
    with pytest.raises(TypeError):
        cache.encode(object())


def test_the_cache_keeps_each_item_for_any_later_set(tmp_path, monkeypatch):
    """A report asks for a few places' ranges, a review for every place: what one solved the
    other reads, and only the rest is solved."""
    from parindex.infer import cache

    asked: list[list[int]] = []

    def compute(missing: list[int]) -> list:
        asked.append(list(missing))
        return [None if k == 3 else (10.0 * k, 10.0 * k + 1) for k in missing]

    monkeypatch.setenv("PARINDEX_CACHE", str(tmp_path))
    k = cache.key("items-test")
    assert cache.cached_items(k, [5, 3], compute) == {5: (50.0, 51.0), 3: None}
    assert cache.cached_items(k, [1, 2, 3, 4, 5, 5], compute) == {k_: (None if k_ == 3 else (10.0 * k_, 10.0 * k_ + 1))
                                                                   for k_ in (1, 2, 3, 4, 5)}
    assert cache.cached_items(k, [4, 1], compute) == {4: (40.0, 41.0), 1: (10.0, 11.0)}
    assert asked == [[5, 3], [1, 2, 4]]
    monkeypatch.setenv("PARINDEX_CACHE", "off")  # no cache: every ask is solved
    assert cache.cached_items(k, [2], compute) == {2: (20.0, 21.0)} and asked[-1] == [2]
