"""Read a user's table (the official annex typed into CSV or XLSX) into an IndexTable.

Accepted: UTF-8 with or without BOM; comma, semicolon or tab separated; decimal point
or decimal comma; a trailing percent sign; any province spelling the registry knows, or
its GSO code. Everything else is refused with one line naming file, row, column and fix.
Row numbers are spreadsheet rows: the header is row 1.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from unidecode import unidecode

from ..errors import ParindexError, clean
from .registry import Registry
from .tables import COMPONENT_COLUMNS, INDEXES, IndexTable, decimals, empty_frame, file_source_id


# Header spellings users type, folded (lower case, no diacritics, '_' for spaces).
_HEADER_ALIASES = {
    "province": {"province", "tinh", "tinh_thanh", "tinh_thanh_pho", "tinh_tp", "dia_phuong",
                 "province_name", "name", "ten_tinh", "code", "ma_tinh", "gso_code"},
    "par_index": {"par_index", "par", "parindex", "chi_so_par", "chi_so_cchc", "par_index_2020"},
    "sipas": {"sipas", "chi_so_sipas", "chi_so_hai_long", "sipas_2020"},
    "rank": {"rank", "xep_hang", "thu_hang", "hang", "thu_tu"},
}


# Values a user types are compared at this many decimals (docs/method.md, "Input precision").
USER_DECIMALS = 6


@dataclass
class LoadReport:
    """What validation found besides fatal errors."""

    file: str
    rows: int
    missing: list[str] = field(default_factory=list)
    empty_values: list[str] = field(default_factory=list)


def _fold_header(h: object) -> str:
    s = unidecode(str(h or "")).strip().lower()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def _canonical_header(h: object) -> str:
    f = _fold_header(h)
    for canon, spellings in _HEADER_ALIASES.items():
        if f in spellings:
            return canon
    return f


def _decode(raw: bytes, name: str) -> str:
    if not raw.strip():
        raise ParindexError("the file is empty", fix="export the table again with a header row and one row per unit",
                            file=name)
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(raw) > 3 and raw[1:2] == b"\x00"):
        raise ParindexError("the file is UTF-16, not UTF-8",
                            fix="save it again as 'CSV UTF-8 (Comma delimited)'", file=name)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ParindexError(
            f"byte 0x{raw[e.start]:02x} is not UTF-8 (a Windows-1258 or other legacy export?)",
            fix="save the table again as 'CSV UTF-8 (Comma delimited)'", file=name, row=line) from None


Rows = list[tuple[int, list[object]]]  # (spreadsheet row number, cells)


# What a province table can be at most: far more than 63 provinces and a few notes, far less
# than what would take the machine minutes to read. Anything larger is refused before reading.
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
MAX_COLUMNS = 64


def _numbered(rows: list[list[object]], name: str = "") -> tuple[list[str], Rows]:
    """Header = row 1; data rows keep their real row numbers, blank rows are skipped."""
    header = [("" if h is None else str(h)) for h in rows[0]]
    while header and not header[-1].strip():
        header.pop()
    body = []
    for i, r in enumerate(rows[1:], start=2):
        if not any(v is not None and str(v).strip() != "" for v in r):
            continue
        body.append((i, r))
        if len(body) > MAX_ROWS:
            raise ParindexError(f"more than {MAX_ROWS} rows: this is not a province table",
                                fix="keep one row per province", file=name, row=i)
    return header, body


def _check_widths(header: list[str], rows: Rows, name: str) -> None:
    """A row with more filled cells than the header is refused: in a comma-separated file it is
    almost always a decimal comma that split a value (91,04 read as 91 and 04)."""
    for i, r in rows:
        extra = [v for v in r[len(header):] if v is not None and str(v).strip() != ""]
        if extra:
            raise ParindexError(f"row has {len(header) + len(extra)} filled cells but the header has {len(header)}",
                                fix="a decimal comma in a comma-separated file? quote the value (\"91,04\"), "
                                    "use a decimal point, or save with semicolons", file=name, row=i)


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ParindexError(f"the file is {size / 1024 / 1024:.0f} MB: too large to be a province table",
                            fix=f"keep one row per province (at most {MAX_BYTES // 1024 // 1024} MB)", file=str(path))


def _read_csv(path: Path) -> tuple[list[str], Rows]:
    _check_size(path)
    text = _decode(path.read_bytes(), str(path))
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    rows: list[list[object]] = []
    try:
        for r in reader:
            rows.append(r)
    except csv.Error as e:  # e.g. a field over the csv module's 131,072-character limit
        raise ParindexError(f"unreadable row ({e})", fix="check that row's quotes and length", file=str(path),
                            row=reader.line_num) from None
    while rows and not any(str(c).strip() for c in rows[-1]):
        rows.pop()
    if not rows:
        raise ParindexError("the file has no rows", fix="export the table again with a header row",
                            file=str(path))
    return _numbered(rows, str(path))


# An XLSX is a ZIP of XML parts: 5 MB on disk can unpack to gigabytes (one huge string, millions
# of shared strings or of empty cells). Each part's unpacked size (the ZIP's central directory;
# zipfile never reads past it) and what the sheets and shared strings hold are checked with a
# streaming parse, stopping at the first excess, before openpyxl builds anything.
MAX_PART_BYTES = 10 * 1024 * 1024
MAX_OTHER_XML_BYTES = 4 * 1024 * 1024  # styles, workbook, relations: parsed whole by openpyxl
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_PARTS = 500
MAX_CELLS = 50_000  # cells written in all sheets, empty ones included (63 provinces: a few thousand)
MAX_ELEMENTS = 300_000  # XML elements in one part
MAX_SHARED_STRINGS = 50_000
MAX_CELL_CHARS = 2_000  # a province name, a value, a note: never more


def _too_much(what: str, path: Path, fix: str = "save the table again with only the province table on its first "
              "sheet") -> ParindexError:
    return ParindexError(f"{what}: this is not a province table", fix=fix, file=str(path))


class _PartScan:
    """Expat callbacks over one sheet or shared-strings part: counts, lengths, formulas; no tree is
    built, so memory stays flat whatever the part holds. Raises at the first excess."""

    def __init__(self, path: Path, part: str, cells: int):
        self.path, self.part, self.cells = path, part, cells
        self.shared = part.lower().endswith("sharedstrings.xml")
        self.elements = self.strings = self.text = 0
        self.in_text = self.in_formula_cell = self.has_f = self.has_v = False
        self.ref = ""
        self.formula: str | None = None

    def start(self, name: str, attrs: dict) -> None:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise _too_much(f"more than {MAX_ELEMENTS} XML elements in {self.part}", self.path)
        tag = name.rsplit(":", 1)[-1]
        if tag in ("t", "v"):
            self.in_text = True
        if tag in ("si", "c"):
            self.text = 0  # a string's or cell's runs together (rich text has several <t>)
        if self.shared and tag == "si":
            self.strings += 1
            if self.strings > MAX_SHARED_STRINGS:
                raise _too_much(f"more than {MAX_SHARED_STRINGS} shared strings", self.path)
        elif not self.shared and tag == "c":
            self.cells += 1
            if self.cells > MAX_CELLS:
                raise _too_much(f"more than {MAX_CELLS} cells", self.path)
            self.ref, self.has_f, self.has_v = str(attrs.get("r", "?")), False, False
        elif tag == "f":
            self.has_f = True

    def data(self, text: str) -> None:
        if self.in_text:
            self.text += len(text)
            if self.text > MAX_CELL_CHARS:
                raise _too_much(f"a cell or string of more than {MAX_CELL_CHARS} characters in {self.part}", self.path,
                                fix=f"keep cells under {MAX_CELL_CHARS} characters")

    def end(self, name: str) -> None:
        tag = name.rsplit(":", 1)[-1]
        if tag in ("t", "v"):
            self.in_text = False
            if tag == "v" and self.text:
                self.has_v = True
        elif tag == "c" and not self.shared and self.has_f and not self.has_v and self.formula is None:
            self.formula = self.ref


def _no_dtd(*args) -> None:
    raise ValueError("a document type declaration")  # entities could multiply text (billion laughs)


def _scan_xlsx(path: Path) -> dict[str, str]:
    """Refuse a workbook that would exhaust memory or time; return, per worksheet part, the first
    cell holding a formula without a saved result (openpyxl would read it as empty)."""
    import zipfile
    import zlib
    from xml.parsers import expat

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return {}  # not a ZIP: openpyxl says so in its own words, below
    formulas: dict[str, str] = {}
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_PARTS:
            raise _too_much(f"the workbook has {len(infos)} parts", path)
        for info in infos:
            low = info.filename.lower()
            scanned = low.endswith("sharedstrings.xml") or (low.startswith("xl/worksheets/") and low.endswith(".xml"))
            limit = MAX_PART_BYTES if scanned or not low.endswith((".xml", ".rels")) else MAX_OTHER_XML_BYTES
            if info.file_size > limit:
                raise _too_much(f"part {info.filename} unpacks to {info.file_size / 1024 / 1024:.0f} MB", path)
        total = sum(i.file_size for i in infos)
        if total > MAX_UNPACKED_BYTES:
            raise _too_much(f"the workbook unpacks to {total / 1024 / 1024:.0f} MB", path)
        cells = 0
        for info in infos:
            low = info.filename.lower()
            if not (low.endswith("sharedstrings.xml") or (low.startswith("xl/worksheets/") and low.endswith(".xml"))):
                continue
            scan = _PartScan(path, info.filename, cells)
            parser = expat.ParserCreate()
            parser.StartElementHandler, parser.EndElementHandler = scan.start, scan.end
            parser.CharacterDataHandler = scan.data
            parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = _no_dtd
            try:
                with zf.open(info) as f:  # zipfile stops at the size the central directory gives
                    while chunk := f.read(1 << 16):
                        parser.Parse(chunk, False)
                parser.Parse(b"", True)
            except ParindexError:
                raise
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, expat.ExpatError) as e:
                raise ParindexError(f"cannot read the workbook ({type(e).__name__} in {info.filename})",
                                    fix="save it again from a spreadsheet program as an unprotected .xlsx",
                                    file=str(path)) from None
            cells = scan.cells
            if scan.formula is not None:
                formulas[info.filename] = scan.formula
    return formulas


def _read_xlsx(path: Path) -> tuple[list[str], Rows]:
    from openpyxl import load_workbook

    _check_size(path)
    formulas = _scan_xlsx(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several unrelated types for a bad file
        kind = ("it is encrypted or not a workbook" if type(e).__name__ in ("BadZipFile", "InvalidFileException")
                else f"{type(e).__name__}")
        raise ParindexError(f"cannot read the workbook ({kind})",
                            fix="save it again from a spreadsheet program as an unprotected .xlsx",
                            file=str(path)) from None
    ws = wb.worksheets[0]
    where = formulas.get(str(getattr(ws, "_worksheet_path", "")).lstrip("/"))
    if where:
        wb.close()
        raise ParindexError(f"cell {clean(where, 12)} holds a formula without a saved result (it would read as empty)",
                            fix="open the workbook in a spreadsheet program and save it, or paste the values as "
                                "values", file=str(path))
    rows: list[list[object]] = []
    # Read only as wide as the table and as long as a table can be: a stray cell at XFD1048576
    # would otherwise make openpyxl walk a million rows of sixteen thousand cells.
    try:
        for row in ws.iter_rows(max_col=MAX_COLUMNS, max_row=MAX_ROWS + 50):
            vals = []
            for c in row:
                v = c.value
                # A cell formatted as percent stores 0.9104 for 91.04 %.
                if isinstance(v, (int, float)) and "%" in (c.number_format or ""):
                    v = round(float(v) * 100, 10)
                vals.append(v)
            rows.append(vals)
    except Exception as e:  # a damaged sheet (a shared string that is not there, a bad cell type)
        raise ParindexError(f"cannot read the first worksheet ({type(e).__name__})",
                            fix="save it again from a spreadsheet program as an unprotected .xlsx",
                            file=str(path)) from None
    finally:
        wb.close()
    if not any(v not in (None, "") for r in rows for v in r):
        raise ParindexError("the first worksheet is empty", fix="put the table on the first sheet",
                            file=str(path))
    return _numbered(rows, str(path))


def _header_row_elsewhere(rows: Rows, needed: str) -> int | None:
    for i, r in rows[:20]:
        heads = {_canonical_header(x) for x in r}
        if "province" in heads and needed in heads:
            return i
    return None


def parse_number(raw: object) -> tuple[float, str] | None:
    """91,04 / 91.04 / '91.04 %' -> (91.04, '91.04'); empty -> None; otherwise ValueError."""
    if raw is None:
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if pd.isna(raw):
            return None
        text = repr(float(raw)) if isinstance(raw, float) else str(raw)
        text = text[:-2] if text.endswith(".0") else text
        return float(raw), text
    s = str(raw).strip().replace("\u00a0", "").replace(" ", "")
    if s in ("", "-", "—", "NA", "N/A", "na", "n/a"):
        return None
    s = s.removesuffix("%")
    if "," in s and "." in s:
        raise ValueError(s)
    s = s.replace(",", ".")
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", s):
        raise ValueError(s)
    return float(s), s


def check_input_file(path: str | Path) -> None:
    """Refuse, in precise words, what is not a regular file: nothing, a folder, a pipe, a device."""
    import stat

    if str(path).strip() in ("", "."):
        raise ParindexError("the file name is empty", fix="give the path of a CSV or XLSX file")
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise ParindexError("file not found", fix="check the path", file=str(p)) from None
    except OSError as e:
        raise ParindexError(f"cannot read it ({e.strerror})", fix="check the path and its permissions",
                            file=str(p)) from None
    if stat.S_ISDIR(mode):
        raise ParindexError("this is a folder, not a file", fix="give the path of a CSV or XLSX file inside it",
                            file=str(p))
    if not stat.S_ISREG(mode):
        kind = "a pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) \
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
        raise ParindexError(f"this is {kind}, not a file", fix="save the table to a CSV or XLSX file", file=str(p))


def load_table(path: str | Path, index: str, year: int, registry: Registry, *,
               complete: bool = False) -> tuple[IndexTable, LoadReport]:
    """Validate and load a user's table; ``complete`` makes a missing province an error."""
    if index not in INDEXES:
        raise ParindexError(f"unknown index '{index}'", fix="use par_index or sipas")
    check_input_file(path)
    path = Path(path)
    name = str(path)
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        raise ParindexError(f"cannot read it ({e.strerror})", fix="check its permissions", file=name) from None
    if suffix in (".csv", ".txt", ".tsv") and head.startswith(b"PK\x03\x04"):
        raise ParindexError(f"this is a ZIP file (an XLSX workbook?) named {suffix}, not a text table",
                            fix="rename it to .xlsx, or save it as 'CSV UTF-8 (Comma delimited)'", file=name)
    if suffix in (".csv", ".txt", ".tsv") and head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ParindexError(f"this is an old Excel workbook (.xls) named {suffix}, not a text table",
                            fix="save it as .xlsx or CSV UTF-8", file=name)
    if suffix in (".xlsx", ".xlsm"):
        header, rows = _read_xlsx(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        header, rows = _read_csv(path)
    elif suffix == ".xls":
        raise ParindexError("old .xls workbooks are not supported", fix="save it as .xlsx or CSV UTF-8",
                            file=name)
    else:
        raise ParindexError(f"unsupported file type '{suffix or '(none)'}'", fix="use .csv or .xlsx", file=name)

    heads = [_canonical_header(h) for h in header]
    for needed in ("province", index):
        if needed not in heads:
            elsewhere = _header_row_elsewhere(rows, needed)
            if elsewhere is not None:
                raise ParindexError(f"the header is on row {elsewhere}, not row 1", row=1, file=name,
                                    fix=f"delete the {elsewhere - 1} row(s) above the header")
            found = ", ".join(h for h in header if str(h).strip()) or "none"
            fix = (f"name the value column '{index}'" if needed == index else
                   "name the province column 'province'") + f" (found: {found})"
            raise ParindexError(f"no '{needed}' column", fix=fix, file=name, row=1, column=needed)
    dup_heads = {h for h in heads if h and heads.count(h) > 1 and h in ("province", index, "rank")}
    if dup_heads:
        raise ParindexError(f"column '{sorted(dup_heads)[0]}' appears twice", fix="keep one of them",
                            file=name, row=1, column=sorted(dup_heads)[0])
    col = {h: i for i, h in enumerate(heads)}
    _check_widths(header, rows, name)
    if not rows:
        raise ParindexError("the table has a header but no data rows", fix="add one row per province",
                            file=name, row=2)

    df = empty_frame(registry)
    df["value_status"] = df["value_status"].astype("string")
    comps = {c: pd.Series(pd.NA, index=df.index, dtype="Float64") for c in COMPONENT_COLUMNS if c in col}
    seen: dict[str, int] = {}
    report = LoadReport(file=name, rows=len(rows))
    first_value: tuple[int, str, float] | None = None
    # gathered, then written a column at a time: a row-by-row .loc write cost 1.4 ms each
    values: dict[str, tuple[float, str, int | None]] = {}
    ranks: dict[str, int] = {}

    def cell(r: list[object], key: str) -> object:
        i = col[key]
        return r[i] if i < len(r) else None

    for rowno, r in rows:
        raw_p = cell(r, "province")
        if raw_p is None or str(raw_p).strip() == "":
            raise ParindexError("empty province name", fix="fill in the province or delete the row",
                                file=name, row=rowno, column="province")
        p = registry.resolve(raw_p, file=name, row=rowno, column="province")
        if p.code in seen:
            raise ParindexError(f"duplicate province '{p.name_vi}' (also on row {seen[p.code]})",
                                fix="keep one row per province", file=name, row=rowno, column="province")
        seen[p.code] = rowno
        try:
            parsed = parse_number(cell(r, index))
        except ValueError as e:
            raise ParindexError(f"'{e}' is not a number", file=name, row=rowno, column=index,
                                fix="write the value as 91.04 or 91,04 (a % sign is allowed)") from None
        if parsed is None:
            report.empty_values.append(p.name_vi)
        else:
            v, text = parsed
            if (decimals(text) or 0) > USER_DECIMALS:
                # the declared precision of a user's table: spreadsheet noise (89.99999999999999)
                # is the value it stands for, and never moves a province across a cut-off
                v = round(v, USER_DECIMALS)
                text = f"{v:.{USER_DECIMALS}f}".rstrip("0").rstrip(".")
            first_value = first_value or (rowno, text, v)
            if not 0 <= v <= 100:
                raise ParindexError(f"value {text} is outside 0-100", file=name, row=rowno, column=index,
                                    fix="give the index in percent (e.g. 91.04, not 0.9104 or 9104)")
            values[p.code] = (v, text, decimals(text))
        if "rank" in col:
            try:
                pr = parse_number(cell(r, "rank"))
            except ValueError as e:
                raise ParindexError(f"rank '{e}' is not a whole number", file=name, row=rowno, column="rank",
                                    fix=f"write ranks as 1 to {len(registry)}") from None
            if pr is not None:
                if not pr[0].is_integer() or not 1 <= pr[0] <= len(registry):
                    raise ParindexError(f"rank {pr[1]} is not a whole number from 1 to {len(registry)}", file=name,
                                        row=rowno, column="rank", fix=f"write ranks as 1 to {len(registry)}")
                ranks[p.code] = int(pr[0])
        for c in comps:
            try:
                pc = parse_number(cell(r, c))
            except ValueError as e:
                raise ParindexError(f"'{e}' is not a number", file=name, row=rowno, column=c,
                                    fix="write points as 57.66 or 57,66") from None
            if pc is not None:
                if not 0 <= pc[0] <= 100:  # each part is a share of the 100-point total
                    raise ParindexError(f"{pc[1]} points is outside 0-100", file=name, row=rowno, column=c,
                                        fix="give the component in points of the 100-point total")
                comps[c][p.code] = pc[0]

    source = file_source_id(path.name)
    if values:
        codes = list(values)
        for i, column in enumerate(("value", "value_text", "value_decimals")):
            df.loc[codes, column] = [values[c][i] for c in codes]
        df.loc[codes, "value_status"] = "user"
        df.loc[codes, "value_sources"] = source
    if ranks:
        codes = list(ranks)
        df.loc[codes, "rank"] = [ranks[c] for c in codes]
        df.loc[codes, "rank_status"] = "user"
        df.loc[codes, "rank_sources"] = source
    if df["value"].isna().all():
        raise ParindexError(f"no row has a value in column '{index}'", file=name, column=index,
                            fix="fill in the values (a table without any would replace a report with nothing)")
    if first_value is not None and (df["value"].dropna() <= 1.0).all():  # no one scores 1 %: shares of 1
        rowno, text, v = first_value
        raise ParindexError(f"every value is at most 1 (this row: {text}): these look like fractions, not percent",
                            file=name, row=rowno, column=index,
                            fix=f"give the index in percent ({v * 100:.2f}, not {text}), or format the cells as "
                                f"percent in the workbook")
    missing = [n for c, n in zip(df.index, df["province"]) if c not in seen]
    report.missing = missing
    if complete and missing:
        raise ParindexError(f"{len(missing)} province(s) missing from a table declared complete: "
                            + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""),
                            fix="add a row for each, or drop --complete to validate a partial table",
                            file=name, column="province")
    if complete and report.empty_values:
        raise ParindexError(f"{len(report.empty_values)} province(s) without a value in a table declared "
                            f"complete: " + ", ".join(report.empty_values[:5]),
                            fix="fill in the values, or drop --complete", file=name, column=index)
    table = IndexTable(index=index, year=year, data=df, origin=name)
    if comps:
        table.data = table.data.assign(**comps)
    return table, report
