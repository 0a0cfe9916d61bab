"""Notebook 10 (generalization): l2_penalty and early_stopping are judged against their
references, every named mistake is recognised, and hidden cases are fresh for every seed."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from answers import load

from course._diagnose import CheckFailure
from course.exercises import exercises, get
from course.exercises import nb10_generalization as nb
from course.gradcheck import numerical_gradient

ENTRIES = load("corpus", ["generalization"])
FUNCTIONS = exercises("10", kind="function")
SEEDS = (1, 2, 3, 77, 12345)


def _quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def test_the_notebook_items() -> None:
    items = exercises("10-generalization")
    assert [ex.grade_id for ex in items] == [
        "test_l2_penalty", "test_early_stopping", "test_mc_overfit", "test_mc_remedy",
        "test_mc_weight_decay",
    ]
    assert sum(ex.points for ex in items) == 9


@pytest.mark.parametrize("ex", FUNCTIONS, ids=lambda e: e.name)
def test_every_reference_passes(ex) -> None:
    assert _quiet(ex.failure, ex.reference) is None
    for seed in SEEDS:
        assert _quiet(ex.grade_failure, ex.reference, seed) is None, (ex.name, seed)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_corpus_entries_are_judged(entry) -> None:
    ex = get(entry.exercise)
    if entry.right:
        for seed in SEEDS[:3]:
            assert _quiet(ex.grade_failure, entry.fn, seed) is None
        return
    failure = _quiet(ex.failure, entry.fn)
    assert isinstance(failure, CheckFailure)
    assert (failure.output, failure.mistake) == (entry.output, entry.mistake), str(failure)


@pytest.mark.parametrize("ex", FUNCTIONS, ids=lambda e: e.name)
def test_every_named_mistake_is_recognised(ex) -> None:
    """Each Mistake of the exercise's Spec has a corpus entry that the check names."""
    tags = {m.tag for m in ex.spec.mistakes} - {"wrong_epoch"}  # the catch-all explanation
    recognised = {e.mistake for e in ENTRIES if e.exercise == ex.name and not e.right}
    assert tags <= recognised, sorted(tags - recognised)


def test_l2_gradient_is_the_numerical_gradient_of_the_penalty() -> None:
    r = np.random.default_rng(0)
    for shape in [(3, 4), (5,), (2, 3, 2)]:
        W = r.normal(size=shape)
        lam = 0.37
        penalty, dW = nb.l2_penalty(W, lam)
        numeric = numerical_gradient(lambda w, lam=lam: nb.l2_penalty(w, lam)[0], W.copy())
        assert np.allclose(dW, numeric, rtol=1e-6, atol=1e-9)
        assert np.isclose(penalty, lam / 2 * np.sum(W**2))


def test_early_stopping_examples() -> None:
    f = nb.early_stopping
    assert f([0.9, 0.7, 0.6, 0.62, 0.58, 0.61, 0.63, 0.64, 0.66, 0.7], 3) == (4, 7)
    assert f([0.5, 0.4, 0.3], 1) == (2, 2)              # never stops: runs to the end
    assert f([0.5, 0.5, 0.5], 2) == (0, 2)              # a tie is no improvement
    assert f([0.5, 0.6, 0.4], 1) == (0, 1)              # the later minimum is never seen
    assert f([1.0], 3) == (0, 0)


def test_hidden_cases_differ_per_seed() -> None:
    stop = get("early_stopping")
    curves = {s: [c.args["val_losses"] for c in stop.hidden(s)] for s in (1, 2)}
    visible = [c.args["val_losses"] for c in stop.visible()]
    assert curves[1] != curves[2] and not any(c in visible for c in curves[1])
    assert [c.args for c in stop.hidden(1)] == [c.args for c in stop.hidden(1)]
    l2 = get("l2_penalty")
    for a, b in zip(l2.hidden(1), l2.hidden(2), strict=True):
        assert a.args["W"].shape != b.args["W"].shape or not np.array_equal(
            a.args["W"], b.args["W"])


def test_hidden_stopping_cases_cover_every_branch() -> None:
    """For many seeds: a curve that never stops, and one whose global minimum comes after the
    stop (so looking ahead is caught on hidden cases too)."""
    for seed in range(40):
        cases = get("early_stopping").hidden(seed)
        ends = [c.expected[1] == len(c.args["val_losses"]) - 1 for c in cases]
        assert any(ends)
        ahead = [int(np.argmin(c.args["val_losses"])) != c.expected[0] for c in cases]
        assert any(ahead), seed
