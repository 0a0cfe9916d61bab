"""08 optimizers: rmsprop_step(w, dw, cache, lr, decay=0.99, eps=1e-8) -> (w_new, cache_new)."""

import numpy as np

from ._registry import IN_PLACE, SIGN, right, wrong

EX = "rmsprop_step"
W = ("w_new", "w")
C = ("cache_new", "cache")
SQUARE = ("square", "dw**2", "dw^2", "dw ** 2", "dw²", "dw * dw")


@wrong(EX, W, "eps inside the square root", ("eps", "epsilon", "sqrt"))
def rms_eps_inside(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = decay * cache + (1 - decay) * dw**2
    return w - lr * dw / np.sqrt(c + eps), c


@wrong(EX, C, "cache accumulates dw, not dw^2", SQUARE)
def rms_not_squared(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = decay * cache + (1 - decay) * dw
    return w - lr * dw / (np.sqrt(np.abs(c)) + eps), c


@wrong(EX, W, "update uses the old cache",
       ("old cache", "previous cache", "new cache", "updated cache", "before updat", "stale",
        "cache_new"))
def rms_old_cache(w, dw, cache, lr, decay=0.99, eps=1e-8):
    w_new = w - lr * dw / (np.sqrt(cache) + eps)
    return w_new, decay * cache + (1 - decay) * dw**2


@wrong(EX, C, "decay and 1 - decay swapped",
       ("swap", "1 - decay", "(1 - decay)", "decay *", "exchanged"))
def rms_swapped_decay(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = (1 - decay) * cache + decay * dw**2
    return w - lr * dw / (np.sqrt(c) + eps), c


@wrong(EX, C, "updates cache in place", IN_PLACE)
def rms_in_place(w, dw, cache, lr, decay=0.99, eps=1e-8):
    cache *= decay
    cache += (1 - decay) * dw * dw
    return w - lr * dw / (np.sqrt(cache) + eps), cache


@wrong(EX, W, "forgot the square root", ("sqrt", "square root", "√"))
def rms_no_sqrt(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = decay * cache + (1 - decay) * dw**2
    return w - lr * dw / (c + eps), c


@wrong(EX, W, "sign flipped", SIGN + ("ascent",))
def rms_sign(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = decay * cache + (1 - decay) * dw**2
    return w + lr * dw / (np.sqrt(c) + eps), c


@right(EX)
def rms_right_ufuncs(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = np.add(np.multiply(decay, cache), np.multiply(1 - decay, np.square(dw)))
    return np.subtract(w, lr * np.divide(dw, np.add(np.sqrt(c), eps))), c


@right(EX)
def rms_right_copy_in_place(w, dw, cache, lr, decay=0.99, eps=1e-8):
    c = cache.copy()
    c *= decay
    c += (1 - decay) * dw * dw
    denom = np.sqrt(c)
    denom += eps
    out = w.copy()
    out -= lr * dw / denom
    return out, c
