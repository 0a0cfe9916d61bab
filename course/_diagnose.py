"""The machinery behind course.checks: call a learner's function safely, compare what it
returns with what it should return, and explain the difference in plain words.

A check is described by a `Spec` (the function's name, its outputs, the mistakes learners
make) and a list of `Case`s (seeded inputs with their expected outputs). `run_check` calls
the learner's function on every case and, at the first problem, raises `CheckFailure` (an
AssertionError) whose message

- names the output that is wrong and checks type, shape, dtype and values, in that order;
- shows the worst entry: index, expected, got, relative error and its reading-scale verdict;
- names the mistake when the wrong output matches what a known mistake produces (each
  `Mistake` predicts the outputs it would produce on the case), or when the wrong output is
  the right one times a telling factor (-1, 2, the batch size, ...).

Every failure carries `.output` (the name of the wrong output or mutated argument) and
`.mistake` (a short tag such as "batch_size", "transposed", "order"; None if unrecognised),
which the tests use. Nothing here writes to stderr: NumPy warnings are silenced while the
learner's code runs.
"""

from __future__ import annotations

import ast
import contextlib
import io
import itertools
import math
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from course.gradcheck import verdict

_COURSE_DIR = str(Path(__file__).resolve().parent)
_MISSING = object()


class CheckFailure(AssertionError):
    """A check failed. `output` names what is wrong, `mistake` tags the recognised mistake."""

    def __init__(
        self,
        message: str,
        *,
        exercise: str,
        output: str | None = None,
        mistake: str | None = None,
    ) -> None:
        super().__init__(message)
        self.exercise = exercise
        self.output = output
        self.mistake = mistake


class NotDoneYet(CheckFailure):
    """The exercise still raises NotImplementedError: not started."""


# --- Describing a check ------------------------------------------------------------------------
@dataclass
class Output:
    """One returned value.

    kind: "array" (a float ndarray), "scalar" (one real number), "mask" (a bool or 0/1
    array), "floats" (a list of numbers).  like: what its shape should match, for messages
    (e.g. "W" for dW).  reduced_from: name of a case array (N, K) that this output sums
    over axis 0, so a wrong reduction axis can be recognised.
    """

    name: str
    kind: str = "array"
    like: str | None = None
    reduced_from: str | None = None
    # for a "scalar": how an array of values should be reduced to it, for the hint
    reduce: str = "for a loss, their mean"


@dataclass
class Mistake:
    """A known mistake: what it produces on a case (`predict`, a tuple of outputs with None
    for unknown entries), or a test on what the learner returned (`detect`)."""

    tag: str
    text: str
    predict: Callable[[Case], Sequence[Any]] | None = None
    detect: Callable[[Case, Sequence[Any]], bool] | None = None
    only: tuple[str, ...] | None = None  # the outputs this mistake can explain


@dataclass
class Case:
    """Inputs for one call, and the outputs a right answer returns."""

    args: dict[str, Any]
    expected: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    note: str = ""
    tol: float = 1e-6
    floor: float = 1e-8  # denominator floor of the relative error
    rel_floor: float = 1e-4  # ... and at least this fraction of the largest expected entry
    float32: bool = False
    mutation_rtol: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    _predictions: dict[str, Any] = field(default_factory=dict, repr=False)

    def call_args(self) -> tuple[list[Any], dict[str, Any]]:
        """Fresh copies of the inputs (so the originals survive a mutating function)."""
        return [_fresh(a) for a in self.args.values()], {
            k: _fresh(a) for k, a in self.kwargs.items()
        }

    def label(self) -> str:
        parts = []
        for name, a in itertools.chain(self.args.items(), self.kwargs.items()):
            if isinstance(a, np.ndarray):
                parts.append(f"{name} {_shape(a)}" + (" float32" if a.dtype == np.float32 else ""))
            elif isinstance(a, Rng):
                parts.append(f"{name} = np.random.default_rng({a.seed})")
            elif callable(a):
                continue
            else:
                parts.append(f"{name} = {a!r}")
        text = ", ".join(parts)
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class Rng:
    """Stands for a fresh np.random.default_rng(seed) in a case's arguments."""

    seed: int


class _SeededGenerator(np.random.Generator):
    """np.random.default_rng(seed) (the same stream) that remembers its seed, so that the
    grader can send it across the jail boundary by seed (course.grading.wire)."""

    def __init__(self, seed: int) -> None:
        super().__init__(np.random.PCG64(seed))
        self.seed = seed


def _fresh(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, Rng):
        return _SeededGenerator(a.seed)
    return a


@dataclass
class Spec:
    """Everything run_check needs to know about one exercise."""

    name: str
    outputs: tuple[Output, ...]
    mistakes: list[Mistake] = field(default_factory=list)
    single: bool = False  # returns one value rather than a tuple
    check_order: tuple[int, ...] | None = None
    compared_with: str = "numerical gradients"
    factors: Callable[[Case, str], list[tuple[float, str, str]]] | None = None
    mutation_texts: dict[str, tuple[str, str]] = field(default_factory=dict)
    unpack: Callable[[Spec, Case, Any], tuple[Any, ...]] | None = None
    # outputs that are state carried to the next step (v, m, cache): when w is wrong and a
    # state output is wrong too, the state is named as the root cause
    state: tuple[str, ...] = ()
    # other right answers: alternatives(case) -> expected tuples that are right as well (a
    # keep-probability dropout mask drawn from the same numbers, ...)
    alternatives: Callable[[Case], Sequence[tuple[Any, ...]]] | None = None
    # True only for an exercise about dtype: then a float dtype other than the inputs' fails.
    # Otherwise values within tolerance earn the points whatever the float dtype (see
    # DTYPE_NOTE and docs/feedback.md, "What counts as right").
    strict_dtype: bool = False


# --- Small helpers -----------------------------------------------------------------------------
def _shape(a: Any) -> str:
    shape = np.shape(a) if isinstance(a, np.ndarray) else getattr(a, "shape", None)
    if shape is None:
        return type(a).__name__
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _num(x: Any) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return repr(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.6g}"
    return f"{x:.4e}"


def _index(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in idx) + "]" if idx else ""


