"""Input checks shared by the reference implementation.

Every public function validates its arguments here, so a learner who passes
the wrong thing reads "linear_forward: W has shape (3, 4) but x is (5, 2) ..."
instead of a broadcasting error from deep inside NumPy. The checks only look
at shapes and dtypes (cheap); scanning values is left to the losses, where a
non-finite number really matters.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


def shape_str(a: Any) -> str:
    """Shape of `a` as text, e.g. '(3, 4)', or its type if it has no shape."""
    shape = getattr(a, "shape", None)
    return str(tuple(shape)) if shape is not None else type(a).__name__


def as_float(fn: str, name: str, a: Any) -> np.ndarray:
    """`a` as a floating-point array: float32/float64 kept, anything else to float64."""
    if isinstance(a, np.ndarray):
        if a.dtype == np.float64 or a.dtype == np.float32:
            return a
        if a.dtype.kind in "iub" or a.dtype.kind == "f":
            return a.astype(np.float64)
        raise ValueError(f"{fn}: {name} must hold numbers, got an array of dtype {a.dtype}.")
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{fn}: {name} must be an array of numbers, got {type(a).__name__} ({exc})."
        ) from None
    return arr


def result_dtype(*arrays: np.ndarray) -> np.dtype:
    """float32 only if every input is float32, else float64."""
    if all(a.dtype == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def floats(fn: str, **arrays: Any) -> list[np.ndarray]:
    """Convert every keyword argument with `as_float` and cast all to one dtype."""
    values = list(arrays.values())
    first = values[0]
    if type(first) is np.ndarray and (first.dtype is _FLOAT64 or first.dtype is _FLOAT32):
        dtype = first.dtype
        for a in values:
            if type(a) is not np.ndarray or a.dtype is not dtype:
                break
        else:
            return values  # the common case, already right: nothing to convert
    out = [as_float(fn, name, a) for name, a in arrays.items()]
    dtype = result_dtype(*out)
    return [a if a.dtype == dtype else a.astype(dtype) for a in out]


def ndim(fn: str, name: str, a: np.ndarray, n: int, meaning: str) -> None:
    """Require `a.ndim == n`; `meaning` describes the expected shape, e.g. '(N, D)'."""
    if a.ndim != n:
        raise ValueError(
            f"{fn}: {name} must be {n}-D with shape {meaning}, got shape {shape_str(a)}."
        )


def same_shape(fn: str, name: str, a: np.ndarray, ref_name: str, ref: np.ndarray) -> None:
    """Require `a.shape == ref.shape`."""
    if a.shape != ref.shape:
        raise ValueError(
            f"{fn}: {name} must have the same shape as {ref_name} {shape_str(ref)}, "
            f"got {shape_str(a)}."
        )


def positive_finite(fn: str, name: str, value: float) -> float:
    """A finite, non-negative hyperparameter such as a learning rate."""
    if type(value) is float and 0 <= value < math.inf:
        return value  # the common case (NaN fails the comparison and gets the message below)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: {name} must be a number, got {value!r}.") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{fn}: {name} must be a finite number >= 0, got {value!r}.")
    return v


def probability(fn: str, name: str, value: float, *, allow_one: bool = False) -> float:
    """A number in [0, 1) (or [0, 1] with allow_one)."""
    if type(value) is float and 0 <= value < 1:
        return value
    v = positive_finite(fn, name, value)
    if v > 1 or (v == 1 and not allow_one):
        upper = "1]" if allow_one else "1)"
        raise ValueError(f"{fn}: {name} must be in [0, {upper}, got {value!r}.")
    return v


def all_finite(fn: str, name: str, a: np.ndarray) -> None:
    """Reject NaN and infinity, saying where the first one is."""
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(
            f"{fn}: {name} contains a non-finite value ({a[where]}) at index {where}. "
            "Check the step before: a learning rate that is too high often causes this."
        )
