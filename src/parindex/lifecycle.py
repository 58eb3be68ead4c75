"""Process lifecycle: helpers end with the build that started them, however it ends.

- A child asks Linux to send it SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), so a
  build killed with SIGKILL leaves no kernel or PDF worker behind.
- SIGTERM and SIGHUP stop a build the way Ctrl-C does, so its clean-up runs.
- Scratch folders carry the PID of the process that made them; a later run removes those
  whose process is gone (a build folder whose files were committed is published first:
  see publish.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import sys
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """In a child process: be sent SIGTERM when the parent dies (Linux; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # the parent died before the request took effect


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def stop_like_ctrl_c() -> None:
    """SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread: every finally block runs."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):  # not the main thread, or no such signal
            signal.signal(sig, _interrupt)


def scratch_prefix(name: str) -> str:
    return f"{name}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale(folder: Path, name: str) -> list[Path]:
    """The ``name-PID-*`` folders in ``folder`` whose process no longer exists."""
    found = []
    with contextlib.suppress(OSError):
        for p in folder.glob(f"{name}-*-*"):
            pid = p.name[len(name) + 1:].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)) and p.is_dir():
                found.append(p)
    return sorted(found)


def remove_stale(folder: Path, name: str) -> None:
    """Remove ``name-PID-*`` folders in ``folder`` whose process no longer exists."""
    for p in stale(folder, name):
        shutil.rmtree(p, ignore_errors=True)
