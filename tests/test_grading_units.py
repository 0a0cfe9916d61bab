"""Fast tests of the grading pieces that need no sandbox: parsing, plans, redaction, zips."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest

from course.grading import assignment as A
from course.grading import feedback, runner, worker

ROOT = Path(__file__).resolve().parents[1]
NAME = "03-linear-layer"


@pytest.fixture(scope="module")
def spec() -> A.Assignment:
    return A.load_assignment(NAME, ROOT / "solutions", ROOT / "notebooks")


@pytest.fixture(scope="module")
def release() -> dict:
    return json.loads((ROOT / "notebooks" / NAME / f"{NAME}.ipynb").read_text())


def test_assignment_points_match_the_notebook_metadata(spec):
    assert spec.tests == [("test_linear_forward", 2.0), ("test_linear_backward", 4.0),
                          ("test_mc_dw_shape", 1.0), ("test_mc_db_sum", 1.0)]
    assert spec.max_score == 8.0
    assert {"linear_forward", "linear_backward", "MC_DW_SHAPE", "MC_DB_SUM"} <= set(
        spec.protected)
    # hidden-test source is known, so feedback can be scrubbed of it
    assert any("_course.linear_forward" in line for line in spec.hidden_lines)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"{not json", "malformed"),
        (b"\xff\xfe\x00", "malformed"),
        (b'{"cells": "nope", "nbformat": 4}', "malformed"),
        (b'{"cells": [], "nbformat": 3}', "malformed"),
        (b'{"cells": [{"cell_type": "code", "source": 7}], "nbformat": 4}', "malformed"),
    ],
)
def test_broken_notebooks_are_malformed(data, status):
    with pytest.raises(A.SubmissionError) as info:
        A.parse_submission(data)
    assert info.value.status == status


def test_plan_uses_source_tests_and_learner_answers(spec, release):
    plan = A.build_plan(spec, release)
    assert plan.tampered == {}
    kinds = {c["key"]: c["kind"] for c in plan.cells}
    assert kinds["linear_forward"] == "answer" and kinds["test_linear_forward"] == "test"
    test_src = next(c["source"] for c in plan.cells if c["key"] == "test_linear_forward")
    assert "### BEGIN HIDDEN TESTS" in test_src  # the hidden tests are run ...
    answer = next(c["source"] for c in plan.cells if c["key"] == "linear_forward")
    assert "raise NotImplementedError" in answer  # ... against the learner's own cell


def test_plan_detects_deleted_and_edited_cells(spec, release):
    nb = copy.deepcopy(release)
    gid = lambda c: c.get("metadata", {}).get("nbgrader", {}).get("grade_id")  # noqa: E731
    nb["cells"] = [c for c in nb["cells"] if gid(c) not in ("test_linear_backward", "mc_db_sum")]
    for cell in nb["cells"]:
        if gid(cell) == "test_mc_dw_shape":
            cell["source"] = "pass\n"
        if gid(cell) == "test_linear_forward":
            cell["source"] = "".join(cell["source"]) + "\n\n   "  # whitespace: not an edit
    plan = A.build_plan(spec, nb)
    assert plan.tampered == {
        "test_linear_backward": "test cell test_linear_backward was deleted",
        "test_mc_dw_shape": "test cell test_mc_dw_shape was edited",
        "mc_db_sum": "answer cell mc_db_sum was deleted",
    }


def test_hidden_regions_split_and_line_numbers_kept():
    src = "check(f)\n### BEGIN HIDDEN TESTS\nassert secret(1)\n### END HIDDEN TESTS\nprint('x')"
    chunks, hidden = worker._split_chunks(src)
    assert [h for _, h in chunks] == [False, True, False]
    assert hidden == {2, 3, 4}
    # padding keeps the line numbers of the whole cell
    assert chunks[1][0].splitlines()[2] == "assert secret(1)"
    assert A.strip_hidden(src) == "check(f)\nprint('x')"


def test_redact_drops_lines_with_hidden_source():
    text = "ok line\nAssertionError at assert secret_value(42) == 7\nlast"
    assert feedback.redact(text, ["assert secret_value(42) == 7"]) == "ok line\nlast"


def test_magics_become_pass():
    assert worker.strip_magics("%matplotlib inline\nx = 1\n  !ls") == (
        "pass  # %matplotlib inline\nx = 1\n  pass  # !ls")
    assert worker.strip_magics("%%time\nx = 1") == ""


def test_zip_layouts_and_path_escape(tmp_path):
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export/alice/03-linear-layer.ipynb", "{}")
        zf.writestr("export/bob/03-linear-layer/03-linear-layer.ipynb", "{}")
        zf.writestr("export/carol/", "")
        zf.writestr("export/../evil.ipynb", "{}")
        zf.writestr("/abs/evil.ipynb", "{}")
        zf.writestr("__MACOSX/export/alice/._x", "")
    subs = runner.read_submissions(archive, NAME)
    assert [s.student_id for s in subs] == ["alice", "bob", "carol"]
    assert list(subs[0].files) == ["03-linear-layer.ipynb"]
    assert list(subs[1].files) == ["03-linear-layer/03-linear-layer.ipynb"]
    assert subs[2].files == {}


def test_submission_digest_depends_on_content_only():
    a = runner.Submission("a", {"n.ipynb": b"1"})
    b = runner.Submission("b", {"n.ipynb": b"1"})
    c = runner.Submission("a", {"n.ipynb": b"2"})
    assert a.digest() == b.digest() != c.digest()
