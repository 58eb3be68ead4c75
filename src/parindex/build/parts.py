"""Part-wise export: each part of a report becomes HTML, and its PDF pages, while the kernel runs on.

nbconvert (export.py) is imported only when the first part is exported: the PDF workers are
forked and the kernel client is connected first (see report.build).
"""

from __future__ import annotations

import contextlib
import copy
import multiprocessing
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..proc.lifecycle import WorkerPool, wait_result
from ..render.pages import html_page, is_compact, pdf_layout
from ..render.pdf import _weasyprint, assemble, render_body, render_parts, warm_up


def _lower_thread_priority(niceness: int) -> None:
    """Lower the calling thread's priority (Linux schedules threads separately; elsewhere a no-op)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + niceness)


class PartExports:
    """Exports each part of the notebook (see render/exporters.py) as soon as its last cell has run.

    The parent turns the part into HTML while the kernel computes the next part; worker
    processes lay out its PDF pages meanwhile. The HTML file is the parts' HTML joined.
    """

    def __init__(self, title: str, lang: str, pdf_workers: int, scratch: Path | None = None, contents: str = ""):
        self.title, self.lang = title, lang
        self.contents = contents  # heading of the contents list (HTML) and page (PDF); "" for none
        self.pool = None
        if pdf_workers > 0 and "fork" in multiprocessing.get_all_start_methods():
            # fork: the workers start at once, without a second Python start-up competing with
            # the booting kernel for the CPU. They are forked before the kernel client exists
            # (see build), so no ZeroMQ context, socket or thread is inherited.
            # (WorkerPool: the workers end with this process however it ends). WeasyPrint is
            # imported here first, while the kernel boots: the workers inherit it instead of each
            # importing it again (0.3 CPU-s a worker).
            _weasyprint()
            self.pool = WorkerPool(pdf_workers, initializer=warm_up, initargs=(10, str(scratch or "")))
        try:
            if self.pool is not None:
                self.pool.submit(int)  # a fork pool starts all its workers on the first task
            # The HTML of a part is made on a thread: papermill sends the next cell only when the
            # completion callback returns. The thread yields the CPU to the kernel, like the workers.
            self.thread = ThreadPoolExecutor(max_workers=1, initializer=_lower_thread_priority, initargs=(10,))
        except BaseException:
            # A stop signal that came while the workers were forked is raised here, before the
            # build holds this object to close: the workers are ended now, or the exit would wait
            # for them forever (multiprocessing joins its children at exit)
            if self.pool is not None:
                self.pool.shutdown(abort=True)
            raise
        self._local = threading.local()
        self.ranges: list[tuple[int, int]] | None = None
        self.bodies: dict[tuple[int, int], Future] = {}  # HTML strings
        self.pdfs: dict[tuple[int, int], Future] = {}  # RenderedPart
        self.compact = False  # known once the first part is exported

    def _exporter(self):
        """One exporter per thread: a new one would load and compile nbconvert's templates again
        (three quarters of the time of a small part), and one instance is not for two threads."""
        from ..render.exporters import ReportHTMLExporter

        if getattr(self._local, "exporter", None) is None:
            self._local.exporter = ReportHTMLExporter(page_title=self.title, lang=self.lang)
        return self._local.exporter

    def _export(self, part, key: tuple[int, int]) -> str:
        body = self._exporter().body(part)
        if self.ranges and key == self.ranges[0]:
            # a thin year's cover says so (Report.compact): its parts are laid out as one
            # flowing text at the end (pdf_layout), so laying them out one by one is wasted
            self.compact = is_compact([body])
        if self.pool is not None and not self.compact:
            # without page furniture: whether a contents page goes in front (and so whether the
            # pages are joined and stamped) is known only once every part is in
            self.pdfs[key] = self.pool.submit(render_body, body, self.title, self.lang, False)
        return body

    def cell_complete(self, index: int, nb) -> None:
        from ..render.exporters import part_notebook, part_ranges

        if self.ranges is None:
            self.ranges = part_ranges(nb)
        for a, b in self.ranges:
            failed = any(o.get("output_type") == "error" for c in nb.cells[a:b] for o in c.get("outputs", []))
            if index == b - 1 and (a, b) not in self.bodies and not failed:
                # A snapshot: papermill goes on writing metadata into the live notebook.
                self.bodies[(a, b)] = self.thread.submit(self._export, copy.deepcopy(part_notebook(nb, a, b)), (a, b))

    def complete(self, nb) -> None:
        """After the last cell: export what is left on this thread, at full priority."""
        from ..render.exporters import part_notebook, part_ranges

        if self.ranges != part_ranges(nb):  # papermill changed the cells after a callback: start over
            self.ranges, self.bodies, self.pdfs, self.compact = part_ranges(nb), {}, {}, False
        first = self.bodies.get(self.ranges[0]) if self.ranges else None
        if first is not None and not first.cancel():
            wait_result(first)  # the cover, on the thread: it tells whether the parts are laid out one by one
        for a, b in self.ranges:
            pending = self.bodies.get((a, b))
            if pending is None or pending.cancel():  # not started on the low-priority thread
                done: Future = Future()
                done.set_result(self._export(part_notebook(nb, a, b), (a, b)))
                self.bodies[(a, b)] = done

    def html(self, nb) -> str:
        self.complete(nb)
        return html_page("".join(wait_result(self.bodies[r]) for r in self.ranges), self.title, self.lang,
                         for_pdf=False, contents=self.contents)

    def pdf(self, nb) -> bytes:
        self.complete(nb)
        bodies = [wait_result(self.bodies[r]) for r in self.ranges]
        groups, texts, contents = pdf_layout(bodies, self.contents)
        if self.pool is None:
            return render_parts(texts, self.title, self.lang, contents)
        # Parts laid out already are used as they are; a thin part (a section that collapsed to
        # a line) is laid out again together with its neighbour, so it does not fill a page alone;
        # a thin year's parts (self.compact) were never laid out alone.
        futures = [(self.pdfs.get(self.ranges[g[0]]) if len(g) == 1 else None)
                   or self.pool.submit(render_body, t, self.title, self.lang, False) for g, t in zip(groups, texts)]
        parts = [wait_result(f) for f in futures]
        return wait_result(self.pool.submit(assemble, parts, self.title, self.lang, contents))

    def close(self, abort: bool = False) -> None:
        """Wait for the thread and the workers; with ``abort`` (the build failed or was stopped) the
        workers are ended at once instead of finishing parts no one will use."""
        if self.pool is not None and abort:
            self.pool.shutdown(abort=True)
        # stopped: the part on the thread is not waited for (no one will use it, and a stop
        # whose interrupt was lost may have left it waiting on the workers just ended)
        self.thread.shutdown(wait=not abort, cancel_futures=True)
        if self.pool is not None and not abort:
            self.pool.shutdown()
