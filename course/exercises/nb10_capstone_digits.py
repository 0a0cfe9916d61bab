"""Notebook 10, the capstone: the trained digits model, three concept questions."""

from __future__ import annotations

import contextlib
import functools
import io
from typing import Any

import numpy as np

from course._diagnose import CheckFailure, quiet
from course.exercises import Exercise
from course.exercises._shared import choice

NOTEBOOK = "10-capstone-digits"

DIGITS_TARGET = 0.95


@functools.cache
def _digits_test_split() -> tuple[np.ndarray, np.ndarray]:
    from course.datasets import load_digits, train_test_split

    x, y = load_digits()
    _, x_test, _, y_test = train_test_split(x, y, test_fraction=0.2, seed=0)
    return x_test, y_test


def _a(digit: int) -> str:
    return "an" if digit == 8 else "a"


def _judge(model: Any) -> None:
    """Check a trained model on the held-out digits test split: >= 95 % accuracy needed.

    model: a Sequential (or any callable) mapping x (N, 64) to class scores (N, 10).
    It is evaluated in eval mode (dropout off, batch norm running statistics) and put back
    into the mode it was in.
    """
    __tracebackhide__ = True
    name = "digits model"
    x_test, y_test = _digits_test_split()
    forward = getattr(model, "forward", None) if not callable(model) else model
    if forward is None or not callable(forward):
        raise CheckFailure(
            f"check_digits_model needs your trained model (for example the "
            f"Sequential you trained), got {type(model).__name__}.",
            exercise=name,
            mistake="not_a_model",
        )
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with quiet():
            scores = forward(x_test.copy())
    except Exception as exc:  # noqa: BLE001 - any error becomes a readable failure
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckFailure(
            f"{name}: calling your model on the test images (shape "
            f"{x_test.shape}) raised {type(exc).__name__}: {msg}",
            exercise=name,
            mistake="raised",
        ) from None
    finally:
        if was_training is True and hasattr(model, "train"):
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
            f"image, as model.predict gives. It should be class scores of shape ({n}, 10): "
            "pass the model itself, not its predict function.",
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
    pred = scores.argmax(axis=1)
    acc = float(np.mean(pred == y_test))
    if acc < 0.2:
        raise CheckFailure(
            f"{name}: accuracy {acc:.1%} on the {n} held-out test images, about chance (10 % "
            "for 10 classes): the model looks untrained. Did you call fit on this model, the "
            "same object you pass here, and did the loss go down?",
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
            f"{name}: accuracy {acc:.1%} on the {n} held-out test images; at least "
            f"{DIGITS_TARGET:.0%} is needed.{hint}\n    Ideas: train for more epochs, tune the "
            "learning rate (plot the loss), widen the hidden layer, or try Adam.",
            exercise=name,
            output="accuracy",
            mistake="low_accuracy",
        )
    print(
        f"{name}: accuracy {acc:.1%} on the {n} held-out test images "
        f"(target {DIGITS_TARGET:.0%}). Well done!"
    )


def _strict(model: Any) -> None:
    """The grading check: the accuracy recomputed with the course's own layer code on the
    held-out split (nothing the notebook computed), for a Sequential of course layers."""
    import course

    name = "digits model"
    x_test, y_test = _digits_test_split()
    allowed = (
        course.Linear,
        course.ReLU,
        course.Sigmoid,
        course.Tanh,
        course.BatchNorm1d,
        course.Dropout,
    )

    def fail(message: str, tag: str) -> CheckFailure:
        return CheckFailure(f"{name}: {message}", exercise=name, output="model", mistake=tag)

    if type(model) is not course.Sequential:
        raise fail(
            f"the graded model must be a course Sequential; got {type(model).__name__}.",
            "not_a_model",
        )
    h = np.array(x_test, dtype=np.float64)
    for layer in model.layers:
        if type(layer) not in allowed:
            raise fail(f"the model contains an unexpected {type(layer).__name__}.", "layer")
        course.Layer.eval(layer)
        with quiet():
            h = type(layer).forward(layer, h)
    h = np.asarray(h)
    if h.shape != (len(y_test), 10):
        raise fail(f"the model outputs shape {h.shape}, expected ({len(y_test)}, 10).", "shape")
    acc = float(np.mean(h.argmax(axis=1) == y_test))
    if acc < DIGITS_TARGET:
        raise fail(
            f"held-out accuracy {acc:.1%} (recomputed with the course's layers) is below "
            f"{DIGITS_TARGET:.0%}.",
            "low_accuracy",
        )


def digits_check(model: Any, strict: bool = False) -> CheckFailure | None:
    """check_digits_model's judgement (strict=False), or the grading recomputation (strict=True).
    Returns the CheckFailure, or None after printing one line."""
    __tracebackhide__ = True
    try:
        if strict:
            with contextlib.redirect_stdout(io.StringIO()):
                _strict(model)
        else:
            _judge(model)
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
        title="Exercise 1: train a digits model to at least 95 % test accuracy",
        model_check=digits_check,
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
