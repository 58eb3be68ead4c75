"""A build stopped by SIGTERM, SIGHUP or SIGKILL leaves no process and, by the next run, no folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from conftest import ROOT, run_cli
from parindex.proc.lifecycle import OWNER, make_scratch, remove_stale, runtime_parent, stale


def _env(**extra: str) -> dict[str, str]:
    """The environment of a plain command-line run here: the suite's, with the machine's own
    number of solver threads (the suite's processes solve on one, conftest.py), so the stops
    below meet threads as a user's build has them."""
    return {**{k: v for k, v in os.environ.items() if k != "PARINDEX_THREADS"}, **extra}


def _as_at_a_terminal() -> None:
    """Ctrl-C as at a terminal, in a process the suite starts (its preexec_fn): a suite started in
    the background (a shell's `cmd &`) runs with SIGINT ignored, which the process would inherit
    and rightly keep (lifecycle.stop_like_ctrl_c): then no stop test's SIGINT would reach it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(out: Path, log: Path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    # stderr to a file, not a pipe read only at the end (a full pipe would stall the build), and
    # Python's fault handler on: a build that does not stop is made to print where it waits
    with log.open("wb") as f:
        p = subprocess.Popen([sys.executable, "-m", "parindex.cli", "report", "--year", "2020", "--out", str(out)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=f, env=_env(PYTHONFAULTHANDLER="1"))
    parent = psutil.Process(p.pid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the kernel and the PDF workers exist
        kids = parent.children(recursive=True)
        if any("parindex.build.kernel" in " ".join(k.cmdline()) for k in kids if k.is_running()) and len(kids) >= 3:
            return p, kids
        time.sleep(0.1)
    p.kill()
    raise AssertionError("the build did not start its kernel and workers")


def _wait_ended(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes of ``procs`` still alive after up to ``timeout`` seconds. An exited one is a
    zombie until its parent collects it; for an orphan that is init, which may do so only on its own
    schedule (this machine kind's reaps every second and a half, and psutil.wait_procs waited for
    it after each stop, the suite idle meanwhile). A zombie whose threads have all ended runs
    nothing: it counts as ended. (Linux shows a process as a zombie once its main thread has
    exited, while its other threads may still run: such a one is still alive.)"""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                if proc.is_running() and not (proc.status() == psutil.STATUS_ZOMBIE and proc.num_threads() == 1):
                    alive.append(proc)
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.02)


def _wait_for_the_stop(p: subprocess.Popen, log: Path) -> None:
    """Wait for a stopped build to end; one that does not is made to print every thread's stack
    (its fault handler, on SIGABRT) and fails the test with it."""
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGABRT)
        p.wait(timeout=30)
        pytest.fail(f"the stopped build did not end:\n{log.read_text(errors='replace')[-6000:]}")


@pytest.mark.usefixtures("bundled_2020")  # 2020 solved once a run: the builds here only read it
@pytest.mark.slow  # builds through a kernel
# (SIGKILL, and the next build clearing what it leaves: test_sigkill_leaves_no_process_and_publishes_nothing_more)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stopped_build_leaves_no_process(tmp_path, sig):
    out, log = tmp_path / "report", tmp_path / "stderr.txt"
    p, kids = _start(out, log)
    os.kill(p.pid, sig)
    _wait_for_the_stop(p, log)
    alive = _wait_ended(kids, timeout=15)
    assert not alive, [k.cmdline() for k in alive]
    assert p.returncode == 130, log.read_text(errors='replace')
    assert not list(tmp_path.glob(".report.building-*"))
    assert not list(runtime_parent().glob(f"pk-{p.pid}-*"))
    assert not (out / "yearly_report_2020_vi.pdf").exists()


MAKE = "import sys; from pathlib import Path; from parindex.proc.lifecycle import make_scratch; print(make_scratch(sys.argv[1], Path(sys.argv[2])))"


def _made_by_dead_process(name: str, parent: Path) -> tuple[Path, int]:
    p = subprocess.run([sys.executable, "-c", MAKE, name, str(parent)], cwd=ROOT, capture_output=True, text=True,
                       check=True)
    folder = Path(p.stdout.strip())
    pid = int(folder.name.split("-")[1])
    assert not psutil.pid_exists(pid)
    return folder, pid


@pytest.fixture(autouse=True)
def _no_scratch_left():
    """What the killed builds here leave by design (their kernels' and PDF workers' folders, which
    the next build removes) is removed after each test, so that the suite leaves none behind."""
    yield
    for name in ("pk", "wp"):
        remove_stale(runtime_parent(), name)


@pytest.fixture
def private_tmp(monkeypatch):
    """A temporary folder of the test's own (short: socket paths), and no XDG_RUNTIME_DIR: the fallback parent."""
    import shutil

    base = Path(tempfile.mkdtemp(prefix="pl-", dir="/tmp"))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    yield base
    shutil.rmtree(base)


def test_clean_up_removes_only_marked_folders_of_dead_processes(private_tmp):
    parent = runtime_parent()
    assert parent == private_tmp / f"parindex-{os.geteuid()}" and (parent.stat().st_mode & 0o777) == 0o700
    real, dead = _made_by_dead_process("pk", parent)
    keys = private_tmp / "pk-2024-my-keys"  # a user's own folder, named alike, in the temporary folder
    keys.mkdir()
    (keys / "id_ed25519").write_text("secret", encoding="utf-8")
    unmarked = [private_tmp / f"pk-{dead}-x", parent / f"pk-{dead}-x", parent / "pk-2024-my-keys"]
    for f in unmarked:
        f.mkdir()
        (f / "file").write_text("mine", encoding="utf-8")
    # a link named like a stale folder, to a folder with a valid marker of a dead process: not followed
    target, _ = _made_by_dead_process("elsewhere", private_tmp)
    (parent / f"pk-{dead}-link").symlink_to(target)
    # a marker with a live PID but another start time: that PID was reused, the creator is gone
    reused = make_scratch("pk", parent)
    (reused / OWNER).write_text(f'{{"pid": {os.getppid()}, "start": "other-boot:1", "uid": {os.geteuid()}}}')
    mine = make_scratch("pk", parent)  # this process's own: alive
    # killed between making its marker and writing it: an empty marker, and the creator's PID in the name
    killed, _ = _made_by_dead_process("pk", parent)
    (killed / OWNER).write_text("", encoding="utf-8")
    busy = make_scratch("pk", parent)  # this process's own, its marker not written yet
    (busy / OWNER).write_text("", encoding="utf-8")
    # killed before its marker was made, or while its folder was removed: empty, no marker
    emptied, _ = _made_by_dead_process("pk", parent)
    (emptied / OWNER).unlink()
    starting = make_scratch("pk", parent)  # this process's own, an instant before its marker
    (starting / OWNER).unlink()
    assert stale(parent, "pk") == sorted([real, reused, killed, emptied])
    remove_stale(private_tmp, "pk")  # what older versions cleaned: now nothing there is parindex's
    remove_stale(parent, "pk")
    assert not real.exists() and not reused.exists() and not killed.exists() and busy.is_dir()
    assert not emptied.exists() and starting.is_dir()
    assert mine.is_dir() and (keys / "id_ed25519").read_text(encoding="utf-8") == "secret"
    assert all((f / "file").is_file() for f in unmarked)
    assert (target / OWNER).is_file() and (parent / f"pk-{dead}-link").is_symlink()


def test_a_private_parent_that_is_not_private_is_not_used(private_tmp):
    parent = private_tmp / f"parindex-{os.geteuid()}"
    parent.mkdir(mode=0o777)
    parent.chmod(0o777)
    assert runtime_parent() != parent  # another user could reach the sockets: the next candidate
    parent.rmdir()
    parent.symlink_to(private_tmp)
    assert runtime_parent() != parent


def test_publish_scratch_look_alikes_survive(tmp_path):
    from parindex.build import publish

    dest = tmp_path / "2020"
    dest.mkdir()
    real, dead = _made_by_dead_process(".2020.building", tmp_path)
    alike = [tmp_path / ".yearly_report_2020_en.ipynb.building-99999-x", tmp_path / f".2020.building-{dead}-x",
             tmp_path / ".2020.building-99999-x"]
    for f in alike:
        f.mkdir()
        (f / "r.html").write_text("mine", encoding="utf-8")
    shutil.rmtree(publish.scratch_folder(dest))  # what every build does first
    assert not real.exists()
    assert all((f / "r.html").read_text(encoding="utf-8") == "mine" for f in alike)


def _marked(mark: str) -> list[psutil.Process]:
    """Every process carrying the test's marker in its environment (inherited by every descendant)."""
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.environ().get("PARINDEX_TEST_MARK") == mark:
                found.append(proc)
    return found


def _in_vfork(proc: psutil.Process) -> bool:
    """Whether ``proc`` waits in vfork() (subprocess starts its children so): uninterruptibly, until
    the child it shares its memory with execs or exits, running nothing of its own meanwhile."""
    try:
        return Path(f"/proc/{proc.pid}/wchan").read_text() in ("kernel_clone", "_do_fork", "do_fork")
    except OSError:
        return False


