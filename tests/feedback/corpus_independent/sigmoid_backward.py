"""04 activations: sigmoid_backward(dout, x) -> dx, x is the forward INPUT."""

import numpy as np

from ._registry import DOUT_IGNORED, IN_PLACE, OUTPUT_FOR_INPUT, SIGN, right, wrong

EX = "sigmoid_backward"


def _sig(x):
    return 1 / (1 + np.exp(-x))


@wrong(EX, "dx", "treats x as the sigmoid output: dout * x * (1 - x)", OUTPUT_FOR_INPUT)
def sb_x_as_output(dout, x):
    return dout * x * (1 - x)


@wrong(EX, "dx", "upstream gradient ignored", DOUT_IGNORED)
def sb_no_dout(dout, x):
    s = _sig(x)
    return s * (1 - s)


@wrong(EX, "dx", "forgot the (1 - s) factor", ("(1 -", "1 - s", "1-s", "1 - σ", "derivative"))
def sb_missing_one_minus(dout, x):
    return dout * _sig(x)


@wrong(EX, "dx", "sign flipped: s * (s - 1)", SIGN)
def sb_sign(dout, x):
    s = _sig(x)
    return dout * s * (s - 1)


@wrong(EX, ("dout", "dx"), "multiplies into dout in place", IN_PLACE)
def sb_in_place(dout, x):
    s = _sig(x)
    dout *= s * (1 - s)
    return dout


@wrong(EX, "dx", "uses the tanh derivative 1 - s^2", ("tanh", "1 - s^2", "1 - s**2", "square"))
def sb_tanh_derivative(dout, x):
    s = _sig(x)
    return dout * (1 - s**2)


@right(EX)
def sb_right_exp_form(dout, x):
    e = np.exp(-np.abs(x))  # stable: sigma'(x) = e / (1 + e)^2 is symmetric in x
    return dout * e / (1 + e) ** 2


@right(EX)
def sb_right_in_place_on_copy(dout, x):
    s = 0.5 * (1 + np.tanh(0.5 * x))
    dx = dout.copy()
    dx *= s
    dx *= 1 - s
    return dx
