"""01 chain rule: neuron_backward(x, w, b) -> (dx, dw, db) of f = sigmoid(w * x + b)."""

import math

from ._registry import ORDER, SIGN, right, wrong

EX = "neuron_backward"
SIGMOID_DERIV = (
    "derivative of the sigmoid", "sigmoid derivative", "derivative of sigmoid", "sigmoid'",
    "(1 - s", "1 - sigmoid", "(1 - σ", "σ'", "local gradient", "s * (1 - s)",
)


def _s(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


@wrong(EX, ("dx", "dw"), "dx and dw returned in swapped order", ORDER)
def neuron_swapped(x, w, b):
    s = _s(w * x + b)
    g = s * (1 - s)
    return g * x, g * w, g


@wrong(EX, "dx", "forgot the sigmoid's derivative (linear part only)", SIGMOID_DERIV)
def neuron_no_sigmoid_derivative(x, w, b):
    return w, x, 1.0


@wrong(EX, "dx", "used sigmoid(z) as its derivative instead of s(1-s)", SIGMOID_DERIV)
def neuron_sigmoid_as_derivative(x, w, b):
    s = _s(w * x + b)
    return s * w, s * x, s


@wrong(EX, "dx", "sign flipped", SIGN)
def neuron_sign(x, w, b):
    s = _s(w * x + b)
    g = s * (1 - s)
    return -g * w, -g * x, -g


@wrong(EX, "dx", "sigmoid derivative evaluated at x instead of at z = w*x + b",
       ("w * x + b", "w*x + b", "w*x+b", "pre-activation", "z =", "at z", "input of the sigmoid",
        "input to the sigmoid"))
def neuron_derivative_at_x(x, w, b):
    s = _s(x)
    g = s * (1 - s)
    return g * w, g * x, g


@wrong(EX, "dx", "chain rule stops at z: forgot to multiply dx by w",
       ("* w", "times w", "multiply by w", "factor w", "factor of w", "chain rule"))
def neuron_dx_missing_w(x, w, b):
    s = _s(w * x + b)
    g = s * (1 - s)
    return g, g * x, g


@right(EX)
def neuron_right_staged(x, w, b):
    # staged forward/backward like a computational graph
    z = w * x + b
    e = math.exp(-z)
    den = 1.0 + e
    # f = 1/den ; df/dden = -1/den^2 ; dden/dz = -e
    dz = (1.0 / den**2) * e
    return dz * w, dz * x, dz * 1.0


@right(EX)
def neuron_right_tanh_identity(x, w, b):
    # sigmoid(z) = (1 + tanh(z/2)) / 2 -> derivative (1 - tanh^2(z/2)) / 4
    t = math.tanh((w * x + b) / 2)
    g = (1 - t * t) / 4
    return (g * w, g * x, g)
