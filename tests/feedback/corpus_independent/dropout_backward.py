"""09 deep networks: dropout_backward(dout, mask, p) -> dout * mask / (1 - p)."""

import numpy as np

from ._registry import DOUT_IGNORED, IN_PLACE, right, wrong

EX = "dropout_backward"


@wrong(EX, "dx", "forgot the 1/(1 - p) scaling", ("1 - p", "1-p", "(1 - p)", "scal", "invert"))
def dob_no_scale(dout, mask, p):
    return dout * mask


@wrong(EX, "dx", "upstream gradient ignored", DOUT_IGNORED)
def dob_no_dout(dout, mask, p):
    return mask / (1 - p)


@wrong(EX, "dx", "scales by 1/p", ("1 - p", "1-p", "(1 - p)", "/ p", "1/p"))
def dob_scale_p(dout, mask, p):
    return dout * mask / p


@wrong(EX, "dx", "uses the complement of the mask",
       ("invert", "opposite", "complement", "~mask", "1 - mask", "dropped"))
def dob_inverse_mask(dout, mask, p):
    return dout * (~mask.astype(bool)) / (1 - p)


@wrong(EX, ("dout", "dx"), "multiplies dout in place", IN_PLACE)
def dob_in_place(dout, mask, p):
    dout *= mask
    dout /= 1 - p
    return dout


@wrong(EX, "dx", "multiplies by (1 - p) instead of dividing",
       ("1 - p", "1-p", "(1 - p)", "divid", "multipl"))
def dob_times(dout, mask, p):
    return dout * mask * (1 - p)


@right(EX)
def dob_right_where(dout, mask, p):
    return np.where(mask, dout / (1 - p), 0).astype(dout.dtype, copy=False)


@right(EX)
def dob_right_copy(dout, mask, p):
    dx = np.array(dout, copy=True)
    dx[~np.asarray(mask, dtype=bool)] = 0
    dx /= 1 - p
    return dx