def _names(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _is_real_scalar(x: Any) -> bool:
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, int | float | np.integer | np.floating):
        return True
    return isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iuf"


def elementwise_error(got: Any, expected: Any, floor: float = 1e-8) -> np.ndarray:
    """|got - expected| / max(floor, |got| + |expected|), elementwise; nan/inf mismatch -> inf,
    matching nan/inf -> 0."""
    g = np.asarray(got, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(all="ignore"):
        err = np.abs(g - e) / np.maximum(floor, np.abs(g) + np.abs(e))
    same_special = (np.isnan(g) & np.isnan(e)) | (np.isinf(g) & (g == e))
    err = np.where(same_special, 0.0, err)
    return np.where(np.isnan(err), np.inf, err)


def close(got: Any, expected: Any, tol: float = 1e-6, floor: float = 1e-8) -> bool:
    """Same shape and every entry within `tol` relative error (nan matches nan)."""
    if got is None or expected is None:
        return False
    try:
        g = np.asarray(got)
        e = np.asarray(expected)
    except Exception:  # noqa: BLE001 - anything that is not array-like is not close
        return False
    if g.shape != e.shape or g.dtype.kind not in "biuf" or e.dtype.kind not in "biuf":
        return False
    if g.size == 0:
        return True
    return bool(elementwise_error(g, e, floor).max() <= tol)


class _StdoutRouter(io.TextIOBase):
    """sys.stdout in the grader, which judges several submissions at once in threads: what a
    thread prints inside captured_stdout() goes to that thread's buffer, the rest through."""

    _local = threading.local()

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, s: str) -> int:  # noqa: D102
        sink = getattr(self._local, "sink", None)
        return (sink if sink is not None else self.stream).write(s)

    def flush(self) -> None:  # noqa: D102
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def route_stdout_per_thread() -> None:
    """Make captured_stdout() thread-safe in this process (the grader calls this once)."""
    if not isinstance(sys.stdout, _StdoutRouter):
        sys.stdout = _StdoutRouter(sys.stdout)


@contextlib.contextmanager
def captured_stdout() -> Iterator[io.StringIO]:
    """Collect what is printed inside the block (per thread where the grader set that up)."""
    buf = io.StringIO()
    router = sys.stdout if isinstance(sys.stdout, _StdoutRouter) else None
    if router is None:
        with contextlib.redirect_stdout(buf):
            yield buf
        return
    previous = getattr(router._local, "sink", None)
    router._local.sink = buf
    try:
        yield buf
    finally:
        router._local.sink = previous


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence NumPy floating-point warnings and Python warnings (nothing on stderr)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


# --- Calling the learner's function ------------------------------------------------------------
def require_callable(name: str, fn: Any) -> None:
    """Fail clearly if the learner passed something that is not a function."""
    __tracebackhide__ = True
    if not callable(fn):
        raise CheckFailure(
            f"check_{name} needs your function itself, e.g. check_{name}({name}); "
            f"got {type(fn).__name__}{' ' + _shape(fn) if isinstance(fn, np.ndarray) else ''}. "
            "Pass the function without calling it (no parentheses after its name).",
            exercise=name,
            mistake="not_a_function",
        )


def _learner_line(exc: BaseException, fn: Callable[..., Any]) -> str:
    """'line 4 of your code: out = x @ W' for the deepest frame of the learner's code."""
    code = getattr(fn, "__code__", None)
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if code is not None and f.filename == code.co_filename]
    if not mine:
        mine = [f for f in frames if not f.filename.startswith(_COURSE_DIR)]
    if not mine:
        return ""
    frame = mine[-1]
    line = (frame.line or "").strip()
    where = f"line {frame.lineno}" if frame.lineno else "your code"
    if code is not None and frame.filename == code.co_filename and frame.lineno:
        where = f"line {frame.lineno - code.co_firstlineno + 1} of {code.co_name}"
    return f"{where}: {line}" if line else where


def _learner_tb(exc: BaseException, fn: Callable[..., Any]) -> Any:
    """The traceback entry of the deepest frame of the learner's own code, or None."""
    code = getattr(fn, "__code__", None)
    tb, found = exc.__traceback__, None
    while tb is not None:
        fname = tb.tb_frame.f_code.co_filename
        if (code is not None and fname == code.co_filename) or (
            code is None and not fname.startswith(_COURSE_DIR)
        ):
            found = tb
        tb = tb.tb_next
    return found


def _shape_of(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    return tuple(shape) if isinstance(shape, tuple) else None


def _eval_node(node: ast.expr, env: dict[str, Any]) -> Any:
    code = compile(ast.Expression(body=node), "<learner>", "eval")
    with quiet():
        return eval(code, env)  # noqa: S307 - re-evaluates the learner's own expression


def _binop_diagnosis(node: ast.BinOp, left: Any, right: Any) -> tuple[str, str | None, str]:
    """'dout @ W fails: dout is (4, 5), W is (3, 5)' and, if recognised, the mistake."""
    a_txt, b_txt = ast.unparse(node.left), ast.unparse(node.right)
    sa, sb = _shape_of(left), _shape_of(right)
    op = ast.unparse(node).strip()
    if sa is None or sb is None:
        return f"{op} fails", None, ""
    fmt = _shape_fmt
    head = f"{op} fails: {a_txt} is {fmt(sa)}, {b_txt} is {fmt(sb)}"
    if isinstance(node.op, ast.MatMult) and len(sa) == 2 and len(sb) == 2 and sa[1] != sb[0]:

        def transposed(txt: str) -> str:
            if txt.endswith(".T"):
                return (
                    f"{txt} is transposed but should not be: use {txt[:-2]} as it is "
                    f"(the shapes of a matrix product must meet in the middle)."
                )
            return (
                f"you need {txt} transposed here: the inner sizes of a matrix product "
                "must match, (a, k) @ (k, b)."
            )

        if sa[1] == sb[1]:
            return head, "transposed", transposed(b_txt)
        if sa[0] == sb[0]:
            return head, "transposed", transposed(a_txt)
        if sa[0] == sb[1]:
            return (
                head,
                "transposed",
                (
                    f"the factors are in the wrong order: {b_txt} {fmt(sb)} times {a_txt} "
                    f"{fmt(sa)} would line up."
                ),
            )
    if isinstance(node.op, ast.Mult) and len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0]:
        return (
            head,
            "elementwise_product",
            (
                f"{op} multiplies entry by entry (elementwise); {a_txt} {fmt(sa)} and "
                f"{b_txt} {fmt(sb)} need a matrix product, @."
            ),
        )
    return head, None, ""


