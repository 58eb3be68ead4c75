"""A build stopped by SIGTERM, SIGHUP or SIGKILL leaves no process and, by the next run, no folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from conftest import ROOT

import pytest as _pytest

pytestmark = _pytest.mark.slow  # builds through a kernel


def _start(out: Path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    p = subprocess.Popen([sys.executable, "-m", "parindex.cli", "report", "--year", "2020", "--out", str(out)],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parent = psutil.Process(p.pid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the kernel and the PDF workers exist
        kids = parent.children(recursive=True)
        if any("parindex.kernel" in " ".join(k.cmdline()) for k in kids if k.is_running()) and len(kids) >= 3:
            return p, kids
        time.sleep(0.1)
    p.kill()
    raise AssertionError("the build did not start its kernel and workers")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_a_stopped_build_leaves_no_process(tmp_path, sig):
    out = tmp_path / "report"
    p, kids = _start(out)
    os.kill(p.pid, sig)
    p.wait(timeout=60)
    gone, alive = psutil.wait_procs(kids, timeout=15)
    assert not alive, [k.cmdline() for k in alive]
    if sig != signal.SIGKILL:
        assert p.returncode == 130, p.stderr.read()
        assert not list(tmp_path.glob(".report.building-*"))
        assert not list(Path(tempfile.gettempdir()).glob(f"pk-{p.pid}-*"))
    else:  # nothing can clean up after SIGKILL: the next build removes what is left
        r = subprocess.run([sys.executable, "-m", "parindex.cli", "report", "--year", "2020", "--format", "html",
                            "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert not list(tmp_path.glob(f".report.building-{p.pid}-*"))
        assert not list(Path(tempfile.gettempdir()).glob(f"pk-{p.pid}-*"))
    assert not (out / "yearly_report_2020_vi.pdf").exists() or sig == signal.SIGKILL
