"""PyTorch CPU as an independent oracle for the reference implementation (tests only)."""

import numpy as np
import pytest

import course

torch = pytest.importorskip("torch", reason="torch is the test oracle: pip install torch==2.13.0")


def t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def test_layers_and_losses_match_torch():
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    labels = np.array([0, 2, 1, 1, 2])
    # Reference: linear -> batchnorm -> tanh -> sigmoid -> softmax cross-entropy.
    h1 = course.linear_forward(x, W, b)
    h2 = course.batchnorm_forward(h1, gamma, beta)
    h3 = course.tanh_forward(h2)
    h4 = course.sigmoid_forward(h3) * 5
    loss, d4 = course.softmax_cross_entropy(h4, labels)
    d3 = course.sigmoid_backward(d4 * 5, h3)
    d2 = course.tanh_backward(d3, h2)
    d1, dgamma, dbeta = course.batchnorm_backward(d2, h1, gamma, beta)
    dx, dW, db = course.linear_backward(d1, x, W, b)

    tx, tW, tb, tg, tbeta = map(t, (x, W, b, gamma, beta))
    th1 = tx @ tW + tb
    th2 = torch.nn.functional.batch_norm(th1, None, None, tg, tbeta, training=True, eps=1e-5)
    th4 = torch.sigmoid(torch.tanh(th2)) * 5
    tloss = torch.nn.functional.cross_entropy(th4, torch.tensor(labels))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    for ours, theirs in [(dx, tx), (dW, tW), (db, tb), (dgamma, tg), (dbeta, tbeta)]:
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_mse_matches_torch():
    rng = np.random.default_rng(1)
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss, dpred = course.mse_loss(pred, target)
    tp = t(pred)
    tl = torch.nn.functional.mse_loss(tp, torch.tensor(target))
    tl.backward()
    assert loss == pytest.approx(tl.item(), rel=1e-12)
    np.testing.assert_allclose(dpred, tp.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda ps: course.SGD(ps, lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
        (lambda ps: course.Momentum(ps, lr=0.1, beta=0.9),
         lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
        (lambda ps: course.Momentum(ps, lr=0.1, beta=0.9, nesterov=True),
         lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)),
        (lambda ps: course.RMSProp(ps, lr=0.01, decay=0.99, eps=1e-8),
         lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.99, eps=1e-8)),
        (lambda ps: course.Adam(ps, lr=0.01),
         lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8)),
    ],
    ids=["sgd", "momentum", "nesterov", "rmsprop", "adam"],
)
def test_optimizers_match_torch(ours, theirs):
    w0 = np.array([[1.0, -2.0], [0.5, 3.0]])
    curv = np.array([[1.0, 10.0], [0.1, 3.0]])
    p = course.Parameter(w0.copy(), "w")
    opt = ours([p])
    tw = t(w0)
    topt = theirs([tw])
    for _ in range(10):
        p.grad = curv * p.value
        opt.step()
        topt.zero_grad()
        (0.5 * (torch.tensor(curv) * tw * tw).sum()).backward()
        topt.step()
    np.testing.assert_allclose(p.value, tw.detach().numpy(), rtol=1e-12, atol=1e-14)
