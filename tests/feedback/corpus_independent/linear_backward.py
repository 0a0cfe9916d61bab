"""03 linear layer: linear_backward(dout, x, W, b) -> (dx, dW, db)."""

import numpy as np

from ._registry import (
    AXIS,
    BATCH_MEAN,
    DOUT_IGNORED,
    IN_PLACE,
    ORDER,
    SIGN,
    TRANSPOSE,
    right,
    wrong,
)

EX = "linear_backward"


@wrong(EX, "dW", "dW divided by the batch size", BATCH_MEAN)
def lb_dw_mean(dout, x, W, b):
    return dout @ W.T, x.T @ dout / x.shape[0], dout.sum(axis=0)


@wrong(EX, "dW", "dW transposed: dout.T @ x", TRANSPOSE)
def lb_dw_transposed(dout, x, W, b):
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)


@wrong(EX, "dx", "dx transposed: W @ dout.T", TRANSPOSE)
def lb_dx_transposed(dout, x, W, b):
    return W @ dout.T, x.T @ dout, dout.sum(axis=0)


@wrong(EX, "dx", "dx = dout @ W (forgot the transpose, crashes on shapes)",
       TRANSPOSE + ("W.T",))
def lb_dx_no_transpose(dout, x, W, b):
    return dout @ W, x.T @ dout, dout.sum(axis=0)


@wrong(EX, "db", "db summed over the wrong axis (axis=1)", AXIS)
def lb_db_axis1(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.sum(axis=1)


@wrong(EX, "db", "db is the mean over the batch instead of the sum", BATCH_MEAN + ("mean",))
def lb_db_mean(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)


@wrong(EX, "db", "db summed over every axis (a scalar)",
       AXIS + ("scalar", "all entries", "every axis", "all axes", "everything"))
def lb_db_scalar(dout, x, W, b):
    return dout @ W.T, x.T @ dout, np.sum(dout)


@wrong(EX, "db", "db not summed over the batch (returns dout)",
       AXIS + ("sum over", "summed over", "sum it over", "reduce", "over the batch"))
def lb_db_not_summed(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout


@wrong(EX, ("dx", "dW"), "returns (dW, dx, db): wrong order", ORDER)
def lb_order(dout, x, W, b):
    return x.T @ dout, dout @ W.T, dout.sum(axis=0)


@wrong(EX, "dx", "upstream gradient ignored (uses ones)", DOUT_IGNORED)
def lb_ignores_dout(dout, x, W, b):
    ones = np.ones_like(dout)
    return ones @ W.T, x.T @ ones, ones.sum(axis=0)


@wrong(EX, "dW", "sign flipped on dW", SIGN)
def lb_dw_sign(dout, x, W, b):
    return dout @ W.T, -(x.T @ dout), dout.sum(axis=0)


@wrong(EX, "dW", "L2 regularisation term added to dW",
       ("regulari", "weight decay", "extra term", "proportional to w", "+ w", "reg"))
def lb_dw_reg(dout, x, W, b):
    return dout @ W.T, x.T @ dout + 0.1 * W, dout.sum(axis=0)


# Labelled wrong by its author; right under issue 12's dtype policy (values decide, a
# float64 result for float32 inputs earns a note).
@right(EX)
def lb_float64(dout, x, W, b):
    d = dout.astype(np.float64)
    return d @ W.T.astype(np.float64), x.T.astype(np.float64) @ d, d.sum(axis=0)


@wrong(EX, "W", "applies an SGD update to W inside backward (mutates W)", IN_PLACE)
def lb_updates_w(dout, x, W, b):
    dW = x.T @ dout
    dx = dout @ W.T
    W -= 0.1 * dW
    return dx, dW, dout.sum(axis=0)


@right(EX)
def lb_right_einsum(dout, x, W, b):
    dx = np.einsum("nm,dm->nd", dout, W)
    dW = np.einsum("nd,nm->dm", x, dout)
    db = np.einsum("nm->m", dout)
    return dx, dW, db


@right(EX)
def lb_right_loops(dout, x, W, b):
    n, d = x.shape
    m = W.shape[1]
    dx = np.zeros_like(x)
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    for i in range(n):
        dx[i] = W @ dout[i]
        dW += np.outer(x[i], dout[i])
        db += dout[i]
    assert dx.shape == (n, d) and dW.shape == (d, m)
    return dx, dW, db


@right(EX)
def lb_right_dot_float32_safe(dout, x, W, b):
    dx = np.dot(dout, W.T).astype(x.dtype, copy=False)
    dW = np.dot(x.T, dout).astype(W.dtype, copy=False)
    db = np.add.reduce(dout, axis=0).astype(b.dtype, copy=False)
    return dx, dW, db