def _shape_fmt(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _crash_analysis(
    spec: Spec, fn: Callable[..., Any], exc: BaseException
) -> tuple[str | None, str, str | None, str]:
    """Which output the crashing line computes, which operation fails and why.

    Returns (output name or None, what failed, mistake tag or None, hint)."""
    tb = _learner_tb(exc, fn)
    if tb is None:
        return None, "", None, ""
    frame = tb.tb_frame
    try:
        import linecache

        lines = linecache.getline(frame.f_code.co_filename, tb.tb_lineno).strip()
        stmt = ast.parse(lines).body[0]
    except (SyntaxError, IndexError, ValueError):
        return None, "", None, ""
    env = dict(frame.f_globals) | dict(frame.f_locals)
    names = [o.name for o in spec.outputs]
    own = frame.f_code is getattr(fn, "__code__", None)
    # (expression, what it computes) candidates, in order
    parts: list[tuple[ast.expr, str | None]] = []
    if isinstance(stmt, ast.Return) and stmt.value is not None:
        if isinstance(stmt.value, ast.Tuple) and len(stmt.value.elts) == len(names) and own:
            parts = list(zip(stmt.value.elts, names, strict=True))
        else:
            parts = [(stmt.value, names[0] if own and len(names) == 1 else None)]
    elif isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign) and stmt.value is not None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        tgt = targets[0]
        if (
            isinstance(tgt, ast.Tuple)
            and isinstance(stmt.value, ast.Tuple)
            and len(tgt.elts) == len(stmt.value.elts)
        ):
            parts = [(v, ast.unparse(t)) for t, v in zip(tgt.elts, stmt.value.elts, strict=True)]
        else:
            parts = [(stmt.value, ast.unparse(tgt))]
    elif isinstance(stmt, ast.Expr):
        parts = [(stmt.value, None)]
    for expr, target in parts:
        try:
            _eval_node(expr, env)
        except Exception:  # noqa: BLE001 - this is the part that fails
            pass
        else:
            continue
        what, tag, hint = "", None, ""
        # innermost failing binary operation whose operands both evaluate
        binops = [n for n in ast.walk(expr) if isinstance(n, ast.BinOp)]
        for node in reversed(binops):
            try:
                left, right = _eval_node(node.left, env), _eval_node(node.right, env)
            except Exception:  # noqa: BLE001
                continue
            try:
                _eval_node(node, env)
            except Exception:  # noqa: BLE001
                what, tag, hint = _binop_diagnosis(node, left, right)
                break
        output = None
        if target is not None:
            target = target.replace("'", '"')
            output = next(
                (n for n in names if n == target),
                next((n for n in names if n.lower() == target.lower()), None),
            )
        return output or target, what, tag, hint
    return None, "", None, ""


_SCALAR_ONLY = (
    "converted to python scalars",
    "only length-1 arrays",
    "only size-1 arrays",
    "only 0-dimensional arrays",
)


def _scalar_only(exc: BaseException) -> bool:
    """A function of the math module (math.exp, math.log, ...) was given an array."""
    return isinstance(exc, TypeError) and any(s in str(exc).lower() for s in _SCALAR_ONLY)


_MATH_HINT = (
    "a function of Python's math module (math.exp, math.log, math.tanh, ...) got an array: "
    "those work on single numbers only. Use NumPy's version (np.exp, np.log, np.tanh, ...), "
    "which works on every entry of an array."
)


def _shape_hint(message: str) -> str:
    text = message.lower()
    if any(s in text for s in _SCALAR_ONLY):
        return ""
    if any(s in text for s in ("matmul", "not aligned", "broadcast", "shape", "dimension")):
        return (
            "\n    Hint: write each array's shape next to your code and check that every "
            "product and sum lines up."
        )
    return ""


def call_learner(spec: Spec, fn: Callable[..., Any], case: Case) -> tuple[Any, list[str]]:
    """Call fn on a copy of the case's inputs. Returns (result, names of mutated inputs).

    A NotImplementedError becomes NotDoneYet; any other exception a CheckFailure that quotes
    the learner's line (never a traceback through our code).
    """
    __tracebackhide__ = True
    args, kwargs = case.call_args()
    try:
        with quiet():
            result = fn(*args, **kwargs)
    except NotImplementedError:
        raise NotDoneYet(
            f"{spec.name} is not done yet: it still raises NotImplementedError. Replace that "
            "line with your code, run the cell, then run this check again.",
            exercise=spec.name,
            mistake="not_started",
        ) from None
    except Exception as exc:  # noqa: BLE001 - any learner error becomes a readable failure
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        report = getattr(exc, "remote_report", None)
        if isinstance(report, dict):
            # The function ran in the grading jail, which analysed the crash where it happened.
            where = report.get("where") or ""
            target, what = report.get("target"), report.get("what") or ""
            tag, hint = report.get("tag"), report.get("hint") or ""
        else:
            where = _learner_line(exc, fn)
            try:
                target, what, tag, hint = _crash_analysis(spec, fn, exc)
            except Exception:  # noqa: BLE001 - the analysis is best effort
                target, what, tag, hint = None, "", None, ""
        if _scalar_only(exc) and not hint:
            tag, hint = "math_module", _MATH_HINT
        if len(msg) > 110:
            msg = msg[:100].rstrip() + " ..."
        output = target if target in [o.name for o in spec.outputs] else None
        if target is not None:
            head = f"{spec.name} raised {type(exc).__name__} while computing {target}"
            head += f": {what}." if what else (f": {msg}" if msg else ".")
        else:
            head = f"{spec.name} raised {type(exc).__name__}" + (f": {msg}" if msg else "")
            if what:
                head += f"\n    {what}."
        raise CheckFailure(
            head
            + (f"\n    at {where}" if where else "")
            + (f"\n    Likely mistake: {_sentence(hint)}" if hint else "")
            + f"\n    (called with {case.label()})"
            + ("" if hint else _shape_hint(msg)),
            exercise=spec.name,
            output=output,
            mistake=tag or "raised",
        ) from None
    mutated = []
    all_args = dict(zip(case.args, args, strict=True)) | kwargs
    originals = case.args | case.kwargs
    for name, after in all_args.items():
        before = originals[name]
        if isinstance(before, np.ndarray) and not _unchanged(before, after, case.mutation_rtol):
            mutated.append(name)
    case.extra["_after"] = all_args
    return result, mutated


