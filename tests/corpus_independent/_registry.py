"""Registry for the independent corpus of learner answers.

Each wrong answer is registered with the check it belongs to, the output(s) it gets wrong (any of
the listed names counts as naming it) and the mistake in plain words, with a few alternative
keywords; a fair failure message should contain at least one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Keyword sets for mistakes that recur across exercises.
IN_PLACE = ("modif", "mutat", "in place", "in-place", "overwr", "changed", "copy", "unchanged")
SIGN = ("sign",)
TRANSPOSE = ("transpos",)
BATCH_MEAN = ("batch size", "1/n", "average", "divid", "mean instead of", "mean instead of sum")
DOUT_IGNORED = ("dout", "upstream")
ORDER = ("order", "swap")
AXIS = ("axis",)
DTYPE = ("dtype", "float32", "float64")
OUTPUT_FOR_INPUT = (
    "forward output", "output of the forward", "sigmoid output", "tanh output", "the output",
    "is the input", "the forward input", "output instead", "instead of the input",
)


@dataclass
class Case:
    exercise: str  # check name without the "check_" prefix
    fn: Callable[..., Any]
    kind: str  # "wrong" or "right"
    outputs: tuple[str, ...] = ()
    mistake: str = ""
    keywords: tuple[str, ...] = ()
    factory: bool = False  # fn() builds the argument to pass to the check (digits model)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.exercise}:{self.fn.__name__}"


CASES: list[Case] = []


def wrong(
    exercise: str, outputs: str | tuple[str, ...], mistake: str, keywords: tuple[str, ...],
    *, factory: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a wrong answer: the check must fail naming `outputs` and the mistake."""
    outs = (outputs,) if isinstance(outputs, str) else outputs

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        CASES.append(Case(exercise, fn, "wrong", outs, mistake, tuple(keywords), factory))
        return fn

    return deco


def right(
    exercise: str, *, factory: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a right answer: the check must accept it."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        CASES.append(Case(exercise, fn, "right", factory=factory))
        return fn

    return deco
