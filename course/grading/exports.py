"""``backprop-course export``: a graded class -> gradebook files for Canvas, Moodle, Gradescope.

    backprop-course export OUT [--to DIR] [--canvas-id sis_login_id] [--moodle-id-header H]

``OUT`` is the output folder of ``backprop-course grade`` (``grades.csv`` and
``results/<id>.json``).  Written into ``DIR`` (default ``OUT/exports``):

``canvas.csv``
    Canvas gradebook import (Grades > Import).  Canvas reads the columns of its own gradebook
    export: ``Student, ID, SIS User ID, SIS Login ID, Section`` and then one column per
    assignment, named ``Assignment name`` or ``Assignment name (canvas assignment id)``; a row
    whose ``Student`` cell is ``Points Possible`` gives the maximum.  A student is matched by
    ``ID``, ``SIS User ID`` or ``SIS Login ID`` (one is enough): our ``student_id`` goes into
    the one chosen with ``--canvas-id`` (default ``SIS Login ID``).  A column whose name matches
    no assignment creates a new one.  UTF-8 with a byte-order mark, as Canvas's own export.
``moodle.csv``
    Moodle gradebook import (Grades > Import > CSV file).  Moodle takes any header: at import
    you map the identifier column to a user field (*ID number*, *username*, *email address* or
    *user id*) and each other column to a grade item, a new grade item, or *feedback for* an
    item.  Columns: the identifier (header ``--moodle-id-header``, default ``ID number``), the
    total as ``<assignment>``, one column per exercise ``<assignment>: <grade_id>``, and
    ``Feedback`` (status and score, one line).  UTF-8 without a byte-order mark (Moodle's
    default encoding; choose "comma" as the separator).
``gradescope/<id>/results.json``
    Gradescope's autograder format, one per submission: ``score``, ``output``, ``tests`` (each
    with ``name``, ``number``, ``score``, ``max_score``, ``status`` passed/failed, ``output``:
    the check's message) and ``visibility``.  ``autograder/run_autograder`` writes the same for
    one submission.

CSV hygiene: every text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (or their full-width forms) gets a leading ``'`` so no spreadsheet runs it as a formula
(OWASP's advice); numbers we write are never escaped; fields are quoted when they contain a
comma, a quote or a line break (RFC 4180), lines end in CRLF.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path

CANVAS_ID_COLUMNS = {"id": "ID", "sis_user_id": "SIS User ID", "sis_login_id": "SIS Login ID"}
CANVAS_BASE = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_ROW = "    Points Possible"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BOM = "\ufeff"
BASE_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "detail"]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- cells ------------------------------------------------------------------------------------
def escape_cell(value: object) -> str:
    """One CSV cell: numbers as plain decimals, text escaped against formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    text = _CONTROL.sub(" ", str(value))  # keep tabs and line breaks (quoted); drop the rest
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text


