"""The experiments behind the course's figures and widgets, as plain functions.

Each one trains or steps something with the course's own library and returns plain data
(NumPy arrays in small dataclasses), with no display code::

    from course.experiments import race
    paths = race("rosenbrock")            # {"SGD": RaceResult(path, losses, diverged), ...}

- `train_run` / `lr_range_test`: a small MLP trained with `course.fit` and the optimizer
  classes at one learning rate, or with the rate growing every step (notebook 07);
- `race`: SGD, momentum, RMSProp and Adam on a 2-D `Surface`, with the contract's step
  functions `sgd_step`, `momentum_step`, `rmsprop_step`, `adam_step` (notebook 08);
- `gradient_norms`: per-layer gradient norms of a deep `mlp` after one backward pass
  (notebook 09).

`course.plots` draws these results and `course.widgets` puts controls around them; this module
imports neither (nor ipywidgets or matplotlib), so benchmarks and tests can run an experiment
on their own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import numpy as np

from course.datasets import make_moons, make_regression_1d, make_spirals
from course.losses import MSELoss, SoftmaxCrossEntropy, softmax_cross_entropy
from course.network import Linear, mlp
from course.optim import (
    SGD,
    Adam,
    Momentum,
    Optimizer,
    adam_step,
    momentum_step,
    rmsprop_step,
    sgd_step,
)
from course.train import fit

__all__ = [
    "ACTIVATION_NAMES",
    "INITS",
    "LR_GRID",
    "OPTIMIZERS",
    "RACERS",
    "SURFACES",
    "TASKS",
    "RaceResult",
    "RangeTest",
    "Run",
    "Surface",
    "Task",
    "gradient_norms",
    "lr_range_test",
    "race",
    "train_run",
]

# Learning rates of the explorer's sweep and slider: 10^-4 ... 10^1 in quarter decades (21 values).
LR_EXPONENTS = (-4.0, 1.0, 0.25)
LR_GRID: np.ndarray = 10.0 ** np.arange(LR_EXPONENTS[0], LR_EXPONENTS[1] + 1e-9, LR_EXPONENTS[2])


# --- training runs at one learning rate, and the range test --------------------------------------
@dataclass(frozen=True)
class Task:
    """A small dataset with the small model the explorer trains on it."""

    title: str
    sizes: tuple[int, ...]
    activation: str
    loss_name: str  # "cross-entropy" or "mse"
    make: Callable[[], tuple[np.ndarray, np.ndarray]]

    @property
    def loss_label(self) -> str:
        if self.loss_name == "mse":
            return "mean squared error (units of y²)"
        return "cross-entropy (nats)"


TASKS: dict[str, Task] = {
    "spirals": Task("3 spirals, 150 points, MLP 2-16-16-3 (ReLU)", (2, 16, 16, 3), "relu",
                    "cross-entropy", lambda: make_spirals(n_per_class=50, noise=0.2, seed=0)),
    "moons": Task("2 moons, 150 points, MLP 2-16-16-2 (ReLU)", (2, 16, 16, 2), "relu",
                  "cross-entropy", lambda: make_moons(n=150, noise=0.1, seed=0)),
    "regression": Task("1-D regression, 100 points, MLP 1-16-16-1 (tanh)", (1, 16, 16, 1),
                       "tanh", "mse", lambda: make_regression_1d(n=100, noise=0.1, seed=0)),
}

OPTIMIZERS: dict[str, Callable[[list, float], Optimizer]] = {
    "SGD": lambda params, lr: SGD(params, lr),
    "Momentum": lambda params, lr: Momentum(params, lr, beta=0.9),
    "Adam": lambda params, lr: Adam(params, lr),
}

BATCH_SIZE = 32


@cache
def _task_data(task: str) -> tuple[np.ndarray, np.ndarray]:
    return TASKS[task].make()


@dataclass
class Run:
    """One training run of the explorer.

    losses: (T,) loss of every step (T is shorter than planned if training diverged).
    final_loss: mean training loss over the last epoch, inf if the run diverged.
    """

    lr: float
    losses: np.ndarray
    diverged: bool
    final_loss: float
    steps_per_epoch: int
    seconds: float


def check_choice(name: str, value: Any, choices: Any) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}.")


def train_run(
    task: str = "spirals", optimizer: str = "SGD", lr: float = 0.1, epochs: int = 30, seed: int = 0
) -> Run:
    """Train the task's small MLP with `course.fit` at one learning rate and summarise the run."""
    check_choice("task", task, TASKS)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    t0 = time.perf_counter()
    spec = TASKS[task]
    x, y = _task_data(task)
    model = mlp(list(spec.sizes), spec.activation, rng=seed)
    loss_fn = MSELoss() if spec.loss_name == "mse" else SoftmaxCrossEntropy()
    opt = OPTIMIZERS[optimizer](model.parameters(), float(lr))
    history = fit(model, loss_fn, opt, x, y, epochs=int(epochs), batch_size=BATCH_SIZE, rng=seed)
    final = math.inf if history.diverged else float(history.epoch_loss[-1])
    return Run(
        lr=float(lr),
        losses=np.asarray(history.loss, dtype=float),
        diverged=bool(history.diverged),
        final_loss=final,
        steps_per_epoch=math.ceil(x.shape[0] / BATCH_SIZE),
        seconds=time.perf_counter() - t0,
    )


