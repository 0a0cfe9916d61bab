"""Read an assignment (source + release notebooks) and turn a submission into a grading plan.

Vocabulary (nbgrader's cell metadata, ``cell.metadata.nbgrader``):

- *answer cell*: ``solution: true`` code cell; the learner writes it.  Taken from the submission.
- *test cell*: ``grade: true, solution: false`` code cell with ``points``; read-only for the
  learner.  Taken from the **source** notebook, hidden tests included; the learner's copy is only
  compared with the release copy to detect edits and deletions.
- every other code cell (setup, demos) is taken from the source notebook.

A graded exercise is a test cell: it earns its ``points`` when it runs without an error in the
fresh grading process, and zero otherwise.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

HIDDEN_REGION = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M
)
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


class AssignmentError(Exception):
    """The assignment cannot be graded (missing or broken source notebook)."""


class SubmissionError(Exception):
    """A submission that is not a usable notebook; ``status`` is malformed or missing."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _meta(cell) -> dict:
    meta = cell.get("metadata") or {}
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def normalize(source: str) -> str:
    """Source text compared for tamper detection: trailing spaces and blank edges ignored."""
    return "\n".join(line.rstrip() for line in source.strip("\n").splitlines()).strip()


def strip_hidden(source: str) -> str:
    """The learner's view of a test cell: hidden-test regions removed (as nbgrader does)."""
    return HIDDEN_REGION.sub("", source)


