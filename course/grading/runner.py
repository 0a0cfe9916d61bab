"""``backprop-course grade``: a class's submissions -> grades.csv, results, feedback, report.

Flow: read the assignment and every submission (a folder of ``<student_id>/<notebook>.ipynb``
or a zip of one); skip submissions whose content and grading setup are unchanged since the last
run (cache in ``OUT/.cache``); make the *grading build* of ``course`` once per run
(:mod:`course.grading.jail`); grade the solution first (it must earn full marks); then grade
the rest with ``--jobs`` jails at once. For each submission the learner's notebook runs in its
own jail and this process, the trusted harness (:mod:`course.grading.harness`), judges every
graded item through plain values. Each result is written as it arrives; ``grades.csv``,
the class report and the similarity columns are written at the end (also after Ctrl-C, with the
rows finished so far).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from course._diagnose import route_stdout_per_thread
from course.exercises import exercises
from course.grading import feedback, harness
from course.grading.assignment import Assignment, build_plan, load_assignment, normalize
from course.grading.gradebook import (
    atomic_write,
    cache_entry,
    cache_path,
    feedback_path,
    load_cached_row,
    results_path,
    write_csv,
)
from course.grading.jail import Jail, JailUnavailable, Limits, jail_problem, make_build
from course.grading.submissions import (
    GradingError,
    Submission,
    SubmissionError,
    display_id,
    load_notebook,
    make_private_dir,
    open_lock,
    read_submissions,
)

STATUSES = ("graded", "timeout", "crashed", "memory-limit", "malformed", "missing", "tampered",
            "integrity")
# When several things went wrong, the row shows the most important one first.
PRECEDENCE = ("integrity", "tampered", "timeout", "memory-limit", "crashed")
GRADER_VERSION = "2"
SIMILARITY_COLUMNS = ("similarity_reference", "similarity_peer", "similarity_note")


@dataclass
class Options:
    """Command-line options that affect grading."""

    jobs: int = 1
    timeout: float = 300.0
    memory_mb: int = 2048
    output_cap: int = 20000
    quiet: bool = False
    self_check: bool = True
    sandbox: bool = True  # False: --no-sandbox, for trusted code only


def _one_line(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SelfCheckFailed(Exception):
    """The solution itself does not earn full marks in the jail: grades would be wrong."""


class Interrupted(Exception):
    """The run was stopped (Ctrl-C) while this submission was being graded."""


# --- one submission ----------------------------------------------------------------------------
def _blank_row(assignment: Assignment, student_id: str) -> dict:
    row = {"student_id": student_id, "assignment": assignment.name, "score": 0.0,
           "max_score": assignment.max_score, "status": "", "detail": ""}
    for gid, _ in assignment.tests:
        row[gid] = 0.0
    return row


def _items(assignment: Assignment):
    items = exercises(assignment.name)
    if not items:
        raise GradingError(f"no graded items of {assignment.name} in the exercise registry "
                           "(course/exercises/)")
    return items


def _blank_results(assignment: Assignment, message: str) -> list[dict]:
    out = []
    for ex in _items(assignment):
        out.append({"grade_id": ex.grade_id, "name": ex.name, "kind": ex.kind, "title": ex.title,
                    "points": 0.0, "max_points": float(ex.points),
                    "passed": None if ex.kind == "written" else False,
                    "message": "Written answer: graded by your instructor."
                    if ex.kind == "written" else message,
                    "mistake": None, "output": None})
    return out


@dataclass
class Graded:
    row: dict
    results: list[dict]
    notebook: dict | None
    answers: dict  # answer grade_id -> learner source (for similarity)


def grade_submission(assignment: Assignment, sub: Submission, build: Path, base: Path,
                     opts: Options, stop: threading.Event | None = None) -> Graded:
    """Grade one submission in a jail of its own."""
    row = _blank_row(assignment, sub.student_id)
    try:
        nb = load_notebook(sub, assignment)
    except SubmissionError as exc:
        row.update(status=exc.status, detail=_one_line(exc.detail, 300))
        return Graded(row, _blank_results(assignment, f"not graded: {exc.detail}"), None, {})
    plan = build_plan(assignment, nb)
    work = Path(tempfile.mkdtemp(prefix="w-", dir=base))
    try:
        for rel, data in sub.files.items():
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        jail = Jail(build, work, Limits(timeout=opts.timeout, memory_mb=opts.memory_mb,
                                        output_cap=opts.output_cap), sandbox=opts.sandbox,
                    stop=stop)
        jail.start({"cells": plan.cells, "output_cap": opts.output_cap})
        events: dict[int, dict] = {}
        last_started: int | None = None
        finished = False
        by_key = {ex.grade_id: ex for ex in _items(assignment)}
        verdict = harness.Verdict()
        judged: set[str] = set()
        tested: set[int] = set()
        seed = secrets.randbits(62)
        while True:
            ev = jail.read()
            if ev is None:
                break
            kind = ev.get("ev")
            if kind == "done":
                # a forged "done" (learner code can write to the channel) ends in a crash
                finished = len(tested) == sum(c.get("kind") == "test" for c in plan.cells)
                break
            i = ev.get("i")
            if not (isinstance(i, int) and 0 <= i < len(plan.cells)):
                continue
            if kind == "start":
                last_started = i
            elif kind == "cell":
                events[i] = ev
            elif kind == "test" and plan.cells[i].get("kind") == "test" and i not in tested:
                tested.add(i)
                key = plan.cells[i].get("key")
                ex = by_key.get(key)
                if ex is not None and key not in judged and key not in plan.tampered:
                    judged.add(key)
                    part = harness.grade_items(jail, [ex], seed)
                    verdict.items += part.items
                    if part.jail_gone:
                        verdict.jail_gone = part.jail_gone
                        break
                jail.send_continue()
        stopped = ("the notebook stopped before this test cell ran" if not finished
                   else "the test cell of this item is not in the notebook")
        for ex in _items(assignment):
            if ex.grade_id in judged or ex.grade_id in plan.tampered:
                continue
            if ex.kind == "written":
                item = harness.ItemResult(ex.grade_id, ex.name, ex.kind, ex.title,
                                          float(ex.points), passed=None,
                                          message="Written answer: graded by your instructor.")
            else:
                item = harness.ItemResult(ex.grade_id, ex.name, ex.kind, ex.title,
                                          float(ex.points), message=f"not graded: {stopped}")
            verdict.items.append(item)
        ready = finished and verdict.jail_gone is None
        outcome = jail.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if stop is not None and stop.is_set():
        raise Interrupted
    by_id = {it.grade_id: it for it in verdict.items}
    results = []
    problems: list[tuple[str, str]] = []
    failures: list[str] = []
    for ex in _items(assignment):
        if ex.grade_id in plan.tampered:
            reason = plan.tampered[ex.grade_id]
            problems.append(("tampered", reason))
            item = harness.ItemResult(ex.grade_id, ex.name, ex.kind, ex.title, float(ex.points))
            item.message = f"{reason}: no points"
            item.mistake = "tampered"
        else:
            item = by_id[ex.grade_id]
        if item.integrity:
            problems.append(("integrity", item.integrity))
        if ex.grade_id in row:
            row[ex.grade_id] = item.points
            if item.points < ex.points and item.passed is not None:
                failures.append(f"{ex.grade_id} ({_one_line(item.message, 100)})")
        results.append(item.as_dict())
    for ev in events.values():
        err = ev.get("error") or {}
        if err.get("memory"):
            problems.append(("memory-limit", f"MemoryError in a cell (limit {opts.memory_mb} "
                                              "MiB)"))
            break
    if any(it.mistake == "memory" for it in verdict.items):
        problems.append(("memory-limit", f"MemoryError while grading (limit {opts.memory_mb} "
                                          "MiB)"))
    if outcome.timed_out:
        where = f" in cell {last_started + 1}" if last_started is not None and not ready else ""
        problems.append(("timeout", f"no result within {opts.timeout:g} s{where}"))
    elif not ready:
        rc = outcome.returncode
        if outcome.disk_full:
            problems.append(("crashed", "the notebook process ended: its files grew past the "
                                        f"disk limit ({Limits().disk_mb} MiB)"))
        elif rc is not None and rc in (-24, 128 + 24, 152):
            problems.append(("timeout", "CPU time limit reached"))
        elif "MemoryError" in outcome.raw_output or "Cannot allocate memory" in outcome.raw_output:
            problems.append(("memory-limit", f"out of memory (limit {opts.memory_mb} MiB)"))
        else:
            where = f" in cell {last_started + 1}" if last_started is not None else ""
            how = f"exit code {rc}" if rc is not None else "no answer"
            problems.append(("crashed", f"the notebook process ended ({how}){where}"))
    row["score"] = float(sum(row[gid] for gid, _ in assignment.tests))
    if problems:
        ranked = sorted(problems, key=lambda p: PRECEDENCE.index(p[0]))
        row["status"] = ranked[0][0]
        row["detail"] = _one_line("; ".join(dict.fromkeys(d for _, d in ranked)), 300)
    else:
        row["status"] = "graded"
        row["detail"] = _one_line("; ".join(failures), 300) if failures else ""
    executed = _executed_notebook(assignment, nb, plan, events, results)
    return Graded(row, results, executed, plan.answers)


def _executed_notebook(assignment: Assignment, nb: dict, plan, events: dict[int, dict],
                       results: list[dict]) -> dict:
    """The learner's notebook as it ran in the jail: outputs filled in, test cells as released."""
    release = {sc.grade_id: sc.release for sc in assignment.cells if sc.grade_id}
    cells = []
    for i, cell in enumerate(plan.cells):
        src = cell.get("source", "")
        meta: dict = {}
        if cell.get("kind") == "test":
            src = release.get(cell["key"], "")
        if cell.get("key") and not str(cell["key"]).startswith("cell-"):
            meta = {"nbgrader": {"grade_id": cell["key"]}}
        outputs = []
        ev = events.get(i) or {}
        if ev.get("text"):
            outputs.append({"output_type": "stream", "name": "stdout", "text": ev["text"]})
        for png in ev.get("images") or []:
            if isinstance(png, str):
                outputs.append({"output_type": "display_data", "metadata": {},
                                "data": {"image/png": png}})
        err = ev.get("error")
        if isinstance(err, dict):
            outputs.append({"output_type": "error", "ename": str(err.get("type", "Error")),
                            "evalue": str(err.get("msg", "")),
                            "traceback": [str(x) for x in err.get("tb") or []]})
        cells.append({"cell_type": "code", "metadata": meta, "source": src,
                      "execution_count": None, "outputs": outputs})
        for md in plan.markdown_after.get(i, []):
            cells.append(md)
    cells = plan.markdown_before + cells
    return {"cells": cells, "metadata": nb.get("metadata", {}) if isinstance(
        nb.get("metadata"), dict) else {}, "nbformat": 4, "nbformat_minor": 5}


