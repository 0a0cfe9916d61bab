"""Issue 12: every graded item gives feedback, and the progress view lists every graded item.

- Multiple choice (and notebook 02's BUGGY_GRADIENT): one line, right or the misconception
  behind the wrong letter; with BACKPROP_COURSE_EXAM=1 only "recorded"; grading still judges.
- The progress view: every item with its points (written answers graded by the instructor),
  a bare show_progress() in a notebook, the capstone notebook, exit status, a closed pipe.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import ROOT

import course
from course._diagnose import CheckFailure
from course.checks import check_choice, grade_hidden
from course.cli import main as cli_main
from course.exercises import EXAM_ENV, answer_hash, exercises
from course.progress import (
    ANSWERED,
    BY_INSTRUCTOR,
    FAIL,
    NOT_CHECKED,
    NOT_STARTED,
    PASS,
    check_progress,
)

CHOICES = exercises(kind="choice")



def _right(ex) -> str:
    return next(c for c in ex.choices if answer_hash(ex.grade_id, c) == ex.answer_hash)


def test_buggy_gradient_is_a_choice_with_feedback() -> None:
    assert "BUGGY_GRADIENT" in {ex.name for ex in CHOICES}


@pytest.mark.parametrize("ex", CHOICES, ids=lambda ex: ex.name)
def test_a_choice_prints_one_line(ex, capsys, monkeypatch) -> None:
    monkeypatch.delenv(EXAM_ENV, raising=False)
    right = _right(ex)
    check_choice(ex.name, right)
    out = capsys.readouterr()
    assert out.out == f'{ex.name} = "{right}": right.\n' and out.err == ""
    for letter in ex.choices:
        if letter == right:
            continue
        with pytest.raises(CheckFailure) as info:
            check_choice(ex.name, letter)
        message = str(info.value)
        assert len(message.splitlines()) == 1, message
        assert message.startswith(f'{ex.name} = "{letter}" is not right: ')
        assert ex.explanations[letter] in message
        assert right not in message.split(": ", 1)[0]


@pytest.mark.parametrize("ex", CHOICES[:3] + CHOICES[-2:], ids=lambda ex: ex.name)
def test_exam_mode_records_without_feedback_and_grading_still_judges(
    ex, capsys, monkeypatch
) -> None:
    monkeypatch.setenv(EXAM_ENV, "1")
    right = _right(ex)
    wrong = next(c for c in ex.choices if c != right)
    for letter in (right, wrong):
        check_choice(ex.name, letter)  # no exception, whatever the letter
        assert capsys.readouterr().out == (
            f'{ex.name} = "{letter}": recorded (no feedback during an exam).\n'
        )
    grade_hidden(ex.grade_id, right, seed=1)
    with pytest.raises(CheckFailure):
        grade_hidden(ex.grade_id, wrong, seed=1)
    row = check_progress({ex.name: right}, notebook=ex.notebook[:2])
    assert next(r for r in row.rows if r.exercise == ex.name).status == ANSWERED


@pytest.mark.skipif(not (ROOT / "solutions").is_dir(), reason="no solutions/ folder")
def test_every_choice_cell_calls_its_check() -> None:
    """The visible test cell of every choice prints its line: check_choice(NAME, NAME)."""
    cells = {}
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id:
                cells[grade_id] = "".join(cell["source"])
    for ex in CHOICES:
        assert ex.grade_id in cells, f"{ex.grade_id}: no graded cell in solutions/"
        assert f'check_choice("{ex.name}", {ex.name})' in cells[ex.grade_id], ex.grade_id


def test_written_items_are_listed_with_points() -> None:
    result = check_progress({})
    written = [r for r in result.rows if r.kind == "written"]
    assert written and all(r.status == BY_INSTRUCTOR and r.points > 0 for r in written)
    assert "graded by your instructor" in result.summary()
    kinds = {r.kind for r in result.rows}
    assert kinds == {"function", "model", "choice", "written"}
    assert sum(r.points for r in result.rows) == sum(ex.points for ex in exercises())


def test_a_wrong_choice_shows_in_progress_with_its_explanation() -> None:
    ex = next(ex for ex in CHOICES if ex.notebook.startswith("03"))
    wrong = next(c for c in ex.choices if c != _right(ex))
    row = next(r for r in check_progress({ex.name: wrong}, "03").rows if r.exercise == ex.name)
    assert row.status == FAIL and row.detail.startswith(f'"{wrong}" is not right')
    row = next(r for r in check_progress({ex.name: _right(ex)}, "03").rows if r.exercise == ex.name)
    assert row.status == PASS and row.points == ex.points


_KERNEL = """
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
result = shell.run_cell(
    "from course.checks import check_relu_forward\\n"
    "def relu_forward(x):\\n    return x * (x > 0)\\n"
    "MC_DEAD_RELU = None\\n"
    "p = show_progress()\\n"
)
assert result.success, result.error_in_exec
p = shell.user_ns["p"]
print("NOTEBOOKS", sorted({r.notebook for r in p.rows}))
print("STATUS", p.status("relu_forward"), "|", p.status("MC_DEAD_RELU"))
"""


def test_bare_show_progress_in_a_notebook() -> None:
    """A notebook's setup cell imports course.checks (in a fresh kernel); show_progress() then
    works without an import of its own and shows this notebook's items."""
    pytest.importorskip("IPython")
    run = subprocess.run(
        [sys.executable, "-c", _KERNEL], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert "NOTEBOOKS ['04-activations']" in run.stdout
    assert f"STATUS {PASS} | {NOT_STARTED}" in run.stdout
    assert "Other notebooks" in run.stdout


def test_show_progress_is_exported_by_checks() -> None:
    from course import checks

    assert "show_progress" in checks.__all__


def _nb(cells: list[str]) -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
             "source": src}
            for src in cells
        ],
    }