def defined_names(source: str) -> set[str]:
    """Top-level names a cell defines (functions, classes, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
    return names


@dataclass
class SourceCell:
    """One cell of the source notebook, classified."""

    index: int
    cell_type: str
    kind: str  # "answer", "test", "code", "markdown"
    grade_id: str | None
    source: str  # source (instructor) text, hidden tests included
    release: str  # what the learner got
    points: float = 0.0


@dataclass
class Assignment:
    """An assignment ready for grading."""

    name: str
    notebook: str  # file name, e.g. "03-linear-layer.ipynb"
    cells: list[SourceCell]
    tests: list[tuple[str, float]]  # (grade_id, points) in notebook order
    protected: list[str]
    digest: str
    hidden_lines: list[str] = field(default_factory=list)
    manual_points: float = 0.0  # written answers graded by hand (nbgrader formgrader)

    @property
    def max_score(self) -> float:
        return float(sum(p for _, p in self.tests))


def _read_nb(path: Path) -> dict:
    try:
        return parse_submission(path.read_bytes())
    except (OSError, SubmissionError) as exc:
        raise AssignmentError(f"cannot read {path}: {exc}") from exc


def load_assignment(name: str, source_dir: Path, release_dir: Path | None) -> Assignment:
    """Load ``source_dir/name/*.ipynb`` (and the release copy, if present)."""
    folder = source_dir / name
    if not folder.is_dir():
        raise AssignmentError(
            f"no assignment {name!r}: {folder} does not exist (run from the repository root, "
            f"or pass --source-dir)"
        )
    notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if len(notebooks) != 1:
        raise AssignmentError(f"{folder} must hold exactly one notebook, found {len(notebooks)}")
    src_path = notebooks[0]
    src_nb = _read_nb(src_path)
    release_by_id: dict[str, str] = {}
    digest = hashlib.sha256(src_path.read_bytes())
    if release_dir is not None:
        rel_path = release_dir / name / src_path.name
        if rel_path.exists():
            digest.update(rel_path.read_bytes())
            for cell in _read_nb(rel_path)["cells"]:
                gid = _meta(cell).get("grade_id")
                if gid and gid not in release_by_id:
                    release_by_id[gid] = _source(cell)

    cells: list[SourceCell] = []
    tests: list[tuple[str, float]] = []
    protected: set[str] = set()
    hidden_lines: list[str] = []
    seen: set[str] = set()
    manual = 0.0
    for i, cell in enumerate(src_nb["cells"]):
        meta = _meta(cell)
        gid = meta.get("grade_id")
        text = _source(cell)
        if gid:
            if gid in seen:
                raise AssignmentError(f"{src_path}: duplicate grade_id {gid!r}")
            seen.add(gid)
        if cell["cell_type"] != "code":
            kind = "written" if gid and meta.get("solution") else "markdown"
            if kind == "written" and meta.get("grade"):
                manual += float(meta.get("points", 0) or 0)
            cells.append(SourceCell(i, cell["cell_type"], kind, gid, text,
                                    release_by_id.get(gid, strip_hidden(text)) if gid else text))
            continue
        points = float(meta.get("points", 0) or 0)
        if meta.get("solution"):
            kind = "answer"
            protected |= defined_names(text)
            if meta.get("grade") and points:
                tests.append((gid, points))  # an autograded answer cell: points if it runs
        elif meta.get("grade"):
            kind = "test"
            tests.append((gid, points))
            for region in HIDDEN_REGION.findall(text):
                for line in region.splitlines()[1:-1]:
                    line = line.strip()
                    if len(line) >= 12 and not line.startswith("#"):
                        hidden_lines.append(line)
        else:
            kind = "code"
        release = release_by_id.get(gid) if gid else None
        if release is None:
            release = strip_hidden(text)
        cells.append(SourceCell(i, "code", kind, gid, text, release, points))
    if not tests:
        raise AssignmentError(f"{src_path} has no graded test cells (nbgrader metadata)")
    return Assignment(
        name=name,
        notebook=src_path.name,
        cells=cells,
        tests=tests,
        protected=sorted(protected),
        digest=digest.hexdigest(),
        hidden_lines=hidden_lines,
        manual_points=manual,
    )


def reference_notebook(assignment: Assignment) -> dict:
    """A submission made of the solution's answer cells and the released test cells.

    Graded before a class to make sure the assignment, the checks and the sandbox work: it must
    earn every point.
    """
    cells = []
    for sc in assignment.cells:
        text = sc.source if sc.kind in ("answer", "written") else sc.release
        meta = {"nbgrader": {"grade_id": sc.grade_id}} if sc.grade_id else {}
        cell = {"cell_type": sc.cell_type, "metadata": meta, "source": text}
        if sc.cell_type == "code":
            cell.update(outputs=[], execution_count=None)
        cells.append(cell)
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def find_notebook(files: dict[str, bytes], assignment: Assignment) -> str:
    """The submitted notebook among a student's files: ``<nb>.ipynb``, ``<assignment>/<nb>.ipynb``,
    or the only notebook there is."""
    for candidate in (assignment.notebook, f"{assignment.name}/{assignment.notebook}"):
        if candidate in files:
            return candidate
    found = sorted(
        rel for rel in files
        if rel.endswith(".ipynb") and ".ipynb_checkpoints" not in rel.split("/")
    )
    if len(found) == 1:
        return found[0]
    if not found:
        raise SubmissionError(
            "missing", f"no notebook in the submission (expected {assignment.notebook})"
        )
    raise SubmissionError("missing", f"{len(found)} notebooks and none named {assignment.notebook}")


@dataclass
class Plan:
    """What the jail runs for one submission, plus what was decided before running.

    cells: the code cells in the order the learner's notebook has them, as
    ``{"kind": "answer" | "test" | "code", "key", "source"}``; a test cell is not run in the jail
    (``source`` empty) but carries ``targets``, the names the grader asks about there.
    """

    cells: list[dict]
    tampered: dict[str, str]  # grade_id -> one-line reason
    answers: dict[str, str]  # answer (and written) grade_id -> learner source
    markdown_before: list[dict] = field(default_factory=list)
    markdown_after: dict[int, list[dict]] = field(default_factory=dict)


def parse_submission(data: bytes) -> dict:
    """Parse notebook bytes (nbformat 4 JSON, checked structurally; fast, no nbformat import).

    Raises SubmissionError("malformed", ...) when it is not a notebook.
    """
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError("malformed", f"notebook is {len(data) // 2**20} MiB, over the limit")
    try:
        nb = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError("malformed", "not UTF-8 text (not a notebook)") from None
    except ValueError as exc:
        raise SubmissionError("malformed", f"not valid JSON ({exc})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError("malformed", "not a notebook: no list of cells")
    if nb.get("nbformat") != 4:
        raise SubmissionError("malformed", f"unsupported notebook format {nb.get('nbformat')!r}")
    for i, cell in enumerate(nb["cells"]):
        ok = (
            isinstance(cell, dict)
            and cell.get("cell_type") in ("code", "markdown", "raw")
            and isinstance(cell.get("source", ""), str | list)
            and isinstance(cell.get("metadata", {}), dict)
        )
        if ok and isinstance(cell.get("source"), list):
            ok = all(isinstance(s, str) for s in cell["source"])
        if not ok:
            raise SubmissionError("malformed", f"not a valid notebook: cell {i} is broken")
    return nb


def build_plan(assignment: Assignment, nb: dict) -> Plan:
    """Combine the source notebook with a parsed submission.

    The learner's notebook decides the order and holds their own cells (extra helpers and
    imports run exactly where they are, as in the notebook); read-only cells come from the
    source notebook, a read-only cell the learner deleted comes back where it was, and a deleted
    or edited test cell (or a deleted answer cell) is ``tampered``.
    """
    from course.grading.harness import targets

    by_gid = {sc.grade_id: sc for sc in assignment.cells if sc.grade_id}
    order = [sc.grade_id for sc in assignment.cells if sc.grade_id]
    cells: list[dict] = []
    tampered: dict[str, str] = {}
    answers: dict[str, str] = {}
    seen: set[str] = set()
    markdown_before: list[dict] = []
    markdown_after: dict[int, list[dict]] = {}
    releases = {normalize(sc.release): sc for sc in assignment.cells if sc.kind == "code"}

    def restore_missing(upto: int) -> None:
        """Put back the read-only code cells before position ``upto`` of the source."""
        for gid in order[:upto]:
            sc = by_gid[gid]
            if gid in seen or sc.kind != "code":
                continue
            seen.add(gid)
            cells.append({"kind": "code", "key": gid, "source": sc.source})

    for index, cell in enumerate(nb.get("cells", [])):
        if not isinstance(cell, dict):
            continue
        gid = _meta(cell).get("grade_id")
        gid = gid if isinstance(gid, str) else None
        sc = by_gid.get(gid) if gid is not None and gid not in seen else None
        if cell.get("cell_type") != "code":
            if sc is not None and sc.kind == "written":
                seen.add(gid)
                answers[gid] = _source(cell)
            md = {"cell_type": "markdown", "metadata": {"nbgrader": {"grade_id": gid}} if sc
                  else {}, "source": _source(cell)}
            (markdown_after.setdefault(len(cells) - 1, []) if cells else markdown_before).append(md)
            continue
        if sc is None:
            # the learner's own cell (or an unlocked demo cell): it runs as they wrote it
            key = f"cell-{index}"
            cells.append({"kind": "code", "key": key, "source": _source(cell)})
            release = releases.get(normalize(_source(cell)))
            if release is None:
                answers[key] = _source(cell)
            continue
        restore_missing(order.index(gid))
        seen.add(gid)
        if sc.kind == "answer":
            answers[gid] = _source(cell)
            cells.append({"kind": "answer", "key": gid, "source": answers[gid]})
        elif sc.kind == "test":
            if normalize(_source(cell)) != normalize(sc.release):
                tampered[gid] = f"test cell {gid} was edited"
            cells.append({"kind": "test", "key": gid, "source": "", "targets": targets(gid)})
        elif sc.kind == "code":
            cells.append({"kind": "code", "key": gid, "source": sc.source})
        else:  # a written-answer grade id on a code cell: the learner's code, run as written
            cells.append({"kind": "code", "key": f"cell-{index}", "source": _source(cell)})
    restore_missing(len(order))
    for sc in assignment.cells:
        if sc.grade_id and sc.grade_id not in seen:
            if sc.kind == "answer":
                tampered[sc.grade_id] = f"answer cell {sc.grade_id} was deleted"
            elif sc.kind == "test":
                tampered[sc.grade_id] = f"test cell {sc.grade_id} was deleted"
    return Plan(cells=cells, tampered=tampered, answers=answers,
                markdown_before=markdown_before, markdown_after=markdown_after)