def _unchanged(before: np.ndarray, after: Any, rtol: float) -> bool:
    if not isinstance(after, np.ndarray) or after.shape != before.shape:
        return False
    if rtol == 0:
        return bool(np.array_equal(before, after, equal_nan=True))
    return bool(np.allclose(after, before, rtol=rtol, atol=rtol * 1e-3, equal_nan=True))


# --- Comparing outputs -------------------------------------------------------------------------
@dataclass
class Problem:
    """What is wrong with one output."""

    output: str
    headline: str
    details: list[str] = field(default_factory=list)
    tag: str | None = None
    hint: str = ""


def _predictions(spec: Spec, case: Case) -> list[tuple[Mistake, Sequence[Any] | None]]:
    cache = case._predictions
    if "list" not in cache:
        preds = []
        for m in spec.mistakes:
            p = None
            if m.predict is not None:
                try:
                    with quiet():
                        p = m.predict(case)
                except Exception:  # noqa: BLE001 - a prediction that fails predicts nothing
                    p = None
            preds.append((m, p))
        cache["list"] = preds
    return cache["list"]


def _match_mistake(
    spec: Spec, case: Case, i: int, got_i: Any, got: Sequence[Any]
) -> Mistake | None:
    name = spec.outputs[i].name
    for m, pred in _predictions(spec, case):
        if m.only is not None and name not in m.only:
            continue
        if pred is not None and i < len(pred) and pred[i] is not None:
            floor = _floor(case, case.expected[i])
            if close(got_i, pred[i], tol=max(case.tol, 1e-6), floor=floor) and not close(
                pred[i], case.expected[i], tol=case.tol, floor=floor
            ):
                return m
    for m, _ in _predictions(spec, case):
        if m.only is not None and name not in m.only:
            continue
        if m.detect is not None:
            try:
                with quiet():
                    hit = m.detect(case, got)
            except Exception:  # noqa: BLE001
                hit = False
            if hit:
                return m
    return None


def _default_factors(case: Case, name: str) -> list[tuple[float, str, str]]:
    out = [
        (
            -1.0,
            "sign",
            f"{name} has the right size but the wrong sign: check the sign of each "
            "term (a minus sign lost or added).",
        ),
        (
            2.0,
            "factor_two",
            f"{name} is exactly twice the expected value: look for a stray factor 2.",
        ),
        (0.5, "factor_two", f"{name} is exactly half the expected value: a factor 2 is missing."),
    ]
    n = case.sizes.get("N")
    if n and n > 1:
        out += [
            (
                1.0 / n,
                "batch_size",
                f"{name} is exactly 1/N of the expected value (N = {n} is "
                "the batch size). Did you average over the batch where a sum was needed?",
            ),
            (
                float(n),
                "batch_size",
                f"{name} is exactly N times the expected value (N = {n} is "
                "the batch size). Is a division by N missing, or did you sum where a mean was "
                "needed?",
            ),
        ]
    return out


def _factor(
    spec: Spec, case: Case, name: str, g: np.ndarray, e: np.ndarray
) -> tuple[str, str] | None:
    """If g == c * e for a telling constant c, the mistake that c stands for."""
    if g.shape != e.shape or not np.all(np.isfinite(g)) or not np.any(e):
        return None
    ee = float(np.vdot(e, e))
    c = float(np.vdot(g, e)) / ee
    if not np.isfinite(c) or c == 0:
        return None
    if not close(g, c * e, tol=1e-6, floor=_floor(case, c * e)):
        return None
    factors = (spec.factors(case, name) if spec.factors else []) + _default_factors(case, name)
    for value, tag, text in factors:
        if abs(c - value) <= 1e-6 * max(1.0, abs(value)):
            return tag, text
    if g.size < 3 or np.count_nonzero(e) < 3:
        # two single numbers always differ by some factor: saying so would tell nothing
        return None
    return "constant_factor", (
        f"{name} is exactly {c:.4g} times the expected value everywhere: the structure is right "
        "but a constant factor is off."
    )


def _floor(case: Case, e: Any) -> float:
    """Denominator floor: finite differences are accurate to about 1e-10 of the largest entry,
    so entries far smaller than that are compared on the scale of the largest one."""
    try:
        a = np.abs(np.asarray(e, dtype=np.float64))
        scale = float(a[np.isfinite(a)].max()) if a.size and np.isfinite(a).any() else 0.0
    except (TypeError, ValueError):
        scale = 0.0
    return max(case.floor, case.rel_floor * scale)


def _worst(
    g: np.ndarray, e: np.ndarray, case: Case, name: str, scale: bool = True
) -> tuple[str, float]:
    err = elementwise_error(g, e, _floor(case, e))
    flat = int(np.argmax(err))
    idx = tuple(int(i) for i in np.unravel_index(flat, err.shape)) if err.ndim else ()
    rel = float(err.max())
    line = (
        f"worst entry {name}{_index(idx)}: expected {_num(e[idx])}, got {_num(g[idx])} "
        f"(relative error {_reading(rel, case, scale)})"
    )
    where = _where_wrong(err > case.tol, name)
    return line + (f"\n    {where}" if where else ""), rel


def _where_wrong(bad: np.ndarray, name: str) -> str:
    """'3 of 20 entries are wrong, all in row 2' when only part of an array is wrong."""
    n_bad, n = int(bad.sum()), bad.size
    if n_bad in (0, n) or n < 4:
        return ""
    text = f"{n_bad} of {n} entries are wrong"
    if bad.ndim == 2:
        rows = np.flatnonzero(bad.any(axis=1))
        cols = np.flatnonzero(bad.any(axis=0))
        if len(rows) < bad.shape[0] and bad[rows].all():
            which = ", ".join(str(int(r)) for r in rows)
            return f"{text}: all of row{'s' if len(rows) > 1 else ''} {which}, nothing else."
        if len(cols) < bad.shape[1] and bad[:, cols].all():
            which = ", ".join(str(int(c)) for c in cols)
            return f"{text}: all of column{'s' if len(cols) > 1 else ''} {which}, nothing else."
    return text + "; the others are right."


