"""The gradient checker itself: it catches wrong backwards and is not fooled by kinks."""

import numpy as np
import pytest

import course
from course.gradcheck import check_vjp, fast_check, numerical_gradient, relative_error, verdict


def linear_inputs(seed=0, n=4, d=3, m=5):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((n, d)), "W": rng.standard_normal((d, m)),
            "b": rng.standard_normal(m)}


def test_numerical_gradient_of_known_function():
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    grad = numerical_gradient(lambda z: float(np.sum(z**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8, atol=1e-9)


def test_numerical_gradient_restores_x_and_works_on_views():
    base = np.arange(24, dtype=np.float64).reshape(4, 6) / 10
    before = base.copy()
    view = base[::2, 1::2]  # non-contiguous
    assert not view.flags.c_contiguous
    grad = numerical_gradient(lambda z: float(np.sum(np.sin(z))), view)
    np.testing.assert_allclose(grad, np.cos(view), rtol=1e-8)
    np.testing.assert_array_equal(base, before)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.ones(3)
    calls = []

    def f(z):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return float(z.sum())

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, 1.0)


def test_numerical_gradient_rejects_int_and_non_scalar():
    with pytest.raises(ValueError, match="floating-point"):
        numerical_gradient(lambda z: 0.0, np.arange(3))
    with pytest.raises(ValueError, match="one number"):
        numerical_gradient(lambda z: z * 2, np.ones(3))


def test_relative_error_definition():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 3.0])) == pytest.approx(0.2)
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert relative_error(np.array([1e-9]), np.array([0.0])) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.zeros(2), np.zeros(3))


def test_verdict_scale():
    assert verdict(0.5) == "wrong"
    assert verdict(1e-3) == "suspicious"
    assert verdict(1e-5) == "probably right"
    assert verdict(1e-9) == "right"
    assert verdict(float("nan")) == "wrong"


def test_report_names_the_wrong_gradient_and_its_worst_entry():
    def buggy_backward(dout, x, W, b):
        dx, dW, db = course.linear_backward(dout, x, W, b)
        dW = dW.copy()
        dW[2, 1] += 0.5  # one wrong entry
        return dx, dW, db

    report = check_vjp(course.linear_forward, buggy_backward, linear_inputs())
    assert not report.ok and report.verdict == "wrong"
    assert report.wrong == ["W"]
    assert report["W"].worst_index == (2, 1)
    assert report["W"].analytic == pytest.approx(report["W"].numeric + 0.5)
    text = str(report)
    assert "W" in text and "(2, 1)" in text and "wrong" in text


@pytest.mark.parametrize(
    "bug, wrong",
    [
        (lambda dx, dW, db: (dx, dW / 4, db), ["W"]),  # off by the batch size
        (lambda dx, dW, db: (-dx, dW, db), ["x"]),  # sign flipped
        (lambda dx, dW, db: (dx, dW, db * 0.5), ["b"]),
        (lambda dx, dW, db: (dx, dW.T, db), ["W"]),  # transposed (shape differs)
    ],
)
def test_known_wrong_linear_backwards_are_caught(bug, wrong):
    def backward(dout, x, W, b):
        return bug(*course.linear_backward(dout, x, W, b))

    report = check_vjp(course.linear_forward, backward, linear_inputs(n=4, d=3, m=5))
    assert report.wrong == wrong, str(report)


def test_relu_at_exact_zero_is_a_kink_not_a_failure():
    x = np.array([[0.0, 1.5, -2.0], [0.0, -0.5, 3.0]])
    report = check_vjp(course.relu_forward, course.relu_backward, {"x": x}, seed=1)
    assert report.ok, str(report)
    assert sorted(report["x"].kinks) == [(0, 0), (1, 0)]


def test_a_wrong_value_at_a_kink_is_still_caught():
    x = np.array([[0.0, 1.5, -2.0]])

    def backward(dout, x):
        dx = course.relu_backward(dout, x)
        dx[0, 0] = 10 * abs(dout[0, 0]) + 1  # outside the subgradient interval [0, dout]
        return dx

    report = check_vjp(course.relu_forward, backward, {"x": x})
    assert not report.ok and report["x"].worst_index == (0, 0)


