"""The course notebooks: solutions execute cleanly, follow the authoring conventions, and the
learner release leaks neither solutions nor hidden tests.

Conventions are described in docs/authoring.md.  Parametrized over every folder in solutions/.
"""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path

import pytest

from course import _nbtools

ROOT = _nbtools.REPO_ROOT
ASSIGNMENTS = _nbtools.assignments(ROOT)
EXPECTED = [
    "01-chain-rule",
    "02-gradient-checking",
    "03-linear-layer",
    "04-activations",
    "05-losses",
    "06-backprop-network",
    "07-learning-rate",
    "08-optimizers",
    "09-deep-networks",
    "10-generalization",
    "11-autograd",
    "12-capstone-digits",
]

SOLUTION_RE = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN_RE = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
CELL_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Test cells of exercises that legitimately have nothing to hide (the capstone is graded on the
# learner's trained model by the visible check alone).
NO_HIDDEN_OK = {"test_digits_model"}
# Answer cells that are not graded on their own: the capstone's parts of the learner's network
# (their functions, class, training loop and tuning), judged through the trained model.
UNGRADED_ANSWERS = {"own_functions", "own_network", "own_training", "own_tuning"}


def solution(name: str):
    return _nbtools.read(_nbtools.solution_path(name, ROOT))


def release(name: str):
    return _nbtools.read(_nbtools.release_path(name, ROOT))


def meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def test_assignment_folders_are_the_agreed_ones():
    assert ASSIGNMENTS, "no solutions/NN-topic/NN-topic.ipynb found"
    assert set(ASSIGNMENTS) <= set(EXPECTED), sorted(set(ASSIGNMENTS) - set(EXPECTED))
    # Every released folder has a source.
    released = sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir())
    assert set(released) <= set(ASSIGNMENTS), f"notebooks/ without solutions/: {released}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_is_stored_without_outputs(name):
    path = _nbtools.solution_path(name, ROOT)
    nb = solution(name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{name}: cell {cell.id} has stored outputs"
            assert cell.execution_count is None, f"{name}: cell {cell.id} has an execution count"
    assert path.read_text(encoding="utf-8") == _nbtools.dumps(_nbtools.normalize(nb)), (
        f"{path} is not in canonical form: run `backprop-course release`"
    )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_notebook_structure(name):
    nb = solution(name)
    cells = nb.cells
    ids = [c.get("id") for c in cells]
    assert len(set(ids)) == len(ids), f"{name}: duplicate cell ids"
    for i in ids:
        assert i and CELL_ID_RE.match(i), f"{name}: cell id {i!r} is not a meaningful id"

    intro = cells[0]
    assert intro.cell_type == "markdown" and intro.source.startswith("# "), "starts with a title"
    for phrase in ("What you will learn", "What you need", "Points"):
        assert phrase in intro.source, f"{name}: the intro must say '{phrase}'"
    assert any(c.cell_type == "markdown" and "## Summary" in c.source for c in cells), (
        f"{name}: no '## Summary' cell"
    )
    assert any("$" in c.source for c in cells if c.cell_type == "markdown"), "no LaTeX math"

    setup = next((c for c in cells if c.get("id") == "setup"), None)
    assert setup is not None and meta(setup).get("locked"), f"{name}: no locked 'setup' cell"
    assert "warnings" in setup.source and "ignore" in setup.source, (
        f"{name}: the setup cell must silence warnings (stderr zeroes a test cell)"
    )

    by_id = {c.get("id"): c for c in cells}
    answers = [c for c in cells if meta(c).get("solution") and not meta(c).get("grade")]
    tests = [c for c in cells if _nbtools.is_test_cell(c)]
    manual = [c for c in cells if _nbtools.is_manual_cell(c)]
    assert answers and tests, f"{name}: no graded exercises"

    for cell in _nbtools.nbgrader_cells(nb):
        m = meta(cell)
        assert m.get("grade_id") == cell.get("id"), f"{name}: grade_id != cell id ({cell.id})"
        assert m.get("schema_version") == 3
    for cell in answers:
        assert cell.cell_type == "code"
        assert SOLUTION_RE.search(cell.source), f"{name}: {cell.id} has no solution region"
        if cell.id in UNGRADED_ANSWERS:
            continue
        test = by_id.get(f"test_{cell.id}")
        assert test is not None and _nbtools.is_test_cell(test), (
            f"{name}: answer cell {cell.id} has no test cell test_{cell.id}"
        )
        if not cell.id.startswith("mc_") and cell.id != "buggy_gradient":
            # The release must show the signature and docstring above the stub.
            before = cell.source.split("### BEGIN SOLUTION")[0]
            assert "def " in before or "model" in before or cell.id == "digits_model", (
                f"{name}: {cell.id}: put the solution region inside the function"
            )
    for cell in tests:
        m = meta(cell)
        assert m.get("locked") and float(m.get("points", 0)) > 0, f"{name}: {cell.id} points"
        assert "BEGIN SOLUTION" not in cell.source
        if cell.id not in NO_HIDDEN_OK:
            assert HIDDEN_RE.search(cell.source), f"{name}: {cell.id} has no hidden tests"
        # A test cell never ends in a bare expression (nbgrader reads a number as partial
        # credit); a call such as check_x(f) is fine.
        tree = ast.parse(cell.source)
        last = tree.body[-1]
        assert not (isinstance(last, ast.Expr) and not isinstance(last.value, ast.Call)), (
            f"{name}: {cell.id} ends in a bare expression"
        )
        assert "sys.stderr" not in cell.source
    for cell in manual:
        assert cell.cell_type == "markdown", f"{name}: written answers are markdown cells"
        assert cell.id.startswith("written_")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_points_are_stated_in_the_notebook(name):
    """Each graded cell's points appear in the markdown just above it, and the intro's total
    matches the metadata."""
    nb = solution(name)
    pending_text = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not _nbtools.is_manual_cell(cell):
            pending_text += cell.source
            continue
        m = meta(cell)
        if m.get("grade"):
            pts = float(m["points"])
            pts_str = str(int(pts)) if pts == int(pts) else str(pts)
            unit = "point" if pts == 1 else "points"
            assert re.search(rf"\b{re.escape(pts_str)} {unit}\b", pending_text), (
                f"{name}: state '({pts_str} {unit})' in the markdown above {cell.id}"
            )
            pending_text = ""
    auto, manual = _nbtools.points(nb)
    total = auto + manual
    total_str = str(int(total)) if total == int(total) else str(total)
    assert re.search(rf"\b{total_str} points\b", nb.cells[0].source), (
        f"{name}: the intro must state the total, {total_str} points"
    )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_hides_solutions_and_hidden_tests(name):
    src, rel = solution(name), release(name)
    rel_text = _nbtools.release_path(name, ROOT).read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in rel_text, f"{name}: '{marker}' leaked into the learner notebook"
    rel_code = "\n".join(c.source for c in rel.cells)
    rel_by_id = {c.get("id"): c for c in rel.cells}
    src_by_id = {c.get("id"): c for c in src.cells}

    def lines(text: str) -> set[str]:
        return {ln.strip() for ln in text.splitlines() if ln.strip()}

    all_rel_lines = lines(rel_code)
    for cell in src.cells:
        secret = "".join(SOLUTION_RE.findall(cell.source) + HIDDEN_RE.findall(cell.source))
        if _nbtools.is_manual_cell(cell):
            secret = cell.source
        if not secret:
            continue
        public = lines(SOLUTION_RE.sub("", HIDDEN_RE.sub("", cell.source)))
        if _nbtools.is_manual_cell(cell):
            public = set()
        rel_lines = lines(rel_by_id[cell.id].source) if cell.id in rel_by_id else set()
        for line in lines(secret) - public:
            if line.startswith("#"):
                continue
            # Nothing secret in the same cell of the release; distinctive lines nowhere.
            assert line not in rel_lines, f"{name}: {cell.id} leaked {line!r}"
            if len(line) >= 24 and not line.startswith("import "):
                assert line not in all_rel_lines, f"{name}: leaked {line!r}"
    for cell in rel.cells:
        if meta(cell).get("solution") and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source, f"{name}: {cell.id} has no stub"
        if _nbtools.is_manual_cell(cell):
            assert cell.source.strip() == "YOUR ANSWER HERE"
        assert cell.get("id") in src_by_id, f"{name}: release cell {cell.get('id')} not in source"
    for cell in rel.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{name}: stored outputs"


def _execute(path: Path):
    from nbclient import NotebookClient

    nb = _nbtools.read(path)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_executes_cleanly(name):
    """Runs the solution top to bottom: no errors, no stderr, every check prints its line."""
    nb, _ = _execute(_nbtools.solution_path(name, ROOT))
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", f"{name}: {cell.id} raised {out.get('ename')}"
            text = out.get("text", "")
            assert not (out.output_type == "stream" and out.name == "stderr"), (
                f"{name}: {cell.id} wrote to stderr: {text[:300]}"
            )
        if _nbtools.is_test_cell(cell):
            kinds = {o.output_type for o in cell.outputs}
            assert "execute_result" not in kinds, f"{name}: {cell.id} ends in a value"
    # (how long each notebook takes is measured in benchmarks/notebook_bench.py, not asserted)
