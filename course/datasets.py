"""Datasets that work offline: seeded synthetic generators and the 8x8 digits shipped with us.

Every generator returns float64 inputs x (N, D) and targets y: int class labels (N,) for
classification, (N, 1) floats for regression. The same seed gives the same data.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

Data = tuple[np.ndarray, np.ndarray]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_n(fn: str, n: int) -> int:
    if int(n) != n or n < 1:
        raise ValueError(f"{fn}: the number of points must be a positive integer, got {n!r}.")
    return int(n)


def make_spirals(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int | None = 0
) -> Data:
    """Interleaved spiral arms, one per class: not linearly separable.

    Returns x (n_per_class * n_classes, 2) in about [-1, 1]^2 and y (N,) ints 0..n_classes-1.
    """
    n = _check_n("make_spirals", n_per_class)
    rng = _rng(seed)
    r = np.tile(np.linspace(0.05, 1.0, n), n_classes)
    k = np.repeat(np.arange(n_classes), n)
    theta = 4.0 * r + 2 * np.pi * k / n_classes + noise * rng.standard_normal(n * n_classes)
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return x, k.astype(np.int64)


def make_moons(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> Data:
    """Two interleaving half circles.  Returns x (n, 2) and y (n,) ints in {0, 1}."""
    n = _check_n("make_moons", n)
    rng = _rng(seed)
    n0 = n // 2
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n - n0)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    x = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)]).astype(np.int64)
    return x, y


def make_circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = 0
) -> Data:
    """A small circle (class 1) inside a large one (class 0).  Returns x (n, 2), y (n,)."""
    n = _check_n("make_circles", n)
    rng = _rng(seed)
    n0 = n // 2
    t = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(np.arange(n) < n0, 1.0, factor)
    x = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)
    x += noise * rng.standard_normal((n, 2))
    y = (np.arange(n) >= n0).astype(np.int64)
    return x, y


def make_xor(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> Data:
    """Four clusters at (+-1, +-1); the class is 1 where the signs differ (XOR).

    Returns x (n, 2), y (n,) ints in {0, 1}.
    """
    n = _check_n("make_xor", n)
    rng = _rng(seed)
    corners = rng.integers(0, 2, size=(n, 2))
    x = (2.0 * corners - 1) + noise * rng.standard_normal((n, 2))
    y = (corners[:, 0] != corners[:, 1]).astype(np.int64)
    return x, y


def make_regression_1d(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> Data:
    """A wiggly 1-D function, y = sin(3x) + 0.3x plus noise, for x in [-2, 2].

    Returns x (n, 1) and y (n, 1), both float64.
    """
    n = _check_n("make_regression_1d", n)
    rng = _rng(seed)
    x = np.sort(rng.uniform(-2, 2, n))[:, None]
    y = np.sin(3 * x) + 0.3 * x + noise * rng.standard_normal((n, 1))
    return x, y


@lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    with resources.files("course.data").joinpath("digits.npz").open("rb") as f:
        data = np.load(f)
        return data["images"], data["labels"]


def load_digits(split: str = "all") -> Data:
    """The 8x8 handwritten digits (UCI, CC BY 4.0; see course/data/DIGITS-LICENSE.md).

    Returns x (N, 64) float64 pixel intensities scaled to [0, 1] (row by row), and
    y (N,) int64 digit classes 0..9. Reshape a row to (8, 8) to see the image.

    split: "all" (N = 1797), or "development" (N = 1438): what the capstone (notebook 12)
    gives you to train and tune on. The other 359 images, the test part of
    ``train_test_split(*load_digits(), test_fraction=0.2, seed=0)``, are held back: the
    capstone's grader tests your network on them, with fresh noise added at grading time.
    """
    images, labels = _digits_raw()
    x, y = images.astype(np.float64) / 16.0, labels.astype(np.int64)
    if split == "all":
        return x, y
    if split == "development":
        x_dev, _, y_dev, _ = train_test_split(x, y, test_fraction=0.2, seed=0)
        return x_dev, y_dev
    raise ValueError(f'load_digits: split must be "all" or "development", not {split!r}.')


def train_test_split(
    x: np.ndarray, y: np.ndarray, test_fraction: float = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split into train and test sets, stratified by class for integer labels.

    x: (N, ...), y: (N, ...).  Returns (x_train, x_test, y_train, y_test).
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"train_test_split: x has {x.shape[0]} rows but y has {y.shape[0]}; they must match."
        )
    if not 0 < test_fraction < 1:
        raise ValueError(f"train_test_split: test_fraction must be in (0, 1), got {test_fraction}.")
    rng = _rng(seed)
    n = x.shape[0]
    if y.ndim == 1 and y.dtype.kind in "iu":
        test = []
        for c in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == c))
            test.append(idx[: int(round(test_fraction * len(idx)))])
        test_idx = np.sort(np.concatenate(test))
    else:
        test_idx = np.sort(rng.permutation(n)[: int(round(test_fraction * n))])
    mask = np.zeros(n, dtype=bool)
    mask[test_idx] = True
    train_idx = rng.permutation(np.flatnonzero(~mask))
    test_idx = rng.permutation(test_idx)
    return x[train_idx], x[test_idx], y[train_idx], y[test_idx]


def standardize(
    x_train: np.ndarray, *others: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Scale every column to mean 0, std 1 using the training set's statistics.

    x_train: (N, D); others: (M, D) arrays scaled the same way.  Returns the scaled arrays.
    """
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return tuple((a - mean) / std for a in (x_train, *others))
