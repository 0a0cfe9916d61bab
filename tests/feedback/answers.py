"""One record for every learner answer of the three corpora, and how to load a corpus.

- ``corpus/``: the tuning corpus (the checks were tuned on it);
- ``corpus_fresh/``: a regression set by the checks' author (not held out);
- ``corpus_independent/``: a second author's answers (held out for its first run only).

Each corpus keeps its own way of registering an answer (``corpus/_mark.py`` for the first two,
``corpus_independent/_registry.py`` for the third: its labels are a reader's words rather than
the checks' tags), and both build an ``Answer`` into ``ANSWERS``. ``load("corpus_fresh")`` imports
every module of a corpus and returns its answers in registration order.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

CORPORA = ("corpus", "corpus_fresh", "corpus_independent")


@dataclass(frozen=True)
class Answer:
    """One learner answer to an exercise and what the exercise's check must say about it."""

    exercise: str  # the exercise's name: its check is course.checks.check_<exercise>
    fn: Callable[..., Any]  # the answer (with factory=True: builds the object the check gets)
    verdict: Literal["right", "wrong"]
    # the output(s) a wrong answer gets wrong; the failure must name it (any one of them)
    outputs: tuple[str, ...] = ()
    mistake: str | None = None  # the check's mistake tag (course/_diagnose.py), when labelled so
    # words the check's message (a failure, or a right answer's printed lines) must contain;
    # "!word": must not contain
    words: tuple[str, ...] = ()
    # the mistake named in a reader's words: a fair failure message contains at least one
    keywords: tuple[str, ...] = ()
    note: str = ""  # the mistake in the corpus author's words
    factory: bool = False

    @property
    def right(self) -> bool:
        return self.verdict == "right"

    @property
    def output(self) -> str | None:
        """The output the failure must name first (the tuned corpora label exactly one)."""
        return self.outputs[0] if self.outputs else None

    @property
    def corpus(self) -> str:
        """The corpus package the answer is written in ("corpus", "corpus_fresh", ...)."""
        return self.fn.__module__.split(".")[0]

    @property
    def id(self) -> str:
        return f"{self.exercise}:{self.fn.__name__}"


ANSWERS: list[Answer] = []


def add(answer: Answer) -> Callable[..., Any]:
    """Register an answer; returns its function (for use in a decorator)."""
    ANSWERS.append(answer)
    return answer.fn


def load(corpus: str, modules: Iterable[str] | None = None) -> list[Answer]:
    """Import the corpus's modules (all of them, or the named ones) and return its answers.

    With `modules`, only the answers written in those modules."""
    assert corpus in CORPORA, corpus
    package = importlib.import_module(corpus)
    names = list(modules) if modules is not None else [
        info.name for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")]
    for name in names:
        importlib.import_module(f"{corpus}.{name}")
    wanted = {f"{corpus}.{name}" for name in names}
    return [a for a in ANSWERS if a.fn.__module__ in wanted]
