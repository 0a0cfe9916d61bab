"""Notebook 04, activations: ReLU, sigmoid and tanh, forward and backward; two concept
questions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from course import layers as ref
from course._diagnose import Case, Mistake, Output, Spec
from course.exercises._shared import (
    REFERENCE,
    _away_from_zero,
    _dout_ones,
    _exact,
    _f32_case,
    _rng,
    _sig,
    _vjp,
    any_shape,
    choice,
    function,
    plan,
)

NOTEBOOK = "04-activations"


_ACT_SHAPES = [(4, 5), (6, 3), (7,)]


def _act_x(seed: int, shape: tuple[int, ...], scale: float = 1.5) -> np.ndarray:
    return _away_from_zero(_rng(seed).normal(scale=scale, size=shape))


_LARGE_NOTE = "|x| up to 1000, where np.exp overflows"


def _large_x(seed: int) -> np.ndarray:
    """(3, 4) inputs with |x| up to 1e3: e^x overflows float64 above about 709, so a formula
    that divides two overflowing exponentials gives inf / inf = nan."""
    r = _rng(seed)
    fixed = np.array([-1000.0, 1000.0, -720.0, 720.0, -50.0, 50.0])
    x = np.concatenate([fixed, r.uniform(-1000.0, 1000.0, size=6)])
    return _away_from_zero(r.permutation(x)).reshape(3, 4)


def _forward_cases(
    forward: Callable[[np.ndarray], np.ndarray],
    base: int,
    seed: int | None,
    large: bool = False,
) -> list[Case]:
    base, shapes, _ = plan(seed, base, [*_ACT_SHAPES, (3, 4)], any_shape)
    cases = []
    for k, shape in enumerate(shapes[:-1]):
        x = _act_x(base + k, shape)
        cases.append(Case({"x": x}, (forward(x),)))
    if large:
        x = _large_x(base + 7)
        cases.append(Case({"x": x}, (forward(x),), note=_LARGE_NOTE, extra={"large": True}))
    x = _act_x(base + 9, shapes[-1])
    cases.append(_f32_case({"x": x}, (forward(x),)))
    return cases


def _backward_cases(
    forward: Callable[[np.ndarray], np.ndarray],
    backward: Callable[..., np.ndarray],
    base: int,
    seed: int | None,
    large: bool = False,
) -> list[Case]:
    base, shapes, _ = plan(seed, base, [*_ACT_SHAPES, (3, 4)], any_shape)
    cases = []
    for k, shape in enumerate(shapes[:-1]):
        x = _act_x(base + k, shape)
        dout = _rng(base + 50 + k).normal(size=shape)
        (dx,) = _exact(_vjp(forward, {"x": x}, dout, ["x"]), [backward(dout, x)])
        cases.append(Case({"dout": dout, "x": x}, (dx,)))
    if large:
        # the derivative is 0 to float64 precision far out; the reference (checked against
        # numerical gradients on the other cases) gives the expected values
        x = _large_x(base + 7)
        dout = _rng(base + 57).normal(size=x.shape)
        cases.append(
            Case(
                {"dout": dout, "x": x},
                (backward(dout, x),),
                note=_LARGE_NOTE,
                extra={"large": True},
            )
        )
    x = _act_x(base + 9, shapes[-1])
    dout = _rng(base + 59).normal(size=shapes[-1])
    cases.append(_f32_case({"dout": dout, "x": x}, (backward(dout, x),)))
    return cases


def _not_finite(c: Case, got: Sequence[Any]) -> bool:
    """nan or inf in the output on the large-|x| case."""
    if not c.extra.get("large"):
        return False
    try:
        return not bool(np.all(np.isfinite(np.asarray(got[0], dtype=np.float64))))
    except (TypeError, ValueError):
        return False


def _overflow(fix: str) -> Mistake:
    return Mistake(
        "overflow",
        "np.exp overflows to inf once its argument passes about 709 (float64), and a "
        "ratio of two infinities is nan. " + fix,
        detect=_not_finite,
    )


_SIGMOID_FIX = (
    "Use a form in which only a harmless exponential can overflow: in 1 / (1 + e^-x) an "
    "overflowing e^-x gives 1 / inf = 0, which is right; e^x / (1 + e^x) is safe only for x < 0."
)
_TANH_FIX = (
    "Use np.tanh, or a form whose exponential never grows: "
    "tanh(x) = sign(x) (1 - e^(-2|x|)) / (1 + e^(-2|x|))."
)


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
        _overflow(_SIGMOID_FIX),
    ],
    single=True,
    compared_with=REFERENCE,
)


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
        _overflow(_SIGMOID_FIX),
    ],
    single=True,
)


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
        _overflow(_TANH_FIX),
    ],
    single=True,
    compared_with=REFERENCE,
)


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
        _overflow(_TANH_FIX),
    ],
    single=True,
)


EXERCISES = [
    function(
        NOTEBOOK,
        _RELU_FORWARD,
        partial(_forward_cases, ref.relu_forward, 600),
        1,
        "Exercise 1: relu_forward",
        "Check relu_forward(x) -> out = max(0, x).",
    ),
    function(
        NOTEBOOK,
        _RELU_BACKWARD,
        partial(_backward_cases, ref.relu_forward, ref.relu_backward, 700),
        2,
        "Exercise 2: relu_backward",
        "Check relu_backward(dout, x) -> dx against numerical gradients.",
    ),
    function(
        NOTEBOOK,
        _SIGMOID_FORWARD,
        partial(_forward_cases, ref.sigmoid_forward, 800, large=True),
        1,
        "Exercise 3: sigmoid_forward",
        "Check sigmoid_forward(x) -> 1 / (1 + exp(-x)).",
    ),
    function(
        NOTEBOOK,
        _SIGMOID_BACKWARD,
        partial(_backward_cases, ref.sigmoid_forward, ref.sigmoid_backward, 900, large=True),
        2,
        "Exercise 4: sigmoid_backward",
        "Check sigmoid_backward(dout, x) -> dx (x is the forward input) against numerical "
        "gradients.",
    ),
    function(
        NOTEBOOK,
        _TANH_FORWARD,
        partial(_forward_cases, ref.tanh_forward, 1000, large=True),
        1,
        "Exercise 5: tanh_forward",
        "Check tanh_forward(x) -> tanh(x).",
    ),
    function(
        NOTEBOOK,
        _TANH_BACKWARD,
        partial(_backward_cases, ref.tanh_forward, ref.tanh_backward, 1100, large=True),
        2,
        "Exercise 6: tanh_backward",
        "Check tanh_backward(dout, x) -> dx (x is the forward input) against numerical gradients.",
    ),
    choice(
        NOTEBOOK,
        "MC_SIGMOID_MAX",
        1,
        "Question 1: the largest value of the sigmoid's derivative",
        "799aabbaaa1cdb75ee7cef06b36c321cd0e0382f62ab2021c026388fa7609ac2",
        {
            "a": (
                "1 is the sigmoid's upper limit, not its derivative's; sigma'(x) = s (1 - s) is at"
                " most 1/2 * 1/2 = 0.25."
            ),
            "b": (
                "0.5 is sigma(0), the sigmoid's value at 0; its derivative there is s (1 - s) = "
                "0.5 * 0.5 = 0.25."
            ),
            "d": (
                "sigma'(x) = s (1 - s) with s between 0 and 1, so it is bounded; its maximum is "
                "0.25, at x = 0."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_DEAD_RELU",
        1,
        "Question 2: a ReLU that is always negative",
        "fa60269968acf92f79646b0c77bb28781a99429c1eb7062a056fac08ed084689",
        {
            "b": (
                "For a negative input ReLU's derivative is 0, not large: no gradient flows, so the"
                " weights stop changing."
            ),
            "c": (
                "Nothing flips them: where its input is negative, ReLU passes a zero gradient "
                "back, so the weights get no update at all."
            ),
            "d": (
                "A ReLU with negative input passes a zero gradient back for every example, so "
                "these weights get no update: the unit is dead."
            ),
        },
    ),
]
