"""``python -m parindex.cli ARGS`` for the tests, without paying Python's start-up and imports each time.

A test of the command line must see what a user sees: a process of its own, its exit code,
its stdout and stderr, its signal handlers. Each of the ~100 such runs in the suite spent
about half a second importing pandas, typer and parindex before doing anything. Here one
process per test worker (the "zygote") imports them once and forks a child per run; the
child sets the run's folder, environment and arguments and calls the same ``main()`` that
``python -m parindex.cli`` calls, so everything after the imports is the real thing.

The zygote only imports: no function of parindex has run in it, so no cache or loaded table
is inherited. ``PARINDEX_TEST_FORK=0`` turns it off (every run a plain subprocess).
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

_ZYGOTE = r"""
import json, os, sys, traceback
from parindex.proc.startup import skip_slow_optional_imports
skip_slow_optional_imports()  # as parindex.cli's main does first
import pandas, numpy  # noqa: F401  what every command imports
import parindex.cli, parindex.infer.analysis, parindex.data.loading  # noqa: F401
import typer._adapters  # noqa: F401  typer's coercion of every command's options: pydantic, 0.07 s a run
# what a document build imports later (the PDF workers forked from the run inherit WeasyPrint):
# about a second of each of the ~20 builds. Only imports: no ZeroMQ context, no font folder is
# made by them, and the order a real build imports in is kept by tests/test_lifecycle.py's
# plain subprocesses.
import parindex.render.pdf, pikepdf, nbconvert.exporters, papermill, jupyter_client.asynchronous  # noqa: F401,E401
parindex.render.pdf._weasyprint()  # as a PDF worker imports it
import parindex.build.report, parindex.build.briefs, parindex.build.execute, parindex.build.parts  # noqa: F401,E401
proto_in = os.fdopen(int(sys.argv[1]), "r", encoding="utf-8")
proto_out = os.fdopen(int(sys.argv[2]), "w", encoding="utf-8")
for line in proto_in:
    req = json.loads(line)
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            proto_in.close(); proto_out.close()
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            for fd, path in ((1, req["out"]), (2, req["err"])):
                f = os.open(path, os.O_WRONLY | os.O_TRUNC)
                os.dup2(f, fd)
                os.close(f)
            os.chdir(req["cwd"])
            os.environ.clear()
            os.environ.update(req["env"])
            sys.argv = [parindex.cli.__file__, *req["args"]]
            try:
                parindex.cli.main()
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
                if not isinstance(e.code, (int, type(None))):
                    print(e.code, file=sys.stderr)
            except BaseException:
                traceback.print_exc()
                code = 1
        finally:
            try:
                sys.stdout.flush(); sys.stderr.flush()
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    proto_out.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
    proto_out.flush()
"""


class _Zygote:
    def __init__(self, cwd: Path) -> None:
        self.lock = threading.Lock()
        req_r, self._req_w = os.pipe()
        self._res_r, res_w = os.pipe()
        # requests in, answers out: two pipes of its own, named on its command line
        self.proc = subprocess.Popen([sys.executable, "-c", _ZYGOTE, str(req_r), str(res_w)], cwd=cwd,
                                     stdin=subprocess.DEVNULL, pass_fds=(req_r, res_w))
        os.close(req_r)
        os.close(res_w)
        self._w = os.fdopen(self._req_w, "w", encoding="utf-8")
        self._r = os.fdopen(self._res_r, "r", encoding="utf-8")

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
        with self.lock, tempfile.TemporaryDirectory(prefix="forkcli-") as tmp:
            out, err = Path(tmp) / "out", Path(tmp) / "err"
            out.touch()
            err.touch()
            self._w.write(json.dumps({"args": args, "cwd": str(cwd), "env": dict(os.environ), "out": str(out),
                                      "err": str(err)}) + "\n")
            self._w.flush()
            line = self._r.readline()
            if not line:
                raise RuntimeError("the test's CLI zygote ended")
            code = json.loads(line)["code"]
            return subprocess.CompletedProcess([sys.executable, "-m", "parindex.cli", *args], code,
                                               out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"))

    def close(self) -> None:
        for f in (self._w, self._r):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_zygote: _Zygote | None = None


def run(args: list[str], cwd: Path, root: Path) -> subprocess.CompletedProcess:
    global _zygote
    if _zygote is None or _zygote.proc.poll() is not None:
        _zygote = _Zygote(root)
        atexit.register(_zygote.close)
    return _zygote.run(args, cwd)
