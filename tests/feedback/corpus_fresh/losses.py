"""Fresh corpus, notebook 05: mse_loss and softmax_cross_entropy."""

import numpy as np
from corpus._mark import right, wrong


@right("mse_loss")
def mse_flat(pred, target):
    d = (pred - target).ravel()
    return float(d @ d / d.size), (2 / d.size) * (pred - target)


@wrong("mse_loss", "dpred", "batch_size")
def mse_grad_over_batch(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), 2 * diff / pred.shape[0]


@wrong("mse_loss", "dpred", "factor_two")
def mse_grad_no_two(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), diff / diff.size


@wrong("mse_loss", "dpred", "sign")
def mse_grad_target_minus_pred(pred, target):
    diff = target - pred
    return float(np.mean(diff**2)), 2 * diff / diff.size


@wrong("mse_loss", "loss", "batch_size")
def mse_sum_loss(pred, target):
    diff = pred - target
    return float(np.sum(diff**2)), 2 * diff / diff.size


@wrong("mse_loss", "loss", "not_reduced")
def mse_per_row(pred, target):
    diff = pred - target
    return (diff**2).mean(axis=1), 2 * diff / diff.size


@right("softmax_cross_entropy")
def sce_logsumexp(logits, labels):
    n = logits.shape[0]
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    loss = np.mean(lse - logits[np.arange(n), labels])
    p = np.exp(logits - lse[:, None])
    onehot = np.eye(logits.shape[1])[labels]
    return float(loss), (p - onehot) / n


@wrong("softmax_cross_entropy", "loss", "no_max_subtraction")
def sce_naive(logits, labels):
    n = len(labels)
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[range(n), labels]).mean()
    d = p.copy()
    d[range(n), labels] -= 1
    return loss, d / n


@wrong("softmax_cross_entropy", "dlogits", "one_hot")
def sce_no_onehot(logits, labels):
    n = len(labels)
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return float(-np.log(p[np.arange(n), labels]).mean()), p / n


@wrong("softmax_cross_entropy", "dlogits", "batch_size")
def sce_grad_not_averaged(logits, labels):
    n = len(labels)
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = float(-np.log(p[np.arange(n), labels]).mean())
    p[np.arange(n), labels] -= 1
    return loss, p


@wrong("softmax_cross_entropy", "loss", "reduction_axis")
def sce_softmax_over_batch(logits, labels):
    n = len(labels)
    z = logits - logits.max(axis=0, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=0, keepdims=True)
    loss = float(-np.log(p[np.arange(n), labels]).mean())
    p[np.arange(n), labels] -= 1
    return loss, p / n


@wrong("softmax_cross_entropy", "loss", "order")
def sce_swapped(logits, labels):
    n = len(labels)
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = float(-np.log(p[np.arange(n), labels]).mean())
    p[np.arange(n), labels] -= 1
    return p / n, loss