def test_cli_on_the_capstone_notebook_alone(tmp_path, capsys) -> None:
    capstone = next(ex for ex in exercises(kind="model"))
    path = tmp_path / f"{capstone.notebook}.ipynb"
    path.write_text(json.dumps(_nb(["import numpy as np", "model = None"])))
    assert cli_main(["progress", str(path)]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines()[3:] if line.strip()]
    assert rows and all(line.startswith(capstone.notebook) for line in rows), out
    model_row = next(line for line in rows if capstone.name in line)
    assert NOT_CHECKED in model_row and "train it in the notebook" in model_row
    n_items = len(exercises(capstone.notebook))
    assert out.splitlines()[0].startswith(f"Progress: 0 of {n_items} exercises pass")


def test_cli_exit_status_is_1_when_something_fails(tmp_path, capsys) -> None:
    nb = _nb(["def linear_forward(x, W, b):\n    return x @ W"])
    (tmp_path / "03-linear-layer.ipynb").write_text(json.dumps(nb))
    assert cli_main(["progress", str(tmp_path / "03-linear-layer.ipynb")]) == 1
    nb = _nb(["def linear_forward(x, W, b):\n    return x @ W + b"])
    (tmp_path / "03-linear-layer.ipynb").write_text(json.dumps(nb))
    assert cli_main(["progress", str(tmp_path / "03-linear-layer.ipynb")]) == 0
    capsys.readouterr()


def test_cli_closed_pipe_is_quiet(tmp_path) -> None:
    nb = _nb([f"def {name}(*a):\n    raise NotImplementedError()" for name in ("linear_forward",)])
    (tmp_path / "03-linear-layer.ipynb").write_text(json.dumps(nb))
    proc = subprocess.Popen(
        [sys.executable, "-m", "course.cli", "progress", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    proc.stdout.close()  # like `| head` that has already gone
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_course_functions_imported_into_a_notebook_do_not_make_it_that_notebook() -> None:
    from course.progress import _present

    assert _present({"relu_forward": course.relu_forward}) == []
    assert _present({"relu_forward": lambda x: x}) == ["04-activations"]
