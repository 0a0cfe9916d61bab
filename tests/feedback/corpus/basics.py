"""Tuning corpus, notebooks 01-02: neuron_backward, numerical_gradient, relative_error."""

import math

import numpy as np

from ._mark import right, wrong


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


# --- neuron_backward ----------------------------------------------------------------------
@right("neuron_backward")
def neuron_textbook(x, w, b):
    s = _sigmoid(w * x + b)
    ds = s * (1 - s)
    return ds * w, ds * x, ds


@right("neuron_backward")
def neuron_numpy_scalars(x, w, b):
    s = 1 / (1 + np.exp(-(w * x + b)))
    return np.float64(w * s * (1 - s)), np.float64(x * s * (1 - s)), np.float64(s * (1 - s))


@wrong("neuron_backward", "dx", "sigmoid_derivative")
def neuron_forgot_sigmoid(x, w, b):
    return w, x, 1.0


@wrong("neuron_backward", "dx", "order")
def neuron_dw_first(x, w, b):
    s = _sigmoid(w * x + b)
    ds = s * (1 - s)
    return ds * x, ds * w, ds


@wrong("neuron_backward", "dx", "output_for_input")
def neuron_z_not_s(x, w, b):
    z = w * x + b
    return w * z * (1 - z), x * z * (1 - z), z * (1 - z)


@wrong("neuron_backward", "dx", "sign")
def neuron_negated(x, w, b):
    s = _sigmoid(w * x + b)
    ds = -s * (1 - s)
    return ds * w, ds * x, ds


@wrong("neuron_backward", "dx", "returned_none")
def neuron_no_return(x, w, b):
    s = _sigmoid(w * x + b)
    _ = s * (1 - s)


@wrong("neuron_backward", "db", "wrong_count")
def neuron_two_values(x, w, b):
    s = _sigmoid(w * x + b)
    return w * s * (1 - s), x * s * (1 - s)


@wrong("neuron_backward", None, "not_started")
def neuron_unfilled(x, w, b):
    raise NotImplementedError()


@wrong("neuron_backward", None, "raised")
def neuron_typo(x, w, b):
    return undefined_name * x  # noqa: F821 - a learner's typo


# --- numerical_gradient -------------------------------------------------------------------
@right("numerical_gradient")
def numgrad_copy_each_time(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(*x.shape):
        xp = x.copy()
        xm = x.copy()
        xp[i] += h
        xm[i] -= h
        grad[i] = (f(xp) - f(xm)) / (2 * h)
    return grad


@right("numerical_gradient")
def numgrad_flat_view(f, x, h=1e-5):
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        fp = f(x)
        flat[k] = old - h
        fm = f(x)
        flat[k] = old
        gflat[k] = (fp - fm) / (2 * h)
    return grad


@right("numerical_gradient")
def numgrad_add_subtract(f, x, h=1e-5):
    # restores by arithmetic: x[i] += h ... x[i] += h, which can differ in the last bit
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        fp = f(x)
        x[i] -= 2 * h
        fm = f(x)
        x[i] += h
        grad[i] = (fp - fm) / (2 * h)
    return grad


@wrong("numerical_gradient", "grad", "forward_difference")
def numgrad_one_sided(f, x, h=1e-5):
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        xp = x.copy()
        xp[i] += h
        grad[i] = (f(xp) - fx) / h
    return grad


@wrong("numerical_gradient", "x", "x_not_restored")
def numgrad_alias_copy(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp = x  # not a copy
        xp[i] += h
        fp = f(xp)
        xm = x
        xm[i] -= 2 * h
        grad[i] = (fp - f(xm)) / (2 * h)
    return grad


@wrong("numerical_gradient", "grad", "factor_two")
def numgrad_divide_by_h(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        grad[i] = (f(xp) - f(xm)) / h
    return grad


@wrong("numerical_gradient", "grad", "shape")
def numgrad_list(f, x, h=1e-5):
    grad = []
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        grad.append((f(xp) - f(xm)) / (2 * h))
    return np.array(grad)


@wrong("numerical_gradient", "grad", "wrong_type")
def numgrad_python_list(f, x, h=1e-5):
    grad = []
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        grad.append((f(xp) - f(xm)) / (2 * h))
    return grad


# --- relative_error -----------------------------------------------------------------------
@right("relative_error")
def relerr_numpy(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@right("relative_error")
def relerr_numpy_scalar_type(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


@wrong("relative_error", "error", "mean_not_max")
def relerr_average(a, b):
    return np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


@wrong("relative_error", "error", "no_abs")
def relerr_plain_sum(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b)))


@wrong("relative_error", "error", "no_floor")
def relerr_zero_division(a, b):
    return np.max(np.abs(a - b) / (np.abs(a) + np.abs(b)))


@wrong("relative_error", "error", "not_reduced")
def relerr_array(a, b):
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


@wrong("relative_error", "error", "wrong_formula")
def relerr_norms(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


# --- fanout_backward (01): q = x * y, r = x + q, f = r * q -------------------------------------
@right("fanout_backward")
def fanout_accumulate(x, y):
    q = x * y
    r = x + q
    dr = q
    dq = r
    dq += dr
    dx = dr
    dx += dq * y
    return dx, dq * x


@right("fanout_backward")
def fanout_expanded(x, y):
    # f = (x + x y) x y = x^2 y + x^2 y^2
    return 2 * x * y + 2 * x * y * y, x * x + 2 * x * x * y


@wrong("fanout_backward", "dx", "fan_out")
def fanout_dq_overwritten(x, y):
    q = x * y
    r = x + q
    dr = q
    dq = r
    dq = dr                            # overwrites the branch through f
    return dr + dq * y, dq * x


@wrong("fanout_backward", "dx", "fan_out")
def fanout_dq_one_branch(x, y):
    q = x * y
    r = x + q
    dq = r                             # forgets the branch through r
    return q + dq * y, dq * x


@wrong("fanout_backward", "dx", "fan_out")
def fanout_dx_overwritten(x, y):
    q = x * y
    r = x + q
    dr = q
    dq = r + dr
    dx = dr
    dx = dq * y                        # overwrites the direct path x -> r
    return dx, dq * x


@wrong("fanout_backward", "dx", "fan_out")
def fanout_dx_direct_only(x, y):
    q = x * y
    r = x + q
    dq = r + q
    return q, dq * x                   # dx forgets the path through q
