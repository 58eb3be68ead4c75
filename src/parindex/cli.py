"""Command line: parindex validate | summary | report | data."""

from __future__ import annotations

if __name__ == "__main__":  # `python -m parindex.cli`: a stop while the modules below load is one line (parindex.__main__)
    from .proc import stop_at_once
    stop_at_once()

import gc
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .build.preflight import check_notebook, check_options, out_path as _out_path
from .errors import ParindexError, clean
from .proc.lifecycle import exit_interrupted
from .proc.quiet import native_output_silenced as _native_output_silenced  # the name tests and scripts used

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Reproducible reports on Vietnam's provincial PAR INDEX and SIPAS.")
data_app = typer.Typer(no_args_is_help=True, help="Inspect and maintain the bundled data package.")
app.add_typer(data_app, name="data")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


_ASSUME = typer.Option(False, "--assume-announced", hidden=True,
                       help="No longer needed: the announced counts are used by default (see --without).")
_WITHOUT = typer.Option("", "--without", metavar="KINDS",
                        help="Leave kinds of published fact out of the bounds, to see what the rest proves: "
                             "counts, regions, secondary (comma-separated).")


def _without(without: str, assume_announced: bool) -> str:
    """The checked --without value; --assume-announced is a no-op kept for old scripts."""
    from .infer.analysis import parse_without

    if assume_announced:
        err.print("note: --assume-announced is no longer needed: the announced counts are used by default",
                  markup=False, highlight=False)
    return ",".join(sorted(parse_without(without)))


def say(text: str) -> None:
    """One line of plain text: no Rich markup or highlighting taken from what it contains."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def _fail(e: ParindexError) -> None:
    err.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(e.exit_code)


_UNITS = typer.Option("provinces", "--units", help="provinces (63 until 2024, 34 from 2025) or ministries.")
_RULES = typer.Option(None, "--rules", help="CSV of the year's cut-offs in the columns of "
                      "data/classification_rules.csv, for a year data/ has none for.")


def _check_units(units: str, index: str | None = None) -> None:
    if units not in ("provinces", "ministries"):
        raise ParindexError(f"unknown units '{clean(units, 20)}'", fix="use provinces or ministries")
    if units == "ministries" and index not in (None, "par_index"):
        raise ParindexError("the ministries are assessed by the PAR INDEX only", fix="use --index par_index")


@app.command()
def validate(
    file: Path = typer.Argument(..., help="CSV or XLSX with a 'province' column and a value column."),
    index: str = typer.Option(..., "--index", help="par_index or sipas"),
    year: int = typer.Option(2020, "--year"),
    complete: bool = typer.Option(False, "--complete", help="Every unit of the year must be present."),
    units: str = _UNITS,
) -> None:
    """Check a user's table; exit 0 when it can be used, 2 with one line saying why not."""
    from .data.loading import load_table
    from .data.registry import registry_for

    try:
        _check_units(units, index)
        reg = registry_for(year, units)
        table, rep = load_table(file, index, year, reg, complete=complete)
    except ParindexError as e:
        _fail(e)
    say(f"{clean(file)}: {rep.rows} rows, {table.n_value} values, "
        f"{int(table.data['rank'].notna().sum())} ranks for {index} {year} ({len(reg)} {units})")
    if rep.missing:
        say(f"missing {units} ({len(rep.missing)}): {', '.join(rep.missing)}")
    if rep.empty_values:
        say(f"rows without a value ({len(rep.empty_values)}): {', '.join(rep.empty_values)}")
    say("complete table" if table.complete else "partial table: missing provinces stay missing")


