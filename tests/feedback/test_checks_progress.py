"""The progress view: pass / fail / not started per exercise, from a namespace, the caller's
globals, an IPython session, or learner notebooks on disk (the CLI)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support import ROOT

import course
from course import progress
from course.cli import main as cli_main
from course.progress import (
    BY_INSTRUCTOR,
    FAIL,
    NOT_CHECKED,
    NOT_STARTED,
    PASS,
    check_progress,
    show_progress,
)

# Picked up by show_progress() from the caller's globals (outside IPython).
linear_forward = course.linear_forward


def _wrong_linear_backward(dout, x, W, b):
    return dout @ W.T, x.T @ dout / x.shape[0], dout.sum(axis=0)


def _unfilled(*args):
    raise NotImplementedError()


def test_statuses_from_a_namespace():
    ns = {
        "linear_forward": course.linear_forward,
        "linear_backward": _wrong_linear_backward,
        "relu_forward": _unfilled,
        "relu_backward": course.relu_backward,
    }
    result = check_progress(ns)
    assert len(result.rows) == sum(len(v) for v in progress.ITEMS.values())
    assert result.status("linear_forward") == PASS
    assert result.status("linear_backward") == FAIL
    assert result.status("relu_forward") == NOT_STARTED
    assert result.status("relu_backward") == PASS
    assert result.status("adam_step") == NOT_STARTED
    row = next(r for r in result.rows if r.exercise == "linear_backward")
    assert row.detail.startswith("dW has the right shape")
    manual = sum(r.status == BY_INSTRUCTOR for r in result.rows)
    assert result.counts == {
        PASS: 2,
        FAIL: 1,
        NOT_STARTED: len(result.rows) - 3 - manual,
        BY_INSTRUCTOR: manual,
    }
    auto = len(result.rows) - manual
    assert result.summary().startswith(f"Progress: 2 of {auto} exercises pass, 1 fails")


def test_text_and_html_tables():
    result = check_progress({"linear_forward": course.linear_forward}, notebook="03")
    text = str(result)
    assert text.splitlines()[0] == "Progress: 1 of 5 exercises pass, 4 not started; 2 of 9 points"
    assert "03-linear-layer  linear_forward        2  pass" in text
    html = result._repr_html_()
    assert html.count("<tr>") == 6 and "&#10003; pass" in html and "not started" in html
    assert result.as_dicts()[0] == {
        "notebook": "03-linear-layer",
        "exercise": "linear_forward",
        "status": PASS,
        "detail": result.rows[0].detail,
        "kind": "function",
        "points": 2,
    }


@pytest.mark.parametrize(
    "key", ["03", 3, "3", "03-linear-layer", "linear-layer", "03-linear-layer.ipynb"]
)
def test_notebook_filter(key):
    result = check_progress({}, notebook=key)
    assert [r.exercise for r in result.rows] == [
        "linear_forward",
        "MC_DW_ENTRY",
        "linear_backward",
        "MC_DW_SHAPE",
        "MC_DB_SUM",
    ]


def test_unknown_notebook_is_a_clear_error():
    with pytest.raises(ValueError, match="no notebook called 'attention'"):
        check_progress({}, notebook="attention")


def test_show_progress_reads_the_callers_globals(capsys):
    result = show_progress(notebook="03")
    assert result.status("linear_forward") == PASS  # the module-level name above
    assert result.status("linear_backward") == NOT_STARTED
    out = capsys.readouterr()
    assert out.out.startswith("Progress: 1 of 5 exercises pass") and out.err == ""


def test_show_progress_in_ipython_uses_the_user_namespace(capsys):
    shell_mod = pytest.importorskip("IPython.core.interactiveshell")
    shell = shell_mod.InteractiveShell.instance()
    try:
        shell.run_cell(
            "import course\n"
            "def relu_forward(x):\n    return course.relu_forward(x)\n"
            "def relu_backward(dout, x):\n    raise NotImplementedError()\n"
            "from course.progress import show_progress\n"
            "p = show_progress(notebook='04')\n"
        )
        result = shell.user_ns["p"]
        assert result.status("relu_forward") == PASS
        assert result.status("relu_backward") == NOT_STARTED
        assert result._skip_display  # the returned object will not be shown a second time
        out = capsys.readouterr().out
        assert out.count("Progress: 1 of 8 exercises pass") == 1
    finally:
        shell_mod.InteractiveShell.clear_instance()


def test_digits_model_rows():
    bad_shape = {"digits_model": lambda x: np.zeros((len(x), 3))}
    row = check_progress(bad_shape, notebook="12").rows[0]
    assert row.status == FAIL and "3 scores per image" in row.detail
    # A `model` variable from another notebook (here a 2-feature model) is not a digits model.
    other = {"model": course.mlp([2, 8, 3], rng=0)}
    row = check_progress(other, notebook="12").rows[0]
    assert row.status == NOT_STARTED
    assert check_progress({}, notebook="12").rows[0].status == NOT_STARTED


def _notebook(cells: list[str]) -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": src,
            }
            for src in cells
        ]
        + [{"cell_type": "markdown", "metadata": {}, "source": "# text"}],
    }


@pytest.fixture
def learner_dir(tmp_path):
    nb03 = _notebook(
        [
            "%matplotlib inline\nimport numpy as np\n"
            "from course.checks import check_linear_forward",
            "def linear_forward(x, W, b):\n    return x @ W + b",
            "check_linear_forward(linear_forward)\nraise SystemExit('must not run')",
            "def linear_backward(dout, x, W, b):\n    return dout @ W.T, x.T @ dout / len(x), "
            "dout.sum(axis=0)",
            "open('SHOULD_NOT_EXIST', 'w').write('side effect')",
        ]
    )
    nb04 = _notebook(
        [
            "def relu_forward(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
            "ANSWER = 'dW'\nthis is not python",
        ]
    )
    (tmp_path / "03-linear-layer").mkdir()
    (tmp_path / "03-linear-layer" / "03-linear-layer.ipynb").write_text(json.dumps(nb03))
    (tmp_path / "04-activations.ipynb").write_text(json.dumps(nb04))
    (tmp_path / "unrelated.ipynb").write_text(json.dumps(_notebook(["x = 1"])))
    nb12 = _notebook(["import course", "model = course.mlp([64, 10])"])
    (tmp_path / "12-capstone-digits.ipynb").write_text(json.dumps(nb12))
    return tmp_path


def test_cli_reads_definitions_only(learner_dir, capsys, monkeypatch):
    monkeypatch.chdir(learner_dir)
    assert cli_main(["progress", str(learner_dir)]) == 1  # linear_backward fails
    out = capsys.readouterr().out
    assert not (learner_dir / "SHOULD_NOT_EXIST").exists()
    lines = {line.split()[1]: line for line in out.splitlines()[3:]}
    assert " pass " in lines["linear_forward"]
    assert " fail " in lines["linear_backward"] and "dW" in lines["linear_backward"]
    assert "not started" in lines["relu_forward"]
    assert "notebook not found" in lines["adam_step"]
    assert NOT_CHECKED in lines["digits_model"]


def test_cli_json_and_notebook_filter(learner_dir, capsys):
    assert cli_main(["progress", str(learner_dir), "--notebook", "3", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(e["exercise"], e["status"]) for e in data["exercises"]] == [
        ("linear_forward", PASS),
        ("MC_DW_ENTRY", NOT_STARTED),
        ("linear_backward", FAIL),
        ("MC_DW_SHAPE", NOT_STARTED),
        ("MC_DB_SUM", NOT_STARTED),
    ]


def test_cli_without_notebooks(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["progress"]) == 2
    assert "no course notebooks found" in capsys.readouterr().out





@pytest.mark.skipif(not (ROOT / "solutions").is_dir(), reason="no solutions/ folder")
def test_every_official_solution_passes_its_check(capsys):
    """The checks accept the instructor solutions; the untouched learner notebooks pass none."""
    assert cli_main(["progress", str(ROOT / "solutions"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    statuses = {e["exercise"]: e["status"] for e in data["exercises"]}
    assert statuses.pop("digits_model") == NOT_CHECKED
    assert BY_INSTRUCTOR in statuses.values()  # the written answers
    graded = {k: v for k, v in statuses.items() if v != BY_INSTRUCTOR}
    assert graded and set(graded.values()) == {PASS}, graded
    if (ROOT / "notebooks").is_dir():
        assert cli_main(["progress", str(ROOT / "notebooks"), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert not any(e["status"] == PASS for e in data["exercises"])
