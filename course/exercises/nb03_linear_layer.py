"""Notebook 03, the linear layer: linear_forward, a derivation step (MC_DW_ENTRY),
linear_backward, two concept questions."""

from __future__ import annotations

from typing import Any

import numpy as np

from course import layers as ref
from course._diagnose import Case, Mistake, Output, Spec
from course.exercises._shared import (
    _DOUT_IGNORED,
    REFERENCE,
    _dout_ones,
    _exact,
    _f32_case,
    _rng,
    _vjp,
    choice,
    distinct,
    function,
    plan,
)

NOTEBOOK = "03-linear-layer"


_LINEAR_SHAPES = [(4, 3, 5), (6, 2, 7), (3, 5, 4)]


def _linear_inputs(seed: int, n: int, d: int, m: int) -> dict[str, np.ndarray]:
    r = _rng(seed)
    return {"x": r.normal(size=(n, d)), "W": r.normal(size=(d, m)), "b": r.normal(size=m)}


def _linear_forward_cases(seed: int | None) -> list[Case]:
    base, shapes, _ = plan(seed, 400, [*_LINEAR_SHAPES, (5, 4, 2)], lambda r: distinct(r, 3))
    cases = []
    for k, (n, d, m) in enumerate(shapes[:-1]):
        a = _linear_inputs(base + k, n, d, m)
        cases.append(Case(a, (ref.linear_forward(**a),), sizes={"N": n, "D": d, "M": m}))
    n, d, m = shapes[-1]
    a = _linear_inputs(base + 9, n, d, m)
    cases.append(_f32_case(a, (ref.linear_forward(**a),), sizes={"N": n, "D": d, "M": m}))
    return cases


_LINEAR_FORWARD = Spec(
    "linear_forward",
    (Output("out"),),
    [
        Mistake(
            "missing_bias",
            "out is x W without the bias: add b (one value per output "
            "column, the same for every row).",
            predict=lambda c: (c.args["x"] @ c.args["W"],),
        ),
        Mistake(
            "sign",
            "the bias is subtracted; the layer adds it.",
            predict=lambda c: (c.args["x"] @ c.args["W"] - c.args["b"],),
        ),
        Mistake(
            "missing_bias",
            "the bias is added once per row instead of once per column: b "
            "has one entry per output (M), broadcast over the batch.",
            predict=lambda c: (c.args["x"] @ c.args["W"] + c.args["b"].sum(),),
        ),
    ],
    single=True,
    compared_with=REFERENCE,
)


def _linear_backward_cases(seed: int | None) -> list[Case]:
    base, shapes, _ = plan(seed, 500, [*_LINEAR_SHAPES, (5, 4, 2)], lambda r: distinct(r, 3))
    cases = []
    for k, (n, d, m) in enumerate(shapes[:-1]):
        a = _linear_inputs(base + k, n, d, m)
        dout = _rng(base + 10 + k).normal(size=(n, m))
        expected = _exact(
            _vjp(ref.linear_forward, a, dout, ["x", "W", "b"]), ref.linear_backward(dout, **a)
        )
        cases.append(Case({"dout": dout} | a, tuple(expected), sizes={"N": n, "D": d, "M": m}))
    n, d, m = shapes[-1]
    a = _linear_inputs(base + 19, n, d, m)
    dout = _rng(base + 20).normal(size=(n, m))
    cases.append(
        _f32_case(
            {"dout": dout} | a, ref.linear_backward(dout, **a), sizes={"N": n, "D": d, "M": m}
        )
    )
    return cases


def _proportional_extra(got: Any, expected: np.ndarray, base: np.ndarray) -> bool:
    """got == expected + c * base for some constant c != 0."""
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if g.shape != base.shape:
        return False
    diff = g - expected
    c = float(np.vdot(diff, base) / np.vdot(base, base))
    return abs(c) > 1e-8 and bool(np.allclose(diff, c * base, rtol=1e-5, atol=1e-9))


_LINEAR_BACKWARD = Spec(
    "linear_backward",
    (Output("dx", like="x"), Output("dW", like="W"), Output("db", like="b", reduced_from="dout")),
    [
        Mistake("dout_ignored", _DOUT_IGNORED, predict=_dout_ones(ref.linear_backward)),
        Mistake(
            "extra_term",
            "dW has an extra term proportional to W (like an L2 regularisation term). "
            "The layer's backward gives only the gradient of its output; regularisation "
            "belongs to the loss.",
            detect=lambda c, got: _proportional_extra(got[1], c.expected[1], c.args["W"]),
            only=("dW",),
        ),
    ],
    factors=lambda c, name: [
        (
            1.0 / c.sizes["N"],
            "batch_size",
            f"{name} is exactly 1/N of the expected gradient "
            f"(N = {c.sizes['N']} is the batch size). Did you average over the batch? The loss "
            "already divides by N; a layer's backward just sums over the batch.",
        ),
    ],
)


EXERCISES = [
    function(
        NOTEBOOK,
        _LINEAR_FORWARD,
        _linear_forward_cases,
        2,
        "Exercise 1: linear_forward, out = x W + b",
        "Check linear_forward(x, W, b) -> out (N, M).",
    ),
    choice(
        NOTEBOOK,
        "MC_DW_ENTRY",
        1,
        "Step check: one entry of dW, derived with the chain rule",
        "f7b2839a785234d3a2fa75032a48f22530636c6c30aa5da9f840d61f54b21f83",
        {
            "a": (
                "W_dm is used in column m only, once per example n: the sum runs over the "
                "batch n, not over the outputs m."
            ),
            "c": (
                "Every example n uses W_dm, not just the first: the contributions of all rows "
                "add up, a sum over n."
            ),
            "d": (
                "The local gradient of out_nm with respect to W_dm is its coefficient x_nd, not "
                "W_dm itself."
            ),
        },
    ),
    function(
        NOTEBOOK,
        _LINEAR_BACKWARD,
        _linear_backward_cases,
        4,
        "Exercise 2: linear_backward, the gradients of a linear layer",
        "Check linear_backward(dout, x, W, b) -> (dx, dW, db) against numerical gradients.",
    ),
    choice(
        NOTEBOOK,
        "MC_DW_SHAPE",
        1,
        "Question 1: the shape of dW",
        "2ad38a4661b41f53aff6ef69f360dd0c414562945edce99f19a577ffb2e2a15f",
        {
            "a": (
                "(32, 5) is the shape of out and dout; a gradient has the shape of what it is the "
                "gradient of: dW is shaped like W, (10, 5)."
            ),
            "b": "(5, 10) is W transposed; dW has exactly W's shape, (D, M) = (10, 5).",
            "d": "(32, 10) is the shape of x (and dx); dW has W's shape, (D, M) = (10, 5).",
        },
    ),
    choice(
        NOTEBOOK,
        "MC_DB_SUM",
        1,
        "Question 2: why db sums over the batch",
        "e3679dfe96a4f54dcd08faf1d36bce030dd209a32c0b54ead785bbe6e9321ebf",
        {
            "b": (
                "The sum is not a smoothing trick: b is used by every example, so by the chain "
                "rule the gradients of all those uses add up."
            ),
            "c": (
                "Each row of dout is a different example's gradient; db sums them because the same"
                " b is added to every row."
            ),
            "d": (
                "dout[0] is only the first example's contribution; b is added to every example, so"
                " all N rows contribute and are summed."
            ),
        },
    ),
]
