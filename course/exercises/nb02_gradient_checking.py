"""Notebook 02, gradient checking: numerical_gradient, relative_error, the planted bug, two
concept questions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course._diagnose import Case, Mistake, Output, Spec
from course.exercises import Fn
from course.exercises._shared import REFERENCE, _rng, any_shape, choice, distinct, function, plan
from course.gradcheck import numerical_gradient
from course.gradcheck import relative_error as ref_relative_error

NOTEBOOK = "02-gradient-checking"


def smooth_function(shape: Sequence[int], seed: int) -> Callable[[np.ndarray], float]:
    """A smooth test function of an array of this shape: sum(sin(c x)) + (d . x)^2 / 2."""
    shape = tuple(int(n) for n in shape)
    r = _rng(seed)
    c = r.uniform(0.5, 2.0, size=shape)
    d = r.normal(size=shape)

    def f(x: np.ndarray) -> float:
        return float(np.sum(np.sin(c * x)) + 0.5 * np.sum(d * x) ** 2)

    return f


def _numgrad_cases(seed: int | None) -> list[Case]:
    # The first case passes a large h, so that one-sided differences stand out clearly.
    base, shapes, _ = plan(seed, 200, [(3, 4), (2, 5), (6,)], any_shape)
    cases = []
    for k, (shape, h) in enumerate(zip(shapes, [1e-3, None, 1e-4], strict=True)):
        x = _rng(base + k).normal(size=shape)
        f = Fn(f"{__name__}:smooth_function", {"shape": list(shape), "seed": base + 10 + k})
        kwargs = {} if h is None else {"h": h}
        expected = numerical_gradient(f, x.copy(), 1e-5 if h is None else h)
        cases.append(
            Case(
                {"f": f, "x": x},
                (expected,),
                kwargs=kwargs,
                tol=1e-6,
                mutation_rtol=1e-12,
                extra={"h": 1e-5 if h is None else h},
            )
        )
    return cases


def _one_sided(c: Case, direction: int) -> tuple[np.ndarray]:
    f, x, h = c.args["f"], c.args["x"].copy(), c.extra["h"]
    f0 = f(x)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + direction * h
        grad[idx] = direction * (f(x) - f0) / h
        x[idx] = old
    return (grad,)


def _rows_constant(c: Case, got: Any) -> bool:
    x, g = c.args["x"], np.asarray(got, dtype=np.float64)
    if x.ndim != 2 or g.shape != x.shape or x.shape[1] < 2:
        return False
    return bool(np.allclose(g, g[:, :1], rtol=1e-6, atol=1e-12)) and not np.allclose(
        g, c.expected[0], rtol=1e-4
    )


_NUMGRAD = Spec(
    "numerical_gradient",
    (Output("grad", like="x"),),
    [
        Mistake(
            "forward_difference",
            "these are one-sided (forward) differences, "
            "(f(x + h) - f(x)) / h. Centered differences, comparing f(x + h) with f(x - h), "
            "are far more accurate: their error shrinks like h^2 instead of h.",
            predict=lambda c: _one_sided(c, 1),
        ),
        Mistake(
            "forward_difference",
            "these are one-sided (backward) differences, "
            "(f(x) - f(x - h)) / h. Centered differences, comparing f(x + h) with f(x - h), "
            "are far more accurate: their error shrinks like h^2 instead of h.",
            predict=lambda c: _one_sided(c, -1),
        ),
        Mistake(
            "whole_rows",
            "each row of grad holds one repeated value: it looks as if you perturbed a "
            "whole row of x at once. Perturb one entry at a time, looping over every index "
            "of x (np.ndindex(x.shape) gives them all, for any number of axes).",
            detect=lambda c, got: _rows_constant(c, got[0]),
        ),
    ],
    single=True,
    compared_with="centered differences",
    factors=lambda c, name: [
        (
            2.0,
            "factor_two",
            "grad is exactly twice the expected value: centered differences "
            "divide by 2h, the distance between x - h and x + h.",
        ),
        (
            -1.0,
            "sign",
            "grad has the wrong sign: subtract f(x - h) from f(x + h), not the other way round.",
        ),
    ],
    mutation_texts={
        "x": (
            "x_not_restored",
            "x is not restored after perturbing: put each entry "
            "back to its original value after evaluating f, so x is unchanged "
            "when your function returns (and later entries are not measured at a "
            "shifted point).",
        )
    },
)


def _relerr_cases(seed: int | None) -> list[Case]:
    base, shapes, r = plan(seed, 300, [(4, 3), (2, 3), (7,)], lambda r: distinct(r, 2, 2, 7))
    g = _rng(base)
    a1 = g.normal(size=shapes[0])
    b1 = a1 + 1e-3 * g.normal(size=shapes[0])
    b1[2 % shapes[0][0], 1] = a1[2 % shapes[0][0], 1] * 1.5
    if r is None:
        a2 = np.array([[0.5, 0.0, 2.0], [-1.0, 3.0, 0.25]])
        b2 = np.array([[-0.5, 0.0, 2.1], [-1.2, 3.0, 0.2]])
    else:  # rounded values, one entry 0 in both, one sign flip, one exact match
        a2 = np.round(g.normal(scale=2.0, size=shapes[1]), 1)
        b2 = np.round(a2 + g.normal(scale=0.2, size=shapes[1]), 2)
        a2[0, 0], b2[0, 0] = 0.5, -0.5
        a2[0, 1], b2[0, 1] = 0.0, 0.0
        b2[1, 1] = a2[1, 1]
    a3 = g.normal(size=shapes[2][0] if r is not None else 7)
    b3 = a3 * (1 + 1e-6 * g.normal(size=a3.shape))
    return [
        Case({"a": a, "b": b}, (ref_relative_error(a, b),), tol=1e-9)
        for a, b in ((a1, b1), (a2, b2), (a3, b3))
    ]


def _both_zero(c: Case) -> bool:
    return bool(np.any((c.args["a"] == 0) & (c.args["b"] == 0)))


_RELERR = Spec(
    "relative_error",
    (
        Output(
            "error",
            "scalar",
            reduce="the largest one, np.max: the worst entry decides, a mean would hide it",
        ),
    ),
    [
        Mistake(
            "mean_not_max",
            "you averaged the elementwise errors; relative_error reports "
            "the largest one (the max), so a single bad entry cannot hide.",
            predict=lambda c: (
                float(
                    np.mean(
                        np.abs(c.args["a"] - c.args["b"])
                        / np.maximum(1e-8, np.abs(c.args["a"]) + np.abs(c.args["b"]))
                    )
                ),
            ),
        ),
        Mistake(
            "mean_not_max",
            "you added up the elementwise errors; relative_error reports "
            "the largest one (the max).",
            predict=lambda c: (
                float(
                    np.sum(
                        np.abs(c.args["a"] - c.args["b"])
                        / np.maximum(1e-8, np.abs(c.args["a"]) + np.abs(c.args["b"]))
                    )
                ),
            ),
        ),
        Mistake(
            "no_abs",
            "the denominator uses |a + b|; it needs |a| + |b|, otherwise entries "
            "of opposite sign divide by (almost) zero.",
            predict=lambda c: (
                float(
                    np.max(
                        np.abs(c.args["a"] - c.args["b"])
                        / np.maximum(1e-8, np.abs(c.args["a"] + c.args["b"]))
                    )
                ),
            ),
        ),
        Mistake(
            "no_abs",
            "the numerator needs an absolute value, |a - b|: without it, errors "
            "of one sign are ignored.",
            predict=lambda c: (
                float(
                    np.max(
                        (c.args["a"] - c.args["b"])
                        / np.maximum(1e-8, np.abs(c.args["a"]) + np.abs(c.args["b"]))
                    )
                ),
            ),
        ),
        Mistake(
            "no_abs",
            "the denominator needs absolute values, |a| + |b|: without them, entries of "
            "opposite sign (or both negative) divide by almost nothing.",
            predict=lambda c: (
                float(
                    np.max(
                        np.abs(c.args["a"] - c.args["b"])
                        / np.maximum(1e-8, c.args["a"] + c.args["b"])
                    )
                ),
            ),
        ),
        Mistake(
            "wrong_denominator",
            "the denominator is max(|a|, |b|); this course's relative error divides by "
            "the sum |a| + |b| (kept at least 1e-8).",
            predict=lambda c: (
                float(
                    np.max(
                        np.abs(c.args["a"] - c.args["b"])
                        / np.maximum(1e-8, np.maximum(np.abs(c.args["a"]), np.abs(c.args["b"])))
                    )
                ),
            ),
        ),
        Mistake(
            "no_floor",
            "where a and b are both 0 you divide 0 by 0 and get nan: keep the "
            "denominator at least 1e-8.",
            detect=lambda c, got: (
                _both_zero(c) and bool(np.any(np.isnan(np.asarray(got[0], dtype=float))))
            ),
        ),
        Mistake(
            "wrong_formula",
            "that is a norm-based relative error; this course's reading "
            "scale is for the largest elementwise error.",
            predict=lambda c: (
                float(
                    np.linalg.norm(c.args["a"] - c.args["b"])
                    / (np.linalg.norm(c.args["a"]) + np.linalg.norm(c.args["b"]))
                ),
            ),
        ),
    ],
    single=True,
    compared_with=REFERENCE,
)


EXERCISES = [
    function(
        NOTEBOOK,
        _NUMGRAD,
        _numgrad_cases,
        4,
        "Exercise 1: numerical_gradient, centered differences",
        "Check numerical_gradient(f, x, h=1e-5) -> grad (centered differences, x left "
        "unchanged).",
    ),
    function(
        NOTEBOOK,
        _RELERR,
        _relerr_cases,
        2,
        "Exercise 2: relative_error, the largest elementwise relative error",
        "Check relative_error(a, b) -> max |a - b| / max(1e-8, |a| + |b|).",
    ),
    choice(
        NOTEBOOK,
        "BUGGY_GRADIENT",
        2,
        "Exercise 3: which gradient is wrong?",
        "09919179998696c225d5a68aeee67a4d9deb58bd452a1d85d897bf4cb7c7e885",
        {
            "dx": (
                "dx's relative error is tiny, on the 'right' end of the reading scale; the wrong "
                "gradient is the one whose error is far above 1e-2."
            ),
            "db": (
                "db's relative error is tiny, on the 'right' end of the reading scale; the wrong "
                "gradient is the one whose error is far above 1e-2."
            ),
        },
        choices=("dx", "dW", "db"),
    ),
    choice(
        NOTEBOOK,
        "MC_FLOAT32",
        1,
        "Question 1: a 3e-3 error in float32",
        "bcd8840fd628a9dbf013744b5554a3be8cb6461b89811d8e9874b0b6c22d06b1",
        {
            "a": (
                "In float32, rounding alone can cause errors around 1e-3 in finite differences; "
                "repeat the check in float64 before hunting for a bug."
            ),
            "c": (
                "A huge step h = 1 makes the finite differences inaccurate (their error grows like"
                " h^2); the problem is float32's rounding."
            ),
            "d": (
                "Forward differences are less accurate than centered ones (error of order h "
                "instead of h^2); the problem is float32's rounding."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_RANDOM_DOUT",
        1,
        "Question 2: why a random dout",
        "598dc52acfb32b62f469476a2f3f932924650161cd6d82641242ece56f76abfc",
        {
            "a": (
                "A random dout costs the same as ones; it is there because with all ones some bugs"
                " (ignoring or mixing up dout) still agree with the numerical gradient."
            ),
            "c": (
                "A real upstream gradient is whatever the loss gives, not random; the random dout "
                "is a testing device so that bugs cannot cancel out."
            ),
            "d": (
                "With dout all ones, a backward pass that ignores dout, or mixes up its entries, "
                "can still agree with the numerical gradient."
            ),
        },
    ),
]
