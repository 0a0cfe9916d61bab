"""Layer objects, Sequential, and the training loop."""

import numpy as np
import pytest

import course


def test_sequential_backward_matches_numerical_every_layer_kind():
    x, y = course.make_spirals(n_per_class=8, seed=0)
    model = course.Sequential(
        course.Linear(2, 7, rng=0), course.BatchNorm1d(7), course.Tanh(),
        course.Linear(7, 5, init="xavier", rng=1), course.Sigmoid(),
        course.Linear(5, 3, init="uniform", rng=2),
    )
    report = course.check_network(model, course.SoftmaxCrossEntropy(), x, y)
    assert report.verdict == "right", str(report)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b", "5.W", "5.b"]


def test_layers_use_the_contract_functions(monkeypatch):
    # The layer objects must call the one implementation, not their own copy of the math.
    calls = []
    original = course.network.linear_backward

    def spy(*args, **kwargs):
        calls.append("linear_backward")
        return original(*args, **kwargs)

    monkeypatch.setattr(course.network, "linear_backward", spy)
    layer = course.Linear(3, 2, rng=0)
    layer.forward(np.ones((4, 3)))
    layer.backward(np.ones((4, 2)))
    assert calls == ["linear_backward"]


def test_backward_without_the_input_gradient():
    """input_grad=False (what fit uses) skips dL/dx of the data and changes no other gradient."""
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    dx, dW, db = course.linear_backward(dout, x, W, b)
    none, dW2, db2 = course.linear_backward(dout, x, W, b, input_grad=False)
    assert none is None and dx.shape == x.shape
    np.testing.assert_array_equal(dW, dW2)
    np.testing.assert_array_equal(db, db2)

    model = course.mlp([4, 6, 3], rng=0)
    labels = rng.integers(0, 3, size=5)
    _, dlogits = course.softmax_cross_entropy(model.forward(x), labels)
    dx = model.backward(dlogits)
    full = [p.grad.copy() for p in model.parameters()]
    assert dx.shape == x.shape
    assert model.backward(dlogits, input_grad=False) is None
    for g, p in zip(full, model.parameters(), strict=True):
        np.testing.assert_array_equal(g, p.grad)


def test_fit_skips_the_input_gradient(monkeypatch):
    calls = []
    original = course.network.linear_backward

    def spy(*args, **kwargs):
        calls.append(kwargs.get("input_grad", True))
        return original(*args, **kwargs)

    monkeypatch.setattr(course.network, "linear_backward", spy)
    x, y = course.make_spirals(n_per_class=10, seed=0)
    model = course.mlp([2, 8, 3], rng=0)
    course.fit(model, course.SoftmaxCrossEntropy(), course.SGD(model.parameters(), lr=0.1), x, y,
               epochs=1, batch_size=30)
    assert calls == [True, False]  # the hidden layer's dx is needed, the data's is not


@pytest.mark.parametrize("sizes", [(0, 3), (3, -1), (2.5, 3)])
def test_linear_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match="positive integer"):
        course.Linear(*sizes)


def test_fit_keeps_the_first_divergent_step():
    x, y = course.make_regression_1d(100)
    model = course.mlp([1, 16, 1], rng=0)
    history = course.fit(model, course.MSELoss(), course.SGD(model.parameters(), lr=50.0), x, y,
                         epochs=3, stop_on_divergence=False)
    first = next(i for i, loss in enumerate(history.loss)
                 if not np.isfinite(loss) or loss > 1e4 * history.loss[0])
    assert history.diverged and history.diverged_at == first


def test_backward_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match="before forward"):
        course.ReLU().backward(np.ones(3))


def test_mlp_shapes_and_dtype():
    model = course.mlp([64, 32, 10], dtype=np.float32, rng=0)
    out = model.forward(np.ones((5, 64), dtype=np.float32))
    assert out.shape == (5, 10) and out.dtype == np.float32
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "ReLU", "Linear"]
    bn = course.mlp([4, 8, 8, 2], batchnorm=True, dropout=0.2)
    assert [type(layer).__name__ for layer in bn.layers] == [
        "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear", "BatchNorm1d", "ReLU", "Dropout",
        "Linear"]


