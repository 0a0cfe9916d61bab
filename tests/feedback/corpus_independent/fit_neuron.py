"""11 autograd: fit_neuron(x, y, params, lr, steps) -> (params, losses) with a Value engine.

Unlike most of this corpus, written by the author of the check (issue 13), so it is not held
out: it guards the check against regressions rather than measuring it."""

import numpy as np

from ._registry import SIGN, right, wrong
from .node_grads import engine

EX = "fit_neuron"
V = engine()


def _loss(p, x, y):
    total = V(0.0)
    for row, target in zip(x, y, strict=True):
        z = p[-1]
        for w, xv in zip(p[:-1], row, strict=True):
            z = z + w * float(xv)
        d = z.tanh() + (-float(target))
        total = total + d * d
    return total * (1.0 / len(y))


def _backward(root):
    order, seen = [], set()

    def go(v):
        if v not in seen:
            seen.add(v)
            for u in v._inputs:
                go(u)
            order.append(v)

    go(root)
    root.grad = 1.0
    for v in reversed(order):
        v._backward()


def _train(x, y, params, lr, steps, *, zero=True, sign=1.0, mean=True):
    p = [V(float(v)) for v in params]
    hist = []
    for _ in range(steps):
        loss = _loss(p, x, y)
        if not mean:
            loss = loss * float(len(y))
        if zero:
            for q in p:
                q.grad = 0.0
        _backward(loss)
        hist.append(loss.data)
        for q in p:
            q.data = q.data - sign * lr * q.grad
    return np.array([q.data for q in p]), hist


@right(EX)
def fit_generic(x, y, params, lr, steps):
    return _train(x, y, params, lr, steps)


@wrong(EX, "params", "never zeroes the gradients", ("zero", "pile up", "accumulate"))
def fit_stale_grads(x, y, params, lr, steps):
    return _train(x, y, params, lr, steps, zero=False)


@wrong(EX, ("params", "losses"), "gradient ascent", SIGN + ("uphill",))
def fit_uphill(x, y, params, lr, steps):
    return _train(x, y, params, lr, steps, sign=-1.0)


@wrong(EX, ("params", "losses"), "sum instead of mean", ("mean", "sum", "divide"))
def fit_summed(x, y, params, lr, steps):
    return _train(x, y, params, lr, steps, mean=False)


@wrong(EX, "losses", "losses as a float array with one entry short",
       ("entries", "one entry per step", "length", "steps"))
def fit_short_losses(x, y, params, lr, steps):
    p, hist = _train(x, y, params, lr, steps)
    return p, hist[1:]
