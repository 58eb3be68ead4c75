"""environment.yml, requirements.lock and pyproject.toml must describe the same dependencies."""

import re
import tomllib

import yaml

from conftest import ROOT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_conda_env_pins_equal_the_lock_and_cover_pyproject():
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line:
            n, v = line.split("==", 1)
            lock[_norm(n)] = v.strip()
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            n, v = dep.split("=", 1)
            conda[_norm(n)] = v
    conda.pop("python")
    for n, v in conda.items():
        assert lock.get(n) == v, (n, v, lock.get(n))
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = [re.split(r"[<>=!~\[ ]", d)[0] for d in py["dependencies"] + py["optional-dependencies"]["test"]]
    for d in direct:
        assert _norm(d) in conda, f"{d} is in pyproject.toml but not environment.yml"
        assert _norm(d) in lock, f"{d} is in pyproject.toml but not requirements.lock"
