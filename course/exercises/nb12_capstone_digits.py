"""Notebook 12, the capstone: the learner's own digits network, three concept questions.

The network must be the learner's own: built from their functions of notebooks 03-08 and
trained with their own optimizer step. It is judged on the 359 digits that
``load_digits(split="development")`` holds back, with a little noise added (a fixed draw for
the visible check, a fresh draw from the grading seed for the grade). Two checks make sure
the learner's code does the work: the visible check traces the model's forward pass and
fails when it calls into course's library; the grader (``own_work=True``) calls the model
with the library disabled inside the jail.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

import numpy as np

from course._diagnose import CheckFailure, captured_stdout, quiet
from course.exercises import Exercise
from course.exercises._shared import choice

NOTEBOOK = "12-capstone-digits"

DIGITS_TARGET = 0.95
NOISE = 0.03  # standard deviation of the pixel noise added to the held-back images
_VISIBLE_NOISE_SEED = 12
_COURSE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# course's numerical library: the model's forward pass must not call into these
_LIBRARY = ("layers.py", "losses.py", "optim.py", "network.py", "train.py", "schedules.py",
            "experiments.py", "gradcheck.py")


@functools.cache
def _held_back() -> tuple[np.ndarray, np.ndarray]:
    from course.datasets import load_digits, train_test_split

    _, x_test, _, y_test = train_test_split(*load_digits(), test_fraction=0.2, seed=0)
    x_test.flags.writeable = False
    y_test.flags.writeable = False
    return x_test, y_test


def test_images(seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The graded test images: the held-back digits plus N(0, NOISE^2) pixel noise, clipped to
    [0, 1]. seed None: the fixed draw of the visible check; otherwise a fresh draw."""
    x, y = _held_back()
    r = np.random.default_rng(
        _VISIBLE_NOISE_SEED if seed is None else [int(seed) & 0xFFFFFFFF, 1212]
    )
    return np.clip(x + r.normal(0.0, NOISE, x.shape), 0.0, 1.0), y.copy()


def _a(digit: int) -> str:
    return "an" if digit == 8 else "a"


def _library_object(obj: Any) -> str | None:
    """'course.network.Sequential' when obj (or the object a bound method belongs to) is an
    object of course's library."""
    for candidate in (obj, getattr(obj, "__self__", None)):
        if candidate is None:
            continue
        module = getattr(type(candidate), "__module__", "") or ""
        if module.startswith("course.") and not module.startswith(
                ("course.grading", "course.exercises")):
            return f"{module}.{type(candidate).__qualname__}"
    return None


def _traced(fn: Any, x: np.ndarray) -> tuple[Any, str | None]:
    """fn(x), and the first function of course's library it called (None if none)."""
    used: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and not used:
            path = frame.f_code.co_filename
            if os.path.dirname(os.path.abspath(path)) == _COURSE_DIR and (
                    os.path.basename(path) in _LIBRARY):
                module = os.path.basename(path)[:-3]
                code = frame.f_code
                used.append(f"course.{module}.{getattr(code, 'co_qualname', code.co_name)}")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = fn(x)
    finally:
        sys.setprofile(previous)
    return result, (used[0] if used else None)


def _own_work_failure(name: str, what: str) -> CheckFailure:
    return CheckFailure(
        f"{name}: your model uses course's library ({what}). In the capstone the network is "
        "yours: its forward pass must run on the functions you wrote (linear_forward, "
        "relu_forward, ...) pasted into this notebook, or on a class of your own built on them. "
        "The grader runs your model with the library switched off.",
        exercise=name,
        output="model",
        mistake="library_used",
    )


