"""07 learning rate: gradient_descent(loss_and_grad, w0, lr, steps) -> (w, losses)."""

import numpy as np

from ._registry import IN_PLACE, ORDER, SIGN, right, wrong

EX = "gradient_descent"


@wrong(EX, ("w0",), "w = w0 then w -= ...: mutates w0", IN_PLACE + ("w0",))
def gd_mutates_w0(loss_and_grad, w0, lr, steps):
    w = w0
    losses = []
    for _ in range(steps):
        loss, dw = loss_and_grad(w)
        losses.append(loss)
        w -= lr * dw
    return w, losses


@wrong(EX, "losses", "records the loss after each step instead of before",
       ("before", "after", "off by one", "first loss", "shifted"))
def gd_loss_after(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        _, dw = loss_and_grad(w)
        w = w - lr * dw
        losses.append(loss_and_grad(w)[0])
    return w, losses


@wrong(EX, ("losses", "w"), "range(1, steps): one step too few",
       ("iteration", "len", "one fewer", "off by one", "one step", "too few", "steps - 1"))
def gd_one_short(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(1, steps):
        loss, dw = loss_and_grad(w)
        losses.append(loss)
        w = w - lr * dw
    return w, losses


@wrong(EX, ("w", "losses"), "gradient ascent: w + lr * dw", SIGN + ("ascent", "increas"))
def gd_ascent(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        loss, dw = loss_and_grad(w)
        losses.append(loss)
        w = w + lr * dw
    return w, losses


@wrong(EX, ("w", "losses"), "learning rate ignored",
       ("learning rate", "forgot lr", "lr missing", "without lr", "factor of lr", "factor lr",
        "by lr", "1/lr", "ignor"))
def gd_no_lr(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        loss, dw = loss_and_grad(w)
        losses.append(loss)
        w = w - dw
    return w, losses


@wrong(EX, ("w", "losses"), "returns (losses, w)", ORDER)
def gd_order(loss_and_grad, w0, lr, steps):
    w = w0.copy()
    losses = []
    for _ in range(steps):
        loss, dw = loss_and_grad(w)
        losses.append(loss)
        w = w - lr * dw
    return losses, w


@right(EX)
def gd_right_preallocated(loss_and_grad, w0, lr, steps):
    w = np.array(w0, copy=True)
    losses = [0.0] * steps
    for i in range(steps):
        loss, dw = loss_and_grad(w)
        losses[i] = float(loss)
        w -= lr * dw  # in place on our own copy
    return w, losses


@right(EX)
def gd_right_while(loss_and_grad, w0, lr, steps):
    w, losses, i = w0, [], 0
    while i < steps:
        loss, dw = loss_and_grad(w)
        losses.append(loss)
        w = w - lr * dw
        i += 1
    return w, losses
