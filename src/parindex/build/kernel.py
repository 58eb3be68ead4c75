"""The kernel ``parindex report`` runs its notebooks in: ``python -m parindex.build.kernel -f FILE``.

It is IPython's kernel (ipykernel) of this environment, with two differences that only
matter for a batch run:

- the report's modules are imported before the kernel starts answering, so that this
  happens while the parent process is still checking parameters, not in the first cell;
- the debugger is left out: no one attaches one to a batch run, and loading debugpy costs
  about a tenth of a second.

Cells run as in any Jupyter kernel, and the notebook's namespace starts empty.

``ReportKernel`` is the other side: how a build launches this kernel and reaches it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from queue import Empty

from ..errors import ParindexError
from ..proc.lifecycle import check_stop, die_with_parent, make_scratch, remove_stale, runtime_parent


class ReportKernel:
    """The kernel of ``main`` below, in this very environment, started first.

    It is launched directly rather than through a kernelspec lookup: a ``python3`` spec in a
    user's Jupyter folder could point at another Python, and the lookup and jupyter_client's
    import would come before the launch. nbclient drives it through the few KernelManager
    members it uses (``has_kernel``, ``is_alive``, ``interrupt_kernel``, ``client``).
    """

    def __init__(self, cwd: Path, log: Path):
        # Unix sockets in a private folder (0700) inside parindex's own per-user folder: no TCP
        # port to race another build for, and nothing listening on the network. Short names:
        # socket paths are limited to ~100 bytes.
        parent = runtime_parent()
        remove_stale(parent, "pk")
        self._dir = make_scratch("pk", parent)
        self.connection_file = self._dir / "kernel.json"
        self.connection_file.write_text(json.dumps({
            "transport": "ipc", "ip": str(self._dir / "k"), "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
            "control_port": 4, "hb_port": 5, "key": secrets.token_hex(32), "signature_scheme": "hmac-sha256",
            "kernel_name": "python3"}), encoding="utf-8")
        self._log = log.open("wb")  # the kernel's own start-up chatter, kept out of the terminal
        self.proc = subprocess.Popen(
            # No IPython history: a batch run has nothing to recall, and should not fill the user's.
            [sys.executable, "-m", "parindex.build.kernel", "-f", str(self.connection_file),
             "--HistoryManager.enabled=False"],
            cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, start_new_session=True,
            # ipykernel's own parent poller, and PR_SET_PDEATHSIG in parindex.build.kernel: the kernel
            # ends with this process even if it is killed outright
            env=dict(os.environ, JPY_PARENT_PID=str(os.getpid()), PARINDEX_PARENT_PID=str(os.getpid())))

    @property
    def has_kernel(self) -> bool:
        return self.proc.poll() is None

    async def is_alive(self) -> bool:
        return self.proc.poll() is None

    def interrupt_kernel(self) -> None:
        self.proc.send_signal(signal.SIGINT)

    def connect(self) -> None:
        """Open the client's channels now, long before the kernel is ready.

        IOPub is publish/subscribe: what the kernel publishes before a subscription has
        reached it is lost. Subscribed this early, the kernel's first messages all arrive.
        """
        # jupyter_client (and ZeroMQ) only now: the kernel launch comes first, and the PDF
        # workers are forked before any ZeroMQ context exists (see report.build)
        from jupyter_client.asynchronous import AsyncKernelClient

        self.kc = AsyncKernelClient(connection_file=str(self.connection_file))
        self.kc.load_connection_file()
        self.kc.start_channels()

    async def _ready(self, timeout: float):
        """The client, once shell and IOPub both answer a kernel_info request.

        (jupyter_client's ``wait_for_ready`` would then drain IOPub until it has been quiet
        for 0.2 s; nbclient ignores messages that answer other requests, so there is no need.)
        """
        kc = self.kc
        deadline = time.monotonic() + timeout
        msg_id = kc.kernel_info()
        while time.monotonic() < deadline and await self.is_alive():
            check_stop()
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


def main() -> None:
    parent = os.environ.get("PARINDEX_PARENT_PID")
    if parent and parent.isdigit():
        die_with_parent(int(parent))
    # ipykernel treats an ImportError of debugpy as "no debugger available" and carries on.
    sys.modules.setdefault("debugpy", None)
    # ipykernel makes matplotlib's inline backend the default (MPLBACKEND) as it starts; the
    # report's modules are imported before that, so the same default is set here first: a
    # researcher's own plt.show() draws into the notebook as in any Jupyter kernel.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    from parindex.proc.startup import imports_without_collections, skip_slow_optional_imports

    skip_slow_optional_imports()
    with imports_without_collections():
        import parindex.render.sections  # noqa: F401
        from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
