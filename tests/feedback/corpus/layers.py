"""Tuning corpus, notebooks 03-04: linear, ReLU, sigmoid and tanh layers."""

import numpy as np

from ._mark import right, wrong


# --- linear_forward -----------------------------------------------------------------------
@right("linear_forward")
def lin_fwd_matmul(x, W, b):
    return x @ W + b


@right("linear_forward")
def lin_fwd_einsum(x, W, b):
    return np.einsum("nd,dm->nm", x, W) + b


@right("linear_forward")
def lin_fwd_loops(x, W, b):
    n, d = x.shape
    m = W.shape[1]
    out = np.zeros((n, m), dtype=np.result_type(x, W, b))
    for i in range(n):
        for j in range(m):
            out[i, j] = sum(x[i, k] * W[k, j] for k in range(d)) + b[j]
    return out


@wrong("linear_forward", "out", "missing_bias")
def lin_fwd_no_b(x, W, b):
    return x @ W


@wrong("linear_forward", "out", "transposed")
def lin_fwd_transposed(x, W, b):
    return (x @ W + b).T


@wrong("linear_forward", "out", "wrong_type")
def lin_fwd_list(x, W, b):
    return (x @ W + b).tolist()


# float32 for float64 inputs, values within the tolerance: right, with a note (issue 12's
# dtype policy: values decide).
@right("linear_forward")
def lin_fwd_float32(x, W, b):
    return (x @ W + b).astype(np.float32)


@wrong("linear_forward", "out", "transposed")
def lin_fwd_wrong_product(x, W, b):
    return W @ x + b


# --- linear_backward ----------------------------------------------------------------------
@right("linear_backward")
def lin_bwd_matmul(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


@right("linear_backward")
def lin_bwd_einsum(dout, x, W, b):
    return (
        np.einsum("nm,dm->nd", dout, W),
        np.einsum("nd,nm->dm", x, dout),
        np.einsum("nm->m", dout),
    )


@right("linear_backward")
def lin_bwd_loops(dout, x, W, b):
    n, d = x.shape
    m = W.shape[1]
    dx = np.zeros((n, d), dtype=dout.dtype)
    dW = np.zeros((d, m), dtype=dout.dtype)
    db = np.zeros(m, dtype=dout.dtype)
    for i in range(n):
        dx[i] = W @ dout[i]
        dW += np.outer(x[i], dout[i])
        db += dout[i]
    return dx, dW, db


@right("linear_backward")
def lin_bwd_inplace_on_new_arrays(dout, x, W, b):
    dW = x.T @ dout
    db = np.zeros_like(b)
    db += dout.sum(axis=0)  # in place on our own array: fine
    dx = dout @ W.T
    dx *= 1.0
    return dx, dW, db


@wrong("linear_backward", "dW", "batch_size")
def lin_bwd_mean_dW(dout, x, W, b):
    n = x.shape[0]
    return dout @ W.T, x.T @ dout / n, dout.sum(axis=0)


@wrong("linear_backward", "db", "batch_size")
def lin_bwd_mean_db(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)


@wrong("linear_backward", "dx", "batch_size")
def lin_bwd_all_mean(dout, x, W, b):
    n = x.shape[0]
    return dout @ W.T / n, x.T @ dout / n, dout.sum(axis=0) / n


@wrong("linear_backward", "dW", "transposed")
def lin_bwd_dW_wrong_order(dout, x, W, b):
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)


@wrong("linear_backward", "dx", "transposed")
def lin_bwd_dx_transposed(dout, x, W, b):
    return W @ dout.T, x.T @ dout, dout.sum(axis=0)


