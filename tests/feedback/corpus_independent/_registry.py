"""Registry for the independent corpus of learner answers.

Each wrong answer is registered with the check it belongs to, the output(s) it gets wrong (any of
the listed names counts as naming it) and the mistake in plain words, with a few alternative
keywords; a fair failure message should contain at least one of them. Each registration builds
an ``answers.Answer`` (the record every corpus uses): the plain words go to its ``note``, the
keywords to its ``keywords``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from answers import Answer, add

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


def wrong(
    exercise: str, outputs: str | tuple[str, ...], mistake: str, keywords: tuple[str, ...],
    *, factory: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a wrong answer: the check must fail naming `outputs` and the mistake."""
    outs = (outputs,) if isinstance(outputs, str) else outputs

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        return add(Answer(exercise, fn, "wrong", outs, keywords=tuple(keywords), note=mistake,
                          factory=factory))

    return deco


def right(
    exercise: str, *, factory: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a right answer: the check must accept it."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        return add(Answer(exercise, fn, "right", factory=factory))

    return deco
