"""Gradient descent and its faster relatives, as step functions and as optimizer objects.

Each update formula is written once, below, as a private function that reads the weights and
the optimizer state and writes the new ones into output arrays (as PyTorch writes each formula
once, in the functional ``torch.optim.adam`` that ``Adam.step()`` calls). Two ways to use it:

- the step functions (``sgd_step``, ``momentum_step``, ``rmsprop_step``, ``adam_step``: the
  learners' contract) are pure: they write into fresh arrays and return them, leaving their
  inputs alone;
- the optimizer objects (``SGD``, ``Momentum``, ``RMSProp``, ``Adam``) update ``p.value`` and
  their state arrays in place, with a scratch array they keep: a training step then allocates
  nothing for the update, which matters once the weights are megabytes.

Conventions are PyTorch's, so the numbers match what learners meet later.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from course import _validate as val
from course.network import Parameter


# --- The formulas, each written once -----------------------------------------------------------
# Each reads the weights and state (w, velocity, ...) and writes the new ones into the *_out
# arrays, which may be the inputs themselves: the optimizer objects update in place that way,
# the step functions pass fresh arrays. `buf` is scratch space shaped like w; it may be w_out
# unless w_out is w (w_out is written last, from w and buf).
def _sgd(w: np.ndarray, dw: np.ndarray, lr: float, *, w_out: np.ndarray, buf: np.ndarray) -> None:
    """w_out = w - lr dw."""
    np.multiply(dw, lr, out=buf)
    np.subtract(w, buf, out=w_out)


def _momentum(
    w: np.ndarray, dw: np.ndarray, velocity: np.ndarray, lr: float, beta: float, *,
    w_out: np.ndarray, v_out: np.ndarray, buf: np.ndarray, nesterov: bool = False,
) -> None:
    """v_out = beta velocity + dw;  w_out = w - lr v_out  (Nesterov: w - lr (dw + beta v_out))."""
    np.multiply(velocity, beta, out=v_out)
    v_out += dw
    if nesterov:
        np.multiply(v_out, beta, out=buf)
        buf += dw
        buf *= lr
    else:
        np.multiply(v_out, lr, out=buf)
    np.subtract(w, buf, out=w_out)


def _rmsprop(
    w: np.ndarray, dw: np.ndarray, cache: np.ndarray, lr: float, decay: float, eps: float, *,
    w_out: np.ndarray, cache_out: np.ndarray, buf: np.ndarray,
) -> None:
    """cache_out = decay cache + (1 - decay) dw^2;  w_out = w - lr dw / (sqrt(cache_out) + eps)."""
    np.multiply(cache, decay, out=cache_out)
    np.multiply(dw, dw, out=buf)
    buf *= 1 - decay
    cache_out += buf
    np.sqrt(cache_out, out=buf)
    buf += eps
    np.divide(dw, buf, out=buf)
    buf *= lr
    np.subtract(w, buf, out=w_out)


def _adam(
    w: np.ndarray, dw: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float,
    beta1: float, beta2: float, eps: float, *,
    w_out: np.ndarray, m_out: np.ndarray, v_out: np.ndarray, buf: np.ndarray,
) -> None:
    """m_out = beta1 m + (1 - beta1) dw;  v_out = beta2 v + (1 - beta2) dw^2;
    w_out = w - lr m_hat / (sqrt(v_hat) + eps), m_hat = m_out / (1 - beta1^t),
    v_hat = v_out / (1 - beta2^t).
    """
    np.multiply(m, beta1, out=m_out)
    np.multiply(dw, 1 - beta1, out=buf)
    m_out += buf
    np.multiply(v, beta2, out=v_out)
    np.multiply(dw, dw, out=buf)
    buf *= 1 - beta2
    v_out += buf
    np.divide(v_out, 1 - beta2**t, out=buf)  # buf = sqrt(v_hat) + eps
    np.sqrt(buf, out=buf)
    buf += eps
    np.divide(m_out, buf, out=buf)  # buf = m_out / (sqrt(v_hat) + eps), then times
    buf *= lr / (1 - beta1**t)  # lr / (1 - beta1^t): the step lr m_hat / (sqrt(v_hat) + eps)
    np.subtract(w, buf, out=w_out)


# --- The step functions: the learners' contract, pure -------------------------------------------
def _arrays(fn: str, **arrays: np.ndarray) -> list[np.ndarray]:
    """The arrays as floats of one dtype, every one shaped like the first (w)."""
    values = val.floats(fn, **arrays)
    shape = values[0].shape
    for a in values:
        if a.shape != shape:
            for name, b in zip(arrays, values, strict=True):
                val.same_shape(fn, name, b, "w", values[0])
    return values


def sgd_step(w: np.ndarray, dw: np.ndarray, lr: float) -> np.ndarray:
    """Plain gradient descent: w_new = w - lr * dw.

    w, dw: the same shape.  lr: learning rate >= 0.  Returns w_new: shape of w.
    """
    w, dw = _arrays("sgd_step", w=w, dw=dw)
    lr = val.positive_finite("sgd_step", "lr", lr)
    w_new = np.empty_like(w)
    _sgd(w, dw, lr, w_out=w_new, buf=w_new)
    return w_new


def momentum_step(
    w: np.ndarray, dw: np.ndarray, velocity: np.ndarray, lr: float, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent with momentum: v_new = beta * v + dw, w_new = w - lr * v_new.

    w, dw, velocity: the same shape (velocity starts at zeros).  lr >= 0, beta in [0, 1).
    Returns (w_new, v_new), both shaped like w.
    """
    fn = "momentum_step"
    w, dw, velocity = _arrays(fn, w=w, dw=dw, velocity=velocity)
    lr = val.positive_finite(fn, "lr", lr)
    beta = val.probability(fn, "beta", beta)
    w_new, v_new = np.empty_like(w), np.empty_like(w)
    _momentum(w, dw, velocity, lr, beta, w_out=w_new, v_out=v_new, buf=w_new)
    return w_new, v_new


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
    w, dw, cache = _arrays(fn, w=w, dw=dw, cache=cache)
    lr = val.positive_finite(fn, "lr", lr)
    decay = val.probability(fn, "decay", decay)
    eps = val.positive_finite(fn, "eps", eps)
    w_new, cache_new = np.empty_like(w), np.empty_like(w)
    _rmsprop(w, dw, cache, lr, decay, eps, w_out=w_new, cache_out=cache_new, buf=w_new)
    return w_new, cache_new


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
    w, dw, m, v = _arrays(fn, w=w, dw=dw, m=m, v=v)
    if isinstance(t, bool) or not float(t).is_integer() or t < 1:
        raise ValueError(f"{fn}: t is the step number and starts at 1, got {t!r}.")
    lr = val.positive_finite(fn, "lr", lr)
    beta1 = val.probability(fn, "beta1", beta1)
    beta2 = val.probability(fn, "beta2", beta2)
    eps = val.positive_finite(fn, "eps", eps)
    w_new, m_new, v_new = np.empty_like(w), np.empty_like(w), np.empty_like(w)
    _adam(w, dw, m, v, t, lr, beta1, beta2, eps, w_out=w_new, m_out=m_new, v_out=v_new, buf=w_new)
    return w_new, m_new, v_new