def _hold(procs: list[psutil.Process]) -> None:
    """Stop ``procs`` (SIGSTOP) and wait until each is stopped: a rename under way is then done.

    A process caught starting a child waits in vfork() in uninterruptible sleep, and a SIGSTOP
    takes effect only when the child has exec'd; stopped itself before that, the child never does.
    Such a parent is held as it is: it can do nothing until its held child goes on. (Waited for,
    it kept the suite waiting out the deadline, twice in full runs: "did not stop: disk-sleep".)"""
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.suspend()
    deadline = time.monotonic() + 60
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            while (status := proc.status()) not in (psutil.STATUS_STOPPED, psutil.STATUS_ZOMBIE):
                if status == psutil.STATUS_DISK_SLEEP and _in_vfork(proc):
                    break
                assert time.monotonic() < deadline, f"{proc.pid} did not stop: {status}"
                time.sleep(0.005)


SPAWN_BLOCKED = ("import os, sys; os.posix_spawn('/bin/true', ['true'], dict(os.environ), "
                 "file_actions=[(os.POSIX_SPAWN_OPEN, 3, sys.argv[1], os.O_RDONLY, 0)])")


def test_a_parent_caught_starting_a_child_is_held(tmp_path):
    """_hold on a parent in vfork() whose child is held before its exec (how a full run's SIGKILL
    test once waited a minute): glibc's posix_spawn shares memory with the child as subprocess
    does, and the child's first action, opening a FIFO no one writes to, keeps it before exec."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = subprocess.Popen([sys.executable, "-c", SPAWN_BLOCKED, str(fifo)])
    parent = psutil.Process(p.pid)
    held = [parent]
    try:
        deadline = time.monotonic() + 30
        while not (parent.children() and parent.status() == psutil.STATUS_DISK_SLEEP):
            assert time.monotonic() < deadline and p.poll() is None, "the child did not start"
            time.sleep(0.01)
        child, = parent.children()
        held.insert(0, child)
        if Path(f"/proc/{p.pid}/wchan").read_text() == "0":
            pytest.skip("this kernel does not show where a process waits (/proc/PID/wchan)")
        assert _in_vfork(parent) and not _in_vfork(child)
        started = time.monotonic()
        _hold([child, parent])
        assert time.monotonic() - started < 5
        assert child.status() == psutil.STATUS_STOPPED and parent.status() == psutil.STATUS_DISK_SLEEP
    finally:
        for proc in held:
            with contextlib.suppress(psutil.Error):
                proc.kill()
                proc.resume()
        p.wait(timeout=30)


def _published(out: Path) -> dict[str, int]:
    """The files in place (a build's scratch folders, hidden, are left out: not walked into, as
    one can vanish mid-walk when its set has just been published)."""
    found = {}
    for folder, dirs, files in os.walk(out):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                found[os.path.join(folder, name)] = os.stat(os.path.join(folder, name)).st_mtime_ns
    return found


def _a_year_published(out: Path) -> bool:
    """Whether one year of an all-years build is in place, its whole set (notebook, HTML, PDF, record)."""
    return out.is_dir() and any(len([f for f in d.iterdir() if f.is_file()]) >= 4
                                for d in out.iterdir() if d.is_dir() and d.name.isdigit())


def _next_build_clears(tmp_path: Path, out: Path, pid: int) -> None:
    """Nothing can clean up after SIGKILL: the next build into the folder removes what is left,
    first thing (a notebook of its parameters alone is enough)."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "yearly_report.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    nbformat.write(nb, tmp_path / "next.ipynb")
    r = run_cli("report", "--year", "2020", "--format", "html", "--notebook", str(tmp_path / "next.ipynb"),
                "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "next_2020_vi.html").is_file()
    assert not list(out.parent.glob(f".{out.name}.building-{pid}-*")) and not list(out.glob(f".*.building-{pid}-*"))
    assert not list(runtime_parent().glob(f"pk-{pid}-*"))


@pytest.mark.usefixtures("bundled_2020")  # 2020 solved once a run: the builds here only read it
@pytest.mark.slow  # builds through kernels; a few runs only, the machine is small
@pytest.mark.parametrize("args,when", [
    (["report", "--year", "2020"], 0.0),  # kernel booting, PDF workers warming up
    (["report", "--year", "2020"], 3.0),  # cells running, the first parts rendering
    # the moment one year is published: the next years' kernels and PDF workers at work
    (["report", "--year", "all", "--format", "html,pdf"], 0.0),  # the years' first kernels booting
    (["report", "--year", "all", "--format", "html,pdf"], _a_year_published),
    (["brief", "--province", "all", "--format", "pdf"], 4.0),  # briefs running, the first ones rendering
])
def test_sigkill_leaves_no_process_and_publishes_nothing_more(tmp_path, args, when):
    import uuid

    mark = uuid.uuid4().hex
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "parindex.cli", *args, "--out", str(out)], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=_env(PARINDEX_TEST_MARK=mark))
    parent = psutil.Process(p.pid)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and p.poll() is None:  # until a kernel runs
        with contextlib.suppress(psutil.Error):
            if any("parindex.build.kernel" in " ".join(k.cmdline()) for k in parent.children(recursive=True)):
                break
        time.sleep(0.1)
    if callable(when):
        until = time.monotonic() + 120  # a deadline of its own: a slow machine's first year
        while time.monotonic() < until and p.poll() is None and not when(out):
            time.sleep(0.05)
    else:
        time.sleep(when)
    assert p.poll() is None, "the build ended before it could be killed"
    # The build is held still while what it has published is read and while it is killed: a year
    # whose set was moved into place between that look and the kill counted as published after
    # it (once, in a full run). Let go after the kill, the workers meet their parent-death
    # signal before they run another line, as they would have met it at work.
    held = _marked(mark)
    try:
        _hold(held)
        before = _published(out) if out.exists() else {}
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
    finally:  # never left stopped, whatever failed
        for proc in held:
            with contextlib.suppress(psutil.Error):
                proc.resume()
    alive = _wait_ended(_marked(mark), timeout=20)
    assert not alive, [(a.pid, a.cmdline()) for a in alive]
    # Every process the build starts carries the mark: once none is left, none can start another
    # or publish. Two more looks, a moment apart, catch one that was being forked meanwhile.
    for _ in range(2):
        time.sleep(0.2)
        left = _marked(mark)
        assert not left, [(a.pid, a.ppid(), a.cmdline()) for a in left]
    assert (_published(out) if out.exists() else {}) == before
    assert b"Traceback" not in p.stderr.read()
    if callable(when):
        assert before, "killed before any year was published"
    if args == ["report", "--year", "2020"] and when == 0.0:
        _next_build_clears(tmp_path, out, p.pid)


