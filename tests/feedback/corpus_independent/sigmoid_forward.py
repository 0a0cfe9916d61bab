"""04 activations: sigmoid_forward(x) -> 1 / (1 + exp(-x))."""

import numpy as np

from ._registry import IN_PLACE, SIGN, right, wrong

EX = "sigmoid_forward"


@wrong(EX, "out", "1 / (1 + exp(x)): sign in the exponent", SIGN + ("exp(-x)", "-x"))
def sf_sign(x):
    return 1 / (1 + np.exp(x))


@wrong(EX, "out", "tanh instead of sigmoid", ("tanh",))
def sf_tanh(x):
    return np.tanh(x)


@wrong(EX, "out", "operator precedence: 1 / 1 + exp(-x)",
       ("parenthes", "bracket", "precedence"))
def sf_precedence(x):
    with np.errstate(over="ignore"):
        return 1 / 1 + np.exp(-x)


# Labelled wrong by its author; right under issue 12's dtype policy (values decide, a
# float64 result for float32 inputs earns a note).
@right(EX)
def sf_float64(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


@wrong(EX, ("x", "out"), "computes in place into x", IN_PLACE)
def sf_in_place(x):
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1
    np.reciprocal(x, out=x)
    return x


@right(EX)
def sf_right_stable_piecewise(x):
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1 + e)
    return out


@right(EX)
def sf_right_tanh_identity(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


@right(EX)
def sf_right_textbook(x):
    # the plain formula: overflows harmlessly to inf for very negative x (with a numpy warning)
    return 1 / (1 + np.exp(-x))