@dataclass
class RangeTest:
    """Result of a learning-rate range test.

    lrs, losses, smoothed: (T,) the rate used at each step, the loss of that step and its
    exponential moving average. suggested_lr: a rate ten times below where the smoothed loss
    was lowest (a common rule of thumb: fast, still safely below the blow-up).
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested_lr: float
    best_lr: float


def lr_range_test(
    task: str = "spirals",
    optimizer: str = "SGD",
    *,
    lr_min: float = 1e-4,
    lr_max: float = 10.0,
    steps: int = 300,
    seed: int = 0,
) -> RangeTest:
    """Train once while multiplying the learning rate every step from lr_min to lr_max.

    The loss first barely moves (rate too small), then falls, then explodes (rate too large).
    Stops early once the smoothed loss exceeds 4 times its minimum.
    """
    check_choice("task", task, TASKS)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    spec = TASKS[task]
    x, y = _task_data(task)
    model = mlp(list(spec.sizes), spec.activation, rng=seed)
    loss_fn = MSELoss() if spec.loss_name == "mse" else SoftmaxCrossEntropy()
    opt = OPTIMIZERS[optimizer](model.parameters(), lr_min)
    growth = (lr_max / lr_min) ** (1.0 / (steps - 1))
    epochs = math.ceil(steps / math.ceil(x.shape[0] / BATCH_SIZE))
    history = fit(model, loss_fn, opt, x, y, epochs=epochs, batch_size=BATCH_SIZE, rng=seed,
                  schedule=lambda step: growth**step)
    lrs = np.asarray(history.lr[:steps], dtype=float)
    losses = np.asarray(history.loss[:steps], dtype=float)
    smoothed = np.empty_like(losses)
    avg, beta = 0.0, 0.9
    end = losses.size
    for i, value in enumerate(losses):
        if not math.isfinite(value):
            end = i
            break
        avg = beta * avg + (1 - beta) * value
        smoothed[i] = avg / (1 - beta ** (i + 1))
        if i > 5 and smoothed[i] > 4 * smoothed[: i + 1].min():
            end = i + 1
            break
    lrs, losses, smoothed = lrs[:end], losses[:end], smoothed[:end]
    best = float(lrs[int(np.argmin(smoothed))]) if end else lr_min
    return RangeTest(lrs, losses, smoothed, suggested_lr=best / 10, best_lr=best)


# --- the optimizer race ------------------------------------------------------------------------
@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface with an analytic gradient. w: (2,) -> loss float / gradient (2,)."""

    name: str
    title: str
    loss: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minimum: tuple[float, float]
    start: tuple[float, float]
    lr: float  # learning rates at which the race is interesting: SGD and momentum,
    lr_adaptive: float  # RMSProp and Adam (their steps have the units of w)
    steps: int
    _grids: dict = field(default_factory=dict, compare=False, repr=False)

    def grid(self, n: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, Y, Z) of shape (n, n) for contour plots (computed once per n)."""
        if n not in self._grids:
            X, Y = np.meshgrid(np.linspace(*self.xlim, n), np.linspace(*self.ylim, n))
            W = np.stack([X.ravel(), Y.ravel()])  # (2, n*n): the loss functions broadcast
            self._grids[n] = (X, Y, np.asarray(self.loss(W)).reshape(X.shape))
        return self._grids[n]


_CURVATURE = np.array([1.0, 50.0])  # the ravine of notebook 08: condition number 50


def _quad_loss(w: np.ndarray) -> Any:
    return 0.5 * (_CURVATURE[0] * w[0] ** 2 + _CURVATURE[1] * w[1] ** 2)


def _quad_grad(w: np.ndarray) -> np.ndarray:
    return _CURVATURE * w


def _rosen_loss(w: np.ndarray) -> Any:
    x, y = w[0], w[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosen_grad(w: np.ndarray) -> np.ndarray:
    x, y = w[0], w[1]
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


SURFACES: dict[str, Surface] = {
    "quadratic": Surface(
        "quadratic", "Ravine ½ (w₁² + 50 w₂²)",
        _quad_loss, _quad_grad, (-4.5, 4.5), (-1.5, 1.5), (0.0, 0.0), (-4.0, 1.0),
        lr=10**-1.5, lr_adaptive=0.1, steps=100),
    "rosenbrock": Surface(
        "rosenbrock", "Rosenbrock (1 − w₁)² + 100 (w₂ − w₁²)²",
        _rosen_loss, _rosen_grad, (-2.0, 2.0), (-1.0, 3.0), (1.0, 1.0), (-1.2, 1.0),
        lr=1e-3, lr_adaptive=0.1, steps=500),
}

RACERS = ("SGD", "Momentum", "RMSProp", "Adam")


@dataclass
class RaceResult:
    """One optimizer's run: path (T + 1, 2) positions, losses (T + 1,), diverged flag."""

    path: np.ndarray
    losses: np.ndarray
    diverged: bool


