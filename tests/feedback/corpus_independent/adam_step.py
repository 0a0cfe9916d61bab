"""08 optimizers: adam_step(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8) -> (w, m, v)."""

import numpy as np

from ._registry import IN_PLACE, ORDER, SIGN, right, wrong

EX = "adam_step"
W = ("w_new", "w")
M = ("m_new", "m")
V = ("v_new", "v")
BIAS = ("bias correction", "bias-correct", "bias correct", "m_hat", "1 - beta1**t",
        "1 - beta1 ** t", "corrected")
SQUARE = ("square", "dw**2", "dw^2", "dw ** 2", "dw²", "dw * dw")


def _mv(dw, m, v, beta1, beta2):
    return beta1 * m + (1 - beta1) * dw, beta2 * v + (1 - beta2) * dw * dw


@wrong(EX, W, "no bias correction", BIAS)
def adam_no_bias_correction(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m2, v2 = _mv(dw, m, v, beta1, beta2)
    return w - lr * m2 / (np.sqrt(v2) + eps), m2, v2


@wrong(EX, W, "t off by one in the bias correction (t + 1)",
       ("off by one", "off-by-one", "t + 1", "t+1", "t - 1", "t-1", "t starts", "starting at 1",
        "starts at 1"))
def adam_t_plus_one(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    t = t + 1  # CS231n-style increment, but t already counts from 1 here
    m2, v2 = _mv(dw, m, v, beta1, beta2)
    mh = m2 / (1 - beta1**t)
    vh = v2 / (1 - beta2**t)
    return w - lr * mh / (np.sqrt(vh) + eps), m2, v2


@wrong(EX, V, "v accumulates dw, not dw^2", SQUARE)
def adam_v_not_squared(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m2 = beta1 * m + (1 - beta1) * dw
    v2 = beta2 * v + (1 - beta2) * dw
    mh = m2 / (1 - beta1**t)
    vh = v2 / (1 - beta2**t)
    return w - lr * mh / (np.sqrt(np.abs(vh)) + eps), m2, v2


@wrong(EX, W, "eps inside the square root", ("eps", "epsilon", "sqrt"))
def adam_eps_inside(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m2, v2 = _mv(dw, m, v, beta1, beta2)
    mh = m2 / (1 - beta1**t)
    vh = v2 / (1 - beta2**t)
    return w - lr * mh / np.sqrt(vh + eps), m2, v2


@wrong(EX, M, "returns the bias-corrected m_hat, v_hat as the new state",
       ("bias-corrected", "bias corrected", "m_hat", "uncorrected", "raw", "hat"))
def adam_returns_hats(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m2, v2 = _mv(dw, m, v, beta1, beta2)
    mh = m2 / (1 - beta1**t)
    vh = v2 / (1 - beta2**t)
    return w - lr * mh / (np.sqrt(vh) + eps), mh, vh


@wrong(EX, M, "beta1 and beta2 swapped",
       ("swap", "exchanged", "beta1 and beta2", "beta2 and beta1", "mixed up"))
def adam_swapped_betas(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m2, v2 = _mv(dw, m, v, beta2, beta1)
    mh = m2 / (1 - beta2**t)
    vh = v2 / (1 - beta1**t)
    return w - lr * mh / (np.sqrt(vh) + eps), m2, v2


@wrong(EX, M, "updates m and v in place", IN_PLACE)
def adam_in_place(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m *= beta1
    m += (1 - beta1) * dw
    v *= beta2
    v += (1 - beta2) * dw * dw
    mh = m / (1 - beta1**t)
    vh = v / (1 - beta2**t)
    return w - lr * mh / (np.sqrt(vh) + eps), m, v


@wrong(EX, M + V, "returns (w, v, m)", ORDER)
def adam_order(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m2, v2 = _mv(dw, m, v, beta1, beta2)
    mh = m2 / (1 - beta1**t)
    vh = v2 / (1 - beta2**t)
    return w - lr * mh / (np.sqrt(vh) + eps), v2, m2


@wrong(EX, W, "sign flipped", SIGN + ("ascent",))
def adam_sign(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m2, v2 = _mv(dw, m, v, beta1, beta2)
    mh = m2 / (1 - beta1**t)
    vh = v2 / (1 - beta2**t)
    return w + lr * mh / (np.sqrt(vh) + eps), m2, v2


@wrong(EX, W, "bias correction without the power t: m / (1 - beta1)",
       BIAS + ("** t", "**t", "^t", "power"))
def adam_no_power(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m2, v2 = _mv(dw, m, v, beta1, beta2)
    mh = m2 / (1 - beta1)
    vh = v2 / (1 - beta2)
    return w - lr * mh / (np.sqrt(vh) + eps), m2, v2


@wrong(EX, M, "m without the (1 - beta1) factor: m = beta1*m + dw",
       ("1 - beta1", "(1 - beta1)", "1-beta1", "moving average", "ema"))
def adam_m_no_one_minus(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m2 = beta1 * m + dw
    v2 = beta2 * v + (1 - beta2) * dw * dw
    mh = m2 / (1 - beta1**t)
    vh = v2 / (1 - beta2**t)
    return w - lr * mh / (np.sqrt(vh) + eps), m2, v2


@right(EX)
def adam_right_folded_step_size(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    # the Kingma & Ba "efficient" form would move eps; keep it exact instead
    m2 = m + (1 - beta1) * (dw - m)
    v2 = v + (1 - beta2) * (np.square(dw) - v)
    c1 = 1 - beta1**t
    c2 = 1 - beta2**t
    denom = np.sqrt(v2 / c2) + eps
    return w - (lr / c1) * m2 / denom, m2, v2


@right(EX)
def adam_right_copies_in_place(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m2 = m.copy()
    m2 *= beta1
    m2 += (1 - beta1) * dw
    v2 = v.copy()
    v2 *= beta2
    v2 += (1 - beta2) * dw**2
    out = np.array(w, copy=True)
    out -= lr * (m2 / (1 - beta1**t)) / (np.sqrt(v2 / (1 - beta2**t)) + eps)
    return out, m2, v2
