"""Notebook helpers shared by the release command and the notebook tests (instructor side).

Nothing here is imported by the learner notebooks.  Heavy imports (nbformat) happen at call
time so that `import course` stays light.

- :func:`normalize` puts a notebook in the canonical stored form: no outputs, no execution
  counts, no volatile metadata, a fixed kernelspec.  Solutions and learner notebooks are both
  stored in this form, so regenerating them is byte-for-byte reproducible.
- :func:`dumps` / :func:`write` serialise exactly like nbformat (indent 1, sorted keys,
  trailing newline), so stock ``nbgrader generate_assignment`` output is already canonical.
- :func:`build` turns a compact cell script (see ``docs/authoring.md``) into a solution
  notebook with nbgrader metadata, for authors who prefer a text editor to the Jupyter
  "Create Assignment" toolbar.
- :func:`assignments` lists the assignment folders under ``solutions/``.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = "solutions"
RELEASE = "notebooks"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
NBGRADER_SCHEMA = 3

# Cell-level metadata keys that only record how a notebook was last run or viewed.
_VOLATILE_CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled", "jupyter", "tags")
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ASSIGNMENT = re.compile(r"^\d\d-[a-z0-9-]+$")


def assignments(root: Path | str = REPO_ROOT) -> list[str]:
    """Names of the assignments (``NN-topic``) that have a solution notebook, sorted."""
    src = Path(root) / SOLUTIONS
    if not src.is_dir():
        return []
    return sorted(
        d.name
        for d in src.iterdir()
        if d.is_dir() and _ASSIGNMENT.match(d.name) and (d / f"{d.name}.ipynb").is_file()
    )


def solution_path(name: str, root: Path | str = REPO_ROOT) -> Path:
    return Path(root) / SOLUTIONS / name / f"{name}.ipynb"


def release_path(name: str, root: Path | str = REPO_ROOT) -> Path:
    return Path(root) / RELEASE / name / f"{name}.ipynb"


def read(path: Path | str) -> Any:
    """Read a notebook (nbformat 4) without converting it."""
    import nbformat

    return nbformat.read(str(path), as_version=4)


def normalize(nb: Any) -> Any:
    """Return a copy of ``nb`` in canonical stored form.

    Clears outputs and execution counts, drops volatile cell metadata (timings, collapse and
    scroll state, tags), widget state and any notebook metadata other than the kernelspec,
    a minimal ``language_info`` and nbgrader's own keys.  Cell ids and nbgrader cell
    metadata are kept as they are.
    """
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, max(5, int(nb.get("nbformat_minor", 5)))
    meta = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    if "nbgrader" in nb.metadata:
        meta["nbgrader"] = nb.metadata["nbgrader"]
    nb.metadata = type(nb.metadata)(meta)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        if isinstance(cell.source, list):
            cell.source = "".join(cell.source)
    return nb


def dumps(nb: Any) -> str:
    """Serialise exactly as ``nbformat.write`` does (indent 1, sorted keys, final newline)."""
    import nbformat

    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def write(nb: Any, path: Path | str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(dumps(nb), encoding="utf-8")


def nbgrader_cells(nb: Any) -> list[Any]:
    """Cells that carry nbgrader metadata (answer, test, locked or manually graded cells)."""
    return [c for c in nb.cells if "nbgrader" in c.metadata]


def grade_id(cell: Any) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_test_cell(cell: Any) -> bool:
    """An auto-graded test cell: a locked, graded code cell that is not an answer."""
    m = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")


def is_manual_cell(cell: Any) -> bool:
    """A manually graded answer (graded and a solution: nbgrader cannot score it)."""
    m = cell.metadata.get("nbgrader", {})
    return bool(m.get("grade")) and bool(m.get("solution"))


def points(nb: Any) -> tuple[float, float]:
    """(auto-graded points, manually graded points) of a notebook."""
    auto = manual = 0.0
    for cell in nbgrader_cells(nb):
        m = cell.metadata["nbgrader"]
        if not m.get("grade"):
            continue
        if is_manual_cell(cell):
            manual += float(m.get("points", 0))
        else:
            auto += float(m.get("points", 0))
    return auto, manual


# --------------------------------------------------------------------------------------------
# Building a solution notebook from a compact cell script
# --------------------------------------------------------------------------------------------

_HEADER = re.compile(r"^=== (md|code) ([A-Za-z0-9_-]+)((?: [a-z]+(?:=\d+(?:\.\d+)?)?)*)\s*$")
_ROLES = {"answer", "tests", "manual", "locked", "plain"}


def _nbgrader_meta(role: str, cell_id: str, pts: float | None) -> dict[str, Any] | None:
    base = {"grade_id": cell_id, "schema_version": NBGRADER_SCHEMA, "task": False}
    if role == "answer":
        return {**base, "grade": False, "locked": False, "solution": True}
    if role == "tests":
        return {**base, "grade": True, "locked": True, "solution": False, "points": pts}
    if role == "manual":
        return {**base, "grade": True, "locked": False, "solution": True, "points": pts}
    if role == "locked":
        return {**base, "grade": False, "locked": True, "solution": False}
    return None


def build(script: str) -> Any:
    """Build a normalized solution notebook from a cell script.

    The script is a sequence of cells, each introduced by a header line::

        === md intro                       a markdown cell with id "intro"
        === code setup locked              read-only cell (nbgrader "locked")
        === code linear_forward answer     autograded answer (nbgrader "solution")
        === code test_linear_forward tests points=2    autograder tests
        === md written_chain_rule manual points=3      manually graded written answer
        === code demo_shapes               plain cell (no nbgrader metadata)

    The header's second word is the cell id and, for nbgrader cells, the grade id.
    Leading and trailing blank lines of each cell body are removed.
    """
    import nbformat

    cells = []
    header: re.Match[str] | None = None
    body: list[str] = []
    seen: set[str] = set()

    def flush() -> None:
        if header is None:
            if "".join(body).strip():
                raise ValueError("text before the first '=== md|code <id>' header")
            return
        kind, cell_id, flags = header.group(1), header.group(2), header.group(3).split()
        if cell_id in seen or not _CELL_ID.match(cell_id):
            raise ValueError(f"cell id {cell_id!r} is duplicated or not a valid nbformat id")
        seen.add(cell_id)
        role, pts = "plain", None
        for flag in flags:
            if flag.startswith("points="):
                pts = float(flag.split("=", 1)[1])
                pts = int(pts) if pts == int(pts) else pts
            elif flag in _ROLES:
                role = flag
            else:
                raise ValueError(f"cell {cell_id}: unknown flag {flag!r}")
        if (role in ("tests", "manual")) != (pts is not None):
            raise ValueError(f"cell {cell_id}: 'tests' and 'manual' cells (only) need points=N")
        source = "\n".join(body).strip("\n")
        if kind == "md":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
        cell.id = cell_id
        meta = _nbgrader_meta(role, cell_id, pts)
        if meta is not None:
            cell.metadata["nbgrader"] = meta
        cells.append(cell)

    for line in script.splitlines():
        m = _HEADER.match(line)
        if m:
            flush()
            header, body = m, []
        elif line.startswith("=== "):
            raise ValueError(f"malformed cell header: {line!r}")
        else:
            body.append(line)
    flush()
    nb = nbformat.v4.new_notebook(cells=cells)
    return normalize(nb)
