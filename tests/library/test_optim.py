"""Optimizers follow their formulas step after step (PyTorch conventions)."""

import numpy as np
import pytest

import course


def quadratic_grad(w):
    # Gradient of 0.5 * sum(a * w^2) with different curvatures per coordinate.
    return np.array([[1.0, 10.0], [0.1, 3.0]]) * w


def test_sgd_step_formula():
    w = np.array([1.0, -2.0])
    np.testing.assert_allclose(course.sgd_step(w, np.array([0.5, 0.5]), 0.1), [0.95, -2.05])


def test_momentum_matches_formula_over_steps():
    w = np.array([[1.0, -2.0], [3.0, 0.5]])
    v = np.zeros_like(w)
    w_ref, v_ref = w.copy(), v.copy()
    for _ in range(7):
        w, v = course.momentum_step(w, quadratic_grad(w), v, 0.05, 0.9)
        g = quadratic_grad(w_ref)
        v_ref = 0.9 * v_ref + g
        w_ref = w_ref - 0.05 * v_ref
    np.testing.assert_allclose(w, w_ref, rtol=1e-14)
    np.testing.assert_allclose(v, v_ref, rtol=1e-14)


def test_rmsprop_matches_formula_over_steps():
    w = np.array([[1.0, -2.0], [3.0, 0.5]])
    c = np.zeros_like(w)
    w_ref, c_ref = w.copy(), c.copy()
    for _ in range(7):
        w, c = course.rmsprop_step(w, quadratic_grad(w), c, 0.01, decay=0.9, eps=1e-8)
        g = quadratic_grad(w_ref)
        c_ref = 0.9 * c_ref + 0.1 * g**2
        w_ref = w_ref - 0.01 * g / (np.sqrt(c_ref) + 1e-8)
    np.testing.assert_allclose(w, w_ref, rtol=1e-14)
    np.testing.assert_allclose(c, c_ref, rtol=1e-14)


def test_adam_matches_formula_over_steps():
    w = np.array([[1.0, -2.0], [3.0, 0.5]])
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    w_ref, m_ref, v_ref = w.copy(), m.copy(), v.copy()
    for t in range(1, 8):
        w, m, v = course.adam_step(w, quadratic_grad(w), m, v, t, 0.01)
        g = quadratic_grad(w_ref)
        m_ref = 0.9 * m_ref + 0.1 * g
        v_ref = 0.999 * v_ref + 0.001 * g**2
        m_hat = m_ref / (1 - 0.9**t)
        v_hat = v_ref / (1 - 0.999**t)
        w_ref = w_ref - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(w, w_ref, rtol=1e-14)
    np.testing.assert_allclose(m, m_ref, rtol=1e-14)
    np.testing.assert_allclose(v, v_ref, rtol=1e-14)


def test_adam_first_step_moves_by_lr():
    # With bias correction the first step is lr * sign(g), whatever the gradient's size.
    w, _, _ = course.adam_step(np.zeros(3), np.array([1e-3, -5.0, 100.0]), np.zeros(3),
                               np.zeros(3), 1, 0.1)
    np.testing.assert_allclose(w, [-0.1, 0.1, -0.1], rtol=1e-4)


def test_step_functions_do_not_modify_inputs():
    w, g, s = np.ones(3), np.full(3, 0.5), np.full(3, 0.2)
    course.momentum_step(w, g, s, 0.1, 0.9)
    course.rmsprop_step(w, g, s, 0.1)
    course.adam_step(w, g, s, s, 2, 0.1)
    np.testing.assert_array_equal(w, 1)
    np.testing.assert_array_equal(s, 0.2)


def make_param():
    p = course.Parameter(np.array([[1.0, -2.0], [3.0, 0.5]]), "w")
    return p


@pytest.mark.parametrize(
    "make_opt, step_fn",
    [
        (lambda ps: course.SGD(ps, lr=0.05),
         lambda w, g, s, t: (course.sgd_step(w, g, 0.05), s)),
        (lambda ps: course.Momentum(ps, lr=0.05, beta=0.8),
         lambda w, g, s, t: (lambda r: (r[0], r[1]))(course.momentum_step(w, g, s, 0.05, 0.8))),
        (lambda ps: course.RMSProp(ps, lr=0.01),
         lambda w, g, s, t: course.rmsprop_step(w, g, s, 0.01)),
    ],
    ids=["SGD", "Momentum", "RMSProp"],
)
def test_optimizer_objects_follow_step_functions(make_opt, step_fn):
    p = make_param()
    opt = make_opt([p])
    w, s = p.value.copy(), np.zeros_like(p.value)
    for t in range(1, 6):
        p.grad = quadratic_grad(p.value)
        opt.step()
        w, s = step_fn(w, quadratic_grad(w), s, t)
        np.testing.assert_allclose(p.value, w, rtol=1e-13)


def test_adam_object_counts_steps_from_one():
    p = make_param()
    opt = course.Adam([p], lr=0.02)
    w, m, v = p.value.copy(), np.zeros((2, 2)), np.zeros((2, 2))
    for t in range(1, 6):
        p.grad = quadratic_grad(p.value)
        opt.step()
        w, m, v = course.adam_step(w, quadratic_grad(w), m, v, t, 0.02)
        np.testing.assert_allclose(p.value, w, rtol=1e-13)


