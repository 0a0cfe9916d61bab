"""The answers of issue 12's "Why" section, each with the verdict it must get and the words its
message must contain ("!word": must not contain). Right answers that upcast print a note.
Written from the issue's text, in the styles it quotes."""

from __future__ import annotations

import math

import numpy as np

from corpus._mark import right, wrong

NOTE = ("Note:", "keep float32")


# --- Right answers that were rejected (dtype), and the keep-probability mask -----------------
@right("relu_backward", words=NOTE)
def why_relu_bwd_astype_float(dout, x):
    return dout * (x > 0).astype(float)


@right("softmax_cross_entropy", words=NOTE)
def why_sce_eye_onehot(logits, labels):
    n, c = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    Y = np.eye(c)[labels]
    return float(-np.mean(log_p[np.arange(n), labels])), (np.exp(log_p) - Y) / n


@right("two_layer_net", words=NOTE)
def why_net_eye_onehot(x, labels, W1, b1, W2, b2):
    n = x.shape[0]
    z = x @ W1 + b1
    h = np.maximum(z, 0)
    s = h @ W2 + b2
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    ds = (p - np.eye(W2.shape[1])[labels]) / n
    dz = ds @ W2.T * (z > 0)
    return float(loss), {"W1": x.T @ dz, "b1": dz.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}


@right("gradient_descent", words=NOTE)
def why_gd_float_copy(loss_and_grad, w0, lr, steps):
    w = np.array(w0, dtype=float, copy=True)
    losses = []
    for _ in range(steps):
        loss, grad = loss_and_grad(w)
        losses.append(float(loss))
        w = w - lr * grad
    return w, losses


@right("momentum_step", words=NOTE)
def why_momentum_asarray_float(w, dw, velocity, lr, beta):
    v = beta * np.asarray(velocity, dtype=float) + dw
    return w - lr * v, v


@right("dropout_forward")
def why_dropout_keep_probability(x, p, rng):
    mask = rng.random(x.shape) < (1 - p)
    return x * mask / (1 - p), mask


# --- Wrong answers that were accepted: fragile formulas ----------------------------------------
@wrong("softmax_cross_entropy", "loss", "log_underflow", ("underflow", "log(0)", "log-sum-exp"))
def why_sce_log_after_shift(logits, labels):
    n = logits.shape[0]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return float(-np.mean(np.log(p[np.arange(n), labels]))), d / n


@wrong("softmax_cross_entropy", "loss", "one_max", ("max for all rows", "each row's own"))
def why_sce_one_global_max(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max()
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    d = np.exp(log_p)
    d[np.arange(n), labels] -= 1
    return float(-np.mean(log_p[np.arange(n), labels])), d / n


@wrong("two_layer_net", "loss", "no_max_subtraction", ("overflow", "largest score"))
def why_net_softmax_no_max(x, labels, W1, b1, W2, b2):
    n = x.shape[0]
    z = x @ W1 + b1
    h = np.maximum(z, 0)
    e = np.exp(h @ W2 + b2)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    ds = p.copy()
    ds[np.arange(n), labels] -= 1
    ds /= n
    dz = ds @ W2.T * (z > 0)
    return float(loss), {"W1": x.T @ dz, "b1": dz.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}


@wrong("sigmoid_forward", "out", "overflow", ("overflow", "nan", "1 / inf = 0"))
def why_sigmoid_exp_ratio(x):
    return np.exp(x) / (1 + np.exp(x))


@wrong("tanh_forward", "out", "overflow", ("overflow", "np.tanh"))
def why_tanh_exp_form(x):
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))


@wrong("sigmoid_backward", "dx", "overflow", ("overflow",))
def why_sigmoid_backward_exp_ratio(dout, x):
    s = np.exp(x) / (1 + np.exp(x))
    return dout * s * (1 - s)


@wrong("tanh_backward", "dx", "overflow", ("overflow",))
def why_tanh_backward_exp_form(dout, x):
    t = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
    return dout * (1 - t * t)


@wrong("gradient_descent", "w", "zero_steps", ("steps = 0", "loop must not run"))
def why_gd_one_step_for_zero(loss_and_grad, w0, lr, steps):
    w, losses, k = np.array(w0, copy=True), [], 0
    while True:  # tests its condition after the step
        loss, grad = loss_and_grad(w)
        losses.append(float(loss))
        w = w - lr * grad
        k += 1
        if k >= steps:
            return w, losses


# --- Misleading messages, now precise ----------------------------------------------------------
@wrong("relative_error", "error", "not_reduced", ("np.max", "worst entry", "!for a loss"))
def why_relerr_array(a, b):
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


@wrong("gradient_descent", "losses", "off_by_one", ("one entry per step", "!too far"))
def why_gd_extra_loss(loss_and_grad, w0, lr, steps):
    w, losses = np.array(w0, copy=True), []
    for _ in range(steps):
        loss, grad = loss_and_grad(w)
        losses.append(float(loss))
        w = w - lr * grad
    losses.append(float(loss_and_grad(w)[0]))  # one loss too many
    return w, losses


@wrong("mse_loss", "loss", "batch_size", ("K = ", "N*K", "!D = "))
def why_mse_mean_over_batch_only(pred, target):
    n = pred.shape[0]
    return float(np.sum((pred - target) ** 2) / n), 2 * (pred - target) / n


@wrong("sigmoid_forward", None, "math_module", ("math module", "np.exp", "!shape"))
def why_sigmoid_math_exp(x):
    return 1 / (1 + math.exp(-x))


@wrong("adam_step", "w", "t_off_by_one", ("a right answer stays below", "!suspicious", "!wrong)"))
def why_adam_t_minus_one(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw * dw
    m_hat = m / (1 - beta1 ** (t - 1)) if t > 1 else m
    v_hat = v / (1 - beta2 ** (t - 1)) if t > 1 else v
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("momentum_step", "v", "dtype", ("integer dtype", "!so w is wrong too"))
def why_momentum_int_velocity(w, dw, velocity, lr, beta):
    v = beta * velocity + dw
    return w - lr * v, v.astype(int)
