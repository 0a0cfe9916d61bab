"""07 learning rate: sgd_step(w, dw, lr) -> w - lr * dw (w unchanged)."""

import numpy as np

from ._registry import IN_PLACE, SIGN, right, wrong

EX = "sgd_step"
W = ("w_new", "w", "returned w")


@wrong(EX, W, "updates w in place and returns it", IN_PLACE)
def sgd_in_place(w, dw, lr):
    w -= lr * dw
    return w


@wrong(EX, W, "gradient ascent: w + lr * dw", SIGN + ("ascent",))
def sgd_sign(w, dw, lr):
    return w + lr * dw


@wrong(EX, W, "learning rate forgotten",
       ("learning rate", "forgot lr", "lr missing", "without lr", "factor of lr", "factor lr",
        "by lr", "1/lr", "ignor"))
def sgd_no_lr(w, dw, lr):
    return w - dw


@wrong(EX, W, "uses w instead of dw (weight decay only)",
       ("ignor", "instead of dw", "w instead", "not depend on dw", "does not use dw",
        "regardless of dw", "without dw"))
def sgd_uses_w(w, dw, lr):
    return w - lr * w


@wrong(EX, W, "returns only the step lr * dw, not the new weights",
       ("step only", "update only", "only the step", "only the update", "the step", "forgot w",
        "without w", "subtract", "w -"))
def sgd_step_only(w, dw, lr):
    return lr * dw


@right(EX)
def sgd_right_subtract(w, dw, lr):
    return np.subtract(w, np.multiply(lr, dw, dtype=np.result_type(w, dw)))


@right(EX)
def sgd_right_copy_in_place(w, dw, lr):
    out = w.copy()
    out -= lr * dw
    return out
