"""Registration decorators shared by tests/feedback/corpus and tests/feedback/corpus_fresh: each
builds an ``answers.Answer`` labelled with the check's own output name and mistake tag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from answers import Answer, add


def right(
    exercise: str, words: tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a correct implementation of `exercise` (words: what its printed lines contain)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        return add(Answer(exercise, fn, "right", words=words))

    return deco


def wrong(
    exercise: str, output: str | None, mistake: str | None, words: tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a wrong implementation: the check must name `output` (None: no output, e.g. not
    started) and recognise `mistake`, and its message must contain `words`."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        return add(Answer(exercise, fn, "wrong", (output,) if output else (), mistake, words))

    return deco
