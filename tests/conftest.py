from __future__ import annotations

import contextlib
import fcntl
import functools
import gc
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

# pytest-xdist runs a worker per core: each process (a worker, a build it starts, that build's
# kernel) solves on one thread (parindex.infer.cores); more threads on cores that are all busy
# only add switching. The threads' own path is tested with their number set (test_inference.py),
# and the lifecycle tests' plain runs stop builds that have the machine's own number.
os.environ.setdefault("PARINDEX_THREADS", "1")
# For the same reason, numpy's OpenBLAS starts no threads of its own: in each of the run's ~100
# processes that import numpy they spun for a while unasked (3 CPU-seconds a run); no operation
# here is large enough for OpenBLAS to split it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# A worker makes millions of small objects (models, figures, frames) and keeps few: at Python's
# default thresholds it ran ~3,000 collections, 5 % of its CPU, most of them finding nothing.
gc.set_threshold(50_000, 20, 20)

from parindex.proc.startup import skip_slow_optional_imports  # noqa: E402

# The test processes import nbformat as parindex's own processes do: without the 1.5-2 s grammar
# build of rfc3987-syntax (parindex.proc.startup), paid once per worker at collection otherwise.
skip_slow_optional_imports()

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SYN_PAR = FIXTURES / "synthetic_par_index_2020.csv"
SYN_SIPAS = FIXTURES / "synthetic_sipas_2020.csv"
# markup and a link in a file name: a user's file name is text wherever it is shown
HOSTILE_NAME = "<img src=x onerror=alert(1)>![p](http:&#47;&#47;127.0.0.1:9&#47;x).csv"


def run_cli(*args: str, cwd: Path = ROOT, **kw) -> subprocess.CompletedProcess:
    """``python -m parindex.cli ARGS`` in a process of its own; forked from a process that has
    already imported parindex (tests/forkcli.py) unless a caller needs more of subprocess.run."""
    if not kw and os.environ.get("PARINDEX_TEST_FORK", "1") != "0":
        import forkcli

        return forkcli.run(list(args), Path(cwd), ROOT)
    return subprocess.run([sys.executable, "-m", "parindex.cli", *args], capture_output=True, text=True,
                          cwd=cwd, encoding="utf-8", **kw)


@functools.lru_cache(maxsize=1)
def _parametric_srgb() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@contextlib.contextmanager
def for_poppler(pdf: Path):
    """A copy of ``pdf`` for poppler's tools, the same in all but its sRGB colour profile.

    WeasyPrint's profile (sRGB2014.icc) gives its tone curves as 1,024-point tables, and poppler
    builds each page's colour transform anew, inverting them: 30 ms a page, four fifths of what
    pdftotext spent on a report (about 7 CPU-seconds of a run). lcms's own sRGB gives the same
    curves as formulas, inverted at once. Text and layout are untouched (a test compares them);
    the product's file, and its profile, are what the other checks read."""
    import importlib.util
    import tempfile

    import pikepdf

    # found without importing WeasyPrint (a second in a process that has not)
    tabulated = (Path(importlib.util.find_spec("weasyprint").origin).parent / "pdf" / "sRGB2014.icc").read_bytes()
    with tempfile.TemporaryDirectory(prefix="poppler-") as folder, pikepdf.open(pdf) as doc:
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Stream) and obj.get("/N") == 3 and obj.read_bytes() == tabulated:
                obj.write(_parametric_srgb())
        copy = Path(folder) / "copy.pdf"
        doc.save(copy)
        yield copy


@functools.lru_cache(maxsize=None)
def _pdftotext(path: str, flags: tuple[str, ...], stamp: tuple[int, int, int]) -> str:
    def extract() -> str:
        with for_poppler(Path(path)) as copy:
            return subprocess.run(["pdftotext", *flags, str(copy), "-"], capture_output=True, text=True,
                                  check=True).stdout

    shared = os.environ.get("PARINDEX_TEST_SHARED")
    if not shared:
        return extract()
    # the run's workers read the same documents: one extraction per run (half a second a report)
    key = hashlib.sha256(repr((path, flags, stamp)).encode()).hexdigest()[:32]
    folder = once(Path(shared), f"pdftotext-{key}",
                  lambda f: (f.mkdir(), (f / "text").write_text(extract(), encoding="utf-8")))
    return (folder / "text").read_text(encoding="utf-8")