def race(
    surface: str = "quadratic",
    lr: float | None = None,
    beta: float = 0.9,
    start: tuple[float, float] | None = None,
    steps: int | None = None,
    lr_adaptive: float | None = None,
) -> dict[str, RaceResult]:
    """Run SGD, momentum, RMSProp and Adam from `start` on a 2-D surface.

    lr: rate of SGD and momentum (beta: momentum's beta); lr_adaptive: rate of RMSProp and
    Adam. Defaults come from the surface. Uses the contract step functions. A run stops
    (diverged) when the loss is no longer finite or exceeds 1e4 times its starting value.
    """
    check_choice("surface", surface, SURFACES)
    s = SURFACES[surface]
    lr = s.lr if lr is None else float(lr)
    lr_adaptive = s.lr_adaptive if lr_adaptive is None else float(lr_adaptive)
    steps = s.steps if steps is None else int(steps)
    w0 = np.array(s.start if start is None else start, dtype=float)
    out: dict[str, RaceResult] = {}
    with np.errstate(all="ignore"):
        for name in RACERS:
            w = w0.copy()
            state = [np.zeros(2), np.zeros(2)]
            path, losses = [w], [float(s.loss(w))]
            limit = 1e4 * max(losses[0], 1e-12)
            diverged = False
            for t in range(1, steps + 1):
                dw = s.grad(w)
                if name == "SGD":
                    w = sgd_step(w, dw, lr)
                elif name == "Momentum":
                    w, state[0] = momentum_step(w, dw, state[0], lr, beta)
                elif name == "RMSProp":
                    w, state[0] = rmsprop_step(w, dw, state[0], lr_adaptive)
                else:
                    w, state[0], state[1] = adam_step(w, dw, state[0], state[1], t, lr_adaptive)
                loss = float(s.loss(w))
                if not (math.isfinite(loss) and loss <= limit and np.isfinite(w).all()):
                    diverged = True
                    break
                path.append(w)
                losses.append(loss)
            out[name] = RaceResult(np.array(path), np.array(losses), diverged)
    return out


# --- gradient flow ------------------------------------------------------------------------------
INITS: dict[str, tuple[str, float | None]] = {
    "xavier": ("xavier", None),
    "he": ("he", None),
    "normal small (σ = 0.01)": ("normal", 0.01),
    "normal large (σ = 1)": ("normal", 1.0),
}
ACTIVATION_NAMES = ("sigmoid", "tanh", "relu")


@lru_cache(maxsize=256)
def _gradient_norms_cached(activation: str, init: str, depth: int, width: int,
                           seed: int) -> tuple[np.ndarray, np.ndarray]:
    kind, scale = INITS[init]
    model = mlp([width] * depth + [10], activation, init=kind, scale=scale, rng=seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((128, width))
    labels = rng.integers(0, 10, size=128)
    h = x
    stds = []
    with np.errstate(all="ignore"):
        for layer in model.layers:
            h = layer.forward(h)
            if isinstance(layer, Linear):
                stds.append(float(h.std()))
        _, dlogits = softmax_cross_entropy(h, labels)
        for layer in reversed(model.layers):
            dlogits = layer.backward(dlogits)
        norms = [float(np.linalg.norm(layer.W.grad)) for layer in model.layers
                 if isinstance(layer, Linear)]
    return np.array(norms), np.array(stds)


def gradient_norms(activation: str = "sigmoid", init: str = "xavier", depth: int = 10,
                   width: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer gradient norms of a deep MLP after one backward pass on random data.

    The MLP has `depth` Linear layers (width units each, 10 outputs) with `activation` between
    them, initialized by `init` (a key of INITS). Input: 128 standard-normal rows, random labels,
    softmax cross-entropy. Returns (norms (depth,), stds (depth,)): ‖dW‖ (Frobenius) of each
    Linear layer and the standard deviation of its output, input layer first.
    """
    check_choice("activation", activation, ACTIVATION_NAMES)
    check_choice("init", init, INITS)
    norms, stds = _gradient_norms_cached(activation, init, int(depth), int(width), int(seed))
    return norms.copy(), stds.copy()
