"""Command line: parindex validate | summary | report | data."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import ParindexError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Reproducible reports on Vietnam's provincial PAR INDEX and SIPAS.")
data_app = typer.Typer(no_args_is_help=True, help="Inspect and maintain the bundled data package.")
app.add_typer(data_app, name="data")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


_ASSUME = typer.Option(False, "--assume-announced",
                       help="Also assume the announced group counts (by default the bounds use the rest of the "
                            "published record only, so that the counts can be checked, not assumed).")


@contextlib.contextmanager
def _stdout_to_stderr():
    """Send whatever native code writes to file descriptor 1 to standard error meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _fail(e: ParindexError) -> None:
    err.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(e.exit_code)


@app.command()
def validate(
    file: Path = typer.Argument(..., help="CSV or XLSX with a 'province' column and a value column."),
    index: str = typer.Option(..., "--index", help="par_index or sipas"),
    year: int = typer.Option(2020, "--year"),
    complete: bool = typer.Option(False, "--complete", help="Every one of the 63 provinces must be present."),
) -> None:
    """Check a user's table; exit 0 when it can be used, 2 with one line saying why not."""
    from .analysis import load_bundle
    from .loading import load_table

    try:
        table, rep = load_table(file, index, year, load_bundle().registry, complete=complete)
    except ParindexError as e:
        _fail(e)
    out.print(f"{file}: {rep.rows} rows, {table.n_value} values, "
              f"{int(table.data['rank'].notna().sum())} ranks for {index} {year}", highlight=False)
    if rep.missing:
        out.print(f"missing provinces ({len(rep.missing)}): {', '.join(rep.missing)}", highlight=False)
    if rep.empty_values:
        out.print(f"rows without a value ({len(rep.empty_values)}): {', '.join(rep.empty_values)}",
                  highlight=False)
    out.print("complete table" if table.complete else "partial table: missing provinces stay missing",
              highlight=False)


def _print_summary(doc: dict) -> None:
    for key in ("par_index", "sipas"):
        s = doc[key]
        cov = s["coverage"]
        out.print(f"\n[bold]{key.upper()} {doc['year']}[/] ({s['origin']}): values for {cov['with_value']} "
                  f"of {cov['provinces']}, rank only {cov['with_rank_only']}, nothing {cov['unknown']}")
        if s["rules"] is None:
            out.print(f"no classification rule recorded for {doc['year']}")
            continue
        t = Table("group", "rule", "basis", "announced", "possible", "known", "members")
        for r in s["rules"]:
            mem = s["members"].get(r["label"], [])
            lo, hi = s["count_ranges"].get(r["label"], (None, None))
            t.add_row(r["label"], r["rule"], r["basis"], str(s["announced_counts"].get(r["label"], "—")),
                      "—" if lo is None else str(lo) if lo == hi else f"{lo}–{hi}",
                      str(s["groups"].get(r["label"], 0)), ", ".join(mem) if len(mem) <= 8 else f"{len(mem)} provinces")
        out.print(t)
        out.print(f"group unknown for {len(s['unknown'])} province(s); assumptions: {', '.join(s['assumptions'])}",
                  highlight=False)
    t = Table("index", "fact", "published", "status", "table gives", title="\nConsistency audit")
    for a in doc["audit"]:
        t.add_row(a["index"], a["fact"], a["published"][:40], a["status"], a["computed"][:40])
    out.print(t)


@app.command()
def summary(
    year: int = typer.Option(2020, "--year"),
    par_index: Optional[Path] = typer.Option(None, "--par-index", help="Complete official PAR INDEX table."),
    sipas: Optional[Path] = typer.Option(None, "--sipas", help="Complete official SIPAS table."),
    as_json: bool = typer.Option(False, "--json", help="Print a stable JSON document."),
    assume_announced: bool = _ASSUME,
) -> None:
    """Classification, ranks, coverage and audit for a year (bundled data unless files are given)."""
    from .analysis import analyse, summary as build

    try:
        with _stdout_to_stderr():  # the solver's own C code may print: never into the JSON
            doc = build(analyse(year, par_index, sipas, assume_announced=assume_announced))
    except ParindexError as e:
        _fail(e)
    if as_json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_summary(doc)


