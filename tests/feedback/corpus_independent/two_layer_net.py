"""06 backprop network: two_layer_net(x, labels, W1, b1, W2, b2) -> (loss, grads dict)."""

import numpy as np

from ._registry import AXIS, BATCH_MEAN, TRANSPOSE, right, wrong

EX = "two_layer_net"
L1 = ("W1", "dW1", "b1", "db1")
RELU = ("relu", "mask", "hidden")


def _forward(x, labels, W1, b1, W2, b2):
    z = x @ W1 + b1
    h = np.maximum(z, 0)
    s = h @ W2 + b2
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -float(np.mean(np.log(p[np.arange(n), labels])))
    ds = p.copy()
    ds[np.arange(n), labels] -= 1
    ds /= n
    return z, h, ds, loss


@wrong(EX, L1, "ReLU mask missing in the backward pass", RELU)
def tln_no_relu_mask(x, labels, W1, b1, W2, b2):
    z, h, ds, loss = _forward(x, labels, W1, b1, W2, b2)
    dh = ds @ W2.T
    return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}


@wrong(EX, ("W1", "b1", "W2", "b2", "dW1", "dW2", "db1", "db2", "grads"),
       "dscores not divided by N", BATCH_MEAN)
def tln_no_mean(x, labels, W1, b1, W2, b2):
    z, h, ds, loss = _forward(x, labels, W1, b1, W2, b2)
    ds = ds * x.shape[0]
    dh = (ds @ W2.T) * (z > 0)
    return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}


@wrong(EX, ("W2", "dW2"), "dW2 uses the pre-activation z instead of h = relu(z)",
       RELU + ("activation", "pre-activation", "h =", "relu(z)", "after the relu"))
def tln_dw2_pre_activation(x, labels, W1, b1, W2, b2):
    z, h, ds, loss = _forward(x, labels, W1, b1, W2, b2)
    dh = (ds @ W2.T) * (z > 0)
    return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": z.T @ ds, "b2": ds.sum(0)}


@wrong(EX, ("grads", "W1", "keys", "key"), "grads keys named dW1, db1, ... instead of W1, b1, ...",
       ("key", "name"))
def tln_wrong_keys(x, labels, W1, b1, W2, b2):
    z, h, ds, loss = _forward(x, labels, W1, b1, W2, b2)
    dh = (ds @ W2.T) * (z > 0)
    return loss, {"dW1": x.T @ dh, "db1": dh.sum(0), "dW2": h.T @ ds, "db2": ds.sum(0)}


@wrong(EX, ("W1", "dW1"), "dW1 transposed", TRANSPOSE)
def tln_dw1_transposed(x, labels, W1, b1, W2, b2):
    z, h, ds, loss = _forward(x, labels, W1, b1, W2, b2)
    dh = (ds @ W2.T) * (z > 0)
    return loss, {"W1": dh.T @ x, "b1": dh.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}


@wrong(EX, ("b2", "db2"), "db2 summed over axis 1", AXIS)
def tln_db2_axis(x, labels, W1, b1, W2, b2):
    z, h, ds, loss = _forward(x, labels, W1, b1, W2, b2)
    dh = (ds @ W2.T) * (z > 0)
    return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ ds, "b2": ds.sum(1)}


@wrong(EX, "loss", "loss summed over the batch", BATCH_MEAN + ("mean", "sum"))
def tln_loss_sum(x, labels, W1, b1, W2, b2):
    z, h, ds, loss = _forward(x, labels, W1, b1, W2, b2)
    dh = (ds @ W2.T) * (z > 0)
    return loss * x.shape[0], {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}


@wrong(EX, ("W1", "dW1", "b1", "db1"), "ReLU backward multiplies by h instead of the 0/1 mask",
       RELU + ("0/1", "indicator", "multiplied by h", "times h", "step"))
def tln_mask_times_h(x, labels, W1, b1, W2, b2):
    z, h, ds, loss = _forward(x, labels, W1, b1, W2, b2)
    dh = (ds @ W2.T) * h  # multiplies by the activation instead of its 0/1 derivative
    return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}


@right(EX)
def tln_right_post_activation_mask(x, labels, W1, b1, W2, b2):
    h = np.maximum(x @ W1 + b1, 0)
    s = h @ W2 + b2
    s -= s.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -float(logp[np.arange(n), labels].mean())
    ds = np.exp(logp)
    ds[np.arange(n), labels] -= 1
    ds /= n
    dh = ds @ W2.T
    dh[h <= 0] = 0  # h > 0 exactly where z > 0
    return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}


@right(EX)
def tln_right_einsum(x, labels, W1, b1, W2, b2):
    z = np.einsum("nd,dh->nh", x, W1) + b1
    h = z * (z > 0)
    s = np.einsum("nh,hc->nc", h, W2) + b2
    m = s.max(axis=1, keepdims=True)
    e = np.exp(s - m)
    p = e / e.sum(axis=1, keepdims=True)
    n, c = s.shape
    y = np.eye(c, dtype=s.dtype)[labels]
    loss = float(-np.einsum("nc,nc->", y, np.log(p)) / n)
    ds = (p - y) / n
    dh = np.einsum("nc,hc->nh", ds, W2) * (z > 0)
    return loss, {
        "W2": np.einsum("nh,nc->hc", h, ds),
        "b2": np.einsum("nc->c", ds),
        "W1": np.einsum("nd,nh->dh", x, dh),
        "b1": np.einsum("nh->h", dh),
    }
