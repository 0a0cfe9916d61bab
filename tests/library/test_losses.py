"""Losses: values, gradients, and stability for huge logits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import course
from course.gradcheck import numerical_gradient, relative_error


def test_mse_value_and_gradient():
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    loss, dpred = course.mse_loss(pred, target)
    assert isinstance(loss, float)
    assert loss == pytest.approx(np.mean((pred - target) ** 2))
    num = numerical_gradient(lambda p: course.mse_loss(p, target)[0], pred.copy())
    assert relative_error(dpred, num) < 1e-8


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(2, 7), seed=st.integers(0, 2**16))
def test_softmax_cross_entropy_gradient(n, c, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c)) * 3
    labels = rng.integers(0, c, n)
    loss, dlogits = course.softmax_cross_entropy(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(n), labels])), rel=1e-12)
    report = course.check_vjp(
        lambda logits: course.softmax_cross_entropy(logits, labels)[0],
        lambda dout, logits: dout * course.softmax_cross_entropy(logits, labels)[1],
        {"logits": logits},
    )
    assert report.ok, str(report)


@pytest.mark.parametrize("scale", [1e2, 1e3, 1e4])
def test_softmax_cross_entropy_stable_for_huge_logits(scale):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 5)) * scale
    logits[0] = [scale, -scale, 0, 0, 0]
    labels = np.array([1, 0, 2, 3, 4, 0])
    loss, dlogits = course.softmax_cross_entropy(logits, labels)
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits))
    # Exact reference in log-sum-exp form, computed row by row in Python floats.
    expected = 0.0
    for row, y in zip(logits, labels, strict=True):
        m = max(row)
        lse = m + np.log(sum(np.exp(v - m) for v in row))
        expected += lse - row[y]
    assert loss == pytest.approx(expected / 6, rel=1e-12)
    # The first row: label 1 scores -scale against a best of +scale: loss is about 2*scale.
    np.testing.assert_allclose(dlogits.sum(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(dlogits[0, 0], 1 / 6, rtol=1e-12)


def test_softmax_rows_sum_to_one():
    p = course.softmax(np.array([[1000.0, 1000.0], [-1000.0, 0.0]]))
    np.testing.assert_allclose(p, [[0.5, 0.5], [0.0, 1.0]])


def test_loss_objects_delegate():
    logits = np.array([[1.0, 2.0], [0.5, -1.0]])
    labels = np.array([1, 0])
    assert course.SoftmaxCrossEntropy()(logits, labels)[0] == course.softmax_cross_entropy(
        logits, labels)[0]
    assert course.MSELoss()(logits, logits + 1)[0] == pytest.approx(1.0)
