"""Fresh corpus, notebooks 06-07: two_layer_net and gradient_descent."""

import numpy as np
from corpus._mark import right, wrong


def _probs(scores):
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _net(x, labels, W1, b1, W2, b2, *, mask=True, average=True, onehot=True, keys="plain"):
    n = x.shape[0]
    pre = x @ W1 + b1
    h = np.maximum(pre, 0)
    scores = h @ W2 + b2
    p = _probs(scores)
    loss = float(-np.mean(np.log(p[np.arange(n), labels])))
    ds = p.copy()
    if onehot:
        ds[np.arange(n), labels] -= 1
    if average:
        ds /= n
    dW2 = h.T @ ds
    db2 = ds.sum(axis=0)
    dh = ds @ W2.T
    if mask:
        dh = dh * (pre > 0)
    dW1 = x.T @ dh
    db1 = dh.sum(axis=0)
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    if keys == "d":
        grads = {"d" + k: g for k, g in grads.items()}
    return loss, grads


@right("two_layer_net")
def net_straight(x, labels, W1, b1, W2, b2):
    return _net(x, labels, W1, b1, W2, b2)


@wrong("two_layer_net", 'grads["W1"]', "missing_relu_mask")
def net_no_mask(x, labels, W1, b1, W2, b2):
    return _net(x, labels, W1, b1, W2, b2, mask=False)


@wrong("two_layer_net", 'grads["W1"]', "batch_size")
def net_not_averaged(x, labels, W1, b1, W2, b2):
    return _net(x, labels, W1, b1, W2, b2, average=False)


@wrong("two_layer_net", "grads", "dict_keys")
def net_d_keys(x, labels, W1, b1, W2, b2):
    return _net(x, labels, W1, b1, W2, b2, keys="d")


@wrong("two_layer_net", 'grads["W1"]', "one_hot")
def net_no_onehot(x, labels, W1, b1, W2, b2):
    return _net(x, labels, W1, b1, W2, b2, onehot=False)


@right("gradient_descent")
def gd_while(loss_and_grad, w0, lr, steps):
    w = np.array(w0, dtype=float)
    history = []
    k = 0
    while k < steps:
        value, grad = loss_and_grad(w)
        history.append(float(value))
        w = w - lr * grad
        k += 1
    return w, history


@wrong("gradient_descent", "losses", "losses_after_step")
def gd_record_after(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        _, g = loss_and_grad(w)
        w = w - lr * g
        losses.append(loss_and_grad(w)[0])
    return w, losses


@wrong("gradient_descent", "w", "sign")
def gd_ascent(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        loss, g = loss_and_grad(w)
        losses.append(loss)
        w = w + lr * g
    return w, losses


@wrong("gradient_descent", "w0", "mutates_input")
def gd_alias(loss_and_grad, w0, lr, steps):
    w = w0
    losses = []
    for _ in range(steps):
        loss, g = loss_and_grad(w)
        losses.append(loss)
        w -= lr * g
    return w, losses


@wrong("gradient_descent", "losses", "off_by_one")
def gd_extra_loss(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        loss, g = loss_and_grad(w)
        losses.append(loss)
        w = w - lr * g
    losses.append(loss_and_grad(w)[0])
    return w, losses
