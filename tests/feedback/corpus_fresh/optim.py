"""Fresh corpus, notebooks 07-08: sgd, momentum, rmsprop and adam steps."""

import numpy as np
from corpus._mark import right, wrong


@right("sgd_step")
def sgd_subtract(w, dw, lr):
    return np.subtract(w, lr * dw)


@wrong("sgd_step", "w", "mutates_input")
def sgd_inplace(w, dw, lr):
    w -= lr * dw
    return w


@wrong("sgd_step", "w", "sign")
def sgd_plus(w, dw, lr):
    return w + lr * dw


@wrong("sgd_step", "w", "lr_ignored")
def sgd_no_lr(w, dw, lr):
    return w - dw


@right("momentum_step")
def momentum_named(w, dw, velocity, lr, beta):
    v_next = velocity * beta + dw
    return w - v_next * lr, v_next


@wrong("momentum_step", "w", "old_state")
def momentum_old_v(w, dw, velocity, lr, beta):
    w_next = w - lr * velocity
    return w_next, beta * velocity + dw


@wrong("momentum_step", "v", "momentum_convention")
def momentum_cs231n(w, dw, velocity, lr, beta):
    v = beta * velocity - lr * dw
    return w + v, v


@wrong("momentum_step", "v", "dampening")
def momentum_ema(w, dw, velocity, lr, beta):
    v = beta * velocity + (1 - beta) * dw
    return w - lr * v, v


@wrong("momentum_step", "w", "order")
def momentum_swapped(w, dw, velocity, lr, beta):
    v = beta * velocity + dw
    return v, w - lr * v


@right("rmsprop_step")
def rmsprop_square(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = decay * cache + (1 - decay) * np.square(dw)
    return w - lr * dw / (np.sqrt(c) + eps), c


@wrong("rmsprop_step", "w", "eps_placement")
def rmsprop_eps_inside(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = decay * cache + (1 - decay) * dw**2
    return w - lr * dw / np.sqrt(c + eps), c


@wrong("rmsprop_step", "cache", "not_squared")
def rmsprop_abs(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = decay * cache + (1 - decay) * np.abs(dw)
    return w - lr * dw / (np.sqrt(c) + eps), c


@wrong("rmsprop_step", "w", "order")
def rmsprop_swapped(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = decay * cache + (1 - decay) * dw**2
    return c, w - lr * dw / (np.sqrt(c) + eps)


@wrong("rmsprop_step", "w", "old_state")
def rmsprop_stale_cache(w, dw, cache, lr, decay=0.99, eps=1e-8):
    new = w - lr * dw / (np.sqrt(cache) + eps)
    return new, decay * cache + (1 - decay) * dw**2


@right("adam_step")
def adam_textbook(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m1 = beta1 * m + (1 - beta1) * dw
    v1 = beta2 * v + (1 - beta2) * dw * dw
    step = lr * (m1 / (1 - beta1**t)) / (np.sqrt(v1 / (1 - beta2**t)) + eps)
    return w - step, m1, v1


@wrong("adam_step", "w", "no_bias_correction")
def adam_uncorrected(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m1 = beta1 * m + (1 - beta1) * dw
    v1 = beta2 * v + (1 - beta2) * dw**2
    return w - lr * m1 / (np.sqrt(v1) + eps), m1, v1


@wrong("adam_step", "w", "t_off_by_one")
def adam_t_plus_one(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m1 = beta1 * m + (1 - beta1) * dw
    v1 = beta2 * v + (1 - beta2) * dw**2
    mh = m1 / (1 - beta1 ** (t + 1))
    vh = v1 / (1 - beta2 ** (t + 1))
    return w - lr * mh / (np.sqrt(vh) + eps), m1, v1


@wrong("adam_step", "m", "corrected_state")
def adam_returns_hats(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m1 = (beta1 * m + (1 - beta1) * dw) / (1 - beta1**t)
    v1 = (beta2 * v + (1 - beta2) * dw**2) / (1 - beta2**t)
    return w - lr * m1 / (np.sqrt(v1) + eps), m1, v1


@wrong("adam_step", "w", "order")
def adam_w_v_m(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m1 = beta1 * m + (1 - beta1) * dw
    v1 = beta2 * v + (1 - beta2) * dw**2
    w1 = w - lr * (m1 / (1 - beta1**t)) / (np.sqrt(v1 / (1 - beta2**t)) + eps)
    return v1, m1, w1


@wrong("adam_step", "w", "eps_placement")
def adam_eps_inside(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m1 = beta1 * m + (1 - beta1) * dw
    v1 = beta2 * v + (1 - beta2) * dw**2
    mh, vh = m1 / (1 - beta1**t), v1 / (1 - beta2**t)
    return w - lr * mh / np.sqrt(vh + eps), m1, v1
