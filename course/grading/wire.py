"""Plain values across the jail boundary: the only things grader and learner code exchange.

A message is one line of JSON. Values are encoded as

- ``None``, ``bool``, ``int``, ``float`` (NaN and infinities included), ``str``: as themselves;
- a list ``{"l": [...]}``, a tuple ``{"t": [...]}``, a dict with ``str`` keys ``{"d": {...}}``;
- a NumPy array ``{"a": [dtype, shape, base64 of the C-ordered bytes]}``, a NumPy scalar
  ``{"s": [dtype, base64]}``, for the dtypes in :data:`DTYPES` only;
- from the grader only: a fresh random generator ``{"rng": seed}`` and a named function
  ``{"fn": [target, params]}`` (see :class:`course.exercises.Fn`);
- from the jail only: anything else becomes ``{"o": [type name, short repr]}``, which decodes to
  an :class:`Opaque` that no check accepts.

The decoder builds only these types (never pickle, never an object of the learner's class: a
``str`` that arrives is an exact ``str``), and rejects what is too deep, too large, or not in
this grammar with :class:`WireError`.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np

DTYPES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
})
MAX_DEPTH = 12
MAX_ITEMS = 100_000  # containers' entries and array dimensions, per message
# Grading inputs and outputs are small (the largest is a model's scores on held-out digits);
# these bounds keep a hostile answer from costing the grader gigabytes of memory.
MAX_ARRAY_BYTES = 16 * 1024 * 1024
MAX_STR = 1_000_000
MAX_LINE = 32 * 1024 * 1024


class WireError(ValueError):
    """A message that is not in the grammar above."""


class Opaque:
    """Something the learner returned that is not a plain value (a generator, a custom class)."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name = type_name
        self.text = text

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


# --- encoding ----------------------------------------------------------------------------------
def encode(value: Any, *, markers: bool = False, depth: int = 0) -> Any:
    """A JSON-ready structure for ``value``. ``markers``: allow Rng/Fn (the grader's side)."""
    if depth > MAX_DEPTH:
        return _opaque(value)
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value if -(2**63) <= value < 2**64 else _opaque(value)
    if t is float:
        return value
    if isinstance(value, str):
        return str.__str__(value)  # a str subclass crosses as its characters, nothing more
    if t is list or t is tuple:
        items = [encode(v, markers=markers, depth=depth + 1) for v in value]
        return {"l" if t is list else "t": items}
    if t is dict:
        if all(type(k) is str for k in value):
            return {"d": {k: encode(v, markers=markers, depth=depth + 1) for k, v in value.items()}}
        return _opaque(value)
    if t is np.ndarray:
        if value.dtype.name not in DTYPES or value.dtype.byteorder not in "=|":
            return _opaque(value)
        data = np.ascontiguousarray(value).tobytes()
        return {"a": [value.dtype.name, list(value.shape), base64.b64encode(data).decode()]}
    if isinstance(value, np.generic) and t.__module__ == "numpy":
        if value.dtype.name not in DTYPES:
            return _opaque(value)
        return {"s": [value.dtype.name, base64.b64encode(value.tobytes()).decode()]}
    if markers:
        seed = getattr(value, "seed", None)
        if type(value).__name__ in ("Rng", "_SeededGenerator") and type(seed) is int:
            return {"rng": seed}
        target = getattr(value, "target", None)
        if type(value).__name__ == "Fn" and type(target) is str:
            return {"fn": [target, encode(dict(value.params), markers=True, depth=depth + 1)]}
    return _opaque(value)


def _opaque(value: Any) -> dict:
    try:
        name = type(value).__name__
    except Exception:  # noqa: BLE001 - whatever the learner built
        name = "object"
    name = name if type(name) is str else "object"
    return {"o": [name[:80], ""]}


# --- decoding ----------------------------------------------------------------------------------
class _Budget:
    def __init__(self) -> None:
        self.items = 0
        self.bytes = 0

    def take(self, items: int = 1, nbytes: int = 0) -> None:
        self.items += items
        self.bytes += nbytes
        if self.items > MAX_ITEMS:
            raise WireError("too many values in one message")
        if self.bytes > MAX_ARRAY_BYTES:
            raise WireError("arrays too large")


def decode(obj: Any, *, markers: bool = False, rng_factory=None, fn_factory=None) -> Any:
    """The value that ``obj`` (parsed JSON) stands for; WireError if it is not in the grammar."""
    return _decode(obj, 0, _Budget(), markers, rng_factory, fn_factory)


def _decode(obj, depth, budget, markers, rng_factory, fn_factory):
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    budget.take()
    t = type(obj)
    if obj is None or t is bool or t is int or t is float:
        return obj
    if t is str:
        if len(obj) > MAX_STR:
            raise WireError("string too long")
        return str(obj)
    if t is not dict or len(obj) != 1:
        raise WireError(f"unexpected {t.__name__}")
    (tag, body), = obj.items()
    if tag in ("l", "t"):
        if type(body) is not list:
            raise WireError("bad list")
        budget.take(len(body))
        items = [_decode(v, depth + 1, budget, markers, rng_factory, fn_factory) for v in body]
        return items if tag == "l" else tuple(items)
    if tag == "d":
        if type(body) is not dict:
            raise WireError("bad dict")
        budget.take(len(body))
        return {str(k): _decode(v, depth + 1, budget, markers, rng_factory, fn_factory)
                for k, v in body.items()}
    if tag == "a":
        return _array(body, budget)
    if tag == "s":
        if type(body) is not list or len(body) != 2 or body[0] not in DTYPES:
            raise WireError("bad scalar")
        arr = _array([body[0], [], body[1]], budget)
        return arr[()]
    if tag == "o":
        if type(body) is not list or len(body) != 2:
            raise WireError("bad object")
        return Opaque(str(body[0])[:80], str(body[1])[:200])
    if markers and tag == "rng" and type(body) is int and rng_factory is not None:
        return rng_factory(body)
    if markers and tag == "fn" and type(body) is list and len(body) == 2 and fn_factory:
        params = _decode(body[1], depth + 1, budget, markers, rng_factory, fn_factory)
        return fn_factory(str(body[0]), params)
    raise WireError(f"unknown tag {tag!r}")


def _array(body, budget: _Budget) -> np.ndarray:
    if type(body) is not list or len(body) != 3:
        raise WireError("bad array")
    dtype, shape, data = body
    if dtype not in DTYPES or type(shape) is not list or type(data) is not str:
        raise WireError("bad array header")
    if len(shape) > 32 or not all(type(s) is int and 0 <= s for s in shape):
        raise WireError("bad array shape")
    budget.take(len(shape))
    dt = np.dtype(dtype)
    count = math.prod(shape)
    nbytes = count * dt.itemsize
    if nbytes > MAX_ARRAY_BYTES or len(data) > 4 * (MAX_ARRAY_BYTES // 3) + 4:
        raise WireError("array too large")
    budget.take(0, nbytes)
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError as exc:
        raise WireError("bad array data") from exc
    if len(raw) != nbytes:
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dt).reshape(shape).copy()


def loads(line: str | bytes) -> dict:
    """Parse one message line into a dict (its values still encoded)."""
    if len(line) > MAX_LINE:
        raise WireError("message too long")
    try:
        msg = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"not JSON: {type(exc).__name__}") from None
    if type(msg) is not dict:
        raise WireError("a message is a JSON object")
    return msg
