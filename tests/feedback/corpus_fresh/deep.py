"""Fresh corpus, notebook 09: batch normalization and dropout."""

import numpy as np
from corpus._mark import right, wrong


@right("batchnorm_forward")
def bn_fwd_std(x, gamma, beta, eps=1e-5):
    mu = np.mean(x, axis=0)
    sd = np.sqrt(np.mean((x - mu) ** 2, axis=0) + eps)
    return (x - mu) / sd * gamma + beta


@wrong("batchnorm_forward", "out", "unbiased_variance")
def bn_fwd_ddof(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0, ddof=1)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


@wrong("batchnorm_forward", "out", "reduction_axis")
def bn_fwd_rows(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


@wrong("batchnorm_forward", "out", "eps_placement")
def bn_fwd_eps_outside(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    return gamma * (x - mu) / (x.std(axis=0) + eps) + beta


@wrong("batchnorm_forward", "out", "missing_gamma_beta")
def bn_fwd_plain(x, gamma, beta, eps=1e-5):
    return (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)


@right("batchnorm_backward")
def bn_bwd_graph(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc**2).mean(axis=0)
    std = np.sqrt(var + eps)
    xhat = xc / std
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xc, axis=0) * -0.5 * std**-3
    dmu = -np.sum(dxhat / std, axis=0) + dvar * np.mean(-2 * xc, axis=0)
    dx = dxhat / std + dvar * 2 * xc / n + dmu / n
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


@wrong("batchnorm_backward", "dx", "mean_var_constant")
def bn_bwd_constant_stats(dout, x, gamma, beta, eps=1e-5):
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
    return dout * gamma / np.sqrt(x.var(0) + eps), (dout * xhat).sum(0), dout.sum(0)


@wrong("batchnorm_backward", "dgamma", "missing_xhat")
def bn_bwd_dgamma_plain(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    std = np.sqrt(x.var(0) + eps)
    xhat = (x - x.mean(0)) / std
    g = dout * gamma
    dx = (n * g - g.sum(0) - xhat * (g * xhat).sum(0)) / (n * std)
    return dx, dout.sum(0), dout.sum(0)


@wrong("batchnorm_backward", "dbeta", "reduction_axis")
def bn_bwd_dbeta_rows(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    std = np.sqrt(x.var(0) + eps)
    xhat = (x - x.mean(0)) / std
    g = dout * gamma
    dx = (n * g - g.sum(0) - xhat * (g * xhat).sum(0)) / (n * std)
    return dx, (dout * xhat).sum(0), dout.sum(1)


@wrong("batchnorm_backward", "dx", "order")
def bn_bwd_params_first(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    std = np.sqrt(x.var(0) + eps)
    xhat = (x - x.mean(0)) / std
    g = dout * gamma
    dx = (n * g - g.sum(0) - xhat * (g * xhat).sum(0)) / (n * std)
    return (dout * xhat).sum(0), dout.sum(0), dx


@wrong("batchnorm_backward", "dx", "unbiased_variance")
def bn_bwd_ddof(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    std = np.sqrt(x.var(0, ddof=1) + eps)
    xhat = (x - x.mean(0)) / std
    g = dout * gamma
    dx = (n * g - g.sum(0) - xhat * (g * xhat).sum(0)) / (n * std)
    return dx, (dout * xhat).sum(0), dout.sum(0)


@right("dropout_forward")
def dropout_fwd_keep(x, p, rng):
    keep = rng.random(x.shape) >= p
    return np.where(keep, x / (1 - p), 0.0), keep


@wrong("dropout_forward", "mask", "keep_prob")
def dropout_fwd_p_keep(x, p, rng):
    mask = rng.random(x.shape) < p
    return x * mask / p, mask


@wrong("dropout_forward", "out", "no_inverted_scaling")
def dropout_fwd_unscaled(x, p, rng):
    mask = rng.random(x.shape) >= p
    return x * mask, mask


@wrong("dropout_forward", "mask", "rng_misuse")
def dropout_fwd_global_rng(x, p, rng):
    mask = np.random.rand(*x.shape) >= p  # noqa: NPY002 (the mistake under test)
    return x * mask / (1 - p), mask


@wrong("dropout_forward", "out", "no_inverted_scaling")
def dropout_fwd_times_keep(x, p, rng):
    mask = rng.random(x.shape) >= p
    return x * mask * (1 - p), mask


@right("dropout_backward")
def dropout_bwd_where(dout, mask, p):
    return np.where(mask, dout, 0.0) / (1 - p)


@wrong("dropout_backward", "dx", "no_inverted_scaling")
def dropout_bwd_unscaled(dout, mask, p):
    return dout * mask


@wrong("dropout_backward", "dx", "dout_ignored")
def dropout_bwd_no_dout(dout, mask, p):
    return mask / (1 - p)


@wrong("dropout_backward", "dx", "mask_ignored")
def dropout_bwd_no_mask(dout, mask, p):
    return dout / (1 - p)
