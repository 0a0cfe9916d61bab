"""Gradient descent and its faster relatives, as step functions and as optimizer objects.

Step functions are pure: they return the new weights (and new optimizer state) and leave
their inputs alone. The optimizer objects below compute the same formulas in place, into
arrays they keep between steps: a training step then allocates nothing for the update, which
matters once the weights are megabytes (tests/test_optim.py checks both give the same numbers).
Conventions are PyTorch's, so the numbers match what learners meet later.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from course import _validate as val
from course.network import Parameter


def _same(fn: str, w: np.ndarray, **others: np.ndarray) -> None:
    for name, a in others.items():
        val.same_shape(fn, name, a, "w", w)


def sgd_step(w: np.ndarray, dw: np.ndarray, lr: float) -> np.ndarray:
    """Plain gradient descent: w_new = w - lr * dw.

    w, dw: the same shape.  lr: learning rate >= 0.  Returns w_new: shape of w.
    """
    w, dw = val.floats("sgd_step", w=w, dw=dw)
    _same("sgd_step", w, dw=dw)
    lr = val.positive_finite("sgd_step", "lr", lr)
    return w - lr * dw


def momentum_step(
    w: np.ndarray, dw: np.ndarray, velocity: np.ndarray, lr: float, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent with momentum: v_new = beta * v + dw, w_new = w - lr * v_new.

    w, dw, velocity: the same shape (velocity starts at zeros).  lr >= 0, beta in [0, 1).
    Returns (w_new, v_new), both shaped like w.
    """
    fn = "momentum_step"
    w, dw, velocity = val.floats(fn, w=w, dw=dw, velocity=velocity)
    _same(fn, w, dw=dw, velocity=velocity)
    lr = val.positive_finite(fn, "lr", lr)
    beta = val.probability(fn, "beta", beta)
    v_new = beta * velocity + dw
    return w - lr * v_new, v_new


def rmsprop_step(
    w: np.ndarray,
    dw: np.ndarray,
    cache: np.ndarray,
    lr: float,
    decay: float = 0.99,
    eps: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray]:
    """RMSProp: cache_new = decay * cache + (1 - decay) * dw^2,
    w_new = w - lr * dw / (sqrt(cache_new) + eps).

    w, dw, cache: the same shape (cache starts at zeros).
    Returns (w_new, cache_new), both shaped like w.
    """
    fn = "rmsprop_step"
    w, dw, cache = val.floats(fn, w=w, dw=dw, cache=cache)
    _same(fn, w, dw=dw, cache=cache)
    lr = val.positive_finite(fn, "lr", lr)
    decay = val.probability(fn, "decay", decay)
    eps = val.positive_finite(fn, "eps", eps)
    cache_new = decay * cache + (1 - decay) * dw * dw
    return w - lr * dw / (np.sqrt(cache_new) + eps), cache_new


