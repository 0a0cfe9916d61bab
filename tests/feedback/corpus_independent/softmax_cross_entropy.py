"""05 losses: softmax_cross_entropy(logits, labels) -> (mean CE loss, dlogits), stable."""

import numpy as np

from ._registry import AXIS, BATCH_MEAN, IN_PLACE, ORDER, SIGN, right, wrong

EX = "softmax_cross_entropy"
STABLE = ("max", "overflow", "stab")


def _probs(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _onehot(labels, c, dtype):
    y = np.zeros((labels.shape[0], c), dtype=dtype)
    y[np.arange(labels.shape[0]), labels] = 1
    return y


@wrong(EX, ("loss", "dlogits"), "no max-subtraction: overflows for large logits", STABLE)
def sce_unstable(logits, labels):
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return float(loss), d / n


@wrong(EX, "dlogits", "dlogits not divided by N", BATCH_MEAN)
def sce_grad_no_mean(logits, labels):
    p = _probs(logits)
    n = logits.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    p[np.arange(n), labels] -= 1
    return float(loss), p


@wrong(EX, "loss", "loss summed over the batch instead of averaged",
       BATCH_MEAN + ("mean", "sum"))
def sce_loss_sum(logits, labels):
    p = _probs(logits)
    n = logits.shape[0]
    loss = -np.sum(np.log(p[np.arange(n), labels]))
    p[np.arange(n), labels] -= 1
    return float(loss), p / n


@wrong(EX, "dlogits", "forgot to subtract the one-hot labels",
       ("one-hot", "one hot", "onehot", "subtract 1", "- 1", "minus 1", "correct class",
        "true class"))
def sce_no_onehot(logits, labels):
    p = _probs(logits)
    n = logits.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    return float(loss), p / n


@wrong(EX, "dlogits", "sign flipped: (onehot - probs) / N", SIGN)
def sce_sign(logits, labels):
    p = _probs(logits)
    n = logits.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    return float(loss), (_onehot(labels, p.shape[1], p.dtype) - p) / n


@wrong(EX, ("loss", "dlogits"), "softmax normalised over the batch axis (axis=0)", AXIS)
def sce_axis0(logits, labels):
    z = logits - logits.max(axis=0, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=0, keepdims=True)
    n = logits.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    p[np.arange(n), labels] -= 1
    return float(loss), p / n


@wrong(EX, "loss", "log-probabilities of all classes summed, labels not picked",
       ("label", "correct class", "true class", "pick", "index"))
def sce_all_classes(logits, labels):
    p = _probs(logits)
    n = logits.shape[0]
    loss = -np.mean(np.sum(np.log(p), axis=1))
    p[np.arange(n), labels] -= 1
    return float(loss), p / n


@wrong(EX, "loss", "forgot the log: -mean(p[label])", ("log",))
def sce_no_log(logits, labels):
    p = _probs(logits)
    n = logits.shape[0]
    loss = -np.mean(p[np.arange(n), labels])
    p[np.arange(n), labels] -= 1
    return float(loss), p / n


@wrong(EX, "loss", "p[:, labels] picks an N x N block instead of one entry per row",
       ("arange", "range(n)", "one entry per row", "each row", "[:, labels]", "index", "pairs"))
def sce_bad_indexing(logits, labels):
    p = _probs(logits)
    n = logits.shape[0]
    loss = -np.mean(np.log(p[:, labels]))
    p[np.arange(n), labels] -= 1
    return float(loss), p / n


@wrong(EX, ("loss", "dlogits"), "returns (dlogits, loss)", ORDER)
def sce_order(logits, labels):
    p = _probs(logits)
    n = logits.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    p[np.arange(n), labels] -= 1
    return p / n, float(loss)


@wrong(EX, "logits", "subtracts the row max from logits in place", IN_PLACE)
def sce_mutates_logits(logits, labels):
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    p[np.arange(n), labels] -= 1
    return float(loss), p / n


@wrong(EX, "loss", "per-sample losses returned, mean forgotten",
       ("mean", "average", "scalar", "float", "shape", "array", "single number"))
def sce_loss_vector(logits, labels):
    p = _probs(logits)
    n = logits.shape[0]
    loss = -np.log(p[np.arange(n), labels])
    p[np.arange(n), labels] -= 1
    return loss, p / n


@wrong(EX, ("loss", "dlogits"), "softmax denominator summed over all entries (axis forgotten)",
       AXIS + ("each row", "per row", "sum to 1", "sums to 1", "normalis", "normaliz"))
def sce_sum_no_axis(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum()
    n = logits.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    p[np.arange(n), labels] -= 1
    return float(loss), p / n


@right(EX)
def sce_right_logsumexp(logits, labels):
    m = np.max(logits, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    logp = logits - lse
    n = logits.shape[0]
    loss = -float(np.mean(logp[np.arange(n), labels]))
    d = np.exp(logp) - np.eye(logits.shape[1], dtype=logits.dtype)[labels]
    return loss, d / n


@right(EX)
def sce_right_loop(logits, labels):
    n, c = logits.shape
    d = np.empty_like(logits)
    total = 0.0
    for i in range(n):
        row = logits[i] - logits[i].max()
        e = np.exp(row)
        s = e.sum()
        total += float(np.log(s) - row[labels[i]])
        d[i] = e / s
        d[i, labels[i]] -= 1
    return total / n, d / n