def _reading(rel: float, case: Case, scale: bool = True) -> str:
    """'6.0e-01: wrong' on the reading scale; errors the scale calls fine but that still fail
    the check are explained. scale=False (a result compared with the reference, such as an
    optimizer step, not a gradient against finite differences): the gradient-check reading
    scale does not apply, so only the tolerance is stated."""
    text = "inf" if math.isinf(rel) else f"{rel:.1e}"
    if not scale:
        return f"{text}; a right answer stays below {case.tol:.0e}"
    word = verdict(rel)
    if rel > case.tol and word in ("right", "probably right"):
        return f"{text}: small, but a right answer stays below {case.tol:.0e} here"
    return f"{text}: {word}"


def _type_problem(out: Output, got: Any, expected: Any, case: Case) -> Problem | None:
    name = out.name
    if got is None:
        return Problem(
            name,
            f"{name} is None.",
            hint="Did you forget a return statement, or "
            "return the result of an in-place operation?",
            tag="returned_none",
        )
    if out.kind == "scalar":
        if _is_real_scalar(got):
            return None
        if isinstance(got, np.ndarray) and got.dtype.kind in "iuf":
            if got.size == 1:
                return Problem(
                    name,
                    f"{name} is an array of shape {_shape(got)}; it should be a "
                    "single number (a float).",
                    hint="Convert it with float(...).",
                    tag="wrong_type",
                )
            n = case.sizes.get("N")
            if n and got.shape == (n,) and out.reduce.endswith("their mean"):
                hint = f"it has one value per example (N = {n}): average them over the batch."
            else:
                hint = (
                    "it has one value per entry; reduce them to the single number asked for "
                    f"({out.reduce})."
                )
            return Problem(
                name,
                f"{name} is an array of shape {_shape(got)}; it should be a single number.",
                hint=hint,
                tag="not_reduced",
            )
        return Problem(
            name,
            f"{name} is a {type(got).__name__}; it should be a single number (a float).",
            tag="wrong_type",
        )
    if out.kind == "floats":
        if isinstance(got, list | tuple) or (isinstance(got, np.ndarray) and got.ndim == 1):
            bad = [x for x in got if not _is_real_scalar(x)]
            if bad:
                return Problem(
                    name,
                    f"{name} should hold numbers, but contains a "
                    f"{type(bad[0]).__name__} {_shape(bad[0])}.",
                    hint="Append float(loss) for each step.",
                    tag="wrong_type",
                )
            return None
        return Problem(
            name,
            f"{name} is a {type(got).__name__}; it should be a list of numbers.",
            tag="wrong_type",
        )
    # array or mask
    if isinstance(got, np.ndarray):
        return None
    exp_shape = _shape(expected)
    if isinstance(got, list | tuple):
        return Problem(
            name,
            f"{name} is a Python {type(got).__name__}; it should be a NumPy "
            f"array of shape {exp_shape}.",
            hint="Compute it with NumPy operations on the input arrays.",
            tag="wrong_type",
        )
    if _is_real_scalar(got):
        problem = Problem(
            name,
            f"{name} is a single number ({_num(got)}); it should be an array of shape {exp_shape}.",
            tag="wrong_type",
        )
        if out.reduced_from is not None:
            problem.details.append("That is a sum over every axis.")
            problem.tag = "reduction_axis"
            problem.hint = (
                f"{name} collects {out.reduced_from} over the batch: reduce over "
                "axis 0, the batch axis, only."
            )
        return problem
    return Problem(
        name,
        f"{name} is a {type(got).__name__}; it should be a NumPy array of shape {exp_shape}.",
        tag="wrong_type",
    )


def _shape_problem(out: Output, got: Any, expected: Any, case: Case) -> Problem | None:
    if out.kind not in ("array", "mask"):
        return None
    g, e = np.asarray(got), np.asarray(expected)
    if g.shape == e.shape:
        return None
    name = out.name
    like = f" (the shape of {out.like})" if out.like else ""
    head = f"{name} has shape {_shape(g)} but should have shape {_shape(e)}{like}."
    if g.ndim == 2 and g.shape == e.shape[::-1]:
        gradient = name.startswith(("d", "grad")) and out.like
        hint = (
            f"a gradient has the shape of the thing it is the gradient of ({out.like}): "
            if gradient
            else ""
        )
        hint += "check the order of the factors in your matrix product (and which one needs a "
        hint += "transpose)."
        if g.dtype.kind in "iuf" and close(g.T, e, tol=1e-5, floor=_floor(case, e)):
            return Problem(
                name,
                head,
                [f"Your {name} is exactly the transpose of the right answer."],
                tag="transposed",
                hint=hint,
            )
        return Problem(name, head, ["It has the transposed shape."], tag="transposed", hint=hint)
    if out.reduced_from is not None:
        src = case.args.get(out.reduced_from, case.extra.get(out.reduced_from))
        if src is not None and np.ndim(src) == 2:
            n, k = np.shape(src)
            if g.shape == (n, k):
                return Problem(
                    name,
                    head,
                    [f"That is one row per example (N = {n}): nothing was summed."],
                    tag="reduction_axis",
                    hint=f"{name} collects {out.reduced_from} over the batch: sum it "
                    "over axis 0, the batch axis (not summed over the batch at all here).",
                )
            if g.shape in ((n,), (), (1, k), (n, 1)):
                what = {
                    (n,): f"one value per example (N = {n}): you summed over the wrong axis",
                    (): "a single number: you summed over every axis",
                    (1, k): "an extra axis of length 1 (keepdims)",
                    (n, 1): "one value per example, with keepdims: you summed over the wrong axis",
                }[g.shape]
                return Problem(
                    name,
                    head,
                    [f"That is {what}."],
                    tag="reduction_axis",
                    hint=f"{name} collects {out.reduced_from} over the batch: reduce "
                    "over axis 0, the batch axis, only.",
                )
    if g.size == e.size:
        return Problem(
            name,
            head,
            ["It has the right number of entries, arranged wrongly."],
            tag="shape",
            hint="Build it with the right shape rather than reshaping at the end.",
        )
    return Problem(name, head, tag="shape")


