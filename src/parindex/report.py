"""Execute a report notebook with papermill and export it with nbconvert, atomically.

Everything is built in a temporary folder beside the destination and moved into place
only when every step succeeded, so a failure never replaces a good report.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import __version__
from .errors import ParindexError
from .labels import LANGS
from .lifecycle import die_with_parent, remove_stale, scratch_prefix
from .loading import check_input_file
from .paths import notebooks_dir, reports_dir

FORMATS = ("html", "pdf")
PARAMETER_TYPES: dict[str, type] = {"year": int, "par_index_file": str, "sipas_file": str, "lang": str,
                                    "province": str, "assume_announced": bool}


@dataclass
class BuildResult:
    out_dir: Path
    files: list[Path]
    seconds: float
    skipped: bool = False
    year: int | None = None


def build_key(nb_path: Path, params: dict, formats: tuple[str, ...]) -> str:
    """What a report is built from: package version, notebook, parameters, formats, data, input files."""
    from .analysis import load_bundle
    from .datapackage import sha256

    material = {
        "parindex_version": __version__, "notebook": sha256(nb_path),
        "parameters": params, "formats": sorted(formats),
        "data_checksums": load_bundle().checksums,
        "inputs": {k: sha256(Path(params[k])) for k in ("par_index_file", "sipas_file") if params.get(k)},
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def validate_parameters(params: dict, notebook: Path) -> dict:
    """Refuse unknown names, wrong types, years without data and missing files before any cell runs."""
    from .analysis import load_bundle

    for k, v in params.items():
        if k not in PARAMETER_TYPES:
            raise ParindexError(f"unknown parameter '{k}'", file=str(notebook),
                                fix=f"use one of {', '.join(PARAMETER_TYPES)}")
        if not isinstance(v, PARAMETER_TYPES[k]) or (isinstance(v, bool) and PARAMETER_TYPES[k] is not bool):
            raise ParindexError(f"parameter '{k}' must be {PARAMETER_TYPES[k].__name__}, got {v!r}",
                                file=str(notebook), fix=f"pass {k} as {PARAMETER_TYPES[k].__name__}")
    if params.get("lang", "vi") not in LANGS:
        raise ParindexError(f"unknown language '{params['lang']}'", fix="use vi or en")
    for k in ("par_index_file", "sipas_file"):
        if params.get(k):
            check_input_file(params[k])
    year = params.get("year")
    years = load_bundle().years()
    if year not in years and not (params.get("par_index_file") or params.get("sipas_file")):
        raise ParindexError(f"no bundled data for {year}",
                            fix=f"choose one of {', '.join(map(str, years))} or pass --par-index/--sipas")
    if params.get("par_index_file") or params.get("sipas_file"):
        from .analysis import analyse

        # a bad table is an input error (exit 2), found before a kernel starts
        analyse(year, params.get("par_index_file") or None, params.get("sipas_file") or None)
    declared = notebook_parameters(notebook)
    missing = set(params) - set(declared)
    if missing:
        raise ParindexError(f"notebook has no parameter {sorted(missing)}", file=str(notebook),
                            fix="add it to the cell tagged 'parameters'")
    return params


def notebook_parameters(notebook: Path) -> list[str]:
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            names = []
            for line in cell.source.splitlines():
                if "=" in line and not line.lstrip().startswith("#"):
                    names.append(line.split("=", 1)[0].strip().split(":")[0].strip())
            return names
    raise ParindexError("notebook has no cell tagged 'parameters'", file=str(notebook),
                        fix="tag the parameters cell")


class _Kernel:
    """The report kernel (parindex/kernel.py) of this very environment, started first.

    It is launched directly rather than through a kernelspec lookup: a ``python3`` spec in a
    user's Jupyter folder could point at another Python, and the lookup and jupyter_client's
    import would come before the launch. nbclient drives it through the few KernelManager
    members it uses (``has_kernel``, ``is_alive``, ``interrupt_kernel``, ``client``).
    """

    def __init__(self, cwd: Path, log: Path):
        import secrets
        import subprocess

        # Unix sockets in a private folder (0700): no TCP port to race another build for, and
        # nothing listening on the network. Short prefix: socket paths are limited to ~100 bytes.
        remove_stale(Path(tempfile.gettempdir()), "pk")
        self._dir = Path(tempfile.mkdtemp(prefix=scratch_prefix("pk")))
        self.connection_file = self._dir / "kernel.json"
        self.connection_file.write_text(json.dumps({
            "transport": "ipc", "ip": str(self._dir / "k"), "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
            "control_port": 4, "hb_port": 5, "key": secrets.token_hex(32), "signature_scheme": "hmac-sha256",
            "kernel_name": "python3"}), encoding="utf-8")
        self._log = log.open("wb")  # the kernel's own start-up chatter, kept out of the terminal
        self.proc = subprocess.Popen(
            # No IPython history: a batch run has nothing to recall, and should not fill the user's.
            [sys.executable, "-m", "parindex.kernel", "-f", str(self.connection_file),
             "--HistoryManager.enabled=False"],
            cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, start_new_session=True,
            # ipykernel's own parent poller, and PR_SET_PDEATHSIG in parindex.kernel: the kernel
            # ends with this process even if it is killed outright
            env=dict(os.environ, JPY_PARENT_PID=str(os.getpid()), PARINDEX_PARENT_PID=str(os.getpid())))

    @property
    def has_kernel(self) -> bool:
        return self.proc.poll() is None

    async def is_alive(self) -> bool:
        return self.proc.poll() is None

    def interrupt_kernel(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGINT)

    def connect(self) -> None:
        """Open the client's channels now, long before the kernel is ready.

        IOPub is publish/subscribe: what the kernel publishes before a subscription has
        reached it is lost. Subscribed this early, the kernel's first messages all arrive.
        """
        from jupyter_client.asynchronous import AsyncKernelClient

        self.kc = AsyncKernelClient(connection_file=str(self.connection_file))
        self.kc.load_connection_file()
        self.kc.start_channels()

    async def _ready(self, timeout: float):
        """The client, once shell and IOPub both answer a kernel_info request.

        (jupyter_client's ``wait_for_ready`` would then drain IOPub until it has been quiet
        for 0.2 s; nbclient ignores messages that answer other requests, so there is no need.)
        """
        from queue import Empty

        kc = self.kc
        deadline = time.monotonic() + timeout
        msg_id = kc.kernel_info()
        while time.monotonic() < deadline and await self.is_alive():
            try:  # a kernel still booting answers late: wait for this request, do not pile up more
                reply = await kc.get_shell_msg(timeout=1)
            except Empty:
                continue
            if reply["parent_header"].get("msg_id") != msg_id:
                continue  # the answer to an earlier request
            try:  # the request's status on IOPub, unless the subscription landed just after it
                while (await kc.get_iopub_msg(timeout=0.05))["parent_header"].get("msg_id") != msg_id:
                    pass
            except Empty:
                msg_id = kc.kernel_info()  # ask again, now that the subscription has surely landed
                continue
            kc._handle_kernel_info_reply(reply)
            kc.allow_stdin = False
            return kc
        kc.stop_channels()
        raise ParindexError(f"the notebook kernel did not start: {self.last_words()}",
                            fix="reinstall the environment with 'make setup'")

    def last_words(self) -> str:
        """The last line the kernel wrote to its log (its build folder is removed afterwards)."""
        if not self._log.closed:
            self._log.flush()
        lines = [ln.strip() for ln in Path(self._log.name).read_text(errors="replace").splitlines() if ln.strip()]
        return lines[-1] if lines else "no output"

    def client(self, timeout: float = 60):
        from jupyter_client.utils import run_sync

        if getattr(self, "kc", None) is None:
            self.connect()
        return run_sync(self._ready)(timeout)

    def shutdown(self) -> None:
        """Stop the kernel (its whole process group) and remove its connection file; idempotent."""
        import signal

        if self._log.closed:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                if hasattr(os, "killpg"):
                    os.killpg(self.proc.pid, signal.SIGKILL)  # the kernel and anything it started
                else:
                    self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def _pipeline_engine() -> str:
    """papermill's nbclient engine, on our kernel, calling back after every cell."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class PipelineEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, km=None, on_cell_complete=None,
                                     start_timeout=60, execution_timeout=None, log_output=False, **_):
            if on_cell_complete is not None:
                done = nb_man.cell_complete

                def cell_complete(cell, cell_index=None, **kw):
                    done(cell, cell_index=cell_index, **kw)
                    on_cell_complete(cell_index, nb_man.nb)

                nb_man.cell_complete = cell_complete
            client = PapermillNotebookClient(nb_man, km=km, kernel_name=kernel_name, startup_timeout=start_timeout,
                                             timeout=execution_timeout, log_output=log_output)
            client.kc = km.client(start_timeout)
            try:
                return client.execute()
            finally:
                client.kc.stop_channels()

    papermill_engines.register("parindex", PipelineEngine)
    return "parindex"


