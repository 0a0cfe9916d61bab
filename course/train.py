"""A small training loop that records what happened at every step."""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from course.network import Sequential, as_rng
from course.optim import Optimizer
from course.schedules import Schedule

LossFn = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


@dataclass
class History:
    """What `fit` recorded: one entry per step in `loss` and `lr`, one per epoch elsewhere."""

    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    diverged: bool = False
    diverged_at: int | None = None

    @property
    def steps(self) -> int:
        return len(self.loss)

    @property
    def final_loss(self) -> float:
        """The last recorded loss (inf if training diverged)."""
        if self.diverged:
            return math.inf
        return self.loss[-1] if self.loss else math.nan


def accuracy(model: Sequential, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of x whose predicted class equals y.  x: (N, D), y: (N,) ints."""
    return float(np.mean(model.predict(x) == np.asarray(y)))


def _progress(epoch: int, epochs: int, loss: float) -> None:
    width = 24
    done = int(width * epoch / epochs)
    bar = "#" * done + "." * (width - done)
    end = "\n" if epoch == epochs else ""
    sys.stdout.write(f"\r[{bar}] epoch {epoch}/{epochs}  loss {loss:.4f}{end}")
    sys.stdout.flush()


def fit(
    model: Sequential,
    loss_fn: LossFn,
    optimizer: Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 10,
    batch_size: int = 32,
    rng: np.random.Generator | int | None = 0,
    schedule: Schedule | None = None,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    progress: bool = False,
    callback: Callable[[int, float], None] | None = None,
    stop_on_divergence: bool = True,
    divergence_factor: float = 1e4,
) -> History:
    """Train `model` with minibatch gradient descent and return the History.

    x: (N, D) inputs.  y: targets, (N,) class labels or (N, M) values, matching `loss_fn`.
    Each step: forward, loss, backward from dloss, optimizer.step(). Batches are reshuffled every
    epoch with `rng`. If `schedule` is given, optimizer.lr = base_lr * schedule(step).
    Training stops early (``history.diverged = True``) when the loss becomes non-finite or grows
    above `divergence_factor` times the first loss, since nothing good comes after that.
    `callback(step, loss)` is called after every step.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2:
        raise ValueError(f"fit: x must be (N, D), got shape {x.shape}.")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"fit: x has {x.shape[0]} rows but y has {y.shape[0]}; they must match.")
    if batch_size < 1 or epochs < 0:
        raise ValueError(f"fit: need batch_size >= 1 and epochs >= 0, got {batch_size}, {epochs}.")
    rng = as_rng(rng)
    n = x.shape[0]
    # Nothing uses dL/dx of the data: skip that product when the model can (Sequential can).
    skip_dx = "input_grad" in inspect.signature(model.backward).parameters
    backward_kwargs = {"input_grad": False} if skip_dx else {}
    base_lr = optimizer.lr
    history = History()
    model.train()
    step = 0
    first_loss = None
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                if schedule is not None:
                    optimizer.lr = base_lr * schedule(step)
                out = model.forward(x[idx])
                try:
                    loss, dout = loss_fn(out, y[idx])
                except ValueError:
                    if np.isfinite(out).all():
                        raise
                    loss, dout = math.inf, None  # the model's output blew up
                history.loss.append(loss)
                history.lr.append(optimizer.lr)
                if first_loss is None:
                    first_loss = loss
                if not math.isfinite(loss) or loss > divergence_factor * max(first_loss, 1e-12):
                    if not history.diverged:  # remember the first step that blew up
                        history.diverged, history.diverged_at = True, step
                    if stop_on_divergence or dout is None:
                        break
                model.backward(dout, **backward_kwargs)
                optimizer.step()
                if callback is not None:
                    callback(step, loss)
                total += loss * len(idx)
                step += 1
            if history.diverged and stop_on_divergence:
                break
            history.epoch_loss.append(total / n)
            if x_val is not None and y_val is not None:
                history.val_accuracy.append(accuracy(model, x_val, y_val))
                model.train()
            if progress:
                _progress(epoch, epochs, history.epoch_loss[-1])
    optimizer.lr = base_lr
    return history
