"""The trusted side of grading: judges one submission without ever running learner code.

The learner's notebook runs in a jail (:mod:`course.grading.jail`). This module, in the
grader's own process, asks the jail to call each graded function with inputs drawn here and
now (the exercise registry's visible and hidden cases), decodes the plain values that come
back (:mod:`course.grading.wire`), and lets the registry's checks compare them with expected
values that never leave this process. The learner-facing check and the grade are the same
code: ``Exercise.grade`` on a proxy of the learner's function.
"""

from __future__ import annotations

import builtins
import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course._diagnose import CheckFailure, captured_stdout
from course.exercises import REGISTRY, Exercise
from course.grading import wire
from course.grading.jail import Jail, looks_perturbed

CALL_TIMEOUT = 120.0
MODEL_NAMES = ("digits_model", "model")


class JailGone(BaseException):  # noqa: N818 - not an error of the learner's function
    """The jail stopped answering (it ended, timed out, or sent garbage)."""


class RemoteError(Exception):
    """Raised in place of the exception the learner's function raised inside the jail."""

    remote_report: dict = {}


_EXCEPTIONS = {name: cls for name, cls in vars(builtins).items()
               if isinstance(cls, type) and issubclass(cls, Exception)}
_CLASSES: dict[str, type] = {}


def remote_exception(error: dict) -> RemoteError:
    """An exception of the same builtin type (so NotImplementedError still means 'not done')."""
    name = str(error.get("type") or "Exception")
    base = _EXCEPTIONS.get(name, Exception)
    cls = _CLASSES.get(name)
    if cls is None:
        label = name if name.isidentifier() else "Exception"
        try:
            cls = type(label, (RemoteError, base), {})
        except TypeError:
            cls = type(label, (RemoteError, Exception), {})
        _CLASSES[name] = cls
    try:
        exc = cls(str(error.get("msg", "")))
    except TypeError:
        exc = type(name, (RemoteError, Exception), {})(str(error.get("msg", "")))
    exc.remote_report = {k: error.get(k) for k in ("where", "target", "what", "tag", "hint")}
    return exc


@dataclass
class Call:
    args: list
    kwargs: dict
    result: Any = None


class RemoteFunction:
    """Stands for the learner's function: every call crosses the jail boundary as plain values."""

    def __init__(self, jail: Jail, at: str, name: str, spec: str | None, method=None,
                 own_work: bool = False) -> None:
        self.jail, self.at, self.name, self.spec, self.method = jail, at, name, spec, method
        self.own_work = own_work
        self.calls: list[Call] = []
        self.memory = False
        self.withheld = False  # it called a reference that the grading build withholds
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        msg = {"op": "call", "at": self.at, "target": self.name, "method": self.method,
               "spec": self.spec, "own_work": self.own_work,
               "args": [wire.encode(a, markers=True) for a in args],
               "kwargs": {k: wire.encode(v, markers=True) for k, v in kwargs.items()}}
        before = Call([_copy(a) for a in args], {k: _copy(v) for k, v in kwargs.items()})
        reply = self.jail.request(msg, timeout=CALL_TIMEOUT)
        if reply is None:
            raise JailGone(f"no answer while calling {self.name}")
        if not reply.get("ok"):
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            if error.get("type") == "ReferenceWithheld":
                self.withheld = True
            if error.get("memory"):
                self.memory = True
            raise remote_exception(error)
        try:
            result = wire.decode(reply.get("result"))
            after = [wire.decode(a) for a in reply.get("after") or []]
            after_kw = {k: wire.decode(v) for k, v in (reply.get("after_kw") or {}).items()}
        except wire.WireError as exc:
            raise JailGone(f"unreadable answer from {self.name}: {exc}") from None
        for mine, theirs in list(zip(args, after, strict=False)) + [
                (kwargs[k], v) for k, v in after_kw.items() if k in kwargs]:
            _write_back(mine, theirs)
        before.result = result
        self.calls.append(before)
        return result


class RemoteModel:
    """Stands for the learner's trained model: ``forward(x)`` runs it in eval mode in the jail."""

    def __init__(self, jail: Jail, at: str, name: str, own_work: bool = False) -> None:
        self.forward = RemoteFunction(jail, at, name, None, method="forward", own_work=own_work)


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _write_back(mine: Any, theirs: Any) -> None:
    """What the learner's function did to an input array in place, done to our copy."""
    if (isinstance(mine, np.ndarray) and isinstance(theirs, np.ndarray)
            and mine.shape == theirs.shape and mine.flags.writeable):
        with np.errstate(all="ignore"):
            np.copyto(mine, theirs, casting="unsafe")


@dataclass
class ItemResult:
    """The grade of one graded item (one entry of ``results``)."""

    grade_id: str
    name: str | None
    kind: str
    title: str
    max_points: float
    points: float = 0.0
    passed: bool | None = False
    message: str = ""
    mistake: str | None = None
    output: str | None = None
    integrity: str | None = None

    def as_dict(self) -> dict:
        return {"grade_id": self.grade_id, "name": self.name, "kind": self.kind,
                "title": self.title, "points": self.points, "max_points": self.max_points,
                "passed": self.passed, "message": self.message, "mistake": self.mistake,
                "output": self.output}


@dataclass
class Verdict:
    items: list[ItemResult] = field(default_factory=list)
    jail_gone: str | None = None
    memory: bool = False


def _targets(ex: Exercise) -> list[str]:
    if ex.kind == "model":
        return [n for n in dict.fromkeys([ex.name, *MODEL_NAMES]) if n]
    return [ex.name] if ex.name else []