# --- the whole run -----------------------------------------------------------------------------
def code_digest() -> str:
    """Hash of the course source that decides scores (reference, checks, registry, grader)."""
    h = hashlib.sha256(GRADER_VERSION.encode())
    pkg = Path(__file__).resolve().parents[1]
    for path in sorted(pkg.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        h.update(str(path.relative_to(pkg)).encode() + path.read_bytes())
    return h.hexdigest()


class Progress:
    """A progress bar on a terminal, one line per submission otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.done, self.quiet = total, 0, quiet
        self.tty = sys.stderr.isatty()

    def update(self, row: dict, cached: bool) -> None:
        self.done += 1
        if self.quiet:
            return
        tag = " (unchanged)" if cached else ""
        line = (f"{display_id(row['student_id'], 40)}: {row['status']} "
                f"{row['score']:g}/{row['max_score']:g}{tag}")
        if self.tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            bar = "#" * filled + "-" * (width - filled)
            sys.stderr.write(f"\r[{bar}] {self.done}/{self.total}  {line[:60]:<60}")
            if self.done == self.total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(f"[{self.done:>{len(str(self.total))}}/{self.total}] {line}\n")
        sys.stderr.flush()


def summary(assignment: Assignment, rows: list[dict]) -> str:
    """A short table for the terminal: per-student rows (up to 40) and counts per status."""
    lines = []
    if rows and len(rows) <= 40:
        ids = {id(r): display_id(r["student_id"], 40) for r in rows}
        width = max(10, *(len(v) for v in ids.values()))
        lines.append(f"{'student':<{width}}  {'score':>9}  {'status':<12}  detail")
        for r in sorted(rows, key=lambda r: str(r["student_id"])):
            score = f"{r['score']:g}/{r['max_score']:g}"
            lines.append(f"{ids[id(r)]:<{width}}  {score:>9}  {r['status']:<12}  "
                         f"{display_id(_one_line(r['detail'], 60), 80) if r['detail'] else ''}")
        lines.append("")
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    lines.append("  ".join(f"{s}: {n}" for s, n in counts.items() if n) or "no submissions")
    if rows:
        mean = sum(r["score"] for r in rows) / len(rows)
        lines.append(f"{len(rows)} submissions, mean score {mean:.2f} / {assignment.max_score:g}")
    if assignment.manual_points:
        lines.append(f"not included: {assignment.manual_points:g} points of written answers, "
                     "graded by hand (nbgrader formgrader)")
    return "\n".join(lines)


def _solution_submission(assignment: Assignment) -> Submission:
    from course.grading.assignment import reference_notebook

    data = json.dumps(reference_notebook(assignment)).encode()
    return Submission("(solution)", {assignment.notebook: data})


def self_check(assignment: Assignment, out: Path, setup_key: str, build: Path, base: Path,
               opts: Options) -> None:
    """Grade the solution's answers once (cached); raise SelfCheckFailed unless full marks."""
    marker = out / ".cache" / assignment.name / "_self_check.json"
    try:
        if json.loads(marker.read_text()).get("key") == setup_key:
            return
    except (OSError, ValueError):
        pass
    graded = grade_submission(assignment, _solution_submission(assignment), build, base, opts)
    row = graded.row
    if row["status"] != "graded" or row["score"] != assignment.max_score or row["detail"]:
        raise SelfCheckFailed(
            f"the solution of {assignment.name} scores {row['score']:g}/"
            f"{assignment.max_score:g} ({row['status']}) in the grading jail, so the grades "
            f"would be wrong: {row['detail'] or 'no detail'}"
        )
    atomic_write(marker, json.dumps({"key": setup_key}))


def _similarity(assignment: Assignment, answers: dict[str, dict[str, str]]) -> dict[str, dict]:
    """Similarity columns per student: to the reference code, to classmates, and the run-time
    constructs an answer uses to reach beyond the exercise (advice for the instructor)."""
    from course.grading import similarity

    try:
        refs = similarity.library_references()
        items = [ex for ex in exercises(assignment.name) if ex.kind == "function" and ex.name]
        registry_refs = []
        for ex in items:
            module = sys.modules.get(f"course.exercises.{_module_of(ex)}")
            fn = getattr(module, ex.name, None) if module is not None else None
            if callable(fn):
                registry_refs.append(fn)
        refs.update(similarity.reference_sources(registry_refs))
        solution = {sc.grade_id: sc.source for sc in assignment.cells if sc.kind == "answer"}
        for gid, src in solution.items():
            refs.setdefault(f"solution:{gid}", _strip_solution_markers(src))
        templates = {sc.grade_id: sc.release for sc in assignment.cells if sc.kind == "answer"}
        table = similarity.similarity_for(answers, refs, templates)
    except Exception:  # noqa: BLE001 - similarity is advice, never a reason to lose grades
        traceback.print_exc()
        return {}
    return {sid: {k: found.get(k, "") for k in SIMILARITY_COLUMNS} for sid, found in table.items()}


def _strip_solution_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def _module_of(ex) -> str:
    from course.exercises import MODULES

    prefix = f"nb{ex.notebook[:2]}"
    return next((m for m in MODULES if m.startswith(prefix)), "")


def grade_class(assignment: Assignment, submissions: list[Submission], out: Path,
                opts: Options) -> tuple[list[dict], bool]:
    """Grade everything; return (rows, interrupted)."""
    make_private_dir(out)
    lock = open_lock(out)
    if lock is None:
        raise GradingError(f"another grading run is writing {out}; wait for it to finish")
    real_stdout = sys.stdout
    route_stdout_per_thread()  # checks print per thread: jobs never mix their lines
    base = Path(tempfile.mkdtemp(prefix="backprop-grade-"))
    os.chmod(base, 0o700)
    try:
        return _grade_class(assignment, submissions, out, opts, base)
    finally:
        sys.stdout = real_stdout
        shutil.rmtree(base, ignore_errors=True)
        lock.release()


def _grade_class(assignment: Assignment, submissions: list[Submission], out: Path,
                 opts: Options, base: Path) -> tuple[list[dict], bool]:
    setup_key = hashlib.sha256(
        f"{assignment.digest}|{code_digest()}|{opts.timeout}|{opts.memory_mb}|{opts.output_cap}|"
        f"{opts.sandbox}".encode()).hexdigest()
    rows: dict[str, dict] = {}
    entries: dict[str, dict] = {}
    todo: list[tuple[Submission, str]] = []
    progress = Progress(len(submissions), opts.quiet)
    for sub in submissions:
        key = hashlib.sha256(f"{setup_key}|{sub.digest()}".encode()).hexdigest()
        cached = load_cached_row(cache_path(out, assignment.name, sub.student_id), key,
                                 sub.student_id)
        if cached is not None and feedback_path(out, sub.student_id, assignment.name).exists():
            rows[sub.student_id] = cached
            progress.update(cached, cached=True)
        else:
            todo.append((sub, key))

    interrupted = False
    if todo:
        build = make_build(base / "build", secrets.randbits(63))
        if opts.self_check:
            self_check(assignment, out, setup_key, build, base, opts)
        stop = threading.Event()
        lock = threading.Lock()

        def task(sub: Submission, key: str) -> dict:
            if stop.is_set():
                raise Interrupted
            cacheable = True
            try:
                graded = grade_submission(assignment, sub, build, base, opts, stop)
            except Interrupted:
                raise
            except Exception as exc:  # noqa: BLE001 - a grader bug must not lose the gradebook
                traceback.print_exc()
                row = _blank_row(assignment, sub.student_id)
                row.update(status="crashed", detail=_one_line(f"internal grader error: {exc!r}"))
                graded = Graded(row, _blank_results(assignment, "not graded: internal error"),
                                None, {})
                cacheable = False
            _write_student(out, assignment, sub.student_id, graded)
            if cacheable:
                atomic_write(cache_path(out, assignment.name, sub.student_id),
                             cache_entry(key, sub.student_id, graded.row))
            with lock:
                rows[sub.student_id] = graded.row
                entries[sub.student_id] = {"answers": graded.answers}
                progress.update(graded.row, cached=False)
            return graded.row

        pool = cf.ThreadPoolExecutor(max_workers=max(1, opts.jobs))
        futures = [pool.submit(task, sub, key) for sub, key in todo]
        try:
            pending = set(futures)
            while pending:
                _, pending = cf.wait(pending, timeout=0.2)
        except KeyboardInterrupt:
            interrupted = True
            stop.set()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        for fut in futures:
            if fut.cancelled() or not fut.done():
                continue
            exc = fut.exception()
            if exc is not None and not isinstance(exc, Interrupted):
                raise exc
    ordered = [rows[s.student_id] for s in submissions if s.student_id in rows]
    _finish(out, assignment, ordered)
    return ordered, interrupted


def _write_student(out: Path, assignment: Assignment, student_id: str, graded: Graded) -> None:
    entry = {"row": graded.row, "results": graded.results, "notebook": graded.notebook,
             "answers": graded.answers}
    atomic_write(results_path(out, student_id), json.dumps(entry))
    try:
        if graded.notebook is not None:
            page = feedback.render_page(graded.notebook, graded.results, graded.row)
        else:
            page = feedback.render_unreadable_page(graded.row, graded.results)
    except Exception:  # noqa: BLE001 - feedback must never cost a grade
        traceback.print_exc()
        page = feedback.render_unreadable_page(graded.row, graded.results)
    atomic_write(feedback_path(out, student_id, assignment.name), page)


def _finish(out: Path, assignment: Assignment, rows: list[dict]) -> None:
    """grades.csv with the mistake and similarity columns, and the class report."""
    from course.grading import report

    saved: dict[str, dict] = {}
    for row in rows:
        try:
            saved[row["student_id"]] = json.loads(
                results_path(out, row["student_id"]).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            saved[row["student_id"]] = {"row": row, "results": []}
    answers = {sid: {k: v for k, v in (e.get("answers") or {}).items() if isinstance(v, str)}
               for sid, e in saved.items()}
    sim = _similarity(assignment, answers)
    grade_ids = [gid for gid, _ in assignment.tests]
    extra = report.mistake_column_names(grade_ids) + list(SIMILARITY_COLUMNS)
    for row in rows:
        results = saved.get(row["student_id"], {}).get("results") or []
        row.update(report.mistake_columns(results))
        row.update({k: v for k, v in sim.get(row["student_id"], {}).items()
                    if k in SIMILARITY_COLUMNS})
    write_csv(out / "grades.csv", assignment, rows, extra_columns=extra)
    entries = [{"row": r, "results": saved.get(r["student_id"], {}).get("results") or []}
               for r in rows]
    try:
        report.write_class_report(out, assignment.name, entries)
    except Exception:  # noqa: BLE001 - the report is advice; the gradebook is written
        traceback.print_exc()
    try:
        from course.grading import exports

        exports.write_exports(out, report=False)  # Canvas, Moodle, Gradescope files
    except Exception:  # noqa: BLE001 - the exports can be redone with backprop-course export
        traceback.print_exc()


def main(assignment_name: str, submissions_path: Path, out: Path, opts: Options,
         source_dir: Path = Path("solutions"), release_dir: Path | None = Path("notebooks")) -> int:
    """Run the whole command; return the exit status."""
    if opts.sandbox:
        problem = jail_problem()
        if problem is not None:
            print(f"backprop-course grade: {problem} (or pass --no-sandbox, for trusted code "
                  "only)", file=sys.stderr)
            return 2
    try:
        assignment = load_assignment(assignment_name, source_dir, release_dir)
        _items(assignment)
        warnings: list[str] = []
        submissions = read_submissions(submissions_path, assignment_name, exclude=out,
                                       warnings=warnings)
    except Exception as exc:  # noqa: BLE001 - report why grading cannot run
        from course.grading.assignment import AssignmentError

        if isinstance(exc, AssignmentError | GradingError | OSError):
            print(f"backprop-course grade: {exc}", file=sys.stderr)
            return 2
        raise
    for w in warnings:
        if not opts.quiet:
            print(f"backprop-course grade: warning: {display_id(w, 300)}", file=sys.stderr)
    if not submissions:
        print(f"backprop-course grade: warning: no student folders in {submissions_path}",
              file=sys.stderr)
    start = time.monotonic()
    try:
        rows, interrupted = grade_class(assignment, submissions, out, opts)
    except GradingError as exc:
        print(f"backprop-course grade: {exc}", file=sys.stderr)
        return 2
    except JailUnavailable as exc:
        print(f"backprop-course grade: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"backprop-course grade: cannot write the results: {exc}", file=sys.stderr)
        return 2
    except SelfCheckFailed as exc:
        print(f"backprop-course grade: {exc}\n(nothing was graded; fix the assignment or the "
              "environment, or pass --skip-self-check)", file=sys.stderr)
        return 2
    if not opts.quiet:
        print(summary(assignment, rows))
        print(f"gradebook: {out / 'grades.csv'}   feedback: {out / 'feedback'}   report: "
              f"{out / 'class-report.html'}   ({time.monotonic() - start:.0f} s)")
    if interrupted:
        print(f"interrupted: {len(rows)} of {len(submissions)} submissions are in "
              f"{out / 'grades.csv'}; run the same command again to grade the rest.",
              file=sys.stderr)
        return 130
    return 0


__all__ = ["Options", "SelfCheckFailed", "grade_class", "grade_submission", "main", "normalize"]
