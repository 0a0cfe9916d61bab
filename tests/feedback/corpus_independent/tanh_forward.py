"""04 activations: tanh_forward(x) -> tanh(x)."""

import numpy as np

from ._registry import IN_PLACE, right, wrong

EX = "tanh_forward"


def _sig(x):
    return 1 / (1 + np.exp(-x))


@wrong(EX, "out", "sigmoid instead of tanh", ("sigmoid",))
def tf_sigmoid(x):
    return _sig(x)


@wrong(EX, "out", "2 * sigmoid(x) - 1 (needs sigmoid(2x))",
       ("2x", "2 * x", "x/2", "x / 2", "half", "scale", "stretch", "sigmoid(2"))
def tf_half_scale(x):
    return 2 * _sig(x) - 1


@wrong(EX, "out", "tanh(|x|): loses the sign of negative inputs",
       ("sign", "negative", "abs", "odd"))
def tf_abs(x):
    return np.tanh(np.abs(x))


# Labelled wrong by its author; right under issue 12's dtype policy (values decide, a
# float64 result for float32 inputs earns a note).
@right(EX)
def tf_float64(x):
    return np.tanh(x.astype(np.float64))


@wrong(EX, ("x", "out"), "np.tanh(x, out=x) overwrites the input", IN_PLACE)
def tf_in_place(x):
    return np.tanh(x, out=x)


@right(EX)
def tf_right_sigmoid_identity(x):
    return 2 * _sig(2 * x) - 1


@right(EX)
def tf_right_exp_stable(x):
    e = np.exp(-2 * np.abs(x))
    return np.sign(x) * (1 - e) / (1 + e)