def _execute(notebook: Path, params: dict, kernel: _Kernel, on_cell_complete: Callable | None = None):
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    try:
        # No output path: papermill would rewrite the whole notebook before and after every
        # cell; the executed notebook is written once, complete, by the caller.
        return pm.execute_notebook(str(notebook), None, parameters=params, kernel_name="python3", language="python",
                                   engine_name=_pipeline_engine(), km=kernel, on_cell_complete=on_cell_complete,
                                   progress_bar=False, log_output=False, cwd=str(notebook.parent))
    except PapermillExecutionError as e:
        first = (e.evalue or "").strip().splitlines()
        raise ParindexError(f"cell {e.exec_count or e.cell_index} failed: {e.ename}: "
                            f"{first[-1] if first else ''}", file=str(notebook),
                            fix="read the error in the notebook cell; the previous report was kept",
                            exit_code=1) from None
    except DeadKernelError:
        raise ParindexError(f"the kernel died while running the notebook: {kernel.last_words()}",
                            file=str(notebook), fix="the previous report was kept; check memory and the cell that ran",
                            exit_code=1) from None


def _lower_thread_priority(niceness: int) -> None:
    """Lower the calling thread's priority (Linux schedules threads separately; elsewhere a no-op)."""
    import threading

    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + niceness)


