"""Gradient checking of the digits MLP: course's checks vs torch.autograd.gradcheck (float64).

Two questions: how long does each check take, and which wrong gradients does each one catch?
For the second, bugs are planted in the reference network's backward pass, and torch's checker
is pointed at that same buggy network (wrapped in a torch.autograd.Function), so every
checker judges the same gradients.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import course
from benchmarks import common
from benchmarks.digits_bench import SIZES, digits_split
from benchmarks.torch_mirror import torch_mlp_from

BATCH = 64
SAMPLE = 10  # entries per parameter in the sampled check
GOAL_FAST_SECONDS = 0.010


def digits_problem():
    """(model, loss_fn, x, y): the digits MLP at its initial weights and a batch of 64, float64."""
    x_train, _, y_train, _ = digits_split(np.float64)
    model = course.mlp(SIZES, rng=0)
    return model, course.softmax_cross_entropy, x_train[:BATCH], y_train[:BATCH]


# --- Planted bugs ------------------------------------------------------------------------------
def _patch(model, index: int, after: Callable[[Any, np.ndarray, np.ndarray], np.ndarray]) -> None:
    """Make layer `index` run after(layer, dout, dx) -> dx once its correct backward is done."""
    layer = model.layers[index]
    correct = layer.backward

    def backward(dout: np.ndarray) -> np.ndarray:
        return after(layer, dout, correct(dout))

    layer.backward = backward  # an instance attribute hides the method


def _scale_dW(factor: float, index: int):
    def bug(layer, dout, dx):
        layer.W.grad = layer.W.grad * factor
        return dx
    return index, bug


def _db_mean(layer, dout, dx):
    layer.b.grad = dout.mean(axis=0)
    return dx


def _db_zero(layer, dout, dx):
    layer.b.grad = np.zeros_like(layer.b.grad)
    return dx


def _half_dx(layer, dout, dx):
    return dx * 0.5


def _relu_no_mask(layer, dout, dx):
    return dout


def _one_entry(layer, dout, dx):
    g = layer.W.grad.copy()
    g[3, 5] *= 2.0
    layer.W.grad = g
    return dx


# name -> (layer index, how the backward goes wrong); the model is Linear, ReLU, Linear
BUGS: dict[str, tuple[int, Callable]] = {
    "dW of layer 0 scaled by 1.1": _scale_dW(1.1, 0),
    "dW of layer 2 scaled by 1.001": _scale_dW(1.001, 2),
    "db of layer 2 is the mean, not the sum": (2, _db_mean),
    "db of layer 0 forgotten (zeros)": (0, _db_zero),
    "dx of layer 2 halved": (2, _half_dx),
    "ReLU backward ignores the mask": (1, _relu_no_mask),
    "one entry of dW (layer 0) doubled": (0, _one_entry),
}


def buggy_problem(bug: str | None):
    model, loss_fn, x, y = digits_problem()
    if bug is not None:
        index, fn = BUGS[bug]
        _patch(model, index, fn)
    return model, loss_fn, x, y


# --- torch ---------------------------------------------------------------------------------------
def course_loss_as_torch(model, loss_fn, x, y) -> Callable[..., Any]:
    """A torch function of the parameter tensors whose backward is the course network's."""
    import torch

    params = model.parameters()

    def load(values) -> None:
        for p, t in zip(params, values, strict=True):
            p.value[...] = t.detach().numpy()

    class CourseLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *values):
            ctx.save_for_backward(*values)
            load(values)
            loss, _ = loss_fn(model.forward(x), y)
            return torch.tensor(loss, dtype=torch.float64)

        @staticmethod
        def backward(ctx, grad_out):
            load(ctx.saved_tensors)
            _, dout = loss_fn(model.forward(x), y)
            model.backward(dout)
            return tuple(grad_out * torch.from_numpy(np.array(p.grad)) for p in params)

    return CourseLoss.apply


def torch_inputs(model) -> tuple:
    import torch

    return tuple(
        torch.from_numpy(p.value.copy()).requires_grad_(True) for p in model.parameters()
    )


