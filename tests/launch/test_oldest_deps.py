"""The course works with the oldest NumPy, matplotlib and ipywidgets it claims to support.

A fresh virtual environment gets the course with its runtime dependencies pinned to
tests/launch/oldest-constraints.txt, and runs the core tests there: every test module whose imports
need nothing beyond the course's runtime dependencies, pytest and Hypothesis (fast tests only).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from support import ROOT

CONSTRAINTS = Path(__file__).with_name("oldest-constraints.txt")
RUNTIME = {"numpy", "matplotlib", "ipywidgets"}
#: What the oldest environment has besides the standard library.
AVAILABLE = RUNTIME | {"course", "pytest", "hypothesis", "_pytest"}
#: Tests about environments themselves (they build their own).
NOT_CORE = {"test_oldest_deps.py", "test_binder.py", "test_launch.py", "test_browser.py"}


def pins() -> dict[str, str]:
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            found[name.strip().lower()] = version.strip()
    return found


def lower_bounds() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = {}
    for dep in deps:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)(,.*)?", dep.strip())
        assert match, f"runtime dependency without a tested lower bound: {dep}"
        bounds[match.group(1).lower()] = match.group(2)
    return bounds


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def core_test_modules() -> list[str]:
    """Test modules that need only the standard library, available packages or local helpers
    (as paths relative to tests/: "library/test_layers.py")."""
    tests = ROOT / "tests"
    local = {p.stem for p in tests.rglob("*.py")} | {p.name for p in tests.rglob("*") if p.is_dir()}
    chosen = []
    for path in sorted(tests.rglob("test_*.py")):
        if path.name in NOT_CORE:
            continue
        source = path.read_text()
        if re.search(r"nbgrader|nbformat|nbclient|jupyter|playwright", source):
            continue  # needs the test or instructor extras at run time
        names = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        if all(n in sys.stdlib_module_names or n in AVAILABLE or n in local for n in names):
            chosen.append(path.relative_to(tests).as_posix())
    return chosen


def test_constraints_pin_every_runtime_dependency_at_its_lower_bound():
    bounds, pinned = lower_bounds(), pins()
    assert set(pinned) == set(bounds) == RUNTIME
    for name, bound in bounds.items():
        # The pin is the oldest release we test; the declared bound must not claim older ones.
        assert version_tuple(pinned[name]) >= version_tuple(bound), (name, pinned[name], bound)
        assert version_tuple(pinned[name])[:2] == version_tuple(bound)[:2], (
            f"{name}: the tested oldest {pinned[name]} is not the declared lower bound {bound}")


def test_there_are_core_tests_to_run():
    modules = core_test_modules()
    assert "library/test_layers.py" in modules and "library/test_gradcheck.py" in modules, modules


@pytest.mark.slow
def test_core_tests_pass_with_the_oldest_dependencies(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "course", repo / "course",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", repo / "tests",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, repo / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTHON", "MPL"))}
    env.update(HOME=str(tmp_path), MPLBACKEND="Agg")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "-c", str(CONSTRAINTS), ".", "pytest", "hypothesis"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    versions = subprocess.run(
        [python, "-c", "import numpy, matplotlib, ipywidgets;"
         "print(numpy.__version__, matplotlib.__version__, ipywidgets.__version__)"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert versions.returncode == 0, versions.stderr
    assert versions.stdout.split() == [pins()[n] for n in ("numpy", "matplotlib", "ipywidgets")]

    modules = [f"tests/{name}" for name in core_test_modules()]
    result = subprocess.run(
        # A fixed Hypothesis seed: this run looks for version differences, not new examples.
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-seed=0",
         "-m", "not slow and not browser", *modules],
        cwd=repo, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
