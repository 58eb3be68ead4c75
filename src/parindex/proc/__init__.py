"""Process machinery: helper lifecycle, garbage-collector pauses, start-up speed."""

# The one line a stopped command says (lifecycle), here so that stop_at_once needs no import.
INTERRUPTED = "stopped: interrupted (the build in progress was not published; earlier files are kept)"


def stop_at_once() -> None:
    """A command's first moments, while its modules load: SIGINT, SIGTERM and SIGHUP end it at
    once with the stop's one line and 130, not Python's traceback from inside an import. Nothing
    has started yet that a clean-up would have to end. The command's own handling
    (``lifecycle.stop_like_ctrl_c``) takes over once it runs. A signal the caller ignores stays
    ignored.

    Installed before anything else is imported, and the handler imports nothing: a signal that
    lands inside an import would otherwise meet a half-initialised module, or the import lock."""
    import _signal
    import os

    line = (INTERRUPTED + "\n").encode("utf-8")

    def stopped(signum, frame) -> None:
        for sig in stops:
            _signal.signal(sig, _signal.SIG_IGN)  # a second Ctrl-C is the same stop
        try:
            os.write(2, line)
        finally:
            os._exit(130)

    stops = [s for s in (_signal.SIGINT, _signal.SIGTERM, getattr(_signal, "SIGHUP", None)) if s is not None]
    for sig in stops:
        try:
            if _signal.getsignal(sig) != _signal.SIG_IGN:
                _signal.signal(sig, stopped)
        except (ValueError, OSError):  # not the main thread
            pass
