"""Execution time of every solution notebook (nbclient, a fresh python3 kernel each)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

GOAL_TOTAL_SECONDS = 180.0
GOAL_EACH_SECONDS = 45.0  # one notebook (this used to be a test assertion)


@dataclass
class NotebookRow:
    notebook: str
    seconds: float | None
    error: str = ""


def solution_notebooks(root: Path) -> list[Path]:
    """solutions/NN-topic/NN-topic.ipynb under `root`, in course order."""
    return sorted(p for p in (root / "solutions").glob("*/*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def run_notebook(path: Path, timeout: int = 600) -> float:
    """Seconds to execute `path` top to bottom in its folder, kernel start included."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def measure(root: Path, notebooks: list[Path] | None = None) -> list[NotebookRow]:
    rows = []
    for path in notebooks if notebooks is not None else solution_notebooks(root):
        name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        try:
            rows.append(NotebookRow(name, run_notebook(path)))
        except Exception as exc:  # a failing notebook is a row, not a crash of the benchmark
            first = str(exc).strip().splitlines()
            rows.append(NotebookRow(name, None, f"{type(exc).__name__}: "
                                    f"{first[-1] if first else ''}"[:160]))
    return rows


def table(rows: list[NotebookRow]) -> str:
    from benchmarks.common import md_table

    def note(r: NotebookRow) -> str:
        if r.seconds is None:
            return r.error.replace("|", "\\|")
        if r.seconds >= GOAL_EACH_SECONDS:
            return f"**over the {GOAL_EACH_SECONDS:.0f} s goal for one notebook**"
        return ""

    body = [[r.notebook, f"{r.seconds:.1f} s" if r.seconds is not None else "failed", note(r)]
            for r in rows]
    done = [r.seconds for r in rows if r.seconds is not None]
    total = sum(done)
    failed = len(rows) - len(done)
    if not rows:
        verdict = "no solution notebooks found"
    elif failed:
        verdict = f"**{failed} notebook(s) failed**; the total covers the others"
    elif total <= GOAL_TOTAL_SECONDS and max(done) < GOAL_EACH_SECONDS:
        verdict = f"goals < 3 min in all, < {GOAL_EACH_SECONDS:.0f} s each: yes"
    elif total <= GOAL_TOTAL_SECONDS:
        verdict = f"goal < 3 min: yes; < {GOAL_EACH_SECONDS:.0f} s each: **no**"
    else:
        verdict = f"goal < 3 min: **no** (+{total - GOAL_TOTAL_SECONDS:.0f} s)"
    body.append([f"**total ({len(rows)} notebooks)**", f"**{total:.1f} s**", verdict])
    return md_table(["notebook", "execution time", "note"], body)