@pytest.mark.usefixtures("bundled_2020")  # 2020 solved once a run: the builds here only read it
@pytest.mark.slow
@pytest.mark.parametrize("args,twice", [(["report", "--year", "2020"], False), (["report", "--year", "all"], False),
                                        (["report", "--year", "2020"], True),
                                        # the briefs run nbclient's own client, which took the stop
                                        # signals for itself (execute.BriefClient)
                                        (["brief", "--province", "all", "--format", "pdf"], True)])
def test_ctrl_c_prints_one_line_and_exits_130(tmp_path, args, twice):
    """Ctrl-C reaches the whole process group (workers included): one line, no worker traceback.
    Pressed twice (the second while the first is being handled, or while the interpreter shuts
    down, when Python has put the default handler back), still one line and 130, not death by
    SIGINT (-2: the suite saw it once under load)."""
    # stderr to a file and the fault handler on: a clean-up that sticks prints every thread's
    # stack when its grace ends (lifecycle.STOP_GRACE), which fails the one-line check below
    log = tmp_path / "stderr.txt"
    with log.open("wb") as f:
        p = subprocess.Popen([sys.executable, "-m", "parindex.cli", *args, "--out", str(tmp_path / "out")], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=f, start_new_session=True, env=_env(PYTHONFAULTHANDLER="1"),
                             preexec_fn=_as_at_a_terminal)
    parent = psutil.Process(p.pid)
    deadline = time.monotonic() + 90
    workers = 1 if args[0] == "brief" else 2  # the briefs' one PDF worker; a report's two
    while time.monotonic() < deadline and p.poll() is None:
        with contextlib.suppress(psutil.Error):
            kids = parent.children(recursive=True)
            if any("parindex.build.kernel" in " ".join(k.cmdline()) for k in kids) and len(kids) >= 1 + workers:
                break
        time.sleep(0.1)
    time.sleep(2)
    assert p.poll() is None, "the build ended before it could be stopped"
    kids = parent.children(recursive=True)
    os.killpg(p.pid, signal.SIGINT)
    if twice:
        time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGINT)
    _wait_for_the_stop(p, log)
    err = log.read_text(encoding="utf-8", errors="replace")
    assert p.returncode == 130 and len(err.strip().splitlines()) == 1 and "interrupted" in err, err
    alive = _wait_ended(kids, timeout=15)
    assert not alive, [k.cmdline() for k in alive]


