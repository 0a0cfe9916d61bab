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

    @property
    def id(self) -> str:
        return f"{self.exercise}:{self.fn.__name__}"


REGISTRY: list[Entry] = []


def right(exercise: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a correct implementation of `exercise`."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY.append(Entry(exercise, fn, True))
        return fn

    return deco


def wrong(
    exercise: str, output: str, mistake: str | None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a wrong implementation: the check must name `output` and recognise `mistake`."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY.append(Entry(exercise, fn, False, output, mistake))
        return fn

    return deco
