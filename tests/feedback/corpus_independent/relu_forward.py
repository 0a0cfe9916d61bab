"""04 activations: relu_forward(x) -> max(0, x)."""

import numpy as np

from ._registry import DTYPE, IN_PLACE, right, wrong

EX = "relu_forward"


@wrong(EX, ("x", "out"), "np.maximum(x, 0, out=x) overwrites the input", IN_PLACE)
def rf_in_place(x):
    return np.maximum(x, 0, out=x)


@wrong(EX, "out", "returns the boolean mask x > 0", DTYPE + ("bool", "mask", "0/1", "ones"))
def rf_mask(x):
    return x > 0


@wrong(EX, "out", "abs(x) instead of max(0, x)", ("negative", "abs"))
def rf_abs(x):
    return np.abs(x)


@wrong(EX, "out", "np.max(x, 0) reduces over axis 0 instead of np.maximum",
       ("np.maximum", "np.max", "axis", "reduc"))
def rf_np_max(x):
    return np.max(x, 0)


@wrong(EX, "out", "leaky ReLU with slope 0.01 for negatives",
       ("negative", "leak", "0.01", "slope"))
def rf_leaky(x):
    return np.where(x > 0, x, 0.01 * x)


@wrong(EX, "out", "clipped to [0, 1]", ("clip", "capped", "above 1", "upper", "large positive"))
def rf_clip(x):
    return np.clip(x, 0, 1)


@right(EX)
def rf_right_mask_multiply(x):
    return x * (x > 0)


@right(EX)
def rf_right_copy_then_zero(x):
    out = x.copy()
    out[out < 0] = 0
    return out