_RENDER_THEN_DIE = """
import os, signal
from parindex.render.pdf import render_body
render_body("<p>Ắ ể</p>", "t", "vi", furniture=False)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_pdf_renderer_leaves_no_font_folder(request):
    """WeasyPrint copies the report's fonts into a folder of its own; a process killed after
    rendering cannot remove it, so it is a marked scratch folder the next renderer removes."""
    short = Path(tempfile.mkdtemp(prefix="pxf", dir="/tmp"))  # a socket-length path, as the runtime folder must be
    request.addfinalizer(lambda: shutil.rmtree(short, ignore_errors=True))
    run, tmp = short / "run", short / "tmp"
    run.mkdir(mode=0o700)
    tmp.mkdir()
    env = {**os.environ, "XDG_RUNTIME_DIR": str(run), "TMPDIR": str(tmp)}
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", _RENDER_THEN_DIE], env=env, capture_output=True, text=True)
        assert r.returncode == -signal.SIGKILL, r.stderr
        assert not list(tmp.glob("weasyprint-*"))  # nothing outside the private folder
        left = list((run / "parindex").glob("wp-*"))
        assert len(left) == 1, left  # the earlier run's folder went when this one started rendering
    r = subprocess.run([sys.executable, "-c", _RENDER_THEN_DIE.replace("os.kill(os.getpid(), signal.SIGKILL)", "")],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not list((run / "parindex").glob("wp-*"))  # a normal exit removes its own, and the dead one's


def test_one_stop_however_many_signals_bring_it(monkeypatch):
    """The handler behind Ctrl-C, SIGTERM and SIGHUP: a repeat within a second is the same stop
    (it must not break into the clean-up the first one started); a later one stops again."""
    from parindex.proc import lifecycle

    now = [1000.0]
    monkeypatch.setattr(lifecycle.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(lifecycle, "_last_stop", float("-inf"))
    monkeypatch.setattr(lifecycle, "_stop_requested", False)  # restored: the stops here are remembered
    with pytest.raises(KeyboardInterrupt):
        lifecycle._interrupt(signal.SIGINT, None)
    now[0] += 0.05
    lifecycle._interrupt(signal.SIGINT, None)  # the second press: nothing
    now[0] += 2.0
    with pytest.raises(KeyboardInterrupt):
        lifecycle._interrupt(signal.SIGTERM, None)


def test_a_remembered_stop_ends_a_wait_that_would_never_return(monkeypatch):
    # A stop whose KeyboardInterrupt is lost (raised inside a finaliser, whose exceptions Python
    # only prints) is remembered: the build's next wait or checkpoint raises it. Before, a
    # SIGTERM under load could leave `parindex report` waiting on an export for ever.
    from concurrent.futures import Future

    from parindex.proc import lifecycle

    never: Future = Future()
    done: Future = Future()
    done.set_result("part")
    monkeypatch.setattr(lifecycle, "_stop_requested", False)
    assert lifecycle.wait_result(done) == "part"
    lifecycle.check_stop()  # no stop: nothing raised
    monkeypatch.setattr(lifecycle, "_last_stop", float("inf"))  # every stop a repeat of the last:
    lifecycle._interrupt(signal.SIGTERM, None)  # it raises nothing, but is remembered
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        lifecycle.wait_result(never, poll=0.05)
    assert time.monotonic() - t0 < 5
    lifecycle._interrupt(signal.SIGTERM, None)
    with pytest.raises(KeyboardInterrupt):
        lifecycle.check_stop()
    lifecycle.check_stop()  # acted on once: a process that carries on is not stopped again
    lifecycle._interrupt(signal.SIGTERM, None)
    lifecycle.reset_stop()  # a build starting now is not stopped by an earlier stop
    lifecycle.check_stop()


@pytest.mark.slow  # starts a kernel
def test_a_remembered_stop_ends_a_running_cell(tmp_path, monkeypatch):
    # A stop whose interrupt was lost while a cell runs: nbclient's once-a-second liveness check
    # reads the stop flag, so the build stops within a second or two, not when the cell ends.
    import threading

    import nbformat

    from parindex.build.execute import execute
    from parindex.build.kernel import ReportKernel
    from parindex.proc import lifecycle

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("year = 0", metadata={"tags": ["parameters"]}),
                                         nbformat.v4.new_code_cell("import time\ntime.sleep(60)")])
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(lifecycle, "_stop_requested", False)
    kernel = ReportKernel(tmp_path, tmp_path / "kernel.log")
    started = []
    lose = threading.Timer(1.0, lambda: setattr(lifecycle, "_stop_requested", True))

    def lose_a_stop(index, _nb):
        # once, when the parameters cell has run: the sleeping cell starts next. Called for every
        # cell that ends (papermill's injected parameters, the stopped cell too), a timer each
        # time left the flag set after the test, and a later test in this worker was stopped.
        if not started:
            started.append(time.monotonic())
            lose.start()

    try:
        with pytest.raises(KeyboardInterrupt):
            execute(path, {"year": 2020}, kernel, on_cell_complete=lose_a_stop)
        assert started and time.monotonic() - started[0] < 15  # the cell alone would take 60 s
    finally:
        lose.cancel()
        if lose.is_alive():
            lose.join()
        kernel.shutdown()
        _drain_the_stopped_loop()


def _drain_the_stopped_loop() -> None:
    """The stop leaves nbclient's tasks in this thread's event loop (jupyter_core reuses it): the
    liveness check holding the KeyboardInterrupt, the running cell's wait. Ended and read here,
    they are not printed as "Task exception was never retrieved" when the worker exits."""
    import asyncio
    import gc

    from jupyter_core.utils import ensure_event_loop

    loop = ensure_event_loop()
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    # the ended ones (the liveness check that raised) are out of all_tasks' sight
    for task in [o for o in gc.get_objects() if isinstance(o, asyncio.Task) and o.get_loop() is loop]:
        if task.done() and not task.cancelled():
            task.exception()


def test_an_aborted_pool_whose_shutdown_deadlocks_still_returns(monkeypatch):
    # Python 3.11's executor can deadlock in shutdown once its workers are killed mid-task
    # (CPython gh-125451): a stopped build waits for it a bounded time, then ends anyway.
    import threading

    from parindex.proc import lifecycle

    monkeypatch.setattr(lifecycle, "_ABORT_WAIT", 0.5)
    pool = lifecycle.WorkerPool(1)
    assert pool.submit(int, "7").result(timeout=30) == 7
    real = pool._pool.shutdown
    stuck = threading.Event()
    monkeypatch.setattr(pool._pool, "shutdown", lambda **kw: stuck.wait(30))
    t0 = time.monotonic()
    pool.shutdown(abort=True)
    assert time.monotonic() - t0 < 10
    stuck.set()
    real(wait=True)


def test_a_stop_while_the_pdf_workers_are_forked_ends_them(monkeypatch):
    # The stop signal blocked around the fork is raised when it is unblocked, inside the
    # exports' constructor: before the build holds the object it would close. The workers must
    # end there (the CI hang of 2026-12-05: the exit then waited for them forever).
    import multiprocessing

    from parindex.build import parts

    before = set(multiprocessing.active_children())

    def stopped(*a, **kw):
        assert len(set(multiprocessing.active_children()) - before) == 2  # the workers were forked
        raise KeyboardInterrupt("signal 15")

    monkeypatch.setattr(parts, "ThreadPoolExecutor", stopped)
    with pytest.raises(KeyboardInterrupt):
        parts.PartExports("t", "vi", pdf_workers=2)
    assert set(multiprocessing.active_children()) <= before


LEAK = """
import signal, sys, time
from parindex.proc import lifecycle
lifecycle._TERM_WAIT = 0.5  # the SIGKILL sooner: the test waits for it
pool = lifecycle.WorkerPool(1)
assert pool.submit(int, "7").result(timeout=30) == 7
if sys.argv[1] == "blocked":  # a worker that has its stop signals blocked: only SIGKILL ends it
    pool.submit(signal.pthread_sigmask, signal.SIG_BLOCK, {signal.SIGTERM}).result(timeout=30)
