"""Bad input gets a ValueError that names the argument and shows the shapes."""

import numpy as np
import pytest

import course

rng = np.random.default_rng(0)
x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: course.linear_forward(x, W.T, b), ["W", "(2, 3)", "(4, 3)"]),
        (lambda: course.linear_forward(x, W, np.zeros(5)), ["b", "(5,)", "(2,)"]),
        (lambda: course.linear_forward(x[0], W, b), ["x", "(N, D)", "(3,)"]),
        (lambda: course.linear_backward(np.zeros((4, 3)), x, W, b), ["dout", "(4, 2)", "(4, 3)"]),
        (lambda: course.relu_backward(np.zeros((2, 2)), x), ["dout", "(2, 2)", "(4, 3)"]),
        (lambda: course.sigmoid_backward(np.zeros(3), x), ["dout", "(3,)"]),
        (lambda: course.tanh_backward(np.zeros(3), x), ["dout", "(3,)"]),
        (lambda: course.mse_loss(np.zeros((3, 1)), np.zeros(3)), ["target", "(3,)", "(3, 1)"]),
        (lambda: course.softmax_cross_entropy(x, np.array([0, 1, 3, 0])), ["labels", "0..2", "3"]),
        (lambda: course.softmax_cross_entropy(x, np.array([0, 1, -1, 0])), ["labels", "-1"]),
        (lambda: course.softmax_cross_entropy(x, np.eye(4, 3)), ["labels", "(4,)", "(4, 3)"]),
        (lambda: course.softmax_cross_entropy(x, np.array([0, 1])), ["labels", "(4,)", "(2,)"]),
        (lambda: course.softmax_cross_entropy(x * np.nan, np.zeros(4, int)),
         ["logits", "non-finite"]),
        (lambda: course.batchnorm_forward(x, np.ones(2), np.zeros(3)), ["gamma", "(3,)", "(2,)"]),
        (lambda: course.batchnorm_forward(x[:1], np.ones(3), np.zeros(3)), ["at least 2"]),
        (lambda: course.dropout_forward(x, 1.0, 0), ["p", "[0, 1)"]),
        (lambda: course.dropout_backward(x, np.ones((2, 2), bool), 0.5), ["mask", "(2, 2)"]),
        (lambda: course.sgd_step(W, W.T, 0.1), ["dw", "(2, 3)", "(3, 2)"]),
        (lambda: course.sgd_step(W, W, float("nan")), ["lr", "nan"]),
        (lambda: course.momentum_step(W, W, np.zeros(2), 0.1, 0.9), ["velocity", "(2,)"]),
        (lambda: course.momentum_step(W, W, W, 0.1, 1.5), ["beta", "1.5"]),
        (lambda: course.rmsprop_step(W, W, np.zeros(3), 0.1), ["cache", "(3,)"]),
        (lambda: course.adam_step(W, W, W, W, 0, 0.1), ["t", "starts at 1"]),
        (lambda: course.adam_step(W, W, W, np.zeros(1), 1, 0.1), ["v", "(1,)"]),
        (lambda: course.linear_forward(x, "weights", b), ["W"]),
    ],
)
def test_clear_errors(call, words):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


def test_ints_are_accepted_as_floats():
    out = course.linear_forward([[1, 2]], [[1], [1]], [0])
    assert out.dtype == np.float64 and out.tolist() == [[3.0]]


def test_labels_as_integral_floats_are_accepted():
    loss, _ = course.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 2.0]))
    assert loss == pytest.approx(np.log(3))
