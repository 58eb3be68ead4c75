"""The package's layout (docs/architecture.md): each wing imports only the wings below it,
modules stay readable, and no two modules are named a letter apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "parindex"

# Lower number = lower wing. errors and proc are under everything; export and cli at the top.
RANK = {"errors": 0, "proc": 1, "data": 2, "infer": 3, "render": 4, "build": 5, "export": 6, "cli": 6,
        "__main__": 6}

MAX_LINES = 500
# Modules allowed over MAX_LINES, each with its reason (docs/architecture.md argues them).
OVER_LIMIT: dict[str, str] = {
    "data/loading.py": "reading one user's table, CSV or XLSX, a few lines over",
}


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _rank(module: str) -> int | None:
    """The wing rank of a dotted parindex module; None for the package root itself."""
    parts = module.split(".")
    if parts[0] != "parindex" or len(parts) == 1:
        return None
    return RANK.get(parts[1])


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every parindex module the file imports (at the top or inside functions), absolute."""
    me = _name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "parindex"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "parindex":
                continue
            if node.module is None or target == "parindex":
                # ``from . import charts``: each name may be a submodule
                found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, target))
    return found


def test_every_module_is_in_a_wing():
    for path in _modules():
        name = _name(path)
        assert name == "parindex" or _rank(name) is not None, f"{name} is in no wing of RANK"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: _name(p))
def test_imports_only_lower_wings(path):
    from parindex import MOVED

    name = _name(path)
    mine = _rank(name)
    bad = []
    for line, target in _imports(path):
        if target == "parindex" or target in {"parindex.__version__", "parindex.MOVED"}:
            continue  # the package root: version and the table of moved paths
        old = target.split(".")[1]
        if target.count(".") == 1 and old in MOVED:
            bad.append(f"line {line}: {target} is an old path (now parindex.{MOVED[old]})")
            continue
        theirs = _rank(target)
        if mine is not None and theirs is not None and theirs > mine:
            bad.append(f"line {line}: {target} is in a higher wing")
    assert not bad, f"{path.relative_to(PKG.parent)}: " + "; ".join(bad)


def test_modules_stay_short():
    long = {}
    for path in _modules():
        n = len(path.read_text(encoding="utf-8").splitlines())
        rel = path.relative_to(PKG).as_posix()
        if n > MAX_LINES and rel not in OVER_LIMIT:
            long[rel] = n
    assert not long, f"over {MAX_LINES} lines: {long}"


def _a_letter_apart(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def test_no_two_module_names_a_letter_apart():
    stems = sorted({p.stem for p in _modules() if p.stem != "__init__"} | {p.name for p in PKG.iterdir()
                                                                          if p.is_dir() and (p / "__init__.py").exists()})
    close = [(a, b) for i, a in enumerate(stems) for b in stems[i + 1:] if _a_letter_apart(a, b)]
    assert not close


def test_old_paths_reach_the_moved_modules(monkeypatch):
    import importlib
    import sys
    import warnings

    import parindex

    for old, new in parindex.MOVED.items():
        monkeypatch.delitem(sys.modules, f"parindex.{old}", raising=False)  # imported once already: warn again
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            mod = importlib.import_module(f"parindex.{old}")
        assert mod is importlib.import_module(f"parindex.{new}")
        assert mod.__spec__.name == f"parindex.{new}"
        assert any(issubclass(x.category, DeprecationWarning) and f"parindex.{new}" in str(x.message) for x in w)


def test_a_reload_keeps_one_finder_of_the_old_paths():
    import subprocess
    import sys

    code = ("import importlib, sys, parindex; importlib.reload(parindex); importlib.reload(parindex); "
            "print(sum(type(f).__name__ == '_MovedFinder' for f in sys.meta_path))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout == "1\n", r


def test_a_monkeypatch_on_an_old_path_patches_the_module_the_code_uses(monkeypatch):
    """Tests patch module attributes by their old path; the inference is split into parts, and
    the facade passes a patch on to the part that reads it (pmap reads _WORKERS in cores.py)."""
    import threading
    import warnings

    from parindex.infer import cores, inference

    with warnings.catch_warnings():  # the old path's warning is test_old_paths_reach_the_moved_modules' to check;
        warnings.simplefilter("ignore", DeprecationWarning)  # here it came only when this test imported it first
        monkeypatch.setattr("parindex.inference._WORKERS", 1)
    assert inference._WORKERS == 1 and cores._WORKERS == 1
    threads = inference.pmap(lambda _: threading.get_ident(), range(8))
    assert set(threads) == {threading.get_ident()}  # one worker: everything on this thread
    monkeypatch.undo()
    assert cores._WORKERS == inference._WORKERS >= 1


def test_the_sections_keep_their_names():
    from parindex import Brief, Report, Review
    from parindex.render import sections

    assert (sections.Report, sections.Review, sections.Brief) == (Report, Review, Brief)
    assert issubclass(Review, Report) and issubclass(Brief, Report)
    for name in ("title", "key_findings", "key_figures", "ranking", "groups", "map", "sipas_tiers", "trend",
                 "method", "audit", "sources", "appendix", "table", "cite", "refs"):
        assert hasattr(Report, name), name