DTYPE_NOTE = {
    np.float32: (
        "Note: {names} came back {dtype} for float32 inputs. Accepted (the values are right), "
        "but keep float32: it halves memory and time, and one upcast makes every later layer "
        "pay for float64 (zeros_like, dtype=x.dtype, astype(x.dtype) keep it)."
    ),
    np.float64: (
        "Note: {names} came back {dtype} for float64 inputs. Accepted (the values are within "
        "the tolerance), but keep float64 here: gradient checks need its precision."
    ),
}


def dtype_note(case: Case) -> str:
    """The one-line note for outputs whose float dtype differs from the inputs' (or "")."""
    notes = case.extra.get("_dtype_notes") or {}
    if not notes:
        return ""
    dtype = next(iter(notes.values()))
    want = np.float32 if case.float32 else np.float64
    return DTYPE_NOTE[want].format(names=_names(list(notes)), dtype=dtype)


def _dtype_problem(out: Output, got: Any, case: Case, strict: bool = False) -> Problem | None:
    if out.kind != "array":
        if out.kind == "mask":
            g = np.asarray(got)
            if g.dtype.kind == "b" or (g.dtype.kind in "iuf" and np.all((g == 0) | (g == 1))):
                return None
            return Problem(
                out.name,
                f"{out.name} should be a mask of booleans (or 0/1), got "
                f"dtype {g.dtype} with other values.",
                tag="dtype",
            )
        return None
    g = np.asarray(got)
    name = out.name
    if g.dtype.kind == "b":
        return Problem(
            name,
            f"{name} has dtype bool; it should hold floats.",
            hint="A comparison such as x > 0 gives booleans: that is a mask, not the "
            "values themselves.",
            tag="dtype",
        )
    if g.dtype.kind in "iu":
        return Problem(
            name,
            f"{name} has integer dtype {g.dtype}; it should be float64.",
            hint="An array created from integers (or with dtype=int) truncates every value.",
            tag="dtype",
        )
    if g.dtype.kind != "f":
        return Problem(name, f"{name} has dtype {g.dtype}; it should be float64.", tag="dtype")
    want = np.float32 if case.float32 else np.float64
    if g.dtype != want and not strict:
        # The policy: values decide; a different float dtype only earns a note (dtype_note).
        case.extra.setdefault("_dtype_notes", {})[name] = str(g.dtype)
        return None
    if case.float32 and g.dtype != np.float32:
        return Problem(
            name,
            f"{name} has dtype {g.dtype} for float32 inputs; it should stay float32.",
            hint="Something upcasts to float64: a new array made with np.zeros(shape), "
            "np.ones(shape) or np.eye, an astype(float), or a float64 constant array. Give new "
            "arrays the input's dtype (zeros_like, ones_like, dtype=x.dtype).",
            tag="dtype",
        )
    if not case.float32 and g.dtype != np.float64:
        return Problem(
            name,
            f"{name} has dtype {g.dtype} for float64 inputs; keep float64.",
            hint="Lower precision ruins gradient checks: avoid casting to float32.",
            tag="dtype",
        )
    return None


