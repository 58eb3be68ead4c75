"""Process lifecycle: helpers end with the build that started them, however it ends.

- A child asks Linux to send it SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), so a
  build killed with SIGKILL leaves no kernel or PDF worker behind.
- SIGTERM and SIGHUP stop a build the way Ctrl-C does, so its clean-up runs; a command's
  clean-up has a bounded time (``stop_like_ctrl_c(grace=...)``), after which it ends anyway.
- Scratch folders are made by ``make_scratch`` only, and each holds an owner marker naming
  the process that made it (its PID and start time, so a reused PID is not taken for it). A
  later run removes a folder only when it carries a valid marker and that process is gone
  (a build folder whose files were committed is published first: see build/publish.py). A name
  alone proves nothing: a folder someone else made, or named alike, is never touched, and
  symbolic links are never followed.
- The kernel's sockets live in a per-user folder parindex owns (``runtime_parent``), not
  directly in the shared temporary folder.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..errors import ParindexError
from . import INTERRUPTED

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


_REPEAT = 1.0  # seconds: a stop signal this soon after the last one is the same stop
# seconds a stopped command's clean-up is given: more than its own bounded waits together (an
# aborted pool's, then its processes' SIGTERM and SIGKILL) on a loaded machine
STOP_GRACE = 30.0
_last_stop = float("-inf")


def _interrupt(signum: int, frame: object) -> None:
    """One stop, however many signals bring it: a second Ctrl-C pressed while the first is being
    handled (or the process group's copy of it) must not break into the clean-up it started.
    One that comes later stops again (a first one may have been lost: raised inside a callback
    Python ignores exceptions from)."""
    global _last_stop, _stop_requested
    _stop_requested = True  # remembered: a wait that outlives a lost KeyboardInterrupt still stops
    now = time.monotonic()
    if now - _last_stop < _REPEAT:
        return
    _last_stop = now
    _arm_watchdog()
    raise KeyboardInterrupt(f"signal {signum}")


_grace: float | None = None  # set by stop_like_ctrl_c in a command; None: no time limit
_watchdog: threading.Thread | None = None
_said = threading.Lock()
_exit_started = False  # the one line is said (by the main thread's exit or the grace's end)


def _say_interrupted() -> None:
    global _exit_started
    with _said:
        if _exit_started:
            return
        _exit_started = True
    with contextlib.suppress(Exception):
        sys.stderr.write(f"{INTERRUPTED}\n")
        sys.stderr.flush()


def _arm_watchdog() -> None:
    """Once a stop is decided, the command ends within ``_grace`` seconds, whatever its clean-up
    meets: a KeyboardInterrupt raised inside a lock's or a queue's own code can leave it held,
    and a finally block that waits on it would wait for ever (the suite saw a build stopped by
    two Ctrl-C hang, once in a few hundred)."""
    global _watchdog
    if _grace is None or _watchdog is not None:
        return
    _watchdog = threading.Thread(target=_end_after_grace, args=(_grace,), name="parindex-stop-grace", daemon=True)
    _watchdog.start()


def _end_after_grace(grace: float) -> None:
    """The end of a stopped command whose clean-up did not finish: the one line (unless the main
    thread has said it), its workers ended, exit 130. No exit handler runs (one may be what is
    stuck); what they would have removed is removed by the next run (a scratch folder whose owner
    is gone), and every child ends with this process (``die_with_parent``)."""
    time.sleep(grace)
    # said on a thread of its own, waited for a moment: a stderr pipe no one reads must not
    # hold the exit too
    saying = threading.Thread(target=_say_stuck, name="parindex-stop-say", daemon=True)
    saying.start()
    saying.join(2.0)
    _end_children()
    os._exit(130)


def _end_children() -> None:
    """End the children multiprocessing started, if it was imported at all: without importing it.
    A KeyboardInterrupt raised inside the import system's own callback can leave its lock held
    (seen once in 600 Ctrl-C), and an import here then waited for ever."""
    mp = sys.modules.get("multiprocessing")
    if mp is not None:
        with contextlib.suppress(Exception):
            end_processes(mp.active_children())


def _say_stuck() -> None:
    # With Python's fault handler asked for (as the suite's stop tests do), where every thread
    # waits is printed first, for whoever debugs it.
    faulthandler = sys.modules.get("faulthandler")  # loaded at start-up when asked for; no import here
    if os.environ.get("PYTHONFAULTHANDLER") and faulthandler is not None:
        with contextlib.suppress(Exception):
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    _say_interrupted()


_stop_requested = False


def check_stop() -> None:
    """Raise KeyboardInterrupt if a stop signal has come: at the build's checkpoints, so that a
    stop whose KeyboardInterrupt was lost (raised inside a finaliser or a callback whose
    exceptions Python only prints) still stops the build before it waits or publishes."""
    global _stop_requested
    if _stop_requested:
        _stop_requested = False  # acted on now: a process that carries on (a test, a notebook) starts clean
        raise KeyboardInterrupt("stop requested")


def stop_was_requested() -> bool:
    """Whether a stop signal came and was not acted on (its KeyboardInterrupt lost)."""
    return _stop_requested


def reset_stop() -> None:
    """At the start of a build: a stop that came before it was for what ran then."""
    global _stop_requested
    _stop_requested = False


def wait_result(future, poll: float = 0.25):
    """``future.result()``, checking for a stop between short waits: a bare ``result()`` waited
    forever when a lost interrupt had left the work it waits for unfinished."""
    import concurrent.futures

    while True:
        check_stop()
        try:
            return future.result(timeout=poll)
        except concurrent.futures.TimeoutError:
            continue


def stop_like_ctrl_c(grace: float | None = None) -> None:
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread: every finally block
    runs. A signal the caller ignores (a shell's background job, nohup) stays ignored.
    ``grace`` (a command's, not a library caller's): seconds the clean-up of a stop is given
    before the process ends with 130 anyway (``_arm_watchdog``)."""
    global _grace
    _grace = grace
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):  # not the main thread, or no such signal
            if signal.getsignal(sig) != signal.SIG_IGN:
                signal.signal(sig, _interrupt)


