"""Running the province briefs (what a brief says is in infer/profile.py and render.sections.Brief): one
document per province, all on one kernel, and an index page."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Callable

import jinja2
import nbformat
import pandas as pd
from markupsafe import Markup
from nbclient.exceptions import CellExecutionError, DeadKernelError
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from ..infer.analysis import analyse, load_bundle
from ..data.collate import vsorted
from ..errors import ParindexError
from ..render.exporters import ReportHTMLExporter, render_pdf
from .execute import BriefClient
from .kernel import ReportKernel
from ..data.labels import Labels
from ..proc.lifecycle import WorkerPool, check_stop, reset_stop, wait_result
from ..render.pages import stylesheet
from .parameters import validate_parameters
from ..data.paths import notebooks_dir, reports_dir
from ..render.pdf import warm_up
from .publish import publish, release, scratch_folder
from ..data.registry import Province
from .report import FORMATS, BuildResult, check_formats

# Autoescape on: province names, figures from a user's table and file names are all text.
_TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("parindex", "templates"), autoescape=True,
                                keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def _stem(p: Province, year: int, lang: str) -> str:
    return f"{'-'.join(p.name_ascii.lower().replace('.', ' ').split())}_{year}_{lang}"


def _render_pdf(nb_json: str, path: str, title: str, lang: str) -> str:
    Path(path).write_bytes(render_pdf(nbformat.reads(nb_json, as_version=4), title, lang))
    return path


def build_briefs(year: int, provinces: list[str] | None = None, lang: str = "vi",
                 formats: tuple[str, ...] = FORMATS, out: Path | None = None, par_index_file: str = "",
                 sipas_file: str = "", progress: Callable[[int, int, str], None] | None = None,
                 without: str = "", notebook_path: Path | None = None) -> BuildResult:
    """One brief per province (all 63 when ``provinces`` is None) plus an index page.

    Parameters are injected with papermill's own ``parameterize_notebook``; the briefs then
    run one after another on a single kernel (nbclient), because 63 kernel start-ups would
    cost more than the briefs themselves. PDFs render in a second process meanwhile.
    """
    t0 = time.perf_counter()
    check_formats(formats)
    reg = load_bundle().units(year)  # the units the year is assessed on (34 from 2025)
    chosen = [reg.resolve(p) for p in provinces] if provinces else list(reg)
    nb_path = Path(notebook_path) if notebook_path else notebooks_dir() / "province_brief.ipynb"
    dest = Path(out) if out else reports_dir() / str(year) / "provinces"
    base = {"year": year, "province": chosen[0].name_vi, "lang": lang,
            "par_index_file": str(Path(par_index_file).resolve()) if par_index_file else "",
            "sipas_file": str(Path(sipas_file).resolve()) if sipas_file else ""}
    if without:
        base["without"] = without
    validate_parameters(base, nb_path)
    source = load_notebook_node(str(nb_path))  # papermill's loader: normalised metadata and tags
    reset_stop()
    tmp = scratch_folder(dest)
    kernel = pool = None
    ok = False
    try:
        # The same report kernel and order as build(): kernel launched, PDF worker forked
        # before any ZeroMQ socket exists, then the client.
        kernel = ReportKernel(nb_path.parent, tmp / "kernel.log")
        pool = WorkerPool(1, initializer=warm_up, initargs=(0, str(tmp)))  # ends with this process
        pool.submit(int)
        kernel.connect()
        kc = kernel.client()
        futures = []
        html_exporter = ReportHTMLExporter(lang=lang)
        for i, prov in enumerate(chosen, start=1):
            if progress:
                progress(i - 1, len(chosen), prov.name_vi)
            if i > 1:
                # Every brief starts from an empty namespace, as in a fresh kernel. The kernel runs
                # requests in order, so the reset is done before the next brief's first cell; its
                # reply is not one nbclient waits for, and is passed over.
                kc.execute("get_ipython().run_line_magic('reset', '-f')", silent=True, store_history=False)
            params = dict(base, province=prov.name_vi)
            nb = parameterize_notebook(copy.deepcopy(source), params, kernel_name="python3", language="python")
            client = BriefClient(nb, km=kernel, timeout=300, kernel_name="python3",
                                 resources={"metadata": {"path": str(nb_path.parent)}})
            client.kc = kc
            try:
                client.execute(cleanup_kc=False)
            except CellExecutionError as e:
                last = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
                raise ParindexError(f"brief for {prov.name_vi} failed: {last}", file=str(nb_path),
                                    fix="the previous briefs were kept", exit_code=1) from None
            except DeadKernelError:
                raise ParindexError(f"the kernel died during the brief for {prov.name_vi}: {kernel.last_words()}",
                                    file=str(nb_path), fix="the previous briefs were kept", exit_code=1) from None
            stem = _stem(prov, year, lang)
            nbformat.write(nb, tmp / f"{stem}.ipynb")
            title = Labels(lang)("brief.title", province=prov.name_vi, year=year)  # as every table names it, in both editions
            if "html" in formats:
                html_exporter.page_title = title  # one exporter for all: its templates compile once
                body, _ = html_exporter.from_notebook_node(nb)
                (tmp / f"{stem}.html").write_text(body, encoding="utf-8")
            if "pdf" in formats:
                futures.append(pool.submit(_render_pdf, nbformat.writes(nb), str(tmp / f"{stem}.pdf"), title, lang))
        kc.stop_channels()
        kernel.shutdown()
        for f in futures:
            wait_result(f)
        write_brief_index(tmp, year, lang, vsorted(chosen, key=lambda p: p.name_vi), formats,
                          base["par_index_file"], base["sipas_file"])
        if progress:
            progress(len(chosen), len(chosen), "")
        check_stop()  # a stop that came meanwhile: nothing is published
        files = publish(sorted(p for p in tmp.iterdir() if p.suffix in (".ipynb", ".html", ".pdf")), dest)
        ok = True
    finally:
        release(tmp, kernel, pool and (lambda: pool.shutdown(abort=not ok)))
    return BuildResult(dest, files, time.perf_counter() - t0, year=year)


def write_brief_index(folder: Path, year: int, lang: str, chosen: list[Province], formats: tuple[str, ...],
                      par_index_file: str = "", sipas_file: str = "") -> None:
    L = Labels(lang)
    a = analyse(year, par_index_file or None, sipas_file or None)  # the same tables the briefs used
    rows = []
    for p in chosen:
        stem = _stem(p, year, lang)
        cells = [p.name_vi, L(f"region.{p.region}")]
        for idx in ("par_index", "sipas"):
            c = a.result(idx).classified.loc[p.code]
            cells.append("—" if pd.isna(c["value"]) else L.number(f"{float(c['value']):.2f}"))
            cells.append("—" if pd.isna(c["rank_published"]) else str(int(c["rank_published"])))
        rows.append({"cells": cells, "links": [{"href": f"{stem}.{ext}", "text": ext.upper()} for ext in formats]})
    page = _TEMPLATES.get_template("brief_index.html").render(
        lang=lang, title=L("brief.index_title", year=year), css=Markup(stylesheet(False)), rows=rows,
        head=[L("col.province"), L("col.region"), "PAR INDEX", L("col.rank"), "SIPAS", L("col.rank"), ""])
    (folder / f"index_{year}_{lang}.html").write_text(page, encoding="utf-8")
