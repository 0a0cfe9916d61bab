"""The exercise registry: every graded item of the course, declared once.

One module per notebook (``nb01_chain_rule`` ... ``nb12_capstone_digits``) lists its
graded items in ``EXERCISES``, in notebook order. Everything else reads them from here:
the learner-facing checks (``course.checks``), the progress view, the release, the
notebooks' hidden tests, the grader, the tests and the docs.

    from course.exercises import REGISTRY, exercises, get
    ex = get("linear_backward")          # or get("test_linear_backward")
    ex.check(fn)                         # the visible cases: one line, or CheckFailure
    ex.grade(fn, seed)                   # visible + hidden(seed), same engine and tolerances

Kinds of item:

- ``"function"``: ``spec`` (a ``course._diagnose.Spec``), ``visible()`` (fixed cases),
  ``hidden(seed)`` (fresh values and shapes for every seed, built by the same builder) and
  ``reference`` (the course's implementation, or the registry module's own for exercises that
  exist only in a notebook: neuron_backward, two_layer_net, gradient_descent);
- ``"choice"``: a multiple-choice answer, stored as a salted sha256 (``answer_hash``) with a
  one-line ``explanations[letter]`` for every wrong choice;
- ``"model"``: the capstone model, judged on the held-back digits (``own_work``: the grader
  calls it with course's library disabled);
- ``"written"``: a markdown answer graded by hand (``name`` is None).

Exam mode: with the environment variable ``BACKPROP_COURSE_EXAM=1`` a choice's ``check``
gives no immediate feedback: it only confirms that the answer is one of the letters and was
recorded. ``grade`` always judges it.

Callables inside a case's arguments are `Fn` instances ("module:attr" factory + params), so a
case can be sent by name across a process boundary; random generators are
``course._diagnose.Rng(seed)``.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from course._diagnose import Case, CheckFailure, NotDoneYet, Spec, captured_stdout, run_check

__all__ = [
    "EXAM_ENV",
    "KINDS",
    "MODULES",
    "REGISTRY",
    "Exercise",
    "Fn",
    "answer_hash",
    "exam_mode",
    "exercises",
    "get",
    "notebooks",
]

KINDS = ("function", "choice", "model", "written")
EXAM_ENV = "BACKPROP_COURSE_EXAM"
MODULES = (
    "nb01_chain_rule",
    "nb02_gradient_checking",
    "nb03_linear_layer",
    "nb04_activations",
    "nb05_losses",
    "nb06_backprop_network",
    "nb07_learning_rate",
    "nb08_optimizers",
    "nb09_deep_networks",
    "nb10_generalization",
    "nb11_autograd",
    "nb12_capstone_digits",
)
_SALT = "backprop-course/choices/v1"


def exam_mode() -> bool:
    """True when ``BACKPROP_COURSE_EXAM`` is set to 1 (or true/yes/on): choice checks then only
    record the answer, without saying whether it is right."""
    return os.environ.get(EXAM_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def answer_hash(grade_id: str, answer: str) -> str:
    """The salted sha256 a choice stores instead of its right answer."""
    return hashlib.sha256(f"{_SALT}:{grade_id}:{answer}".encode()).hexdigest()


# --- Callables that can be named -----------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Fn:
    """A callable argument of a case, named so it can cross a process boundary.

    target: "module:attr" of a factory; params: its keyword arguments (plain values).
    Calling an Fn calls ``factory(**params)``'s result (built once and kept).
    """

    target: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self) -> Callable[..., Any]:
        built = self.__dict__.get("_built")
        if built is None:
            module, _, attr = self.target.partition(":")
            factory = getattr(importlib.import_module(module), attr)
            built = factory(**dict(self.params))
            object.__setattr__(self, "_built", built)
        return built

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Fn)
            and other.target == self.target
            and dict(other.params) == dict(self.params)
        )

    def __hash__(self) -> int:
        return hash((self.target, repr(sorted(dict(self.params).items()))))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in dict(self.params).items())
        return f"Fn({self.target!r}, {params})" if params else f"Fn({self.target!r})"


# --- One graded item -----------------------------------------------------------------------------
_VISIBLE: dict[str, tuple[Case, ...]] = {}
_DETAIL = re.compile(r"^\s*(\(tested with|\(called with|first difference|worst entry|\w.* at \[)")


@dataclass(frozen=True, eq=False)
class Exercise:
    """One graded item of a notebook (see the module docstring for the kinds)."""

    grade_id: str
    notebook: str
    name: str | None
    kind: str
    points: float
    title: str
    # function
    spec: Spec | None = field(default=None, repr=False)
    cases: Callable[[int | None], Sequence[Case]] | None = field(default=None, repr=False)
    reference: Callable[..., Any] | None = field(default=None, repr=False)
    # choice
    choices: tuple[str, ...] = ()
    answer_hash: str = field(default="", repr=False)
    explanations: Mapping[str, str] = field(default_factory=dict, repr=False)
    # model: returns a CheckFailure or None; strict=True (with the grading seed) is the grading
    # check
    model_check: Callable[..., CheckFailure | None] | None = field(default=None, repr=False)
    # the grader calls the learner's code with course's library disabled (it must do its own work)
    own_work: bool = False
    # the docstring of check_<name>
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.grade_id}: kind must be one of {KINDS}, not {self.kind!r}")
        if self.kind == "function" and (self.spec is None or self.cases is None):
            raise ValueError(f"{self.grade_id}: a function exercise needs spec and cases")
        if self.kind == "choice":
            missing = [c for c in self.choices if c not in self.explanations]
            if len(missing) != 1:
                raise ValueError(
                    f"{self.grade_id}: every wrong choice needs an explanation (and the right "
                    f"one none); choices without one: {missing}"
                )

    # -- cases ----------------------------------------------------------------------------------
    def visible(self) -> list[Case]:
        """The fixed cases of the learner-facing check."""
        if self.cases is None:
            return []
        if self.grade_id not in _VISIBLE:
            _VISIBLE[self.grade_id] = tuple(self.cases(None))
        return list(_VISIBLE[self.grade_id])

    def hidden(self, seed: int) -> list[Case]:
        """Fresh cases for this seed: new values (and shapes), same builder and tolerances."""
        if self.cases is None:
            return []
        return list(self.cases(int(seed)))

    # -- judging --------------------------------------------------------------------------------
    def failure(self, obj: Any) -> CheckFailure | None:
        """Run the visible check; return its CheckFailure (or None after printing one line)."""
        __tracebackhide__ = True
        if self.kind == "function":
            return run_check(self.spec, obj, self.visible())
        if self.kind == "choice":
            return self._choice(obj, feedback=not exam_mode())
        if self.kind == "model":
            return self.model_check(obj, strict=False)
        print(f"{self.title}: a written answer, graded by your instructor.")
        return None

    def check(self, obj: Any) -> None:
        """The learner-facing check: prints one line, or raises CheckFailure."""
        __tracebackhide__ = True
        failure = self.failure(obj)
        if failure is not None:
            raise failure

    def grade_failure(self, obj: Any, seed: int) -> CheckFailure | None:
        """Visible cases, then hidden(seed). A failure on a hidden case never shows its
        inputs or expected values. Prints one line when everything passes."""
        __tracebackhide__ = True
        label = self.name or self.grade_id
        if self.kind == "function":
            with captured_stdout() as out:
                failure = run_check(self.spec, obj, self.visible())
                if failure is None:
                    hidden = self.hidden(seed)
                    failure = run_check(self.spec, obj, hidden)
                    if failure is not None:
                        failure = _hidden_failure(failure)
            if failure is None:
                notes = [ln for ln in out.getvalue().splitlines() if ln.strip().startswith("Note:")]
                print(f"{label}: passed {len(self.visible())} visible and {len(hidden)} hidden "
                      "test inputs." + (f"\n{notes[0]}" if notes else ""))
            return failure
        if self.kind == "choice":
            failure = self._choice(obj, feedback=True, quiet=True)
            if failure is None:
                print(f"{label}: right.")
            return failure
        if self.kind == "model":
            with captured_stdout() as out:
                failure = self.model_check(obj, strict=False) or self.model_check(
                    obj, strict=True, seed=seed)
            if failure is None:
                print(out.getvalue().strip().splitlines()[-1] if out.getvalue().strip() else
                      f"{label}: passed.")
            return failure
        print(f"{self.title}: a written answer, graded by your instructor.")
        return None

    def grade(self, obj: Any, seed: int) -> None:
        """The grading check: visible + hidden(seed), the same engine and tolerances."""
        __tracebackhide__ = True
        failure = self.grade_failure(obj, seed)
        if failure is not None:
            raise failure

    def _choice(self, answer: Any, *, feedback: bool, quiet: bool = False) -> CheckFailure | None:
        name = self.name or self.grade_id
        letters = ", ".join(f'"{c}"' for c in self.choices)
        if answer is None or (type(answer) is str and not answer.strip()):
            return NotDoneYet(
                f"{name} is not answered yet: set it to one of {letters}, e.g. "
                f'{name} = "{self.choices[0]}".',
                exercise=name,
                mistake="not_started",
            )
        if type(answer) is not str or answer not in self.choices:
            plain = type(answer) in (str, int, float, bool)
            shown = repr(answer) if plain else type(answer).__name__
            return CheckFailure(
                f"{name} = {shown} is not one of the choices: answer with one of the strings "
                f"{letters}.",
                exercise=name,
                output=name,
                mistake="invalid_choice",
            )
        if not feedback:
            if not quiet:
                print(f'{name} = "{answer}": recorded (no feedback during an exam).')
            return None
        if answer_hash(self.grade_id, answer) == self.answer_hash:
            if not quiet:
                print(f'{name} = "{answer}": right.')
            return None
        return CheckFailure(
            f'{name} = "{answer}" is not right: {self.explanations.get(answer, "")}'.rstrip(": "),
            exercise=name,
            output=name,
            mistake="wrong_choice",
        )


def _hidden_failure(failure: CheckFailure) -> CheckFailure:
    """The failure on a hidden case, without its inputs or expected values."""
    lines = str(failure).splitlines()
    head = lines[0] if lines else ""
    if re.search(r"\bexpected\b|\bgot\b", head):
        head = head.split(":")[0] + f": {failure.output or 'the result'} is wrong."
    kept = [head]
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith(("Likely mistake:", "Hint:", "at line")):
            if not re.search(r"\bexpected\b", stripped):
                kept.append(line)
    kept.append("    (on a hidden test input: it is not shown)")
    new = type(failure)(
        "\n".join(kept), exercise=failure.exercise, output=failure.output, mistake=failure.mistake
    )
    return new


# --- The registry --------------------------------------------------------------------------------
def _load() -> dict[str, Exercise]:
    registry: dict[str, Exercise] = {}
    for module in MODULES:
        mod = importlib.import_module(f"{__name__}.{module}")
        for ex in mod.EXERCISES:
            if ex.grade_id in registry:
                raise ValueError(f"grade_id {ex.grade_id} is declared twice")
            registry[ex.grade_id] = ex
    names = [ex.name for ex in registry.values() if ex.name is not None]
    if len(names) != len(set(names)):
        raise ValueError("two graded items share a name")
    return registry


REGISTRY: dict[str, Exercise] = _load()
_BY_NAME = {ex.name: ex for ex in REGISTRY.values() if ex.name is not None}


def exercises(notebook: str | None = None, kind: str | None = None) -> list[Exercise]:
    """Every graded item in notebook order (or one notebook's: "03-linear-layer", "03", "3")."""
    out = list(REGISTRY.values())
    if notebook is not None:
        key = str(notebook).strip().removesuffix(".ipynb")
        if key.isdigit():
            key = f"{int(key):02d}"
        out = [ex for ex in out if ex.notebook == key or ex.notebook.startswith(key + "-")]
    if kind is not None:
        out = [ex for ex in out if ex.kind == kind]
    return out


def notebooks() -> list[str]:
    """The notebooks that have graded items, in order."""
    return list(dict.fromkeys(ex.notebook for ex in REGISTRY.values()))


def get(key: str) -> Exercise:
    """An item by grade_id ("test_linear_backward") or by name ("linear_backward")."""
    if key in REGISTRY:
        return REGISTRY[key]
    if key in _BY_NAME:
        return _BY_NAME[key]
    raise KeyError(f"no graded item called {key!r}")