def _build(notebook: str, year: str, par_index: Optional[Path], sipas: Optional[Path], lang: str, fmt: str,
           out_dir: Optional[Path], assume_announced: bool = False) -> None:
    from .report import build

    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    try:
        if year == "all":
            if par_index or sipas:
                raise ParindexError("--year all builds from the bundled data only",
                                    fix="pass one --year with --par-index/--sipas")
            _build_all(notebook, lang, formats, out_dir)
            return
        if not year.isdigit():
            raise ParindexError(f"--year must be a year or 'all', not '{year}'", fix="e.g. --year 2020")
        with out.status("building") as status:
            res = build(int(year), str(par_index or ""), str(sipas or ""), lang, formats, out_dir, notebook=notebook,
                        progress=lambda step: status.update(f"{notebook} {year}: {step}"),
                        assume_announced=assume_announced)
    except ParindexError as e:
        _fail(e)
    for f in res.files:
        out.print(f"wrote {f}", highlight=False)
    out.print(f"done in {res.seconds:.1f} s", highlight=False)


def _build_all(notebook: str, lang: str, formats: tuple[str, ...], out_dir: Optional[Path]) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .analysis import load_bundle
    from .report import build_all

    years = load_bundle().years()
    failed = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=out) as progress:
        task = progress.add_task(f"{notebook}: years", total=len(years))

        def done(y: int, r) -> None:
            if isinstance(r, ParindexError):
                failed.append((y, r))
                progress.console.print(f"{y}: failed", highlight=False)
            else:
                progress.console.print(f"{y}: {'unchanged, skipped' if r.skipped else f'built in {r.seconds:.1f} s'}",
                                       highlight=False)
            progress.advance(task)

        build_all(years, lang, formats, out_dir, notebook, workers=2, on_done=done)
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


@app.command()
def report(year: str = _YEAR, par_index: Optional[Path] = _PAR, sipas: Optional[Path] = _SIPAS, lang: str = _LANG,
           fmt: str = _FMT, out_dir: Optional[Path] = _OUT, assume_announced: bool = _ASSUME) -> None:
    """Build the yearly report: executed notebook, self-contained HTML and A4 PDF."""
    _build("yearly_report", year, par_index, sipas, lang, fmt, out_dir, assume_announced)


@app.command()
def review(year: str = _YEAR, par_index: Optional[Path] = _PAR, sipas: Optional[Path] = _SIPAS, lang: str = _LANG,
           fmt: str = _FMT, out_dir: Optional[Path] = _OUT, assume_announced: bool = _ASSUME) -> None:
    """Build the methodology review for peer reviewers (sensitivity, robustness, bounds, audit)."""
    _build("methodology_review", year, par_index, sipas, lang, fmt, out_dir, assume_announced)


@app.command()
def brief(
    province: str = typer.Option(..., "--province", help="A province name or GSO code, or 'all'."),
    year: int = typer.Option(2020, "--year"),
    par_index: Optional[Path] = _PAR, sipas: Optional[Path] = _SIPAS, lang: str = _LANG, fmt: str = _FMT,
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Output folder (default reports/YEAR/provinces)."),
    assume_announced: bool = _ASSUME,
) -> None:
    """One- or two-page brief per province, plus an index page."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .report import build_briefs

    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    wanted = None if province.strip().lower() == "all" else [province]
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=out, transient=True) as progress:
            task = progress.add_task("briefs", total=63 if wanted is None else 1)

            def step(done: int, total: int, name: str) -> None:
                progress.update(task, completed=done, total=total, description=f"briefs {name}")

            res = build_briefs(year, wanted, lang, formats, out_dir, str(par_index or ""), str(sipas or ""), step,
                               assume_announced=assume_announced)
    except ParindexError as e:
        _fail(e)
    out.print(f"wrote {len(res.files)} files to {res.out_dir} in {res.seconds:.1f} s", highlight=False)


@data_app.command("verify")
def data_verify() -> None:
    """Check every bundled file against its recorded checksum."""
    from .datapackage import descriptor, verify

    try:
        for r in descriptor()["resources"]:
            verify(r["name"])
            out.print(f"ok  {r['path']}")
    except ParindexError as e:
        _fail(e)


@data_app.command("rehash")
def data_rehash() -> None:
    """Record new checksums after a reviewed edit of data/."""
    from .datapackage import rehash

    changed = rehash()
    out.print("updated: " + ", ".join(changed) if changed else "all checksums already up to date")


def main() -> None:
    try:
        app()
    except SystemExit:
        # Everything is written by now; spare the interpreter's final garbage-collection
        # passes over the whole heap (notebooks, figures, data frames): ~0.3 s per run.
        gc.freeze()
        raise
    except ParindexError as e:  # raised outside a command body (e.g. while locating data)
        err.print(f"error: {e}", markup=False, highlight=False)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # a bug, not bad input: still one line unless asked for more
        if os.environ.get("PARINDEX_DEBUG"):
            raise
        err.print(f"internal error: {type(e).__name__}: {e} (set PARINDEX_DEBUG=1 for a traceback)",
                  markup=False, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
