"""Native code's own output (HiGHS writes its log to file descriptors 1 and 2), kept off a
command's output."""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def native_output_silenced():
    """Discard whatever native code (HiGHS, the solver) writes to file descriptors 1 and 2 meanwhile:
    its log is neither JSON nor a message for the user. (Errors are raised, and printed after.)"""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, keep in zip((1, 2), saved):
            os.dup2(keep, fd)
            os.close(keep)
        os.close(null)