class _PartExports:
    """Exports each part of the notebook (see export.py) as soon as its last cell has run.

    The parent turns the part into HTML while the kernel computes the next part; worker
    processes lay out its PDF pages meanwhile. The HTML file is the parts' HTML joined.
    """

    def __init__(self, title: str, lang: str, pdf_workers: int, scratch: Path | None = None):
        import multiprocessing
        import threading
        from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

        from .pdf import warm_up

        self.title, self.lang = title, lang
        self.pool = None
        if pdf_workers > 0 and "fork" in multiprocessing.get_all_start_methods():
            # fork: the workers start at once, without a second Python start-up competing with
            # the booting kernel for the CPU. They are forked before the kernel client exists
            # (see build), so no ZeroMQ context, socket or thread is inherited.
            self.pool = ProcessPoolExecutor(max_workers=pdf_workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=warm_up, initargs=(10, str(scratch or "")))
            self.pool.submit(int)  # a fork pool starts all its workers on the first task
        # The HTML of a part is made on a thread: papermill sends the next cell only when the
        # completion callback returns. The thread yields the CPU to the kernel, like the workers.
        self.thread = ThreadPoolExecutor(max_workers=1, initializer=_lower_thread_priority, initargs=(10,))
        self._local = threading.local()
        self.ranges: list[tuple[int, int]] | None = None
        self.bodies: dict[tuple[int, int], Future] = {}  # HTML strings
        self.pdfs: dict[tuple[int, int], Future] = {}  # RenderedPart

    def _exporter(self):
        """One exporter per thread: a new one would load and compile nbconvert's templates again
        (three quarters of the time of a small part), and one instance is not for two threads."""
        from .export import ReportHTMLExporter

        if getattr(self._local, "exporter", None) is None:
            self._local.exporter = ReportHTMLExporter(page_title=self.title, lang=self.lang)
        return self._local.exporter

    def _export(self, part, key: tuple[int, int]) -> str:
        from .pdf import render_body

        body = self._exporter().body(part)
        if self.pool is not None:
            self.pdfs[key] = self.pool.submit(render_body, body, self.title, self.lang, len(self.ranges) == 1)
        return body

    def cell_complete(self, index: int, nb) -> None:
        from .export import part_notebook, part_ranges

        if self.ranges is None:
            self.ranges = part_ranges(nb)
        for a, b in self.ranges:
            failed = any(o.get("output_type") == "error" for c in nb.cells[a:b] for o in c.get("outputs", []))
            if index == b - 1 and (a, b) not in self.bodies and not failed:
                # A snapshot: papermill goes on writing metadata into the live notebook.
                self.bodies[(a, b)] = self.thread.submit(self._export, copy.deepcopy(part_notebook(nb, a, b)), (a, b))

    def complete(self, nb) -> None:
        """After the last cell: export what is left on this thread, at full priority."""
        from .export import part_notebook, part_ranges

        if self.ranges != part_ranges(nb):  # papermill changed the cells after a callback: start over
            self.ranges, self.bodies, self.pdfs = part_ranges(nb), {}, {}
        for a, b in self.ranges:
            pending = self.bodies.get((a, b))
            if pending is None or pending.cancel():  # not started on the low-priority thread
                done: Future = Future()
                done.set_result(self._export(part_notebook(nb, a, b), (a, b)))
                self.bodies[(a, b)] = done

    def html(self, nb) -> str:
        from .pages import html_page

        self.complete(nb)
        return html_page("".join(self.bodies[r].result() for r in self.ranges), self.title, self.lang,
                         for_pdf=False)

    def pdf(self, nb) -> bytes:
        from .pdf import assemble, render_parts

        self.complete(nb)
        bodies = [self.bodies[r].result() for r in self.ranges]
        if self.pool is None:
            return render_parts(bodies, self.title, self.lang)
        parts = [self.pdfs[r].result() for r in self.ranges]
        if len(parts) == 1:
            return parts[0].pdf
        return self.pool.submit(assemble, parts, self.title, self.lang).result()

    def close(self) -> None:
        self.thread.shutdown(wait=True, cancel_futures=True)
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def build(year: int, par_index_file: str = "", sipas_file: str = "", lang: str = "vi",
          formats: tuple[str, ...] = FORMATS, out: Path | None = None, notebook: str = "yearly_report",
          progress: Callable[[str], None] | None = None, notebook_path: Path | None = None,
          skip_unchanged: bool = False, pdf_workers: int = 2, assume_announced: bool = False) -> BuildResult:
    """Execute one report notebook and export it; ``pdf_workers`` = 0 renders the PDF afterwards, here.

    With workers, the kernel, the PDF parts and the HTML export overlap on the machine's cores:
    the kernel starts first and loads the report's modules while the parameters are checked,
    and every finished part of the notebook is laid out while the kernel computes the next.
    """
    t0 = time.perf_counter()
    say = progress or (lambda s: None)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ParindexError(f"unknown format '{bad[0]}'", fix="use html, pdf or html,pdf")
    nb_path = Path(notebook_path) if notebook_path else notebooks_dir() / f"{notebook}.ipynb"
    if not nb_path.is_file():
        raise ParindexError("notebook not found", file=str(nb_path), fix="restore it from git")
    params = {"year": year, "par_index_file": str(Path(par_index_file).resolve()) if par_index_file else "",
              "sipas_file": str(Path(sipas_file).resolve()) if sipas_file else "", "lang": lang}
    if assume_announced:  # only then: a researcher's own notebook need not declare it
        params["assume_announced"] = True
    dest = Path(out) if out else reports_dir() / str(year)
    # a report that assumes the announced counts says different things: it gets its own name
    stem = f"{notebook}_{year}_{lang}" + ("_announced" if assume_announced else "")
    record = dest / f"{stem}.build.json"
    if skip_unchanged and record.is_file():
        validate_parameters(params, nb_path)
        try:
            old = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        wanted = [dest / f"{stem}.{ext}" for ext in ("ipynb", *formats)]
        if old.get("build_key") == build_key(nb_path, params, formats) and all(f.is_file() for f in wanted):
            return BuildResult(dest, wanted + [record], time.perf_counter() - t0, skipped=True, year=year)

    dest.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the destination (same filesystem, so os.replace is atomic).
    remove_stale(dest.parent, f".{dest.name}.building")
    tmp = Path(tempfile.mkdtemp(prefix=scratch_prefix(f".{dest.name}.building"), dir=dest.parent))
    title = f"PAR INDEX & SIPAS {year}"
    kernel = exports = None
    try:
        # The kernel first (a plain process launch), then the PDF workers (forked before any
        # ZeroMQ socket exists), then the client's channels, then the parent's own imports and
        # checks while the kernel boots.
        kernel = _Kernel(nb_path.parent, tmp / "kernel.log")
        exports = _PartExports(title, lang, pdf_workers if "pdf" in formats else 0, scratch=tmp)
        kernel.connect()
        import nbconvert.exporters  # noqa: F401
        import nbformat

        validate_parameters(params, nb_path)
        key = build_key(nb_path, params, formats)
        say("execute notebook")
        executed = _execute(nb_path, params, kernel, exports.cell_complete)
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
        from .analysis import load_bundle

        (tmp / f"{stem}.build.json").write_text(json.dumps({
            "build_key": key, "parindex_version": __version__, "notebook": nb_path.name, "parameters": params,
            "formats": list(formats), "data_checksums": load_bundle().checksums,
            "inputs": {k: _digest(params[k]) for k in ("par_index_file", "sipas_file") if params[k]},
        }, ensure_ascii=False, indent=2), encoding="utf-8")
        files.append(tmp / f"{stem}.build.json")
        files = _publish(files, dest)
    finally:
        if kernel:
            kernel.shutdown()
        if exports:
            exports.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return BuildResult(dest, files, time.perf_counter() - t0, year=year)


