"""Registration decorators shared by tests/corpus and tests/corpus_fresh."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One implementation of an exercise and what its check must say about it."""

    exercise: str
    fn: Callable[..., Any]
    right: bool
    output: str | None = None
    mistake: str | None = None
    # words the check's message (a failure, or a right answer's printed lines) must contain
    words: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.exercise}:{self.fn.__name__}"


REGISTRY: list[Entry] = []


def right(
    exercise: str, words: tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a correct implementation of `exercise` (words: what its printed lines contain)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY.append(Entry(exercise, fn, True, words=words))
        return fn

    return deco


def wrong(
    exercise: str, output: str, mistake: str | None, words: tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a wrong implementation: the check must name `output` and recognise `mistake`, and
    its message must contain `words`."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY.append(Entry(exercise, fn, False, output, mistake, words))
        return fn

    return deco
