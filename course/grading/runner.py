"""``backprop-course grade``: a class's submissions -> grades.csv + feedback, in parallel.

Flow: read the assignment; read every submission into memory (a folder of
``<student_id>/<notebook>.ipynb`` or a zip of one); skip submissions whose content and grading
setup are unchanged since the last run (cache in ``OUT/.cache``); grade the rest with a pool of
``--jobs`` sandboxed workers; write each result atomically as it arrives, and ``grades.csv``
at the end (also after Ctrl-C, with the rows finished so far).
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import hashlib
import io
import json
import os
import queue
import re
import signal
import sys
import threading
import time
import traceback
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from course.grading import feedback
from course.grading.assignment import (
    Assignment,
    Plan,
    SubmissionError,
    build_plan,
    find_notebook,
    load_assignment,
    parse_submission,
)
from course.grading.sandbox import UID_BLOCK, RunResult, Sandbox

STATUSES = ("graded", "timeout", "crashed", "memory-limit", "malformed", "missing", "tampered",
            "integrity")
# When several things went wrong, the row shows the most important one first.
PRECEDENCE = ("integrity", "tampered", "timeout", "memory-limit", "crashed")
BASE_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "detail"]
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_STUDENT_BYTES = 100 * 1024 * 1024
GRADER_VERSION = "1"


class GradingError(Exception):
    """Grading cannot run at all (bad arguments, missing assignment)."""


@dataclass
class Submission:
    """One student's files, read into memory."""

    student_id: str
    files: dict[str, bytes] = field(default_factory=dict)

    def digest(self) -> str:
        h = hashlib.sha256()
        for rel in sorted(self.files):
            h.update(rel.encode() + b"\0" + hashlib.sha256(self.files[rel]).digest())
        return h.hexdigest()


@dataclass
class Options:
    """Command-line options that affect grading."""

    jobs: int = 1
    timeout: float = 300.0
    memory_mb: int = 2048
    output_cap: int = 20000
    quiet: bool = False
    self_check: bool = True