def test_batchnorm_uses_random_dout_so_bugs_show():
    # With dout all ones, sum(batchnorm(x)) is constant and dx = 0 passes; a random dout catches it.
    rng = np.random.default_rng(0)
    inputs = {"x": rng.standard_normal((6, 4)), "gamma": rng.standard_normal(4),
              "beta": rng.standard_normal(4)}

    def lazy_backward(dout, x, gamma, beta):
        _, dgamma, dbeta = course.batchnorm_backward(dout, x, gamma, beta)
        return np.zeros_like(x), dgamma, dbeta

    ones = check_vjp(course.batchnorm_forward, lazy_backward, inputs, dout=np.ones((6, 4)))
    assert ones["x"].ok  # blind by construction
    assert check_vjp(course.batchnorm_forward, lazy_backward, inputs).wrong == ["x"]


def test_float32_inputs_warn():
    inputs = {k: v.astype(np.float32) for k, v in linear_inputs().items()}
    report = check_vjp(course.linear_forward, course.linear_backward, inputs, h=1e-2)
    assert any("float64" in w for w in report.warnings)


def test_inputs_are_not_modified():
    inputs = linear_inputs()
    copies = {k: v.copy() for k, v in inputs.items()}
    check_vjp(course.linear_forward, course.linear_backward, inputs)
    fast_check(course.linear_forward, course.linear_backward, inputs)
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], copies[k])


def test_fast_check_agrees_and_catches():
    inputs = linear_inputs(n=7, d=5, m=3)
    assert fast_check(course.linear_forward, course.linear_backward, inputs).verdict == "right"

    def buggy(dout, x, W, b):
        dx, dW, db = course.linear_backward(dout, x, W, b)
        return dx, dW, db * 1.01

    assert not fast_check(course.linear_forward, buggy, inputs).ok


def test_check_network_full_sampled_and_fast():
    x, y = course.make_spirals(n_per_class=10, seed=0)
    model = course.mlp([2, 8, 6, 3], activation="tanh", rng=1)
    loss = course.SoftmaxCrossEntropy()
    full = course.check_network(model, loss, x, y)
    assert full.ok and set(full.results) == {"0.W", "0.b", "2.W", "2.b",
                                                             "4.W", "4.b"}
    assert full["0.W"].checked == 16
    assert course.check_network(model, loss, x, y, sample=5)["2.W"].checked == 5
    assert course.check_network(model, loss, x, y, fast=True).verdict == "right"


def test_check_network_catches_a_broken_layer():
    x, y = course.make_spirals(n_per_class=10, seed=0)
    model = course.mlp([2, 8, 3], activation="sigmoid", rng=1)
    layer = model.layers[1]

    class BrokenSigmoid(type(layer)):
        def backward(self, dout):
            s = course.sigmoid_forward(self._x)
            return dout * s  # forgot (1 - s)

    model.layers[1] = BrokenSigmoid()
    loss = course.SoftmaxCrossEntropy()
    report = course.check_network(model, loss, x, y)
    assert report.wrong == ["0.W", "0.b"], str(report)
    assert not course.check_network(model, loss, x, y, fast=True).ok


def test_check_network_refuses_random_dropout():
    model = course.mlp([2, 4, 2], dropout=0.5, rng=0)
    x, y = course.make_moons(20)
    with pytest.raises(ValueError, match="eval"):
        course.check_network(model, course.SoftmaxCrossEntropy(), x, y)
    model.eval()
    assert course.check_network(model, course.SoftmaxCrossEntropy(), x, y).ok


def test_check_network_handles_relu_kinks_and_batchnorm():
    x, y = course.make_xor(30, seed=2)
    model = course.mlp([2, 6, 5, 2], batchnorm=True, rng=3)
    report = course.check_network(model, course.SoftmaxCrossEntropy(), x, y)
    assert report.ok, str(report)
