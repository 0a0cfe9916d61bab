"""09 deep networks: batchnorm_backward(dout, x, gamma, beta, eps=1e-5) -> (dx, dgamma, dbeta)."""

import numpy as np

from ._registry import AXIS, BATCH_MEAN, IN_PLACE, ORDER, SIGN, right, wrong

EX = "batchnorm_backward"
XHAT = ("x_hat", "xhat", "x̂", "normalized", "normalised", "instead of x")


def _stats(x, eps):
    mu = x.mean(axis=0)
    istd = 1.0 / np.sqrt(x.var(axis=0) + eps)
    return (x - mu) * istd, istd


def _dx(dout, xhat, istd, gamma):
    n = dout.shape[0]
    g = dout * gamma
    return istd / n * (n * g - g.sum(axis=0) - xhat * (g * xhat).sum(axis=0))


@wrong(EX, "dx", "treats the batch mean and variance as constants",
       ("mean and variance", "constant", "depend on x", "depends on x", "through the mean",
        "batch statistics", "mean and var"))
def bnb_stats_constant(dout, x, gamma, beta, eps=1e-5):
    xhat, istd = _stats(x, eps)
    return dout * gamma * istd, (dout * xhat).sum(0), dout.sum(0)


@wrong(EX, "dgamma", "dgamma = sum(dout), x_hat forgotten", XHAT)
def bnb_dgamma_no_xhat(dout, x, gamma, beta, eps=1e-5):
    xhat, istd = _stats(x, eps)
    return _dx(dout, xhat, istd, gamma), dout.sum(0), dout.sum(0)


@wrong(EX, "dbeta", "dbeta summed over axis 1", AXIS)
def bnb_dbeta_axis1(dout, x, gamma, beta, eps=1e-5):
    xhat, istd = _stats(x, eps)
    return _dx(dout, xhat, istd, gamma), (dout * xhat).sum(0), dout.sum(1)


@wrong(EX, "dgamma", "dgamma uses x instead of x_hat", XHAT)
def bnb_dgamma_raw_x(dout, x, gamma, beta, eps=1e-5):
    xhat, istd = _stats(x, eps)
    return _dx(dout, xhat, istd, gamma), (dout * x).sum(0), dout.sum(0)


@wrong(EX, "dx", "gamma forgotten in dx", ("gamma",))
def bnb_dx_no_gamma(dout, x, gamma, beta, eps=1e-5):
    xhat, istd = _stats(x, eps)
    return _dx(dout, xhat, istd, np.ones_like(gamma)), (dout * xhat).sum(0), dout.sum(0)


@wrong(EX, "dx", "variance term with N - 1 (unbiased) in the backward",
       ("n - 1", "n-1", "ddof", "unbiased", "biased", "bessel"))
def bnb_unbiased(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    mu = x.mean(axis=0)
    istd = 1.0 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - mu) * istd
    g = dout * gamma
    dx = istd / n * (n * g - g.sum(0) - xhat * (g * xhat).sum(0) * n / (n - 1))
    return dx, (dout * xhat).sum(0), dout.sum(0)


@wrong(EX, "dx", "sign error in the variance term", SIGN)
def bnb_sign_term(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    xhat, istd = _stats(x, eps)
    g = dout * gamma
    dx = istd / n * (n * g - g.sum(0) + xhat * (g * xhat).sum(0))
    return dx, (dout * xhat).sum(0), dout.sum(0)


@wrong(EX, ("dx", "dgamma"), "returns (dgamma, dbeta, dx)", ORDER)
def bnb_order(dout, x, gamma, beta, eps=1e-5):
    xhat, istd = _stats(x, eps)
    return (dout * xhat).sum(0), dout.sum(0), _dx(dout, xhat, istd, gamma)


@wrong(EX, "dbeta", "dbeta averaged over the batch", BATCH_MEAN + ("mean",))
def bnb_dbeta_mean(dout, x, gamma, beta, eps=1e-5):
    xhat, istd = _stats(x, eps)
    return _dx(dout, xhat, istd, gamma), (dout * xhat).sum(0), dout.mean(0)


@wrong(EX, "dx", "variance path forgotten: only the mean is subtracted",
       ("variance", "var term", "through the var", "x_hat term", "xhat term"))
def bnb_no_var_path(dout, x, gamma, beta, eps=1e-5):
    xhat, istd = _stats(x, eps)
    g = dout * gamma
    return istd * (g - g.mean(0)), (dout * xhat).sum(0), dout.sum(0)


@wrong(EX, "dout", "multiplies dout by gamma in place", IN_PLACE)
def bnb_in_place(dout, x, gamma, beta, eps=1e-5):
    xhat, istd = _stats(x, eps)
    dbeta = dout.sum(0)
    dgamma = (dout * xhat).sum(0)
    dout *= gamma
    n = x.shape[0]
    dx = istd / n * (n * dout - dout.sum(0) - xhat * (dout * xhat).sum(0))
    return dx, dgamma, dbeta


@right(EX)
def bnb_right_graph(dout, x, gamma, beta, eps=1e-5):
    # staged computational graph, one node at a time
    n = x.shape[0]
    mu = x.sum(axis=0) / n
    xc = x - mu
    var = (xc**2).sum(axis=0) / n
    std = np.sqrt(var + eps)
    inv = 1 / std
    xhat = xc * inv
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dinv = (dxhat * xc).sum(axis=0)
    dxc = dxhat * inv
    dstd = -dinv / std**2
    dvar = dstd * 0.5 / std
    dxc += 2 * xc * dvar / n
    dmu = -dxc.sum(axis=0)
    dx = dxc + dmu / n
    return dx, dgamma, dbeta


@right(EX)
def bnb_right_einsum(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    xc = x - np.einsum("nd->d", x) / n
    istd = 1 / np.sqrt(np.einsum("nd,nd->d", xc, xc) / n + eps)
    xhat = xc * istd
    dgamma = np.einsum("nd,nd->d", dout, xhat)
    dbeta = np.einsum("nd->d", dout)
    dx = (gamma * istd / n) * (n * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta
