"""Tuning corpus, notebooks 06-07: two_layer_net, gradient_descent and sgd_step."""

import numpy as np

from ._mark import right, wrong


def _forward_backward(
    x,
    labels,
    W1,
    b1,
    W2,
    b2,
    *,
    relu_mask=True,
    divide=True,
    onehot=True,
    transpose_w1=False,
    b2_axis=0,
):
    n = len(labels)
    z = x @ W1 + b1
    h = np.maximum(0, z)
    s = h @ W2 + b2
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), labels]).mean()
    ds = p
    if onehot:
        ds[np.arange(n), labels] -= 1
    if divide:
        ds = ds / n
    dW2 = h.T @ ds
    db2 = ds.sum(axis=b2_axis)
    dh = ds @ W2.T
    dz = dh * (z > 0) if relu_mask else dh
    dW1 = (dz.T @ x) if transpose_w1 else (x.T @ dz)
    return float(loss), {"W1": dW1, "b1": dz.sum(axis=0), "W2": dW2, "b2": db2}


@right("two_layer_net")
def net_right(x, labels, W1, b1, W2, b2):
    return _forward_backward(x, labels, W1, b1, W2, b2)


@right("two_layer_net")
def net_with_course_functions(x, labels, W1, b1, W2, b2):
    from course import (
        linear_backward,
        linear_forward,
        relu_backward,
        relu_forward,
        softmax_cross_entropy,
    )

    z = linear_forward(x, W1, b1)
    h = relu_forward(z)
    loss, ds = softmax_cross_entropy(linear_forward(h, W2, b2), labels)
    dh, dW2, db2 = linear_backward(ds, h, W2, b2)
    _, dW1, db1 = linear_backward(relu_backward(dh, z), x, W1, b1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


@wrong("two_layer_net", 'grads["W1"]', "missing_relu_mask")
def net_no_relu_backward(x, labels, W1, b1, W2, b2):
    return _forward_backward(x, labels, W1, b1, W2, b2, relu_mask=False)


@wrong("two_layer_net", 'grads["W1"]', "batch_size")
def net_no_divide(x, labels, W1, b1, W2, b2):
    return _forward_backward(x, labels, W1, b1, W2, b2, divide=False)


@wrong("two_layer_net", 'grads["W1"]', "one_hot")
def net_no_onehot(x, labels, W1, b1, W2, b2):
    return _forward_backward(x, labels, W1, b1, W2, b2, onehot=False)


@wrong("two_layer_net", 'grads["W1"]', "transposed")
def net_dW1_transposed(x, labels, W1, b1, W2, b2):
    return _forward_backward(x, labels, W1, b1, W2, b2, transpose_w1=True)


@wrong("two_layer_net", 'grads["b2"]', "reduction_axis")
def net_b2_axis(x, labels, W1, b1, W2, b2):
    return _forward_backward(x, labels, W1, b1, W2, b2, b2_axis=1)


@wrong("two_layer_net", "grads", "dict_keys")
def net_named_dW(x, labels, W1, b1, W2, b2):
    loss, g = _forward_backward(x, labels, W1, b1, W2, b2)
    return loss, {"dW1": g["W1"], "db1": g["b1"], "dW2": g["W2"], "db2": g["b2"]}


@wrong("two_layer_net", "loss", "order")
def net_swapped(x, labels, W1, b1, W2, b2):
    loss, g = _forward_backward(x, labels, W1, b1, W2, b2)
    return g, loss


@wrong("two_layer_net", "grads", "wrong_type")
def net_tuple_grads(x, labels, W1, b1, W2, b2):
    loss, g = _forward_backward(x, labels, W1, b1, W2, b2)
    return loss, (g["W1"], g["b1"], g["W2"], g["b2"])


# --- gradient_descent ---------------------------------------------------------------------
@right("gradient_descent")
def gd_for(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        loss, dw = loss_and_grad(w)
        losses.append(loss)
        w = w - lr * dw
    return w, losses


@right("gradient_descent")
def gd_inplace_on_copy(loss_and_grad, w0, lr, steps):
    w = np.array(w0, copy=True)
    losses = np.zeros(steps)
    for i in range(steps):
        losses[i], dw = loss_and_grad(w)
        w -= lr * dw  # in place, but on our own copy
    return w, list(losses)


@wrong("gradient_descent", "losses", "losses_after_step")
def gd_after(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        _, dw = loss_and_grad(w)
        w = w - lr * dw
        loss, _ = loss_and_grad(w)
        losses.append(loss)
    return w, losses


@wrong("gradient_descent", "w0", "mutates_input")
def gd_in_place(loss_and_grad, w0, lr, steps):
    losses = []
    for _ in range(steps):
        loss, dw = loss_and_grad(w0)
        losses.append(loss)
        w0 -= lr * dw
    return w0, losses


@wrong("gradient_descent", "w", "sign")
def gd_uphill(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        loss, dw = loss_and_grad(w)
        losses.append(loss)
        w = w + lr * dw
    return w, losses


@wrong("gradient_descent", "losses", "off_by_one")
def gd_initial_and_final(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = [loss_and_grad(w)[0]]
    for _ in range(steps):
        _, dw = loss_and_grad(w)
        w = w - lr * dw
        losses.append(loss_and_grad(w)[0])
    return w, losses


@wrong("gradient_descent", "w", "not_updated")
def gd_forgets_assignment(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        loss, dw = loss_and_grad(w)
        losses.append(loss)
        _ = w - lr * dw
    return w, losses


# --- sgd_step -----------------------------------------------------------------------------
@right("sgd_step")
def sgd_plain(w, dw, lr):
    return w - lr * dw


@right("sgd_step")
def sgd_copy_then_inplace(w, dw, lr):
    out = w.copy()
    out -= lr * dw
    return out


@wrong("sgd_step", "w", "mutates_input")
def sgd_in_place(w, dw, lr):
    w -= lr * dw
    return w


@wrong("sgd_step", "w", "mutates_input")
def sgd_in_place_no_return(w, dw, lr):
    w -= lr * dw


@wrong("sgd_step", "w", "sign")
def sgd_ascent(w, dw, lr):
    return w + lr * dw


@wrong("sgd_step", "w", "returned_step")
def sgd_step_only(w, dw, lr):
    return lr * dw


@wrong("sgd_step", "w", "returned_none")
def sgd_forgot_return(w, dw, lr):
    _ = w - lr * dw


@right("two_layer_net")
def net_inline(x, labels, W1, b1, W2, b2):
    n = x.shape[0]
    z = x @ W1 + b1
    h = np.maximum(z, 0)
    scores = h @ W2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), labels]).mean()
    dscores = p.copy()
    dscores[np.arange(n), labels] -= 1
    dscores /= n
    dh = dscores @ W2.T
    dz = dh * (z > 0)
    return float(loss), {
        "W1": x.T @ dz,
        "b1": dz.sum(axis=0),
        "W2": h.T @ dscores,
        "b2": dscores.sum(axis=0),
    }


# --- sgd_epoch (07): one epoch of minibatch SGD ---------------------------------------------
@right("sgd_epoch")
def epoch_slices(w, x, y, grad_fn, lr, batch_size, rng):
    order = rng.permutation(len(x))
    losses = []
    for start in range(0, len(x), batch_size):
        batch = order[start:start + batch_size]
        loss, dw = grad_fn(w, x[batch], y[batch])
        losses.append(loss)
        w = w - lr * dw
    return w, losses


@right("sgd_epoch")
def epoch_shuffled_copies(w, x, y, grad_fn, lr, batch_size, rng):
    order = rng.permutation(x.shape[0])
    xs, ys = x[order], y[order]
    w = w.copy()
    losses = []
    n_batches = int(np.ceil(len(x) / batch_size))
    for k in range(n_batches):
        loss, dw = grad_fn(w, xs[k * batch_size:(k + 1) * batch_size],
                           ys[k * batch_size:(k + 1) * batch_size])
        losses.append(float(loss))
        w -= lr * dw
    return w, losses


@wrong("sgd_epoch", "w", "no_shuffle")
def epoch_unshuffled(w, x, y, grad_fn, lr, batch_size, rng):
    losses = []
    for start in range(0, len(x), batch_size):
        loss, dw = grad_fn(w, x[start:start + batch_size], y[start:start + batch_size])
        losses.append(loss)
        w = w - lr * dw
    return w, losses


@wrong("sgd_epoch", "w", "x_y_shuffled_apart")
def epoch_shuffled_apart(w, x, y, grad_fn, lr, batch_size, rng):
    xs = x[rng.permutation(len(x))]
    ys = y[rng.permutation(len(y))]
    losses = []
    for start in range(0, len(x), batch_size):
        loss, dw = grad_fn(w, xs[start:start + batch_size], ys[start:start + batch_size])
        losses.append(loss)
        w = w - lr * dw
    return w, losses


@wrong("sgd_epoch", "w", "dropped_last_batch")
def epoch_whole_batches_only(w, x, y, grad_fn, lr, batch_size, rng):
    order = rng.permutation(len(x))
    losses = []
    for k in range(len(x) // batch_size):
        batch = order[k * batch_size:(k + 1) * batch_size]
        loss, dw = grad_fn(w, x[batch], y[batch])
        losses.append(loss)
        w = w - lr * dw
    return w, losses


@wrong("sgd_epoch", "w", "full_batch")
def epoch_one_big_step(w, x, y, grad_fn, lr, batch_size, rng):
    loss, dw = grad_fn(w, x, y)
    return w - lr * dw, [loss]


@wrong("sgd_epoch", "losses", "losses_after_step")
def epoch_loss_after(w, x, y, grad_fn, lr, batch_size, rng):
    order = rng.permutation(len(x))
    losses = []
    for start in range(0, len(x), batch_size):
        batch = order[start:start + batch_size]
        _, dw = grad_fn(w, x[batch], y[batch])
        w = w - lr * dw
        losses.append(grad_fn(w, x[batch], y[batch])[0])
    return w, losses
