"""Notebook 10, generalization: l2_penalty (weight decay in the loss and its gradient),
early_stopping; three concept questions.

The references live here (they are plain functions of the notebook, not part of the
library's optimizers): l2_penalty(W, lam) -> (lam/2 * sum(W**2), lam * W) and
early_stopping(val_losses, patience) -> (best_epoch, stop_epoch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course._diagnose import Case, Mistake, Output, Spec
from course.exercises._shared import (
    REFERENCE,
    _f32_case,
    _rng,
    any_shape,
    choice,
    function,
    plan,
)

NOTEBOOK = "10-generalization"


# --- l2_penalty ----------------------------------------------------------------------------------
def l2_penalty(W: np.ndarray, lam: float) -> tuple[float, np.ndarray]:
    """Reference: the L2 penalty (lam / 2) * sum(W**2) and its gradient lam * W."""
    W = np.asarray(W)
    return float(0.5 * lam * np.sum(W.astype(np.float64) ** 2)), lam * W


def _l2_cases(seed: int | None) -> list[Case]:
    fixed = [((4, 3), 0.1), ((5,), 0.01), ((2, 3, 4), 0.5), ((6, 2), 0.05)]
    base, settings, _ = plan(
        seed, 1900, fixed, lambda r: (any_shape(r), float(r.choice([1e-3, 0.01, 0.05, 0.1, 0.5])))
    )
    cases = []
    for k, (shape, lam) in enumerate(settings[:-1]):
        W = _rng(base + k).normal(size=shape)
        cases.append(Case({"W": W, "lam": lam}, l2_penalty(W, lam), sizes={}))
    shape, lam = settings[-1]
    W = _rng(base + 9).normal(size=shape)
    W32 = W.astype(np.float32)
    penalty, dW = l2_penalty(W32.astype(np.float64), lam)
    cases.append(_f32_case({"W": W, "lam": lam}, (penalty, dW)))
    return cases


def _sq(c: Case) -> float:
    return float(np.sum(np.asarray(c.args["W"], dtype=np.float64) ** 2))


_L2 = Spec(
    "l2_penalty",
    (Output("penalty", "scalar"), Output("dW", like="W")),
    [
        Mistake(
            "missing_half",
            "the penalty is lam * sum(W**2) without the 1/2. The course's convention is "
            "(lam/2) * sum(W**2), so that its gradient is exactly lam * W (what optimizers call "
            "weight decay).",
            predict=lambda c: (c.args["lam"] * _sq(c), None),
        ),
        Mistake(
            "gradient_factor_two",
            "dW is 2 * lam * W: the 1/2 in the penalty cancels the 2 that comes from "
            "differentiating W**2, so the gradient is lam * W.",
            predict=lambda c: (None, 2 * c.args["lam"] * c.args["W"]),
        ),
        Mistake(
            "mean_not_sum",
            "the penalty averages over the entries of W (a mean); it sums them: "
            "(lam/2) * sum(W**2), and its gradient is lam * W, entry by entry.",
            predict=lambda c: (
                0.5 * c.args["lam"] * _sq(c) / c.args["W"].size,
                c.args["lam"] * c.args["W"] / c.args["W"].size,
            ),
        ),
        Mistake(
            "not_squared",
            "the penalty uses the length of W, sqrt(sum(W**2)); L2 regularisation uses its "
            "square, sum(W**2).",
            predict=lambda c: (0.5 * c.args["lam"] * np.sqrt(_sq(c)), None),
        ),
        Mistake(
            "l1",
            "that is the L1 penalty (absolute values, gradient lam * sign(W)); L2 squares the "
            "weights: (lam/2) * sum(W**2), gradient lam * W.",
            predict=lambda c: (
                c.args["lam"] * float(np.sum(np.abs(c.args["W"]))),
                c.args["lam"] * np.sign(c.args["W"]),
            ),
        ),
        Mistake(
            "lam_ignored",
            "the strength lam is missing: the penalty and its gradient are both "
            "proportional to lam.",
            predict=lambda c: (0.5 * _sq(c), c.args["W"] * 1.0),
        ),
        Mistake(
            "wrong_input",
            "dW does not depend on W: the gradient of (lam/2) * sum(W**2) is lam * W, one "
            "entry per weight.",
            predict=lambda c: (None, np.full_like(c.args["W"], c.args["lam"])),
        ),
    ],
    compared_with=REFERENCE,
)


# --- early_stopping ------------------------------------------------------------------------------
def early_stopping(val_losses: Sequence[float], patience: int) -> tuple[int, int]:
    """Reference: (best_epoch, stop_epoch), epochs counted from 0.

    Training stops at the first epoch that is `patience` epochs after the best one (the lowest
    validation loss so far; only a strictly lower loss is an improvement); without such an
    epoch it runs to the end, stop_epoch = len(val_losses) - 1.
    """
    return _stop(val_losses, patience)


def _stop(
    losses: Sequence[float], patience: int, *, strict: bool = True, shift: int = 0,
    lookahead: bool = False,
) -> tuple[int, int]:
    best, best_loss = 0, float(losses[0])
    stop = len(losses) - 1
    for epoch in range(1, len(losses)):
        loss = float(losses[epoch])
        if loss < best_loss or (not strict and loss == best_loss):
            best, best_loss = epoch, loss
        elif epoch - best >= patience + shift:
            stop = epoch
            break
    if lookahead:
        best = int(np.argmin(np.asarray(losses, dtype=np.float64)))
    return best, stop


def _curve(r: np.random.Generator, n: int, turn: int) -> list[float]:
    """A validation curve: falls until `turn`, then rises with noise; rounded to 2 decimals
    (so equal losses occur)."""
    epochs = np.arange(n)
    fall = 2.0 * np.exp(-epochs / max(turn / 2, 1))
    rise = 0.04 * np.maximum(epochs - turn, 0)
    noise = r.normal(scale=0.03, size=n)
    return [float(v) for v in np.round(0.5 + fall + rise + noise, 2)]


_STOP_FIXED: list[tuple[list[float], int]] = [
    ([0.9, 0.7, 0.6, 0.62, 0.58, 0.61, 0.63, 0.64, 0.66, 0.7], 3),
    ([1.0, 0.8, 0.85, 0.8, 0.9, 0.95, 0.7, 0.75, 0.8, 0.9, 0.95], 2),
    ([0.5, 0.45, 0.44, 0.43, 0.42, 0.41], 2),
    ([0.9, 0.85, 0.8, 0.81, 0.82, 0.79, 0.83, 0.84, 0.6, 0.85], 2),
]


def _stop_cases(seed: int | None) -> list[Case]:
    def draw(r: np.random.Generator) -> tuple[list[float], int]:
        n = int(r.integers(10, 25))
        return _curve(r, n, int(r.integers(3, n - 3))), int(r.integers(1, 5))

    base, settings, r = plan(seed, 2000, _STOP_FIXED, draw)
    if r is not None:
        # one fresh curve that never stops early and one with a later, lower minimum
        losses = sorted(_curve(r, int(r.integers(6, 12)), 50), reverse=True)
        falling = [round(v - 0.01 * i, 2) for i, v in enumerate(losses)]
        settings[2] = (falling, int(r.integers(2, 4)))
        losses, patience = settings[3]
        best, stop = _stop(losses, patience)
        if stop == len(losses) - 1:  # make it stop: rise for `patience` epochs after the best
            rise = [round(losses[best] + 0.05 * (k + 1), 2) for k in range(patience)]
            losses = losses[: best + 1] + rise + losses[best + 1 :]
        settings[3] = ([*losses, round(min(losses) - 0.2, 2)], patience)
    cases = []
    for losses, patience in settings:
        cases.append(
            Case({"val_losses": list(losses), "patience": int(patience)},
                 _stop(losses, patience), sizes={})
        )
    return cases


def _stop_args(c: Case) -> tuple[Any, ...]:
    return c.args["val_losses"], c.args["patience"]


_STOP = Spec(
    "early_stopping",
    (Output("best_epoch", "scalar"), Output("stop_epoch", "scalar")),
    [
        Mistake(
            "not_strict",
            "an equal loss counted as an improvement: only a strictly lower validation loss "
            "resets the patience (and moves best_epoch).",
            predict=lambda c: _stop(*_stop_args(c), strict=False),
        ),
        Mistake(
            "last_not_best",
            "best_epoch is the epoch where training stopped; it is the epoch with the lowest "
            "validation loss (the weights early stopping keeps).",
            predict=lambda c: (_stop(*_stop_args(c))[1], None),
        ),
        Mistake(
            "lookahead",
            "best_epoch is the lowest loss of the whole list, including epochs after the stop: "
            "early stopping cannot see the future, so only epochs up to stop_epoch count.",
            predict=lambda c: (_stop(*_stop_args(c), lookahead=True)[0], None),
        ),
        Mistake(
            "off_by_one",
            "training stopped one epoch too early: stop at the first epoch that is patience "
            "epochs after the best one (epoch - best_epoch == patience).",
            predict=lambda c: (None, _stop(*_stop_args(c), shift=-1)[1]),
        ),
        Mistake(
            "off_by_one",
            "training stopped one epoch too late: stop at the first epoch that is patience "
            "epochs after the best one (epoch - best_epoch == patience).",
            predict=lambda c: (None, _stop(*_stop_args(c), shift=1)[1]),
        ),
        Mistake(
            "one_based",
            "the epochs are counted from 1; count them from 0, like the list's indices.",
            predict=lambda c: tuple(v + 1 for v in _stop(*_stop_args(c))),
        ),
        Mistake(
            "never_stops",
            "stop_epoch is the last epoch although the loss stopped improving: stop as soon as "
            "patience epochs have passed without a new best.",
            predict=lambda c: (None, len(c.args["val_losses"]) - 1),
        ),
        Mistake(
            "wrong_epoch",
            "walk through the losses by hand: keep the best loss and its epoch, and stop at "
            "the first epoch that is patience epochs after the best one.",
            detect=lambda c, got: True,
        ),
    ],
    compared_with=REFERENCE,
)


EXERCISES = [
    function(
        NOTEBOOK,
        _L2,
        _l2_cases,
        3,
        "Exercise 1: l2_penalty, weight decay in the loss and its gradient",
        "Check l2_penalty(W, lam) -> (penalty, dW) = ((lam/2) sum(W**2), lam W).",
        reference=l2_penalty,
    ),
    function(
        NOTEBOOK,
        _STOP,
        _stop_cases,
        3,
        "Exercise 2: early_stopping, when to stop and which weights to keep",
        "Check early_stopping(val_losses, patience) -> (best_epoch, stop_epoch).",
        reference=early_stopping,
    ),
    choice(
        NOTEBOOK,
        "MC_OVERFIT",
        1,
        "Question 1: reading train and validation curves",
        "f3b0a1f5ab5f4b6542c1125e296cb35422f86135ee38e6cebb4c8c25838e21b3",
        {
            "a": (
                "A learning rate that is too high makes the training loss jump or grow too; "
                "here the training loss keeps falling smoothly."
            ),
            "b": (
                "Underfitting shows as a high training loss; here the training loss is near 0, "
                "the model fits the training set too well."
            ),
            "d": (
                "More epochs make it worse: past the validation minimum every epoch fits the "
                "training set's noise a little more."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_REMEDY",
        1,
        "Question 2: what does not fight overfitting",
        "45c493eb41676fe8c22d5fdca0a62e221bef1c139a777141faed36836c1c0df4",
        {
            "a": (
                "More training data is the surest remedy: a bigger sample is harder to memorise "
                "and closer to the examples the model will meet."
            ),
            "b": (
                "Weight decay does help: it pulls the weights towards 0 and makes smooth, "
                "simple functions cheaper than wiggly ones."
            ),
            "c": (
                "Dropout does help: no unit can rely on another one being there, so the "
                "network cannot memorise through co-adapted units."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_WEIGHT_DECAY",
        1,
        "Question 3: what weight decay does in one SGD step",
        "664ee6d0cca98c7c8057a91c60e3d14962fad0bebe591e7cdf52962efadd9ad0",
        {
            "a": (
                "The penalty adds lam * W to the gradient, so it changes every step, not only "
                "large weights; it does not clip anything."
            ),
            "b": (
                "Biases are usually not decayed, but the weights are: w is multiplied by "
                "(1 - lr * lam) before the usual step."
            ),
            "c": (
                "The learning rate is unchanged; the update w - lr (dw + lam w) equals "
                "(1 - lr lam) w - lr dw: the weights shrink by a constant factor."
            ),
        },
    ),
]
