"""Running a report notebook: papermill injects the parameters, nbclient runs the cells on our kernel."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Callable

import papermill as pm
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.exceptions import PapermillExecutionError

from ..errors import ParindexError
from ..proc.lifecycle import check_stop
from .kernel import ReportKernel

ENGINE = "parindex"


class _ReadsTheStopFlag:
    """A client that also stops for a stop signal whose interrupt was lost.

    nbclient asks every second whether the kernel is alive while a cell runs; that is where
    the stop flag is read too, so a long cell cannot outlast a SIGTERM by more than a second.
    Our kernel's process is asked first: nbclient's own answer comes from the heartbeat, which
    called a kernel that had exited dead only some two seconds later.
    """

    async def _async_check_alive(self) -> None:
        check_stop()
        if not getattr(self.km, "has_kernel", True):  # ReportKernel: its process has ended
            raise DeadKernelError("Kernel died")
        await super()._async_check_alive()  # type: ignore[misc]


class StoppableClient(_ReadsTheStopFlag, PapermillNotebookClient):
    """papermill's client, reading the stop flag."""


def _no_signal_handlers(*_args, **_kw) -> None:
    raise RuntimeError("the command's own stop handlers stay")  # what nbclient expects off the main thread


class BriefClient(_ReadsTheStopFlag, NotebookClient):
    """nbclient's client for a brief, run on the kernel the briefs share, that leaves the stop
    signals to the command and reads its stop flag.

    nbclient's ``execute`` puts its own SIGINT and SIGTERM handlers on the event loop for the
    run (they would shut down a kernel manager we do not use) and afterwards puts back Python's
    defaults, not the handlers it found: a Ctrl-C during or after the first brief of
    ``parindex brief --province all`` was lost, and the command went on to wait for ever. Here
    the loop refuses them while nbclient sets up, as it expects off the main thread; papermill's
    client (reports) sets up its kernel without them."""

    @asynccontextmanager
    async def async_setup_kernel(self, **kwargs):
        loop = asyncio.get_running_loop()
        async with AsyncExitStack() as stack:
            # only while nbclient sets up (where it adds them), not over the cells: a stop that
            # ends the run mid-cell leaves this coroutine suspended, and the loop is reused
            loop.add_signal_handler = _no_signal_handlers
            try:
                await stack.enter_async_context(super().async_setup_kernel(**kwargs))
            finally:
                del loop.add_signal_handler
            yield

    def _cleanup_kernel(self) -> None:
        """Nothing: the kernel the briefs share and its client are the command's to end (briefs.py
        releases them however it stops). nbclient registers this to run at exit, and a stop
        that ended a brief before nbclient could unregister it ran it there: a traceback under
        the stopped command's one line."""


class PipelineEngine(NBClientEngine):
    """papermill's nbclient engine, on our kernel, calling back after every cell."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, km=None, on_cell_complete=None,
                                 start_timeout=60, execution_timeout=None, log_output=False, keep=None, **_):
        if keep is not None:  # the caller's handle on the notebook, kept if a cell fails
            keep.append(nb_man.nb)
        if on_cell_complete is not None:
            done = nb_man.cell_complete

            def cell_complete(cell, cell_index=None, **kw):
                done(cell, cell_index=cell_index, **kw)
                on_cell_complete(cell_index, nb_man.nb)

            nb_man.cell_complete = cell_complete
        client = StoppableClient(nb_man, km=km, kernel_name=kernel_name, startup_timeout=start_timeout,
                                    timeout=execution_timeout, log_output=log_output)
        client.kc = km.client(start_timeout)
        try:
            return client.execute()
        finally:
            client.kc.stop_channels()


papermill_engines.register(ENGINE, PipelineEngine)


def execute(notebook: Path, params: dict, kernel: ReportKernel, on_cell_complete: Callable | None = None,
            failed: Path | None = None):
    """The executed notebook; a failing cell or a dying kernel is one error (exit 1).

    ``failed``: where a failed run's notebook goes, with papermill's error banner and the
    traceback in the failing cell, so the evidence outlives the build."""
    keep: list = []
    try:
        # No output path: papermill would rewrite the whole notebook before and after every
        # cell; the executed notebook is written once, complete, by the caller.
        return pm.execute_notebook(str(notebook), None, parameters=params, kernel_name="python3", language="python",
                                   engine_name=ENGINE, km=kernel, on_cell_complete=on_cell_complete,
                                   progress_bar=False, log_output=False, cwd=str(notebook.parent), keep=keep)
    except PapermillExecutionError as e:
        first = (e.evalue or "").strip().splitlines()
        where = _keep_failed(keep, failed)
        raise ParindexError(f"cell {e.exec_count or e.cell_index} failed: {e.ename}: "
                            f"{first[-1] if first else ''}", file=where or str(notebook),
                            fix=("open this notebook: the failing cell shows the traceback; " if where else
                                 "read the error in the notebook cell; ") + "the previous report was kept",
                            exit_code=1, detail="\n".join(e.traceback or [])) from None
    except DeadKernelError:
        where = _keep_failed(keep, failed)
        raise ParindexError(f"the kernel died while running the notebook: {kernel.last_words()}",
                            file=where or str(notebook),
                            fix="the previous report was kept; check memory and the cell that ran",
                            exit_code=1) from None


def _keep_failed(keep: list, failed: Path | None) -> str | None:
    if not keep or failed is None:
        return None
    import nbformat

    from ..data.datapackage import write_text_atomic

    try:
        failed.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(failed, nbformat.writes(keep[0]))
    except OSError:
        return None
    return str(failed)