@wrong("linear_backward", "db", "reduction_axis")
def lin_bwd_db_axis1(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.sum(axis=1)


@wrong("linear_backward", "db", "reduction_axis")
def lin_bwd_db_all(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.sum()


@wrong("linear_backward", "db", "reduction_axis")
def lin_bwd_db_keepdims(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.sum(axis=0, keepdims=True)


@wrong("linear_backward", "dx", "sign")
def lin_bwd_minus(dout, x, W, b):
    return -dout @ W.T, -x.T @ dout, -dout.sum(axis=0)


@wrong("linear_backward", "dx", "dout_ignored")
def lin_bwd_no_dout(dout, x, W, b):
    ones = np.ones(dout.shape)
    return ones @ W.T, x.T @ ones, ones.sum(axis=0)


@wrong("linear_backward", "db", "dout_ignored")
def lin_bwd_db_count(dout, x, W, b):
    return dout @ W.T, x.T @ dout, np.full(b.shape, float(x.shape[0]))


@wrong("linear_backward", "dx", "order")
def lin_bwd_order(dout, x, W, b):
    return x.T @ dout, dout @ W.T, dout.sum(axis=0)


@wrong("linear_backward", "dx", "order")
def lin_bwd_db_first(dout, x, W, b):
    return dout.sum(axis=0), dout @ W.T, x.T @ dout


@wrong("linear_backward", "db", "wrong_count")
def lin_bwd_two(dout, x, W, b):
    return dout @ W.T, x.T @ dout


@wrong("linear_backward", "dx", "returned_none")
def lin_bwd_none(dout, x, W, b):
    _ = dout @ W.T


@wrong("linear_backward", "dout", "mutates_input")
def lin_bwd_scale_dout(dout, x, W, b):
    dout /= x.shape[0]  # changes the caller's array
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


@wrong("linear_backward", None, "not_started")
def lin_bwd_todo(dout, x, W, b):
    raise NotImplementedError


# --- relu ---------------------------------------------------------------------------------
@right("relu_forward")
def relu_fwd_maximum(x):
    return np.maximum(x, 0)


@right("relu_forward")
def relu_fwd_mult(x):
    return x * (x > 0)


@right("relu_forward")
def relu_fwd_copy_clip(x):
    out = x.copy()
    out[out < 0] = 0
    return out


@wrong("relu_forward", "x", "mutates_input")
def relu_fwd_clip_in_place(x):
    np.maximum(x, 0, out=x)
    return x


@wrong("relu_forward", "out", "mask_not_output")
def relu_fwd_bool(x):
    return x > 0


@wrong("relu_forward", "out", "inverted_mask")
def relu_fwd_min(x):
    return np.minimum(x, 0)


@right("relu_backward")
def relu_bwd_mult(dout, x):
    return dout * (x > 0)


@right("relu_backward")
def relu_bwd_where(dout, x):
    return np.where(x > 0, dout, 0)


@wrong("relu_backward", "dout", "mutates_input")
def relu_bwd_inplace(dout, x):
    dout[x <= 0] = 0
    return dout


@wrong("relu_backward", "dx", "dout_ignored")
def relu_bwd_no_dout(dout, x):
    return (x > 0).astype(np.float64)


@wrong("relu_backward", "dx", "times_input")
def relu_bwd_times_x(dout, x):
    return dout * x


@wrong("relu_backward", "dx", "dtype")
def relu_bwd_int(dout, x):
    return (dout * (x > 0)).astype(int)


# --- sigmoid ------------------------------------------------------------------------------
@right("sigmoid_forward")
def sig_fwd_plain(x):
    return 1 / (1 + np.exp(-x))


@right("sigmoid_forward")
def sig_fwd_tanh(x):
    return 0.5 * (1 + np.tanh(x / 2))


@wrong("sigmoid_forward", "out", "sign")
def sig_fwd_plus(x):
    return 1 / (1 + np.exp(x))


@right("sigmoid_backward")
def sig_bwd_plain(dout, x):
    s = 1 / (1 + np.exp(-x))
    return dout * s * (1 - s)


@wrong("sigmoid_backward", "dx", "output_for_input")
def sig_bwd_x_is_output(dout, x):
    return dout * x * (1 - x)


@wrong("sigmoid_backward", "dx", "dout_ignored")
def sig_bwd_local_only(dout, x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)


@wrong("sigmoid_backward", "dx", "sigmoid_derivative")
def sig_bwd_one_minus(dout, x):
    s = 1 / (1 + np.exp(-x))
    return dout * (1 - s)


@wrong("sigmoid_backward", "dx", "sign")
def sig_bwd_neg(dout, x):
    s = 1 / (1 + np.exp(-x))
    return dout * s * (s - 1)


# --- tanh ---------------------------------------------------------------------------------
@right("tanh_forward")
def tanh_fwd_np(x):
    return np.tanh(x)


@right("tanh_forward")
def tanh_fwd_sigmoid(x):
    return 2 / (1 + np.exp(-2 * x)) - 1


@wrong("tanh_forward", "out", "wrong_function")
def tanh_fwd_sigmoid_only(x):
    return 1 / (1 + np.exp(-x))


@right("tanh_backward")
def tanh_bwd_plain(dout, x):
    return dout * (1 - np.tanh(x) ** 2)


@right("tanh_backward")
def tanh_bwd_float32_friendly(dout, x):
    t = np.tanh(x)
    one = np.ones_like(t)
    return dout * (one - t * t)


@wrong("tanh_backward", "dx", "output_for_input")
def tanh_bwd_x_is_output(dout, x):
    return dout * (1 - x * x)


@wrong("tanh_backward", "dx", "dout_ignored")
def tanh_bwd_no_dout(dout, x):
    return 1 - np.tanh(x) ** 2


@wrong("tanh_backward", "dx", "tanh_derivative")
def tanh_bwd_no_square(dout, x):
    return dout * (1 - np.tanh(x))


@wrong("tanh_backward", "dx", "sign")
def tanh_bwd_sign(dout, x):
    return dout * (np.tanh(x) ** 2 - 1)
