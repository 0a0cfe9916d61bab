"""Notebook 07, the learning rate: sgd_step, gradient_descent, sgd_epoch (minibatches), two
concept questions, one written answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course import optim as ref_optim
from course._diagnose import Case, Mistake, Output, Rng, Spec
from course.exercises import Fn
from course.exercises._shared import (
    REFERENCE,
    _f32_case,
    _rng,
    any_shape,
    choice,
    function,
    plan,
    written,
)

NOTEBOOK = "07-learning-rate"


def quadratic(
    shape: Sequence[int], seed: int, grad_dtype: str = "float64"
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """loss_and_grad of a least-squares problem in w of this shape: 0.5 |A w - y|^2 / len(y).
    The gradient comes back in grad_dtype."""
    shape = tuple(int(n) for n in shape)
    r = _rng(seed)
    k = int(np.prod(shape))
    a = r.normal(size=(k + 2, k))
    y = r.normal(size=k + 2)
    dtype = np.dtype(grad_dtype)

    def loss_and_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        res = a @ np.asarray(w, dtype=np.float64).reshape(-1) - y
        grad = (a.T @ res / len(y)).reshape(shape)
        return float(0.5 * res @ res / len(y)), grad.astype(dtype, copy=False)

    return loss_and_grad


def gradient_descent(
    loss_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    w0: np.ndarray,
    lr: float,
    steps: int,
) -> tuple[np.ndarray, list[float]]:
    """The reference: `steps` steps of w <- w - lr * grad from w0; losses[i] is the loss
    before step i."""
    w, losses = np.array(w0, copy=True), []
    for _ in range(steps):
        loss, g = loss_and_grad(w)
        losses.append(float(loss))
        w = ref_optim.sgd_step(w, g, lr)
    return w, losses


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


def _gd_cases(seed: int | None) -> list[Case]:
    fixed = [((3,), 0.1, 5), ((2, 3), 0.05, 7), ((4,), 0.3, 3), ((3,), 0.1, 4)]

    def draw(r: np.random.Generator) -> tuple[tuple[int, ...], float, int]:
        shape = any_shape(r, 2, 5)[:2]
        return shape, float(r.choice([0.03, 0.05, 0.1, 0.2])), int(r.integers(2, 9))

    base, settings, _ = plan(seed, 1500, fixed, draw)
    cases = []
    for k, (shape, lr, steps) in enumerate(settings[:-1]):
        lg = Fn(f"{__name__}:quadratic", {"shape": list(shape), "seed": base + k})
        w0 = _rng(base + 10 + k).normal(size=shape)
        w, losses = gradient_descent(lg, w0, lr, steps)
        cases.append(
            Case(
                {"loss_and_grad": lg, "w0": w0, "lr": lr, "steps": steps},
                (w, losses),
                sizes={"steps": steps},
            )
        )
    # steps = 0: no step at all (a loop that tests its condition after the body fails here)
    lg0 = Fn(f"{__name__}:quadratic", {"shape": [3], "seed": base + 8})
    w0 = _rng(base + 18).normal(size=3)
    cases.append(
        Case(
            {"loss_and_grad": lg0, "w0": w0, "lr": 0.1, "steps": 0},
            (w0.copy(), []),
            sizes={"steps": 0},
            note="no step, no loss",
        )
    )
    # float32: w0 and the gradients are float32, so w stays float32
    shape, lr, steps = settings[-1]
    lg32 = Fn(
        f"{__name__}:quadratic", {"shape": list(shape), "seed": base + 9, "grad_dtype": "float32"}
    )
    w0 = _rng(base + 19).normal(size=shape)
    w, losses = _descend(quadratic(shape, base + 9), w0.astype(np.float32), lr, steps)
    case = _f32_case({"loss_and_grad": lg32, "w0": w0, "lr": lr, "steps": steps}, (w, losses))
    case.sizes = {"steps": steps}
    cases.append(case)
    return cases


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
            predict=lambda c: _descend(*_gd_args(c)[:3], max(c.args["steps"] - 1, 0)),
            only=("w",),
        ),
        Mistake(
            "off_by_one",
            "w went one step too far: the loop ran steps + 1 times; it must take exactly "
            "steps steps.",
            predict=lambda c: (
                _descend(*_gd_args(c)[:3], c.args["steps"] + 1) if c.args["steps"] else None
            ),
            only=("w",),
        ),
        Mistake(
            "zero_steps",
            "with steps = 0 the loop must not run at all: return (a copy of) w0 and an empty "
            "list of losses. A loop that checks its condition only after the first step "
            "always takes one.",
            detect=lambda c, got: c.args["steps"] == 0,
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
            "losses should have exactly one entry per step, the loss before that step: "
            "{steps} steps give {steps} losses (no extra loss after the last step).",
            detect=lambda c, got: (
                isinstance(got[1], list | tuple | np.ndarray)
                and abs(len(got[1]) - c.args["steps"]) == 1
            ),
            only=("losses",),
        ),
    ],
    compared_with=REFERENCE,
)


def _sgd_cases(seed: int | None) -> list[Case]:
    fixed = [((3, 4), 0.1), ((5,), 0.03), ((2, 3, 2), 0.5), ((4, 2), 0.1)]
    base, settings, _ = plan(
        seed, 1600, fixed, lambda r: (any_shape(r), float(r.choice([0.01, 0.05, 0.1, 0.5])))
    )
    cases = []
    for k, (shape, lr) in enumerate(settings[:-1]):
        r = _rng(base + k)
        w, dw = r.normal(size=shape), r.normal(size=shape)
        cases.append(Case({"w": w, "dw": dw, "lr": lr}, (ref_optim.sgd_step(w, dw, lr),)))
    shape, lr = settings[-1]
    r = _rng(base + 9)
    w, dw = r.normal(size=shape), r.normal(size=shape)
    cases.append(_f32_case({"w": w, "dw": dw, "lr": lr}, (ref_optim.sgd_step(w, dw, lr),)))
    return cases


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



def batch_least_squares() -> Callable[..., tuple[float, np.ndarray]]:
    """grad_fn of a linear least-squares model: (w, xb, yb) -> (0.5 mean (xb w - yb)^2, dw)."""

    def grad_fn(w: np.ndarray, xb: np.ndarray, yb: np.ndarray) -> tuple[float, np.ndarray]:
        res = xb @ w - yb
        return float(0.5 * np.mean(res**2)), xb.T @ res / len(yb)

    return grad_fn


def sgd_epoch(
    w: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    grad_fn: Callable[..., tuple[float, np.ndarray]],
    lr: float,
    batch_size: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[float]]:
    """The reference: one epoch of minibatch SGD over a permutation drawn from rng."""
    order = rng.permutation(len(x))
    w, losses = np.array(w, copy=True), []
    for start in range(0, len(x), batch_size):
        batch = order[start:start + batch_size]
        loss, dw = grad_fn(w, x[batch], y[batch])
        losses.append(float(loss))
        w = w - lr * dw
    return w, losses


def _epoch_with(c: Case, *, order: Any = "perm", size: int | None = None, drop_last: bool = False,
                after: bool = False, y_order: Any = None) -> tuple[np.ndarray, list[float]]:
    """What a variant of the loop returns on case c."""
    x, y, lr = c.args["x"], c.args["y"], c.args["lr"]
    grad_fn = c.args["grad_fn"]
    rng = np.random.default_rng(c.args["rng"].seed)
    n = len(x)
    idx = rng.permutation(n) if order == "perm" else np.arange(n)
    yidx = idx if y_order is None else rng.permutation(n)
    size = c.args["batch_size"] if size is None else size
    w, losses = np.array(c.args["w"], dtype=np.float64), []
    stop = n - n % size if drop_last else n
    for start in range(0, stop, size):
        xb, yb = x[idx[start:start + size]], y[yidx[start:start + size]]
        loss, dw = grad_fn(w, xb, yb)
        w = w - lr * dw
        losses.append(grad_fn(w, xb, yb)[0] if after else float(loss))
    return w, losses


def _epoch_cases(seed: int | None) -> list[Case]:
    fixed = [(10, 3, 4, 0.1), (12, 2, 5, 0.2), (9, 4, 3, 0.1), (11, 3, 4, 0.1)]

    def draw(r: np.random.Generator) -> tuple[int, int, int, float]:
        b = int(r.integers(3, 6))
        return int(r.integers(2, 4)) * b + int(r.integers(1, b)), int(r.integers(2, 5)), b, 0.1

    base, settings, _ = plan(seed, 1700, fixed, draw)
    cases = []
    grad_fn = Fn(f"{__name__}:batch_least_squares")
    for k, (n, d, b, lr) in enumerate(settings):
        r = _rng(base + k)
        x, y, w = r.normal(size=(n, d)), r.normal(size=n), r.normal(size=d)
        args = {"w": w, "x": x, "y": y, "grad_fn": grad_fn, "lr": lr, "batch_size": b,
                "rng": Rng(base + 20 + k)}
        expected = sgd_epoch(w, x, y, batch_least_squares(), lr, b,
                             np.random.default_rng(base + 20 + k))
        cases.append(Case(args, expected, sizes={"N": n, "B": b, "batches": -(-n // b)}))
    return cases


_EPOCH = Spec(
    "sgd_epoch",
    (Output("w", like="w"), Output("losses", "floats")),
    [
        Mistake(
            "no_shuffle",
            "the batches are taken in the original order: shuffle first with "
            "order = rng.permutation(N) and slice that order, so every epoch sees the "
            "examples in a new random order.",
            predict=lambda c: _epoch_with(c, order="range"),
        ),
        Mistake(
            "x_y_shuffled_apart",
            "x and y are shuffled with two different permutations, so the inputs no longer "
            "match their targets: draw one permutation and index both x and y with it.",
            predict=lambda c: _epoch_with(c, y_order="own"),
        ),
        Mistake(
            "dropped_last_batch",
            "the last, smaller batch is missing: with N = {N} and batch_size = {B} there are "
            "{batches} batches; range(0, N, batch_size) includes the partial one.",
            predict=lambda c: _epoch_with(c, drop_last=True),
        ),
        Mistake(
            "full_batch",
            "you took one step on the whole data set: minibatch SGD takes one step per batch "
            "of batch_size examples ({batches} steps here).",
            predict=lambda c: _epoch_with(c, size=len(c.args["x"])),
        ),
        Mistake(
            "batch_of_one",
            "you took one step per example: the batches should hold batch_size examples each.",
            predict=lambda c: _epoch_with(c, size=1),
        ),
        Mistake(
            "losses_after_step",
            "losses[k] is the batch's loss after its step; it should be the loss before the "
            "step (the value grad_fn returns together with the gradient).",
            predict=lambda c: (None, _epoch_with(c, after=True)[1]),
            only=("losses",),
        ),
        Mistake(
            "off_by_one",
            "losses should have one entry per batch: {batches} batches give {batches} losses.",
            detect=lambda c, got: (
                isinstance(got[1], list | tuple | np.ndarray)
                and len(got[1]) != c.sizes["batches"]
            ),
            only=("losses",),
        ),
    ],
    compared_with=REFERENCE,
)

EXERCISES = [
    function(
        NOTEBOOK,
        _SGD,
        _sgd_cases,
        2,
        "Exercise 1: sgd_step, one step of gradient descent",
        "Check sgd_step(w, dw, lr) -> w - lr * dw (w itself unchanged).",
    ),
    function(
        NOTEBOOK,
        _GD,
        _gd_cases,
        4,
        "Exercise 2: gradient_descent, the training loop",
        "Check gradient_descent(loss_and_grad, w0, lr, steps) -> (w, losses).",
        reference=gradient_descent,
    ),
    function(
        NOTEBOOK,
        _EPOCH,
        _epoch_cases,
        4,
        "Exercise 3: sgd_epoch, one epoch of minibatch SGD",
        "Check sgd_epoch(w, x, y, grad_fn, lr, batch_size, rng) -> (w, losses).",
        reference=sgd_epoch,
    ),
    written(NOTEBOOK, "written_learning_rate", 3, "Question: the learning rate in your own words"),
    choice(
        NOTEBOOK,
        "MC_DIVERGENCE",
        1,
        "Question 1: when gradient descent on 3 w^2 converges",
        "8ce2b2f6c31fc231b3c5a3afed72ad118f27e2466dbba612b31ee85ecd1305a7",
        {
            "a": (
                "1/6 is where w lands exactly on the minimum in one step (1 - 6 eta = 0); it still"
                " converges up to eta < 2/6 = 1/3."
            ),
            "c": (
                "The curvature is L'' = 6: each step multiplies w by 1 - 6 eta, which stays inside"
                " (-1, 1) only for eta < 2/6 = 1/3."
            ),
            "d": (
                "Each step multiplies w by 1 - 6 eta; for eta > 1/3 its size exceeds 1 and w grows"
                " without bound."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_RANGE_TEST",
        1,
        "Question 2: choosing a rate from a range test",
        "351a77417cb1fba5274026fe879f122e57abced9834c6ff8d2e203c57acdc1df",
        {
            "a": (
                "At 1e-3 the loss is still flat: training would be very slow. Start about a tenth "
                "below the rate with the lowest loss."
            ),
            "c": (
                "At 1 the loss explodes: that rate diverges. Start about a tenth below the rate "
                "with the lowest loss, about 0.03."
            ),
            "d": (
                "10 is far beyond the point where the loss explodes; start about a tenth below the"
                " rate with the lowest loss."
            ),
        },
    ),
]
