"""The gradebook files: ``grades.csv``, and where each student's feedback, result and cache go.

- Text cells of ``grades.csv`` that a spreadsheet would run as a formula (they begin with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return) are written with a leading ``'``; numbers stay
  numbers.
- Every per-student file is named by :func:`~course.grading.submissions.safe_name`, so two
  students never share a feedback folder, a result or a cache entry.
- A cache entry records its student id; a row read back from the cache always carries the id of
  the student it is read for, or is ignored.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from course.grading.submissions import safe_name

BASE_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "detail"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")

__all__ = [
    "BASE_COLUMNS", "atomic_write", "cache_entry", "cache_path", "escape_cell", "feedback_path",
    "load_cached_row", "results_path", "write_csv",
]


def _fmt(value) -> str:
    """A cell's text: floats as ``%g`` (``4.0`` -> ``4``), ``None`` as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value + 0.0:g}" if math.isfinite(value) else ""  # + 0.0: no "-0"
    return str(value)


def escape_cell(value) -> str:
    """One CSV cell: numbers (int, float; not bool) as numbers; any text that begins with a
    formula character (``= + - @``, tab, CR, LF) gets a leading ``'`` so spreadsheets show it as
    text instead of running it (``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _fmt(value)
    text = _fmt(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def atomic_write(path: Path, data: str | bytes, mode: int = 0o600) -> None:
    """Write ``path`` whole or not at all (a temporary file, fsync, rename), readable by its
    owner only.  The temporary file is created with ``O_EXCL | O_NOFOLLOW``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    raw = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        os.unlink(tmp)  # a leftover of a killed run
    except FileNotFoundError:
        pass
    fd = os.open(tmp, flags, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def csv_text(columns: list[str], rows: Iterable[dict]) -> str:
    """CSV text: a header, then one escaped line per row (missing cells empty)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([escape_cell(c) for c in columns])
    for row in rows:
        writer.writerow([escape_cell(row.get(c, "")) for c in columns])
    return buf.getvalue()


def write_csv(path: Path, assignment, rows: list[dict], extra_columns: Iterable[str] = ()) -> None:
    """grades.csv: the base columns, one column per graded exercise (its points), then
    ``extra_columns`` (for example the similarity columns), sorted by student id."""
    columns = BASE_COLUMNS + [gid for gid, _ in assignment.tests]
    columns += [c for c in extra_columns if c not in columns]
    ordered = sorted(rows, key=lambda r: str(r["student_id"]))
    atomic_write(Path(path), csv_text(columns, ordered))


# --- where each student's files go -------------------------------------------------------------
def feedback_path(out: Path, student_id: str, assignment_name: str) -> Path:
    """``OUT/feedback/<safe name>/<assignment>.html``."""
    return Path(out) / "feedback" / safe_name(student_id) / f"{assignment_name}.html"


def results_path(out: Path, student_id: str) -> Path:
    """``OUT/results/<safe name>.json``."""
    return Path(out) / "results" / f"{safe_name(student_id)}.json"


def cache_path(out: Path, assignment_name: str, student_id: str) -> Path:
    """``OUT/.cache/<assignment>/<safe name>.json`` (never ``_self_check.json``: safe names
    begin with a letter or a digit)."""
    return Path(out) / ".cache" / assignment_name / f"{safe_name(student_id)}.json"


def cache_entry(key: str, student_id: str, row: dict) -> str:
    """The text of a cache entry: the key, the student id and the row (with that id)."""
    return json.dumps({"key": key, "student_id": student_id,
                       "row": {**row, "student_id": student_id}})


def load_cached_row(path: Path, key: str, student_id: str) -> dict | None:
    """The cached row for ``student_id`` if the entry at ``path`` has this ``key`` and was
    written for this student; ``None`` otherwise (missing, unreadable, stale, someone else's)."""
    try:
        entry = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    if entry.get("student_id") != student_id or not isinstance(entry.get("row"), dict):
        return None
    return {**entry["row"], "student_id": student_id}
