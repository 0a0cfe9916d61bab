"""Learner-facing checks: one call per exercise, feedback a teaching assistant would give.

Each ``check_<exercise>(fn)`` calls your function on several seeded random inputs whose
shapes all differ (N != D != M, so a transpose cannot hide), compares what it returns with
numerical gradients of the reference forward pass (or with the reference itself where a
numerical gradient does not apply, such as optimizer steps), and

- prints one short line when everything is right;
- raises an AssertionError otherwise, naming the output that is wrong, checking type, shape,
  dtype and values in that order, showing the worst entry, and naming the mistake when it
  recognises it ("dW is exactly 1/N of the expected gradient ...").

Checks never print to stderr and never show solution code. An exercise that still raises
NotImplementedError fails with "not done yet".

    from course.checks import check_linear_backward
    check_linear_backward(linear_backward)

Multiple-choice answers: ``check_choice("MC_DW_SHAPE", MC_DW_SHAPE)`` says whether the answer
is right and, if not, the misconception behind it (with ``BACKPROP_COURSE_EXAM=1`` in the
environment it only records the answer). ``grade_hidden(grade_id, obj)`` is what a notebook's
hidden test runs: the visible cases plus fresh hidden ones.

Every check here is generated from the exercise registry, ``course.exercises``.

``show_progress`` (course.progress) is exported here too, and importing this module in a
notebook makes a bare ``show_progress()`` work there: every notebook's setup cell imports
course.checks.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from typing import Any

from course._diagnose import CheckFailure, NotDoneYet
from course.exercises import REGISTRY, get
from course.progress import show_progress


def check_choice(name: str, answer: Any) -> None:
    """Check a multiple-choice answer, e.g. check_choice("MC_DW_SHAPE", MC_DW_SHAPE).

    Prints one line when it is right; otherwise raises CheckFailure with the misconception
    behind the chosen answer. With BACKPROP_COURSE_EXAM=1 it only checks that the answer is
    one of the choices and says it was recorded.
    """
    __tracebackhide__ = True
    ex = get(name)
    if ex.kind != "choice":
        raise ValueError(f"check_choice: {name} is not a multiple-choice question")
    failure = ex.failure(answer)
    if failure is not None:
        raise failure  # the message says what is wrong


def grade_hidden(grade_id: str, obj: Any, seed: int | None = None) -> None:
    """The hidden test of a graded cell: the visible cases plus hidden ones drawn from a fresh
    random seed (or the seed given), judged by the same checks and tolerances."""
    __tracebackhide__ = True
    ex = REGISTRY[grade_id]
    failure = ex.grade_failure(obj, secrets.randbits(32) if seed is None else seed)
    if failure is not None:
        raise failure  # the message says what is wrong


def _make_check(key: str) -> Callable[[Any], None]:
    ex = get(key)

    def check(fn: Any) -> None:
        __tracebackhide__ = True
        failure = ex.failure(fn)
        if failure is not None:
            raise failure  # the message says what is wrong and how to fix it

    check.__name__ = check.__qualname__ = f"check_{ex.name}"
    check.__module__ = __name__
    check.__doc__ = ex.doc or ex.title
    return check


_CHECKED = [ex for ex in REGISTRY.values() if ex.kind in ("function", "model")]
for _ex in _CHECKED:
    globals()[f"check_{_ex.name}"] = _make_check(_ex.name)

__all__ = ["CheckFailure", "NotDoneYet", "check_choice", "grade_hidden", "show_progress"]
__all__ += [f"check_{ex.name}" for ex in _CHECKED]
del _ex


def _offer_show_progress() -> None:
    """In IPython (a notebook), put show_progress in the user's namespace unless the name is
    taken, so that a bare show_progress() works in every notebook."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    namespace = getattr(shell, "user_ns", None)
    if isinstance(namespace, dict):
        namespace.setdefault("show_progress", show_progress)


_offer_show_progress()
