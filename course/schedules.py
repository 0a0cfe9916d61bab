"""Learning-rate schedules: callables ``schedule(step) -> factor`` (step counts from 0).

The training loop sets ``optimizer.lr = base_lr * schedule(step)`` before each step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Schedule = Callable[[int], float]


class StepLR:
    """Multiply the rate by `gamma` every `step_size` steps."""

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}.")
        self.step_size, self.gamma = step_size, gamma

    def __call__(self, step: int) -> float:
        return self.gamma ** (step // self.step_size)


class ExponentialLR:
    """Multiply the rate by `gamma` every step: factor = gamma^step."""

    def __init__(self, gamma: float) -> None:
        self.gamma = gamma

    def __call__(self, step: int) -> float:
        return self.gamma**step


class CosineLR:
    """Cosine decay from 1 to `min_factor` over `total_steps`, then stay at `min_factor`."""

    def __init__(self, total_steps: int, min_factor: float = 0.0) -> None:
        if total_steps < 1:
            raise ValueError(f"CosineLR: total_steps must be >= 1, got {total_steps}.")
        self.total_steps, self.min_factor = total_steps, min_factor

    def __call__(self, step: int) -> float:
        progress = min(step, self.total_steps) / self.total_steps
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


class Warmup:
    """Ramp linearly from 1/warmup_steps to 1 over `warmup_steps`, then follow `after`.

    `after` is another schedule (called with the step count since warm-up ended) or None.
    """

    def __init__(self, warmup_steps: int, after: Schedule | None = None) -> None:
        if warmup_steps < 1:
            raise ValueError(f"Warmup: warmup_steps must be >= 1, got {warmup_steps}.")
        self.warmup_steps, self.after = warmup_steps, after

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        return self.after(step - self.warmup_steps) if self.after else 1.0
