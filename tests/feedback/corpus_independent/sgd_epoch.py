"""07 minibatches: sgd_epoch(w, x, y, grad_fn, lr, batch_size, rng) -> (w, losses)."""

import numpy as np

from ._registry import IN_PLACE, right, wrong

EX = "sgd_epoch"
SHUFFLE = ("shuffle", "permutation", "order", "random order")


@wrong(EX, "w", "walks through the data in its original order", SHUFFLE)
def epoch_no_shuffle(w, x, y, grad_fn, lr, batch_size, rng):
    losses = []
    for s in range(0, len(x), batch_size):
        loss, dw = grad_fn(w, x[s:s + batch_size], y[s:s + batch_size])
        losses.append(loss)
        w = w - lr * dw
    return w, losses


@wrong(EX, "w", "shuffles x and y with two different permutations",
       ("two different permutations", "match", "same permutation", "one permutation"))
def epoch_two_perms(w, x, y, grad_fn, lr, batch_size, rng):
    xs, ys = x[rng.permutation(len(x))], y[rng.permutation(len(y))]
    losses = []
    for s in range(0, len(x), batch_size):
        loss, dw = grad_fn(w, xs[s:s + batch_size], ys[s:s + batch_size])
        losses.append(loss)
        w = w - lr * dw
    return w, losses


@wrong(EX, "w", "drops the last, smaller batch", ("last", "smaller batch", "partial", "missing"))
def epoch_drop_last(w, x, y, grad_fn, lr, batch_size, rng):
    order = rng.permutation(len(x))
    losses = []
    for k in range(len(x) // batch_size):
        b = order[k * batch_size:(k + 1) * batch_size]
        loss, dw = grad_fn(w, x[b], y[b])
        losses.append(loss)
        w = w - lr * dw
    return w, losses


@wrong(EX, "w", "one full-batch step instead of one step per batch",
       ("whole data set", "one step per batch", "full batch", "batch_size"))
def epoch_full_batch(w, x, y, grad_fn, lr, batch_size, rng):
    loss, dw = grad_fn(w, x, y)
    return w - lr * dw, [loss]


@wrong(EX, "w", "w -= ...: changes the caller's w", IN_PLACE)
def epoch_in_place(w, x, y, grad_fn, lr, batch_size, rng):
    order = rng.permutation(len(x))
    losses = []
    for s in range(0, len(x), batch_size):
        b = order[s:s + batch_size]
        loss, dw = grad_fn(w, x[b], y[b])
        losses.append(loss)
        w -= lr * dw
    return w, losses


@right(EX)
def epoch_array_split(w, x, y, grad_fn, lr, batch_size, rng):
    order = rng.permutation(len(x))
    losses = []
    for b in np.array_split(order, range(batch_size, len(x), batch_size)):
        loss, dw = grad_fn(w, x[b], y[b])
        losses.append(float(loss))
        w = w - lr * dw
    return w, losses