OWNER = ".parindex-owner"  # the marker file in every scratch folder parindex makes
_MAX_PARENT = 70  # bytes: the kernel's socket paths (parent/pk-PID-xxxxxxxx/k-N) stay under 100


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks after boot, /proc/PID/stat field 22) and the boot id:
    together with the PID they name one process, even once the PID is reused."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open("/proc/sys/kernel/random/boot_id", "rb") as f:
            boot = f.read().strip().decode("ascii", "replace")
        return f"{boot}:{int(fields[19])}"
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def _private_dir(path: Path) -> bool:
    """A real folder (not a link to one) of this user that no one else may enter or list."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077


def _candidates() -> list[Path]:
    found = []
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime) and _private_dir(Path(runtime)):
        found.append(Path(runtime) / "parindex")
    uid = os.geteuid()
    found.append(Path(tempfile.gettempdir()) / f"parindex-{uid}")
    found.append(Path("/tmp") / f"parindex-{uid}")
    return found


def runtime_parent() -> Path:
    """The per-user folder (0700) the kernel's socket folders are made in.

    ``$XDG_RUNTIME_DIR/parindex`` when that is usable, else ``parindex-UID`` in the temporary
    folder. An existing one that is a link, not a folder, someone else's, or open to others is
    not used: another user could otherwise watch or replace the sockets.
    """
    refused = []
    for cand in _candidates():
        if len(os.fsencode(cand)) > _MAX_PARENT:
            continue
        with contextlib.suppress(FileExistsError, OSError):
            os.mkdir(cand, 0o700)
        if _private_dir(cand):
            return cand
        refused.append(str(cand))
    raise ParindexError("no private folder for the notebook kernel's sockets"
                        + (f": {refused[0]} is a link, not a folder, someone else's or open to others" if refused else
                           ""), fix="remove that folder, or set XDG_RUNTIME_DIR or TMPDIR to a short private folder")


def make_scratch(prefix: str, parent: Path) -> Path:
    """A new private folder in ``parent`` (``tempfile.mkdtemp``) with an owner marker naming this process."""
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=parent))
    try:
        fd = os.open(folder / OWNER, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "start": _start_time(os.getpid()), "uid": os.geteuid()}, f)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _owner(folder: Path) -> tuple[int, str | None] | None:
    """The creator named by a valid owner marker in ``folder``; None when there is none (or a forged one
    that is a link, someone else's or not ours whole)."""
    if not _private_dir(folder):
        return None
    # its creator was killed between making the folder and writing the marker, or while removing
    # it: the creator is the PID make_scratch put in the folder's name (no start time to tell a
    # reused PID by, so a live process of that PID keeps it)
    pid_text = folder.name.rsplit("-", 2)[-2] if folder.name.count("-") >= 2 else ""
    named = (int(pid_text), None) if pid_text.isdigit() else None
    try:
        fd = os.open(folder / OWNER, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:  # no marker: only an empty folder, which holds nothing to keep
        with contextlib.suppress(OSError):
            if not any(os.scandir(folder)):
                return named
        return None
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_size > 4096:
            return None
        if st.st_size == 0:
            return named
        doc = json.loads(os.read(fd, 4096).decode("utf-8"))
        pid, start, uid = doc["pid"], doc["start"], doc["uid"]
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    finally:
        os.close(fd)
    if type(pid) is not int or pid <= 0 or uid != os.geteuid() or not (start is None or isinstance(start, str)):
        return None
    return pid, start


def _creator_gone(pid: int, start: str | None) -> bool:
    if pid == os.getpid():
        return False
    if not _alive(pid):
        return True
    now = _start_time(pid)
    return start is not None and now is not None and now != start  # the PID now names another process


def stale(folder: Path, name: str) -> list[Path]:
    """The scratch folders made in ``folder`` with ``make_scratch(name, folder)`` whose creator is gone.

    The name only narrows the search: a folder counts only with a valid owner marker, or empty
    (its creator killed before the marker was made, or while removing it), by the PID in its name.
    """
    found = []
    with contextlib.suppress(OSError):
        # escaped: a destination named '*' or '[a]' must not reach other destinations' folders
        for p in folder.glob(f"{glob.escape(name)}-*"):
            owner = _owner(p)
            if owner is not None and _creator_gone(*owner):
                found.append(p)
    return sorted(found)


def remove(folder: Path) -> None:
    """Remove a scratch folder; a link is never followed (rmtree refuses one)."""
    if os.path.islink(folder):
        return
    shutil.rmtree(folder, ignore_errors=True)


def remove_stale(folder: Path, name: str) -> None:
    """Remove the scratch folders ``stale`` finds."""
    for p in stale(folder, name):
        remove(p)


# Worker processes ---------------------------------------------------------------------------

_POOL_PARENT: int | None = None  # in a pool worker: the PID of the process that started the pool
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
_ABORT_WAIT = 10.0  # seconds an aborted pool's shutdown is waited for
_ABORT_WAIT_STOPPED = 1.0  # the same, in a process a stop signal has come to


def _worker_start(parent: int, initializer, initargs: tuple) -> None:
    """First thing in a pool worker: it never outlives the process that started the pool.

    A forked worker inherits the parent's handlers, which turn SIGTERM into KeyboardInterrupt;
    the pool then catches that in the middle of a task, reports it to a parent that is gone
    and waits forever for the next task. So: Ctrl-C is the parent's to handle (the whole
    terminal's process group gets it), and SIGTERM/SIGHUP, the parent-death signal among
    them, end the worker at once, quietly.
    """
    global _POOL_PARENT
    _POOL_PARENT = parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # blocked by the parent around the fork
    die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def orphaned() -> bool:
    """True in a pool worker whose parent is gone (it is then a child of init or a subreaper)."""
    return _POOL_PARENT is not None and os.getppid() != _POOL_PARENT


def exit_if_orphaned() -> None:
    """End a pool worker whose parent is gone, before it starts (or publishes) anything more."""
    if orphaned():
        os._exit(1)


def _worker_task(fn, *args, **kwargs):
    exit_if_orphaned()
    return fn(*args, **kwargs)


_TERM_WAIT = 5.0  # seconds the processes being ended are given to end on SIGTERM, all together


def end_processes(processes: list) -> None:
    """End ``multiprocessing`` processes: SIGTERM, then SIGKILL for any still there after
    ``_TERM_WAIT`` seconds (one that has its stop signals blocked, such as a worker forked a
    moment ago that has not yet set its own handlers). Each is reaped."""
    for p in processes:
        with contextlib.suppress(Exception):
            p.terminate()
    deadline = time.monotonic() + _TERM_WAIT
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(max(0.0, deadline - time.monotonic()))
    for p in processes:
        with contextlib.suppress(Exception):
            if p.exitcode is None:
                p.kill()
                p.join(5)


class WorkerPool:
    """A ``ProcessPoolExecutor`` (fork) whose workers end with their parent (see ``_worker_start``)
    and check it is still there before each task."""

    def __init__(self, max_workers: int, initializer=None, initargs: tuple = ()):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(max_workers=max_workers, mp_context=multiprocessing.get_context("fork"),
                                         initializer=_worker_start, initargs=(os.getpid(), initializer, initargs))
        self._started = False
        self._aborted = False

    def submit(self, fn, /, *args, **kwargs):
        if self._started:
            return self._pool.submit(_worker_task, fn, *args, **kwargs)
        # The first submit forks every worker. Until a worker has set its own handlers it would
        # run the parent's (SIGTERM -> KeyboardInterrupt: a traceback from the initializer), so
        # the stop signals wait, blocked, until then (the parent gets its own a moment later).
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            self._started = True
            return self._pool.submit(_worker_task, fn, *args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def terminate(self) -> None:
        """Stop the workers now (SIGTERM: they end at once), not after their current task."""
        # ProcessPoolExecutor has no public way to stop a running task before Python 3.14
        end_processes(list((getattr(self._pool, "_processes", None) or {}).values()))

    def shutdown(self, abort: bool = False) -> None:
        """Wait for the workers to finish; with ``abort`` (a build that failed or was stopped), end them.
        After an abort, a later shutdown returns at once: the executor's own may never return (below)."""
        if self._aborted:
            return
        if not abort:
            with contextlib.suppress(Exception):
                self._pool.shutdown(wait=True, cancel_futures=True)
            return
        self._aborted = True
        self.terminate()
        # Bounded: Python 3.11's executor can deadlock in shutdown when its workers die while
        # it is handing out or collecting a task (CPython gh-125451, fixed in 3.12 only), and a
        # stopped build must still end. What is left is the executor's own thread, which
        # ends with the process.
        # A stopped command does not wait long: it ends with os._exit (exit_interrupted), which
        # the executor's thread cannot hold up; queued briefs' notebooks, too big for the pipe
        # to the ended workers, held every Ctrl-C of `brief --province all` for the whole wait.
        closing = threading.Thread(target=self._pool.shutdown, kwargs={"wait": True, "cancel_futures": True},
                                   name="parindex-pool-shutdown", daemon=True)
        closing.start()
        closing.join(_ABORT_WAIT_STOPPED if _last_stop != float("-inf") else _ABORT_WAIT)

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.shutdown(abort=kind is not None)


def exit_interrupted() -> None:
    # Stopping is decided and every finally block has run: a second Ctrl-C (the process group's,
    # or a key pressed again) must not turn exit 130 into death by signal while the interpreter
    # shuts down, when Python has put the default handler back.
    # So the process ends here, with 130: the exit handlers run now, with the stop signals
    # ignored, and no interpreter shutdown follows that a library could put a handler back for.
    with contextlib.suppress(ValueError, OSError):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
    _say_interrupted()  # (unless the grace's end has: one line)
    # multiprocessing's exit handler waits, without limit, for every child it started: one whose
    # owner was stopped before it could end it (the signal raised in the owner's constructor)
    # would hold the exit forever. A stopped process has no more use for any of them.
    _end_children()
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(130)
