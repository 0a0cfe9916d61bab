"""09 deep networks: batchnorm_forward(x, gamma, beta, eps=1e-5) -> out (training mode)."""

import numpy as np

from ._registry import AXIS, IN_PLACE, ORDER, right, wrong

EX = "batchnorm_forward"


@wrong(EX, "out", "normalises each sample over features (axis=1): that is layer norm",
       AXIS + ("layer norm", "per sample", "each sample"))
def bnf_axis1(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


@wrong(EX, "out", "unbiased variance (ddof=1)",
       ("biased", "unbiased", "ddof", "n - 1", "n-1", "bessel"))
def bnf_unbiased(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0, ddof=1)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


@wrong(EX, "out", "eps added outside the square root", ("eps", "epsilon", "sqrt"))
def bnf_eps_outside(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    return gamma * (x - mu) / (x.std(axis=0) + eps) + beta


@wrong(EX, "out", "divides by the variance instead of the standard deviation",
       ("sqrt", "std", "standard deviation", "square root", "variance"))
def bnf_no_sqrt(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    return gamma * (x - mu) / (x.var(axis=0) + eps) + beta


@wrong(EX, "out", "gamma and beta swapped", ORDER + ("gamma and beta", "beta and gamma"))
def bnf_swapped(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    return beta * (x - mu) / np.sqrt(x.var(axis=0) + eps) + gamma


@wrong(EX, "out", "gamma and beta not applied",
       ("gamma", "scale and shift", "scale", "shift"))
def bnf_no_affine(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    return (x - mu) / np.sqrt(x.var(axis=0) + eps)


@wrong(EX, "x", "centres x in place", IN_PLACE)
def bnf_in_place(x, gamma, beta, eps=1e-5):
    x -= x.mean(axis=0)
    x /= np.sqrt((x * x).mean(axis=0) + eps)
    return gamma * x + beta


@right(EX)
def bnf_right_loops(x, gamma, beta, eps=1e-5):
    n, d = x.shape
    out = np.empty_like(x)
    for j in range(d):
        col = x[:, j]
        mu = sum(col) / n
        var = sum((c - mu) ** 2 for c in col) / n
        out[:, j] = gamma[j] * (col - mu) / np.sqrt(var + eps) + beta[j]
    return out


@right(EX)
def bnf_right_einsum(x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    xc = x - np.einsum("nd->d", x) / n
    var = np.einsum("nd,nd->d", xc, xc) / n
    return xc * (gamma / np.sqrt(var + eps)) + beta
