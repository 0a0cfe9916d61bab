"""Learner-facing checks: one call per exercise, feedback a teaching assistant would give.

Each ``check_<exercise>(fn)`` calls your function on several seeded random inputs whose
shapes all differ (N != D != M, so a transpose cannot hide), compares what it returns with
numerical gradients of the reference forward pass (or with the reference itself where a
numerical gradient does not apply, such as optimizer steps), and

- prints one short line when everything is right;
- raises an AssertionError otherwise, naming the output that is wrong, checking type, shape,
  dtype and values in that order, showing the worst entry, and naming the mistake when it
  recognises it ("dW is exactly 1/N of the expected gradient ...").

Checks never print to stderr and never show solution code. An exercise that still raises
NotImplementedError fails with "not done yet".

    from course.checks import check_linear_backward
    check_linear_backward(linear_backward)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course import layers as ref
from course import losses as ref_losses
from course import optim as ref_optim
from course._diagnose import (
    Case,
    CheckFailure,
    Mistake,
    NotDoneYet,
    Output,
    Rng,
    Spec,
    quiet,
    run_check,
)
from course.gradcheck import numerical_gradient
from course.gradcheck import relative_error as ref_relative_error

__all__ = [
    "CheckFailure",
    "NotDoneYet",
    "check_adam_step",
    "check_batchnorm_backward",
    "check_batchnorm_forward",
    "check_digits_model",
    "check_dropout_backward",
    "check_dropout_forward",
    "check_gradient_descent",
    "check_linear_backward",
    "check_linear_forward",
    "check_momentum_step",
    "check_mse_loss",
    "check_neuron_backward",
    "check_numerical_gradient",
    "check_relative_error",
    "check_relu_backward",
    "check_relu_forward",
    "check_rmsprop_step",
    "check_sgd_step",
    "check_sigmoid_backward",
    "check_sigmoid_forward",
    "check_softmax_cross_entropy",
    "check_tanh_backward",
    "check_tanh_forward",
    "check_two_layer_net",
]

REFERENCE = "the reference implementation"


# --- Shared helpers ----------------------------------------------------------------------------
def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _away_from_zero(a: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Push entries out of (-margin, margin) so finite differences never straddle a kink."""
    return np.where(np.abs(a) < margin, np.where(a < 0, -margin, margin) + a, a)


def _vjp(
    forward: Callable[..., np.ndarray],
    args: dict[str, Any],
    dout: np.ndarray,
    wrt: Sequence[str],
    h: float = 1e-5,
) -> list[np.ndarray]:
    """Numerical gradients of sum(forward(**args) * dout) with respect to each name in wrt."""
    grads = []
    for name in wrt:

        def f(value: np.ndarray, name: str = name) -> float:
            return float(np.sum(forward(**(args | {name: value})) * dout))

        grads.append(numerical_gradient(f, np.array(args[name], dtype=np.float64), h))
    return grads


def _f32_case(args: dict[str, np.ndarray], expected: Sequence[Any], **kw: Any) -> Case:
    """The same test in float32: looser tolerance; arrays must come back float32."""
    args32 = {
        k: v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
        for k, v in args.items()
    }
    scale = (
        max(
            float(np.max(np.abs(np.asarray(e, dtype=np.float64))))
            for e in expected
            if e is not None and np.size(e)
        )
        or 1.0
    )
    return Case(
        args32,
        tuple(expected),
        tol=1e-4,
        floor=1e-3 * scale,
        float32=True,
        note="float32 inputs",
        **kw,
    )


