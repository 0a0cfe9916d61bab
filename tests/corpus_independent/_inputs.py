"""Own inputs and references used to validate the corpus itself (not the checks).

`make_args(exercise, seed, dtype)` builds fresh arguments; `reference(exercise)` returns the
expected function (the exercise registry's reference).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course.exercises import get

_A = np.random.default_rng(99).normal(size=(3, 4))


def _f(x: np.ndarray) -> float:
    return float(np.sum(np.sin(x) * _A) + np.sum(x**3) / 7)


def _lag(w: np.ndarray) -> tuple[float, np.ndarray]:
    return float(np.sum((w - 1.5) ** 2 * np.arange(1, w.size + 1))), 2 * (w - 1.5) * np.arange(
        1, w.size + 1
    )


def reference(ex: str) -> Callable[..., Any]:
    return get(ex).reference


def make_args(ex: str, seed: int, dtype: type = np.float64) -> tuple[Any, ...]:
    r = np.random.default_rng(seed)

    def a(*shape: int, scale: float = 1.0) -> np.ndarray:
        return (r.normal(size=shape) * scale).astype(dtype)

    n, d, m = 5, 3, 4
    if ex == "neuron_backward":
        return (float(r.normal()), float(r.normal()), float(r.normal()))
    if ex == "fanout_backward":
        return (float(r.normal()), float(r.normal()))
    if ex == "numerical_gradient":
        return (_f, a(3, 4))
    if ex == "relative_error":
        x = np.array([[0.0, 1.0, -2.0], [3.0, 0.5, 0.0]], dtype=dtype)
        y = np.array([[0.0, -1.0, -2.1], [3.0, 0.4, 1e-3]], dtype=dtype)
        return (x, y)
    if ex == "linear_forward":
        return (a(n, d), a(d, m), a(m))
    if ex == "linear_backward":
        return (a(n, m), a(n, d), a(d, m), a(m))
    if ex in ("relu_forward", "sigmoid_forward", "tanh_forward"):
        return (a(n, d, scale=3.0),)
    if ex in ("relu_backward", "sigmoid_backward", "tanh_backward"):
        return (a(n, d), a(n, d, scale=2.0))
    if ex == "mse_loss":
        return (a(n, d), a(n, d))
    if ex == "softmax_cross_entropy":
        logits = a(n, m)
        logits[0] += 900
        return (logits, r.integers(0, m, size=n))
    if ex == "two_layer_net":
        return (a(n, d), r.integers(0, m, size=n), a(d, 6), a(6), a(6, m), a(m))
    if ex == "sgd_step":
        return (a(n, d), a(n, d), 0.1)
    if ex == "gradient_descent":
        return (_lag, a(4), 0.05, 6)
    if ex == "momentum_step":
        return (a(n, d), a(n, d), a(n, d), 0.1, 0.9)
    if ex == "rmsprop_step":
        return (a(n, d), a(n, d), np.abs(a(n, d)), 0.1, 0.9, 1e-2)
    if ex == "adam_step":
        return (a(n, d), a(n, d), a(n, d), np.abs(a(n, d)), 3, 0.1, 0.9, 0.99, 1e-3)
    if ex == "batchnorm_forward":
        return (a(n, d, scale=0.2) + 1, a(d), a(d), 1e-1)
    if ex == "batchnorm_backward":
        return (a(n, d), a(n, d, scale=0.2) + 1, a(d), a(d), 1e-1)
    if ex == "dropout_forward":
        return (a(n, d), 0.3, np.random.default_rng(seed))
    if ex == "dropout_backward":
        return (a(n, d), r.random((n, d)) >= 0.3, 0.3)
    raise KeyError(ex)
