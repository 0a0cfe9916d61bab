"""08 optimizers: momentum_step(w, dw, velocity, lr, beta) -> (w_new, v_new).

v = beta * v + dw; w = w - lr * v (PyTorch convention).
"""

import numpy as np

from ._registry import IN_PLACE, ORDER, SIGN, right, wrong

EX = "momentum_step"
W = ("w_new", "w")
V = ("v_new", "v", "velocity")


@wrong(EX, W, "applies the old velocity to w",
       ("old velocity", "previous velocity", "new velocity", "updated velocity", "old v",
        "before updat", "stale", "v_new"))
def mom_old_velocity(w, dw, velocity, lr, beta):
    w_new = w - lr * velocity
    return w_new, beta * velocity + dw


@wrong(EX, V, "CS231n convention v = beta*v - lr*dw; w += v",
       ("convention", "pytorch", "cs231n", "-lr", "- lr *", "scaled by lr", "times lr",
        "multiplied by lr", "factor of lr", "factor lr", "includes lr", "learning rate"))
def mom_cs231n(w, dw, velocity, lr, beta):
    v = beta * velocity - lr * dw
    return w + v, v


@wrong(EX, V, "dampening: v = beta*v + (1 - beta)*dw",
       ("1 - beta", "(1 - beta)", "1-beta", "dampen", "moving average", "ema"))
def mom_dampened(w, dw, velocity, lr, beta):
    v = beta * velocity + (1 - beta) * dw
    return w - lr * v, v


@wrong(EX, V, "updates velocity in place", IN_PLACE)
def mom_in_place(w, dw, velocity, lr, beta):
    velocity *= beta
    velocity += dw
    return w - lr * velocity, velocity


@wrong(EX, W, "sign: w + lr * v", SIGN + ("ascent",))
def mom_sign(w, dw, velocity, lr, beta):
    v = beta * velocity + dw
    return w + lr * v, v


@wrong(EX, W + V, "returns (v, w)", ORDER)
def mom_order(w, dw, velocity, lr, beta):
    v = beta * velocity + dw
    return v, w - lr * v


@wrong(EX, V, "beta multiplies dw instead of the velocity: v = v + beta*dw",
       ("beta * v", "beta*v", "beta * velocity", "beta*velocity", "beta * dw", "beta*dw",
        "beta on dw", "multiplies dw"))
def mom_beta_on_dw(w, dw, velocity, lr, beta):
    v = velocity + beta * dw
    return w - lr * v, v


@right(EX)
def mom_right_copies(w, dw, velocity, lr, beta):
    v = velocity.copy()
    v *= beta
    v += dw
    w_new = w.copy()
    w_new -= lr * v
    return w_new, v


@right(EX)
def mom_right_loops(w, dw, velocity, lr, beta):
    w_new = np.empty_like(w)
    v_new = np.empty_like(velocity)
    for i in np.ndindex(w.shape):
        v_new[i] = beta * velocity[i] + dw[i]
        w_new[i] = w[i] - lr * v_new[i]
    return w_new, v_new
