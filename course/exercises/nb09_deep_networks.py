"""Notebook 09, deep networks: batch normalization and dropout, forward and backward; three
concept questions."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from course import layers as ref
from course._diagnose import Case, Mistake, Output, Rng, Spec
from course.exercises._shared import (
    _DOUT_IGNORED,
    REFERENCE,
    _dout_ones,
    _exact,
    _f32_case,
    _rng,
    _rounded,
    _vjp,
    any_shape,
    choice,
    distinct,
    function,
    plan,
    plan_like,
)

NOTEBOOK = "09-deep-networks"


_BN_SETTINGS = [((6, 4), {}), ((5, 3), {}), ((8, 2), {"eps": 0.5})]


def _bn_inputs(seed: int, n: int, d: int) -> dict[str, np.ndarray]:
    r = _rng(seed)
    return {
        "x": r.normal(loc=r.normal(size=d), scale=r.uniform(0.5, 3.0, size=d), size=(n, d)),
        "gamma": r.normal(size=d),
        "beta": r.normal(size=d),
    }


def _bn_draw(r: np.random.Generator, item: tuple) -> tuple:
    n, d = distinct(r, 2, 4, 10)
    kw = {"eps": float(r.choice([0.1, 0.5, 1.0]))} if item[1] else {}
    return (n, d), kw


def _bn_forward_cases(seed: int | None) -> list[Case]:
    base, settings = plan_like(seed, 2000, [*_BN_SETTINGS, ((7, 3), {})], _bn_draw)
    cases = []
    for k, ((n, d), kw) in enumerate(settings[:-1]):
        a = _bn_inputs(base + k, n, d)
        cases.append(
            Case(
                a,
                (ref.batchnorm_forward(**a, **kw),),
                kwargs=kw,
                sizes={"N": n, "D": d},
                extra={"eps": kw.get("eps", 1e-5)},
            )
        )
    (n, d), _ = settings[-1]
    a = _bn_inputs(base + 9, n, d)
    expected = (ref.batchnorm_forward(**_rounded(a)),)
    cases.append(_f32_case(a, expected, sizes={"N": n, "D": d}, extra={"eps": 1e-5}))
    return cases


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


def _bn_backward_cases(seed: int | None) -> list[Case]:
    base, settings = plan_like(seed, 2100, [*_BN_SETTINGS, ((7, 3), {})], _bn_draw)
    cases = []
    for k, ((n, d), kw) in enumerate(settings[:-1]):
        a = _bn_inputs(base + k, n, d)
        dout = _rng(base + 10 + k).normal(size=(n, d))
        fwd = functools.partial(ref.batchnorm_forward, **kw)
        expected = _exact(
            _vjp(fwd, a, dout, ["x", "gamma", "beta"]),
            ref.batchnorm_backward(dout, **a, **kw),
        )
        cases.append(
            Case(
                {"dout": dout} | a,
                tuple(expected),
                kwargs=kw,
                sizes={"N": n, "D": d},
                extra={"eps": kw.get("eps", 1e-5)},
            )
        )
    (n, d), _ = settings[-1]
    a = _bn_inputs(base + 9, n, d)
    dout = _rng(base + 19).normal(size=(n, d))
    cases.append(
        _f32_case(
            {"dout": dout} | a,
            ref.batchnorm_backward(**_rounded({"dout": dout} | a)),
            sizes={"N": n, "D": d},
            extra={"eps": 1e-5},
        )
    )
    return cases


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


_DROP_SETTINGS = [((5, 8), 0.3), ((6, 4), 0.6), ((10,), 0.5)]


def _drop_setting(r: np.random.Generator) -> tuple:
    return any_shape(r, 2, 9), float(np.round(r.uniform(0.1, 0.8), 2))


def _dropout_forward_cases(seed: int | None) -> list[Case]:
    base, settings, _ = plan(seed, 2200, [*_DROP_SETTINGS, ((4, 6), 0.4)], _drop_setting)
    cases = []
    for k, (shape, p) in enumerate(settings):
        last = k == len(settings) - 1
        x = _rng(base + (9 if last else k)).normal(size=shape)
        rng_seed = base + (19 if last else 10 + k)
        out, mask = ref.dropout_forward(x, p, np.random.default_rng(rng_seed))
        args = {"x": x, "p": p, "rng": Rng(rng_seed)}
        if last:
            cases.append(_f32_case(args, (out, mask), extra={"seed": rng_seed}))
        else:
            cases.append(Case(args, (out, mask), extra={"seed": rng_seed}))
    return cases


def _drop_draw(c: Case) -> np.ndarray:
    return np.random.default_rng(c.extra["seed"]).random(c.args["x"].shape)


def _keep_probability_form(c: Case) -> list[tuple[np.ndarray, np.ndarray]]:
    """The other right answer: the same numbers compared the other way round, an entry kept
    when its random number is < 1 - p (the keep probability). Same distribution, same
    generator, one draw."""
    x, p = c.args["x"], c.args["p"]
    mask = _drop_draw(c) < 1 - p
    return [(x * mask / (1 - p), mask)]


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
    alternatives=_keep_probability_form,
)


def _dropout_backward_cases(seed: int | None) -> list[Case]:
    base, settings, _ = plan(seed, 2300, [*_DROP_SETTINGS, ((4, 6), 0.4)], _drop_setting)
    cases = []
    for k, (shape, p) in enumerate(settings[:-1]):
        r = _rng(base + k)
        dout = r.normal(size=shape)
        mask = r.random(shape) >= p
        (dx,) = _vjp(
            lambda x, mask=mask, p=p: x * mask / (1 - p), {"x": np.zeros(shape)}, dout, ["x"]
        )
        (dx,) = _exact([dx], [ref.dropout_backward(dout, mask, p)])
        cases.append(Case({"dout": dout, "mask": mask, "p": p}, (dx,)))
    shape, p = settings[-1]
    r = _rng(base + 9)
    dout, mask = r.normal(size=shape), r.random(shape) >= p
    cases.append(
        _f32_case({"dout": dout, "mask": mask, "p": p}, (ref.dropout_backward(dout, mask, p),))
    )
    return cases


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


EXERCISES = [
    function(
        NOTEBOOK,
        _BN_FORWARD,
        _bn_forward_cases,
        2,
        "Exercise 1: batchnorm_forward (training mode)",
        "Check batchnorm_forward(x, gamma, beta, eps=1e-5) -> out (training mode).",
    ),
    function(
        NOTEBOOK,
        _BN_BACKWARD,
        _bn_backward_cases,
        4,
        "Exercise 2: batchnorm_backward",
        "Check batchnorm_backward(dout, x, gamma, beta, eps=1e-5) -> (dx, dgamma, dbeta).",
    ),
    function(
        NOTEBOOK,
        _DROPOUT_FORWARD,
        _dropout_forward_cases,
        2,
        "Exercise 3: dropout_forward, inverted dropout",
        "Check dropout_forward(x, p, rng) -> (out, mask): the mask must come from one "
        "rng.random(x.shape) draw of the given generator (kept where >= p, or where < 1 - p), "
        "out = x * mask / (1 - p).",
    ),
    function(
        NOTEBOOK,
        _DROPOUT_BACKWARD,
        _dropout_backward_cases,
        2,
        "Exercise 4: dropout_backward",
        "Check dropout_backward(dout, mask, p) -> dx against numerical gradients.",
    ),
    choice(
        NOTEBOOK,
        "MC_VANISHING",
        1,
        "Question 1: gradient norms in a deep sigmoid network",
        "1bef0e09e94fd9c2ab728f385fb941adf4754a709247c07a565a90ec2e8880fd",
        {
            "b": (
                "Each sigmoid layer multiplies the gradient by sigma' <= 1/4, so it shrinks layer "
                "after layer on its way back."
            ),
            "c": (
                "The sigmoid's derivative is at most 1/4, so the gradient shrinks, not grows, on "
                "its way back."
            ),
            "d": (
                "They are small but not zero: each layer multiplies the gradient by sigma' <= 1/4,"
                " which shrinks it without killing it."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_HE_VARIANCE",
        1,
        "Question 2: He initialization's variance",
        "8ccb3c12d2b396f495ada8c6a8add7b3ad44f3422a398d5118a0bd1e815f3a34",
        {
            "a": (
                "1/D is the variance for tanh-like units (Xavier/LeCun); ReLU zeroes half its "
                "inputs, so He doubles it: 2/D."
            ),
            "c": (
                "0.01^2 squares the variance; He initialization's variance itself is 2/D = 0.01 "
                "(its standard deviation is 0.1)."
            ),
            "d": (
                "Variance 1 makes the activations grow with D; He initialization scales it down to"
                " 2/D."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_DROPOUT_EVAL",
        1,
        "Question 3: inverted dropout at test time",
        "486914833f7ab7bb8bb844401ec82a0a646751483bcd7035b87f429ca1e25356",
        {
            "a": (
                "Dropping units at test time makes predictions random; dropout is active only "
                "during training."
            ),
            "c": (
                "Multiplying by 1 - p at test time is the old, non-inverted dropout; inverted "
                "dropout already scaled during training."
            ),
            "d": (
                "The 1 / (1 - p) scaling happens during training; at test time the layer passes "
                "its input through unchanged."
            ),
        },
    ),
]
