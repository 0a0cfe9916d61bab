"""The checks survive anything a learner's function can do, stay quiet on stderr,
and check_digits_model judges a trained model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import course
from course import checks
from course._diagnose import CheckFailure, NotDoneYet
from course.exercises import exercises, get

CHECKS = [f"check_{ex.name}" for ex in exercises(kind="function")]


def reference(check_name: str):
    """The reference of an exercise: course's own, or the registry's for the notebook-only
    exercises (neuron_backward, two_layer_net, gradient_descent)."""
    return get(check_name[len("check_") :]).reference


def _raise_value_error(*args, **kwargs):
    raise ValueError("operands could not be broadcast together")


def _raise_zero_division(*args, **kwargs):
    return 1 / 0


def _generator(*args, **kwargs):
    yield 1


def _overflow(*args, **kwargs):
    return np.exp(np.full((3, 3), 1e4)) - np.exp(np.full((3, 3), 1e4))


def _deprecated(*args, **kwargs):
    warnings.warn("old API", DeprecationWarning, stacklevel=1)
    return np.zeros(3)


NASTY = {
    "none": lambda *a, **k: None,
    "empty_list": lambda *a, **k: [],
    "float": lambda *a, **k: 1.5,
    "int": lambda *a, **k: 0,
    "string": lambda *a, **k: "dx",
    "dict": lambda *a, **k: {"dx": 1},
    "five_tuple": lambda *a, **k: (1, 2, 3, 4, 5),
    "tuple_of_none": lambda *a, **k: (None, None, None),
    "nan_array": lambda *a, **k: np.full((4, 5), np.nan),
    "object_array": lambda *a, **k: np.array([object(), object()]),
    "complex": lambda *a, **k: np.ones(3, dtype=complex),
    "generator": _generator,
    "raises_value_error": _raise_value_error,
    "zero_division": _raise_zero_division,
    "overflow_warning": _overflow,
    "deprecation_warning": _deprecated,
    "wrong_arity": lambda x: x,
}


@pytest.mark.parametrize("check_name", CHECKS)
@pytest.mark.parametrize("nasty", sorted(NASTY))
def test_nasty_learner_functions_fail_cleanly(check_name, nasty, capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(AssertionError) as info:
            getattr(checks, check_name)(NASTY[nasty])
    assert isinstance(info.value, CheckFailure)
    assert info.value.__suppress_context__ or info.value.__context__ is None
    assert str(info.value).strip()
    assert caught == []
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


@pytest.mark.parametrize("check_name", CHECKS)
def test_not_a_function(check_name):
    with pytest.raises(AssertionError, match="needs your function itself"):
        getattr(checks, check_name)(np.zeros(3))


@pytest.mark.parametrize("check_name", CHECKS)
def test_unfilled_exercise_says_not_done(check_name):
    def unfilled(*args, **kwargs):
        # YOUR CODE HERE
        raise NotImplementedError()

    with pytest.raises(NotDoneYet, match="not done yet"):
        getattr(checks, check_name)(unfilled)


@pytest.mark.parametrize("check_name", CHECKS)
def test_reference_passes_with_one_line(check_name, capsys):
    # (how fast each check runs is measured in benchmarks/checks_bench.py, not asserted here)
    fn = reference(check_name)
    getattr(checks, check_name)(fn)  # first call builds (and caches) the test inputs
    for _ in range(3):
        getattr(checks, check_name)(fn)
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.count("all good") == 4 and len(out.out.strip().splitlines()) == 4


def test_a_mutating_function_does_not_corrupt_later_checks():
    def in_place(dout, x, W, b):
        dout *= 2
        x[:] = 0
        W += 1
        return dout @ W.T, x.T @ dout, dout.sum(axis=0)

    with pytest.raises(AssertionError, match="changed its input"):
        checks.check_linear_backward(in_place)
    checks.check_linear_backward(course.linear_backward)


def test_exception_message_quotes_the_learner_line():
    def linear_forward(x, W, b):
        out = W @ x
        return out + b

    with pytest.raises(AssertionError) as info:
        checks.check_linear_forward(linear_forward)
    message = str(info.value)
    assert "raised ValueError" in message
    assert "line 2 of linear_forward: out = W @ x" in message
    assert "x (4, 3), W (3, 5), b (5,)" in message


def test_shapes_all_differ_so_transposes_cannot_hide():
    for case in get("linear_backward").visible():
        n, d, m = case.sizes["N"], case.sizes["D"], case.sizes["M"]
        assert len({n, d, m}) == 3
    for case in get("two_layer_net").visible():
        assert len(set(case.sizes.values())) == 4
        assert case.extra["min_abs_pre"] > 1e-3  # no ReLU kink within reach of h


def test_backward_expectations_are_numerical_and_agree_with_reference():
    for case in get("linear_backward").visible():
        if case.float32:
            continue
        for got, expected in zip(
            course.linear_backward(*case.args.values()), case.expected, strict=True
        ):
            assert course.relative_error(got, expected) < 1e-6


def test_no_warning_filters_leak_out_of_a_check():
    before = list(warnings.filters)
    state = np.geterr()
    checks.check_softmax_cross_entropy(course.softmax_cross_entropy)
    assert warnings.filters == before and np.geterr() == state


# --- check_digits_model ------------------------------------------------------------------------
class NearestNeighbour:
    """A tiny 'model': class scores from the distance to the nearest training image."""

    def __init__(self) -> None:
        self.x, self.y = course.load_digits(split="development")
        self.training = True
        self.modes: list[str] = []

    def eval(self):
        self.training = False
        self.modes.append("eval")
        return self

    def train(self):
        self.training = True
        self.modes.append("train")
        return self

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # squared distances |a|^2 + |b|^2 - 2 a.b, without an (N, M, 64) intermediate
        d = (x**2).sum(1)[:, None] + (self.x**2).sum(1)[None, :] - 2 * x @ self.x.T
        scores = np.full((len(x), 10), -np.inf)
        for c in range(10):
            scores[:, c] = -d[:, self.y == c].min(axis=1)
        return scores


def test_digits_model_passes_a_good_model_and_restores_its_mode(capsys):
    model = NearestNeighbour()
    checks.check_digits_model(model)
    assert "accuracy" in capsys.readouterr().out
    assert model.modes == ["eval", "train"] and model.training


def test_digits_model_rejects_a_weak_model():
    w = np.random.default_rng(0).normal(0, 0.01, (64, 10))
    with pytest.raises(AssertionError, match=r"accuracy .*% on the \d+ held-back test images"):
        checks.check_digits_model(lambda x: x @ w)


def test_digits_model_must_be_the_learners_own():
    model = course.mlp([64, 16, 10], rng=0)
    for arg in (model, model.forward, lambda x: model.forward(x)):
        with pytest.raises(AssertionError, match="course's library") as info:
            checks.check_digits_model(arg)
        assert info.value.mistake == "library_used"


@pytest.mark.parametrize(
    "fn, pattern",
    [
        (lambda x: np.zeros((len(x), 8)), "8 scores per image"),
        (lambda x: np.zeros(len(x)), "should be"),
        (lambda x: np.full((len(x), 10), np.nan), "diverged"),
        (lambda x: [0] * len(x), "returned a list"),
        (lambda x: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_digits_model_explains_a_broken_model(fn, pattern):
    with pytest.raises(AssertionError, match=pattern):
        checks.check_digits_model(fn)


def test_digits_model_needs_a_model():
    with pytest.raises(AssertionError, match="needs your trained model"):
        checks.check_digits_model("model")