# --- reading submissions -----------------------------------------------------------------------
def _safe_id(student_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", student_id).lstrip(".") or "_"


def _read_folder(student_dir: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(student_dir.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        rel = path.relative_to(student_dir).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        size = path.stat().st_size
        if size > MAX_FILE_BYTES and not rel.endswith(".ipynb"):
            continue
        total += size
        if total > MAX_STUDENT_BYTES:
            break
        files[rel] = path.read_bytes()
    return files


def _read_zip(path: Path, assignment: str) -> list[Submission]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise GradingError(f"cannot open {path}: {exc}") from exc
    entries = []
    for info in zf.infolist():
        name = info.filename.replace("\\", "/")
        parts = [p for p in name.split("/") if p]
        if not parts or name.startswith("/") or ".." in parts or "__MACOSX" in parts:
            continue
        entries.append((parts, info))
    firsts = {parts[0] for parts, _ in entries}
    if (
        len(firsts) == 1
        and any(len(p) >= 3 for p, _ in entries)
        and not any(len(p) >= 2 and p[1] == assignment for p, _ in entries)
    ):
        entries = [(parts[1:], info) for parts, info in entries if len(parts) > 1]
    subs: dict[str, Submission] = {}
    totals: dict[str, int] = {}
    for parts, info in entries:
        if parts[0].startswith("."):
            continue
        sub = subs.setdefault(parts[0], Submission(parts[0]))
        if info.is_dir() or len(parts) < 2:
            continue
        rel = "/".join(parts[1:])
        if any(p.startswith(".") for p in parts[1:]):
            continue
        if info.file_size > MAX_FILE_BYTES and not rel.endswith(".ipynb"):
            continue
        totals[parts[0]] = totals.get(parts[0], 0) + info.file_size
        if totals[parts[0]] > MAX_STUDENT_BYTES:
            continue
        with zf.open(info) as fh:
            sub.files[rel] = fh.read(MAX_STUDENT_BYTES + 1)
    return sorted(subs.values(), key=lambda s: s.student_id)


def read_submissions(path: Path, assignment: str, exclude: Path | None = None) -> list[Submission]:
    """Every student's submission, from a folder or a zip (``exclude``: the output folder)."""
    if path.is_file() and zipfile.is_zipfile(path):
        return _read_zip(path, assignment)
    if not path.is_dir():
        raise GradingError(f"{path} is neither a folder nor a zip file")
    subs = []
    for child in sorted(path.iterdir()):
        if exclude is not None and child.resolve() == exclude.resolve():
            continue
        if child.is_dir() and not child.name.startswith("."):
            subs.append(Submission(child.name, _read_folder(child)))
    return subs


# --- deciding a row from a worker's events -----------------------------------------------------
def _label(cell: dict) -> str:
    kind = {"answer": "answer cell", "test": "test cell"}.get(cell["kind"], "cell")
    return f"{kind} {cell['key']}"


def _chain_has_memory_error(error: dict | None) -> bool:
    return bool(error and (error.get("memory") or "MemoryError" in error.get("type", "")))


def _one_line(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def interpret(
    assignment: Assignment, plan: Plan, res: RunResult, opts: Options
) -> tuple[dict, dict[str, dict]]:
    """(row fields: status, detail, per-test points; per-cell reports for the feedback)."""
    cells = plan.cells
    events = {
        e["i"]: e for e in res.events if e.get("ev") == "cell" and isinstance(e.get("i"), int)
    }
    integrity = next((e for e in res.events if e.get("ev") == "integrity"), None)
    fatal = next((e for e in res.events if e.get("ev") == "fatal"), None)
    index_of = {c["key"]: i for i, c in enumerate(cells)}
    problems: list[tuple[str, str]] = []
    reports: dict[str, dict] = {}
    scores: dict[str, float] = {}
    failures: list[str] = []

    for i, cell in enumerate(cells):
        ev = events.get(i)
        if ev is None:
            continue
        err = ev.get("error")
        text = None
        if err:
            if err.get("hidden"):
                text = "The hidden tests for this exercise failed (their details are not shown)."
            else:
                text = f"{err.get('type')}: {err.get('msg')}".rstrip(": ")
                if err.get("tb"):
                    text += "\n" + "\n".join(err["tb"])
            if _chain_has_memory_error(err):
                problems.append(("memory-limit", f"MemoryError in {_label(cell)} "
                                                 f"(limit {opts.memory_mb} MiB)"))
        reports[cell["key"]] = {"outputs": ev.get("outputs", []), "error": text}
        for what in ev.get("delegation") or []:
            problems.append(("integrity", f"{_label(cell)}: {what}"))

    if integrity is not None:
        i = integrity.get("i", 0)
        where = _label(cells[i]) if isinstance(i, int) and 0 <= i < len(cells) else "a cell"
        problems.append(("integrity", f"after {where}: {integrity.get('what')}"))
    warnings = []
    protected = set(assignment.protected)
    for i, cell in enumerate(cells):
        err = (events.get(i) or {}).get("error") or {}
        if (
            cell["kind"] == "code"
            and err
            and not any(line.startswith("answer:") for line in err.get("tb", []))
            and not (err.get("type") == "NameError"
                     and any(f"'{name}'" in err.get("msg", "") for name in protected))
        ):
            warnings.append(f"grader warning: read-only {_label(cell)} failed "
                            f"({err['type']}: {_one_line(err.get('msg', ''), 80)})")
    for reason in plan.tampered.values():
        problems.append(("tampered", reason))

    if not res.finished and integrity is None:
        last = res.last_started
        where = _label(cells[last]) if isinstance(last, int) and 0 <= last < len(cells) else \
            "start-up"
        rc = res.returncode
        if res.timed_out:
            problems.append(("timeout", f"no result within {opts.timeout:g} s; stopped in {where}"))
        elif rc is not None and rc == -signal.SIGXCPU:
            problems.append(("timeout", f"CPU time limit reached in {where}"))
        elif fatal is not None:
            problems.append(("crashed", f"{fatal.get('what')}"))
        elif "MemoryError" in res.raw_output or "Cannot allocate memory" in res.raw_output:
            problems.append(("memory-limit", f"out of memory in {where} "
                                             f"(limit {opts.memory_mb} MiB)"))
        else:
            how = f"signal {signal.Signals(-rc).name}" if rc is not None and rc < 0 else \
                f"exit code {rc}"
            problems.append(("crashed", f"the grading process died ({how}) in {where}"))

    for gid, points in assignment.tests:
        note: str
        scores[gid] = 0.0
        i = index_of.get(gid)
        ev = events.get(i) if i is not None else None
        if gid in plan.tampered:
            note = plan.tampered[gid] + ": no points"
        elif i is None:
            note = "not graded"
        elif integrity is not None and i >= integrity.get("i", 0):
            note = "not graded: integrity check failed (" + str(integrity.get("what")) + ")"
        elif ev is None:
            note = "not graded: the grading stopped before this cell"
        elif ev.get("delegation"):
            note = "no points: " + "; ".join(ev["delegation"])
        elif ev.get("ok"):
            scores[gid] = float(points)
            note = "passed"
        else:
            err = ev.get("error") or {}
            if err.get("hidden"):
                note = "failed: hidden tests"
            else:
                note = _one_line(f"failed: {err.get('type')}: {err.get('msg')}".rstrip(": "), 160)
        if scores[gid] < points:
            failures.append(f"{gid} ({note})")
        rep = reports.setdefault(gid, {"outputs": [], "error": None})
        rep["note"] = note
        rep["passed"] = scores[gid] >= points

    failures += warnings
    row: dict = {"score": float(sum(scores.values())), **scores}
    if problems:
        ranked = sorted(problems, key=lambda p: PRECEDENCE.index(p[0]))
        row["status"] = ranked[0][0]
        details = list(dict.fromkeys(d for _, d in ranked))
        row["detail"] = _one_line("; ".join(details[:3]), 300)
    else:
        row["status"] = "graded"
        row["detail"] = _one_line("; ".join(failures), 300) if failures else ""
    return row, reports


# --- grading one submission --------------------------------------------------------------------
_warned = threading.Event()


class SelfCheckFailed(Exception):
    """The solution itself does not earn full marks in the sandbox: grades would be wrong."""


def self_check(assignment: Assignment, out: Path, setup_key: str, opts: Options) -> None:
    """Grade the solution's answers once (cached); raise SelfCheckFailed unless full marks."""
    from course.grading.assignment import reference_notebook

    marker = out / ".cache" / assignment.name / "_self_check.json"
    try:
        if json.loads(marker.read_text()).get("key") == setup_key:
            return
    except (OSError, ValueError):
        pass
    data = json.dumps(reference_notebook(assignment)).encode()
    sub = Submission("(solution)", {assignment.notebook: data})
    sandbox = Sandbox()
    try:
        row, _ = grade_submission(assignment, sub, sandbox, opts, 0)
    finally:
        sandbox.close()
    if row["status"] != "graded" or row["score"] != assignment.max_score or row["detail"]:
        raise SelfCheckFailed(
            f"the solution of {assignment.name} scores {row['score']:g}/"
            f"{assignment.max_score:g} ({row['status']}) in the grading sandbox, so the grades "
            f"would be wrong: {row['detail'] or 'no detail'}"
        )
    _atomic_write(marker, json.dumps({"key": setup_key}))


class Interrupted(Exception):
    """The run was stopped (Ctrl-C) while this submission was being graded."""


def _blank_row(assignment: Assignment, student_id: str) -> dict:
    row = {"student_id": student_id, "assignment": assignment.name, "score": 0.0,
           "max_score": assignment.max_score, "status": "", "detail": ""}
    for gid, _ in assignment.tests:
        row[gid] = 0.0
    return row


def grade_submission(
    assignment: Assignment,
    sub: Submission,
    sandbox: Sandbox,
    opts: Options,
    slot: int,
    stop: threading.Event | None = None,
) -> tuple[dict, str]:
    """Grade one submission: (CSV row, feedback HTML)."""
    row = _blank_row(assignment, sub.student_id)
    try:
        rel = find_notebook(sub.files, assignment)
        nb = parse_submission(sub.files[rel])
    except SubmissionError as exc:
        row.update(status=exc.status, detail=exc.detail)
        return row, feedback.render_unreadable(assignment, sub.student_id, row)
    plan = build_plan(assignment, nb)
    work = sandbox.make_workdir(sub.files, slot)
    try:
        res = sandbox.run(plan.cells, assignment.protected, work, slot, timeout=opts.timeout,
                          memory_mb=opts.memory_mb, output_cap=opts.output_cap, stop=stop)
    finally:
        sandbox.remove_workdir(work)
    if res.isolation and res.isolation not in ("uid", "isolated") and not _warned.is_set():
        _warned.set()
        print(f"backprop-course grade: warning: no sandbox for learner code: user namespace "
              f"{res.isolation}; it runs as your user with resource limits only "
              f"(see docs/grading.md)", file=sys.stderr)
    if stop is not None and stop.is_set():
        raise Interrupted
    fields, reports = interpret(assignment, plan, res, opts)
    row.update(fields)
    html_text = feedback.render(assignment, sub.student_id, row, plan.answers, reports)
    return row, html_text


# --- output ------------------------------------------------------------------------------------
def _atomic_write(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def write_csv(path: Path, assignment: Assignment, rows: list[dict]) -> None:
    """grades.csv: the base columns, then one column per graded exercise (its points)."""
    columns = BASE_COLUMNS + [gid for gid, _ in assignment.tests]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for row in sorted(rows, key=lambda r: r["student_id"]):
        writer.writerow([_fmt(row.get(c, "")) for c in columns])
    _atomic_write(path, buf.getvalue())


# course modules that cannot change a score (command-line tools, figures): not in the cache key
NOT_GRADING = {"cli.py", "launch.py", "release.py", "progress.py", "_nbtools.py", "plots.py",
               "widgets.py"}


def code_digest() -> str:
    """Hash of the course source that decides scores (reference, checks, grader)."""
    h = hashlib.sha256(GRADER_VERSION.encode())
    pkg = Path(__file__).resolve().parents[1]
    for path in sorted(list(pkg.glob("*.py")) + list(pkg.glob("grading/*.py"))):
        if path.parent == pkg and path.name in NOT_GRADING:
            continue
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


class Progress:
    """A progress bar on a terminal, one line per submission otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.done, self.quiet = total, 0, quiet
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()

    def update(self, row: dict, cached: bool) -> None:
        self.done += 1
        if self.quiet:
            return
        tag = " (unchanged)" if cached else ""
        line = (f"{row['student_id']}: {row['status']} {row['score']:g}/{row['max_score']:g}"
                f"{tag}")
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
        width = max(10, *(len(r["student_id"]) for r in rows))
        lines.append(f"{'student':<{width}}  {'score':>9}  {'status':<12}  detail")
        for r in sorted(rows, key=lambda r: r["student_id"]):
            score = f"{r['score']:g}/{r['max_score']:g}"
            lines.append(f"{r['student_id']:<{width}}  {score:>9}  {r['status']:<12}  "
                         f"{_one_line(r['detail'], 60)}")
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


# --- the whole run -----------------------------------------------------------------------------
def grade_class(
    assignment: Assignment,
    submissions: list[Submission],
    out: Path,
    opts: Options,
) -> tuple[list[dict], bool]:
    """Grade everything; return (rows, interrupted)."""
    out.mkdir(parents=True, exist_ok=True)
    cache_dir = out / ".cache" / assignment.name
    setup_key = hashlib.sha256(
        f"{assignment.digest}|{code_digest()}|{opts.timeout}|{opts.memory_mb}|{opts.output_cap}"
        .encode()
    ).hexdigest()
    rows: dict[str, dict] = {}
    todo: list[tuple[Submission, str]] = []
    progress = Progress(len(submissions), opts.quiet)
    for sub in submissions:
        key = hashlib.sha256(f"{setup_key}|{sub.digest()}".encode()).hexdigest()
        entry = cache_dir / f"{_safe_id(sub.student_id)}.json"
        fb = out / "feedback" / _safe_id(sub.student_id) / f"{assignment.name}.html"
        try:
            cached = json.loads(entry.read_text())
        except (OSError, ValueError):
            cached = None
        if cached and cached.get("key") == key and fb.exists():
            rows[sub.student_id] = cached["row"]
            progress.update(cached["row"], cached=True)
        else:
            todo.append((sub, key))

    interrupted = False
    if todo and opts.self_check:
        self_check(assignment, out, setup_key, opts)
    if todo:
        sandbox = Sandbox()
        if sandbox.warning and not opts.quiet:
            print(f"backprop-course grade: {sandbox.warning}", file=sys.stderr)
        stop = threading.Event()
        slots: queue.Queue[int] = queue.Queue()
        for s in range(max(1, min(opts.jobs, UID_BLOCK))):
            slots.put(s)
        lock = threading.Lock()

        def task(sub: Submission, key: str) -> dict:
            if stop.is_set():
                raise Interrupted
            slot = slots.get()
            cacheable = True
            try:
                row, html_text = grade_submission(assignment, sub, sandbox, opts, slot, stop)
            except Interrupted:
                raise
            except Exception as exc:  # noqa: BLE001 - a grader bug must not lose the gradebook
                traceback.print_exc()
                row = _blank_row(assignment, sub.student_id)
                row.update(status="crashed", detail=_one_line(f"internal grader error: {exc!r}"))
                html_text = feedback.render_unreadable(assignment, sub.student_id, row)
                cacheable = False
            finally:
                slots.put(slot)
            sid = _safe_id(sub.student_id)
            _atomic_write(out / "feedback" / sid / f"{assignment.name}.html", html_text)
            if cacheable:
                _atomic_write(cache_dir / f"{sid}.json", json.dumps({"key": key, "row": row}))
            with lock:
                rows[sub.student_id] = row
                progress.update(row, cached=False)
            return row

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
            stop.set() if interrupted else None
            pool.shutdown(wait=True, cancel_futures=True)
            sandbox.close()
        for fut in futures:
            if fut.cancelled() or not fut.done():
                continue
            exc = fut.exception()
            if exc is not None and not isinstance(exc, Interrupted):
                raise exc
    ordered = [rows[s.student_id] for s in submissions if s.student_id in rows]
    write_csv(out / "grades.csv", assignment, ordered)
    return ordered, interrupted


def main(
    assignment_name: str,
    submissions_path: Path,
    out: Path,
    opts: Options,
    source_dir: Path = Path("solutions"),
    release_dir: Path | None = Path("notebooks"),
) -> int:
    """Run the whole command; return the exit status."""
    try:
        assignment = load_assignment(assignment_name, source_dir, release_dir)
        submissions = read_submissions(submissions_path, assignment_name, exclude=out)
    except Exception as exc:  # noqa: BLE001 - report why grading cannot run
        from course.grading.assignment import AssignmentError

        if isinstance(exc, AssignmentError | GradingError | OSError):
            print(f"backprop-course grade: {exc}", file=sys.stderr)
            return 2
        raise
    if not submissions:
        print(f"backprop-course grade: warning: no student folders in {submissions_path}",
              file=sys.stderr)
    try:
        rows, interrupted = grade_class(assignment, submissions, out, opts)
    except OSError as exc:
        print(f"backprop-course grade: cannot write the results: {exc}", file=sys.stderr)
        return 2
    except SelfCheckFailed as exc:
        print(f"backprop-course grade: {exc}\n(nothing was graded; fix the assignment or the "
              "environment, or pass --skip-self-check)", file=sys.stderr)
        return 2
    if not opts.quiet:
        print(summary(assignment, rows))
        print(f"gradebook: {out / 'grades.csv'}   feedback: {out / 'feedback'}")
    if interrupted:
        print(
            f"interrupted: {len(rows)} of {len(submissions)} submissions are in "
            f"{out / 'grades.csv'}; run the same command again to grade the rest.",
            file=sys.stderr,
        )
        return 130
    return 0
