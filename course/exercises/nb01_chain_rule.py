"""Notebook 01, the chain rule: neuron_backward, fanout_backward, two concept questions, one
written answer."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course._diagnose import Case, Mistake, Output, Spec
from course.exercises._shared import _exact, _sig, choice, function, plan, written
from course.gradcheck import numerical_gradient

NOTEBOOK = "01-chain-rule"


def neuron_backward(x: float, w: float, b: float) -> tuple[float, float, float]:
    """The reference: (dx, dw, db) of f = sigmoid(w * x + b), by the chain rule."""
    s = 1.0 / (1.0 + math.exp(-(w * x + b)))
    local = s * (1.0 - s)
    return w * local, x * local, local


def _neuron_cases(seed: int | None) -> list[Case]:
    fixed = [(1.5, -0.8, 0.3), (-0.7, 2.1, -1.1), (0.4, 0.9, 0.2), (2.2, 0.35, -0.6)]
    _, points, _ = plan(seed, 100, fixed, lambda r: tuple(map(float, r.uniform(-2.5, 2.5, 3))))
    cases = []
    for x, w, b in points:
        p = np.array([x, w, b])
        g = numerical_gradient(lambda q: float(_sig(q[0] * q[1] + q[2])), p, 1e-6)
        g = _exact([float(v) for v in g], neuron_backward(x, w, b))
        cases.append(Case({"x": x, "w": w, "b": b}, g))
    return cases


def _neuron_pred(kind: str) -> Callable[[Case], tuple[float, float, float]]:
    def predict(c: Case) -> tuple[float, float, float]:
        x, w, b = c.args["x"], c.args["w"], c.args["b"]
        z = w * x + b
        s = float(_sig(z))
        local = {
            "none": 1.0,
            "s": s,
            "one_minus_s": 1 - s,
            "z": z * (1 - z),
            "s_plus": s * (1 + s),
        }[kind]
        return w * local, x * local, local

    return predict


_NEURON = Spec(
    "neuron_backward",
    (Output("dx", "scalar"), Output("dw", "scalar"), Output("db", "scalar")),
    [
        Mistake(
            "sigmoid_derivative",
            "the local derivative of the sigmoid is missing: f = "
            "sigmoid(z) with z = w*x + b, so each gradient is (dz/d-input) times "
            "sigmoid'(z).",
            predict=_neuron_pred("none"),
        ),
        Mistake(
            "sigmoid_derivative",
            "you multiplied by sigmoid(z) itself; the chain rule "
            "needs the sigmoid's derivative, sigmoid'(z) = s (1 - s) with s = sigmoid(z).",
            predict=_neuron_pred("s"),
        ),
        Mistake(
            "sigmoid_derivative",
            "the sigmoid's derivative is s (1 - s) with s = sigmoid(z); your factor is different.",
            predict=_neuron_pred("one_minus_s"),
        ),
        Mistake(
            "sigmoid_derivative",
            "the sigmoid's derivative is s (1 - s) with s = sigmoid(z); your factor is different.",
            predict=_neuron_pred("s_plus"),
        ),
        Mistake(
            "sigmoid_derivative",
            "the sigmoid's derivative is evaluated at x; it belongs at z = w*x + b, the "
            "sigmoid's input: s = sigmoid(z), then s (1 - s).",
            predict=lambda c: (
                lambda s: (c.args["w"] * s * (1 - s), c.args["x"] * s * (1 - s), s * (1 - s))
            )(float(_sig(c.args["x"]))),
        ),
        Mistake(
            "chain_rule",
            "dx misses the factor w: z = w*x + b, so dz/dx = w, and the chain rule "
            "multiplies every link: dx = w times sigmoid'(z).",
            predict=lambda c: (c.expected[2], None, None),
            only=("dx",),
        ),
        Mistake(
            "chain_rule",
            "dw misses the factor x: z = w*x + b, so dz/dw = x, and the chain rule "
            "multiplies every link: dw = x times sigmoid'(z).",
            predict=lambda c: (None, c.expected[2], None),
            only=("dw",),
        ),
        Mistake(
            "output_for_input",
            "you used z (the sigmoid's input) where s = sigmoid(z), its "
            "output, was needed: the derivative is s (1 - s), not z (1 - z).",
            predict=_neuron_pred("z"),
        ),
    ],
    compared_with="numerical derivatives",
)


def fanout_backward(x: float, y: float) -> tuple[float, float]:
    """The reference: (dx, dy) of q = x * y, r = x + q, f = r * q (x and q each feed two
    nodes, so the gradients arriving along their branches add up)."""
    q = x * y
    r = x + q
    dr = q
    dq = r + dr  # from f = r * q, and from r = x + q
    return dr + dq * y, dq * x


def _fanout_f(p: np.ndarray) -> float:
    q = p[0] * p[1]
    return float((p[0] + q) * q)


def _fanout_cases(seed: int | None) -> list[Case]:
    fixed = [(1.5, -0.4), (-0.8, 2.0), (2.0, 0.7), (-1.2, -1.3)]
    _, points, _ = plan(seed, 120, fixed, lambda r: tuple(map(float, r.uniform(-2.5, 2.5, 2))))
    cases = []
    for x, y in points:
        g = numerical_gradient(_fanout_f, np.array([x, y]), 1e-6)
        g = _exact([float(v) for v in g], fanout_backward(x, y))
        cases.append(Case({"x": x, "y": y}, g))
    return cases


def _fanout_pred(kind: str) -> Callable[[Case], tuple[float | None, float | None]]:
    def predict(c: Case) -> tuple[float | None, float | None]:
        x, y = c.args["x"], c.args["y"]
        q = x * y
        r = x + q
        dq = {"no_r_branch": r, "no_f_branch": q}.get(kind, r + q)
        if kind == "no_direct_x":
            return dq * y, None
        if kind == "no_x_via_q":
            return q, None
        return q + dq * y, dq * x

    return predict


_FANOUT = Spec(
    "fanout_backward",
    (Output("dx", "scalar"), Output("dy", "scalar")),
    [
        Mistake(
            "fan_out",
            "dq keeps only the gradient from f = r * q (which is r) and drops the one that "
            "comes back through r = x + q (which is dr = q). q feeds two nodes, so dq is the "
            "sum of both: dq = r + q.",
            predict=_fanout_pred("no_r_branch"),
        ),
        Mistake(
            "fan_out",
            "dq keeps only the gradient that comes back through r = x + q (dr = q) and drops "
            "the one from f = r * q itself (r). q feeds two nodes, so dq = r + q.",
            predict=_fanout_pred("no_f_branch"),
        ),
        Mistake(
            "fan_out",
            "dx misses the direct path x -> r: x feeds both q = x * y and r = x + q, so "
            "dx = dr * 1 + dq * y. The two contributions add (use +=, never overwrite).",
            predict=_fanout_pred("no_direct_x"),
            only=("dx",),
        ),
        Mistake(
            "fan_out",
            "dx misses the path through q = x * y: x feeds both q and r, so "
            "dx = dr * 1 + dq * y. The two contributions add (use +=, never overwrite).",
            predict=_fanout_pred("no_x_via_q"),
            only=("dx",),
        ),
    ],
    compared_with="numerical derivatives",
)


EXERCISES = [
    function(
        NOTEBOOK,
        _NEURON,
        _neuron_cases,
        4,
        "Exercise: neuron_backward, the chain rule through one sigmoid neuron",
        "Check neuron_backward(x, w, b) -> (dx, dw, db) for f = sigmoid(w * x + b).",
        reference=neuron_backward,
    ),
    function(
        NOTEBOOK,
        _FANOUT,
        _fanout_cases,
        3,
        "Exercise 2: fanout_backward, gradients add where a value is used twice",
        "Check fanout_backward(x, y) -> (dx, dy) for q = x*y, r = x + q, f = r*q.",
        reference=fanout_backward,
    ),
    choice(
        NOTEBOOK,
        "MC_DF_DY",
        1,
        "Question 1: df/dy through q = x + y",
        "42631e747bbc4b8e5a24a81c651d8a9ebf8ce2be46a2edf4eb16f30869b37212",
        {
            "a": "1 is dq/dy alone; the chain rule multiplies it by the upstream df/dq = z = 3.",
            "c": (
                "6 is not a derivative along the path: df/dy = df/dq * dq/dy, with df/dq = z = 3 "
                "and dq/dy = 1."
            ),
            "d": "9 is the value of f = q z itself, not its derivative with respect to y.",
        },
    ),
    choice(
        NOTEBOOK,
        "MC_ORDER",
        1,
        "Question 2: why the backward pass runs in reverse",
        "fe4271b20f7d962de155007d1fa7715aad95d0d30ad0a656ae24b8638e0f75f9",
        {
            "a": (
                "Each node costs about the same in either order; the order is forced by the "
                "dependencies: a node needs its upstream gradient first."
            ),
            "c": (
                "The order matters: a node's upstream gradient is known only after every node that"
                " uses its output has passed its gradient back."
            ),
            "d": (
                "The forward values are kept for the backward pass; the order comes from the chain"
                " rule, which needs each node's upstream gradient first."
            ),
        },
    ),
    written(NOTEBOOK, "written_chain_rule", 3, "Question 3: backpropagation in your own words"),
]
