"""How long each learner check takes on a right answer (the reference), as a learner waits.

Every function exercise of the registry (`course.exercises`) is checked with its reference
implementation through the learner-facing `course.checks.check_<name>`: the first call builds
and caches the test inputs (timed apart), the next ones are what a learner re-running a check
cell waits for. Goal: every check under 0.25 s (this used to be a test assertion).
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass

GOAL_SECONDS = 0.25


@dataclass
class CheckRow:
    name: str
    first_s: float | None
    again_s: float | None  # median of the repeated calls
    error: str = ""


def measure(quick: bool = False) -> list[CheckRow]:
    from course import checks
    from course.exercises import exercises

    repeats = 3 if quick else 5
    rows = []
    for ex in exercises(kind="function"):
        check = getattr(checks, f"check_{ex.name}", None)
        if check is None:
            rows.append(CheckRow(ex.name, None, None, f"no course.checks.check_{ex.name}"))
            continue
        times = []
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                for _ in range(repeats + 1):
                    start = time.perf_counter()
                    check(ex.reference)
                    times.append(time.perf_counter() - start)
        except Exception as exc:  # a failing check is a row, not a crash of the benchmark
            rows.append(CheckRow(ex.name, None, None, f"{type(exc).__name__}: {exc}"[:160]))
            continue
        again = sorted(times[1:])
        rows.append(CheckRow(ex.name, times[0], again[len(again) // 2]))
    return rows


def table(rows: list[CheckRow]) -> str:
    from benchmarks.common import md_table

    body = []
    for r in rows:
        if r.again_s is None:
            error = r.error.replace("|", "\\|")
            body.append([f"`check_{r.name}`", "-", "-", f"**failed**: {error}"])
            continue
        ok = r.again_s < GOAL_SECONDS
        body.append([f"`check_{r.name}`", f"{r.first_s * 1e3:.1f} ms", f"{r.again_s * 1e3:.1f} ms",
                     "yes" if ok else f"**no** ({r.again_s / GOAL_SECONDS:.1f}x the goal)"])
    timed = [r.again_s for r in rows if r.again_s is not None]
    slowest = max(timed) if timed else float("nan")
    verdict = ("every check: yes" if timed and slowest < GOAL_SECONDS and len(timed) == len(rows)
               else "**not all**")
    body.append([f"**{len(rows)} checks**", "", f"**slowest {slowest * 1e3:.1f} ms**", verdict])
    return md_table(["check (on the reference)", "first call (builds the cases)",
                     "each call after", f"goal < {GOAL_SECONDS} s"], body)
