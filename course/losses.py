"""Losses: each returns (loss, gradient of the loss with respect to the prediction).

A loss is where the backward pass starts: its gradient is the first ``dout``.
"""

from __future__ import annotations

import numpy as np

from course import _validate as val


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over all elements: loss = mean((pred - target)^2).

    pred, target: the same shape, e.g. (N, M).
    Returns (loss: float, dpred: shape of pred) with dpred = 2 (pred - target) / pred.size.
    """
    pred, target = val.floats("mse_loss", pred=pred, target=target)
    val.same_shape("mse_loss", "target", target, "pred", pred)
    if pred.size == 0:
        raise ValueError("mse_loss: pred is empty; the mean of no elements is undefined.")
    val.all_finite("mse_loss", "pred", pred)
    diff = pred - target
    loss = float(np.mean(diff * diff))
    return loss, diff * (2.0 / pred.size)


def _labels(fn: str, labels, n: int, c: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype.kind == "f":
        if not np.all(np.mod(labels, 1) == 0):
            raise ValueError(f"{fn}: labels must be integer class indices, got {labels.dtype}.")
        labels = labels.astype(np.intp)
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"{fn}: labels must be an integer array of class indices (N,), got dtype "
            f"{labels.dtype}."
        )
    if labels.shape != (n,):
        raise ValueError(
            f"{fn}: logits is ({n}, {c}) = (N, C) so labels must be (N,) = ({n},), "
            f"got {val.shape_str(labels)}. (One-hot labels? Use labels.argmax(axis=1).)"
        )
    if n and (labels.min() < 0 or labels.max() >= c):
        bad = int(labels[(labels < 0) | (labels >= c)][0])
        raise ValueError(
            f"{fn}: labels must be class indices in 0..{c - 1} (C = {c} columns of logits), "
            f"found {bad}."
        )
    return labels


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for any finite logits.  logits: (N, C).  Returns probs: (N, C)."""
    logits = val.as_float("softmax", "logits", logits)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax followed by cross-entropy, averaged over the batch.

    loss = -(1/N) sum_n log softmax(logits_n)[labels_n], computed with log-sum-exp so that
    logits of any finite size are safe.
    logits: (N, C) scores.  labels: (N,) ints in 0..C-1.
    Returns (loss: float, dlogits: (N, C)) with dlogits = (softmax(logits) - onehot(labels)) / N.
    """
    fn = "softmax_cross_entropy"
    logits = val.as_float(fn, "logits", logits)
    val.ndim(fn, "logits", logits, 2, "(N, C)")
    n, c = logits.shape
    if n == 0:
        raise ValueError(f"{fn}: logits is empty (N = 0); the mean over no samples is undefined.")
    labels = _labels(fn, labels, n, c)
    val.all_finite(fn, "logits", logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    sum_e = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    # loss = mean_n (log sum_e - shifted[label]);  dlogits = (e / sum_e - onehot) / N
    loss = float(np.log(sum_e).sum() - shifted[rows, labels].sum()) / n
    dlogits = np.divide(e, sum_e * n, out=e)
    dlogits[rows, labels] -= 1 / n
    return loss, dlogits


class MSELoss:
    """Mean squared error as an object: ``loss, dpred = MSELoss()(pred, target)``."""

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        return mse_loss(pred, target)

    def __repr__(self) -> str:
        return "MSELoss()"


class SoftmaxCrossEntropy:
    """Softmax cross-entropy as an object: ``loss, dlogits = SoftmaxCrossEntropy()(logits, y)``."""

    def __call__(self, logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        return softmax_cross_entropy(logits, labels)

    def __repr__(self) -> str:
        return "SoftmaxCrossEntropy()"
