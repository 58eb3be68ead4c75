"""Build one report: execute its notebook with papermill, export it with nbconvert, publish it.

Everything is built in a scratch folder beside the destination and published only when
every step succeeded, so a failure never replaces a good report. The steps live in their
own modules:

- kernel.py: the report kernel, launched first;
- parameters.py: the notebook's parameters, checked before any cell runs, and the build key;
- execute.py: papermill and nbclient running the cells;
- parts.py: each part turned into HTML and PDF pages while the kernel runs on;
- publish.py: the finished files moved into place as one set;
- years.py (several years at once) and briefs.py (the province briefs) build on these.

This module is imported by the command line before any build starts (for ``FORMATS``): the
heavy modules above are imported inside ``build``, after the kernel is launched.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import __version__
from ..errors import ParindexError
from .kernel import ReportKernel
from ..data.paths import check_year_has_data, notebooks_dir, reports_dir
from ..proc.lifecycle import check_stop, reset_stop
from .publish import publish, release, scratch_folder

FORMATS = ("html", "pdf")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython's colours in a traceback


@dataclass
class BuildResult:
    out_dir: Path
    files: list[Path]
    seconds: float
    skipped: bool = False
    year: int | None = None


def check_formats(formats: tuple[str, ...]) -> None:
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ParindexError(f"unknown format '{bad[0]}'", fix="use html, pdf or html,pdf")


TITLE_KEYS = {"yearly_report": "report.title", "methodology_review": "review.title"}


def document_title(notebook: str, year: int, lang: str) -> str:
    """The PDF's and the web page's title, each document its own (a reader's files list the
    report and its review apart): "Báo cáo PAR INDEX & SIPAS năm 2020", "Đánh giá phương pháp
    ..."; a researcher's own notebook gets the indices and the year."""
    from ..data.labels import Labels

    key = TITLE_KEYS.get(notebook)
    return Labels(lang)(key, index="PAR INDEX & SIPAS", year=year) if key else f"PAR INDEX & SIPAS {year}"


def build(year: int, par_index_file: str = "", sipas_file: str = "", lang: str = "vi",
          formats: tuple[str, ...] = FORMATS, out: Path | None = None, notebook: str = "yearly_report",
          progress: Callable[[str], None] | None = None, notebook_path: Path | None = None,
          skip_unchanged: bool = False, pdf_workers: int = 2, without: str = "",
          rules_file: str = "", verbose: bool = False) -> BuildResult:
    """Execute one report notebook and export it; ``pdf_workers`` = 0 renders the PDF afterwards, here.

    With workers, the kernel, the PDF parts and the HTML export overlap on the machine's cores:
    the kernel starts first and loads the report's modules while the parameters are checked,
    and every finished part of the notebook is laid out while the kernel computes the next.
    """
    t0 = time.perf_counter()
    say = progress or (lambda s: None)
    check_formats(formats)
    nb_path = Path(notebook_path) if notebook_path else notebooks_dir() / f"{notebook}.ipynb"
    if not nb_path.is_file():
        raise ParindexError("notebook not found", file=str(nb_path), fix="restore it from git")
    params = {"year": year, "par_index_file": str(Path(par_index_file).resolve()) if par_index_file else "",
              "sipas_file": str(Path(sipas_file).resolve()) if sipas_file else "", "lang": lang}
    if without:  # only then: a researcher's own notebook need not declare it
        params["without"] = without
    if rules_file:  # likewise: the user's cut-offs for a year data/ has none for
        params["rules_file"] = str(Path(rules_file).resolve())
    dest = Path(out) if out else reports_dir() / str(year)
    # a report on part of the record says different things: it gets its own name
    stem = f"{notebook}_{year}_{lang}" + (f"_without_{without.replace(',', '_')}" if without else "")
    record = dest / f"{stem}.build.json"
    if skip_unchanged and record.is_file():
        from .parameters import build_key, validate_parameters

        validate_parameters(params, nb_path)
        try:
            old = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        wanted = [dest / f"{stem}.{ext}" for ext in ("ipynb", *formats)]
        if old.get("build_key") == build_key(nb_path, params, formats) and all(f.is_file() for f in wanted):
            return BuildResult(dest, wanted + [record], time.perf_counter() - t0, skipped=True, year=year)

    check_year_has_data(year, par_index_file, sipas_file)  # before any folder or process
    if par_index_file or sipas_file or rules_file:
        # a user's bad cell is an input error before a kernel is launched (reading takes
        # milliseconds; the inference on them is checked while the kernel boots)
        from ..infer.analysis import check_inputs

        check_inputs(year, par_index_file or None, sipas_file or None, rules_file=rules_file or None)
    reset_stop()
    tmp = scratch_folder(dest)
    title = document_title(notebook, year, lang)
    kernel = exports = None
    ok = False
    try:
        # The kernel first (a plain process launch), then the PDF workers (forked before any
        # ZeroMQ socket exists), then the client's channels, then the parent's own imports and
        # checks while the kernel boots.
        kernel = ReportKernel(nb_path.parent, tmp / "kernel.log")
        from .parts import PartExports

        from ..data.labels import Labels

        exports = PartExports(title, lang, pdf_workers if "pdf" in formats else 0, scratch=tmp,
                              contents=Labels(lang)("report.contents"))
        kernel.connect()
        import nbconvert.exporters  # noqa: F401
        import nbformat

        from ..infer.analysis import load_bundle
        from .execute import execute
        from .parameters import build_key, input_digests, validate_parameters

        validate_parameters(params, nb_path)
        key = build_key(nb_path, params, formats)
        say("execute notebook")
        executed = execute(nb_path, params, kernel, exports.cell_complete, failed=dest / f"{stem}.failed.ipynb")
        check_stop()
        exports.complete(executed)  # the last parts go to the PDF workers first,
        kernel.shutdown()  # then the kernel stops while they render
        nbformat.write(executed, tmp / f"{stem}.ipynb")
        files = [tmp / f"{stem}.ipynb"]
        if "html" in formats:
            say("export HTML")
            (tmp / f"{stem}.html").write_text(exports.html(executed), encoding="utf-8")
            files.append(tmp / f"{stem}.html")
        if "pdf" in formats:
            say("export PDF")
            (tmp / f"{stem}.pdf").write_bytes(exports.pdf(executed))
            files.append(tmp / f"{stem}.pdf")
        (tmp / f"{stem}.build.json").write_text(json.dumps({
            "build_key": key, "parindex_version": __version__, "notebook": nb_path.name, "parameters": params,
            "formats": list(formats), "data_checksums": load_bundle().checksums,
            "inputs": input_digests(params),
        }, ensure_ascii=False, indent=2), encoding="utf-8")
        files.append(tmp / f"{stem}.build.json")
        check_stop()  # a stop that came while the files were written: nothing is published
        files = publish(files, dest)
        (dest / f"{stem}.failed.ipynb").unlink(missing_ok=True)  # an older failure, now superseded
        ok = True
    except ParindexError as e:
        if verbose:
            import sys

            log = tmp / "kernel.log"
            text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
            # ANSI colours stripped: the log goes to a terminal or a CI log, not to a notebook
            sys.stderr.write(f"--- kernel log ({len(text.splitlines())} lines) ---\n{text}"
                             + (f"--- traceback ---\n{_ANSI.sub('', e.detail)}\n" if e.detail else ""))
        raise
    finally:
        release(tmp, kernel, exports and (lambda: exports.close(abort=not ok)))
    return BuildResult(dest, files, time.perf_counter() - t0, year=year)
