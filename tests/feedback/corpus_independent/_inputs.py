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


def _batch_ls(w: np.ndarray, xb: np.ndarray, yb: np.ndarray) -> tuple[float, np.ndarray]:
    res = xb @ w - yb
    return float(0.5 * np.mean(res**2)), xb.T @ res / len(yb)


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
    if ex == "sgd_epoch":
        return (a(3), a(11, 3), a(11), _batch_ls, 0.1, 4, np.random.default_rng(seed))
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
    if ex == "l2_penalty":
        return (a(4, 3), 0.1)
    if ex == "early_stopping":
        curve = [1.2, 0.9, 0.8, 0.8, 0.85, 0.7, 0.72, 0.75, 0.71, 0.9, 0.5]
        noisy = [round(v + float(r.normal(scale=0.005)), 3) for v in curve]
        noisy[3] = noisy[2]  # a tie: not an improvement
        return (noisy, 2)
    if ex in ("node_grads", "backward_grads"):
        return (_EXPRS[seed % len(_EXPRS)],)
    if ex == "topo_order":
        edges = {"out": ["h2", "w"], "h2": ["h1", "h1"], "h1": ["x", "w"], "w": ["s"],
                 "user": ["out"]}
        return ("out", lambda node: list(edges.get(node, [])))
    if ex == "fit_neuron":
        x = a(7, 3)
        return (x, np.tanh(x @ np.array([0.5, -1.0, 0.3])), a(4, scale=0.3), 0.4, 5)
    raise KeyError(ex)


_EXPRS = [
    [("u", "leaf", 1.1), ("v", "leaf", -0.4), ("w", "mul", "u", "v"), ("s", "add", "w", "u"),
     ("t", "exp", "s"), ("o", "mul", "t", "v")],
    [("g", "leaf", 0.6), ("k", "mul", "g", "g"), ("m", "tanh", "k"), ("n", "relu", "m"),
     ("p", "add", "n", "g"), ("q", "mul", "p", "k")],
    [("a", "leaf", -0.9), ("b", "leaf", 0.7), ("c", "relu", "a"), ("d", "add", "c", "b"),
     ("e", "tanh", "d"), ("f", "mul", "e", "a"), ("h", "add", "f", "b")],
]
