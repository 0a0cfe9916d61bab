"""04 activations: tanh_backward(dout, x) -> dout * (1 - tanh(x)^2), x is the forward INPUT."""

import numpy as np

from ._registry import DOUT_IGNORED, OUTPUT_FOR_INPUT, SIGN, right, wrong

EX = "tanh_backward"


@wrong(EX, "dx", "treats x as the tanh output: dout * (1 - x^2)", OUTPUT_FOR_INPUT)
def tb_x_as_output(dout, x):
    return dout * (1 - x**2)


@wrong(EX, "dx", "forgot to square: 1 - tanh(x)",
       ("square", "**2", "** 2", "^2", "²", "tanh(x)^2"))
def tb_no_square(dout, x):
    return dout * (1 - np.tanh(x))


@wrong(EX, "dx", "upstream gradient ignored", DOUT_IGNORED)
def tb_no_dout(dout, x):
    return 1 - np.tanh(x) ** 2


@wrong(EX, "dx", "forgot the 1 -: dout * tanh(x)^2", ("1 -", "1 −", "one minus"))
def tb_missing_one_minus(dout, x):
    return dout * np.tanh(x) ** 2


@wrong(EX, "dx", "sign flipped", SIGN)
def tb_sign(dout, x):
    return dout * (np.tanh(x) ** 2 - 1)


@wrong(EX, "dx", "uses the sigmoid derivative", ("sigmoid",))
def tb_sigmoid_derivative(dout, x):
    s = 1 / (1 + np.exp(-x))
    return dout * s * (1 - s)


@right(EX)
def tb_right_cosh(dout, x):
    # 1 - tanh^2 = 1 / cosh^2, written stably via exp(-2|x|)
    e = np.exp(-2 * np.abs(x))
    return dout * 4 * e / (1 + e) ** 2


@right(EX)
def tb_right_einsum(dout, x):
    t = np.tanh(x)
    return np.einsum("ij,ij->ij", dout, 1 - t * t) if dout.ndim == 2 else dout * (1 - t * t)
