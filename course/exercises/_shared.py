"""Helpers shared by the notebook modules: seeded draws, numerical gradients of a forward
pass, float32 twins of a case, and the plan that gives visible and hidden cases the same
builder."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course._diagnose import Case, Spec
from course.exercises import Exercise
from course.gradcheck import numerical_gradient

REFERENCE = "the reference implementation"


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _away_from_zero(a: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Push entries out of (-margin, margin) so finite differences never straddle a kink."""
    return np.where(np.abs(a) < margin, np.where(a < 0, -margin, margin) + a, a)


def _vjp(
    forward: Callable[..., np.ndarray],
    args: dict[str, Any],
    dout: np.ndarray,
    wrt: Sequence[str],
    h: float = 1e-5,
) -> list[np.ndarray]:
    """Numerical gradients of sum(forward(**args) * dout) with respect to each name in wrt."""
    grads = []
    for name in wrt:

        def f(value: np.ndarray, name: str = name) -> float:
            return float(np.sum(forward(**(args | {name: value})) * dout))

        grads.append(numerical_gradient(f, np.array(args[name], dtype=np.float64), h))
    return grads


def _exact(numeric: Sequence[Any], analytic: Sequence[Any]) -> tuple[Any, ...]:
    """Numerical gradients, each replaced by the reference's analytic value when the two agree
    (relative error below 1e-5 on the scale of the largest entry).

    Finite differences carry rounding errors of about 1e-10 of the largest entry; on a tiny
    entry that can exceed a check's tolerance, and fresh hidden inputs would then reject a
    right answer. The numerical gradient stays the judge: where it disagrees, it is kept.
    """
    out = []
    for num, ana in zip(numeric, analytic, strict=True):
        n = np.asarray(num, dtype=np.float64)
        a = np.asarray(ana, dtype=np.float64)
        scale = float(np.max(np.abs(n))) if n.size else 0.0
        agree = n.shape == a.shape and bool(
            np.all(np.abs(n - a) <= 1e-5 * np.maximum(np.abs(n) + np.abs(a), 1e-4 * scale))
        )
        if agree:
            out.append(float(a) if isinstance(num, float) else a)
        else:
            out.append(num)
    return tuple(out)


def _rounded(args: dict[str, Any]) -> dict[str, Any]:
    """The float arrays of args rounded to float32 and back: the inputs a float32 case really
    passes, in float64 (for expected values computed from exactly those inputs)."""
    return {
        k: v.astype(np.float32).astype(np.float64)
        if isinstance(v, np.ndarray) and v.dtype.kind == "f"
        else v
        for k, v in args.items()
    }


def _f32_case(args: dict[str, np.ndarray], expected: Sequence[Any], **kw: Any) -> Case:
    """The same test in float32: looser tolerance (1e-4, entries compared on the scale of 1 %
    of the largest expected value, since float32 rounding is about 1e-7 of the intermediate
    values); arrays must come back float32."""
    args32 = {
        k: v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
        for k, v in args.items()
    }
    scale = (
        max(
            float(np.max(np.abs(np.asarray(e, dtype=np.float64))))
            for e in expected
            if e is not None and np.size(e)
        )
        or 1.0
    )
    return Case(
        args32,
        tuple(expected),
        tol=1e-4,
        floor=1e-2 * scale,
        float32=True,
        note="float32 inputs",
        **kw,
    )


def _sig(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _dout_ones(backward: Callable[..., Any]) -> Callable[[Case], Any]:
    def predict(c: Case) -> Any:
        args = dict(c.args)
        args["dout"] = np.ones_like(args["dout"], dtype=np.float64)
        out = backward(*args.values(), **c.kwargs)
        return out if isinstance(out, tuple) else (out,)

    return predict


_DOUT_IGNORED = (
    "{name} does not depend on dout the way it should: it looks as if dout were "
    "all ones. The upstream gradient dout carries the loss's sensitivity to this "
    "layer's output; every gradient of the layer must use it."
)


def _naive_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --- Visible and hidden cases from one builder -------------------------------------------------
def plan(
    seed: int | None,
    base: int,
    fixed: Sequence[Any],
    draw: Callable[[np.random.Generator], Any],
) -> tuple[int, list[Any], np.random.Generator | None]:
    """(base seed, settings, generator) for a case builder.

    seed None: the visible cases, with the fixed base seed and settings (generator None).
    Otherwise: a fresh base seed and one fresh setting per fixed one, drawn from a generator
    seeded by (seed, base), so every exercise gets its own stream; the generator is returned
    for any further draws.
    """
    if seed is None:
        return base, list(fixed), None
    r = np.random.default_rng([int(seed) & 0xFFFFFFFF, base])
    return int(r.integers(100_000, 2**31 - 1000)), [draw(r) for _ in fixed], r


def plan_like(
    seed: int | None,
    base: int,
    fixed: Sequence[Any],
    draw: Callable[[np.random.Generator, Any], Any],
) -> tuple[int, list[Any]]:
    """Like plan, but each fresh setting is drawn after its fixed one: draw(generator, fixed)."""
    if seed is None:
        return base, list(fixed)
    r = np.random.default_rng([int(seed) & 0xFFFFFFFF, base])
    return int(r.integers(100_000, 2**31 - 1000)), [draw(r, item) for item in fixed]


def distinct(r: np.random.Generator, k: int, lo: int = 2, hi: int = 9) -> tuple[int, ...]:
    """k different sizes in [lo, hi), so a transposed or swapped axis cannot hide."""
    return tuple(int(v) for v in r.choice(np.arange(lo, hi), size=k, replace=False))


def any_shape(r: np.random.Generator, lo: int = 2, hi: int = 8) -> tuple[int, ...]:
    """A shape with one to three axes."""
    ndim = int(r.integers(1, 4))
    return tuple(int(v) for v in r.integers(lo, hi, size=ndim))


# --- Declaring items -----------------------------------------------------------------------------
def function(
    notebook: str,
    spec: Spec,
    cases: Callable[[int | None], Sequence[Case]],
    points: float,
    title: str,
    doc: str,
    reference: Callable[..., Any] | None = None,
) -> Exercise:
    """A graded function: check_<name>(fn) runs its visible cases. reference: the right
    answer (default: the course's function of the same name)."""
    if reference is None:
        reference = getattr(importlib.import_module("course"), spec.name)
    return Exercise(
        grade_id=f"test_{spec.name}",
        notebook=notebook,
        name=spec.name,
        kind="function",
        points=points,
        title=title,
        spec=spec,
        cases=cases,
        reference=reference,
        doc=doc,
    )


def choice(
    notebook: str,
    name: str,
    points: float,
    title: str,
    answer_hash: str,
    explanations: dict[str, str],
    choices: tuple[str, ...] = ("a", "b", "c", "d"),
) -> Exercise:
    """A multiple-choice answer: the right one only as a salted hash (course.exercises.answer_hash),
    a one-line explanation of the misconception behind each wrong one."""
    return Exercise(
        grade_id=f"test_{name.lower()}",
        notebook=notebook,
        name=name,
        kind="choice",
        points=points,
        title=title,
        choices=choices,
        answer_hash=answer_hash,
        explanations=explanations,
    )


def written(notebook: str, grade_id: str, points: float, title: str) -> Exercise:
    """A written answer (markdown), graded by hand."""
    return Exercise(
        grade_id=grade_id, notebook=notebook, name=None, kind="written", points=points, title=title
    )