def test_init_scales():
    rng = np.random.default_rng(0)
    he = course.Linear(400, 300, init="he", rng=rng).W.value
    xavier = course.Linear(400, 300, init="xavier", rng=rng).W.value
    uniform = course.Linear(400, 300, init="uniform", rng=rng).W.value
    assert he.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert xavier.std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    assert np.abs(uniform).max() <= 1 / 20


def test_eval_mode_dropout_and_batchnorm():
    model = course.mlp([3, 50, 2], batchnorm=True, dropout=0.5, rng=0)
    x = np.random.default_rng(1).standard_normal((64, 3))
    for _ in range(30):
        model.forward(x)
    model.eval()
    a, b = model.forward(x), model.forward(x)
    np.testing.assert_array_equal(a, b)  # deterministic in eval mode
    bn = model.layers[1]
    expected = (x @ model.layers[0].W.value).mean(0) * (1 - 0.9**30)  # momentum 0.1 from 0
    np.testing.assert_allclose(bn.running_mean, expected, atol=1e-12)


def test_fit_learns_spirals_and_records_history():
    x, y = course.make_spirals(n_per_class=100, seed=0)
    model = course.mlp([2, 64, 3], rng=0)
    history = course.fit(model, course.SoftmaxCrossEntropy(), course.Adam(model.parameters(),
                         lr=0.02), x, y, epochs=60, batch_size=32)
    assert history.steps == 60 * 10 and len(history.lr) == history.steps
    assert len(history.epoch_loss) == 60 and not history.diverged
    assert history.epoch_loss[-1] < 0.3 * history.epoch_loss[0]
    assert course.accuracy(model, x, y) > 0.9


def test_fit_marks_divergence_and_stops():
    x, y = course.make_regression_1d(100)
    model = course.mlp([1, 16, 1], rng=0)
    history = course.fit(model, course.MSELoss(), course.SGD(model.parameters(), lr=50.0), x, y,
                         epochs=20)
    assert history.diverged and history.final_loss == float("inf")
    assert history.steps < 20 * 4


def test_fit_applies_schedule():
    x, y = course.make_moons(64)
    model = course.mlp([2, 4, 2], rng=0)
    opt = course.SGD(model.parameters(), lr=0.1)
    history = course.fit(model, course.SoftmaxCrossEntropy(), opt, x, y, epochs=2,
                         batch_size=16, schedule=course.StepLR(4, 0.5))
    assert history.lr == pytest.approx([0.1] * 4 + [0.05] * 4)
    assert opt.lr == 0.1  # restored


def test_fit_progress_bar(capsys):
    x, y = course.make_xor(40)
    model = course.mlp([2, 4, 2], rng=0)
    course.fit(model, course.SoftmaxCrossEntropy(), course.SGD(model.parameters(), 0.1), x, y,
               epochs=3, progress=True)
    out = capsys.readouterr().out
    assert "epoch 3/3" in out and "loss" in out


def test_fit_rejects_mismatched_data():
    model = course.mlp([2, 2], rng=0)
    with pytest.raises(ValueError, match="rows"):
        course.fit(model, course.MSELoss(), course.SGD(model.parameters(), 0.1),
                   np.ones((4, 2)), np.ones((3, 2)))


def test_digits_mlp_reaches_95_percent():
    x, y = course.load_digits()
    x_train, x_test, y_train, y_test = course.train_test_split(x, y, test_fraction=0.2, seed=0)
    model = course.mlp([64, 128, 10], rng=0)
    course.fit(model, course.SoftmaxCrossEntropy(), course.Adam(model.parameters(), lr=3e-3),
               x_train, y_train, epochs=20, batch_size=32, rng=0)
    assert course.accuracy(model, x_test, y_test) >= 0.95
