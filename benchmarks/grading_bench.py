"""Grading speed: ``backprop-course grade --jobs 2`` vs stock ``nbgrader autograde``.

Both grade the same class: N copies of one full notebook (the released learner notebook with
every answer filled in, each copy a little different so no two files are identical), in a
temporary course folder holding the repository's ``nbgrader_config.py``, ``solutions/`` and
``notebooks/`` for that assignment.  Stock nbgrader starts a Jupyter kernel per notebook and
grades one student at a time; ``backprop-course grade`` runs each submission once in a lean
worker process, N at a time.  Each tool starts from scratch in every round (fresh gradebook,
fresh output folder: no cache), and rounds alternate (stock, ours, ours, stock, ...) so a noisy
neighbour slows both alike.

    python -m benchmarks.grading_bench            # prints a table; goal: ratio >= 1.7
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.7


@dataclass
class GradingBenchResult:
    """Seconds for each tool (median over rounds) and the speed-up of ours over stock."""

    assignment: str
    submissions: int
    jobs: int
    rounds: int
    nbgrader_s: float
    grade_s: float
    ratio: float  # nbgrader_s / grade_s
    goal: float
    ok: bool
    nbgrader_times: list[float]
    grade_times: list[float]


def _class_notebook(assignment: str, i: int) -> str:
    release = json.loads((ROOT / "notebooks" / assignment / f"{assignment}.ipynb").read_text())
    source = json.loads((ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text())

    def src(cell):
        s = cell["source"]
        return "".join(s) if isinstance(s, list) else s

    answers = {
        c["metadata"]["nbgrader"]["grade_id"]: src(c)
        for c in source["cells"]
        if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    for cell in release["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = f"# student {i}\n" + answers[gid]
    return json.dumps(release, indent=1)


def _setup(base: Path, assignment: str, n: int) -> tuple[Path, Path]:
    course = base / "course"
    for folder in ("solutions", "notebooks"):
        shutil.copytree(ROOT / folder / assignment, course / folder / assignment)
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    # generate_assignment registers the assignment in the gradebook (not timed); each round
    # starts from a copy of that fresh gradebook.
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                           "--force"], cwd=course, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{proc.stderr[-3000:]}")
    shutil.copy2(course / "gradebook.db", base / "gradebook.fresh.db")
    flat = base / "class"
    for i in range(n):
        student = f"student{i:02d}"
        text = _class_notebook(assignment, i)
        for target in (course / "submitted" / student / assignment, flat / student):
            target.mkdir(parents=True, exist_ok=True)
            (target / f"{assignment}.ipynb").write_text(text)
    return course, flat


def _time_nbgrader(course: Path, assignment: str) -> float:
    if (course / "autograded").exists():
        shutil.rmtree(course / "autograded")
    shutil.copy2(course.parent / "gradebook.fresh.db", course / "gradebook.db")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment],
                          cwd=course, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader autograde failed:\n{proc.stderr[-3000:]}")
    return elapsed


def _time_grade(course: Path, flat: Path, out: Path, assignment: str, jobs: int, n: int) -> float:
    if out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "course.cli", "grade", assignment, str(flat), "--out", str(out),
         "--jobs", str(jobs), "--quiet"],
        cwd=course, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"backprop-course grade failed:\n{proc.stderr[-3000:]}")
    lines = (out / "grades.csv").read_text().splitlines()[1:]
    graded = [ln for ln in lines if ",graded," in ln]
    if len(graded) != n:
        raise RuntimeError(f"expected {n} graded rows, got:\n" + "\n".join(lines))
    return elapsed


def run(
    assignment: str = "03-linear-layer", submissions: int = 20, jobs: int = 2, rounds: int = 1
) -> GradingBenchResult:
    """Time both tools on the same class; ``rounds`` alternating rounds, medians compared."""
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        base = Path(tmp)
        course, flat = _setup(base, assignment, submissions)
        stock: list[float] = []
        ours: list[float] = []
        for r in range(rounds):
            order = ("stock", "ours") if r % 2 == 0 else ("ours", "stock")
            for which in order:
                if which == "stock":
                    stock.append(_time_nbgrader(course, assignment))
                else:
                    ours.append(_time_grade(course, flat, base / "out", assignment, jobs,
                                            submissions))
    t_stock, t_ours = statistics.median(stock), statistics.median(ours)
    ratio = t_stock / t_ours
    return GradingBenchResult(assignment, submissions, jobs, rounds, t_stock, t_ours, ratio,
                              GOAL, ratio >= GOAL, stock, ours)


def table(result: GradingBenchResult) -> str:
    """A Markdown table of one result."""
    return "\n".join([
        f"Grading {result.submissions} submissions of {result.assignment} "
        f"(median of {result.rounds} round(s))",
        "",
        "| tool | seconds |",
        "|---|---:|",
        f"| stock `nbgrader autograde` (serial) | {result.nbgrader_s:.1f} |",
        f"| `backprop-course grade --jobs {result.jobs}` | {result.grade_s:.1f} |",
        f"| speed-up | {result.ratio:.2f}x (goal >= {result.goal}x: "
        f"{'met' if result.ok else 'NOT met'}) |",
    ])


if __name__ == "__main__":  # pragma: no cover
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="03-linear-layer")
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON")
    a = parser.parse_args()
    res = run(a.assignment, a.submissions, a.jobs, a.rounds)
    print(json.dumps(asdict(res), indent=1) if a.json else table(res))
    sys.exit(0 if res.ok else 1)
