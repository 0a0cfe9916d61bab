"""Notebook 08, optimizers: momentum_step, rmsprop_step, adam_step, three concept
questions."""

from __future__ import annotations

import numpy as np

from course import optim as ref_optim
from course._diagnose import Case, Mistake, Output, Spec
from course.exercises._shared import (
    REFERENCE,
    _f32_case,
    _rng,
    any_shape,
    choice,
    function,
    plan_like,
)

NOTEBOOK = "08-optimizers"


def _momentum_cases(seed: int | None) -> list[Case]:
    fixed = [
        ((3, 4), 0.1, 0.9, False),
        ((5,), 0.05, 0.5, True),
        ((2, 3), 0.2, 0.8, False),
        ((4, 2), 0.1, 0.9, False),  # float32
    ]

    def draw(r: np.random.Generator, item: tuple) -> tuple:
        return any_shape(r), float(r.uniform(0.01, 0.3)), float(r.uniform(0.3, 0.95)), item[3]

    base, settings = plan_like(seed, 1700, fixed, draw)
    cases = []
    for k, (shape, lr, beta, zero_v) in enumerate(settings):
        last = k == len(settings) - 1
        r = _rng(base + (9 if last else k))
        w, dw = r.normal(size=shape), r.normal(size=shape)
        v = np.zeros(shape) if zero_v else r.normal(size=shape)
        args = {"w": w, "dw": dw, "velocity": v, "lr": lr, "beta": beta}
        if last:
            cases.append(_f32_case(args, ref_optim.momentum_step(**args)))
        else:
            note = "first step" if zero_v else ""
            cases.append(Case(args, ref_optim.momentum_step(**args), note=note))
    return cases


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


def _rmsprop_cases(seed: int | None) -> list[Case]:
    fixed = [
        ((3, 4), 0.01, {}),
        ((5,), 0.05, {"decay": 0.9, "eps": 0.1}),
        ((2, 3), 0.02, {"decay": 0.5, "eps": 1e-6}),
        ((4, 2), 0.01, {}),  # float32
    ]

    def draw(r: np.random.Generator, item: tuple) -> tuple:
        kw = {}
        if item[2]:
            kw = {"decay": float(r.uniform(0.3, 0.95)), "eps": float(r.choice([1e-6, 1e-3, 0.1]))}
        return any_shape(r), float(r.uniform(0.005, 0.1)), kw

    base, settings = plan_like(seed, 1800, fixed, draw)
    cases = []
    for k, (shape, lr, kw) in enumerate(settings):
        last = k == len(settings) - 1
        r = _rng(base + (9 if last else k))
        w, dw = r.normal(size=shape), r.normal(size=shape)
        cache = r.uniform(0.1, 1.0, size=shape)
        args = {"w": w, "dw": dw, "cache": cache, "lr": lr}
        extra = {"decay": kw.get("decay", 0.99), "eps": kw.get("eps", 1e-8)}
        if last:
            cases.append(_f32_case(args, ref_optim.rmsprop_step(**args), extra=extra))
        else:
            cases.append(
                Case(args, ref_optim.rmsprop_step(**args, **kw), kwargs=kw, extra=extra)
            )
    return cases


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


