"""Tuning corpus, notebook 08: momentum, RMSProp and Adam steps."""

import numpy as np

from ._mark import right, wrong


@right("momentum_step")
def mom_plain(w, dw, velocity, lr, beta):
    v = beta * velocity + dw
    return w - lr * v, v


@right("momentum_step")
def mom_copy_inplace(w, dw, velocity, lr, beta):
    v = velocity.copy()
    v *= beta
    v += dw
    w2 = w.copy()
    w2 -= lr * v
    return w2, v


@wrong("momentum_step", "w", "old_state")
def mom_old_velocity(w, dw, velocity, lr, beta):
    return w - lr * velocity, beta * velocity + dw


@wrong("momentum_step", "v", "momentum_convention")
def mom_other_convention(w, dw, velocity, lr, beta):
    v = beta * velocity - lr * dw
    return w + v, v


@wrong("momentum_step", "w", "order")
def mom_order(w, dw, velocity, lr, beta):
    v = beta * velocity + dw
    return v, w - lr * v


@wrong("momentum_step", "velocity", "mutates_input")
def mom_velocity_inplace(w, dw, velocity, lr, beta):
    velocity *= beta
    velocity += dw
    return w - lr * velocity, velocity


@wrong("momentum_step", "v", "dampening")
def mom_dampened(w, dw, velocity, lr, beta):
    v = beta * velocity + (1 - beta) * dw
    return w - lr * v, v


@right("rmsprop_step")
def rms_plain(w, dw, cache, lr, decay=0.99, eps=1e-8):
    cache = decay * cache + (1 - decay) * dw**2
    return w - lr * dw / (np.sqrt(cache) + eps), cache


@wrong("rmsprop_step", "w", "eps_placement")
def rms_eps_in_sqrt(w, dw, cache, lr, decay=0.99, eps=1e-8):
    cache = decay * cache + (1 - decay) * dw**2
    return w - lr * dw / np.sqrt(cache + eps), cache


@wrong("rmsprop_step", "w", "old_state")
def rms_old_cache(w, dw, cache, lr, decay=0.99, eps=1e-8):
    new_cache = decay * cache + (1 - decay) * dw**2
    return w - lr * dw / (np.sqrt(cache) + eps), new_cache


@wrong("rmsprop_step", "cache", "decay_swapped")
def rms_swapped_decay(w, dw, cache, lr, decay=0.99, eps=1e-8):
    cache = (1 - decay) * cache + decay * dw**2
    return w - lr * dw / (np.sqrt(cache) + eps), cache


@wrong("rmsprop_step", "w", "eps_ignored")
def rms_hardcoded_eps(w, dw, cache, lr, decay=0.99, eps=1e-8):
    cache = decay * cache + (1 - decay) * dw**2
    return w - lr * dw / (np.sqrt(cache) + 1e-8), cache


@wrong("rmsprop_step", "cache", "mutates_input")
def rms_cache_inplace(w, dw, cache, lr, decay=0.99, eps=1e-8):
    cache *= decay
    cache += (1 - decay) * dw**2
    return w - lr * dw / (np.sqrt(cache) + eps), cache


@right("adam_step")
def adam_plain(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("adam_step", "w", "no_bias_correction")
def adam_no_correction(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    return w - lr * m / (np.sqrt(v) + eps), m, v


@wrong("adam_step", "w", "t_off_by_one")
def adam_t_minus_one(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    m_hat = m / (1 - beta1 ** (t - 1))
    v_hat = v / (1 - beta2 ** (t - 1))
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("adam_step", "m", "corrected_state")
def adam_store_hats(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = (beta1 * m + (1 - beta1) * dw) / (1 - beta1**t)
    v = (beta2 * v + (1 - beta2) * dw**2) / (1 - beta2**t)
    return w - lr * m / (np.sqrt(v) + eps), m, v


@wrong("adam_step", "w", "order")
def adam_order(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    w_new, m_new, v_new = adam_plain(w, dw, m, v, t, lr, beta1, beta2, eps)
    return m_new, v_new, w_new


@wrong("adam_step", "m", "mutates_input")
def adam_inplace_moments(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m *= beta1
    m += (1 - beta1) * dw
    v *= beta2
    v += (1 - beta2) * dw**2
    return w - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v