def _judge(model: Any, seed: int | None = None) -> None:
    """Check your trained digits network on the held-back test images: >= 95 % accuracy needed.

    model: your own network: an object with forward(x) -> scores, or a function x -> scores,
    mapping x (N, 64) to class scores (N, 10), built on your own functions (not on course's
    library). If it has eval()/train() they are called around the evaluation.
    The test images are the 359 digits that load_digits(split="development") holds back, with a
    little noise (standard deviation 0.03): a fixed draw here, a fresh draw when graded.
    """
    __tracebackhide__ = True
    name = "digits model"
    x_test, y_test = test_images(seed)
    where = "held-back test images" + (" (fresh noise)" if seed is not None else "")
    forward = getattr(model, "forward", None) if not callable(model) else model
    if forward is None or not callable(forward) or isinstance(model, str | np.ndarray):
        raise CheckFailure(
            f"check_digits_model needs your trained model (your network: an object with a "
            f"forward method, or a function from images to scores), got {type(model).__name__}.",
            exercise=name,
            mistake="not_a_model",
        )
    if hasattr(model, "forward") and callable(model.forward) and not isinstance(model, type):
        forward = model.forward
    library = _library_object(model) or _library_object(forward)
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval") and callable(model.eval):
        model.eval()
    try:
        with quiet():
            scores, used = _traced(forward, x_test.copy())
    except Exception as exc:  # noqa: BLE001 - any error becomes a readable failure
        if type(exc).__name__ == "LibraryUsed":
            raise _own_work_failure(
                name, "a call into course.layers, losses, optim or network") from None
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckFailure(
            f"{name}: calling your model on the test images (shape "
            f"{x_test.shape}) raised {type(exc).__name__}: {msg}",
            exercise=name,
            mistake="raised",
        ) from None
    finally:
        if was_training is True and hasattr(model, "train") and callable(model.train):
            model.train()
    n = len(y_test)
    if not isinstance(scores, np.ndarray):
        raise CheckFailure(
            f"{name}: the model returned a {type(scores).__name__}; it should "
            f"return an array of class scores of shape ({n}, 10).",
            exercise=name,
            output="scores",
            mistake="wrong_type",
        )
    if (
        scores.shape == (n,)
        and scores.dtype.kind in "iuf"
        and np.all(np.isin(scores, np.arange(10)))
    ):
        raise CheckFailure(
            f"{name}: the model's output has shape {scores.shape}: one class label per "
            f"image, as a predict function gives. It should be class scores of shape ({n}, 10):"
            " pass the network itself (or its forward), not a function that predicts labels.",
            exercise=name,
            output="scores",
            mistake="predict_not_model",
        )
    if scores.ndim != 2 or scores.shape[0] != n:
        raise CheckFailure(
            f"{name}: the model's output has shape {scores.shape}; for {n} test "
            f"images it should be ({n}, 10), one row of class scores per image.",
            exercise=name,
            output="scores",
            mistake="shape",
        )
    if scores.shape[1] != 10:
        raise CheckFailure(
            f"{name}: the model outputs {scores.shape[1]} scores per image; the "
            "digits have 10 classes, so the last layer needs 10 outputs.",
            exercise=name,
            output="scores",
            mistake="shape",
        )
    if not np.all(np.isfinite(scores)):
        raise CheckFailure(
            f"{name}: the model's scores contain nan or inf: training diverged. "
            "Try a smaller learning rate.",
            exercise=name,
            output="scores",
            mistake="diverged",
        )
    # after the shape checks, so that another notebook's model is told apart by its shape
    if library is not None:
        raise _own_work_failure(name, f"it is a {library}")
    if used is not None:
        raise _own_work_failure(name, f"its forward pass calls {used}")
    pred = scores.argmax(axis=1)
    acc = float(np.mean(pred == y_test))
    if acc < 0.2:
        raise CheckFailure(
            f"{name}: accuracy {acc:.1%} on the {n} {where}, about chance (10 % for 10 "
            "classes): the model looks untrained. Did you train this very object, and did "
            "the training loss go down?",
            exercise=name,
            output="accuracy",
            mistake="untrained",
        )
    if acc < DIGITS_TARGET:
        confusion = np.zeros((10, 10), dtype=int)
        np.add.at(confusion, (y_test, pred), 1)
        np.fill_diagonal(confusion, 0)
        i, j = np.unravel_index(int(confusion.argmax()), confusion.shape)
        hint = (
            f"\n    Most common confusion: {_a(i)} {i} taken for {_a(j)} {j} "
            f"({confusion[i, j]} times)."
            if confusion[i, j]
            else ""
        )
        raise CheckFailure(
            f"{name}: accuracy {acc:.1%} on the {n} {where}; at least "
            f"{DIGITS_TARGET:.0%} is needed.{hint}\n    Go back to your validation split: "
            "read the loss curve, then change one setting at a time (learning rate, epochs, "
            "width, optimizer).",
            exercise=name,
            output="accuracy",
            mistake="low_accuracy",
        )
    print(f"{name}: accuracy {acc:.1%} on the {n} {where} (target {DIGITS_TARGET:.0%}). "
          "Well done!")


def digits_check(model: Any, strict: bool = False, seed: int | None = None) -> CheckFailure | None:
    """check_digits_model's judgement (strict=False: the fixed noise draw), or the grading
    check (strict=True: a fresh noise draw from the grading seed). Returns the CheckFailure,
    or None after printing one line."""
    __tracebackhide__ = True
    try:
        if strict:
            with captured_stdout():
                _judge(model, 0 if seed is None else int(seed))
        else:
            _judge(model, None)
    except CheckFailure as failure:
        return failure
    return None


EXERCISES = [
    Exercise(
        grade_id="test_digits_model",
        notebook=NOTEBOOK,
        name="digits_model",
        kind="model",
        points=6,
        title="Exercise 1: your own network, at least 95 % accuracy on the held-back digits",
        model_check=digits_check,
        own_work=True,
        doc=_judge.__doc__ or "",
    ),
    choice(
        NOTEBOOK,
        "MC_BACKPROP_COST",
        1,
        "Question 1: what backpropagation does",
        "a85e3693c3858fa917d9077582bf1391b564064096c3c28fc8bbdfe8cbc6ce27",
        {
            "b": (
                "One backward pass gives the gradient with respect to every parameter at once; "
                "that is what makes it cheap."
            ),
            "c": (
                "Backpropagation computes exact gradients with the chain rule; finite differences "
                "are only used to check them."
            ),
            "d": (
                "Backpropagation only computes the gradients; updating the weights is the "
                "optimizer's job."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_OVERFITTING",
        1,
        "Question 2: 100 % training, 85 % validation",
        "87af7b8ca4124c04836dc7a497a4c7f760cc460842c33478852a73c32143f656",
        {
            "a": (
                "The model already fits the training set perfectly; a larger rate does not close "
                "the gap to validation, regularization does."
            ),
            "c": (
                "The test split is for the final estimate only; choosing what to do by it makes "
                "that estimate optimistic."
            ),
            "d": (
                "More epochs fit the training set even more closely and usually widen the gap; "
                "this is overfitting, so regularize."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_TEST_REUSE",
        1,
        "Question 3: picking the best of twenty on the test set",
        "13cebf34715703a58c248b6abb2d8390ea33f7449bca06b00aff8994369e5363",
        {
            "a": (
                "Choosing the best of twenty by test accuracy fits the choice to the test set, so "
                "the estimate is biased upwards."
            ),
            "c": (
                "The selection favours the setting that happened to do well on this test set, so "
                "the estimate errs high, not low."
            ),
            "d": (
                "The test set stopped being held out when it was used to choose; the 97 % is "
                "probably too optimistic."
            ),
        },
    ),
]