def pdf_text(pdf: Path, *flags: str) -> str:
    """poppler's text of a PDF, in UTF-8 (poppler's default; ``flags``: e.g. "-layout"). A shared
    document is read by many tests: its text is extracted once per run and file version (inode,
    size, mtime), and once per set of flags (half a second for a report): the same flags serve."""
    st = os.stat(pdf)
    return _pdftotext(str(pdf), flags, (st.st_ino, st.st_size, st.st_mtime_ns))


def summary_json(*args: str) -> dict:
    r = run_cli("summary", "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# -- one run, several workers ----------------------------------------------------------------
# Under pytest-xdist every worker runs the session fixtures for itself. What is expensive (a
# report, the review, the briefs, a cold inference) is made once per run in a folder all the
# workers share, under a file lock: the first worker to ask builds it, the others wait and read.
# The folder is the run's own (pytest's numbered base folder), so every run starts cold.

@pytest.fixture(scope="session")
def shared_root(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # a worker's base folder is RUN/popen-gwN; RUN is made fresh for each run by the controller
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    root.mkdir(exist_ok=True)
    return root


@contextlib.contextmanager
def locked(path: Path):
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def once(root: Path, name: str, make: Callable[[Path], None]) -> Path:
    """``make(folder)`` run once per test run for ``name``, whichever worker asks first.

    A failure is recorded too: the other workers fail at once with its message instead of
    building again."""
    folder, done = root / name, root / f"{name}.done"
    with locked(root / f"{name}.lock"):
        if not done.exists():
            try:
                make(folder)
            except BaseException as e:
                done.write_text(json.dumps({"error": f"{type(e).__name__}: {e}"}), encoding="utf-8")
                raise
            done.write_text(json.dumps({"error": None}), encoding="utf-8")
    error = json.loads(done.read_text(encoding="utf-8"))["error"]
    if error:
        pytest.fail(f"the shared build '{name}' failed (in this or another worker): {error}")
    return folder


@pytest.fixture(autouse=True)
def _no_stop_left_behind():
    """A test that leaves parindex's remembered stop set (a timer firing after it, an
    ``_interrupt`` it called without restoring the flag) stopped the next test in its worker that
    waited for a solve: the worker ended with a KeyboardInterrupt, far from the cause. Checked
    after the test and, for a timer that fires once it has ended, before the next one."""
    def left(when: str) -> None:
        lifecycle = sys.modules.get("parindex.proc.lifecycle")
        if lifecycle is not None and lifecycle.stop_was_requested():
            lifecycle.reset_stop()
            pytest.fail(f"{when} left a stop requested (parindex.proc.lifecycle._stop_requested)")

    left("an earlier test in this worker")
    yield
    left("this test (or a thread an earlier one started)")


@pytest.fixture(scope="session", autouse=True)
def _own_cache(shared_root):
    """One cold inference cache per test run, shared by its workers and the CLI processes they start."""
    os.environ["PARINDEX_CACHE"] = str(shared_root / "parindex-cache")
    os.environ["PARINDEX_TEST_SHARED"] = str(shared_root)


def _analysis(shared_root: Path, name: str, compute: Callable[[], object]):
    # The first worker solves and fills the shared cache; the others then read the answer from it.
    with locked(shared_root / f"analysis-{name}.lock"):
        return compute()


def solved(shared_root: Path, year: int):
    """A bundled year's analysis, solved once a run (its lock is the year's name): the tests,
    fixtures and CLI processes that need the year then read the shared cache."""
    from parindex.infer.analysis import analyse

    return _analysis(shared_root, str(year), lambda: analyse(year))


@pytest.fixture(scope="session")
def solve(shared_root) -> Callable[[int], object]:
    return lambda year: solved(shared_root, year)


@pytest.fixture(scope="session")
def bundle():
    from parindex.infer.analysis import load_bundle

    return load_bundle()


@pytest.fixture(scope="session")
def registry(bundle):
    return bundle.registry


@pytest.fixture(scope="session")
def bundled_2020(shared_root):
    from parindex.infer.analysis import analyse

    return _analysis(shared_root, "2020", lambda: analyse(2020))


@pytest.fixture(scope="session")
def record_2020(shared_root):
    """2020 without the announced counts: what the values, ranks and lists prove on their own."""
    from parindex.infer.analysis import analyse

    return _analysis(shared_root, "2020-without-counts", lambda: analyse(2020, without="counts"))


@pytest.fixture(scope="session")
def complete_2020(shared_root):
    from parindex.infer.analysis import analyse

    return _analysis(shared_root, "2020-complete", lambda: analyse(2020, SYN_PAR, SYN_SIPAS))


# -- the documents that many tests read: built once per run ----------------------------------
# Tests read these folders and never write into them: a test that changes a report copies it.

def _cli_build(*args: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        r = run_cli(*args, "--out", str(folder))
        assert r.returncode == 0, r.stderr

    return make


@pytest.fixture(scope="session")
def report_2020_vi(shared_root, bundled_2020) -> Path:
    """The bundled 2020 report in Vietnamese: notebook, HTML, PDF and build record."""
    return once(shared_root, "report-2020-vi", _cli_build("report", "--year", "2020"))


@pytest.fixture(scope="session")
def report_2020_en(shared_root, bundled_2020) -> Path:
    return once(shared_root, "report-2020-en", _cli_build("report", "--year", "2020", "--lang", "en"))


@pytest.fixture(scope="session")
def report_2013_vi(shared_root) -> Path:
    solved(shared_root, 2013)
    return once(shared_root, "report-2013-vi", _cli_build("report", "--year", "2013"))


@pytest.fixture(scope="session")
def report_2024_vi(shared_root) -> Path:
    """2024 in Vietnamese (regions, published lists, a leader without a published maximum)."""
    solved(shared_root, 2024)
    return once(shared_root, "report-2024-vi", _cli_build("report", "--year", "2024"))


@pytest.fixture(scope="session")
def complete_report_en(shared_root, complete_2020) -> Path:
    """2020 in English on the complete synthetic tables. The SIPAS table is read from a copy
    with a hostile name (HOSTILE_NAME; the same data, so the same inference): the report must
    show that name as text (tests/test_hostile.py)."""
    def make(folder: Path) -> None:
        inputs = shared_root / "complete-inputs"
        inputs.mkdir(exist_ok=True)
        shutil.copy(SYN_SIPAS, inputs / HOSTILE_NAME)
        _cli_build("report", "--year", "2020", "--par-index", str(SYN_PAR), "--sipas", str(inputs / HOSTILE_NAME),
                   "--lang", "en")(folder)

    return once(shared_root, "report-2020-complete-en", make)


@pytest.fixture(scope="session")
def briefs_2020(shared_root, bundled_2020) -> Path:
    """Two briefs in one folder: Bắc Giang (Vietnamese) and Vĩnh Phúc (English, asked in ASCII)."""
    def make(folder: Path) -> None:
        _cli_build("brief", "--province", "Bắc Giang", "--year", "2020")(folder)
        _cli_build("brief", "--province", "vinh phuc", "--year", "2020", "--lang", "en")(folder)

    return once(shared_root, "briefs-2020", make)


# What needs a bundled year's inference solved cold (2020: tens of seconds) or a document built
# through a kernel is slow: `make test-fast` (-m "not slow") leaves it out.
SLOW_FIXTURES = {"bundled_2020", "record_2020", "solve", "report_2020_vi", "report_2020_en", "report_2013_vi", "report_2024_vi",
                 "complete_report_en", "briefs_2020"}


# Long tests go first: pytest-xdist (--dist worksteal) hands each worker a contiguous share of
# the queue, from the front, so one of them left at the end kept a core busy alone for seconds
# while the other had nothing left to take (the review's two builds, 10 s and 5 s, once were
# last). Each share starts with one of them, and not with two that wait for the same thing: the
# review needs 2020 solved, which the other share's first tests did too, and one worker waited
# for the other's solve (4 s of a core, at the start of every run); the years need only their own.
FIRST = ("test_review_notebook_builds_on_bundled_and_complete_tables",
         "test_every_section_of_every_document_renders_for_every_year")


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    heads = [[i for i in items if getattr(i, "originalname", i.name) == name] for name in FIRST]
    headed = {id(i) for h in heads for i in h}
    rest = [i for i in items if id(i) not in headed]
    # where the scheduler cuts the queue: the n-th worker's share begins at n * len(items) // workers
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    order: list = []
    taken = 0
    for n, head in enumerate(heads):
        fill = max(0, n * len(items) // workers - len(order)) if n < workers else 0
        order += rest[taken:taken + fill] + head
        taken += fill
    items[:] = order + rest[taken:]


def pytest_sessionfinish(session):
    """A worker of pytest-xdist ends without running exit hooks: the font folder WeasyPrint made for
    the PDFs it rendered in this process is removed here (parindex.render.pdf), not left behind."""
    pdf = sys.modules.get("parindex.render.pdf")
    if pdf is not None:
        pdf._drop_font_config()