def _value_problem(
    spec: Spec, case: Case, i: int, got: Sequence[Any]
) -> tuple[Problem | None, float]:
    out = spec.outputs[i]
    name = out.name
    expected = case.expected[i]
    got_i = got[i]
    scale = spec.compared_with == "numerical gradients"
    if out.kind == "floats":
        if len(got_i) != len(expected):
            return Problem(
                name,
                f"{name} has {len(got_i)} entries; it should have {len(expected)}.",
                tag="length",
            ), math.inf
    if out.kind == "mask":
        g = np.asarray(got_i).astype(bool)
        e = np.asarray(expected).astype(bool)
        if np.array_equal(g, e):
            return None, 0.0
        wrong_at = tuple(int(j) for j in np.argwhere(g != e)[0])
        return Problem(
            name,
            f"{name} has the right shape but different entries.",
            [
                f"first difference at {name}{_index(wrong_at)}: expected "
                f"{bool(e[wrong_at])}, got {bool(g[wrong_at])} "
                f"({int((g != e).sum())} of {g.size} entries differ)"
            ],
        ), math.inf
    g = np.asarray(got_i, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    err = elementwise_error(g, e, _floor(case, e))
    rel = float(err.max()) if err.size else 0.0
    if rel <= case.tol:
        return None, rel
    details = []
    if not np.all(np.isfinite(g)) and np.all(np.isfinite(e)):
        bad = tuple(int(j) for j in np.argwhere(~np.isfinite(g))[0]) if g.ndim else ()
        kind = "nan" if np.isnan(g[bad]) else "inf"
        head = (
            f"{name} contains {kind} (at {name}{_index(bad)})" if g.ndim else f"{name} is {kind}"
        ) + "; it should be finite."
        return Problem(name, head, details), rel
    if out.kind == "floats" and g.size > 1:
        details.append(_worst(g, e, case, name, scale)[0])
        head = f"{name} has the right length ({len(e)}), but wrong values."
    elif out.kind == "array" and g.size > 1:
        details.append(_worst(g, e, case, name, scale)[0])
        head = f"{name} has the right shape {_shape(e)}, but wrong values."
    else:
        head = (
            f"{name} is wrong: expected {_num(e if e.ndim == 0 else e.ravel()[0])}, got "
            f"{_num(g if g.ndim == 0 else g.ravel()[0])} (relative error "
            f"{_reading(rel, case, scale)})."
        )
        if g.size > 1:
            details.append(_worst(g, e, case, name, scale)[0])
    return Problem(name, head, details), rel


def _assess(spec: Spec, case: Case, i: int, got: Sequence[Any]) -> tuple[Problem | None, float]:
    out = spec.outputs[i]
    got_i, expected = got[i], case.expected[i]
    problem = _type_problem(out, got_i, expected, case)
    if problem is None:
        problem = _shape_problem(out, got_i, expected, case)
    if problem is None:
        problem = _dtype_problem(out, got_i, case, spec.strict_dtype)
    rel = math.inf
    if problem is None:
        problem, rel = _value_problem(spec, case, i, got)
        if problem is None:
            return None, rel
    # Name the mistake: a known mistake's prediction first, then a telling factor.
    m = _match_mistake(spec, case, i, got_i, got)
    if m is not None:
        problem.tag = m.tag
        problem.hint = m.text.format(**case.sizes, name=out.name)
    elif problem.tag is None and out.kind in ("array", "scalar"):
        try:
            g = np.asarray(got_i, dtype=np.float64)
            e = np.asarray(expected, dtype=np.float64)
        except (TypeError, ValueError):
            g = e = None
        if g is not None:
            found = _factor(spec, case, out.name, g, e)
            if found is not None:
                problem.tag, problem.hint = found
            elif g.shape == e.shape and g.size > 1 and not np.any(g):
                problem.tag = "zeros"
                problem.hint = f"{out.name} is all zeros: is part of the computation missing?"
    return problem, rel


def _order_problem(spec: Spec, case: Case, got: Sequence[Any]) -> Problem | None:
    k = len(spec.outputs)
    if k < 2:
        return None
    names = [o.name for o in spec.outputs]

    def fits(j: int, i: int, values: bool) -> bool:
        out, g, e = spec.outputs[i], got[j], case.expected[i]
        if out.kind == "scalar":
            ok = _is_real_scalar(g)
        elif out.kind == "floats":
            ok = isinstance(g, list | tuple) or (isinstance(g, np.ndarray) and g.ndim == 1)
        else:
            ok = isinstance(g, np.ndarray) and g.shape == np.shape(e)
        if ok and values:
            try:
                ok = close(g, e, tol=max(case.tol, 1e-6), floor=_floor(case, e))
            except (TypeError, ValueError):
                ok = False
        return ok

    identity = tuple(range(k))
    for values in (True, False):
        if not values and all(fits(i, i, False) for i in range(k)):
            return None
        for perm in itertools.permutations(range(k)):
            if perm == identity:
                continue
            # perm[i] is the position where the learner put output i
            if all(fits(perm[i], i, values) for i in range(k)):
                if values and all(fits(i, i, True) for i in range(k)):
                    return None
                returned = [names[perm.index(j)] for j in range(k)]
                first = next(names[i] for i in range(k) if perm[i] != i)
                return Problem(
                    first,
                    f"the outputs come back in the wrong order: you returned "
                    f"({', '.join(returned)}), the order is ({', '.join(names)}).",
                    tag="order",
                    hint="The values themselves look right; swap them in the return statement."
                    if values
                    else "Return them in the order the exercise asks for.",
                )
    return None


def _unpack(spec: Spec, case: Case, result: Any) -> tuple[Any, ...]:
    __tracebackhide__ = True
    if spec.unpack is not None:
        return spec.unpack(spec, case, result)
    names = [o.name for o in spec.outputs]
    if spec.single:
        if isinstance(result, tuple) and len(result) != 1:
            raise CheckFailure(
                f"{spec.name}: returned a tuple of {len(result)} values; it should return one "
                f"array, {names[0]}.",
                exercise=spec.name,
                output=names[0],
                mistake="wrong_count",
            )
        if isinstance(result, tuple):
            result = result[0]
        return (result,)
    want = f"({', '.join(names)})"
    if result is None:
        raise CheckFailure(
            f"{spec.name}: returned None; it should return {want}.\n    Hint: Did you forget "
            "the return statement?",
            exercise=spec.name,
            output=names[0],
            mistake="returned_none",
        )
    if not isinstance(result, tuple | list):
        raise CheckFailure(
            f"{spec.name}: returned a single {type(result).__name__}"
            f"{' of shape ' + _shape(result) if isinstance(result, np.ndarray) else ''}; it "
            f"should return {len(names)} values, {want}.",
            exercise=spec.name,
            output=names[0],
            mistake="wrong_count",
        )
    if len(result) != len(names):
        missing = _missing_outputs(spec, case, result)
        extra = ""
        if missing and len(result) < len(names):
            extra = f" {_names(missing)} {'seems' if len(missing) == 1 else 'seem'} to be missing."
        raise CheckFailure(
            f"{spec.name}: returned {len(result)} values; it should return {len(names)}, "
            f"{want}.{extra}",
            exercise=spec.name,
            output=(missing or names)[0],
            mistake="wrong_count",
        )
    return tuple(result)


def _missing_outputs(spec: Spec, case: Case, result: Sequence[Any]) -> list[str]:
    """Which expected outputs have no counterpart (by value, else by shape) in result."""
    unmatched = list(range(len(spec.outputs)))
    for values in (True, False):
        for g in result:
            for i in unmatched:
                e = case.expected[i]
                if values:
                    hit = close(g, e, tol=max(case.tol, 1e-6), floor=_floor(case, e))
                else:
                    hit = np.shape(g) == np.shape(e) and (
                        spec.outputs[i].kind != "scalar" or _is_real_scalar(g)
                    )
                if hit:
                    unmatched.remove(i)
                    break
        if values and len(unmatched) == len(spec.outputs) - len(result):
            break
    if len(unmatched) != len(spec.outputs) - len(result):
        return []
    return [spec.outputs[i].name for i in unmatched]


_ENGLISH = {
    "a",
    "an",
    "check",
    "did",
    "each",
    "it",
    "that",
    "the",
    "these",
    "this",
    "you",
    "your",
    "where",
    "with",
    "one",
    "return",
    "build",
    "convert",
    "compute",
    "append",
    "lower",
    "name",
    "reduce",
    "write",
}


def _sentence(text: str) -> str:
    """Capitalise the first word unless it is a name from the code (dx, grad, eps, ...)."""
    first = text.split(" ", 1)[0]
    return text[:1].upper() + text[1:] if first.lower() in _ENGLISH else text


def _failure(spec: Spec, case: Case, problem: Problem, ok: list[str]) -> CheckFailure:
    lines = [f"{spec.name}: {problem.headline}"]
    lines += [f"    {d}" for d in problem.details]
    if problem.hint:
        label = (
            "Likely mistake"
            if problem.tag not in (None, "shape", "dtype", "wrong_type", "returned_none")
            else "Hint"
        )
        lines.append(f"    {label}: {_sentence(problem.hint)}")
    tested = f"    (tested with {case.label()}"
    if ok:
        tested += f"; {_names(ok)} {'is' if len(ok) == 1 else 'are'} right"
    lines.append(tested + ")")
    return CheckFailure(
        "\n".join(lines), exercise=spec.name, output=problem.output, mistake=problem.tag
    )


def evaluate(
    spec: Spec, case: Case, result: Any, mutated: list[str]
) -> tuple[CheckFailure | None, float]:
    """Compare one call's result with the case. Returns (failure or None, worst rel. error).
    Outputs right but in another float dtype are listed in case.extra["_dtype_notes"]."""
    case.extra["_dtype_notes"] = {}
    try:
        got = _unpack(spec, case, result)
    except CheckFailure as failure:
        if mutated:
            return _mutation_failure(spec, case, mutated, []), math.inf
        return failure, math.inf
    order = range(len(spec.outputs)) if spec.check_order is None else spec.check_order
    problems: dict[int, Problem] = {}
    worst = 0.0
    ordering = _order_problem(spec, case, got) if not mutated else None
    if ordering is not None:
        return _failure(spec, case, ordering, []), math.inf
    for i in order:
        problem, rel = _assess(spec, case, i, got)
        if problem is not None:
            problems[i] = problem
        else:
            worst = max(worst, rel)
    ok = [spec.outputs[i].name for i in order if i not in problems]
    if mutated:
        return _mutation_failure(spec, case, mutated, ok if not problems else []), math.inf
    if problems:
        first = next(i for i in order if i in problems)
        problem = problems[first]
        names = [o.name for o in spec.outputs]
        if names[first] not in spec.state:
            root = next((i for i in order if i in problems and names[i] in spec.state), None)
            if root is not None:
                if problem.tag == "dtype" or problems[root].tag == "dtype":
                    # a dtype is not inherited through a formula: report the state's own
                    # problem, and w's only if it has one of its own
                    problem = problems[root]
                else:
                    problem = _root_cause(problems[root], problem)
        return _failure(spec, case, problem, ok), math.inf
    return None, worst


def _root_cause(state: Problem, result: Problem) -> Problem:
    """The state (v, m, cache) is wrong, and the weights only because they are computed
    from it: report the state, mention the weights."""
    s, w = state.output, result.output
    head = state.headline.rstrip(".")
    return Problem(
        s,
        f"{head}; so {w} is wrong too ({w} is computed from {s}).",
        state.details,
        tag=state.tag if state.tag is not None else result.tag,
        hint=state.hint or result.hint,
    )


def _mutation_failure(spec: Spec, case: Case, mutated: list[str], ok: list[str]) -> CheckFailure:
    name = mutated[0]
    before = (case.args | case.kwargs)[name]
    after = case.extra["_after"][name]
    detail = ""
    if isinstance(after, np.ndarray) and after.shape == before.shape:
        diff = np.argwhere(~((before == after) | (np.isnan(before) & np.isnan(after))))
        if len(diff):
            idx = tuple(int(j) for j in diff[0])
            detail = (
                f"\n    {name}{_index(idx)} was {_num(before[idx])} before the call and is "
                f"{_num(after[idx])} after it."
            )
    tag, text = spec.mutation_texts.get(
        name,
        (
            "mutates_input",
            "A function must leave its inputs unchanged: build a new array for the result (an "
            "operation like -=, += or assigning into a slice changes the caller's array; so does "
            "a name that is just another name for an input).",
        ),
    )
    rest = f"\n    (tested with {case.label()}"
    rest += f"; {_names(ok)} {'is' if len(ok) == 1 else 'are'} right otherwise)" if ok else ")"
    message = (
        f"{spec.name}: changed its input {name} in place."
        + detail
        + f"\n    Likely mistake: {_sentence(text)}{rest}"
    )
    return CheckFailure(message, exercise=spec.name, output=name, mistake=tag)


def run_check(spec: Spec, fn: Any, cases: Sequence[Case]) -> CheckFailure | None:
    """Run every case. Returns the first CheckFailure (the caller raises it, so that the
    traceback a learner sees ends in the one-line check function, not in this machinery), or
    prints one line and returns None on success."""
    __tracebackhide__ = True
    try:
        require_callable(spec.name, fn)
        worst = 0.0
        note = ""
        for case in cases:
            result, mutated = call_learner(spec, fn, case)
            with quiet():
                failure, rel = evaluate(spec, case, result, mutated)
                if failure is not None and not mutated and spec.alternatives is not None:
                    failure, rel = _alternative(spec, case, result, failure, rel)
            if failure is not None:
                return failure
            note = note or dtype_note(case)
            if not case.float32:
                worst = max(worst, rel)
    except CheckFailure as failure:
        return failure
    names = [o.name for o in spec.outputs]
    verb = "matches" if len(names) == 1 else "match"
    print(
        f"{spec.name}: all good. {_names(names)} {verb} {spec.compared_with} on {len(cases)} "
        f"test inputs (largest relative error {worst:.0e})." + (f"\n    {note}" if note else "")
    )
    return None


def _alternative(
    spec: Spec, case: Case, result: Any, failure: CheckFailure, rel: float
) -> tuple[CheckFailure | None, float]:
    """(None, error) when the result matches one of the spec's other right answers."""
    try:
        alternatives = list(spec.alternatives(case)) if spec.alternatives else []
    except Exception:  # noqa: BLE001 - an alternative that cannot be built accepts nothing
        alternatives = []
    for expected in alternatives:
        alt = Case(
            case.args,
            tuple(expected),
            kwargs=case.kwargs,
            sizes=case.sizes,
            note=case.note,
            tol=case.tol,
            floor=case.floor,
            rel_floor=case.rel_floor,
            float32=case.float32,
            mutation_rtol=case.mutation_rtol,
            extra=case.extra,
        )
        found, alt_rel = evaluate(spec, alt, result, [])
        if found is None:
            return None, alt_rel
    case.extra["_dtype_notes"] = {}
    return failure, rel