def _print_summary(doc: dict, keys: tuple[str, ...] = ("par_index", "sipas")) -> None:
    for key in keys:
        s = doc[key]
        cov = s["coverage"]
        say(f"\n{key.upper()} {doc['year']} ({clean(s['origin'])}): values for {cov['with_value']} "
            f"of {cov['provinces']}, rank only {cov['with_rank_only']}, nothing {cov['unknown']}")
        if s["rules"] is None:
            say(f"no classification rule recorded for {doc['year']}")
            continue
        t = Table("group", "rule", "basis", "announced", "possible", "known", "members")
        for r in s["rules"]:
            mem = s["members"].get(r["label"], [])
            lo, hi = s["count_ranges"].get(r["label"], (None, None))
            t.add_row(*(Text(clean(x, 400)) for x in (r["label"], r["rule"], r["basis"],
                                                      str(s["announced_counts"].get(r["label"], "—")),
                                  "—" if lo is None else str(lo) if lo == hi else f"{lo}–{hi}",
                                  str(s["groups"].get(r["label"], 0)),
                                  ", ".join(mem) if len(mem) <= 8 else f"{len(mem)} provinces")))
        out.print(t)
        out.print(f"group unknown for {len(s['unknown'])} province(s); assumptions: {', '.join(s['assumptions'])}",
                  highlight=False)
    t = Table("index", "fact", "published", "status", "table gives", title="\nConsistency audit")
    for a in doc["audit"]:
        t.add_row(*(Text(clean(x, 40)) for x in (a["index"], a["fact"], a["published"], a["status"], a["computed"])))
    out.print(t)


@app.command()
def summary(
    year: int = typer.Option(2020, "--year"),
    par_index: Optional[Path] = typer.Option(None, "--par-index", help="Complete official PAR INDEX table."),
    sipas: Optional[Path] = typer.Option(None, "--sipas", help="Complete official SIPAS table."),
    as_json: bool = typer.Option(False, "--json", help="Print a stable JSON document."),
    assume_announced: bool = _ASSUME,
    without: str = _WITHOUT,
    units: str = _UNITS,
    ministries: Optional[Path] = typer.Option(None, "--ministries", help="Complete ministries' PAR INDEX table."),
    rules: Optional[Path] = _RULES,
) -> None:
    """Classification, ranks, coverage and audit for a year (bundled data unless files are given)."""
    from .infer.analysis import analyse, summary as build

    try:
        _check_units(units)
        without = _without(without, assume_announced)
        with _native_output_silenced():  # the solver's own C code may print: never into the JSON
            a = analyse(year, par_index, sipas, without=without, rules_file=rules,
                        ministries_file=ministries)
            doc = build(a)
        if units == "ministries" and doc["ministries"] is None:
            raise ParindexError(f"no data on the ministries for {year}",
                                fix="pass --ministries FILE, or choose a year with data on the ministries (2019, 2020, 2023)")
    except ParindexError as e:
        _fail(e)
    if units == "ministries":
        doc = {k: v for k, v in doc.items() if k not in ("par_index", "sipas")}
        doc["audit"] = [x for x in doc["audit"] if x["index"].endswith("_ministries")]
    if as_json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_summary(doc, ("ministries",) if units == "ministries" else ("par_index", "sipas"))


def _build(notebook: str, year: str, par_index: Optional[Path], sipas: Optional[Path], lang: str, fmt: str,
           out_dir: Optional[str], without: str = "", rules: Optional[Path] = None,
           verbose: bool = False, notebook_path: Optional[Path] = None, assume_announced: bool = False) -> None:
    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    try:
        out_path = _out_path(out_dir)
        check_options(year, lang, formats, out_path, par_index, sipas, rules)
        without = _without(without, assume_announced)
        if year != "all":
            from .data.paths import check_year_has_data

            check_year_has_data(int(year), par_index, sipas)
        if notebook_path is not None:
            if notebook_path.suffix != ".ipynb" or not notebook_path.is_file():
                raise ParindexError("--notebook must be a notebook file (.ipynb)", file=str(notebook_path),
                                    fix="copy notebooks/yearly_report.ipynb and pass the copy")
            check_notebook(notebook_path)
            notebook = notebook_path.stem
        if year == "all":
            if par_index or sipas or rules or notebook_path:
                raise ParindexError("--year all builds from the bundled data only",
                                    fix="pass one --year with --par-index/--sipas")
            _build_all(notebook, lang, formats, out_path, without)
            return
        from .build.report import build  # after the checks: a mistyped option is answered at once

        with out.status("building") as status:
            res = build(int(year), str(par_index or ""), str(sipas or ""), lang, formats, out_path, notebook=notebook,
                        notebook_path=notebook_path,
                        progress=lambda step: status.update(f"{notebook} {year}: {step}"),
                        without=without, rules_file=str(rules or ""), verbose=verbose)
    except ParindexError as e:
        _fail(e)
    for f in res.files:
        say(f"wrote {clean(f, 400)}")
    say(f"done in {res.seconds:.1f} s")


