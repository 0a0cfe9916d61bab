"""Fresh corpus, notebooks 03-04: linear, ReLU, sigmoid, tanh."""

import numpy as np
from corpus._mark import right, wrong


# --- linear_forward -----------------------------------------------------------------------
@right("linear_forward")
def linear_fwd_dot(x, W, b):
    return np.dot(x, W) + b[None, :]


@wrong("linear_forward", "out", "missing_bias")
def linear_fwd_no_bias(x, W, b):
    return x @ W


@wrong("linear_forward", "out", "sign")
def linear_fwd_minus_b(x, W, b):
    return x @ W - b


@wrong("linear_forward", "out", "transposed")
def linear_fwd_columns(x, W, b):
    return W.T @ x.T + b[:, None]


# --- linear_backward ----------------------------------------------------------------------
@right("linear_backward")
def linear_bwd_tensordot(dout, x, W, b):
    dx = np.tensordot(dout, W, axes=([1], [1]))
    dW = np.tensordot(x, dout, axes=([0], [0]))
    db = np.add.reduce(dout, axis=0)
    return dx, dW, db


@wrong("linear_backward", "dW", "batch_size")
def linear_bwd_dW_avg(dout, x, W, b):
    n = x.shape[0]
    return dout @ W.T, x.T @ dout / n, dout.sum(axis=0)


@wrong("linear_backward", "db", "reduction_axis")
def linear_bwd_db_rows(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.sum(axis=1)


@wrong("linear_backward", "dW", "transposed")
def linear_bwd_dW_T(dout, x, W, b):
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)


@wrong("linear_backward", "dx", "order")
def linear_bwd_order(dout, x, W, b):
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dW, dx, db


@wrong("linear_backward", "dx", "dout_ignored")
def linear_bwd_ones(dout, x, W, b):
    g = np.ones_like(dout)
    return g @ W.T, x.T @ g, g.sum(axis=0)


@wrong("linear_backward", "db", "batch_size")
def linear_bwd_db_mean(dout, x, W, b):
    return dout @ W.T, x.T @ dout, np.mean(dout, axis=0)


@wrong("linear_backward", "dx", "sign")
def linear_bwd_negated(dout, x, W, b):
    return -(dout @ W.T), -(x.T @ dout), -dout.sum(axis=0)


# --- relu ---------------------------------------------------------------------------------
@right("relu_forward")
def relu_fwd_where(x):
    return np.where(x > 0, x, 0.0)


@wrong("relu_forward", "out", "mask_not_output")
def relu_fwd_mask(x):
    return (x > 0).astype(float)


@wrong("relu_forward", "x", "mutates_input")
def relu_fwd_inplace(x):
    x[x < 0] = 0
    return x


@wrong("relu_forward", "out", "leaky")
def relu_fwd_leaky(x):
    return np.maximum(x, 0.01 * x)


@right("relu_backward")
def relu_bwd_copy_then_zero(dout, x):
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx


@wrong("relu_backward", "dx", "times_input")
def relu_bwd_times_x(dout, x):
    return dout * np.maximum(x, 0)


@wrong("relu_backward", "dx", "dout_ignored")
def relu_bwd_mask_only(dout, x):
    return (x > 0).astype(float)


@wrong("relu_backward", "dout", "mutates_input")
def relu_bwd_alias(dout, x):
    dx = dout
    dx[x <= 0] = 0
    return dx


@wrong("relu_backward", "dx", "inverted_mask")
def relu_bwd_flipped_mask(dout, x):
    return dout * (x < 0)


# --- sigmoid ------------------------------------------------------------------------------
@right("sigmoid_forward")
def sigmoid_fwd_exp_ratio(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@wrong("sigmoid_forward", "out", "sign")
def sigmoid_fwd_sign(x):
    return 1 / (1 + np.exp(x))


@wrong("sigmoid_forward", "out", "wrong_function")
def sigmoid_fwd_tanh(x):
    return np.tanh(x)


@right("sigmoid_backward")
def sigmoid_bwd_via_forward(dout, x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s) * dout


@wrong("sigmoid_backward", "dx", "output_for_input")
def sigmoid_bwd_x_as_s(dout, x):
    return dout * x * (1 - x)


@wrong("sigmoid_backward", "dx", "dout_ignored")
def sigmoid_bwd_no_dout(dout, x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)


@wrong("sigmoid_backward", "dx", "sigmoid_derivative")
def sigmoid_bwd_just_s(dout, x):
    s = 1 / (1 + np.exp(-x))
    return dout * s


# --- tanh ---------------------------------------------------------------------------------
# Labelled right until issue 12: it gives nan for |x| above about 355 (e^x overflows), which
# the check now tests, so it is a fragile answer.
@wrong("tanh_forward", "out", "overflow")
def tanh_fwd_exp(x):
    a, c = np.exp(x), np.exp(-x)
    return (a - c) / (a + c)


@wrong("tanh_forward", "out", "wrong_function")
def tanh_fwd_two_sigmoid(x):
    return 2 / (1 + np.exp(-x)) - 1


@right("tanh_backward")
def tanh_bwd_cosh(dout, x):
    return dout / np.cosh(x) ** 2


@wrong("tanh_backward", "dx", "output_for_input")
def tanh_bwd_x_as_t(dout, x):
    return dout * (1 - x**2)


@wrong("tanh_backward", "dx", "tanh_derivative")
def tanh_bwd_not_squared(dout, x):
    return dout * (1 - np.tanh(x))


@wrong("tanh_backward", "dx", "dout_ignored")
def tanh_bwd_no_dout(dout, x):
    return 1 - np.tanh(x) ** 2


@wrong("tanh_backward", "dx", "tanh_derivative")
def tanh_bwd_plus(dout, x):
    return dout * (1 + np.tanh(x) ** 2)
