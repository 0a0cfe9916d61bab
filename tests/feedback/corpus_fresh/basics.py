"""Fresh corpus, notebooks 01-02: neuron_backward, numerical_gradient, relative_error."""

import math

import numpy as np
from corpus._mark import right, wrong


def _sig(z):
    return 1.0 / (1.0 + math.exp(-z))


# --- 01 neuron_backward -------------------------------------------------------------------
@right("neuron_backward")
def neuron_chain_steps(x, w, b):
    z = w * x + b
    f = _sig(z)
    dz = f * (1 - f)
    return dz * w, dz * x, dz


@wrong("neuron_backward", "dx", "sigmoid_derivative")
def neuron_no_sigmoid_grad(x, w, b):
    return w, x, 1.0


@wrong("neuron_backward", "dx", "sigmoid_derivative")
def neuron_sigmoid_as_grad(x, w, b):
    s = _sig(w * x + b)
    return w * s, x * s, s


@wrong("neuron_backward", "dx", "order")
def neuron_swapped_dx_dw(x, w, b):
    s = _sig(w * x + b)
    local = s * (1 - s)
    return x * local, w * local, local


@wrong("neuron_backward", "dx", "output_for_input")
def neuron_z_in_derivative(x, w, b):
    z = w * x + b
    local = z * (1 - z)
    return w * local, x * local, local


# --- 02 numerical_gradient ----------------------------------------------------------------
@right("numerical_gradient")
def numgrad_nditer(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        keep = x[i]
        x[i] = keep + h
        up = f(x)
        x[i] = keep - h
        down = f(x)
        x[i] = keep
        grad[i] = (up - down) / (2 * h)
        it.iternext()
    return grad


@wrong("numerical_gradient", "grad", "forward_difference")
def numgrad_forward(f, x, h=1e-5):
    grad = np.zeros_like(x)
    base = f(x)
    for i in np.ndindex(x.shape):
        keep = x[i]
        x[i] = keep + h
        grad[i] = (f(x) - base) / h
        x[i] = keep
    return grad


@wrong("numerical_gradient", "x", "x_not_restored")
def numgrad_never_restores(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        fp = f(x)
        x[i] -= 2 * h
        fm = f(x)
        grad[i] = (fp - fm) / (2 * h)
    return grad


@wrong("numerical_gradient", "grad", "factor_two")
def numgrad_over_h(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        keep = x[i]
        x[i] = keep + h
        fp = f(x)
        x[i] = keep - h
        fm = f(x)
        x[i] = keep
        grad[i] = (fp - fm) / h
    return grad


@wrong("numerical_gradient", "grad", "sign")
def numgrad_backwards(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        keep = x[i]
        x[i] = keep - h
        a = f(x)
        x[i] = keep + h
        b = f(x)
        x[i] = keep
        grad[i] = (a - b) / (2 * h)
    return grad


@wrong("numerical_gradient", "grad", "shape")
def numgrad_flat(f, x, h=1e-5):
    flat = x.reshape(-1)
    grad = np.zeros(flat.size)
    for k in range(flat.size):
        keep = flat[k]
        flat[k] = keep + h
        fp = f(x)
        flat[k] = keep - h
        fm = f(x)
        flat[k] = keep
        grad[k] = (fp - fm) / (2 * h)
    return grad


# --- 02 relative_error --------------------------------------------------------------------
@right("relative_error")
def relerr_loop(a, b):
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    worst = 0.0
    for u, v in zip(a, b, strict=True):
        worst = max(worst, abs(u - v) / max(1e-8, abs(u) + abs(v)))
    return worst


@wrong("relative_error", "error", "mean_not_max")
def relerr_mean(a, b):
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@wrong("relative_error", "error", "no_abs")
def relerr_abs_of_sum(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b))))


@wrong("relative_error", "error", "no_floor")
def relerr_no_floor(a, b):
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


@wrong("relative_error", "error", "not_reduced")
def relerr_elementwise(a, b):
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
