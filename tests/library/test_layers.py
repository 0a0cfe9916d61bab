"""Every layer's backward agrees with finite differences of its forward (float64)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import course
from course.gradcheck import check_vjp, numerical_gradient

# N, D, M all different so that a transposed gradient cannot pass.
distinct_dims = st.lists(st.integers(1, 7), min_size=3, max_size=3, unique=True)


def rand(rng, *shape, scale=1.0):
    return rng.standard_normal(shape) * scale


@settings(max_examples=25, deadline=None)
@given(dims=distinct_dims, seed=st.integers(0, 2**16))
def test_linear_backward_matches_numerical(dims, seed):
    n, d, m = dims
    rng = np.random.default_rng(seed)
    inputs = {"x": rand(rng, n, d), "W": rand(rng, d, m), "b": rand(rng, m)}
    report = check_vjp(course.linear_forward, course.linear_backward, inputs, seed=seed)
    assert report.ok, str(report)


def test_linear_forward_is_affine():
    rng = np.random.default_rng(0)
    x, W, b = rand(rng, 4, 3), rand(rng, 3, 2), rand(rng, 2)
    expected = np.array([[sum(x[i, k] * W[k, j] for k in range(3)) + b[j] for j in range(2)]
                         for i in range(4)])
    np.testing.assert_allclose(course.linear_forward(x, W, b), expected)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 6), d=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_activation_backward_matches_numerical(name, n, d, seed):
    rng = np.random.default_rng(seed)
    x = rand(rng, n, d, scale=2.0)
    forward = getattr(course, f"{name}_forward")
    backward = getattr(course, f"{name}_backward")
    report = check_vjp(forward, backward, {"x": x}, seed=seed)
    assert report.ok, str(report)
    assert not report["x"].kinks  # random inputs never sit within h of 0


def test_activation_values():
    x = np.array([-800.0, -2.0, 0.0, 3.0, 800.0])
    np.testing.assert_array_equal(course.relu_forward(x), [0, 0, 0, 3, 800])
    s = course.sigmoid_forward(x)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s[1:4], 1 / (1 + np.exp(-x[1:4])), rtol=1e-14)
    assert s[0] == 0.0 and s[-1] == 1.0
    np.testing.assert_allclose(course.tanh_forward(x), np.tanh(x))


def test_relu_backward_passes_where_input_positive():
    x = np.array([[-1.0, 0.0, 2.0]])
    dout = np.array([[5.0, 6.0, 7.0]])
    np.testing.assert_array_equal(course.relu_backward(dout, x), [[0.0, 0.0, 7.0]])


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 7), d=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_batchnorm_backward_matches_numerical(n, d, seed):
    rng = np.random.default_rng(seed)
    inputs = {"x": rand(rng, n, d, scale=3.0) + 1.0, "gamma": rand(rng, d), "beta": rand(rng, d)}
    report = check_vjp(course.batchnorm_forward, course.batchnorm_backward, inputs, seed=seed)
    assert report.ok, str(report)


def test_batchnorm_forward_normalizes():
    rng = np.random.default_rng(1)
    x = rand(rng, 50, 4, scale=5.0) + 3.0
    out = course.batchnorm_forward(x, np.ones(4), np.zeros(4))
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1, rtol=1e-3)
    out2 = course.batchnorm_forward(x, np.full(4, 2.0), np.full(4, -1.0))
    np.testing.assert_allclose(out2, 2 * out - 1)


def test_dropout_forward_and_backward():
    rng = np.random.default_rng(0)
    x = rand(rng, 200, 50)
    out, mask = course.dropout_forward(x, 0.3, np.random.default_rng(5))
    expected_mask = np.random.default_rng(5).random(x.shape) >= 0.3
    np.testing.assert_array_equal(mask, expected_mask)
    np.testing.assert_allclose(out, x * expected_mask / 0.7)
    assert abs(mask.mean() - 0.7) < 0.02
    dout = rand(rng, 200, 50)
    dx = course.dropout_backward(dout, mask, 0.3)
    np.testing.assert_allclose(dx, dout * mask / 0.7)
    # The backward is the derivative of the forward with the mask held fixed.
    m, d = mask[:3, :4], dout[:3, :4]
    g = numerical_gradient(lambda z: float(np.sum(z * m / 0.7 * d)), x[:3, :4].copy())
    np.testing.assert_allclose(dx[:3, :4], g, rtol=1e-7)


def test_dropout_p_zero_is_identity():
    x = np.arange(6.0).reshape(2, 3)
    out, mask = course.dropout_forward(x, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(out, x)
    assert mask.all()


def test_functions_do_not_modify_inputs():
    rng = np.random.default_rng(3)
    x, W, b, dout = rand(rng, 4, 3), rand(rng, 3, 5), rand(rng, 5), rand(rng, 4, 5)
    copies = [a.copy() for a in (x, W, b, dout)]
    course.linear_backward(dout, x, W, b)
    course.batchnorm_backward(dout, rand(rng, 4, 5), np.ones(5), np.zeros(5))
    for a, c in zip((x, W, b, dout), copies, strict=True):
        np.testing.assert_array_equal(a, c)


FLOAT32_CASES = [
    ("linear_forward", lambda r: (r(4, 3), r(3, 2), r(2))),
    ("linear_backward", lambda r: (r(4, 2), r(4, 3), r(3, 2), r(2))),
    ("relu_forward", lambda r: (r(4, 3),)),
    ("relu_backward", lambda r: (r(4, 3), r(4, 3))),
    ("sigmoid_forward", lambda r: (r(4, 3),)),
    ("sigmoid_backward", lambda r: (r(4, 3), r(4, 3))),
    ("tanh_forward", lambda r: (r(4, 3),)),
    ("tanh_backward", lambda r: (r(4, 3), r(4, 3))),
    ("batchnorm_forward", lambda r: (r(4, 3), r(3), r(3))),
    ("batchnorm_backward", lambda r: (r(4, 3), r(4, 3), r(3), r(3))),
    ("dropout_backward", lambda r: (r(4, 3), r(4, 3) > 0, 0.5)),
    ("mse_loss", lambda r: (r(4, 3), r(4, 3))),
    ("sgd_step", lambda r: (r(3, 2), r(3, 2), 0.1)),
    ("momentum_step", lambda r: (r(3, 2), r(3, 2), r(3, 2), 0.1, 0.9)),
    ("rmsprop_step", lambda r: (r(3, 2), r(3, 2), r(3, 2) ** 2, 0.1)),
    ("adam_step", lambda r: (r(3, 2), r(3, 2), r(3, 2), r(3, 2) ** 2, 3, 0.1)),
]


@pytest.mark.parametrize("name,make", FLOAT32_CASES, ids=[c[0] for c in FLOAT32_CASES])
def test_float32_in_float32_out(name, make):
    rng = np.random.default_rng(0)

    def r(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    result = getattr(course, name)(*make(r))
    arrays = [a for a in (result if isinstance(result, tuple) else (result,))
              if isinstance(a, np.ndarray)]
    assert arrays
    for a in arrays:
        assert a.dtype == np.float32, f"{name} returned {a.dtype}"


def test_float32_dropout_and_softmax():
    x = np.ones((3, 4), dtype=np.float32)
    out, _ = course.dropout_forward(x, 0.5, np.random.default_rng(0))
    assert out.dtype == np.float32
    loss, dlogits = course.softmax_cross_entropy(x, np.array([0, 1, 3]))
    assert isinstance(loss, float) and dlogits.dtype == np.float32