# --- Optimizer objects -------------------------------------------------------------------------
_BLOCK = 1 << 18  # numbers per block of the packed update: 2 MiB of float64 per array


def _joined(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The flat array whose consecutive pieces `arrays` are, in order and covering it, or None."""
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    address = base.ctypes.data
    for a in arrays:
        if a.base is not base or not a.flags.c_contiguous or a.ctypes.data != address:
            return None
        address += a.nbytes
    return base if address == base.ctypes.data + base.nbytes else None


class Optimizer:
    """Base class: holds the parameters, the learning rate and per-parameter state.

    params: an iterable of Parameter (e.g. ``model.parameters()``).  lr: learning rate.
    ``step()`` updates every ``p.value`` in place from ``p.grad``.
    ``state[i]`` holds parameter i's state arrays (named in ``state_names``, zeros at first)
    and a scratch array "buf", all shaped like the parameter.

    When the parameters are consecutive pieces of one flat array and their gradients of
    another (`mlp` builds them so), the state is kept the same way and ``step()`` updates
    every parameter in one call on the flat arrays: the same formula, a few NumPy calls per
    step instead of a dozen per parameter.
    """

    state_names: tuple[str, ...] = ()

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
        names = (*self.state_names, "buf")
        values = _joined([p.value for p in self.params])
        grads = _joined([p.grad for p in self.params])
        self._flat: tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] | None = None
        if values is not None and grads is not None and values.dtype == grads.dtype:
            flat = {name: np.zeros_like(values) for name in names}
            self._flat = (values, grads, flat)
            blocks = [slice(i, i + _BLOCK) for i in range(0, values.size, _BLOCK)]
            self._blocks = [(values[b], grads[b], {k: a[b] for k, a in flat.items()})
                            for b in blocks]
            self.state = []
            for p in self.params:
                start = (p.value.ctypes.data - values.ctypes.data) // values.itemsize
                piece = slice(start, start + p.value.size)
                self.state.append({k: a[piece].reshape(p.value.shape) for k, a in flat.items()})
        else:
            self.state = [{k: np.zeros_like(p.value) for k in names} for p in self.params]
        self._arrays = [(p.value, p.grad) for p in self.params]

    def zero_grad(self) -> None:
        """Set every gradient to zero."""
        for p in self.params:
            p.grad.fill(0)

    def step(self) -> None:
        """Update every parameter once from its gradient."""
        name = type(self).__name__
        val.positive_finite(name, "lr", self.lr)  # .lr may have been set since __init__
        arrays = zip(self.params, self._arrays, strict=True)
        if self._flat is not None and all(p.value is w and p.grad is g for p, (w, g) in arrays):
            # No .value or .grad replaced since __init__: all at once, a block at a time, so
            # that the formula's passes over a block stay in the CPU's cache.
            for w, dw, state in self._blocks:
                self._apply(w, dw, state)
            return
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad.shape != p.value.shape:
                raise ValueError(
                    f"{name}: parameter {p.name!r} has shape {p.value.shape} but its gradient "
                    f"has shape {p.grad.shape}; they must match."
                )
            self._apply(p.value, p.grad, state)

    def _apply(self, w: np.ndarray, dw: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """Update w (and the state arrays) in place from the gradient dw."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"


class SGD(Optimizer):
    """Plain gradient descent: w <- w - lr * dw."""

    def _apply(self, w: np.ndarray, dw: np.ndarray, state: dict[str, np.ndarray]) -> None:
        _sgd(w, dw, self.lr, w_out=w, buf=state["buf"])


class Momentum(Optimizer):
    """Momentum (PyTorch's form): v <- beta v + dw, w <- w - lr v.

    With ``nesterov=True`` the step looks ahead: w <- w - lr (dw + beta v).
    """

    state_names = ("velocity",)

    def __init__(
        self, params: Iterable[Parameter], lr: float, beta: float = 0.9, nesterov: bool = False
    ) -> None:
        super().__init__(params, lr)
        self.beta = val.probability("Momentum", "beta", beta)
        self.nesterov = nesterov

    def _apply(self, w: np.ndarray, dw: np.ndarray, state: dict[str, np.ndarray]) -> None:
        v = state["velocity"]
        _momentum(w, dw, v, self.lr, self.beta, w_out=w, v_out=v, buf=state["buf"],
                  nesterov=self.nesterov)


class RMSProp(Optimizer):
    """RMSProp: divide each step by a running root-mean-square of recent gradients."""

    state_names = ("cache",)

    def __init__(
        self, params: Iterable[Parameter], lr: float, decay: float = 0.99, eps: float = 1e-8
    ) -> None:
        super().__init__(params, lr)
        self.decay = val.probability("RMSProp", "decay", decay)
        self.eps = val.positive_finite("RMSProp", "eps", eps)

    def _apply(self, w: np.ndarray, dw: np.ndarray, state: dict[str, np.ndarray]) -> None:
        cache = state["cache"]
        _rmsprop(w, dw, cache, self.lr, self.decay, self.eps, w_out=w, cache_out=cache,
                 buf=state["buf"])


class Adam(Optimizer):
    """Adam: momentum on the gradient and on its square, both bias-corrected."""

    state_names = ("m", "v")

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

    def _apply(self, w: np.ndarray, dw: np.ndarray, state: dict[str, np.ndarray]) -> None:
        m, v = state["m"], state["v"]
        _adam(w, dw, m, v, self.t, self.lr, self.beta1, self.beta2, self.eps,
              w_out=w, m_out=m, v_out=v, buf=state["buf"])
