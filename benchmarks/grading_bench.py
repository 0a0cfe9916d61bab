"""Grading speed: ``backprop-course grade --jobs 2`` vs stock ``nbgrader autograde``.

Both grade the same class: N copies of one full notebook (the released learner notebook with
every answer filled in, each copy a little different so no two files are identical), in a
temporary course folder holding the repository's ``nbgrader_config.py``, ``solutions/`` and
``notebooks/`` for that assignment.  Stock nbgrader starts a Jupyter kernel per notebook and
grades one student at a time; ``backprop-course grade`` runs each submission once in a lean
worker process, N at a time.  Each tool starts from scratch in every round (fresh gradebook,
fresh output folder: no cache), and rounds alternate (stock, ours, ours, stock, ...) so a noisy
neighbour slows both alike; three rounds at least, so that neither tool always goes first.
Ours is called through its public command, ``backprop-course grade``, as an instructor calls it.

A second measurement: how long ``backprop-course grade`` takes to stop after Ctrl-C (SIGINT)
while a submission loops forever (goal: under 20 s; this used to be a test assertion).

    python -m benchmarks.grading_bench            # prints a table; goal: ratio >= 1.7
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.7
MIN_ROUNDS = 3
INTERRUPT_GOAL_S = 20.0


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
    first: list[str]  # which tool went first in each round
    interrupt_s: float | None = None  # SIGINT to exit, with a looping submission


def grade_command() -> list[str]:
    """The public command: `backprop-course` beside this Python, else the one on PATH."""
    here = Path(sys.executable).with_name("backprop-course")
    found = str(here) if here.exists() else shutil.which("backprop-course")
    if found is None:
        raise RuntimeError("backprop-course is not installed (pip install -e .)")
    return [found, "grade"]


def _class_notebook(assignment: str, i: int, loop: bool = False) -> str:
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
            if loop:  # a submission that never finishes
                cell["source"] = "while True:\n    pass\n" + cell["source"]
                loop = False
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
        [*grade_command(), assignment, str(flat), "--out", str(out), "--jobs", str(jobs),
         "--quiet"],
        cwd=course, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"backprop-course grade failed:\n{proc.stderr[-3000:]}")
    with open(out / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    scored = [r for r in rows if _number(r.get("score"))]
    if len(scored) != n:
        raise RuntimeError(f"expected {n} scored rows, got:\n{rows}")
    return elapsed


def _number(text: str | None) -> bool:
    try:
        float(text or "")
    except ValueError:
        return False
    return True


def _time_interrupt(course: Path, flat: Path, base: Path, assignment: str, jobs: int) -> float:
    """Seconds from SIGINT to exit while one submission loops forever."""
    subs, out = base / "interrupt-class", base / "interrupt-out"
    shutil.copytree(flat, subs)
    looping = subs / "zz-loops-forever"
    looping.mkdir()
    (looping / f"{assignment}.ipynb").write_text(_class_notebook(assignment, 99, loop=True))
    proc = subprocess.Popen(
        [*grade_command(), assignment, str(subs), "--out", str(out), "--jobs", str(jobs),
         "--timeout", "600", "--quiet"],
        cwd=course, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in a terminal reaches the whole process group
    )
    deadline = time.monotonic() + 120  # until the others are graded (or two minutes)
    while proc.poll() is None and time.monotonic() < deadline:
        done = len(list(out.glob("**/*.json"))) if out.exists() else 0
        if done >= len(list(flat.iterdir())):  # the others are graded: only the loop is left
            break
        time.sleep(0.2)
    time.sleep(1.0)
    if proc.poll() is not None:
        raise RuntimeError("backprop-course grade exited before the interrupt")
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return float("inf")
    return time.monotonic() - start


def run(
    assignment: str = "03-linear-layer", submissions: int = 20, jobs: int = 2,
    rounds: int = MIN_ROUNDS, interrupt: bool = True,
) -> GradingBenchResult:
    """Time both tools on the same class; ``rounds`` (at least 3) alternating rounds, medians
    compared; then, with `interrupt`, the time ``backprop-course grade`` takes to stop."""
    rounds = max(rounds, MIN_ROUNDS)
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        base = Path(tmp)
        course, flat = _setup(base, assignment, submissions)
        stock: list[float] = []
        ours: list[float] = []
        first: list[str] = []
        for r in range(rounds):
            order = ("stock", "ours") if r % 2 == 0 else ("ours", "stock")
            first.append(order[0])
            for which in order:
                if which == "stock":
                    stock.append(_time_nbgrader(course, assignment))
                else:
                    ours.append(_time_grade(course, flat, base / "out", assignment, jobs,
                                            submissions))
        stop = _time_interrupt(course, flat, base, assignment, jobs) if interrupt else None
    t_stock, t_ours = statistics.median(stock), statistics.median(ours)
    ratio = t_stock / t_ours
    return GradingBenchResult(assignment, submissions, jobs, rounds, t_stock, t_ours, ratio,
                              GOAL, ratio >= GOAL, stock, ours, first, stop)


def table(result: GradingBenchResult) -> str:
    """A Markdown table of one result."""

    def each(times: list[float]) -> str:
        return ", ".join(f"{s:.1f}" for s in times)

    lines = [
        f"Grading {result.submissions} submissions of {result.assignment}: median of "
        f"{result.rounds} alternating rounds (first in each round: {', '.join(result.first)}).",
        "",
        "| tool | seconds (median) | every round |",
        "|---|---:|---|",
        f"| stock `nbgrader autograde` (serial) | {result.nbgrader_s:.1f} | "
        f"{each(result.nbgrader_times)} |",
        f"| `backprop-course grade --jobs {result.jobs}` | {result.grade_s:.1f} | "
        f"{each(result.grade_times)} |",
        f"| speed-up | {result.ratio:.2f}x (goal >= {result.goal}x: "
        f"{'met' if result.ok else 'NOT met'}) | |",
    ]
    if result.interrupt_s is not None:
        ok = result.interrupt_s < INTERRUPT_GOAL_S
        lines += ["", f"Ctrl-C (SIGINT) while a submission loops forever: "
                  f"`backprop-course grade` exits {result.interrupt_s:.1f} s later "
                  f"(goal < {INTERRUPT_GOAL_S:.0f} s: {'met' if ok else '**NOT met**'})."]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="03-linear-layer")
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS)
    parser.add_argument("--no-interrupt", action="store_true", help="skip the Ctrl-C timing")
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON")
    a = parser.parse_args()
    res = run(a.assignment, a.submissions, a.jobs, a.rounds, interrupt=not a.no_interrupt)
    print(json.dumps(asdict(res), indent=1) if a.json else table(res))
    sys.exit(0 if res.ok else 1)
