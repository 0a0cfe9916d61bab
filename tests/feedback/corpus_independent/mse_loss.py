"""05 losses: mse_loss(pred, target) -> (mean over all elements of (pred-target)^2, dpred)."""

import numpy as np

from ._registry import ORDER, SIGN, right, wrong

EX = "mse_loss"
TWO = ("factor of 2", "factor 2", "twice", "half", "2 *", "2*", "times 2", "×2", "x2", "0.5")


@wrong(EX, "dpred", "dpred not divided by the number of elements",
       ("1/n", "size", "number of elements", "mean", "average", "divid"))
def mse_dpred_no_mean(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), 2 * diff


@wrong(EX, "dpred", "forgot the factor 2 in dpred", TWO)
def mse_dpred_no_two(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), diff / diff.size


@wrong(EX, "loss", "sum instead of mean", ("mean", "average", "size", "sum", "number of elements"))
def mse_loss_sum(pred, target):
    diff = pred - target
    return float(np.sum(diff**2)), 2 * diff / diff.size


@wrong(EX, ("loss", "dpred"), "divides by the batch size N only, not N * D",
       ("element", "size", "n * d", "batch size", "all entries", "every entry", "features"))
def mse_per_sample(pred, target):
    diff = pred - target
    n = diff.shape[0]
    return float(np.sum(diff**2) / n), 2 * diff / n


@wrong(EX, "dpred", "sign flipped in dpred", SIGN)
def mse_sign(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), 2 * (target - pred) / diff.size


@wrong(EX, "loss", "loss returned as a (1, 1) array, not a float",
       ("float", "type", "scalar", "array", "shape"))
def mse_loss_array(pred, target):
    diff = pred - target
    return np.mean(diff**2, keepdims=True), 2 * diff / diff.size


@wrong(EX, ("loss", "dpred"), "returns (dpred, loss)", ORDER)
def mse_order(pred, target):
    diff = pred - target
    return 2 * diff / diff.size, float(np.mean(diff**2))


@wrong(EX, "loss", "half-MSE convention: 0.5 * mean", TWO + ("1/2",))
def mse_half(pred, target):
    diff = pred - target
    return float(0.5 * np.mean(diff**2)), diff / diff.size


@right(EX)
def mse_right_einsum(pred, target):
    diff = pred - target
    n = diff.size
    flat = diff.reshape(-1)
    loss = float(np.einsum("i,i->", flat, flat)) / n
    return loss, (2.0 / n) * diff


@right(EX)
def mse_right_loops(pred, target):
    p = np.asarray(pred)
    t = np.asarray(target)
    total = 0.0
    grad = np.empty_like(p)
    n = p.size
    for i in np.ndindex(p.shape):
        d = p[i] - t[i]
        total += float(d) * float(d)
        grad[i] = 2 * d / n
    return total / n, grad
