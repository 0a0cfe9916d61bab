"""What several test areas share: the repository root, the Chromium launch settings, a clean copy
of the repository, and which notebooks a test concerns (its per-notebook markers).

Importable from any test (``tests`` is on the ini ``pythonpath``); the pytest fixtures and hooks
built on it are in tests/conftest.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the folder holding pyproject.toml)."""

CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium, installed by .ci/run; Playwright drives it instead of its own download."""
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
)


def chromium_launch() -> dict[str, Any]:
    """Keyword arguments for Playwright's ``chromium.launch``: headless, no network of its own."""
    return {"executable_path": CHROMIUM, "headless": True, "args": list(CHROMIUM_ARGS)}


def require(what: str, ok: bool) -> None:
    """Skip when `what` is missing here; under CI (where .ci/run installs it) fail instead."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is needed (.ci/run installs it)")
    pytest.skip(f"{what} is not available")


def require_chromium() -> None:
    """Chromium and the playwright package, or skip (fail under CI)."""
    require(f"{CHROMIUM} (Debian's chromium: `apt-get install chromium`)", Path(CHROMIUM).exists())
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require("the playwright Python package", False)


def repo_files() -> list[str]:
    """What a clean clone holds: tracked files plus new, not-ignored ones (work in progress)."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
            capture_output=True, check=True,
        ).stdout.decode()
        return [f for f in out.split("\0") if f and (ROOT / f).is_file()]
    skip = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}
    return [
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
        if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)
    ]


def copy_repo(target: Path) -> Path:
    """Copy the repository as a clean clone would hold it into `target` and return it."""
    for name in repo_files():
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest)
    return target


# --- per-notebook markers (applied in tests/conftest.py) -------------------------------------
def notebook_marker(notebook: str) -> str:
    """The marker of a notebook: "08-optimizers" -> "nb08"."""
    return "nb" + notebook.split("-", 1)[0]


@lru_cache(maxsize=1)
def notebook_patterns() -> dict[str, re.Pattern[str]]:
    """{"nb08": a regex that finds any name of notebook 08 in a node id or parameter}."""
    from course.exercises import exercises, notebooks

    found: dict[str, re.Pattern[str]] = {}
    for notebook in notebooks():
        mark = notebook_marker(notebook)
        items = exercises(notebook)
        # exercise names (momentum_step, MC_ADAM_FIRST_STEP) may be part of a longer test name
        # (test_momentum_step_is_judged)
        names = {ex.name for ex in items if ex.name}
        # grade ids only as whole words: "test_value" also begins many a test function's name
        words = {ex.grade_id for ex in items}
        alternatives = [rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])" for n in sorted(names)]
        alternatives += [rf"(?<!\w){re.escape(w)}(?!\w)" for w in sorted(words)]
        alternatives += [re.escape(notebook), re.escape(f"{mark}_")]  # folder, registry module
        found[mark] = re.compile("|".join(alternatives))
    return found


def notebook_markers(texts: list[str]) -> list[str]:
    """The markers of the notebooks that any of `texts` (a node id, a parameter) names."""
    return [mark for mark, pattern in notebook_patterns().items()
            if any(pattern.search(text) for text in texts)]
