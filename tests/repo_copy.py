"""Copy the repository as a clean clone would hold it (shared by the launch and Binder tests)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def repo_files() -> list[str]:
    """What a clean clone holds: tracked files plus new, not-ignored ones (work in progress)."""
    if (REPO / ".git").exists() and shutil.which("git"):
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
            capture_output=True, check=True,
        ).stdout.decode()
        return [f for f in out.split("\0") if f and (REPO / f).is_file()]
    skip = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}
    return [
        str(p.relative_to(REPO)) for p in REPO.rglob("*")
        if p.is_file() and not skip.intersection(p.relative_to(REPO).parts)
    ]


def copy_repo(target: Path) -> Path:
    """Copy those files into `target` and return it."""
    for name in repo_files():
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, dest)
    return target