print(next(iter(pool._pool._processes)), flush=True)
lifecycle.exit_interrupted()  # the pool was never shut down
"""


@pytest.mark.parametrize("worker", ["idle", "blocked"])
def test_a_stopped_process_ends_even_with_a_pool_no_one_shut_down(worker):
    # multiprocessing's exit handler joins every child without limit; exit_interrupted ends them first
    p = subprocess.Popen([sys.executable, "-c", LEAK, worker], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        for k in psutil.Process(p.pid).children(recursive=True):
            k.kill()
        p.kill()
        p.communicate()
        pytest.fail("the stopped process waited for a worker its owner never ended")
    assert p.returncode == 130, err
    assert "stopped: interrupted" in err
    assert not psutil.pid_exists(int(out.strip())) or psutil.Process(int(out.strip())).status() == "zombie"


STUCK = """
import os, sys, threading, time
from parindex.proc import lifecycle
lifecycle.stop_like_ctrl_c(grace=float(sys.argv[1]))
held = threading.Lock()
held.acquire()  # as a lock a KeyboardInterrupt broke into is left: held, by no one who will free it
pool = lifecycle.WorkerPool(1)
try:
    print(pool.submit(os.getpid).result(timeout=30), flush=True)
    time.sleep(60)
finally:
    held.acquire()  # the clean-up waits on it for ever
