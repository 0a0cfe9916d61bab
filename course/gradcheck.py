"""Gradient checking: compare a backward pass with finite differences of the forward pass.

Reading scale for the relative error |a - n| / (|a| + |n|) (float64):
    > 1e-2        wrong
    1e-2 .. 1e-4  suspicious (a kink nearby, or a small bug)
    1e-4 .. 1e-7  probably right (fine in float32; in float64 look again)
    < 1e-7        right

Three checks, from thorough to fast:
- ``check_vjp``: one layer's backward against its forward, with a random upstream gradient
  ``dout`` (never all ones: sum(batchnorm(x)) is constant and would hide every bug).
- ``check_network``: every parameter of a Sequential (or a random sample of entries).
- ``fast_check`` / ``check_network(..., fast=True)``: one random projection v^T J u with two
  forward passes; cheap enough to run at every training step while debugging.
An entry sitting at a kink (ReLU at 0, ...) is reported as a kink when the analytic value lies
between the one-sided slopes (a valid subgradient), not as a failure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course import _validate as val

WRONG, SUSPICIOUS, PROBABLY_RIGHT, RIGHT = "wrong", "suspicious", "probably right", "right"


def verdict(rel_error: float) -> str:
    """The reading-scale word for a relative error."""
    if not rel_error <= 1e-2:  # also catches NaN
        return WRONG
    if rel_error > 1e-4:
        return SUSPICIOUS
    if rel_error >= 1e-7:
        return PROBABLY_RIGHT
    return RIGHT


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest elementwise relative error: max |a - b| / max(1e-8, |a| + |b|).

    a, b: arrays of the same shape (or scalars).  Returns a float (0.0 for empty arrays).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"relative_error: a and b must have the same shape, got {a.shape} and {b.shape}."
        )
    if a.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        err = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.nan if np.isnan(err).any() else err.max())


def _scalar(fn: str, value: Any) -> float:
    try:
        out = float(np.asarray(value).item()) if np.ndim(value) == 0 else None
    except (TypeError, ValueError):
        out = None
    if out is None:
        raise ValueError(
            f"{fn}: f(x) must return one number (a scalar loss), got "
            f"{type(value).__name__} of shape {val.shape_str(value)}."
        )
    return out


def _differences(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    h: float,
    one_sided: bool = False,
    indices: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, float]:
    """Centered differences of f at x (and forward/backward ones if asked), restoring x.

    x is perturbed in place, one entry at a time, so f sees the change through any view.
    indices: (K, x.ndim) entries to perturb (default: all, and the results have x's shape;
    otherwise they have shape (K,)).
    Returns (centered, forward, backward, largest |f| seen).
    """
    if indices is None:
        entries, shape = np.ndindex(x.shape), x.shape
    else:
        entries, shape = (tuple(i) for i in indices), (len(indices),)
    grad = np.zeros(shape, dtype=np.float64)
    fwd = np.zeros(shape, dtype=np.float64) if one_sided else None
    bwd = np.zeros(shape, dtype=np.float64) if one_sided else None
    f0 = _scalar("numerical_gradient", f(x)) if one_sided else 0.0
    f_scale = abs(f0)  # the largest |f| seen, for the noise floor of the comparison
    for j, idx in enumerate(entries):
        out = idx if indices is None else j
        old = x[idx]
        try:
            x[idx] = old + h
            fp = _scalar("numerical_gradient", f(x))
            x[idx] = old - h
            fm = _scalar("numerical_gradient", f(x))
        finally:
            x[idx] = old
        grad[out] = (fp - fm) / (2 * h)
        f_scale = max(f_scale, abs(fp), abs(fm))
        if one_sided:
            fwd[out] = (fp - f0) / h
            bwd[out] = (f0 - fm) / h
    return grad, fwd, bwd, f_scale


def _directional_difference(
    f: Callable[[], float], arrays: list[np.ndarray], dirs: list[np.ndarray], h: float
) -> float:
    """(f(x + h u) - f(x - h u)) / 2h, moving every array x_k in place along u_k, then restoring.

    arrays and dirs: matching lists of arrays of equal shapes.
    """
    base = [a.copy() for a in arrays]
    values = []
    try:
        for sign in (+1, -1):
            for a, b, u in zip(arrays, base, dirs, strict=True):
                a[...] = b + sign * h * u
            values.append(float(f()))
    finally:
        for a, b in zip(arrays, base, strict=True):
            a[...] = b
    return (values[0] - values[1]) / (2 * h)


def _projection_report(analytic: float, numeric: float, warnings: list[str]) -> GradcheckReport:
    """The one-row report of a random-projection check."""
    r = _compare("projection", np.array(analytic), np.array(numeric))
    r.worst_index = None
    return GradcheckReport({"projection": r}, warnings)


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centered differences: grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h).

    f: maps x to a float.  x: float array of any shape (views and non-contiguous arrays
    work); it is changed one entry at a time and restored, also if f raises.
    Returns grad: the shape of x, float64.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError(
            "numerical_gradient: x must be a floating-point NumPy array that can be changed "
            f"in place, got {type(x).__name__}"
            + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
            + ". Try x.astype(np.float64)."
        )
    if not x.flags.writeable:
        raise ValueError("numerical_gradient: x is read-only; pass a writable copy (x.copy()).")
    h = float(h)
    if not h > 0:
        raise ValueError(f"numerical_gradient: h must be > 0, got {h}.")
    return _differences(f, x, h)[0]


# --- Reports -----------------------------------------------------------------------------------
@dataclass
class Result:
    """How one gradient compares with finite differences."""

    name: str
    rel_error: float
    verdict: str
    worst_index: tuple[int, ...] | None = None
    numeric: float = math.nan
    analytic: float = math.nan
    kinks: list[tuple[int, ...]] = field(default_factory=list)
    checked: int = 0
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict in (RIGHT, PROBABLY_RIGHT)

    def line(self) -> str:
        if self.problem:
            return f"{self.name:>10}  {'-':>9}  {self.verdict:<14}  {self.problem}"
        worst = ""
        if self.worst_index is not None:
            worst = (
                f"worst at {self.worst_index}: numerical {self.numeric:.6g}, "
                f"analytic {self.analytic:.6g}"
            )
        kinks = f"  ({len(self.kinks)} kink(s) skipped)" if self.kinks else ""
        return f"{self.name:>10}  {self.rel_error:9.2e}  {self.verdict:<14}  {worst}{kinks}"


@dataclass
class GradcheckReport:
    """The outcome of a gradient check: one Result per gradient, plus warnings."""

    results: dict[str, Result]
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results.values())

    @property
    def verdict(self) -> str:
        order = [WRONG, SUSPICIOUS, PROBABLY_RIGHT, RIGHT]
        return min((r.verdict for r in self.results.values()), key=order.index, default=RIGHT)

    @property
    def wrong(self) -> list[str]:
        """Names of the gradients that are not right."""
        return [name for name, r in self.results.items() if not r.ok]

    def __getitem__(self, name: str) -> Result:
        return self.results[name]

    def __str__(self) -> str:
        head = f"{'gradient':>10}  {'rel.error':>9}  {'verdict':<14}  details"
        lines = [head] + [r.line() for r in self.results.values()]
        lines += [f"warning: {w}" for w in self.warnings]
        lines.append(f"overall: {self.verdict}")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython display
        p.text(str(self))


def _compare(
    name: str,
    analytic: Any,
    numeric: np.ndarray,
    fwd: np.ndarray | None = None,
    bwd: np.ndarray | None = None,
    index_map: np.ndarray | None = None,
    floor: float = 1e-8,
) -> Result:
    """Compare an analytic gradient with numerical ones, flagging kinks.

    `floor` is the smallest denominator of the relative error: entries far smaller than the
    largest gradient are below what finite differences can resolve and are compared
    against it instead (see _noise_floor).
    """
    analytic_arr = np.asarray(analytic, dtype=np.float64) if analytic is not None else None
    if analytic_arr is None or analytic_arr.shape != numeric.shape:
        got = "nothing" if analytic is None else f"shape {val.shape_str(analytic_arr)}"
        return Result(
            name, math.inf, WRONG,
            problem=f"expected shape {numeric.shape}, got {got}",
        )
    with np.errstate(invalid="ignore"):
        err = np.abs(analytic_arr - numeric) / np.maximum(
            floor, np.abs(analytic_arr) + np.abs(numeric)
        )
    err = np.where(np.isnan(err), np.inf, err)
    kinks: list[tuple[int, ...]] = []
    if fwd is not None and bwd is not None:
        lo, hi = np.minimum(fwd, bwd), np.maximum(fwd, bwd)
        slack = 1e-6 * np.maximum(1.0, np.abs(hi))
        # A kink: the one-sided slopes disagree, and the analytic value is a subgradient.
        is_kink = (
            (hi - lo > 1e-3 * np.maximum(1e-8, np.abs(hi) + np.abs(lo)))
            & (analytic_arr >= lo - slack)
            & (analytic_arr <= hi + slack)
            & (err > 1e-7)
        )
        kinks = [tuple(int(i) for i in idx) for idx in np.argwhere(is_kink)]
        err = np.where(is_kink, 0.0, err)
    if err.size == 0:
        return Result(name, 0.0, RIGHT, checked=0)
    flat = int(np.argmax(err))
    idx = np.unravel_index(flat, err.shape)
    worst = tuple(int(i) for i in (index_map[idx] if index_map is not None else idx))
    rel = float(err[idx])
    if index_map is not None:
        kinks = [tuple(int(i) for i in index_map[k]) for k in kinks]
    return Result(
        name, rel, verdict(rel), worst, float(numeric[idx]), float(analytic_arr[idx]), kinks,
        checked=int(err.size),
    )


def _noise_floor(numerics: list[np.ndarray], f_scale: float = 0.0, h: float = 1e-5) -> float:
    """Denominator floor for relative errors, from what finite differences can resolve.

    A centered difference carries rounding noise of about eps * |f| / h (eps = 2.2e-16 in
    float64), plus truncation that grows with the gradient's size. Entries far below that
    are compared in absolute terms against the floor: 1e-6 of the largest gradient entry, or
    1e4 times the rounding noise, whichever is larger (never below 1e-8).
    """
    scale = max((float(np.max(np.abs(n))) for n in numerics if n.size), default=0.0)
    rounding = np.finfo(np.float64).eps * f_scale / h
    return max(1e-8, 1e-6 * scale, 1e4 * rounding)


def _float_warning(arrays: dict[str, np.ndarray]) -> list[str]:
    low = [k for k, a in arrays.items() if a.dtype != np.float64]
    if not low:
        return []
    return [
        f"{', '.join(low)} {'is' if len(low) == 1 else 'are'} not float64: finite differences "
        "lose precision (expect errors near 1e-3 in float32). Check in float64."
    ]


# --- One layer: a vector-Jacobian product check ------------------------------------------------
def _float_inputs(inputs: dict[str, Any], wrt: Sequence[str] | None) -> tuple[dict, list[str]]:
    work = {}
    for k, a in inputs.items():
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            work[k] = a.copy()  # never perturb the caller's arrays
        else:
            work[k] = a
    if wrt is None:
        wrt = [k for k, a in work.items() if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    for k in wrt:
        if k not in work:
            raise ValueError(f"check_vjp: wrt names {k!r}, which is not in inputs {list(work)}.")
        if not (isinstance(work[k], np.ndarray) and work[k].dtype.kind == "f"):
            raise ValueError(f"check_vjp: input {k!r} must be a float array to differentiate.")
    return work, list(wrt)


def _unpack(grads: Any, wrt: list[str]) -> dict[str, Any]:
    if len(wrt) == 1 and not isinstance(grads, (tuple, list)):
        return {wrt[0]: grads}
    if not isinstance(grads, (tuple, list)) or len(grads) != len(wrt):
        n = len(grads) if isinstance(grads, (tuple, list)) else 1
        raise ValueError(
            f"check_vjp: backward must return {len(wrt)} gradient(s) ({', '.join(wrt)}), "
            f"got {n}."
        )
    return dict(zip(wrt, grads, strict=True))


def check_vjp(
    forward: Callable[..., np.ndarray],
    backward: Callable[..., Any],
    inputs: dict[str, Any],
    *,
    wrt: Sequence[str] | None = None,
    seed: int = 0,
    h: float = 1e-5,
    dout: np.ndarray | None = None,
) -> GradcheckReport:
    """Check a layer's backward on its own with a random upstream gradient.

    forward(**inputs) -> out.  backward(dout, **inputs) -> the gradients with respect to
    `wrt` (default: every float array in inputs), in that order (a tuple, or one array).
    Compares them with centered differences of L = sum(forward(**inputs) * dout), where dout is
    random normal of out's shape (seeded). Inputs are copied, never changed.
    Example: check_vjp(linear_forward, linear_backward, {"x": x, "W": W, "b": b}).
    """
    work, wrt = _float_inputs(inputs, wrt)
    out = np.asarray(forward(**work))
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(out.shape)
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != out.shape:
        raise ValueError(f"check_vjp: dout must be {out.shape} like the output, got {dout.shape}.")
    grads = _unpack(backward(dout.astype(out.dtype), **work), wrt)
    def loss(_: np.ndarray) -> float:
        return float(np.sum(np.asarray(forward(**work), dtype=np.float64) * dout))

    diffs, f_scale = {}, 0.0
    for name in wrt:
        num, fwd, bwd, f = _differences(loss, work[name], h, one_sided=True)
        diffs[name] = (num, fwd, bwd)
        f_scale = max(f_scale, f)
    floor = _noise_floor([d[0] for d in diffs.values()], f_scale, h)
    results = {name: _compare(name, grads[name], *diffs[name], floor=floor) for name in wrt}
    return GradcheckReport(results, _float_warning({k: work[k] for k in wrt}))


def fast_check(
    forward: Callable[..., np.ndarray],
    backward: Callable[..., Any],
    inputs: dict[str, Any],
    *,
    wrt: Sequence[str] | None = None,
    seed: int = 0,
    h: float = 1e-6,
) -> GradcheckReport:
    """One random projection: compare v^T J u from two forward passes with the backward's.

    With random v (like the output) and random directions u_k (like each input in `wrt`),
    (F(x + h u) - F(x - h u)) / 2h, F = sum(forward * v), must equal sum_k <backward_k(v), u_k>.
    Two forward passes and one backward, whatever the size: a wrong gradient almost surely
    changes the projection. The report has a single row, "projection".
    """
    work, wrt = _float_inputs(inputs, wrt)
    rng = np.random.default_rng(seed)
    out = np.asarray(forward(**work))
    vv = rng.standard_normal(out.shape)
    grads = _unpack(backward(vv.astype(out.dtype), **work), wrt)
    dirs = {k: rng.standard_normal(work[k].shape) for k in wrt}
    analytic = 0.0
    for k in wrt:
        g = np.asarray(grads[k], dtype=np.float64)
        if g.shape != dirs[k].shape:
            r = Result(k, math.inf, WRONG, problem=f"expected shape {dirs[k].shape}, got {g.shape}")
            return GradcheckReport({k: r})
        analytic += float(np.sum(g * dirs[k]))
    warnings = _float_warning({k: work[k] for k in wrt})

    def F() -> float:
        return float(np.sum(np.asarray(forward(**work), dtype=np.float64) * vv))

    numeric = _directional_difference(F, [work[k] for k in wrt], [dirs[k] for k in wrt], h)
    return _projection_report(analytic, numeric, warnings)


# --- A whole network ---------------------------------------------------------------------------
def check_network(
    model: Any,
    loss_fn: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]],
    x: np.ndarray,
    y: np.ndarray,
    *,
    sample: int | None = None,
    seed: int = 0,
    h: float = 1e-5,
    fast: bool = False,
) -> GradcheckReport:
    """Check the gradient of every parameter of a Sequential model.

    model: a course.Sequential.  loss_fn(out, y) -> (loss, dout).  x: (N, D) inputs.
    sample: check this many random entries per parameter (None: every entry).
    fast: one random projection over all parameters (two forward passes) instead.
    The forward pass must be deterministic: put Dropout layers in eval mode first.
    """
    from course.network import Dropout  # local: the checker does not need the layers otherwise

    for layer in getattr(model, "layers", []):
        if isinstance(layer, Dropout) and layer.training and layer.p > 0:
            raise ValueError(
                "check_network: the model has Dropout in training mode, so every forward pass "
                "drops different units and finite differences mean nothing. Call model.eval() "
                "(or use p=0) before checking."
            )
    named = (
        list(model.named_parameters())
        if hasattr(model, "named_parameters")
        else [(f"{i}", p) for i, p in enumerate(model.parameters())]
    )

    def loss_at() -> float:
        return float(loss_fn(model.forward(x), y)[0])

    out = model.forward(x)
    _, dout = loss_fn(out, y)
    model.backward(dout)
    analytic = {name: np.array(p.grad, dtype=np.float64) for name, p in named}
    warnings = _float_warning({name: p.value for name, p in named})
    rng = np.random.default_rng(seed)

    if fast:
        dirs = [rng.standard_normal(p.value.shape) for _, p in named]
        values = [p.value for _, p in named]
        numeric = _directional_difference(loss_at, values, dirs, h)
        pairs = zip(named, dirs, strict=True)
        proj = sum(float(np.sum(analytic[name] * u)) for (name, _), u in pairs)
        return _projection_report(proj, numeric, warnings)

    measured = {}
    f_scale = 0.0
    for name, p in named:
        value = p.value
        if sample is None or sample >= value.size:
            idxs = np.array(list(np.ndindex(value.shape)), dtype=np.intp).reshape(-1, value.ndim)
        else:
            flat = rng.choice(value.size, size=sample, replace=False)
            idxs = np.stack(np.unravel_index(flat, value.shape), axis=1)
        num, fwd, bwd, f = _differences(lambda _: loss_at(), value, h, True, indices=idxs)
        f_scale = max(f_scale, f)
        got = analytic[name][tuple(idxs.T)] if len(idxs) else np.zeros(0)
        measured[name] = (got, num, fwd, bwd, idxs)
    floor = _noise_floor([m[1] for m in measured.values()], f_scale, h)
    results = {
        name: _compare(name, got, num, fwd, bwd, index_map=idxs, floor=floor)
        for name, (got, num, fwd, bwd, idxs) in measured.items()
    }
    return GradcheckReport(results, warnings)
