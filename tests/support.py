"""What several test areas share: the repository root, the Chromium launch settings, a clean copy
of the repository. Importable from any test (``tests`` is on the ini ``pythonpath``); the pytest
fixtures built on it are in tests/conftest.py."""

from __future__ import annotations

import os
import shutil
import subprocess
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