"""


@pytest.mark.parametrize("dump", [False, True])
def test_a_stop_whose_clean_up_is_stuck_still_ends_with_130(dump):
    """A command's clean-up has a bounded time after a stop (lifecycle.STOP_GRACE): past it the
    process ends with the one line and 130, its workers with it; with Python's fault handler
    asked for, every thread's stack first (what the suite's stop tests print when one hangs)."""
    from parindex.proc import INTERRUPTED

    env = {**os.environ, "PYTHONFAULTHANDLER": "1"} if dump else {k: v for k, v in os.environ.items()
                                                                   if k != "PYTHONFAULTHANDLER"}
    p = subprocess.Popen([sys.executable, "-c", STUCK, "0.5"], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env, preexec_fn=_as_at_a_terminal)
    worker = int(p.stdout.readline())
    start = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        pytest.fail("the stopped process waited for ever on its clean-up")
    assert p.returncode == 130, err
    assert 0.45 < time.monotonic() - start < 20
    with contextlib.suppress(psutil.NoSuchProcess):  # the pool's worker ended with it
        assert not _wait_ended([psutil.Process(worker)], timeout=10)
    if dump:
        stuck = STUCK.splitlines().index("    held.acquire()  # the clean-up waits on it for ever") + 1
        assert f'File "<string>", line {stuck} in <module>' in err and err.endswith(INTERRUPTED + "\n"), err
    else:
        assert err == INTERRUPTED + "\n"


BACKED_UP = """
import os, signal, sys, time
from parindex.proc import lifecycle
lifecycle.stop_like_ctrl_c()
pool = lifecycle.WorkerPool(1)
pool.submit(time.sleep, 30)  # the worker busy: what is queued next waits in the pipe to it
for _ in range(5):
    pool.submit(len, "x" * 400_000)  # more than the pipe holds: the executor's feeder blocks
try:
    time.sleep(1)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)
except KeyboardInterrupt:
    t = time.monotonic()
    pool.shutdown(abort=True)
    pool.shutdown()  # as a build's clean-up did after the abort (parts.PartExports.close)
    print(round(time.monotonic() - t, 1), flush=True)
    os._exit(0)
"""


def test_an_aborted_pool_whose_pipe_is_full_does_not_hold_the_stop():
    """Workers ended while the executor still feeds them a task too big for the pipe: its
    shutdown never returns (CPython gh-125451). The abort waits for it a bounded time, a second
    after a stop, and a later shutdown returns at once: a report stopped while its PDF parts were
    queued took the whole stop grace (30 s) to end."""
    p = subprocess.run([sys.executable, "-c", BACKED_UP], cwd=ROOT, capture_output=True, text=True, timeout=30,
                       preexec_fn=_as_at_a_terminal)
    assert p.returncode == 0, p.stderr
    assert float(p.stdout) < 5, p.stdout


def test_a_stop_signal_the_caller_ignores_stays_ignored():
    # nohup, or a shell's background job (SIGINT): the build must not undo what its caller chose
    from parindex.proc import lifecycle

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        lifecycle.stop_like_ctrl_c()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is lifecycle._interrupt
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


# The command as the console script (parindex.__main__) or `python -m parindex.cli` starts it, with
# the stop signal sent to itself the moment it begins to load typer, its first heavy import: the
# signal lands inside an import, every time.
_STOP_WHILE_LOADING = """
import os, runpy, signal, sys

entry, sig = sys.argv[1], getattr(signal, sys.argv[2])


class StopAtTyper:
    def find_spec(self, name, path=None, target=None):
        if name == "typer":
            os.kill(os.getpid(), sig)
        return None


sys.meta_path.insert(0, StopAtTyper())
sys.argv = ["parindex", "--help"]
if entry == "parindex.cli":
    runpy.run_module("parindex.cli", run_name="__main__", alter_sys=True)
else:
    from parindex.__main__ import main

    main()
print("not stopped")
"""


@pytest.mark.parametrize("entry", ["parindex", "parindex.cli"])
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stop_while_the_command_loads_is_one_line(entry, sig):
    """Ctrl-C in a command's first moments, while its modules load: the one line and 130, not
    Python's traceback from inside an import (SIGTERM: not death by the signal)."""
    from parindex.proc import INTERRUPTED

    r = subprocess.run([sys.executable, "-c", _STOP_WHILE_LOADING, entry, sig], capture_output=True, text=True,
                       cwd=ROOT, env=_env(), timeout=60, preexec_fn=_as_at_a_terminal)
    assert (r.returncode, r.stderr, r.stdout) == (130, INTERRUPTED + "\n", ""), r


