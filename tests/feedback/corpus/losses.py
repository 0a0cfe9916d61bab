"""Tuning corpus, notebook 05: mse_loss and softmax_cross_entropy."""

import numpy as np

from ._mark import right, wrong


@right("mse_loss")
def mse_plain(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), 2 * diff / diff.size


@right("mse_loss")
def mse_numpy_scalar(pred, target):
    diff = pred - target
    return np.mean(diff * diff), diff * (2.0 / pred.size)


@wrong("mse_loss", "dpred", "factor_two")
def mse_half(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), diff / pred.size


@wrong("mse_loss", "dpred", "batch_size")
def mse_by_n(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), 2 * diff / len(pred)


@wrong("mse_loss", "dpred", "batch_size")
def mse_no_mean_in_grad(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), 2 * diff


@wrong("mse_loss", "dpred", "sign")
def mse_neg(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), -2 * diff / pred.size


@wrong("mse_loss", "loss", "batch_size")
def mse_sum(pred, target):
    diff = pred - target
    return float(np.sum(diff**2)), 2 * diff / pred.size


@wrong("mse_loss", "loss", "not_reduced")
def mse_elementwise(pred, target):
    diff = pred - target
    return diff**2, 2 * diff / pred.size


@wrong("mse_loss", "loss", "order")
def mse_swapped(pred, target):
    diff = pred - target
    return 2 * diff / pred.size, float(np.mean(diff**2))


@wrong("mse_loss", "loss", "wrong_function")
def mse_rmse(pred, target):
    diff = pred - target
    return float(np.sqrt(np.mean(diff**2))), 2 * diff / pred.size


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# Stable against overflow, but log(p) of a probability that underflowed is -inf: issue 12
# made these fragile answers wrong (the check has rows of logits far apart).
@wrong("softmax_cross_entropy", "loss", "log_underflow")
def sce_plain(logits, labels):
    n = logits.shape[0]
    p = _softmax(logits)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return float(loss), d / n


@right("softmax_cross_entropy")
def sce_onehot_matrix(logits, labels):
    n, c = logits.shape
    y = np.zeros((n, c), dtype=logits.dtype)
    y[np.arange(n), labels] = 1
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return float(-np.sum(y * logp) / n), (np.exp(logp) - y) / n


@wrong("softmax_cross_entropy", "loss", "log_underflow")
def sce_loop(logits, labels):
    n = logits.shape[0]
    loss = 0.0
    d = np.zeros_like(logits)
    for i in range(n):
        z = logits[i] - logits[i].max()
        p = np.exp(z) / np.exp(z).sum()
        loss -= np.log(p[labels[i]])
        p[labels[i]] -= 1
        d[i] = p / n
    return loss / n, d


@wrong("softmax_cross_entropy", "loss", "no_max_subtraction")
def sce_overflow(logits, labels):
    n = logits.shape[0]
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    p[np.arange(n), labels] -= 1
    return float(loss), p / n


@wrong("softmax_cross_entropy", "dlogits", "no_max_subtraction")
def sce_overflow_grad_only(logits, labels):
    n = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    loss = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(n), labels])
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(n), labels] -= 1
    return float(loss), p / n


@wrong("softmax_cross_entropy", "dlogits", "one_hot")
def sce_forgot_onehot(logits, labels):
    n = logits.shape[0]
    p = _softmax(logits)
    return float(-np.mean(np.log(p[np.arange(n), labels]))), p / n


@wrong("softmax_cross_entropy", "dlogits", "batch_size")
def sce_no_divide(logits, labels):
    n = logits.shape[0]
    p = _softmax(logits)
    loss = float(-np.mean(np.log(p[np.arange(n), labels])))
    p[np.arange(n), labels] -= 1
    return loss, p


@wrong("softmax_cross_entropy", "loss", "batch_size")
def sce_sum_loss(logits, labels):
    n = logits.shape[0]
    p = _softmax(logits)
    loss = float(-np.sum(np.log(p[np.arange(n), labels])))
    p[np.arange(n), labels] -= 1
    return loss, p / n


@wrong("softmax_cross_entropy", "dlogits", "sign")
def sce_flipped(logits, labels):
    n = logits.shape[0]
    p = _softmax(logits)
    loss = float(-np.mean(np.log(p[np.arange(n), labels])))
    p[np.arange(n), labels] -= 1
    return loss, -p / n


@wrong("softmax_cross_entropy", "loss", "reduction_axis")
def sce_axis0(logits, labels):
    n = logits.shape[0]
    e = np.exp(logits - logits.max(axis=0))
    p = e / e.sum(axis=0)
    loss = float(-np.mean(np.log(p[np.arange(n), labels])))
    p[np.arange(n), labels] -= 1
    return loss, p / n


@wrong("softmax_cross_entropy", "loss", "label_indexing")
def sce_columns(logits, labels):
    n = logits.shape[0]
    p = _softmax(logits)
    loss = float(-np.mean(np.log(p[:, labels])))
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return loss, d / n


@wrong("softmax_cross_entropy", "loss", "order")
def sce_order(logits, labels):
    n = logits.shape[0]
    p = _softmax(logits)
    loss = float(-np.mean(np.log(p[np.arange(n), labels])))
    p[np.arange(n), labels] -= 1
    return p / n, loss


@wrong("softmax_cross_entropy", "logits", "mutates_input")
def sce_shift_in_place(logits, labels):
    n = logits.shape[0]
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = float(-np.mean(np.log(p[np.arange(n), labels])))
    p[np.arange(n), labels] -= 1
    return loss, p / n