def _adam_cases(seed: int | None) -> list[Case]:
    fixed = [
        ((3, 4), 3, 0.01, {}, False),
        ((5,), 1, 0.02, {}, True),
        ((2, 3), 10, 0.05, {"beta1": 0.8, "beta2": 0.99, "eps": 0.05}, False),
        ((4, 2), 2, 0.01, {}, False),  # float32
    ]

    def draw(r: np.random.Generator, item: tuple) -> tuple:
        kw = {}
        if item[3]:
            kw = {
                "beta1": float(r.uniform(0.5, 0.95)),
                "beta2": float(r.uniform(0.9, 0.999)),
                "eps": float(r.choice([1e-3, 0.05])),
            }
        t = 1 if item[4] else int(r.integers(2, 30))
        return any_shape(r), t, float(r.uniform(0.005, 0.1)), kw, item[4]

    base, settings = plan_like(seed, 1900, fixed, draw)
    cases = []
    for k, (shape, t, lr, kw, zero) in enumerate(settings):
        last = k == len(settings) - 1
        r = _rng(base + (9 if last else k))
        w, dw = r.normal(size=shape), r.normal(size=shape)
        m = np.zeros(shape) if zero else 0.3 * r.normal(size=shape)
        v = np.zeros(shape) if zero else r.uniform(0.01, 0.5, size=shape)
        args = {"w": w, "dw": dw, "m": m, "v": v, "t": t, "lr": lr}
        extra = {
            "beta1": kw.get("beta1", 0.9),
            "beta2": kw.get("beta2", 0.999),
            "eps": kw.get("eps", 1e-8),
        }
        if last:
            cases.append(_f32_case(args, ref_optim.adam_step(**args), extra=extra))
        else:
            cases.append(
                Case(
                    args,
                    ref_optim.adam_step(**args, **kw),
                    kwargs=kw,
                    extra=extra,
                    note="first step, t = 1" if zero else "",
                )
            )
    return cases


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


EXERCISES = [
    function(
        NOTEBOOK,
        _MOMENTUM,
        _momentum_cases,
        3,
        "Exercise 1: momentum_step, SGD with momentum (PyTorch's convention)",
        "Check momentum_step(w, dw, velocity, lr, beta) -> (w_new, v_new).",
    ),
    function(
        NOTEBOOK,
        _RMSPROP,
        _rmsprop_cases,
        3,
        "Exercise 2: rmsprop_step",
        "Check rmsprop_step(w, dw, cache, lr, decay=0.99, eps=1e-8) -> (w_new, cache_new).",
    ),
    function(
        NOTEBOOK,
        _ADAM,
        _adam_cases,
        4,
        "Exercise 3: adam_step, with bias correction",
        "Check adam_step(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8) -> (w, m, v).",
    ),
    choice(
        NOTEBOOK,
        "MC_MOMENTUM_LIMIT",
        1,
        "Question 1: the limit of the velocity",
        "cf68e735ca41078343bfa1f1fc4a6afd22174c6c293e1cada2a5853ee37bd369",
        {
            "a": (
                "v = 0.9 v + g keeps adding g to a decaying sum; its fixed point is v = g / (1 - "
                "0.9) = 10 g, not g."
            ),
            "b": (
                "0.9 g would be a damped average; PyTorch's velocity adds the full g each step and"
                " settles at g / (1 - 0.9) = 10 g."
            ),
            "d": (
                "0.1 g is (1 - beta) g, one step of an averaged velocity; v = 0.9 v + g settles at"
                " g / 0.1 = 10 g."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_ADAM_FIRST_STEP",
        1,
        "Question 2: Adam's first step",
        "cca464c1831bedadca3ffbc22b3a6ab79e98d2543c9ccaa468ece06806f347eb",
        {
            "b": (
                "After bias correction m_hat = g and v_hat = g^2, so the step is eta g / |g|: eta "
                "times the sign, whatever the size of g."
            ),
            "c": (
                "(1 - beta1) g is m before bias correction; dividing by (1 - beta1^1) gives m_hat "
                "= g, and the step is eta g / |g|."
            ),
            "d": (
                "m and v start at zero, but after the first update m_hat = g and v_hat = g^2, so "
                "every coordinate moves by eta."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_RMSPROP_RAVINE",
        1,
        "Question 3: why RMSProp helps in a ravine",
        "0ff7e31592dec766ea07bf75dfbc91cbbb8e9813bd4b403fea3aeb3da3d908de",
        {
            "a": (
                "That describes momentum; RMSProp divides each coordinate's step by the root-mean-"
                "square of its recent gradients."
            ),
            "c": (
                "RMSProp's learning rate stays fixed; it rescales each coordinate by the size of "
                "its recent gradients."
            ),
            "d": (
                "RMSProp is deterministic and adds no noise; it rescales each coordinate by the "
                "size of its recent gradients."
            ),
        },
    ),
]