def test_nesterov_momentum_formula():
    p = make_param()
    opt = course.Momentum([p], lr=0.05, beta=0.9, nesterov=True)
    w, vel = p.value.copy(), np.zeros((2, 2))
    for _ in range(5):
        p.grad = quadratic_grad(p.value)
        opt.step()
        g = quadratic_grad(w)
        vel = 0.9 * vel + g
        w = w - 0.05 * (g + 0.9 * vel)
        np.testing.assert_allclose(p.value, w, rtol=1e-13)


def test_optimizer_updates_in_place():
    p = make_param()
    value = p.value
    p.grad = np.ones((2, 2))
    course.SGD([p], lr=1.0).step()
    assert p.value is value
    np.testing.assert_allclose(value, [[0.0, -3.0], [2.0, -0.5]])


def test_optimizer_rejects_non_parameters():
    with pytest.raises(ValueError, match="model.parameters"):
        course.SGD([np.zeros(3)], lr=0.1)


def test_schedules():
    assert [course.StepLR(2, 0.5)(s) for s in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    assert course.ExponentialLR(0.9)(2) == pytest.approx(0.81)
    cos = course.CosineLR(10, min_factor=0.1)
    assert cos(0) == pytest.approx(1) and cos(10) == pytest.approx(0.1) and cos(20) == cos(10)
    assert cos(5) == pytest.approx(0.55)
    warm = course.Warmup(4, after=course.ExponentialLR(0.5))
    assert [warm(s) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 0.5]


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: course.Momentum(ps, lr=0.05),
        lambda ps: course.Momentum(ps, lr=0.05, nesterov=True),
        lambda ps: course.RMSProp(ps, lr=0.01),
        lambda ps: course.Adam(ps, lr=0.01),
    ],
    ids=["Momentum", "Nesterov", "RMSProp", "Adam"],
)
def test_optimizer_step_allocates_no_new_arrays(make_opt):
    """After the first step (which creates the state), a step allocates nothing weight-sized."""
    import tracemalloc

    p = course.Parameter(np.ones((256, 256)), "w")
    p.grad = np.full((256, 256), 0.1)
    opt = make_opt([p])
    opt.step()
    tracemalloc.start()
    opt.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < p.value.nbytes // 8


def test_optimizer_rejects_a_gradient_of_the_wrong_shape():
    p = make_param()
    p.grad = np.ones((1, 2))  # would broadcast silently in an in-place update
    with pytest.raises(ValueError, match="gradient has shape"):
        course.Adam([p], lr=0.1).step()


@pytest.mark.parametrize("name", ["SGD", "Momentum", "RMSProp", "Adam"])
def test_one_update_over_packed_parameters_equals_one_per_parameter(name):
    """mlp keeps its parameters in one array; the optimizer then updates them all at once."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 5)), rng.integers(0, 3, size=16)
    packed = course.mlp([5, 7, 3], rng=0)
    loose = course.Sequential(*course.mlp([5, 7, 3], rng=0).layers)
    for p in loose.parameters():  # the same values, each in an array of its own
        p.value, p.grad = p.value.copy(), p.grad.copy()
    opts = [getattr(course, name)(m.parameters(), lr=0.01) for m in (packed, loose)]
    assert opts[0]._flat is not None and opts[1]._flat is None
    for _ in range(4):
        for model, opt in zip((packed, loose), opts, strict=True):
            _, dlogits = course.softmax_cross_entropy(model.forward(x), y)
            model.backward(dlogits)
            opt.step()
    for p, q in zip(packed.parameters(), loose.parameters(), strict=True):
        np.testing.assert_allclose(p.value, q.value, rtol=1e-13, atol=1e-15)
    for s, r in zip(opts[0].state, opts[1].state, strict=True):  # per-parameter state in both
        assert s.keys() == r.keys()
        assert all(s[k].shape == r[k].shape for k in s)


def test_a_replaced_gradient_falls_back_to_one_update_per_parameter():
    model = course.mlp([3, 4, 2], rng=0)
    opt = course.SGD(model.parameters(), lr=1.0)
    layer = model[0]
    before = [p.value.copy() for p in model.parameters()]
    layer.W.grad = np.ones((3, 4))  # a new array, no longer part of the packed gradients
    opt.step()
    np.testing.assert_allclose(layer.W.value, before[0] - 1)
    for p, b in zip(model.parameters()[1:], before[1:], strict=True):
        np.testing.assert_allclose(p.value, b)  # their gradients are still zeros


def test_linear_backward_writes_the_gradients_in_place():
    model = course.mlp([3, 4, 2], rng=0)
    grads = [p.grad for p in model.parameters()]
    x = np.random.default_rng(0).standard_normal((5, 3))
    model.forward(x)
    model.backward(np.ones((5, 2)))
    assert all(p.grad is g for p, g in zip(model.parameters(), grads, strict=True))
    assert np.abs(grads[0]).sum() > 0


def test_the_packed_update_goes_block_by_block_with_the_same_result():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 600)), rng.integers(0, 3, size=8)
    packed = course.mlp([600, 450, 3], rng=0)  # 271,803 numbers: two blocks
    loose = course.Sequential(*course.mlp([600, 450, 3], rng=0).layers)
    for p in loose.parameters():
        p.value, p.grad = p.value.copy(), p.grad.copy()
    opts = [course.Adam(m.parameters(), lr=0.01) for m in (packed, loose)]
    assert opts[0]._flat is not None and opts[0]._flat[0].size > course.optim._BLOCK
    for _ in range(3):
        for model, opt in zip((packed, loose), opts, strict=True):
            model.backward(course.softmax_cross_entropy(model.forward(x), y)[1])
            opt.step()
    for p, q in zip(packed.parameters(), loose.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
