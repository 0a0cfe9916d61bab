"""Notebook 06, backpropagation through a network: two_layer_net, two concept questions, one
written answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course import layers as ref
from course import losses as ref_losses
from course._diagnose import Case, CheckFailure, Mistake, Output, Spec
from course.exercises._shared import (
    _exact,
    _f32_case,
    _naive_softmax,
    _rng,
    _rounded,
    choice,
    distinct,
    function,
    plan,
    written,
)
from course.gradcheck import numerical_gradient

NOTEBOOK = "06-backprop-network"


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


def two_layer_net(
    x: np.ndarray,
    labels: np.ndarray,
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
) -> tuple[float, dict[str, np.ndarray]]:
    """The reference: loss and gradients of softmax cross-entropy after linear, ReLU, linear."""
    z = ref.linear_forward(x, W1, b1)
    h = ref.relu_forward(z)
    loss, dscores = ref_losses.softmax_cross_entropy(ref.linear_forward(h, W2, b2), labels)
    dh, dW2, db2 = ref.linear_backward(dscores, h, W2, b2)
    _, dW1, db1 = ref.linear_backward(ref.relu_backward(dh, z), x, W1, b1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def _net_args(seed: int, n: int, d: int, hdim: int, c: int) -> dict[str, np.ndarray]:
    r = _rng(seed)
    return {
        "x": r.normal(size=(n, d)),
        "labels": r.integers(0, c, size=n),
        "W1": r.normal(scale=0.8, size=(d, hdim)),
        "b1": r.normal(scale=0.3, size=hdim),
        "W2": r.normal(scale=0.8, size=(hdim, c)),
        "b2": r.normal(scale=0.3, size=c),
    }


def _net_cases(seed: int | None) -> list[Case]:
    base, shapes, _ = plan(seed, 1400, [(5, 4, 6, 3), (7, 3, 5, 4)], lambda r: distinct(r, 4))
    cases = []
    for k, (n, d, hdim, c) in enumerate(shapes):
        args = _net_args(base + k, n, d, hdim, c)
        # The hidden pre-activations stay away from 0 (ReLU's kink), so finite differences
        # never straddle it: true for the visible seeds (see the tests); fresh draws retry.
        for retry in range(1, 50):
            pre = args["x"] @ args["W1"] + args["b1"]
            if seed is None or float(np.abs(pre).min()) > 1e-3:
                break
            args = _net_args(base + k + 1000 * retry, n, d, hdim, c)
        grads = []
        for key in _NET_KEYS:

            def f(value: np.ndarray, key: str = key, args: dict = args) -> float:
                return _net_loss(**(args | {key: value}))

            grads.append(numerical_gradient(f, args[key].copy()))
        _, analytic = two_layer_net(**args)
        grads = list(_exact(grads, [analytic[key] for key in _NET_KEYS]))
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
    # stability: b2 + 1000 shifts every score by +1000, which changes neither the loss nor
    # any gradient; a softmax without the max-subtraction overflows (inf / inf = nan)
    first = cases[0]
    shifted = dict(first.args, b2=first.args["b2"] + 1000.0)
    cases.append(
        Case(
            shifted,
            first.expected,
            sizes=first.sizes,
            note="b2 + 1000: every score shifted by +1000, which changes no gradient",
            extra=dict(first.extra, shifted=True),
        )
    )
    # float32: the same inputs rounded to float32; expected from exactly those inputs
    loss, grads32 = two_layer_net(**_rounded(first.args))
    expected = (loss, *(grads32[key] for key in _NET_KEYS))
    cases.append(_f32_case(first.args, expected, sizes=first.sizes, extra=first.extra))
    return cases


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


def _overflowed(c: Case, got: Any) -> bool:
    if not c.extra.get("shifted"):
        return False
    for g in got:
        try:
            if not np.all(np.isfinite(np.asarray(g, dtype=np.float64))):
                return True
        except (TypeError, ValueError):
            continue
    return False


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
            "no_max_subtraction",
            "the softmax overflows: np.exp of scores above about 709 is inf, and inf / inf is "
            "nan. Subtract each row's largest score before exponentiating (softmax does not "
            "change when a row is shifted by a constant), as in notebook 05.",
            detect=_overflowed,
        ),
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


EXERCISES = [
    function(
        NOTEBOOK,
        _NET,
        _net_cases,
        6,
        "Exercise 1: two_layer_net, the loss and every gradient of a two-layer network",
        "Check two_layer_net(x, labels, W1, b1, W2, b2) -> (loss, grads): the loss against "
        "the reference, every gradient against numerical gradients of the loss.",
        reference=two_layer_net,
    ),
    written(
        NOTEBOOK,
        "written_gradient_descent",
        3,
        "Question: backpropagation and gradient descent in your own words",
    ),
    choice(
        NOTEBOOK,
        "MC_DW2_SHAPE",
        1,
        "Question 1: the shape of dL/dW2",
        "06970fcda17cf15ce5d114095139b29aa07be6500b7297e0bd2e10babee531b8",
        {
            "a": (
                "(N, C) is the shape of the scores and their gradient; dL/dW2 has the shape of W2 "
                "itself, (H, C)."
            ),
            "c": (
                "(C, H) is W2 transposed; a gradient has exactly the shape of its parameter, (H, "
                "C)."
            ),
            "d": "(N, H) is the shape of the hidden activation h; dL/dW2 has W2's shape, (H, C).",
        },
    ),
    choice(
        NOTEBOOK,
        "MC_KINK",
        1,
        "Question 2: one suspicious error in a ReLU network",
        "e502473145b553ce3588b3a5c5ab0838adb7f2528a961e06cef3ae2dbd9991d2",
        {
            "a": (
                "An error of 3e-3 is 'suspicious', not 'wrong' on the reading scale; in a ReLU "
                "network one such error is typically a finite difference crossing the kink at 0."
            ),
            "c": (
                "A gradient check compares gradients at one point; the learning rate plays no part"
                " in it."
            ),
            "d": (
                "float64 is precise enough (right gradients show errors below 1e-7); an isolated "
                "3e-3 in a ReLU network points to a kink."
            ),
        },
    ),
]
