"""04 activations: relu_backward(dout, x) -> dout where x > 0 else 0."""

import numpy as np

from ._registry import DOUT_IGNORED, IN_PLACE, ORDER, right, wrong

EX = "relu_backward"


@wrong(EX, ("dout", "dx"), "zeroes dout in place and returns it", IN_PLACE)
def rb_in_place(dout, x):
    dout[x <= 0] = 0
    return dout


@wrong(EX, "dx", "returns the mask, upstream gradient ignored", DOUT_IGNORED)
def rb_mask_only(dout, x):
    return (x > 0).astype(dout.dtype)


@wrong(EX, "dx", "multiplies dout by x instead of by the 0/1 mask",
       ("mask", "indicator", "0 or 1", "0/1", "step", "multiplied by x", "times x", "* x"))
def rb_times_x(dout, x):
    return dout * np.maximum(x, 0)


@wrong(EX, "dx", "mask inverted: passes gradient where x < 0",
       ("invert", "revers", "opposite", "negative entries", "x < 0", "x <= 0", "complement"))
def rb_inverted(dout, x):
    return dout * (x < 0)


@wrong(EX, "dx", "arguments swapped: treats x as dout", ORDER + ("argument",))
def rb_swapped_args(dout, x):
    return x * (dout > 0)


@right(EX)
def rb_right_where(dout, x):
    return np.where(x > 0, dout, np.zeros_like(dout))


@right(EX)
def rb_right_copy_in_place(dout, x):
    dx = np.array(dout, copy=True)
    dx[x <= 0] = 0
    return dx
