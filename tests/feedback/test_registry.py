"""The exercise registry (course/exercises/) is the one list of graded items, and its cases
are fair: what passes the visible check passes the hidden cases, unless it is hard-coded."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from course import _nbtools, checks
from course._diagnose import CheckFailure, NotDoneYet, Rng
from course.exercises import (
    EXAM_ENV,
    REGISTRY,
    Fn,
    answer_hash,
    exercises,
    get,
    notebooks,
)

FUNCTIONS = exercises(kind="function")
CHOICES = exercises(kind="choice")
SEEDS = (1, 2, 3, 12345)


def _graded_cells() -> dict[str, tuple[str, float, str]]:
    """grade_id -> (notebook, points, cell type) of every grade=True cell of the solutions."""
    out = {}
    for name in _nbtools.assignments():
        nb = json.loads(_nbtools.solution_path(name).read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("grade"):
                out[meta["grade_id"]] = (name, float(meta["points"]), cell["cell_type"])
    return out


def _quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = fn(*args)
    return result, out.getvalue()


# --- One list ------------------------------------------------------------------------------------
def test_every_graded_cell_is_in_the_registry_and_back() -> None:
    cells = _graded_cells()
    assert set(cells) == set(REGISTRY)
    for gid, (notebook, points, cell_type) in cells.items():
        ex = REGISTRY[gid]
        assert ex.notebook == notebook, gid
        assert float(ex.points) == points, gid
        assert (cell_type == "markdown") == (ex.kind == "written"), gid


def test_registry_order_follows_the_notebooks() -> None:
    cells = list(_graded_cells())
    assert list(REGISTRY) == cells
    assert notebooks() == _nbtools.assignments()


def test_lookup_by_grade_id_and_by_name() -> None:
    assert get("linear_backward") is get("test_linear_backward")
    assert get("MC_DW_SHAPE").kind == "choice"
    assert exercises("03") == exercises("03-linear-layer")
    with pytest.raises(KeyError):
        get("no_such_exercise")


def test_checks_facade_is_generated_from_the_registry() -> None:
    for ex in REGISTRY.values():
        if ex.kind in ("function", "model"):
            assert f"check_{ex.name}" in checks.__all__
            assert callable(getattr(checks, f"check_{ex.name}"))
    assert {"CheckFailure", "NotDoneYet", "check_choice", "grade_hidden"} <= set(checks.__all__)


# --- Function exercises --------------------------------------------------------------------------
@pytest.mark.parametrize("ex", FUNCTIONS, ids=lambda e: e.name)
def test_reference_passes_check_and_grade(ex) -> None:
    _, out = _quiet(ex.check, ex.reference)
    assert "all good" in out
    for seed in SEEDS:
        failure, out = _quiet(ex.grade_failure, ex.reference, seed)
        assert failure is None, f"{ex.name}, seed {seed}: {failure}"
        assert "hidden" in out


def _values(cases) -> list[np.ndarray]:
    out = []
    for case in cases:
        for value in (*case.args.values(), *case.kwargs.values()):
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                out.append(value)
    return out


@pytest.mark.parametrize("ex", FUNCTIONS, ids=lambda e: e.name)
def test_hidden_cases_are_fresh(ex) -> None:
    visible = ex.visible()
    a, b = ex.hidden(1), ex.hidden(2)
    assert len(a) == len(visible) == len(b)
    # the same seed gives the same cases; another seed, other values
    assert all(
        np.array_equal(x, y) for x, y in zip(_values(a), _values(ex.hidden(1)), strict=True)
    )
    for other in (b, visible):
        for x, y in zip(_values(a), _values(other), strict=False):
            assert x.shape != y.shape or not np.array_equal(x, y)
    # same tolerances, same float32 twin
    assert [c.float32 for c in a] == [c.float32 for c in visible]
    assert [c.tol for c in a] == [c.tol for c in visible]


def _as_key(value) -> object:
    if isinstance(value, np.ndarray):
        return ("a", value.shape, value.dtype.str, value.tobytes())
    if isinstance(value, Rng):
        value = np.random.default_rng(value.seed)
    if isinstance(value, np.random.Generator):
        return ("g", repr(value.bit_generator.state))
    if isinstance(value, Fn):
        return ("f", repr(value))
    return ("v", repr(value))


@pytest.mark.parametrize("ex", FUNCTIONS, ids=lambda e: e.name)
def test_a_hard_coded_answer_passes_check_and_fails_grade(ex) -> None:
    table = {
        tuple(_as_key(v) for v in (*c.args.values(), *c.kwargs.values())): c for c in ex.visible()
    }

    def lookup(*args, **kwargs):
        key = tuple(_as_key(v) for v in (*args, *kwargs.values()))
        if key not in table:
            return None
        case = table[key]
        expected = [
            e.astype(np.float32) if case.float32 and getattr(e, "dtype", None) == np.float64 else e
            for e in case.expected
        ]
        if ex.name == "two_layer_net":
            return expected[0], dict(zip(("W1", "b1", "W2", "b2"), expected[1:], strict=True))
        if ex.spec.single:
            return expected[0]
        return tuple(expected)

    _, out = _quiet(ex.check, lookup)
    assert "all good" in out
    failure, _ = _quiet(ex.grade_failure, lookup, 7)
    assert failure is not None


def test_a_hidden_failure_shows_no_hidden_input() -> None:
    def linear_backward(dout, x, W, b):  # right on the visible cases only
        if x.shape in [(4, 3), (6, 2), (3, 5), (5, 4)] and dout.shape[1] in (5, 7, 4, 2):
            return dout @ W.T, x.T @ dout, dout.sum(axis=0)
        return dout @ W.T, x.T @ dout / x.shape[0], dout.sum(axis=0)

    ex = get("linear_backward")
    _quiet(ex.check, linear_backward)
    failure, _ = _quiet(ex.grade_failure, linear_backward, 3)
    assert isinstance(failure, CheckFailure)
    message = str(failure)
    assert "hidden" in message and "tested with" not in message and "expected" not in message
    assert failure.output == "dW" and failure.mistake == "batch_size"


def test_grade_hidden_runs_in_a_notebook_cell(capsys) -> None:
    checks.grade_hidden("test_linear_forward", get("linear_forward").reference)
    checks.grade_hidden("test_mc_dw_shape", "c")
    out = capsys.readouterr()
    assert out.err == "" and "hidden" in out.out and "right" in out.out
    with pytest.raises(CheckFailure):
        checks.grade_hidden("test_mc_dw_shape", "a")


# --- Choices -------------------------------------------------------------------------------------
def _right_letter(ex) -> str:
    right = [c for c in ex.choices if answer_hash(ex.grade_id, c) == ex.answer_hash]
    assert len(right) == 1, ex.grade_id
    return right[0]


@pytest.mark.parametrize("ex", CHOICES, ids=lambda e: e.name)
def test_choice_feedback(ex, monkeypatch) -> None:
    monkeypatch.delenv(EXAM_ENV, raising=False)
    right = _right_letter(ex)
    assert right not in ex.explanations
    _, out = _quiet(ex.check, right)
    assert "right" in out
    _, out = _quiet(ex.grade, right, 0)
    assert "right" in out
    for letter in ex.choices:
        if letter == right:
            continue
        explanation = ex.explanations[letter]
        assert explanation and "\n" not in explanation
        for judge in (ex.failure, lambda a: ex.grade_failure(a, 0)):
            failure, _ = _quiet(judge, letter)
            assert isinstance(failure, CheckFailure)
            assert explanation in str(failure) and failure.mistake == "wrong_choice"


@pytest.mark.parametrize("ex", CHOICES, ids=lambda e: e.name)
def test_choice_stores_no_answer(ex) -> None:
    assert len(ex.answer_hash) == 64
    assert all(len(text) > 20 for text in ex.explanations.values())


def test_exam_mode_only_records(monkeypatch) -> None:
    ex = get("MC_DW_SHAPE")
    monkeypatch.setenv(EXAM_ENV, "1")
    for letter in ex.choices:
        failure, out = _quiet(ex.failure, letter)
        assert failure is None and "recorded" in out and "right" not in out
    failure, _ = _quiet(ex.failure, "e")
    assert failure is not None and failure.mistake == "invalid_choice"
    with pytest.raises(CheckFailure):
        _quiet(ex.grade, "a", 0)  # grading still judges


def test_choice_rejects_what_is_not_a_plain_letter(monkeypatch) -> None:
    monkeypatch.delenv(EXAM_ENV, raising=False)

    class Always(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    ex = get("MC_DW_SHAPE")
    for answer in (Always("c"), 3, "C", " c", ["c"]):
        failure, _ = _quiet(ex.failure, answer)
        assert isinstance(failure, CheckFailure), answer
    for answer in (None, ""):
        failure, _ = _quiet(ex.failure, answer)
        assert isinstance(failure, NotDoneYet)


# --- Written and model ---------------------------------------------------------------------------
def test_written_items_are_graded_by_hand() -> None:
    written = exercises(kind="written")
    assert {ex.grade_id for ex in written} == {
        gid for gid, (_, _, kind) in _graded_cells().items() if kind == "markdown"
    }
    for ex in written:
        assert ex.name is None and ex.points > 0


def test_model_item() -> None:
    ex = get("digits_model")
    assert ex.kind == "model" and ex.grade_id == "test_digits_model"
    failure, _ = _quiet(ex.failure, object())
    assert failure is not None and failure.mistake == "not_a_model"
