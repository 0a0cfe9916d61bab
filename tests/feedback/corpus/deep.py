"""Tuning corpus, notebook 09: batch normalization and dropout."""

import numpy as np

from ._mark import right, wrong


@right("batchnorm_forward")
def bn_plain(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


@right("batchnorm_forward")
def bn_loops(x, gamma, beta, eps=1e-5):
    n, d = x.shape
    out = np.empty_like(x)
    for j in range(d):
        col = x[:, j]
        mu = sum(col) / n
        var = sum((c - mu) ** 2 for c in col) / n
        out[:, j] = gamma[j] * (col - mu) / (var + eps) ** 0.5 + beta[j]
    return out


@wrong("batchnorm_forward", "out", "unbiased_variance")
def bn_ddof(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps) + beta


@wrong("batchnorm_forward", "out", "reduction_axis")
def bn_axis1(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


@wrong("batchnorm_forward", "out", "missing_gamma_beta")
def bn_no_affine(x, gamma, beta, eps=1e-5):
    return (x - x.mean(0)) / np.sqrt(x.var(0) + eps)


@wrong("batchnorm_forward", "out", "eps_ignored")
def bn_no_eps(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) + beta


@wrong("batchnorm_forward", "x", "mutates_input")
def bn_center_in_place(x, gamma, beta, eps=1e-5):
    x -= x.mean(axis=0)
    return gamma * x / np.sqrt((x**2).mean(axis=0) + eps) + beta


@right("batchnorm_backward")
def bn_bwd_compact(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    std = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / std
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0)) / (n * std)
    return dx, (dout * xhat).sum(0), dout.sum(0)


@right("batchnorm_backward")
def bn_bwd_steps(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    mu = x.mean(0)
    xmu = x - mu
    var = (xmu**2).mean(0)
    ivar = 1 / np.sqrt(var + eps)
    xhat = xmu * ivar
    dxhat = dout * gamma
    divar = (dxhat * xmu).sum(0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -divar / (var + eps)
    dvar = 0.5 * dsqrtvar * ivar
    dsq = np.ones_like(x) * dvar / n
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(0)
    dx = dx1 + dmu / n
    return dx, (dout * xhat).sum(0), dout.sum(0)


@wrong("batchnorm_backward", "dx", "mean_var_constant")
def bn_bwd_constants(dout, x, gamma, beta, eps=1e-5):
    std = np.sqrt(x.var(0) + eps)
    xhat = (x - x.mean(0)) / std
    return dout * gamma / std, (dout * xhat).sum(0), dout.sum(0)


@wrong("batchnorm_backward", "dgamma", "missing_xhat")
def bn_bwd_dgamma_sum(dout, x, gamma, beta, eps=1e-5):
    dx, _, dbeta = bn_bwd_compact(dout, x, gamma, beta, eps)
    return dx, dout.sum(0), dbeta


@wrong("batchnorm_backward", "dbeta", "reduction_axis")
def bn_bwd_dbeta_axis1(dout, x, gamma, beta, eps=1e-5):
    dx, dgamma, _ = bn_bwd_compact(dout, x, gamma, beta, eps)
    return dx, dgamma, dout.sum(1)


@wrong("batchnorm_backward", "dgamma", "order")
def bn_bwd_swap_params(dout, x, gamma, beta, eps=1e-5):
    dx, dgamma, dbeta = bn_bwd_compact(dout, x, gamma, beta, eps)
    return dx, dbeta, dgamma


@wrong("batchnorm_backward", "dgamma", "batch_size")
def bn_bwd_mean_params(dout, x, gamma, beta, eps=1e-5):
    dx, dgamma, dbeta = bn_bwd_compact(dout, x, gamma, beta, eps)
    n = x.shape[0]
    return dx, dgamma / n, dbeta / n


@wrong("batchnorm_backward", "dx", "dout_ignored")
def bn_bwd_ones(dout, x, gamma, beta, eps=1e-5):
    return bn_bwd_compact(np.ones_like(dout), x, gamma, beta, eps)


@right("dropout_forward")
def drop_plain(x, p, rng):
    mask = rng.random(x.shape) >= p
    return x * mask / (1 - p), mask


@right("dropout_forward")
def drop_float_mask(x, p, rng):
    mask = (rng.random(x.shape) >= p).astype(x.dtype)
    return x * mask / (1 - p), mask


@wrong("dropout_forward", "mask", "keep_prob")
def drop_keep(x, p, rng):
    mask = rng.random(x.shape) < p
    return x * mask / p, mask


@wrong("dropout_forward", "out", "no_inverted_scaling")
def drop_no_scale(x, p, rng):
    mask = rng.random(x.shape) >= p
    return x * mask, mask


# One binomial draw from the given generator: NumPy draws it from the same uniform numbers,
# so it is the keep-probability mask (random < 1 - p), a right answer (issue 12).
@right("dropout_forward")
def drop_binomial(x, p, rng):
    mask = rng.binomial(1, 1 - p, size=x.shape).astype(bool)
    return x * mask / (1 - p), mask


@wrong("dropout_forward", "mask", "rng_misuse")
def drop_new_generator(x, p, rng):
    mask = np.random.default_rng().random(x.shape) >= p
    return x * mask / (1 - p), mask


@right("dropout_backward")
def drop_bwd_plain(dout, mask, p):
    return dout * mask / (1 - p)


@wrong("dropout_backward", "dx", "no_inverted_scaling")
def drop_bwd_unscaled(dout, mask, p):
    return dout * mask


@wrong("dropout_backward", "dx", "dout_ignored")
def drop_bwd_mask_only(dout, mask, p):
    return mask / (1 - p)


@wrong("dropout_backward", "dx", "mask_ignored")
def drop_bwd_dout_only(dout, mask, p):
    return dout.copy()