def _build_all(notebook: str, lang: str, formats: tuple[str, ...], out_dir: Optional[Path],
               without: str = "") -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .infer.analysis import load_bundle
    from .build.years import build_all

    years = load_bundle().years()
    failed = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=out) as progress:
        task = progress.add_task(f"{notebook}: years", total=len(years))

        def done(y: int, r) -> None:
            if isinstance(r, ParindexError):
                failed.append((y, r))
                progress.console.print(f"{y}: failed", highlight=False, markup=False)
            else:
                progress.console.print(f"{y}: {'unchanged, skipped' if r.skipped else f'built in {r.seconds:.1f} s'}",
                                       highlight=False, markup=False)
            progress.advance(task)

        build_all(years, lang, formats, out_dir, notebook, workers=2, on_done=done, without=without)
    for y, e in failed:
        err.print(f"error: {y}: {e}", markup=False, highlight=False)
    if failed:
        raise typer.Exit(1)


_YEAR = typer.Option("2020", "--year", help="A year with data, or 'all'.")
_PAR = typer.Option(None, "--par-index", help="Complete official PAR INDEX table (CSV/XLSX).")
_SIPAS = typer.Option(None, "--sipas", help="Complete official SIPAS table (CSV/XLSX).")
_LANG = typer.Option("vi", "--lang", help="vi or en")
_FMT = typer.Option("html,pdf", "--format", help="html, pdf or html,pdf")
_OUT = typer.Option(None, "--out", help="Output folder (default reports/YEAR).")
_VERBOSE = typer.Option(False, "--verbose", help="On failure, also print the kernel's log.")
_NOTEBOOK = typer.Option(None, "--notebook", help="Your copy of the notebook (with your own cells) to build instead.")


@app.command()
def report(year: str = _YEAR, par_index: Optional[Path] = _PAR, sipas: Optional[Path] = _SIPAS, lang: str = _LANG,
           fmt: str = _FMT, out_dir: Optional[str] = _OUT, assume_announced: bool = _ASSUME,
           without: str = _WITHOUT,
           rules: Optional[Path] = _RULES, verbose: bool = _VERBOSE, notebook: Optional[Path] = _NOTEBOOK) -> None:
    """Build the yearly report: executed notebook, self-contained HTML and A4 PDF."""
    _build("yearly_report", year, par_index, sipas, lang, fmt, out_dir, without, rules, verbose, notebook,
           assume_announced)


@app.command()
def review(year: str = _YEAR, par_index: Optional[Path] = _PAR, sipas: Optional[Path] = _SIPAS, lang: str = _LANG,
           fmt: str = _FMT, out_dir: Optional[str] = _OUT, assume_announced: bool = _ASSUME,
           without: str = _WITHOUT,
           rules: Optional[Path] = _RULES, verbose: bool = _VERBOSE, notebook: Optional[Path] = _NOTEBOOK) -> None:
    """Build the methodology review for peer reviewers (sensitivity, robustness, bounds, audit)."""
    _build("methodology_review", year, par_index, sipas, lang, fmt, out_dir, without, rules, verbose,
           notebook, assume_announced)


@app.command()
def brief(
    province: str = typer.Option(..., "--province", help="A province name or GSO code, or 'all'."),
    year: int = typer.Option(2020, "--year"),
    par_index: Optional[Path] = _PAR, sipas: Optional[Path] = _SIPAS, lang: str = _LANG, fmt: str = _FMT,
    out_dir: Optional[str] = typer.Option(None, "--out", help="Output folder (default reports/YEAR/provinces)."),
    assume_announced: bool = _ASSUME,
    without: str = _WITHOUT,
) -> None:
    """One- or two-page brief per province, plus an index page."""
    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    wanted = None if province.strip().lower() == "all" else [province]
    try:
        out_path = _out_path(out_dir)
        check_options(str(year), lang, formats, out_path, par_index, sipas)
        without = _without(without, assume_announced)
        from .data.paths import check_year_has_data

        check_year_has_data(year, par_index, sipas)
        if wanted:  # a province no one knows is named before the document machinery loads (0.6 s)
            from .infer.analysis import load_bundle

            load_bundle().units(year).resolve(province)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from .build.briefs import build_briefs

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=out, transient=True) as progress:
            task = progress.add_task("briefs", total=63 if wanted is None else 1)

            def step(done: int, total: int, name: str) -> None:
                progress.update(task, completed=done, total=total, description=f"briefs {name}")

            res = build_briefs(year, wanted, lang, formats, out_path, str(par_index or ""), str(sipas or ""), step,
                               without=without)
    except ParindexError as e:
        _fail(e)
    say(f"wrote {len(res.files)} files to {clean(res.out_dir, 400)} in {res.seconds:.1f} s")


@app.command("export")
def export_cmd(
    year: str = typer.Option(..., "--year", help="A year with data, several separated by commas (2018,2020), or 'all'."),
    out_dir: Optional[str] = typer.Option(None, "--out", help="Output folder (default reports/export)."),
    units: str = _UNITS,
    xlsx: bool = typer.Option(False, "--xlsx", help="Also write the tables as one XLSX workbook."),
) -> None:
    """The consolidated tables (values, precision, ranks, groups, bounds, status, sources) as a
    Frictionless data package: datapackage.json plus CSV."""
    from .infer.analysis import load_bundle
    from .data.paths import reports_dir
    from .export import export

    try:
        _check_units(units)
        out_path = _out_path(out_dir)
        parts = [y.strip() for y in year.split(",")] if year != "all" else ["all"]
        for y in parts:  # the package is staged inside --out
            check_options(y, "vi", ("html",), out_path, staged_inside=True)
        b = load_bundle()
        if year == "all":
            years = [y for y in b.years() if units == "provinces" or b.has_ministries(y)]
        else:
            years = sorted({int(y) for y in parts})
            for y in years:
                if y not in b.years():
                    raise ParindexError(f"no bundled data for {y}",
                                        fix=f"choose among {', '.join(map(str, b.years()))} or 'all'")
        dest = out_path or (reports_dir() / "export")
        with _native_output_silenced():
            files = export(years, dest, units, xlsx)
    except ParindexError as e:
        _fail(e)
    for f in files:
        say(f"wrote {clean(f, 400)}")


@app.command("units")
def units_cmd(
    year: int = typer.Option(..., "--year", help="Any assessment year: the units in force on its 31 December."),
    template: Optional[str] = typer.Option(None, "--template",
                                           help="Write an empty table in the accepted format for that year (CSV)."),
    index: str = typer.Option("par_index", "--index", help="par_index or sipas: the value column of the template."),
    as_json: bool = typer.Option(False, "--json", help="Print the units as JSON."),
) -> None:
    """The units a year is assessed on (codes, names, region, ISO code, former units and the legal
    basis), and on request an empty table to fill in."""
    import pandas as pd

    from .data.registry import crosswalk, registry_for

    try:
        if not 1990 <= year <= 2100:
            raise ParindexError(f"--year {year} is not an assessment year", fix="e.g. --year 2025")
        if index not in ("par_index", "sipas"):
            raise ParindexError(f"--index must be par_index or sipas, not '{clean(index, 20)}'", fix="--index sipas")
        reg = registry_for(year)
        units = reg.frame()
        if reg.successors:  # the 34 units: which of the 63 each one continues, and by which act
            cw = crosswalk()
            names = {p.code: p.name_vi for p in registry_for(2024)}
            former = cw.groupby("new_province").apply(
                lambda g: "; ".join(f"{names.get(c, c)} ({c})" for c in g["old_code"]), include_groups=False)
            basis = cw.groupby("new_province")["legal_basis"].first()
            units["former_units"] = units["name_vi"].map(former)
            units["legal_basis"] = units["name_vi"].map(basis)
        else:
            from .infer.analysis import load_bundle

            titles = load_bundle().sources.set_index("source_id")["title"]
            units["former_units"] = pd.NA
            units["legal_basis"] = units["source_id"].map(titles) if "source_id" in units else pd.NA
        if template:
            dest = Path(template)
            if dest.exists() and dest.is_dir():
                raise ParindexError("--template names a folder", file=str(dest), fix="give a file name, e.g. par_2025.csv")
            if not dest.parent.is_dir():
                raise ParindexError("the folder of --template does not exist", file=str(dest),
                                    fix="create the folder first or choose another path")
            tpl = pd.DataFrame({"code": units["code"], "province": units["name_vi"], index: pd.NA, "rank": pd.NA})
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
            try:
                tpl[["province", index, "rank"]].to_csv(tmp, index=False, lineterminator="\n")
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)
    except ParindexError as e:
        _fail(e)
    except OSError as e:
        _fail(ParindexError(f"cannot write the template: {e.strerror}", file=str(template),
                            fix="choose a writable folder"))
    if as_json:
        doc = [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in units.to_dict("records")]
        sys.stdout.write(json.dumps({"year": year, "units": doc}, ensure_ascii=False, indent=2) + "\n")
    else:
        t = Table(title=f"{len(units)} units in {year}")
        cols = [c for c in ("code", "name_vi", "name_en", "region", "iso_3166_2", "former_units") if c in units]
        for c in cols:
            t.add_column(c)
        for row in units.itertuples():
            t.add_row(*(Text(clean("" if pd.isna(getattr(row, c)) else getattr(row, c), 200)) for c in cols))
        Console().print(t)
    if template:
        say(f"wrote {clean(template, 400)}: {len(units)} rows; fill {index} (and rank if published), then "
            f"parindex summary --year {year} --{index.replace('_', '-')} {clean(template, 400)}")