def torch_twin_loss(model, x, y) -> tuple[Callable[..., Any], tuple]:
    """The torch twin of `model` as a function of its parameters, and those parameters."""
    import torch
    from torch.func import functional_call

    twin = torch_mlp_from(model)
    names = [n for n, _ in twin.named_parameters()]
    values = tuple(p.detach().clone().requires_grad_(True) for p in twin.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def f(*ps):
        out = functional_call(twin, dict(zip(names, ps, strict=True)), (xt,))
        return torch.nn.functional.cross_entropy(out, yt)

    return f, values


def torch_gradcheck(f, inputs, fast: bool) -> bool:
    import torch

    return bool(torch.autograd.gradcheck(f, inputs, fast_mode=fast, raise_exception=False))


# --- Measurements -----------------------------------------------------------------------------
@dataclass
class TimingRow:
    check: str
    evaluations: str
    seconds: float | None
    note: str = ""


def _median_time(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up
    return common.median([common.time_once(fn) for _ in range(repeats)])


def timings(quick: bool = False) -> list[TimingRow]:
    """Median times; quick=True leaves out the two full checks (seconds each)."""
    model, loss_fn, x, y = digits_problem()
    n = sum(p.value.size for p in model.parameters())
    slow, fast = (1, 7) if quick else (3, 31)
    rows = []
    with common.threads(1):
        if not quick:
            rows.append(TimingRow(
                "course check_network (every entry)", f"{2 * n + 4} forward passes",
                _median_time(lambda: course.check_network(model, loss_fn, x, y), slow)))
        rows.append(TimingRow(
            f"course check_network(sample={SAMPLE})",
            f"{2 * SAMPLE * len(model.parameters()) + 4} forward passes",
            _median_time(lambda: course.check_network(model, loss_fn, x, y, sample=SAMPLE), fast)))
        rows.append(TimingRow(
            "course check_network(fast=True)", "3 forward, 1 backward",
            _median_time(lambda: course.check_network(model, loss_fn, x, y, fast=True), fast)))
        if common.torch_or_none() is None:
            for name in ("torch gradcheck", "torch gradcheck(fast_mode=True)"):
                rows.append(TimingRow(name, "-", None, common.TORCH_MISSING))
            return rows
        f, inputs = torch_twin_loss(model, x, y)
        if not quick:
            rows.append(TimingRow(
                "torch.autograd.gradcheck, torch twin", f"{2 * n} forward passes + backward",
                _median_time(lambda: torch_gradcheck(f, inputs, fast=False), slow)))
        rows.append(TimingRow(
            "torch.autograd.gradcheck(fast_mode=True), torch twin", "a few forward/backward",
            _median_time(lambda: torch_gradcheck(f, inputs, fast=True), fast)))
        g = course_loss_as_torch(model, loss_fn, x, y)
        ginputs = torch_inputs(model)
        rows.append(TimingRow(
            "torch.autograd.gradcheck(fast_mode=True), course network", "a few forward/backward",
            _median_time(lambda: torch_gradcheck(g, ginputs, fast=True), fast)))
        if not quick:
            bug = "dW of layer 0 scaled by 1.1"
            bm, bl, bx, by = buggy_problem(bug)
            rows.append(TimingRow(
                "course check_network(fast=True), planted bug (dW x 1.1)",
                "3 forward, 1 backward",
                _median_time(lambda: course.check_network(bm, bl, bx, by, fast=True), fast)))
            bg, binputs = course_loss_as_torch(bm, bl, bx, by), torch_inputs(bm)
            rows.append(TimingRow(
                "torch.autograd.gradcheck(fast_mode=True), same planted bug",
                "fails, then re-runs the slow mode on that input for its message",
                _median_time(lambda: torch_gradcheck(bg, binputs, fast=True), slow)))
    return rows


def caught(
    quick: bool = False, full: bool = True, with_torch: bool = True
) -> tuple[list[str], list[list[str]]]:
    """Which planted bug each checker flags. Returns (headers, rows).

    full=False leaves out the two full checks (every entry), which take seconds per bug;
    with_torch=False leaves out torch's checker, whose fast mode, once it finds a wrong
    gradient, re-runs the slow mode to write its error message (seconds per bug as well).
    """
    have_torch = with_torch and common.torch_or_none() is not None
    course_checks = ([("full check", {})] if full else []) + [
        (f"sampled ({SAMPLE}/param)", {"sample": SAMPLE}),
        ("fast (projection)", {"fast": True}),
    ]
    torch_checks = ([("torch gradcheck fast_mode", True)]
                    + ([("torch gradcheck", False)] if full else [])) if have_torch else []
    headers = ["planted bug"] + [h for h, _ in course_checks] + [h for h, _ in torch_checks]
    rows = []
    with common.threads(1):
        for bug in [None, *BUGS]:
            cells = [bug or "none (correct backward): must pass"]
            for _, kwargs in course_checks:
                report = course.check_network(*buggy_problem(bug), **kwargs)
                cells.append(_cell(not report.ok, bug, report.verdict))
            for _, fast in torch_checks:
                model, loss_fn, x, y = buggy_problem(bug)
                ok = torch_gradcheck(course_loss_as_torch(model, loss_fn, x, y),
                                     torch_inputs(model), fast)
                cells.append(_cell(not ok, bug, "fails" if not ok else "passes"))
            rows.append(cells)
    if not have_torch:
        why = "not installed" if with_torch else "left out in quick mode"
        headers.append("torch gradcheck")
        for row in rows:
            row.append(f"skipped (torch {why})")
    return headers, rows


def _cell(flagged: bool, bug: str | None, detail: str) -> str:
    if bug is None:
        return f"passes ({detail})" if not flagged else f"**false alarm** ({detail})"
    return f"caught ({detail})" if flagged else f"**missed** ({detail})"


def timing_table(rows: list[TimingRow]) -> str:
    body = []
    for r in rows:
        if r.seconds is None:
            body.append([r.check, r.evaluations, "skipped", r.note])
            continue
        goal = ""
        if r.check.startswith("course check_network(fast=True)"):
            met = r.seconds <= GOAL_FAST_SECONDS
            over = (r.seconds / GOAL_FAST_SECONDS - 1) * 100
            goal = "goal <= 10 ms: " + ("yes" if met else f"**no** (+{over:.0f} %)")
        body.append([r.check, r.evaluations, common.ms(r.seconds), goal])
    return common.md_table(["check", "work", "median time", "goal"], body)


def measure(quick: bool = False) -> dict[str, Any]:
    start = time.perf_counter()
    out = {"timings": timings(quick),
           "caught": caught(quick, full=not quick, with_torch=not quick)}
    out["seconds"] = time.perf_counter() - start
    return out