def _publish(files: list[Path], dest: Path) -> list[Path]:
    """Move finished files from the build folder into ``dest``, one atomic rename each.

    Every file is complete before the first one is swapped in; other languages' and other
    notebooks' outputs in the same folder are left alone.
    """
    import fcntl

    dest.mkdir(parents=True, exist_ok=True)
    # Two builds of one report may run at once (two terminals, --year all beside a single
    # year): each finishes in its own folder, and the moves are serialised by a lock on the
    # destination, so the folder ends with one build's complete set, never a mix of two.
    # The lock is the folder itself (flock on its descriptor): no lock file is left behind.
    fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for f in files:
            os.replace(f, dest / f.name)
    finally:
        os.close(fd)  # closing releases the lock
    return [dest / f.name for f in files]


def _build_one(kwargs: dict) -> BuildResult | ParindexError:
    try:
        return build(**kwargs)
    except ParindexError as e:  # returned, not raised: the other years go on
        return e


def build_all(years: list[int], lang: str = "vi", formats: tuple[str, ...] = FORMATS, out: Path | None = None,
              notebook: str = "yearly_report", workers: int = 2,
              on_done: Callable[[int, BuildResult | ParindexError], None] | None = None,
              assume_announced: bool = False) -> dict[int, BuildResult | ParindexError]:
    """Build several years, ``workers`` at a time (separate processes), skipping unchanged ones."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Years already run side by side, so each renders its PDF in its own process (no extra workers).
    jobs = {y: dict(year=y, lang=lang, formats=formats, notebook=notebook, skip_unchanged=True, pdf_workers=0,
                    out=(Path(out) / str(y)) if out else None, assume_announced=assume_announced) for y in years}
    results: dict[int, BuildResult | ParindexError] = {}
    with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent) as pool:
        futures = {pool.submit(_build_one, kw): y for y, kw in jobs.items()}
        for fut in as_completed(futures):
            y = futures[fut]
            results[y] = fut.result()
            if on_done:
                on_done(y, results[y])
    return dict(sorted(results.items()))


def _digest(path: str) -> str:
    from .datapackage import sha256

    return sha256(Path(path))


# -- province briefs -----------------------------------------------------------------

def _slug(name_ascii: str) -> str:
    return "-".join(name_ascii.lower().replace(".", " ").split())


def _render_pdf(nb_json: str, path: str, title: str, lang: str) -> str:
    import nbformat

    from .export import render_pdf

    Path(path).write_bytes(render_pdf(nbformat.reads(nb_json, as_version=4), title, lang))
    return path


def build_briefs(year: int, provinces: list[str] | None = None, lang: str = "vi",
                 formats: tuple[str, ...] = FORMATS, out: Path | None = None, par_index_file: str = "",
                 sipas_file: str = "", progress: Callable[[int, int, str], None] | None = None,
                 assume_announced: bool = False) -> BuildResult:
    """One brief per province (all 63 when ``provinces`` is None) plus an index page.

    Parameters are injected with papermill's own ``parameterize_notebook``; the briefs then
    run one after another on a single kernel (nbclient), because 63 kernel start-ups would
    cost more than the briefs themselves. PDFs render in a second process meanwhile.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    from papermill.parameterize import parameterize_notebook

    from .analysis import load_bundle
    from .export import ReportHTMLExporter

    t0 = time.perf_counter()
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ParindexError(f"unknown format '{bad[0]}'", fix="use html, pdf or html,pdf")
    reg = load_bundle().registry
    chosen = [reg.resolve(p) for p in provinces] if provinces else list(reg)
    nb_path = notebooks_dir() / "province_brief.ipynb"
    dest = Path(out) if out else reports_dir() / str(year) / "provinces"
    base = {"year": year, "province": chosen[0].name_vi, "lang": lang,
            "par_index_file": str(Path(par_index_file).resolve()) if par_index_file else "",
            "sipas_file": str(Path(sipas_file).resolve()) if sipas_file else ""}
    if assume_announced:
        base["assume_announced"] = True
    validate_parameters(base, nb_path)
    from papermill.iorw import load_notebook_node

    source = load_notebook_node(str(nb_path))  # papermill's loader: normalised metadata and tags
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(dest.parent, f".{dest.name}.building")
    tmp = Path(tempfile.mkdtemp(prefix=scratch_prefix(f".{dest.name}.building"), dir=dest.parent))
    kernel = pool = None
    try:
        from .pdf import warm_up

        # The same report kernel and order as build(): kernel launched, PDF worker forked
        # before any ZeroMQ socket exists, then the client.
        kernel = _Kernel(nb_path.parent, tmp / "kernel.log")
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                                   initializer=warm_up, initargs=(0, str(tmp)))
        pool.submit(int)
        kernel.connect()
        kc = kernel.client()
        futures = []
        html_exporter = ReportHTMLExporter(lang=lang)
        for i, prov in enumerate(chosen, start=1):
            if progress:
                progress(i - 1, len(chosen), prov.name_vi)
            params = dict(base, province=prov.name_vi)
            nb = parameterize_notebook(copy.deepcopy(source), params, kernel_name="python3", language="python")
            client = NotebookClient(nb, km=kernel, timeout=300, kernel_name="python3",
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
            stem = f"{_slug(prov.name_ascii)}_{year}_{lang}"
            nbformat.write(nb, tmp / f"{stem}.ipynb")
            title = f"{prov.name_vi} — PAR INDEX & SIPAS {year}"
            if "html" in formats:
                html_exporter.page_title = title  # one exporter for all: its templates compile once
                body, _ = html_exporter.from_notebook_node(nb)
                (tmp / f"{stem}.html").write_text(body, encoding="utf-8")
            if "pdf" in formats:
                futures.append(pool.submit(_render_pdf, nbformat.writes(nb), str(tmp / f"{stem}.pdf"), title, lang))
        kc.stop_channels()
        kernel.shutdown()
        for f in futures:
            f.result()
        _write_brief_index(tmp, year, lang, chosen, formats, base["par_index_file"], base["sipas_file"])
        if progress:
            progress(len(chosen), len(chosen), "")
        files = _publish(sorted(p for p in tmp.iterdir() if p.suffix in (".ipynb", ".html", ".pdf")), dest)
    finally:
        if kernel:
            kernel.shutdown()
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return BuildResult(dest, files, time.perf_counter() - t0, year=year)


def _write_brief_index(folder: Path, year: int, lang: str, chosen: list, formats: tuple[str, ...],
                       par_index_file: str = "", sipas_file: str = "") -> None:
    import html as _html

    import pandas as pd

    from .analysis import analyse
    from .pages import stylesheet
    from .labels import Labels

    L = Labels(lang)
    a = analyse(year, par_index_file or None, sipas_file or None)  # the same tables the briefs used
    rows = []
    for p in chosen:
        stem = f"{_slug(p.name_ascii)}_{year}_{lang}"
        links = " ".join(f"<a href='{stem}.{ext}'>{ext.upper()}</a>" for ext in formats)
        cells = [p.name(lang), L(f"region.{p.region}")]
        for idx in ("par_index", "sipas"):
            c = a.result(idx).classified.loc[p.code]
            cells.append("—" if pd.isna(c["value"]) else f"{float(c['value']):.2f}")
            cells.append("—" if pd.isna(c["rank_published"]) else str(int(c["rank_published"])))
        rows.append("<tr>" + "".join(f"<td>{_html.escape(x)}</td>" for x in cells) + f"<td>{links}</td></tr>")
    head = [L("col.province"), L("col.region"), "PAR INDEX", L("col.rank"), "SIPAS", L("col.rank"), ""]
    page = (f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_html.escape(L('brief.index_title', year=year))}</title><style>{stylesheet(False)}</style></head>"
            f"<body><h1>{_html.escape(L('brief.index_title', year=year))}</h1><table class='ptable'><thead><tr>"
            + "".join(f"<th>{_html.escape(h)}</th>" for h in head) + "</tr></thead><tbody>" + "".join(rows)
            + "</tbody></table></body></html>\n")
    (folder / f"index_{year}_{lang}.html").write_text(page, encoding="utf-8")