def test_importing_the_command_as_a_module_leaves_the_signals_alone():
    """A notebook or a script that imports parindex.cli (or parindex.__main__) is not a command:
    its Ctrl-C stays Python's own, never an exit."""
    code = ("import signal; before = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)]; "
            "import parindex.cli, parindex.__main__; "
            "print([signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)] == before)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=60)
    assert r.stdout == "True\n", r


def test_a_lost_stop_still_ends_the_command_with_130(tmp_path):
    """A Ctrl-C whose KeyboardInterrupt was lost (raised inside a callback Python ignores
    exceptions from) and that nothing checked before the command ended: the one line and 130,
    not 0; a wait for the solves checks for it too (cores.gather)."""
    code = """
import sys
from parindex.proc import lifecycle
from parindex.infer import cores
import parindex.cli as cli

def lost_then_wait():
    lifecycle._stop_requested = True  # as _interrupt leaves it when its KeyboardInterrupt is lost
    try:
        cores.gather([lambda: 1, lambda: 2])
    except KeyboardInterrupt:
        print("the wait saw it")
    lifecycle._stop_requested = True

cli.app.command("lost")(lost_then_wait)
sys.argv = ["parindex", "lost"]
cli.main()
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=60)
    from parindex.proc import INTERRUPTED

    assert (r.returncode, r.stdout, r.stderr) == (130, "the wait saw it\n", INTERRUPTED + "\n"), r


def test_the_command_runs_from_its_entry_point():
    """The console script's entry point (pyproject) is parindex.__main__, which takes over the
    stop signals first; `python -m parindex` is the same command."""
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"parindex": "parindex.__main__:main"}
    r = subprocess.run([sys.executable, "-m", "parindex", "validate", "--help"], capture_output=True, text=True,
                       cwd=ROOT, env=_env(), timeout=60)
    assert r.returncode == 0 and "Usage: python -m parindex validate" in r.stdout, r


def _third_of_the_synthetic_table(path: Path) -> Path:
    """A user's 2020 table with every third province's value and no ranks: its inference runs
    for minutes (many unknowns, no announced count settles them)."""
    import csv

    rows = list(csv.reader((ROOT / "tests/fixtures/synthetic_par_index_2020.csv").open(encoding="utf-8")))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["province", "par_index"])
        w.writerows(r[:2] for i, r in enumerate(rows[1:]) if i % 3 == 0)
    return path


def test_a_stop_does_not_wait_for_the_solves_in_flight(tmp_path):
    """SIGTERM while a long inference runs: the process ends at once with 130. It used to wait for
    every queued solve (leaving the thread pool joined its threads): minutes after the signal."""
    table = _third_of_the_synthetic_table(tmp_path / "third.csv")
    with (tmp_path / "err").open("wb") as err:
        p = subprocess.Popen([sys.executable, "-m", "parindex.cli", "summary", "--year", "2020", "--par-index",
                              str(table)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
                             env=_env(PARINDEX_CACHE=str(tmp_path / "cache")))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and p.poll() is None and psutil.Process(p.pid).num_threads() < 3:
        time.sleep(0.05)  # until the two indices' threads (and their solves) have started
    time.sleep(0.5)
    assert p.poll() is None  # the whole inference takes minutes
    p.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    try:
        p.wait(timeout=20)
    finally:
        p.kill()
    assert time.monotonic() - t0 < 20 and p.returncode == 130
    assert (tmp_path / "err").read_text(encoding="utf-8").strip().startswith("stopped: interrupted")


def test_gather_leaves_on_a_stop_and_its_threads_solve_nothing_more():
    """cores.gather, the threads behind pmap and analyse: a KeyboardInterrupt in the waiting thread
    returns at once, and the threads then stop before their next solve (a real HiGHS model)."""
    import threading

    from parindex.infer import cores
    from parindex.infer.model import _Model

    release, solved = threading.Event(), []

    def call(i: int) -> None:
        release.wait(30)
        solved.append(_Model(1, [0.0], [1.0], [False]).solve())  # raises Cancelled after the stop

    def stop(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, stop)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            cores.gather([lambda i=i: call(i) for i in range(6)], workers=2)
        assert time.monotonic() - t0 < 5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        release.set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(t.name.startswith("ThreadPoolExecutor") and t.is_alive()
                                              for t in threading.enumerate()):
        time.sleep(0.05)
    assert solved == []  # the two running calls ended with Cancelled; the four queued never ran
    # and without a stop, the same model solves (feasibility: 0.0), in order, on the same threads' code
    assert cores.gather([lambda: _Model(1, [0.0], [1.0], [False]).solve()] * 3, workers=2) == [0.0, 0.0, 0.0]