@data_app.command("verify")
def data_verify() -> None:
    """Check every bundled file against its recorded checksum, and that every row cites a known
    source with a followable URL, a class and a date (or a note saying why none)."""
    from .data.datapackage import check_provenance, descriptor, verify

    try:
        for r in descriptor()["resources"]:
            verify(r["name"])
            say(f"ok  {r['path']}")
        check_provenance()
        say("ok  every row cites a known source with a URL, a class and a date or a note")
    except ParindexError as e:
        _fail(e)


@data_app.command("rehash")
def data_rehash() -> None:
    """Record new checksums after a reviewed edit of data/."""
    from .data.datapackage import rehash

    try:
        changed = rehash()
    except ParindexError as e:
        _fail(e)
    say("updated: " + ", ".join(changed) if changed else "all checksums already up to date")


def main() -> None:
    try:
        _main()
    except KeyboardInterrupt:  # stopped (Ctrl-C, SIGTERM, SIGHUP) outside the command's own handling
        exit_interrupted()


def _main() -> None:
    try:  # typer 0.2x carries its own copy of click
        from typer._click import exceptions as click_exc
    except ImportError:  # pragma: no cover - older typer uses click itself
        from click import exceptions as click_exc

    from .proc.lifecycle import STOP_GRACE, stop_like_ctrl_c, stop_was_requested
    from .proc.startup import skip_slow_optional_imports

    skip_slow_optional_imports()
    stop_like_ctrl_c(grace=STOP_GRACE)
    try:
        try:
            rv = app(standalone_mode=False)
        except click_exc.NoArgsIsHelpError as e:
            # typer's no_args_is_help: the help text, as before
            print(e.ctx.get_help() if e.ctx else "")
            raise SystemExit(0) from None
        except click_exc.UsageError as e:  # one line, like every other input error
            msg = clean(" ".join(e.format_message().split()), 300)
            cmd = e.ctx.command_path if e.ctx else "parindex"
            err.print(f"error: {msg} (fix: see '{cmd} --help')", markup=False, highlight=False)
            raise SystemExit(2) from None
        if rv == 130 or stop_was_requested():  # typer's silent 130; or a stop whose KeyboardInterrupt was lost
            exit_interrupted()
        raise SystemExit(rv if isinstance(rv, int) else 0)
    except SystemExit:
        # Everything is written by now; spare the interpreter's final garbage-collection
        # passes over the whole heap (notebooks, figures, data frames): ~0.3 s per run.
        gc.freeze()
        raise
    except ParindexError as e:  # raised outside a command body (e.g. while locating data)
        err.print(f"error: {e}", markup=False, highlight=False)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        exit_interrupted()
    except OSError as e:  # disk full, file-size limit, read-only: the machine's, named as such
        from .errors import os_error

        known = os_error(e)
        if known is None or os.environ.get("PARINDEX_DEBUG"):
            _internal(e)
        err.print(f"error: {known}", markup=False, highlight=False)
        sys.exit(known.exit_code)
    except Exception as e:  # a bug, not bad input: still one line unless asked for more
        _internal(e)


def _internal(e: Exception) -> None:
    if os.environ.get("PARINDEX_DEBUG"):
        raise e
    err.print(f"internal error: {type(e).__name__}: {clean(e, 300)} (set PARINDEX_DEBUG=1 for a traceback)",
              markup=False, highlight=False)
    sys.exit(1)


if __name__ == "__main__":
    main()