def adam_step(
    w: np.ndarray,
    dw: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    t: int,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adam, with bias correction (t counts steps from 1).

    m_new = beta1 m + (1 - beta1) dw,  v_new = beta2 v + (1 - beta2) dw^2,
    w_new = w - lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m_new / (1 - beta1^t),
    v_hat = v_new / (1 - beta2^t).
    w, dw, m, v: the same shape (m and v start at zeros).
    Returns (w_new, m_new, v_new), all shaped like w.
    """
    fn = "adam_step"
    w, dw, m, v = val.floats(fn, w=w, dw=dw, m=m, v=v)
    _same(fn, w, dw=dw, m=m, v=v)
    if isinstance(t, bool) or not float(t).is_integer() or t < 1:
        raise ValueError(f"{fn}: t is the step number and starts at 1, got {t!r}.")
    lr = val.positive_finite(fn, "lr", lr)
    beta1 = val.probability(fn, "beta1", beta1)
    beta2 = val.probability(fn, "beta2", beta2)
    eps = val.positive_finite(fn, "eps", eps)
    m_new = beta1 * m + (1 - beta1) * dw
    v_new = beta2 * v + (1 - beta2) * dw * dw
    m_hat = m_new / (1 - beta1**t)
    v_hat = v_new / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new



# --- Optimizer objects -------------------------------------------------------------------------
class Optimizer:
    """Base class: holds the parameters, the learning rate and per-parameter state.

    params: an iterable of Parameter (e.g. ``model.parameters()``).  lr: learning rate.
    ``step()`` updates every ``p.value`` in place from ``p.grad``.
    """

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimize.")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise ValueError(
                    f"{type(self).__name__}: params must be Parameter objects (use "
                    f"model.parameters()), got {type(p).__name__}."
                )
        self.lr = val.positive_finite(type(self).__name__, "lr", lr)
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Set every gradient to zero."""
        for p in self.params:
            p.grad.fill(0)

    def step(self) -> None:
        """Update every parameter once from its gradient."""
        name = type(self).__name__
        val.positive_finite(name, "lr", self.lr)  # .lr may have been set since __init__
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad.shape != p.value.shape:
                raise ValueError(
                    f"{name}: parameter {p.name!r} has shape {p.value.shape} but its gradient "
                    f"has shape {p.grad.shape}; they must match."
                )
            self._update(p, state)

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"


class SGD(Optimizer):
    """Plain gradient descent: w <- w - lr * dw."""

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        p.value -= self.lr * p.grad  # sgd_step, in place


class Momentum(Optimizer):
    """Momentum (PyTorch's form): v <- beta v + dw, w <- w - lr v.

    With ``nesterov=True`` the step looks ahead: w <- w - lr (dw + beta v).
    """

    def __init__(
        self, params: Iterable[Parameter], lr: float, beta: float = 0.9, nesterov: bool = False
    ) -> None:
        super().__init__(params, lr)
        self.beta = val.probability("Momentum", "beta", beta)
        self.nesterov = nesterov

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        # momentum_step's formulas, computed in place (no new arrays per step)
        if "velocity" not in state:
            state["velocity"] = np.zeros_like(p.value)
            state["buf"] = np.empty_like(p.value)
        w, dw, velocity, buf = p.value, p.grad, state["velocity"], state["buf"]
        velocity *= self.beta  # v = beta v + dw
        velocity += dw
        if self.nesterov:  # w -= lr (dw + beta v)
            np.multiply(velocity, self.beta, out=buf)
            buf += dw
            buf *= self.lr
        else:  # w -= lr v
            np.multiply(velocity, self.lr, out=buf)
        w -= buf


class RMSProp(Optimizer):
    """RMSProp: divide each step by a running root-mean-square of recent gradients."""

    def __init__(
        self, params: Iterable[Parameter], lr: float, decay: float = 0.99, eps: float = 1e-8
    ) -> None:
        super().__init__(params, lr)
        self.decay = val.probability("RMSProp", "decay", decay)
        self.eps = val.positive_finite("RMSProp", "eps", eps)

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        # rmsprop_step's formulas, computed in place (no new arrays per step)
        if "cache" not in state:
            state["cache"] = np.zeros_like(p.value)
            state["buf"] = np.empty_like(p.value)
        w, dw, cache, buf = p.value, p.grad, state["cache"], state["buf"]
        cache *= self.decay  # cache = decay cache + (1 - decay) dw^2
        np.multiply(dw, dw, out=buf)
        buf *= 1 - self.decay
        cache += buf
        np.sqrt(cache, out=buf)  # w -= lr dw / (sqrt(cache) + eps)
        buf += self.eps
        np.divide(dw, buf, out=buf)
        buf *= self.lr
        w -= buf


class Adam(Optimizer):
    """Adam: momentum on the gradient and on its square, both bias-corrected."""

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        self.beta1 = val.probability("Adam", "beta1", beta1)
        self.beta2 = val.probability("Adam", "beta2", beta2)
        self.eps = val.positive_finite("Adam", "eps", eps)
        self.t = 0

    def step(self) -> None:
        self.t += 1
        super().step()

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        # adam_step's formulas, computed in place: no new arrays per step (the step is then
        # bound by memory bandwidth, not by allocating and page-faulting temporaries).
        if "m" not in state:
            state["m"] = np.zeros_like(p.value)
            state["v"] = np.zeros_like(p.value)
            state["buf"] = np.empty_like(p.value)
        w, dw, m, v, buf = p.value, p.grad, state["m"], state["v"], state["buf"]
        m *= self.beta1  # m = beta1 m + (1 - beta1) dw
        np.multiply(dw, 1 - self.beta1, out=buf)
        m += buf
        v *= self.beta2  # v = beta2 v + (1 - beta2) dw^2
        np.multiply(dw, dw, out=buf)
        buf *= 1 - self.beta2
        v += buf
        np.divide(v, 1 - self.beta2**self.t, out=buf)  # buf = sqrt(v_hat) + eps
        np.sqrt(buf, out=buf)
        buf += self.eps
        np.divide(m, buf, out=buf)  # w -= lr * m_hat / (sqrt(v_hat) + eps)
        buf *= self.lr / (1 - self.beta1**self.t)
        w -= buf
