"""Notebook 05, losses: mse_loss, softmax_cross_entropy, two concept questions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course import losses as ref_losses
from course._diagnose import Case, Mistake, Output, Spec
from course.exercises._shared import (
    _exact,
    _f32_case,
    _naive_softmax,
    _rng,
    choice,
    distinct,
    function,
    plan,
)
from course.gradcheck import numerical_gradient

NOTEBOOK = "05-losses"


def _mse_cases(seed: int | None) -> list[Case]:
    base, shapes, _ = plan(seed, 1200, [(4, 3), (5, 2), (3, 6), (5, 3)], lambda r: distinct(r, 2))
    cases = []
    for k, (n, d) in enumerate(shapes[:-1]):
        r = _rng(base + k)
        pred, target = r.normal(size=(n, d)), r.normal(size=(n, d))
        loss, _ = ref_losses.mse_loss(pred, target)
        dpred = numerical_gradient(lambda p, t=target: ref_losses.mse_loss(p, t)[0], pred.copy())
        (dpred,) = _exact([dpred], [ref_losses.mse_loss(pred, target)[1]])
        cases.append(Case({"pred": pred, "target": target}, (loss, dpred), sizes={"N": n, "K": d}))
    n, d = shapes[-1]
    r = _rng(base + 9)
    pred, target = r.normal(size=(n, d)), r.normal(size=(n, d))
    cases.append(
        _f32_case(
            {"pred": pred, "target": target},
            ref_losses.mse_loss(pred, target),
            sizes={"N": n, "K": d},
        )
    )
    return cases


def _mse_factors(c: Case, name: str) -> list[tuple[float, str, str]]:
    n, d = c.sizes["N"], c.sizes["K"]
    if name == "loss":
        return [
            (
                float(n * d),
                "batch_size",
                f"loss is the sum of the squared errors, N*K = {n * d} "
                "times the mean: divide by the number of elements.",
            ),
            (
                float(d),
                "batch_size",
                f"loss is K = {d} times too large: you averaged over the "
                "batch (N) but summed over the outputs; the mean runs over all N*K elements.",
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
            f"dpred is K = {d} times too large: you divided by the batch "
            f"size N = {n}, but the loss averages over all N*K = {n * d} elements.",
        ),
        (
            float(n * d),
            "batch_size",
            f"dpred is N*K = {n * d} times too large: the loss is a mean "
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


def _sce_cases(seed: int | None) -> list[Case]:
    fixed = [(4, 3), (6, 5), (5, 10), (5, 4)]
    base, shapes, _ = plan(seed, 1300, fixed, lambda r: distinct(r, 2, 2, 11))
    cases = []
    first = None
    for k, (n, c) in enumerate(shapes[:-1]):
        r = _rng(base + k)
        logits = r.normal(scale=2.0, size=(n, c))
        labels = r.integers(0, c, size=n)
        loss, analytic = ref_losses.softmax_cross_entropy(logits, labels)
        dlogits = numerical_gradient(
            lambda z, y=labels: ref_losses.softmax_cross_entropy(z, y)[0], logits.copy()
        )
        (dlogits,) = _exact([dlogits], [analytic])
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
    cases.append(_far_apart_case(base + 7))
    n, c = shapes[-1]
    r = _rng(base + 9)
    logits, labels = r.normal(scale=2.0, size=(n, c)), r.integers(0, c, size=n)
    cases.append(
        _f32_case(
            {"logits": logits, "labels": labels},
            ref_losses.softmax_cross_entropy(logits, labels),
            sizes={"N": n, "C": c},
        )
    )
    return cases


_FAR_NOTE = (
    "rows of logits far apart, offsets up to 3000, and one true class 1000 below its row's "
    "largest logit"
)


def _far_apart_case(seed: int) -> Case:
    """Logits that separate a stable answer from fragile ones: every row shifted by its own
    large offset (up to +-3000: one max for the whole batch leaves whole rows at e^-6000 = 0),
    and in one row the true class's logit 1000 below the row's largest (its probability
    underflows to 0, so log(p) = -inf; log p itself is a finite -1000). The expected values
    come from the reference (the other cases check it against numerical gradients)."""
    r = _rng(seed)
    n, c = 5, 4
    logits = r.normal(scale=2.0, size=(n, c))
    labels = r.integers(0, c, size=n)
    logits += np.array([-3000.0, 0.0, 2500.0, -1200.0, 600.0])[:, None]
    row = 1
    logits[row, labels[row]] = logits[row].max() - 1000.0
    loss, dlogits = ref_losses.softmax_cross_entropy(logits, labels)
    return Case(
        {"logits": logits, "labels": labels},
        (loss, dlogits),
        sizes={"N": n, "C": c},
        note=_FAR_NOTE,
        extra={"far": True, "row": row},
    )


def _fragile(kind: str) -> Callable[[Case], tuple[Any, Any]]:
    """What a fragile but otherwise right formula returns (with its nan and inf)."""

    def predict(c: Case) -> tuple[Any, Any]:
        z, y = c.args["logits"], c.args["labels"]
        rows = np.arange(len(y))
        if kind == "log_of_p":  # a stable softmax, then log(p)
            p = _naive_softmax(z, 1)
            return float(-np.mean(np.log(p[rows, y]))), None
        shift = z.max()  # "one_max": a single max for the whole batch
        e = np.exp(z - shift)
        p = e / e.sum(axis=1, keepdims=True)
        log_p = (z - shift) - np.log(e.sum(axis=1, keepdims=True))
        d = p.copy()
        d[rows, y] -= 1
        return float(-np.mean(log_p[rows, y])), d / len(y)

    return predict


def _not_finite(c: Case, got: Sequence[Any]) -> bool:
    for g in got:
        try:
            if not np.all(np.isfinite(np.asarray(g, dtype=np.float64))):
                return True
        except (TypeError, ValueError):
            continue
    return False


def _one_max(c: Case, got: Sequence[Any]) -> bool:
    """nan or inf on the far-apart case while the +1000 shift (one offset for every row) was
    fine: the max subtracted is not each row's own."""
    return bool(c.extra.get("far")) and _not_finite(c, got)


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
    return bool(c.extra.get("shifted")) and _not_finite(c, got)


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
            "log_underflow",
            "log of a probability that underflowed: a true class far below its row's largest "
            "logit has p = e^-1000, which is 0 in float64, and log(0) = -inf. Compute log p "
            "directly, as the shifted logit minus the log of the row's sum of exponentials "
            "(log-sum-exp), and take p = exp(log p) only for the gradient.",
            predict=_fragile("log_of_p"),
            only=("loss",),
        ),
        Mistake(
            "one_max",
            "one max for all rows: you subtracted the largest logit of the whole batch, so "
            "rows far below it underflow to all zeros (0 / 0 = nan, log 0 = -inf). Subtract "
            "each row's own "
            "largest logit (max over axis 1, keepdims=True): each row is a separate softmax.",
            predict=_fragile("one_max"),
        ),
        Mistake(
            "no_max_subtraction",
            "np.exp overflows to inf for large logits (above about 709), and inf / inf is nan. "
            "Subtract each row's own largest logit (max over axis 1) before exponentiating: "
            "softmax does not change when you shift a row by a constant, and the largest "
            "exponent becomes e^0 = 1.",
            detect=_one_max,
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


EXERCISES = [
    function(
        NOTEBOOK,
        _MSE,
        _mse_cases,
        3,
        "Exercise 1: mse_loss, the mean squared error and its gradient",
        "Check mse_loss(pred, target) -> (loss, dpred): loss against the reference, dpred "
        "against numerical gradients.",
    ),
    function(
        NOTEBOOK,
        _SCE,
        _sce_cases,
        5,
        "Exercise 2: softmax_cross_entropy, stable for large logits",
        "Check softmax_cross_entropy(logits, labels) -> (loss, dlogits), including logits so "
        "large that exp overflows without the max-subtraction trick.",
    ),
    choice(
        NOTEBOOK,
        "MC_SOFTMAX_SHIFT",
        1,
        "Question 1: adding 100 to a row of logits",
        "4ad85b9611bc2c868a0f28acc5a9415ddf136a4e4c2bc8cac2d4286a3b196915",
        {
            "a": (
                "The probabilities still sum to 1, so they cannot all grow; adding a constant "
                "multiplies numerator and denominator by e^100, which cancels."
            ),
            "b": (
                "Adding the same constant to every logit multiplies every exponential by e^100; "
                "the factor cancels in the ratio, so nothing changes."
            ),
            "d": (
                "A stable softmax subtracts the row's maximum first, so there is no overflow; and "
                "mathematically the probabilities do not change at all."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_DLOGITS_SUM",
        1,
        "Question 2: what a row of dlogits sums to",
        "1a9439cfa26e56b8ea3c1e6b01786048cff7e48d79248deed450cb9c20016e35",
        {
            "b": (
                "A row of dlogits is (p - one_hot) / N: p sums to 1 and so does the one-hot row, "
                "so the row sums to 0."
            ),
            "c": (
                "1/N is the factor in front; the row itself is (p - one_hot) / N, and p - one_hot "
                "sums to 1 - 1 = 0."
            ),
            "d": (
                "The loss is -log p[label], a different quantity; the row of dlogits is (p - "
                "one_hot) / N, which sums to 0."
            ),
        },
    ),
]