def format_number(value: float) -> str:
    """7.5 -> "7.5", 8.0 -> "8", 1/3 -> "0.3333": what every LMS parses."""
    v = float(value)
    if not math.isfinite(v):
        return ""
    text = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def unescape_cell(text: str) -> str:
    """Undo :func:`escape_cell`'s leading quote (for rows read back from grades.csv)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def _csv_text(rows: list[list[object]], *, bom: bool) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([escape_cell(v) for v in row])
    return (BOM if bom else "") + buf.getvalue()


def _num(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        v = float(str(value).strip())
    except ValueError:
        return None
    return v if math.isfinite(v) else None


# --- reading a grading output folder ------------------------------------------------------------
def load_output(out_dir: Path) -> list[dict]:
    """The submissions of a grading output folder, sorted by student id.

    Each is ``{"key", "row", "results"}``: ``key`` is the name of its ``results/<key>.json``
    (the grader's collision-free file name for the student).  Students that appear only in
    ``grades.csv`` (no results file) are included with ``results == []``.
    """
    out_dir = Path(out_dir)
    entries: dict[str, dict] = {}
    for path in sorted((out_dir / "results").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("row"), dict):
            continue
        row = data["row"]
        results = [r for r in data.get("results") or [] if isinstance(r, dict)]
        entries[str(row.get("student_id", path.stem))] = {"key": path.stem, "row": row,
                                                          "results": results}
    grades = out_dir / "grades.csv"
    if grades.exists():
        with grades.open(encoding="utf-8-sig", newline="") as f:
            for raw in csv.DictReader(f):
                row = {k: unescape_cell(v or "") for k, v in raw.items() if k is not None}
                sid = row.get("student_id", "")
                if sid and sid not in entries:
                    for k in ("score", "max_score"):
                        row[k] = _num(row.get(k)) or 0.0
                    key = re.sub(r"[^A-Za-z0-9._@+-]", "_", sid).lstrip(".") or "_"
                    entries[sid] = {"key": f"csv-{key}", "row": row, "results": []}
    return [entries[k] for k in sorted(entries)]


def grade_ids(entries: list[dict]) -> list[str]:
    """The graded exercises in notebook order (first seen in the results)."""
    seen: dict[str, None] = {}
    for e in entries:
        for r in e["results"]:
            if r.get("grade_id"):
                seen.setdefault(str(r["grade_id"]), None)
    return list(seen)


def _assignment(entries: list[dict], default: str = "assignment") -> str:
    for e in entries:
        if e["row"].get("assignment"):
            return str(e["row"]["assignment"])
    return default


def _max_score(entries: list[dict]) -> float:
    return max((_num(e["row"].get("max_score")) or 0.0 for e in entries), default=0.0)


def _one_line(text: object, limit: int = 500) -> str:
    s = " ".join(_CONTROL.sub(" ", str(text or "")).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


# --- the three formats -------------------------------------------------------------------------
def canvas_csv(entries: list[dict], *, id_column: str = "sis_login_id",
               assignment_column: str | None = None, points_possible: bool = True) -> str:
    """Canvas gradebook import CSV (text, with a BOM)."""
    if id_column not in CANVAS_ID_COLUMNS:
        raise ValueError(f"id_column must be one of {sorted(CANVAS_ID_COLUMNS)}")
    name = assignment_column or _assignment(entries)
    header = CANVAS_BASE + [name]
    rows: list[list[object]] = [header]
    if points_possible:
        rows.append([CANVAS_POINTS_ROW, "", "", "", "", _max_score(entries)])
    where = header.index(CANVAS_ID_COLUMNS[id_column])
    for e in entries:
        line: list[object] = ["", "", "", "", "", _num(e["row"].get("score")) or 0.0]
        line[where] = str(e["row"].get("student_id", ""))
        rows.append(line)
    return _csv_text(rows, bom=True)


def moodle_csv(entries: list[dict], *, id_header: str = "ID number",
               per_exercise: bool = True) -> str:
    """Moodle gradebook CSV import (text, UTF-8, no BOM)."""
    name = _assignment(entries)
    gids = grade_ids(entries) if per_exercise else []
    rows: list[list[object]] = [[id_header, name, *[f"{name}: {g}" for g in gids], "Feedback"]]
    for e in entries:
        row = e["row"]
        by_id = {str(r.get("grade_id")): r for r in e["results"]}
        cells: list[object] = []
        for g in gids:
            r = by_id.get(g)
            pts = _num(r.get("points")) if r else _num(row.get(g))
            cells.append("" if pts is None else pts)
        score = _num(row.get("score")) or 0.0
        feedback = f"{row.get('status', '')}: {format_number(score)} / " \
                   f"{format_number(_num(row.get('max_score')) or 0.0)}"
        if row.get("detail"):
            feedback += f" ({_one_line(row['detail'], 300)})"
        rows.append([str(row.get("student_id", "")), score, *cells, feedback])
    return _csv_text(rows, bom=False)


def gradescope_results(entry: dict) -> dict:
    """Gradescope's results.json for one submission (``{"row", "results"}``)."""
    row, results = entry["row"], entry.get("results") or []
    score = _num(row.get("score")) or 0.0
    top = _num(row.get("max_score")) or 0.0
    status = str(row.get("status", ""))
    lines = [f"Score: {format_number(score)} / {format_number(top)} ({status})."]
    if row.get("detail"):
        lines.append(_one_line(row["detail"], 2000))
    tests = []
    for i, r in enumerate(results, 1):
        title = str(r.get("title") or r.get("name") or r.get("grade_id") or f"item {i}")
        test = {
            "name": _one_line(title, 200),
            "number": str(i),
            "score": _num(r.get("points")) or 0.0,
            "max_score": _num(r.get("max_points")) or 0.0,
            "output": str(r.get("message") or ""),
            "visibility": "visible",
        }
        if r.get("passed") is True:
            test["status"] = "passed"
        elif r.get("passed") is False:
            test["status"] = "failed"
        else:
            test["output"] = (test["output"] + "\n" if test["output"] else "") + \
                "Graded by hand: the points appear once your instructor has read it."
        if r.get("mistake") and r.get("passed") is False:
            test["tags"] = [str(r["mistake"])]
        tests.append(test)
    return {"score": score, "output": "\n".join(lines), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"student_id": str(row.get("student_id", "")), "status": status,
                           "assignment": str(row.get("assignment", ""))}}