def targets(grade_id: str) -> list[str]:
    """The notebook names the jail must remember at this test cell."""
    ex = REGISTRY.get(grade_id)
    return _targets(ex) if ex is not None else []


def _first(msg: str) -> str:
    return " ".join(str(msg).split())


def judge(jail: Jail, ex: Exercise, seed: int) -> ItemResult:
    """Grade one item through the jail. JailGone propagates (the caller decides the status)."""
    item = ItemResult(ex.grade_id, ex.name, ex.kind, ex.title, float(ex.points))
    if ex.kind == "written":
        item.passed = None
        item.message = "Written answer: graded by your instructor."
        return item
    name, found = None, None
    for candidate in _targets(ex):
        reply = jail.request({"op": "get", "at": ex.grade_id, "target": candidate},
                             timeout=CALL_TIMEOUT)
        if reply is None:
            raise JailGone(f"no answer while looking up {candidate}")
        if reply.get("found"):
            name, found = candidate, reply
            break
    if found is None:
        shown = ex.name or ex.grade_id
        item.message = (f"{shown} is not defined in the notebook when its test cell runs: run "
                        "the cell that defines it (and keep its name).")
        item.mistake = "not_defined"
        return item
    obj: Any
    proxy: RemoteFunction | None = None
    if ex.kind == "function":
        if not found.get("callable"):
            obj = _decode_value(found)
        else:
            proxy = obj = RemoteFunction(jail, ex.grade_id, name, ex.name)
    elif ex.kind == "model":
        model = RemoteModel(jail, ex.grade_id, name,
                            own_work=bool(getattr(ex, "own_work", False)))
        proxy, obj = model.forward, model
    else:
        obj = _decode_value(found) if not found.get("callable") else wire.Opaque("function", "")
    failure, note = _run(ex, obj, seed)
    if failure is None:
        item.points, item.passed = float(ex.points), True
        item.message = _success(ex) + (f"\n{note}" if note else "")
        return item
    item.message = str(failure)
    item.mistake = getattr(failure, "mistake", None)
    item.output = getattr(failure, "output", None)
    if proxy is not None and proxy.memory:
        item.mistake = item.mistake or "memory"
    if proxy is not None and ex.kind == "function" and proxy.withheld:
        item.integrity = (f"{ex.name} calls the course's reference implementation (withheld "
                          "in the grading build) instead of computing the result")
        item.message = f"{ex.name}: no points: {item.integrity}."
        item.mistake = "integrity"
    elif proxy is not None and ex.kind == "function" and _delegated(ex, proxy, seed):
        item.integrity = (f"{ex.name} returns the grading build's perturbed reference values: "
                          "it calls the reference implementation instead of computing them")
        item.message = f"{ex.name}: no points: {item.integrity}."
        item.mistake = "integrity"
    return item


def _decode_value(found: dict) -> Any:
    try:
        return wire.decode(found.get("value"))
    except wire.WireError:
        return wire.Opaque(str(found.get("type", "object")), "")


def _run(ex: Exercise, obj: Any, seed: int) -> tuple[CheckFailure | None, str]:
    """The registry's grading check on ``obj``: (its failure or None, any note it printed)."""
    note = ""
    try:
        with captured_stdout() as out:
            failure = ex.grade_failure(obj, seed)
        notes = [ln.strip() for ln in out.getvalue().splitlines() if ln.strip().startswith(
            "Note:")]
        note = notes[0] if notes else ""
        return failure, note
    except JailGone:
        raise
    except CheckFailure as failure:
        return failure, note
    except Exception as exc:  # noqa: BLE001 - a check that breaks on odd values is a fail
        return CheckFailure(f"{ex.name or ex.grade_id}: the check could not judge the answer "
                            f"({type(exc).__name__}: {_first(exc)[:200]})",
                            exercise=ex.name or ex.grade_id, mistake="unjudgeable"), note


def _success(ex: Exercise) -> str:
    label = ex.name or ex.grade_id
    if ex.kind == "choice":
        return f"{label}: right."
    if ex.kind == "model":
        return f"{label}: reaches the target accuracy on held-out digits."
    return f"{label}: right on every visible and hidden test input."


def _delegated(ex: Exercise, proxy: RemoteFunction, seed: int) -> bool:
    """Did the failing calls return the grading build's perturbed reference values?"""
    cases = ex.visible() + ex.hidden(seed)
    for call in proxy.calls[-3:]:
        for case in cases:
            args = list(case.args.values())
            if len(args) != len(call.args) or not all(
                    _same(a, b) for a, b in zip(args, call.args, strict=True)):
                continue
            expected = case.expected
            if looks_perturbed(call.result, expected[0] if len(expected) == 1 else expected):
                return True
    return False


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and bool(np.array_equal(a, b, equal_nan=True)))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def grade_items(jail: Jail, items: list[Exercise], seed: int | None = None) -> Verdict:
    """Judge every item in order; after the jail is gone the rest get no points."""
    seed = secrets.randbits(62) if seed is None else seed
    verdict = Verdict()
    for ex in items:
        if verdict.jail_gone is not None:
            item = ItemResult(ex.grade_id, ex.name, ex.kind, ex.title, float(ex.points),
                              passed=None if ex.kind == "written" else False)
            item.message = ("Written answer: graded by your instructor." if ex.kind == "written"
                            else f"not graded: {verdict.jail_gone}")
            verdict.items.append(item)
            continue
        try:
            verdict.items.append(judge(jail, ex, seed))
        except JailGone as gone:
            verdict.jail_gone = str(gone)
            item = ItemResult(ex.grade_id, ex.name, ex.kind, ex.title, float(ex.points))
            item.message = f"not graded: the notebook stopped answering ({gone})"
            verdict.items.append(item)
    return verdict
