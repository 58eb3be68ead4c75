from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _own_cache(tmp_path_factory):
    """A cold inference cache for every test run (and the CLI processes it starts)."""
    import os

    os.environ["PARINDEX_CACHE"] = str(tmp_path_factory.mktemp("parindex-cache"))
SYN_PAR = FIXTURES / "synthetic_par_index_2020.csv"
SYN_SIPAS = FIXTURES / "synthetic_sipas_2020.csv"


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "parindex.cli", *args], capture_output=True, text=True,
                          cwd=cwd, encoding="utf-8")


@pytest.fixture(scope="session")
def bundle():
    from parindex.analysis import load_bundle

    return load_bundle()


@pytest.fixture(scope="session")
def registry(bundle):
    return bundle.registry


@pytest.fixture(scope="session")
def bundled_2020():
    from parindex.analysis import analyse

    return analyse(2020)


@pytest.fixture(scope="session")
def record_2020():
    """2020 without the announced counts: what the values, ranks and lists prove on their own."""
    from parindex.analysis import analyse

    return analyse(2020, without="counts")


@pytest.fixture(scope="session")
def complete_2020():
    from parindex.analysis import analyse

    return analyse(2020, SYN_PAR, SYN_SIPAS)


def summary_json(*args: str) -> dict:
    r = run_cli("summary", "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)