# --- writing ----------------------------------------------------------------------------------
def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _safe_key(key: str) -> str:
    key = re.sub(r"[^A-Za-z0-9._@+-]", "_", key).lstrip(".")
    return key or "_"


def write_exports(out_dir: Path, to: Path | None = None, *, canvas_id: str = "sis_login_id",
                  canvas_assignment: str | None = None, moodle_id_header: str = "ID number",
                  report: bool = True, similarity_threshold: float | None = None) -> list[Path]:
    """Write canvas.csv, moodle.csv and gradescope/<key>/results.json; return their paths.

    With ``report`` the class report (OUT/class-report.html and .json) is written again too.
    """
    out_dir = Path(out_dir)
    to = Path(to) if to is not None else out_dir / "exports"
    entries = load_output(out_dir)
    written = []
    p = to / "canvas.csv"
    _write(p, canvas_csv(entries, id_column=canvas_id, assignment_column=canvas_assignment))
    written.append(p)
    p = to / "moodle.csv"
    _write(p, moodle_csv(entries, id_header=moodle_id_header))
    written.append(p)
    for e in entries:
        p = to / "gradescope" / _safe_key(e["key"]) / "results.json"
        _write(p, json.dumps(gradescope_results(e), indent=1, ensure_ascii=False) + "\n")
        written.append(p)
    if report:
        from course.grading.report import DEFAULT_SIMILARITY_THRESHOLD, write_class_report

        write_class_report(out_dir, _assignment(entries), entries,
                           similarity_threshold=similarity_threshold
                           if similarity_threshold is not None else DEFAULT_SIMILARITY_THRESHOLD)
        written += [out_dir / "class-report.html", out_dir / "class-report.json"]
    return written


def write_gradescope_single(out_dir: Path, target: Path) -> dict:
    """The one submission of ``out_dir`` as Gradescope's results.json at ``target``."""
    entries = load_output(out_dir)
    if len(entries) != 1:
        raise ValueError(f"expected exactly one graded submission in {out_dir}, "
                         f"found {len(entries)}")
    data = gradescope_results(entries[0])
    _write(Path(target), json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return data


# --- the subcommand ---------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``export`` subcommand."""
    parser.add_argument("out", metavar="OUT", type=Path,
                        help="output folder of `backprop-course grade` (grades.csv, results/)")
    parser.add_argument("--to", type=Path, metavar="DIR",
                        help="where to write canvas.csv, moodle.csv, gradescope/ "
                             "(default: OUT/exports)")
    parser.add_argument("--canvas-id", choices=sorted(CANVAS_ID_COLUMNS),
                        default="sis_login_id",
                        help="which Canvas column the student ids are (default: sis_login_id)")
    parser.add_argument("--canvas-assignment", metavar="NAME",
                        help='Canvas column name, e.g. "03 Linear layer (12345)" to match an '
                             "existing assignment by its id (default: the assignment name)")
    parser.add_argument("--moodle-id-header", default="ID number", metavar="HEADER",
                        help='header of the student id column in moodle.csv (default: "ID number")')
    parser.add_argument("--similarity-threshold", type=float, metavar="X",
                        help="class report: flag similarity at or above X (default: 0.8)")
    parser.add_argument("--no-report", action="store_true",
                        help="do not rewrite OUT/class-report.html and .json")
    parser.add_argument("--gradescope-results", type=Path, metavar="FILE",
                        help="only write the single submission's Gradescope results.json to FILE "
                             "(used by autograder/run_autograder)")


def run(args: argparse.Namespace) -> int:
    """Write the exports; 0 on success."""
    out = args.out
    if not (out / "grades.csv").exists() and not (out / "results").is_dir():
        print(f"backprop-course export: {out} has no grades.csv or results/: "
              "run `backprop-course grade ... --out OUT` first", file=sys.stderr)
        return 2
    try:
        if args.gradescope_results:
            write_gradescope_single(out, args.gradescope_results)
            print(f"gradescope results: {args.gradescope_results}")
            return 0
        written = write_exports(out, args.to, canvas_id=args.canvas_id,
                                canvas_assignment=args.canvas_assignment,
                                moodle_id_header=args.moodle_id_header,
                                report=not args.no_report,
                                similarity_threshold=args.similarity_threshold)
    except (OSError, ValueError) as exc:
        print(f"backprop-course export: {exc}", file=sys.stderr)
        return 1
    to = args.to or out / "exports"
    n = sum(p.name == "results.json" for p in written)
    print(f"canvas: {to / 'canvas.csv'}\nmoodle: {to / 'moodle.csv'}\n"
          f"gradescope: {n} results.json in {to / 'gradescope'}")
    if not args.no_report:
        print(f"class report: {out / 'class-report.html'}")
    return 0