def _sig(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


# --- 01 chain rule -----------------------------------------------------------------------------
def _neuron_cases() -> list[Case]:
    cases = []
    for x, w, b in [(1.5, -0.8, 0.3), (-0.7, 2.1, -1.1), (0.4, 0.9, 0.2), (2.2, 0.35, -0.6)]:
        p = np.array([x, w, b])
        g = numerical_gradient(lambda q: float(_sig(q[0] * q[1] + q[2])), p, 1e-6)
        cases.append(Case({"x": x, "w": w, "b": b}, tuple(float(v) for v in g)))
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


def check_neuron_backward(fn: Callable[[float, float, float], tuple[float, float, float]]) -> None:
    """Check neuron_backward(x, w, b) -> (dx, dw, db) for f = sigmoid(w * x + b)."""
    __tracebackhide__ = True
    failure = run_check(_NEURON, fn, _neuron_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


# --- 02 gradient checking ----------------------------------------------------------------------
def _test_function(shape: tuple[int, ...], seed: int) -> Callable[[np.ndarray], float]:
    r = _rng(seed)
    c = r.uniform(0.5, 2.0, size=shape)
    d = r.normal(size=shape)

    def f(x: np.ndarray) -> float:
        return float(np.sum(np.sin(c * x)) + 0.5 * np.sum(d * x) ** 2)

    return f


@functools.cache
def _numgrad_cases() -> tuple[Case, ...]:
    cases = []
    # The first case passes a large h, so that one-sided differences stand out clearly.
    for seed, (shape, h) in enumerate([((3, 4), 1e-3), ((2, 5), None), ((6,), 1e-4)]):
        x = _rng(200 + seed).normal(size=shape)
        f = _test_function(shape, 210 + seed)
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
    return tuple(cases)


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


def check_numerical_gradient(fn: Callable[..., np.ndarray]) -> None:
    """Check numerical_gradient(f, x, h=1e-5) -> grad (centered differences, x left unchanged)."""
    __tracebackhide__ = True
    failure = run_check(_NUMGRAD, fn, _numgrad_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


@functools.cache
def _relerr_cases() -> tuple[Case, ...]:
    r = _rng(300)
    a1 = r.normal(size=(4, 3))
    b1 = a1 + 1e-3 * r.normal(size=(4, 3))
    b1[2, 1] = a1[2, 1] * 1.5
    a2 = np.array([[0.5, 0.0, 2.0], [-1.0, 3.0, 0.25]])
    b2 = np.array([[-0.5, 0.0, 2.1], [-1.2, 3.0, 0.2]])
    a3 = r.normal(size=7)
    b3 = a3 * (1 + 1e-6 * r.normal(size=7))
    return tuple(
        Case({"a": a, "b": b}, (ref_relative_error(a, b),), tol=1e-9)
        for a, b in ((a1, b1), (a2, b2), (a3, b3))
    )


def _both_zero(c: Case) -> bool:
    return bool(np.any((c.args["a"] == 0) & (c.args["b"] == 0)))


_RELERR = Spec(
    "relative_error",
    (Output("error", "scalar"),),
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


def check_relative_error(fn: Callable[[np.ndarray, np.ndarray], float]) -> None:
    """Check relative_error(a, b) -> max |a - b| / max(1e-8, |a| + |b|)."""
    __tracebackhide__ = True
    failure = run_check(_RELERR, fn, _relerr_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


# --- 03 linear layer ---------------------------------------------------------------------------
_LINEAR_SHAPES = [(4, 3, 5), (6, 2, 7), (3, 5, 4)]


def _linear_inputs(seed: int, n: int, d: int, m: int) -> dict[str, np.ndarray]:
    r = _rng(seed)
    return {"x": r.normal(size=(n, d)), "W": r.normal(size=(d, m)), "b": r.normal(size=m)}


@functools.cache
def _linear_forward_cases() -> tuple[Case, ...]:
    cases = []
    for seed, (n, d, m) in enumerate(_LINEAR_SHAPES):
        a = _linear_inputs(400 + seed, n, d, m)
        cases.append(Case(a, (ref.linear_forward(**a),), sizes={"N": n, "D": d, "M": m}))
    a = _linear_inputs(409, 5, 4, 2)
    cases.append(_f32_case(a, (ref.linear_forward(**a),), sizes={"N": 5, "D": 4, "M": 2}))
    return tuple(cases)


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


def check_linear_forward(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> None:
    """Check linear_forward(x, W, b) -> out (N, M)."""
    __tracebackhide__ = True
    failure = run_check(_LINEAR_FORWARD, fn, _linear_forward_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


@functools.cache
def _linear_backward_cases() -> tuple[Case, ...]:
    cases = []
    for seed, (n, d, m) in enumerate(_LINEAR_SHAPES):
        a = _linear_inputs(500 + seed, n, d, m)
        dout = _rng(510 + seed).normal(size=(n, m))
        expected = _vjp(ref.linear_forward, a, dout, ["x", "W", "b"])
        cases.append(Case({"dout": dout} | a, tuple(expected), sizes={"N": n, "D": d, "M": m}))
    a = _linear_inputs(519, 5, 4, 2)
    dout = _rng(520).normal(size=(5, 2))
    cases.append(
        _f32_case(
            {"dout": dout} | a, ref.linear_backward(dout, **a), sizes={"N": 5, "D": 4, "M": 2}
        )
    )
    return tuple(cases)


def _dout_ones(backward: Callable[..., Any]) -> Callable[[Case], Any]:
    def predict(c: Case) -> Any:
        args = dict(c.args)
        args["dout"] = np.ones_like(args["dout"], dtype=np.float64)
        out = backward(*args.values(), **c.kwargs)
        return out if isinstance(out, tuple) else (out,)

    return predict


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


_DOUT_IGNORED = (
    "{name} does not depend on dout the way it should: it looks as if dout were "
    "all ones. The upstream gradient dout carries the loss's sensitivity to this "
    "layer's output; every gradient of the layer must use it."
)

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


def check_linear_backward(fn: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Check linear_backward(dout, x, W, b) -> (dx, dW, db) against numerical gradients."""
    __tracebackhide__ = True
    failure = run_check(_LINEAR_BACKWARD, fn, _linear_backward_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


# --- 04 activations ----------------------------------------------------------------------------
_ACT_SHAPES = [(4, 5), (6, 3), (7,)]


def _act_x(seed: int, shape: tuple[int, ...], scale: float = 1.5) -> np.ndarray:
    return _away_from_zero(_rng(seed).normal(scale=scale, size=shape))


@functools.cache
def _forward_cases(forward: Callable[[np.ndarray], np.ndarray], seed: int) -> tuple[Case, ...]:
    cases = []
    for k, shape in enumerate(_ACT_SHAPES):
        x = _act_x(seed + k, shape)
        cases.append(Case({"x": x}, (forward(x),)))
    x = _act_x(seed + 9, (3, 4))
    cases.append(_f32_case({"x": x}, (forward(x),)))
    return tuple(cases)


@functools.cache
def _backward_cases(
    forward: Callable[[np.ndarray], np.ndarray], backward: Callable[..., np.ndarray], seed: int
) -> tuple[Case, ...]:
    cases = []
    for k, shape in enumerate(_ACT_SHAPES):
        x = _act_x(seed + k, shape)
        dout = _rng(seed + 50 + k).normal(size=shape)
        (dx,) = _vjp(forward, {"x": x}, dout, ["x"])
        cases.append(Case({"dout": dout, "x": x}, (dx,)))
    x = _act_x(seed + 9, (3, 4))
    dout = _rng(seed + 59).normal(size=(3, 4))
    cases.append(_f32_case({"dout": dout, "x": x}, (backward(dout, x),)))
    return tuple(cases)


def _elementwise(fn: Callable[..., Any]) -> Callable[[Case], tuple[Any]]:
    return lambda c: (fn(*c.args.values()),)


def _is_leaky(c: Case, got: Sequence[Any]) -> bool:
    x, g = c.args["x"], np.asarray(got[0], dtype=np.float64)
    neg = x < 0
    if g.shape != x.shape or not neg.any() or not np.allclose(g[~neg], x[~neg]):
        return False
    ratio = g[neg] / x[neg]
    return bool(np.allclose(ratio, ratio[0]) and 0 < ratio[0] < 1)


def _is_reduction(x: np.ndarray, got: Any) -> bool:
    """got is x reduced by max (or max with 0) over an axis or over everything."""
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if g.shape == x.shape:
        return False
    for axis in (None, *range(x.ndim)):
        for r in (np.max(x, axis=axis), np.maximum(np.max(x, axis=axis), 0)):
            if np.shape(r) == g.shape and np.allclose(g, r):
                return True
    return False


_RELU_FORWARD = Spec(
    "relu_forward",
    (Output("out", like="x"),),
    [
        Mistake(
            "mask_not_output",
            "out is the 0/1 mask of where x > 0; ReLU returns x itself "
            "where x > 0 and 0 elsewhere.",
            predict=_elementwise(lambda x: (x > 0) * 1.0),
        ),
        Mistake(
            "mask_not_output",
            "out has dtype bool: that is the mask x > 0 itself, not the "
            "ReLU output (x where x > 0, 0 elsewhere).",
            detect=lambda c, got: np.asarray(got[0]).dtype == bool,
        ),
        Mistake(
            "inverted_mask",
            "you kept the negative entries and zeroed the positive ones: ReLU keeps x where x > 0.",
            predict=_elementwise(lambda x: np.minimum(x, 0)),
        ),
        Mistake(
            "leaky",
            "negative inputs leak through scaled by a small slope (leaky ReLU); "
            "plain ReLU sets them to exactly 0.",
            detect=_is_leaky,
        ),
        Mistake(
            "wrong_function",
            "that is the absolute value |x|; ReLU sets negative entries to 0.",
            predict=_elementwise(np.abs),
        ),
        Mistake(
            "np_max",
            "np.max reduces: it returns the largest entries along an axis, so the shape "
            "collapses. ReLU compares every entry with 0 on its own: use np.maximum, the "
            "elementwise maximum.",
            detect=lambda c, got: _is_reduction(c.args["x"], got[0]),
        ),
        Mistake(
            "clipped",
            "the output is clipped at 1 (values above 1 are capped); ReLU has no upper "
            "limit: it keeps x wherever x > 0.",
            predict=_elementwise(lambda x: np.clip(x, 0, 1)),
        ),
    ],
    single=True,
    compared_with=REFERENCE,
)


def check_relu_forward(fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """Check relu_forward(x) -> out = max(0, x)."""
    __tracebackhide__ = True
    failure = run_check(_RELU_FORWARD, fn, _forward_cases(ref.relu_forward, 600))
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


_RELU_BACKWARD = Spec(
    "relu_backward",
    (Output("dx", like="x"),),
    [
        Mistake(
            "dout_ignored",
            "dx is just the 0/1 mask x > 0: multiply it with dout, the upstream gradient.",
            predict=_dout_ones(ref.relu_backward),
        ),
        Mistake(
            "times_input",
            "you multiplied dout by x itself; ReLU's local derivative is the 0/1 mask "
            "(x > 0): 1 where x > 0 and 0 elsewhere, whatever the size of x.",
            predict=lambda c: (c.args["dout"] * c.args["x"],),
        ),
        Mistake(
            "times_input",
            "you multiplied dout by x where x > 0 (that is, by relu(x)); ReLU's local "
            "derivative is the 0/1 mask (x > 0), not x: 1 where x > 0, 0 elsewhere.",
            predict=lambda c: (c.args["dout"] * np.maximum(c.args["x"], 0),),
        ),
        Mistake(
            "swapped_arguments",
            "dout and x seem to be swapped: the arguments come in the order (dout, x); "
            "the mask comes from x, the forward input, and the values from dout.",
            predict=lambda c: (c.args["x"] * (c.args["dout"] > 0),),
        ),
        Mistake(
            "inverted_mask",
            "the mask is inverted: the gradient passes where x > 0 and is 0 where x <= 0.",
            predict=lambda c: (c.args["dout"] * (c.args["x"] <= 0),),
        ),
    ],
    single=True,
    mutation_texts={
        "dout": (
            "mutates_input",
            "you zeroed entries of dout itself. A name like "
            "dx = dout is not a copy: both names refer to the same array, so "
            "changing dx changes the caller's dout. Build a new array instead.",
        )
    },
)


def check_relu_backward(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """Check relu_backward(dout, x) -> dx against numerical gradients."""
    __tracebackhide__ = True
    failure = run_check(
        _RELU_BACKWARD, fn, _backward_cases(ref.relu_forward, ref.relu_backward, 700)
    )
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


_SIGMOID_FORWARD = Spec(
    "sigmoid_forward",
    (Output("out", like="x"),),
    [
        Mistake(
            "sign",
            "the sign in the exponent is flipped: you computed sigmoid(-x) = "
            "1 - sigmoid(x). The sigmoid uses e to the power -x.",
            predict=_elementwise(lambda x: _sig(-x)),
        ),
        Mistake(
            "wrong_function",
            "that is tanh(x); the sigmoid is 1 / (1 + e^-x) and lies in (0, 1).",
            predict=_elementwise(np.tanh),
        ),
        Mistake(
            "precedence",
            "out is 1 + e^-x: writing 1 / 1 + ... divides 1 by 1 first (operator "
            "precedence). Put the whole denominator, 1 + e^-x, in parentheses.",
            predict=_elementwise(lambda x: 1 + np.exp(-x)),
        ),
        Mistake(
            "precedence",
            "out is 1 + e^x: writing 1 / 1 + ... divides 1 by 1 first (operator "
            "precedence), and the exponent needs a minus sign: 1 / (1 + e^-x).",
            predict=_elementwise(lambda x: 1 + np.exp(x)),
        ),
        Mistake(
            "wrong_function",
            "that is e^-x / (1 + e^-x) ... close, but the sigmoid's numerator is 1.",
            predict=_elementwise(lambda x: np.exp(-x) / (1 + np.exp(-x))),
        ),
    ],
    single=True,
    compared_with=REFERENCE,
)


def check_sigmoid_forward(fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """Check sigmoid_forward(x) -> 1 / (1 + exp(-x))."""
    __tracebackhide__ = True
    failure = run_check(_SIGMOID_FORWARD, fn, _forward_cases(ref.sigmoid_forward, 800))
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


def _sig_local(kind: str) -> Callable[[Case], tuple[np.ndarray]]:
    def predict(c: Case) -> tuple[np.ndarray]:
        dout, x = c.args["dout"], c.args["x"]
        s = _sig(x)
        local = {"s": s, "1-s": 1 - s, "s(1+s)": s * (1 + s), "1-s2": 1 - s * s}[kind]
        return (dout * local,)

    return predict


_SIG_DERIV = (
    "the sigmoid's derivative is s (1 - s) with s = sigmoid(x), the forward output; "
    "your local factor is something else."
)

_SIGMOID_BACKWARD = Spec(
    "sigmoid_backward",
    (Output("dx", like="x"),),
    [
        Mistake(
            "output_for_input",
            "you treated x as if it were the sigmoid's output s: the "
            "argument x is the forward input, so compute s = sigmoid(x) first, then use "
            "s (1 - s).",
            predict=lambda c: (c.args["dout"] * c.args["x"] * (1 - c.args["x"]),),
        ),
        Mistake(
            "dout_ignored",
            "dx is the sigmoid's local derivative alone: multiply it with "
            "dout, the upstream gradient.",
            predict=_dout_ones(ref.sigmoid_backward),
        ),
        Mistake("sigmoid_derivative", _SIG_DERIV, predict=_sig_local("s")),
        Mistake("sigmoid_derivative", _SIG_DERIV, predict=_sig_local("1-s")),
        Mistake("sigmoid_derivative", _SIG_DERIV, predict=_sig_local("s(1+s)")),
        Mistake(
            "sigmoid_derivative",
            "1 - s^2 is tanh's derivative pattern; the sigmoid's is s (1 - s).",
            predict=_sig_local("1-s2"),
        ),
    ],
    single=True,
)


def check_sigmoid_backward(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """Check sigmoid_backward(dout, x) -> dx (x is the forward input) against numerical
    gradients."""
    __tracebackhide__ = True
    failure = run_check(
        _SIGMOID_BACKWARD, fn, _backward_cases(ref.sigmoid_forward, ref.sigmoid_backward, 900)
    )
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


_TANH_FORWARD = Spec(
    "tanh_forward",
    (Output("out", like="x"),),
    [
        Mistake(
            "wrong_function",
            "that is the sigmoid, which lies in (0, 1); tanh lies in (-1, 1).",
            predict=_elementwise(_sig),
        ),
        Mistake(
            "wrong_function",
            "2 sigmoid(x) - 1 equals tanh(x / 2), not tanh(x): the sigmoid's argument must be 2x.",
            predict=_elementwise(lambda x: 2 * _sig(x) - 1),
        ),
        Mistake(
            "sign",
            "the result has the wrong sign: tanh(x) is positive for x > 0.",
            predict=_elementwise(lambda x: -np.tanh(x)),
        ),
        Mistake(
            "sign",
            "negative inputs lose their sign (as if you computed tanh(|x|)): tanh is odd, "
            "tanh(-x) = -tanh(x), so out is negative wherever x is.",
            predict=_elementwise(lambda x: np.tanh(np.abs(x))),
        ),
    ],
    single=True,
    compared_with=REFERENCE,
)


def check_tanh_forward(fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """Check tanh_forward(x) -> tanh(x)."""
    __tracebackhide__ = True
    failure = run_check(_TANH_FORWARD, fn, _forward_cases(ref.tanh_forward, 1000))
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


def _tanh_local(kind: str) -> Callable[[Case], tuple[np.ndarray]]:
    def predict(c: Case) -> tuple[np.ndarray]:
        dout, t = c.args["dout"], np.tanh(c.args["x"])
        local = {
            "1-t": 1 - t,
            "1+t2": 1 + t * t,
            "t2": t * t,
            "(1-t)2": (1 - t) ** 2,
            "s(1-s)": t * (1 - t),
        }[kind]
        return (dout * local,)

    return predict


_TANH_DERIV = (
    "tanh's derivative is 1 - t^2 with t = tanh(x), the forward output; your local "
    "factor is something else."
)

_TANH_BACKWARD = Spec(
    "tanh_backward",
    (Output("dx", like="x"),),
    [
        Mistake(
            "output_for_input",
            "you treated x as if it were tanh's output t: the argument x "
            "is the forward input, so compute t = tanh(x) first, then use 1 - t^2.",
            predict=lambda c: (c.args["dout"] * (1 - c.args["x"] ** 2),),
        ),
        Mistake(
            "dout_ignored",
            "dx is tanh's local derivative alone: multiply it with dout, the upstream gradient.",
            predict=_dout_ones(ref.tanh_backward),
        ),
        Mistake(
            "tanh_derivative", _TANH_DERIV + " (The square is missing.)", predict=_tanh_local("1-t")
        ),
        Mistake(
            "tanh_derivative",
            _TANH_DERIV + " (It is 1 minus t^2, not plus.)",
            predict=_tanh_local("1+t2"),
        ),
        Mistake("tanh_derivative", _TANH_DERIV, predict=_tanh_local("t2")),
        Mistake("tanh_derivative", _TANH_DERIV, predict=_tanh_local("(1-t)2")),
        Mistake(
            "tanh_derivative",
            "t (1 - t) is the sigmoid's derivative pattern; tanh's is 1 - t^2.",
            predict=_tanh_local("s(1-s)"),
        ),
        Mistake(
            "tanh_derivative",
            "that is the sigmoid's derivative, s (1 - s) with s = sigmoid(x); tanh's "
            "derivative is 1 - t^2 with t = tanh(x).",
            predict=lambda c: (c.args["dout"] * _sig(c.args["x"]) * (1 - _sig(c.args["x"])),),
        ),
    ],
    single=True,
)


def check_tanh_backward(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """Check tanh_backward(dout, x) -> dx (x is the forward input) against numerical gradients."""
    __tracebackhide__ = True
    failure = run_check(
        _TANH_BACKWARD, fn, _backward_cases(ref.tanh_forward, ref.tanh_backward, 1100)
    )
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


# --- 05 losses ---------------------------------------------------------------------------------
@functools.cache
def _mse_cases() -> tuple[Case, ...]:
    cases = []
    for seed, (n, d) in enumerate([(4, 3), (5, 2), (3, 6)]):
        r = _rng(1200 + seed)
        pred, target = r.normal(size=(n, d)), r.normal(size=(n, d))
        loss, _ = ref_losses.mse_loss(pred, target)
        dpred = numerical_gradient(lambda p, t=target: ref_losses.mse_loss(p, t)[0], pred.copy())
        cases.append(Case({"pred": pred, "target": target}, (loss, dpred), sizes={"N": n, "D": d}))
    r = _rng(1209)
    pred, target = r.normal(size=(5, 3)), r.normal(size=(5, 3))
    cases.append(
        _f32_case(
            {"pred": pred, "target": target},
            ref_losses.mse_loss(pred, target),
            sizes={"N": 5, "D": 3},
        )
    )
    return tuple(cases)


def _mse_factors(c: Case, name: str) -> list[tuple[float, str, str]]:
    n, d = c.sizes["N"], c.sizes["D"]
    if name == "loss":
        return [
            (
                float(n * d),
                "batch_size",
                f"loss is the sum of the squared errors, N*D = {n * d} "
                "times the mean: divide by the number of elements.",
            ),
            (
                float(d),
                "batch_size",
                f"loss is D = {d} times too large: you averaged over the "
                "batch (N) but summed over the outputs; the mean runs over all N*D elements.",
            ),
            (
                0.5,
                "factor_two",
                "loss is half the expected value: this course's MSE has no 1/2 in front.",
            ),
        ]
    return [
        (
            0.5,
            "factor_two",
            "dpred is half the expected value: differentiating the square "
            "(pred - target)^2 brings down a factor 2.",
        ),
        (
            float(d),
            "batch_size",
            f"dpred is D = {d} times too large: you divided by the batch "
            f"size N = {n}, but the loss averages over all N*D = {n * d} elements.",
        ),
        (
            float(n * d),
            "batch_size",
            f"dpred is N*D = {n * d} times too large: the loss is a mean "
            "over all elements, so its gradient divides by their number.",
        ),
        (
            -1.0,
            "sign",
            "dpred has the wrong sign: the loss grows when pred moves away from "
            "target, so the gradient points along pred - target.",
        ),
    ]


_MSE = Spec(
    "mse_loss",
    (Output("loss", "scalar"), Output("dpred", like="pred")),
    [
        Mistake(
            "wrong_function",
            "that is the root of the mean squared error (RMSE); the loss "
            "is the mean squared error itself, without the square root.",
            predict=lambda c: (
                float(np.sqrt(np.mean((c.args["pred"] - c.args["target"]) ** 2))),
                None,
            ),
        ),
    ],
    factors=_mse_factors,
)


def check_mse_loss(fn: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]) -> None:
    """Check mse_loss(pred, target) -> (loss, dpred): loss against the reference, dpred against
    numerical gradients."""
    __tracebackhide__ = True
    failure = run_check(_MSE, fn, _mse_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


@functools.cache
def _sce_cases() -> tuple[Case, ...]:
    cases = []
    first = None
    for seed, (n, c) in enumerate([(4, 3), (6, 5), (5, 10)]):
        r = _rng(1300 + seed)
        logits = r.normal(scale=2.0, size=(n, c))
        labels = r.integers(0, c, size=n)
        loss, _ = ref_losses.softmax_cross_entropy(logits, labels)
        dlogits = numerical_gradient(
            lambda z, y=labels: ref_losses.softmax_cross_entropy(z, y)[0], logits.copy()
        )
        cases.append(
            Case({"logits": logits, "labels": labels}, (loss, dlogits), sizes={"N": n, "C": c})
        )
        first = first or (logits, labels, n, c)
    logits, labels, n, c = first
    shifted = logits + 1000.0
    loss, dlogits = ref_losses.softmax_cross_entropy(shifted, labels)
    cases.append(
        Case(
            {"logits": shifted, "labels": labels},
            (loss, dlogits),
            sizes={"N": n, "C": c},
            note="every logit shifted by +1000, which does not change softmax",
            extra={"shifted": True},
            tol=1e-6,
        )
    )
    r = _rng(1309)
    logits, labels = r.normal(scale=2.0, size=(5, 4)), r.integers(0, 4, size=5)
    cases.append(
        _f32_case(
            {"logits": logits, "labels": labels},
            ref_losses.softmax_cross_entropy(logits, labels),
            sizes={"N": 5, "C": 4},
        )
    )
    return tuple(cases)


def _naive_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sce_pred(kind: str) -> Callable[[Case], tuple[Any, Any]]:
    def predict(c: Case) -> tuple[Any, Any]:
        z, y = c.args["logits"], c.args["labels"]
        n = len(y)
        rows = np.arange(n)
        if kind == "axis0":
            p = _naive_softmax(z, 0)
            d = p.copy()
            d[rows, y] -= 1
            return float(-np.mean(np.log(p[rows, y]))), d / n
        p = _naive_softmax(z, 1)
        if kind == "no_onehot":
            return None, p / n
        if kind == "columns":
            return float(-np.mean(np.log(p[:, y]))), None
        if kind == "columns_sum":
            return float(-np.sum(np.log(p[:, y])) / n), None
        if kind == "no_log":
            return float(-np.mean(p[rows, y])), None
        if kind == "all_classes":
            return float(-np.sum(np.log(p)) / n), None
        if kind == "all_classes_mean":
            return float(-np.mean(np.log(p))), None
        if kind in ("global", "global_rowmax"):
            shift = z.max(axis=1, keepdims=True) if kind == "global_rowmax" else z.max()
            e = np.exp(z - shift)
            q = e / e.sum()
            return float(-np.mean(np.log(q[rows, y]))), None
        raise ValueError(kind)

    return predict


def _overflowed(c: Case, got: Sequence[Any]) -> bool:
    if not c.extra.get("shifted"):
        return False
    for g in got:
        try:
            if not np.all(np.isfinite(np.asarray(g, dtype=np.float64))):
                return True
        except (TypeError, ValueError):
            continue
    return False


_SCE = Spec(
    "softmax_cross_entropy",
    (Output("loss", "scalar"), Output("dlogits", like="logits")),
    [
        Mistake(
            "no_max_subtraction",
            "np.exp overflows to inf for large logits, and inf / inf "
            "is nan. Subtract each row's largest logit before exponentiating: softmax does "
            "not change when you shift a row by a constant, and the largest exponent "
            "becomes e^0 = 1.",
            detect=_overflowed,
        ),
        Mistake(
            "one_hot",
            "dlogits is softmax / N without the one-hot term: the gradient of "
            "-log p[label] subtracts 1 at each example's true class before dividing by N.",
            predict=_sce_pred("no_onehot"),
        ),
        Mistake(
            "reduction_axis",
            "the softmax is normalised over the wrong axis: each row (one "
            "example's scores over the C classes) must sum to 1, so normalise along axis 1.",
            predict=_sce_pred("axis0"),
        ),
        Mistake(
            "label_indexing",
            "p[:, labels] picks an N x N block (every row at every label); each example "
            "needs one entry, its own row at its own label: index the rows and the labels "
            "together.",
            predict=_sce_pred("columns"),
        ),
        Mistake(
            "label_indexing",
            "p[:, labels] picks an N x N block (every row at every label); each example "
            "needs one entry, its own row at its own label: index the rows and the labels "
            "together.",
            predict=_sce_pred("columns_sum"),
        ),
        Mistake(
            "missing_log",
            "the log is missing: cross-entropy averages -log p[label], not -p[label].",
            predict=_sce_pred("no_log"),
        ),
        Mistake(
            "label_indexing",
            "the loss adds up the log-probabilities of all classes; cross-entropy takes "
            "only each example's true class, -log p[label], and averages over the batch.",
            predict=_sce_pred("all_classes"),
        ),
        Mistake(
            "label_indexing",
            "the loss averages the log-probabilities of all classes; cross-entropy takes "
            "only each example's true class, -log p[label], and averages over the batch.",
            predict=_sce_pred("all_classes_mean"),
        ),
        Mistake(
            "reduction_axis",
            "the softmax denominator sums over all N*C entries (no axis given); each row, "
            "one example, is normalised on its own: sum over axis 1, the classes.",
            predict=_sce_pred("global"),
        ),
        Mistake(
            "reduction_axis",
            "the softmax denominator sums over all N*C entries (no axis given); each row, "
            "one example, is normalised on its own: sum over axis 1, the classes.",
            predict=_sce_pred("global_rowmax"),
        ),
    ],
)


def check_softmax_cross_entropy(
    fn: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]],
) -> None:
    """Check softmax_cross_entropy(logits, labels) -> (loss, dlogits), including logits so large
    that exp overflows without the max-subtraction trick."""
    __tracebackhide__ = True
    failure = run_check(_SCE, fn, _sce_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


# --- 06 a two-layer network --------------------------------------------------------------------
_NET_KEYS = ("W1", "b1", "W2", "b2")


def _net_loss(
    x: np.ndarray,
    labels: np.ndarray,
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
) -> float:
    h = ref.relu_forward(ref.linear_forward(x, W1, b1))
    return ref_losses.softmax_cross_entropy(ref.linear_forward(h, W2, b2), labels)[0]


@functools.cache
def _net_cases() -> tuple[Case, ...]:
    cases = []
    for seed, (n, d, hdim, c) in enumerate([(5, 4, 6, 3), (7, 3, 5, 4)]):
        r = _rng(1400 + seed)
        x = r.normal(size=(n, d))
        args = {
            "x": x,
            "labels": r.integers(0, c, size=n),
            "W1": r.normal(scale=0.8, size=(d, hdim)),
            "b1": r.normal(scale=0.3, size=hdim),
            "W2": r.normal(scale=0.8, size=(hdim, c)),
            "b2": r.normal(scale=0.3, size=c),
        }
        # The hidden pre-activations stay away from 0 for these seeds (see the tests), so
        # finite differences never straddle ReLU's kink.
        pre = x @ args["W1"] + args["b1"]
        grads = []
        for key in _NET_KEYS:

            def f(value: np.ndarray, key: str = key, args: dict = args) -> float:
                return _net_loss(**(args | {key: value}))

            grads.append(numerical_gradient(f, args[key].copy()))
        cases.append(
            Case(
                args,
                (_net_loss(**args), *grads),
                sizes={"N": n, "D": d, "H": hdim, "C": c},
                extra={
                    "dh": np.zeros((n, hdim)),
                    "dscores": np.zeros((n, c)),
                    "min_abs_pre": float(np.abs(pre).min()),
                },
            )
        )
    first = cases[0]
    cases.append(_f32_case(first.args, first.expected, sizes=first.sizes, extra=first.extra))
    return tuple(cases)


def _net_pred(
    *, mask: bool = True, onehot: bool = True, times_h: bool = False, w2_pre: bool = False
) -> Callable[[Case], tuple[Any, ...]]:
    def predict(c: Case) -> tuple[Any, ...]:
        a = c.args
        n = a["x"].shape[0]
        pre = a["x"] @ a["W1"] + a["b1"]
        h = np.maximum(pre, 0)
        p = _naive_softmax(h @ a["W2"] + a["b2"], 1)
        ds = p.copy()
        if onehot:
            ds[np.arange(n), a["labels"]] -= 1
        ds /= n
        dh = ds @ a["W2"].T
        if times_h:
            dh = dh * h
        elif mask:
            dh = dh * (pre > 0)
        dw2 = (pre if w2_pre else h).T @ ds
        if w2_pre:
            return None, None, None, dw2, None
        return None, a["x"].T @ dh, dh.sum(0), dw2, ds.sum(0)

    return predict


def _net_unpack(spec: Spec, case: Case, result: Any) -> tuple[Any, ...]:
    __tracebackhide__ = True
    name = spec.name

    def fail(msg: str, output: str, tag: str) -> CheckFailure:
        return CheckFailure(
            f"{name}: {msg}\n    (tested with {case.label()})",
            exercise=name,
            output=output,
            mistake=tag,
        )

    if result is None:
        raise fail(
            "returned None; it should return (loss, grads).\n    Hint: Did you forget "
            "the return statement?",
            "loss",
            "returned_none",
        )
    if not isinstance(result, tuple | list) or len(result) != 2:
        what = (
            f"{len(result)} values"
            if isinstance(result, tuple | list)
            else f"a {type(result).__name__}"
        )
        raise fail(
            f"returned {what}; it should return two values, (loss, grads).", "loss", "wrong_count"
        )
    loss, grads = result
    if isinstance(loss, dict) and not isinstance(grads, dict):
        raise fail(
            "the outputs come back in the wrong order: you returned (grads, loss), the "
            "order is (loss, grads).",
            "loss",
            "order",
        )
    if not isinstance(grads, dict):
        raise fail(
            f"grads is a {type(grads).__name__}; it should be a dict with keys "
            "'W1', 'b1', 'W2', 'b2'.",
            "grads",
            "wrong_type",
        )
    missing = [k for k in _NET_KEYS if k not in grads]
    if missing:
        raise fail(
            f"grads has keys {sorted(map(str, grads))}; it needs the keys 'W1', 'b1', "
            f"'W2', 'b2' (missing: {', '.join(missing)}).\n    Likely mistake: Name each "
            "gradient after its parameter: grads['W1'] is the gradient of the loss with "
            "respect to W1.",
            "grads",
            "dict_keys",
        )
    return (loss, *(grads[k] for k in _NET_KEYS))


_NET = Spec(
    "two_layer_net",
    (
        Output("loss", "scalar"),
        Output('grads["W1"]', like="W1"),
        Output('grads["b1"]', like="b1", reduced_from="dh"),
        Output('grads["W2"]', like="W2"),
        Output('grads["b2"]', like="b2", reduced_from="dscores"),
    ),
    [
        Mistake(
            "missing_relu_mask",
            "the gradient flowing back into the hidden layer skips "
            "ReLU's backward step: it must be zero wherever the hidden pre-activation "
            "x W1 + b1 was <= 0.",
            predict=_net_pred(mask=False),
        ),
        Mistake(
            "one_hot",
            "the gradient of the scores misses the one-hot term: softmax minus "
            "1 at each example's true class, then divided by N.",
            predict=_net_pred(onehot=False),
        ),
        Mistake(
            "relu_backward_times_h",
            "ReLU's backward step multiplies by h, the hidden activation; it multiplies by "
            "the 0/1 mask of where the pre-activation x W1 + b1 is > 0.",
            predict=_net_pred(times_h=True),
        ),
        Mistake(
            "pre_activation",
            'grads["W2"] is built from the pre-activation x W1 + b1; the second layer\'s '
            "input is h = relu(x W1 + b1), the hidden activation after the ReLU.",
            predict=_net_pred(w2_pre=True),
        ),
    ],
    unpack=_net_unpack,
)


def check_two_layer_net(fn: Callable[..., tuple[float, dict[str, np.ndarray]]]) -> None:
    """Check two_layer_net(x, labels, W1, b1, W2, b2) -> (loss, grads): the loss against the
    reference, every gradient against numerical gradients of the loss."""
    __tracebackhide__ = True
    failure = run_check(_NET, fn, _net_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


# --- 07 learning rate --------------------------------------------------------------------------
def _quadratic(
    shape: tuple[int, ...], seed: int
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    r = _rng(seed)
    k = int(np.prod(shape))
    a = r.normal(size=(k + 2, k))
    y = r.normal(size=k + 2)

    def loss_and_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        res = a @ np.asarray(w, dtype=np.float64).reshape(-1) - y
        return float(0.5 * res @ res / len(y)), (a.T @ res / len(y)).reshape(shape)

    return loss_and_grad


def _descend(
    lg: Callable[..., Any],
    w0: np.ndarray,
    lr: float,
    steps: int,
    *,
    sign: float = 1.0,
    after: bool = False,
) -> tuple[np.ndarray, list[float]]:
    w = np.array(w0, dtype=np.float64)
    losses = []
    for _ in range(steps):
        loss, g = lg(w)
        w = w - sign * lr * g
        losses.append(lg(w)[0] if after else loss)
    return w, losses


@functools.cache
def _gd_cases() -> tuple[Case, ...]:
    cases = []
    for seed, (shape, lr, steps) in enumerate([((3,), 0.1, 5), ((2, 3), 0.05, 7), ((4,), 0.3, 3)]):
        lg = _quadratic(shape, 1500 + seed)
        w0 = _rng(1510 + seed).normal(size=shape)
        w, losses = [], []
        w, losses = w0.copy(), []
        for _ in range(steps):
            loss, g = lg(w)
            losses.append(loss)
            w = ref_optim.sgd_step(w, g, lr)
        cases.append(
            Case(
                {"loss_and_grad": lg, "w0": w0, "lr": lr, "steps": steps},
                (w, losses),
                sizes={"steps": steps},
            )
        )
    # float32: w0 and the gradients are float32, so w stays float32
    lg64 = _quadratic((3,), 1509)

    def lg32(w: np.ndarray) -> tuple[float, np.ndarray]:
        loss, g = lg64(w)
        return loss, g.astype(np.float32)

    w0 = _rng(1519).normal(size=3)
    w, losses = _descend(lg64, w0.astype(np.float32), 0.1, 4)
    case = _f32_case({"loss_and_grad": lg32, "w0": w0, "lr": 0.1, "steps": 4}, (w, losses))
    case.sizes = {"steps": 4}
    cases.append(case)
    return tuple(cases)


def _gd_args(c: Case) -> tuple[Any, ...]:
    return c.args["loss_and_grad"], c.args["w0"], c.args["lr"], c.args["steps"]


_GD = Spec(
    "gradient_descent",
    (Output("w", like="w0"), Output("losses", "floats")),
    [
        Mistake(
            "losses_after_step",
            "losses[i] is the loss after step i; it should be the loss "
            "before step i (so losses[0] is the loss at w0).",
            predict=lambda c: (None, _descend(*_gd_args(c), after=True)[1]),
        ),
        Mistake(
            "sign",
            "the sign of the step is flipped, so w moves uphill (gradient ascent): you "
            "added lr * dw; gradient descent subtracts it.",
            predict=lambda c: _descend(*_gd_args(c), sign=-1.0),
        ),
        Mistake(
            "off_by_one",
            "w is one step short: the loop ran steps - 1 times; it must take exactly "
            "steps steps (range(steps) counts 0 .. steps - 1).",
            predict=lambda c: _descend(*_gd_args(c)[:3], c.args["steps"] - 1),
        ),
        Mistake(
            "off_by_one",
            "w went one step too far: the loop ran steps + 1 times; it must take exactly "
            "steps steps.",
            predict=lambda c: _descend(*_gd_args(c)[:3], c.args["steps"] + 1),
        ),
        Mistake(
            "lr_ignored",
            "the steps ignore the learning rate lr: each step moves by lr times the "
            "gradient, not by the gradient itself.",
            predict=lambda c: _descend(c.args["loss_and_grad"], c.args["w0"], 1.0, c.args["steps"]),
        ),
        Mistake(
            "not_updated",
            "w never changes: the updated weights are not carried into the next step.",
            predict=lambda c: (
                c.args["w0"],
                [c.args["loss_and_grad"](c.args["w0"])[0]] * c.args["steps"],
            ),
        ),
        Mistake(
            "off_by_one",
            "losses should have exactly one entry per step (the loss before "
            "that step): {steps} steps give {steps} losses.",
            detect=lambda c, got: (
                isinstance(got[1], list | tuple | np.ndarray)
                and abs(len(got[1]) - c.args["steps"]) == 1
            ),
            only=("losses",),
        ),
    ],
    compared_with=REFERENCE,
)


def check_gradient_descent(fn: Callable[..., tuple[np.ndarray, list[float]]]) -> None:
    """Check gradient_descent(loss_and_grad, w0, lr, steps) -> (w, losses)."""
    __tracebackhide__ = True
    failure = run_check(_GD, fn, _gd_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


@functools.cache
def _sgd_cases() -> tuple[Case, ...]:
    cases = []
    for seed, (shape, lr) in enumerate([((3, 4), 0.1), ((5,), 0.03), ((2, 3, 2), 0.5)]):
        r = _rng(1600 + seed)
        w, dw = r.normal(size=shape), r.normal(size=shape)
        cases.append(Case({"w": w, "dw": dw, "lr": lr}, (ref_optim.sgd_step(w, dw, lr),)))
    r = _rng(1609)
    w, dw = r.normal(size=(4, 2)), r.normal(size=(4, 2))
    cases.append(_f32_case({"w": w, "dw": dw, "lr": 0.1}, (ref_optim.sgd_step(w, dw, 0.1),)))
    return tuple(cases)


_SGD = Spec(
    "sgd_step",
    (Output("w", like="w"),),
    [
        Mistake(
            "sign",
            "the sign of the step is flipped, so w moves uphill: you added lr * dw; a "
            "descent step subtracts it.",
            predict=lambda c: (c.args["w"] + c.args["lr"] * c.args["dw"],),
        ),
        Mistake(
            "wrong_input",
            "the step uses w where the gradient dw belongs: w_new is w minus lr times the "
            "gradient dw (w times lr would just shrink the weights).",
            predict=lambda c: (c.args["w"] - c.args["lr"] * c.args["w"],),
        ),
        Mistake(
            "lr_ignored",
            "the step ignores the learning rate: the step is lr times the gradient.",
            predict=lambda c: (c.args["w"] - c.args["dw"],),
        ),
        Mistake(
            "returned_step",
            "you returned the step, not the updated weights w.",
            predict=lambda c: (-c.args["lr"] * c.args["dw"],),
        ),
        Mistake(
            "returned_step",
            "you returned the step, not the updated weights w.",
            predict=lambda c: (c.args["lr"] * c.args["dw"],),
        ),
    ],
    single=True,
    compared_with=REFERENCE,
)


def check_sgd_step(fn: Callable[[np.ndarray, np.ndarray, float], np.ndarray]) -> None:
    """Check sgd_step(w, dw, lr) -> w - lr * dw (w itself unchanged)."""
    __tracebackhide__ = True
    failure = run_check(_SGD, fn, _sgd_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


# --- 08 optimizers -----------------------------------------------------------------------------
@functools.cache
def _momentum_cases() -> tuple[Case, ...]:
    cases = []
    for seed, (shape, lr, beta, zero_v) in enumerate(
        [((3, 4), 0.1, 0.9, False), ((5,), 0.05, 0.5, True), ((2, 3), 0.2, 0.8, False)]
    ):
        r = _rng(1700 + seed)
        w, dw = r.normal(size=shape), r.normal(size=shape)
        v = np.zeros(shape) if zero_v else r.normal(size=shape)
        args = {"w": w, "dw": dw, "velocity": v, "lr": lr, "beta": beta}
        cases.append(
            Case(args, ref_optim.momentum_step(**args), note="first step" if zero_v else "")
        )
    r = _rng(1709)
    args = {
        "w": r.normal(size=(4, 2)),
        "dw": r.normal(size=(4, 2)),
        "velocity": r.normal(size=(4, 2)),
        "lr": 0.1,
        "beta": 0.9,
    }
    cases.append(_f32_case(args, ref_optim.momentum_step(**args)))
    return tuple(cases)


def _mom(c: Case) -> tuple[np.ndarray, ...]:
    a = c.args
    return a["w"], a["dw"], a["velocity"], a["lr"], a["beta"]


_MOMENTUM = Spec(
    "momentum_step",
    (Output("w", like="w"), Output("v", like="velocity")),
    [
        Mistake(
            "old_state",
            "w moved with the old velocity: update the velocity first, then "
            "step w with the new one.",
            predict=lambda c: (lambda w, dw, v, lr, b: (w - lr * v, b * v + dw))(*_mom(c)),
        ),
        Mistake(
            "momentum_convention",
            "that is the other common momentum convention (the "
            "velocity already includes -lr). This course follows PyTorch: the velocity "
            "accumulates gradients, v = beta v + dw, and w steps by -lr v.",
            predict=lambda c: (lambda w, dw, v, lr, b: (w + (b * v - lr * dw), b * v - lr * dw))(
                *_mom(c)
            ),
        ),
        Mistake(
            "dampening",
            "the gradient is scaled by (1 - beta) in the velocity (an average, "
            "as in Adam's first moment); here the velocity adds the full gradient.",
            predict=lambda c: (
                lambda w, dw, v, lr, b: (w - lr * (b * v + (1 - b) * dw), b * v + (1 - b) * dw)
            )(*_mom(c)),
        ),
        Mistake(
            "sign",
            "the sign of the step is flipped, so w moves uphill: a descent step subtracts "
            "lr times the velocity.",
            predict=lambda c: (lambda w, dw, v, lr, b: (w + lr * (b * v + dw), None))(*_mom(c)),
        ),
        Mistake(
            "beta_misplaced",
            "beta multiplies the gradient; it belongs on the old velocity: v = beta v + dw "
            "(the velocity decays, the new gradient is added in full).",
            predict=lambda c: (lambda w, dw, v, lr, b: (w - lr * (v + b * dw), v + b * dw))(
                *_mom(c)
            ),
        ),
    ],
    compared_with=REFERENCE,
    state=("v",),
)


def check_momentum_step(fn: Callable[..., tuple[np.ndarray, np.ndarray]]) -> None:
    """Check momentum_step(w, dw, velocity, lr, beta) -> (w_new, v_new)."""
    __tracebackhide__ = True
    failure = run_check(_MOMENTUM, fn, _momentum_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


@functools.cache
def _rmsprop_cases() -> tuple[Case, ...]:
    cases = []
    settings = [
        ((3, 4), 0.01, {}),
        ((5,), 0.05, {"decay": 0.9, "eps": 0.1}),
        ((2, 3), 0.02, {"decay": 0.5, "eps": 1e-6}),
    ]
    for seed, (shape, lr, kw) in enumerate(settings):
        r = _rng(1800 + seed)
        w, dw = r.normal(size=shape), r.normal(size=shape)
        cache = r.uniform(0.1, 1.0, size=shape)
        args = {"w": w, "dw": dw, "cache": cache, "lr": lr}
        cases.append(
            Case(
                args,
                ref_optim.rmsprop_step(**args, **kw),
                kwargs=kw,
                extra={"decay": kw.get("decay", 0.99), "eps": kw.get("eps", 1e-8)},
            )
        )
    r = _rng(1809)
    args = {
        "w": r.normal(size=(4, 2)),
        "dw": r.normal(size=(4, 2)),
        "cache": r.uniform(0.1, 1.0, size=(4, 2)),
        "lr": 0.01,
    }
    cases.append(
        _f32_case(args, ref_optim.rmsprop_step(**args), extra={"decay": 0.99, "eps": 1e-8})
    )
    return tuple(cases)


def _rms(
    c: Case,
    *,
    decay: float | None = None,
    eps: float | None = None,
    square: bool | str = True,
    old: bool = False,
    sign: float = 1.0,
    swap: bool = False,
    sqrt: bool = True,
    eps_inside: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    w, dw, cache, lr = (c.args[k] for k in ("w", "dw", "cache", "lr"))
    decay = c.extra["decay"] if decay is None else decay
    eps = c.extra["eps"] if eps is None else eps
    g2 = dw * dw if square is True else (dw if square == "plain" else np.abs(dw))
    new = (1 - decay) * cache + decay * g2 if swap else decay * cache + (1 - decay) * g2
    used = cache if old else new
    denom = (np.sqrt(used + eps) if eps_inside else np.sqrt(used) + eps) if sqrt else used + eps
    return w - sign * lr * dw / denom, new


_RMSPROP = Spec(
    "rmsprop_step",
    (Output("w", like="w"), Output("cache", like="cache")),
    [
        Mistake(
            "eps_placement",
            "eps is inside the square root; it belongs outside, added to sqrt(cache).",
            predict=lambda c: _rms(c, eps_inside=True),
        ),
        Mistake(
            "not_squared",
            "the cache must average the squared gradient, dw^2 (not |dw| or dw).",
            predict=lambda c: _rms(c, square=False),
        ),
        Mistake(
            "not_squared",
            "the cache accumulates dw itself; it must average the squared gradient, dw^2.",
            predict=lambda c: _rms(c, square="plain"),
        ),
        Mistake(
            "sign",
            "the sign of the step is flipped, so w moves uphill: a descent step subtracts "
            "lr * dw / (sqrt(cache) + eps).",
            predict=lambda c: _rms(c, sign=-1.0),
        ),
        Mistake(
            "old_state",
            "the step used the old cache: update the cache first, then divide "
            "by the square root of the new one.",
            predict=lambda c: _rms(c, old=True),
        ),
        Mistake(
            "decay_swapped",
            "decay and 1 - decay are swapped: the old cache keeps the "
            "weight decay, the new squared gradient gets 1 - decay.",
            predict=lambda c: _rms(c, swap=True),
        ),
        Mistake(
            "missing_sqrt",
            "the step divides by the cache itself; it divides by its square "
            "root (a root-mean-square of the gradients).",
            predict=lambda c: _rms(c, sqrt=False),
        ),
        Mistake(
            "eps_ignored",
            "your function ignores its eps argument (it used 1e-8 while this "
            "test passed a different eps).",
            predict=lambda c: _rms(c, eps=1e-8),
        ),
        Mistake(
            "decay_ignored",
            "your function ignores its decay argument (it used 0.99 while "
            "this test passed a different decay).",
            predict=lambda c: _rms(c, decay=0.99),
        ),
    ],
    compared_with=REFERENCE,
    state=("cache",),
)


def check_rmsprop_step(fn: Callable[..., tuple[np.ndarray, np.ndarray]]) -> None:
    """Check rmsprop_step(w, dw, cache, lr, decay=0.99, eps=1e-8) -> (w_new, cache_new)."""
    __tracebackhide__ = True
    failure = run_check(_RMSPROP, fn, _rmsprop_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


@functools.cache
def _adam_cases() -> tuple[Case, ...]:
    cases = []
    settings = [
        ((3, 4), 3, 0.01, {}, False),
        ((5,), 1, 0.02, {}, True),
        ((2, 3), 10, 0.05, {"beta1": 0.8, "beta2": 0.99, "eps": 0.05}, False),
    ]
    for seed, (shape, t, lr, kw, zero) in enumerate(settings):
        r = _rng(1900 + seed)
        w, dw = r.normal(size=shape), r.normal(size=shape)
        m = np.zeros(shape) if zero else 0.3 * r.normal(size=shape)
        v = np.zeros(shape) if zero else r.uniform(0.01, 0.5, size=shape)
        args = {"w": w, "dw": dw, "m": m, "v": v, "t": t, "lr": lr}
        extra = {
            "beta1": kw.get("beta1", 0.9),
            "beta2": kw.get("beta2", 0.999),
            "eps": kw.get("eps", 1e-8),
        }
        cases.append(
            Case(
                args,
                ref_optim.adam_step(**args, **kw),
                kwargs=kw,
                extra=extra,
                note="first step, t = 1" if zero else "",
            )
        )
    r = _rng(1909)
    args = {
        "w": r.normal(size=(4, 2)),
        "dw": r.normal(size=(4, 2)),
        "m": 0.3 * r.normal(size=(4, 2)),
        "v": r.uniform(0.01, 0.5, size=(4, 2)),
        "t": 2,
        "lr": 0.01,
    }
    cases.append(
        _f32_case(
            args, ref_optim.adam_step(**args), extra={"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
        )
    )
    return tuple(cases)


def _adam(
    c: Case,
    *,
    t_shift: int = 0,
    correct: bool | str = True,
    hats: bool = False,
    eps_inside: bool = False,
    square: str = "square",
    swap: str = "",
    damp: str = "",
    sign: float = 1.0,
) -> tuple[np.ndarray, ...]:
    w, dw, m, v, t, lr = (c.args[k] for k in ("w", "dw", "m", "v", "t", "lr"))
    b1, b2, eps = c.extra["beta1"], c.extra["beta2"], c.extra["eps"]
    c1, c2 = b1, b2
    if swap:
        b1, b2 = b2, b1
        if swap == "all":
            c1, c2 = b1, b2
    t = t + t_shift
    g2 = {"square": dw * dw, "plain": dw, "abs": np.abs(dw)}[square]
    m1 = b1 * m + (1.0 if "m" in damp else 1 - b1) * dw
    v1 = b2 * v + (1.0 if "v" in damp else 1 - b2) * g2
    if correct == "no_power":
        mh, vh = m1 / (1 - c1), v1 / (1 - c2)
    else:
        mh, vh = (m1 / (1 - c1**t), v1 / (1 - c2**t)) if correct else (m1, v1)
    denom = np.sqrt(vh + eps) if eps_inside else np.sqrt(vh) + eps
    w1 = w - sign * lr * mh / denom
    return (w1, mh, vh) if hats else (w1, m1, v1)


_ADAM = Spec(
    "adam_step",
    (Output("w", like="w"), Output("m", like="m"), Output("v", like="v")),
    [
        Mistake(
            "no_bias_correction",
            "the step skips the bias correction: m and v start at "
            "zero, so early on they are too small; divide them by (1 - beta1^t) and "
            "(1 - beta2^t) before the step.",
            predict=lambda c: _adam(c, correct=False),
        ),
        Mistake(
            "t_off_by_one",
            "the bias correction uses t + 1; the t you are given already "
            "counts this step (it starts at 1).",
            predict=lambda c: _adam(c, t_shift=1),
        ),
        Mistake(
            "t_off_by_one",
            "the bias correction uses t - 1; the t you are given already "
            "counts this step (it starts at 1), so use t itself.",
            predict=lambda c: _adam(c, t_shift=-1),
        ),
        Mistake(
            "corrected_state",
            "you returned the bias-corrected moments; return the raw "
            "running averages m and v (the correction is applied afresh at each step).",
            predict=lambda c: _adam(c, hats=True),
        ),
        Mistake(
            "eps_placement",
            "eps is inside the square root; it belongs outside, added to sqrt(v_hat).",
            predict=lambda c: _adam(c, eps_inside=True),
        ),
        Mistake(
            "not_squared",
            "v accumulates dw itself; it must average the squared gradient, dw^2.",
            predict=lambda c: _adam(c, square="plain"),
        ),
        Mistake(
            "not_squared",
            "v accumulates |dw|; it must average the squared gradient, dw^2.",
            predict=lambda c: _adam(c, square="abs"),
        ),
        Mistake(
            "betas_swapped",
            "beta1 and beta2 are swapped: m (the first moment) decays with beta1, v (the "
            "second moment) with beta2.",
            predict=lambda c: _adam(c, swap="all"),
        ),
        Mistake(
            "betas_swapped",
            "beta1 and beta2 are swapped in the moment updates: m decays with beta1, v with beta2.",
            predict=lambda c: _adam(c, swap="moments"),
        ),
        Mistake(
            "missing_one_minus_beta",
            "m is missing the (1 - beta1) factor: it is a running average, beta1 times m "
            "plus (1 - beta1) times dw.",
            predict=lambda c: _adam(c, damp="m"),
        ),
        Mistake(
            "missing_one_minus_beta",
            "v is missing the (1 - beta2) factor: it is a running average, beta2 times v "
            "plus (1 - beta2) times dw^2.",
            predict=lambda c: _adam(c, damp="v"),
        ),
        Mistake(
            "missing_one_minus_beta",
            "m and v are missing their (1 - beta) factors: each is a running average, "
            "beta times the old value plus (1 - beta) times the new one.",
            predict=lambda c: _adam(c, damp="mv"),
        ),
        Mistake(
            "no_bias_correction",
            "the bias correction divides by (1 - beta1) and (1 - beta2); it needs the power "
            "t: (1 - beta1^t) and (1 - beta2^t).",
            predict=lambda c: _adam(c, correct="no_power"),
        ),
        Mistake(
            "sign",
            "the sign of the step is flipped, so w moves uphill: a descent step subtracts "
            "lr * m_hat / (sqrt(v_hat) + eps).",
            predict=lambda c: _adam(c, sign=-1.0),
        ),
    ],
    compared_with=REFERENCE,
    state=("m", "v"),
)


def check_adam_step(fn: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Check adam_step(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8) -> (w, m, v)."""
    __tracebackhide__ = True
    failure = run_check(_ADAM, fn, _adam_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


# --- 09 deep networks: batch normalization and dropout -----------------------------------------
_BN_SETTINGS = [((6, 4), {}), ((5, 3), {}), ((8, 2), {"eps": 0.5})]


def _bn_inputs(seed: int, n: int, d: int) -> dict[str, np.ndarray]:
    r = _rng(seed)
    return {
        "x": r.normal(loc=r.normal(size=d), scale=r.uniform(0.5, 3.0, size=d), size=(n, d)),
        "gamma": r.normal(size=d),
        "beta": r.normal(size=d),
    }


@functools.cache
def _bn_forward_cases() -> tuple[Case, ...]:
    cases = []
    for seed, ((n, d), kw) in enumerate(_BN_SETTINGS):
        a = _bn_inputs(2000 + seed, n, d)
        cases.append(
            Case(
                a,
                (ref.batchnorm_forward(**a, **kw),),
                kwargs=kw,
                sizes={"N": n, "D": d},
                extra={"eps": kw.get("eps", 1e-5)},
            )
        )
    a = _bn_inputs(2009, 7, 3)
    cases.append(
        _f32_case(a, (ref.batchnorm_forward(**a),), sizes={"N": 7, "D": 3}, extra={"eps": 1e-5})
    )
    return tuple(cases)


def _bn_hat(
    c: Case,
    *,
    ddof: int = 0,
    axis: int = 0,
    eps: float | None = None,
    eps_outside: bool = False,
    no_sqrt: bool = False,
) -> np.ndarray:
    x = c.args["x"]
    eps = c.extra["eps"] if eps is None else eps
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    if no_sqrt:
        return (x - mu) / (var + eps)
    return (x - mu) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))


def _bn_out(c: Case, **kw: Any) -> tuple[np.ndarray]:
    return (c.args["gamma"] * _bn_hat(c, **kw) + c.args["beta"],)


_BN_FORWARD = Spec(
    "batchnorm_forward",
    (Output("out", like="x"),),
    [
        Mistake(
            "unbiased_variance",
            "you used the unbiased variance (dividing by N - 1); batch "
            "normalization uses the biased one, dividing by N.",
            predict=lambda c: _bn_out(c, ddof=1),
        ),
        Mistake(
            "reduction_axis",
            "you normalised each example over its features (axis 1); "
            "batch normalization normalises each feature over the batch (axis 0).",
            predict=lambda c: _bn_out(c, axis=1),
        ),
        Mistake(
            "eps_placement",
            "eps is added to the standard deviation; it belongs inside the "
            "square root, added to the variance.",
            predict=lambda c: _bn_out(c, eps_outside=True),
        ),
        Mistake(
            "missing_sqrt",
            "you divided by the variance; normalise by the standard deviation, the square "
            "root of (variance + eps).",
            predict=lambda c: _bn_out(c, no_sqrt=True),
        ),
        Mistake(
            "missing_gamma_beta",
            "out is the normalised x without the learned scale and "
            "shift: multiply by gamma and add beta.",
            predict=lambda c: (_bn_hat(c),),
        ),
        Mistake(
            "missing_gamma_beta",
            "the learned scale gamma is missing.",
            predict=lambda c: (_bn_hat(c) + c.args["beta"],),
        ),
        Mistake(
            "missing_gamma_beta",
            "the learned shift beta is missing.",
            predict=lambda c: (c.args["gamma"] * _bn_hat(c),),
        ),
        Mistake(
            "gamma_beta_swapped",
            "gamma and beta are swapped: gamma scales, beta shifts.",
            predict=lambda c: (c.args["beta"] * _bn_hat(c) + c.args["gamma"],),
        ),
        Mistake(
            "eps_ignored",
            "your function ignores its eps argument (this test passed eps = 0.5).",
            predict=lambda c: _bn_out(c, eps=1e-5),
        ),
    ],
    single=True,
    compared_with=REFERENCE,
)


def check_batchnorm_forward(fn: Callable[..., np.ndarray]) -> None:
    """Check batchnorm_forward(x, gamma, beta, eps=1e-5) -> out (training mode)."""
    __tracebackhide__ = True
    failure = run_check(_BN_FORWARD, fn, _bn_forward_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


@functools.cache
def _bn_backward_cases() -> tuple[Case, ...]:
    cases = []
    for seed, ((n, d), kw) in enumerate(_BN_SETTINGS):
        a = _bn_inputs(2100 + seed, n, d)
        dout = _rng(2110 + seed).normal(size=(n, d))
        fwd = functools.partial(ref.batchnorm_forward, **kw)
        expected = _vjp(fwd, a, dout, ["x", "gamma", "beta"])
        cases.append(
            Case(
                {"dout": dout} | a,
                tuple(expected),
                kwargs=kw,
                sizes={"N": n, "D": d},
                extra={"eps": kw.get("eps", 1e-5)},
            )
        )
    a = _bn_inputs(2109, 7, 3)
    dout = _rng(2119).normal(size=(7, 3))
    cases.append(
        _f32_case(
            {"dout": dout} | a,
            ref.batchnorm_backward(dout, **a),
            sizes={"N": 7, "D": 3},
            extra={"eps": 1e-5},
        )
    )
    return tuple(cases)


def _bn_staged(
    c: Case, *, no_gamma: bool = False, var_div: int = 0, flip: str = ""
) -> tuple[np.ndarray, None, None]:
    """dx of batch norm in steps, with one planted change: gamma left out, the variance
    term divided by N + var_div, or the sign of the variance ("var") or mean ("mean") term
    flipped."""
    dout, x, gamma = c.args["dout"], c.args["x"], c.args["gamma"]
    n = x.shape[0]
    xmu = x - x.mean(axis=0)
    var = (xmu**2).mean(axis=0)
    std = np.sqrt(var + c.extra["eps"])
    dxhat = dout if no_gamma else dout * gamma
    dvar = np.sum(dxhat * xmu, axis=0) * -0.5 * std**-3
    dmu = -np.sum(dxhat, axis=0) / std
    var_term = dvar * 2 * xmu / (n + var_div)
    mean_term = dmu / n
    s_var = -1.0 if flip == "var" else 1.0
    s_mean = -1.0 if flip == "mean" else 1.0
    return dxhat / std + s_var * var_term + s_mean * mean_term, None, None


def _bn_back(c: Case, *, ddof: int = 0, constant: str = "") -> tuple[np.ndarray, ...]:
    dout, x, gamma = c.args["dout"], c.args["x"], c.args["gamma"]
    n = x.shape[0]
    std = np.sqrt(x.var(axis=0, ddof=ddof) + c.extra["eps"])
    xhat = (x - x.mean(axis=0)) / std
    g = dout * gamma
    if constant == "both":
        dx = g / std
    elif constant == "var":
        dx = (g - g.mean(axis=0)) / std
    else:
        dx = (n * g - g.sum(axis=0) - xhat * (g * xhat).sum(axis=0)) / (n * std)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


_BN_BACKWARD = Spec(
    "batchnorm_backward",
    (
        Output("dx", like="x"),
        Output("dgamma", like="gamma", reduced_from="dout"),
        Output("dbeta", like="beta", reduced_from="dout"),
    ),
    [
        Mistake(
            "mean_var_constant",
            "dx treats the batch mean and variance as constants. They "
            "are computed from x, so every x[n] also moves them: dx needs the extra terms "
            "that flow back through the mean and the variance.",
            predict=lambda c: (_bn_back(c, constant="both")[0], None, None),
        ),
        Mistake(
            "mean_var_constant",
            "dx includes the path through the batch mean but treats "
            "the variance as a constant; the variance depends on x too.",
            predict=lambda c: (_bn_back(c, constant="var")[0], None, None),
        ),
        Mistake(
            "missing_xhat",
            "dgamma is the plain sum of dout; gamma multiplies the "
            "normalised input x_hat, so dgamma sums dout times x_hat over the batch.",
            predict=lambda c: (None, c.args["dout"].sum(axis=0), None),
        ),
        Mistake(
            "missing_xhat",
            "dgamma uses x; gamma multiplies the normalised input x_hat, "
            "so dgamma sums dout times x_hat over the batch.",
            predict=lambda c: (None, (c.args["dout"] * c.args["x"]).sum(axis=0), None),
        ),
        Mistake(
            "unbiased_variance",
            "the variance divides by N - 1; batch normalization uses "
            "the biased variance, dividing by N.",
            predict=lambda c: _bn_back(c, ddof=1),
        ),
        Mistake(
            "unbiased_variance",
            "the term through the variance divides by N - 1; batch normalization uses the "
            "biased variance, dividing by N, in the backward pass too.",
            predict=lambda c: _bn_staged(c, var_div=-1),
        ),
        Mistake(
            "missing_gamma",
            "dx is missing gamma: out = gamma * x_hat + beta, so the gradient reaching "
            "x_hat is dout times gamma; every term of dx starts from it.",
            predict=lambda c: _bn_staged(c, no_gamma=True),
        ),
        Mistake(
            "sign",
            "dx has a sign error in one term: the term that flows back through the "
            "variance has the wrong sign.",
            predict=lambda c: _bn_staged(c, flip="var"),
        ),
        Mistake(
            "sign",
            "dx has a sign error in one term: the term that flows back through the batch "
            "mean has the wrong sign.",
            predict=lambda c: _bn_staged(c, flip="mean"),
        ),
        Mistake("dout_ignored", _DOUT_IGNORED, predict=_dout_ones(ref.batchnorm_backward)),
    ],
)


def check_batchnorm_backward(fn: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Check batchnorm_backward(dout, x, gamma, beta, eps=1e-5) -> (dx, dgamma, dbeta)."""
    __tracebackhide__ = True
    failure = run_check(_BN_BACKWARD, fn, _bn_backward_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


_DROP_SETTINGS = [((5, 8), 0.3), ((6, 4), 0.6), ((10,), 0.5)]


@functools.cache
def _dropout_forward_cases() -> tuple[Case, ...]:
    cases = []
    for seed, (shape, p) in enumerate(_DROP_SETTINGS):
        x = _rng(2200 + seed).normal(size=shape)
        rng_seed = 2210 + seed
        out, mask = ref.dropout_forward(x, p, np.random.default_rng(rng_seed))
        cases.append(
            Case({"x": x, "p": p, "rng": Rng(rng_seed)}, (out, mask), extra={"seed": rng_seed})
        )
    x = _rng(2209).normal(size=(4, 6))
    out, mask = ref.dropout_forward(x, 0.4, np.random.default_rng(2219))
    cases.append(_f32_case({"x": x, "p": 0.4, "rng": Rng(2219)}, (out, mask), extra={"seed": 2219}))
    return tuple(cases)


def _drop_draw(c: Case) -> np.ndarray:
    return np.random.default_rng(c.extra["seed"]).random(c.args["x"].shape)


def _kept_like_p(c: Case, got: Sequence[Any]) -> bool:
    mask = np.asarray(got[1])
    if mask.shape != c.args["x"].shape:
        return False
    return abs(float(mask.astype(bool).mean()) - (1 - c.args["p"])) < 0.3


def _other_mask(c: Case, got: Sequence[Any]) -> bool:
    """out is x * m / (1 - p) for a 0/1 pattern m that is not the returned mask."""
    try:
        out = np.asarray(got[0], dtype=np.float64)
        mask = np.asarray(got[1]).astype(bool)
    except (TypeError, ValueError):
        return False
    x, p = c.args["x"], c.args["p"]
    if out.shape != x.shape or mask.shape != x.shape:
        return False
    scaled = x / (1 - p)
    kept = np.isclose(out, scaled, rtol=1e-5, atol=1e-12)
    dropped = out == 0
    return bool(np.all(kept | dropped)) and not np.array_equal(kept & ~dropped, mask)


_DROPOUT_FORWARD = Spec(
    "dropout_forward",
    (Output("out", like="x"), Output("mask", "mask", like="x")),
    [
        Mistake(
            "keep_prob",
            "p is the probability of dropping an entry, not of keeping it: "
            "an entry is kept when its random number is >= p.",
            predict=lambda c: (None, _drop_draw(c) < c.args["p"]),
        ),
        Mistake(
            "keep_prob",
            "p is the probability of dropping an entry, not of keeping it: "
            "an entry is kept when its random number is >= p.",
            predict=lambda c: (None, _drop_draw(c) >= 1 - c.args["p"]),
        ),
        Mistake(
            "rng_misuse",
            "the mask does not come from the generator you were given. Draw "
            "it from the rng argument, one rng.random(x.shape) call compared with p, so "
            "the result is reproducible (no np.random.* functions, no new generator).",
            detect=_kept_like_p,
            only=("mask",),
        ),
        Mistake(
            "no_inverted_scaling",
            "the kept entries are not scaled up by 1 / (1 - p). "
            "Inverted dropout rescales at training time so the expected output equals x "
            "and nothing changes at test time.",
            predict=lambda c: (c.args["x"] * (_drop_draw(c) >= c.args["p"]), None),
        ),
        Mistake(
            "no_inverted_scaling",
            "the kept entries are multiplied by (1 - p); inverted "
            "dropout divides by (1 - p), so the expected output equals x.",
            predict=lambda c: (
                c.args["x"] * (_drop_draw(c) >= c.args["p"]) * (1 - c.args["p"]),
                None,
            ),
        ),
        Mistake(
            "keep_prob",
            "the kept entries are divided by p; p is the drop probability, "
            "so divide by 1 - p, the keep probability.",
            predict=lambda c: (c.args["x"] * (_drop_draw(c) >= c.args["p"]) / c.args["p"], None),
        ),
        Mistake(
            "mask_ignored",
            "out is x / (1 - p) everywhere: the dropped entries must be 0.",
            predict=lambda c: (c.args["x"] / (1 - c.args["p"]), None),
        ),
        Mistake(
            "two_draws",
            "out is not built with the mask you return: it looks like a second random "
            "draw. Draw the random numbers once, make one mask, and use it for out too.",
            detect=_other_mask,
            only=("out",),
        ),
    ],
    check_order=(1, 0),
    compared_with=REFERENCE + " (same random generator)",
)


def check_dropout_forward(fn: Callable[..., tuple[np.ndarray, np.ndarray]]) -> None:
    """Check dropout_forward(x, p, rng) -> (out, mask): the mask must be rng.random(x.shape) >= p
    drawn from the given generator, out = x * mask / (1 - p)."""
    __tracebackhide__ = True
    failure = run_check(_DROPOUT_FORWARD, fn, _dropout_forward_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


@functools.cache
def _dropout_backward_cases() -> tuple[Case, ...]:
    cases = []
    for seed, (shape, p) in enumerate(_DROP_SETTINGS):
        r = _rng(2300 + seed)
        dout = r.normal(size=shape)
        mask = r.random(shape) >= p
        (dx,) = _vjp(
            lambda x, mask=mask, p=p: x * mask / (1 - p), {"x": np.zeros(shape)}, dout, ["x"]
        )
        cases.append(Case({"dout": dout, "mask": mask, "p": p}, (dx,)))
    r = _rng(2309)
    dout, mask = r.normal(size=(4, 6)), r.random((4, 6)) >= 0.4
    cases.append(
        _f32_case({"dout": dout, "mask": mask, "p": 0.4}, (ref.dropout_backward(dout, mask, 0.4),))
    )
    return tuple(cases)


def _drop_args(c: Case) -> tuple[np.ndarray, np.ndarray, float]:
    return c.args["dout"], c.args["mask"], c.args["p"]


_DROPOUT_BACKWARD = Spec(
    "dropout_backward",
    (Output("dx", like="dout"),),
    [
        Mistake(
            "no_inverted_scaling",
            "dx is missing the 1 / (1 - p) factor: the forward pass "
            "scaled the kept entries by it, so the backward pass does too.",
            predict=lambda c: (lambda d, m, p: (d * m,))(*_drop_args(c)),
        ),
        Mistake(
            "no_inverted_scaling",
            "dx multiplies by (1 - p); the forward pass divided the "
            "kept entries by (1 - p), so the backward pass divides too.",
            predict=lambda c: (lambda d, m, p: (d * m * (1 - p),))(*_drop_args(c)),
        ),
        Mistake(
            "dout_ignored",
            "dx is mask / (1 - p) alone: multiply it with dout, the upstream gradient.",
            predict=lambda c: (lambda d, m, p: (m / (1 - p),))(*_drop_args(c)),
        ),
        Mistake(
            "mask_ignored",
            "dx ignores the mask: entries dropped in the forward pass had no "
            "effect on the output, so their gradient is 0.",
            predict=lambda c: (lambda d, m, p: (d / (1 - p),))(*_drop_args(c)),
        ),
        Mistake(
            "mask_ignored",
            "dx ignores the mask: entries dropped in the forward pass had no "
            "effect on the output, so their gradient is 0.",
            predict=lambda c: (c.args["dout"],),
        ),
        Mistake(
            "inverted_mask",
            "dx uses the complement of the mask (the dropped entries): the gradient flows "
            "through the kept entries, where mask is True, and is 0 where an entry was "
            "dropped.",
            predict=lambda c: (lambda d, m, p: (d * ~m.astype(bool) / (1 - p),))(*_drop_args(c)),
        ),
        Mistake(
            "keep_prob",
            "dx is divided by p; p is the drop probability, so divide by "
            "1 - p, the keep probability.",
            predict=lambda c: (lambda d, m, p: (d * m / p,))(*_drop_args(c)),
        ),
    ],
    single=True,
)


def check_dropout_backward(fn: Callable[[np.ndarray, np.ndarray, float], np.ndarray]) -> None:
    """Check dropout_backward(dout, mask, p) -> dx against numerical gradients."""
    __tracebackhide__ = True
    failure = run_check(_DROPOUT_BACKWARD, fn, _dropout_backward_cases())
    if failure is not None:
        raise failure  # the message says what is wrong and how to fix it


# --- 10 capstone: the digits model -------------------------------------------------------------
DIGITS_TARGET = 0.95


@functools.cache
def _digits_test_split() -> tuple[np.ndarray, np.ndarray]:
    from course.datasets import load_digits, train_test_split

    x, y = load_digits()
    _, x_test, _, y_test = train_test_split(x, y, test_fraction=0.2, seed=0)
    return x_test, y_test


def _a(digit: int) -> str:
    return "an" if digit == 8 else "a"


def check_digits_model(model: Any) -> None:
    """Check a trained model on the held-out digits test split: >= 95 % accuracy needed.

    model: a Sequential (or any callable) mapping x (N, 64) to class scores (N, 10).
    It is evaluated in eval mode (dropout off, batch norm running statistics) and put back
    into the mode it was in.
    """
    __tracebackhide__ = True
    name = "digits model"
    x_test, y_test = _digits_test_split()
    forward = getattr(model, "forward", None) if not callable(model) else model
    if forward is None or not callable(forward):
        raise CheckFailure(
            f"check_digits_model needs your trained model (for example the "
            f"Sequential you trained), got {type(model).__name__}.",
            exercise=name,
            mistake="not_a_model",
        )
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with quiet():
            scores = forward(x_test.copy())
    except Exception as exc:  # noqa: BLE001 - any error becomes a readable failure
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckFailure(
            f"{name}: calling your model on the test images (shape "
            f"{x_test.shape}) raised {type(exc).__name__}: {msg}",
            exercise=name,
            mistake="raised",
        ) from None
    finally:
        if was_training is True and hasattr(model, "train"):
            model.train()
    n = len(y_test)
    if not isinstance(scores, np.ndarray):
        raise CheckFailure(
            f"{name}: the model returned a {type(scores).__name__}; it should "
            f"return an array of class scores of shape ({n}, 10).",
            exercise=name,
            output="scores",
            mistake="wrong_type",
        )
    if (
        scores.shape == (n,)
        and scores.dtype.kind in "iuf"
        and np.all(np.isin(scores, np.arange(10)))
    ):
        raise CheckFailure(
            f"{name}: the model's output has shape {scores.shape}: one class label per "
            f"image, as model.predict gives. It should be class scores of shape ({n}, 10): "
            "pass the model itself, not its predict function.",
            exercise=name,
            output="scores",
            mistake="predict_not_model",
        )
    if scores.ndim != 2 or scores.shape[0] != n:
        raise CheckFailure(
            f"{name}: the model's output has shape {scores.shape}; for {n} test "
            f"images it should be ({n}, 10), one row of class scores per image.",
            exercise=name,
            output="scores",
            mistake="shape",
        )
    if scores.shape[1] != 10:
        raise CheckFailure(
            f"{name}: the model outputs {scores.shape[1]} scores per image; the "
            "digits have 10 classes, so the last layer needs 10 outputs.",
            exercise=name,
            output="scores",
            mistake="shape",
        )
    if not np.all(np.isfinite(scores)):
        raise CheckFailure(
            f"{name}: the model's scores contain nan or inf: training diverged. "
            "Try a smaller learning rate.",
            exercise=name,
            output="scores",
            mistake="diverged",
        )
    pred = scores.argmax(axis=1)
    acc = float(np.mean(pred == y_test))
    if acc < 0.2:
        raise CheckFailure(
            f"{name}: accuracy {acc:.1%} on the {n} held-out test images, about chance (10 % "
            "for 10 classes): the model looks untrained. Did you call fit on this model, the "
            "same object you pass here, and did the loss go down?",
            exercise=name,
            output="accuracy",
            mistake="untrained",
        )
    if acc < DIGITS_TARGET:
        confusion = np.zeros((10, 10), dtype=int)
        np.add.at(confusion, (y_test, pred), 1)
        np.fill_diagonal(confusion, 0)
        i, j = np.unravel_index(int(confusion.argmax()), confusion.shape)
        hint = (
            f"\n    Most common confusion: {_a(i)} {i} taken for {_a(j)} {j} "
            f"({confusion[i, j]} times)."
            if confusion[i, j]
            else ""
        )
        raise CheckFailure(
            f"{name}: accuracy {acc:.1%} on the {n} held-out test images; at least "
            f"{DIGITS_TARGET:.0%} is needed.{hint}\n    Ideas: train for more epochs, tune the "
            "learning rate (plot the loss), widen the hidden layer, or try Adam.",
            exercise=name,
            output="accuracy",
            mistake="low_accuracy",
        )
    print(
        f"{name}: accuracy {acc:.1%} on the {n} held-out test images "
        f"(target {DIGITS_TARGET:.0%}). Well done!"
    )
