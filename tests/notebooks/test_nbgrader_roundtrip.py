"""End-to-end nbgrader round trip for every assignment, with stock nbgrader commands.

For each assignment, in one temporary course directory holding a copy of the repository's
nbgrader_config.py and the solution:

1. ``nbgrader generate_assignment NN-topic`` writes ``notebooks/NN-topic/NN-topic.ipynb``
   (the layout the repository commits) and it equals the committed learner notebook;
2. ``nbgrader validate`` passes on the solution;
3. ``nbgrader autograde NN-topic`` grades several students in one call:
   - ``solution``: the solution notebook itself              -> full auto-graded marks
   - ``untouched``: the learner notebook as released         -> zero
   - ``different``: every answer right but written differently (einsum, loops, another
     formula), one of them also printing a warning to stderr -> full marks
   - ``wrong-a`` / ``wrong-b``: alternate exercises answered wrongly -> exactly those
     exercises' test cells score zero, the others keep their points.

Wrong and right-but-different answers are injected into the answer cells of the released
notebook, the way a learner would fill them in.  Multiple-choice answers (``MC_X = "c"``) and
``BUGGY_GRADIENT`` get a wrong option automatically.  Every answer cell of every notebook must
have an entry in VARIANTS below (or be a choice answer), so a new exercise cannot go untested.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import _nbtools
from course.exercises import get

ROOT = _nbtools.REPO_ROOT
ASSIGNMENTS = _nbtools.assignments(ROOT)

CHOICE_RE = re.compile(r'^\s*([A-Z][A-Z0-9_]*)\s*=\s*["\']([^"\']*)["\']\s*$')
SOLUTION_RE = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)

# exercise (answer cell id) -> (right answer written differently, wrong answer)
VARIANTS: dict[str, tuple[str, str]] = {
    # 01 ------------------------------------------------------------------------------------
    "neuron_backward": (
        '''
import math

def neuron_backward(x, w, b):
    z = w * x + b
    e = math.exp(-z)
    dz = e / (1.0 + e) ** 2          # sigmoid'(z) written as e^-z / (1 + e^-z)^2
    return dz * w, dz * x, dz
''',
        '''
def neuron_backward(x, w, b):
    s = 1.0 / (1.0 + np.exp(-(w * x + b)))
    ds = s * (1 - s)
    return ds * x, ds * w, ds        # dx and dw swapped
''',
    ),
    "fanout_backward": (
        '''
def fanout_backward(x, y):
    q = x * y
    r = x + q
    grads = {"f": 1.0}
    grads["r"] = grads["f"] * q
    grads["q"] = grads["f"] * r + grads["r"]
    grads["x"] = grads["r"] + grads["q"] * y
    return grads["x"], grads["q"] * x
''',
        '''
def fanout_backward(x, y):
    q = x * y
    r = x + q
    dq = r                           # forgets the branch through r
    return q + dq * y, dq * x
''',
    ),
    # 02 ------------------------------------------------------------------------------------
    "numerical_gradient": (
        '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad
''',
        '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    fx = f(x)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + h
        grad.flat[i] = (f(x) - fx) / h   # forward difference
        x.flat[i] = old
    return grad
''',
    ),
    "relative_error": (
        '''
def relative_error(a, b):
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    worst = 0.0
    for u, v in zip(a, b):
        worst = max(worst, abs(u - v) / max(1e-8, abs(u) + abs(v)))
    return worst
''',
        '''
def relative_error(a, b):
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
''',
    ),
    # 03 ------------------------------------------------------------------------------------
    "linear_forward": (
        '''
def linear_forward(x, W, b):
    return np.einsum("nd,dm->nm", x, W) + b[None, :]
''',
        '''
def linear_forward(x, W, b):
    return x @ W                       # bias forgotten
''',
    ),
    "linear_backward": (
        '''
def linear_backward(dout, x, W, b):
    dx = np.empty_like(x)
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    for n in range(x.shape[0]):        # one example at a time
        dx[n] = W @ dout[n]
        dW += np.outer(x[n], dout[n])
        db += dout[n]
    return dx, dW, db
''',
        '''
def linear_backward(dout, x, W, b):
    n = x.shape[0]
    return dout @ W.T, x.T @ dout / n, dout.sum(axis=0) / n   # averaged over the batch
''',
    ),
    # 04 ------------------------------------------------------------------------------------
    "relu_forward": (
        '''
def relu_forward(x):
    return np.where(x > 0, x, np.zeros_like(x))
''',
        '''
def relu_forward(x):
    return np.abs(x)
''',
    ),
    "relu_backward": (
        '''
def relu_backward(dout, x):
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx
''',
        '''
def relu_backward(dout, x):
    return (x > 0).astype(dout.dtype)  # dout ignored
''',
    ),
    "sigmoid_forward": (
        '''
def sigmoid_forward(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))
''',
        '''
def sigmoid_forward(x):
    return 1.0 / (1.0 + np.exp(x))     # sign of the exponent flipped
''',
    ),
    "sigmoid_backward": (
        '''
def sigmoid_backward(dout, x):
    s = 0.5 * (1.0 + np.tanh(0.5 * x))
    return dout * (s - s * s)
''',
        '''
def sigmoid_backward(dout, x):
    return dout * x * (1 - x)          # forward input used as if it were the output
''',
    ),
    "tanh_forward": (
        '''
def tanh_forward(x):
    return 2.0 / (1.0 + np.exp(-2.0 * x)) - 1.0
''',
        '''
def tanh_forward(x):
    return np.sinh(x)
''',
    ),
    "tanh_backward": (
        '''
def tanh_backward(dout, x):
    return dout / np.cosh(x) ** 2
''',
        '''
def tanh_backward(dout, x):
    return dout * (1 - x ** 2)         # forward input used as if it were the output
''',
    ),
    # 05 ------------------------------------------------------------------------------------
    "mse_loss": (
        '''
def mse_loss(pred, target):
    diff = (pred - target).ravel()
    n = diff.size
    loss = float(np.dot(diff, diff)) / n
    return loss, (2.0 / n) * (pred - target)
''',
        '''
def mse_loss(pred, target):
    diff = pred - target
    return float(np.mean(diff ** 2)), diff / diff.size   # factor 2 forgotten
''',
    ),
    "softmax_cross_entropy": (
        '''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    log_z = np.logaddexp.reduce(logits, axis=1, keepdims=True)
    log_p = logits - log_z
    loss = -float(np.mean(log_p[np.arange(n), labels]))
    onehot = np.eye(logits.shape[1], dtype=logits.dtype)[labels]
    return loss, (np.exp(log_p) - onehot) / n
''',
        '''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = -float(np.mean(np.log(p[np.arange(n), labels])))
    return loss, p / n                 # the one-hot term forgotten
''',
    ),
    # 06 ------------------------------------------------------------------------------------
    "two_layer_net": (
        '''
def two_layer_net(x, labels, W1, b1, W2, b2):
    n = x.shape[0]
    a = np.einsum("nd,dh->nh", x, W1) + b1
    h = np.maximum(a, 0)
    s = np.einsum("nh,hc->nc", h, W2) + b2
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    loss = -float(log_p[np.arange(n), labels].mean())
    ds = np.exp(log_p)
    ds[np.arange(n), labels] -= 1
    ds /= n
    dh = ds @ W2.T
    da = dh * (a > 0)
    grads = {"W1": x.T @ da, "b1": da.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}
    return loss, grads
''',
        '''
def two_layer_net(x, labels, W1, b1, W2, b2):
    n = x.shape[0]
    a = x @ W1 + b1
    h = np.maximum(a, 0)
    s = h @ W2 + b2
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -float(np.log(p[np.arange(n), labels]).mean())
    ds = p.copy()
    ds[np.arange(n), labels] -= 1
    ds /= n
    da = ds @ W2.T                     # ReLU mask forgotten
    grads = {"W1": x.T @ da, "b1": da.sum(0), "W2": h.T @ ds, "b2": ds.sum(0)}
    return loss, grads
''',
    ),
    # 07 ------------------------------------------------------------------------------------
    "sgd_step": (
        '''
def sgd_step(w, dw, lr):
    return np.subtract(w, np.multiply(lr, dw))
''',
        '''
def sgd_step(w, dw, lr):
    return w + lr * dw                 # gradient ascent
''',
    ),
    "gradient_descent": (
        '''
def gradient_descent(loss_and_grad, w0, lr, steps):
    w = np.array(w0, copy=True)        # a copy that keeps w0's dtype (float32 stays float32)
    losses = []
    while len(losses) < steps:
        loss, dw = loss_and_grad(w)
        losses.append(float(loss))
        w = w - lr * dw
    return w, losses
''',
        '''
def gradient_descent(loss_and_grad, w0, lr, steps):
    w = np.array(w0, dtype=float, copy=True)
    losses = []
    for _ in range(steps):
        loss, dw = loss_and_grad(w)
        w = w - lr * dw
        losses.append(float(loss_and_grad(w)[0]))   # loss recorded after the step
    return w, losses
''',
    ),
    # 08 ------------------------------------------------------------------------------------
    "sgd_epoch": (
        '''
def sgd_epoch(w, x, y, grad_fn, lr, batch_size, rng):
    order = rng.permutation(len(x))
    losses = []
    for batch in np.array_split(order, range(batch_size, len(x), batch_size)):
        loss, dw = grad_fn(w, x[batch], y[batch])
        losses.append(loss)
        w = w - lr * dw
    return w, losses
''',
        '''
def sgd_epoch(w, x, y, grad_fn, lr, batch_size, rng):
    losses = []
    for start in range(0, len(x), batch_size):       # never shuffled
        loss, dw = grad_fn(w, x[start:start + batch_size], y[start:start + batch_size])
        losses.append(loss)
        w = w - lr * dw
    return w, losses
''',
    ),
    "momentum_step": (
        '''
def momentum_step(w, dw, velocity, lr, beta):
    v_new = dw + beta * velocity
    return w - lr * v_new, v_new
''',
        '''
def momentum_step(w, dw, velocity, lr, beta):
    w_new = w - lr * velocity          # the old velocity applied
    return w_new, beta * velocity + dw
''',
    ),
    "rmsprop_step": (
        '''
def rmsprop_step(w, dw, cache, lr, decay=0.99, eps=1e-8):
    cache_new = cache + (1 - decay) * (dw * dw - cache)
    return w - lr * dw / (cache_new ** 0.5 + eps), cache_new
''',
        '''
def rmsprop_step(w, dw, cache, lr, decay=0.99, eps=1e-8):
    cache_new = decay * cache + (1 - decay) * dw ** 2
    return w - lr * dw / (cache_new + eps), cache_new   # square root forgotten
''',
    ),
    "adam_step": (
        '''
def adam_step(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m_new = m + (1 - beta1) * (dw - m)
    v_new = v + (1 - beta2) * (dw * dw - v)
    step = lr * (m_new / (1 - beta1 ** t)) / (np.sqrt(v_new / (1 - beta2 ** t)) + eps)
    return w - step, m_new, v_new
''',
        '''
def adam_step(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m_new = beta1 * m + (1 - beta1) * dw
    v_new = beta2 * v + (1 - beta2) * dw ** 2
    return w - lr * m_new / (np.sqrt(v_new) + eps), m_new, v_new   # no bias correction
''',
    ),
    # 09 ------------------------------------------------------------------------------------
    "batchnorm_forward": (
        '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = np.mean(x, axis=0, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=0, keepdims=True)
    return gamma * ((x - mu) * (var + eps) ** -0.5) + beta
''',
        '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0, ddof=1)        # unbiased variance
    return gamma * (x - mu) / np.sqrt(var + eps) + beta
''',
    ),
    "batchnorm_backward": (
        '''
def batchnorm_backward(dout, x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc ** 2).mean(axis=0)
    std = np.sqrt(var + eps)
    xhat = xc / std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dvar = (dxhat * xc).sum(axis=0) * -0.5 * (var + eps) ** -1.5
    dmu = -(dxhat / std).sum(axis=0) + dvar * (-2.0 * xc).mean(axis=0)
    dx = dxhat / std + dvar * 2.0 * xc / n + dmu / n
    return dx, dgamma, dbeta
''',
        '''
def batchnorm_backward(dout, x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    std = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - mu) / std
    dx = dout * gamma / std            # mean and variance treated as constants
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
''',
    ),
    "dropout_forward": (
        '''
def dropout_forward(x, p, rng):
    keep = rng.random(x.shape) >= p
    return np.where(keep, x / (1 - p), 0).astype(x.dtype, copy=False), keep
''',
        '''
def dropout_forward(x, p, rng):
    mask = rng.random(x.shape) >= p
    return x * mask, mask              # not rescaled by 1 / (1 - p)
''',
    ),
    "dropout_backward": (
        '''
def dropout_backward(dout, mask, p):
    return np.where(mask, dout, 0).astype(dout.dtype, copy=False) / (1 - p)
''',
        '''
def dropout_backward(dout, mask, p):
    return dout * mask                 # not rescaled by 1 / (1 - p)
''',
    ),
    # 12 ------------------------------------------------------------------------------------
    # The capstone's parts are not graded on their own (no test cell); the "different"
    # student writes all of them differently: other formulas, momentum instead of Adam.
    "own_functions": (
        """
def linear_forward(x, W, b):
    return np.einsum("nd,dm->nm", x, W) + b[None, :]


def linear_backward(dout, x, W, b):
    return np.einsum("nm,dm->nd", dout, W), np.einsum("nd,nm->dm", x, dout), dout.sum(0)


def relu_forward(x):
    return np.where(x > 0, x, 0.0)


def relu_backward(dout, x):
    return np.where(x > 0, dout, 0.0)


def softmax_cross_entropy(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    Y = np.eye(logits.shape[1])[labels]
    loss = -np.mean(np.sum(Y * (z - np.log(np.exp(z).sum(axis=1, keepdims=True))), axis=1))
    return float(loss), (p - Y) / len(labels)


def momentum_step(w, dw, velocity, lr, beta):
    velocity = beta * velocity + dw
    return w - lr * velocity, velocity
""",
        """
def linear_forward(x, W, b):
    return x @ W + b


def linear_backward(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0)


def relu_backward(dout, x):
    return dout                        # forgets the ReLU's gate


def softmax_cross_entropy(logits, labels):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    Y = np.eye(logits.shape[1])[labels]
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels]))), (p - Y) / len(labels)


def adam_step(w, dw, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return w - lr * dw, m, v
""",
    ),
    "own_network": (
        """
class MLP:
    def __init__(self, sizes, rng):
        self.layers = [{"W": rng.standard_normal((d, m)) * (2.0 / d) ** 0.5, "b": np.zeros(m)}
                       for d, m in zip(sizes[:-1], sizes[1:])]
        self.params = [a for layer in self.layers for a in (layer["W"], layer["b"])]

    def _sync(self):
        for k, layer in enumerate(self.layers):
            layer["W"], layer["b"] = self.params[2 * k], self.params[2 * k + 1]

    def forward(self, x):
        self._sync()
        self.inputs, self.pre = [], []
        for k, layer in enumerate(self.layers):
            self.inputs.append(x)
            x = linear_forward(x, layer["W"], layer["b"])
            self.pre.append(x)
            if k + 1 < len(self.layers):
                x = relu_forward(x)
        return x

    def backward(self, dscores):
        grads = []
        d = dscores
        for k in range(len(self.layers) - 1, -1, -1):
            if k + 1 < len(self.layers):
                d = relu_backward(d, self.pre[k])
            layer = self.layers[k]
            d, dW, db = linear_backward(d, self.inputs[k], layer["W"], layer["b"])
            grads = [dW, db] + grads
        return grads
""",
        """
class MLP:
    def __init__(self, sizes, rng):
        self.params = []
        for d, m in zip(sizes[:-1], sizes[1:]):
            self.params += [rng.normal(0.0, 1.0, size=(d, m)), np.zeros(m)]

    def forward(self, x):
        return linear_forward(x, self.params[0], self.params[1])   # one layer only

    def backward(self, dscores):
        return [np.zeros_like(p) for p in self.params]
""",
    ),
    "own_training": (
        """
def train(net, x, y, lr, epochs, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    velocity = [np.zeros_like(p) for p in net.params]
    losses = []
    for epoch in range(epochs):
        shuffled = rng.permutation(len(x))
        batch_losses = []
        for batch in np.array_split(shuffled, int(np.ceil(len(x) / batch_size))):
            loss, dscores = softmax_cross_entropy(net.forward(x[batch]), y[batch])
            batch_losses.append(loss)
            for i, g in enumerate(net.backward(dscores)):
                net.params[i], velocity[i] = momentum_step(net.params[i], g, velocity[i], lr,
                                                           0.9)
        losses.append(float(np.mean(batch_losses)))
    return losses
""",
        """
def train(net, x, y, lr, epochs, batch_size, seed=0):
    return []                          # never updates anything
""",
    ),
    "own_tuning": (
        """
val_model = MLP([64, 64, 10], np.random.default_rng(1))
train(val_model, x_fit, y_fit, lr=0.03, epochs=15, batch_size=64)
print("validation accuracy", np.mean(val_model.forward(x_val).argmax(1) == y_val))
""",
        """
val_model = None
""",
    ),
    "digits_model": (
        """
model = MLP([64, 128, 10], np.random.default_rng(3))
losses = train(model, x, y, lr=0.05, epochs=30, batch_size=32, seed=3)
""",
        """
from course import Adam, SoftmaxCrossEntropy, fit, mlp

model = mlp([64, 128, 10], rng=0)      # course's library instead of the learner's own code
losses = fit(model, SoftmaxCrossEntropy(), Adam(model.parameters(), lr=3e-3), x, y,
             epochs=20, batch_size=32).epoch_loss
""",
    ),
    # 10 ------------------------------------------------------------------------------------
    "l2_penalty": (
        '''
def l2_penalty(W, lam):
    flat = W.ravel()
    penalty = lam * (flat @ flat) / 2
    return float(penalty), W * lam
''',
        '''
def l2_penalty(W, lam):
    return lam * float(np.sum(W ** 2)), lam * W    # the 1/2 is missing
''',
    ),
    "early_stopping": (
        '''
def early_stopping(val_losses, patience):
    best_epoch, best_loss, waited = 0, val_losses[0], 0
    for epoch, loss in enumerate(val_losses):
        if epoch == 0:
            continue
        if loss < best_loss:
            best_epoch, best_loss, waited = epoch, loss, 0
        else:
            waited += 1
            if waited == patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
''',
        '''
def early_stopping(val_losses, patience):
    best = int(np.argmin(val_losses))                # looks into the future
    for epoch in range(1, len(val_losses)):
        if epoch - best >= patience:
            return best, epoch
    return best, len(val_losses) - 1
''',
    ),
    # 11 ------------------------------------------------------------------------------------
    "value": (
        '''
class Value:
    def __init__(self, data, _inputs=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._inputs = tuple(_inputs)
        self._op = _op
        self._backward = lambda: None

    def _make(self, data, inputs, op, local_grads):
        out = Value(data, inputs, op)

        def _backward():
            for node, local in zip(inputs, local_grads(out)):
                node.grad += local * out.grad

        out._backward = _backward
        return out

    def _wrap(self, other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = self._wrap(other)
        return self._make(self.data + other.data, (self, other), "+", lambda out: (1.0, 1.0))

    def __mul__(self, other):
        other = self._wrap(other)
        return self._make(self.data * other.data, (self, other), "*",
                          lambda out: (other.data, self.data))

    def tanh(self):
        e = math.exp(2 * self.data)
        return self._make((e - 1) / (e + 1), (self,), "tanh", lambda out: (1 - out.data ** 2,))

    def relu(self):
        return self._make(self.data * (self.data > 0), (self,), "relu",
                          lambda out: (float(self.data > 0),))

    def exp(self):
        return self._make(math.e ** self.data, (self,), "exp", lambda out: (out.data,))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def backward(self):
        backward(self)
''',
        '''
class Value:
    def __init__(self, data, _inputs=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._inputs = tuple(_inputs)
        self._op = _op
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad = other.data * out.grad     # = instead of +=
            other.grad = self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data ** 2) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def backward(self):
        backward(self)
''',
    ),
    "topo_order": (
        '''
def topo_order(root, inputs_of):
    order, done, stack = [], set(), [(root, False)]
    while stack:                                     # depth-first, without recursion
        node, expanded = stack.pop()
        if expanded:
            if node not in done:
                done.add(node)
                order.append(node)
            continue
        if node in done:
            continue
        stack.append((node, True))
        for parent in reversed(list(inputs_of(node))):
            if parent not in done:
                stack.append((parent, False))
    return order
''',
        '''
def topo_order(root, inputs_of):
    order, seen = [], set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        order.append(node)                           # appended before its inputs
        for parent in inputs_of(node):
            visit(parent)

    visit(root)
    return order
''',
    ),
    "backward": (
        '''
def backward(root):
    root.grad = 1.0
    for value in topo_order(root, lambda v: v._inputs)[::-1]:
        value._backward()
''',
        '''
def backward(root):
    root.grad = 1.0
    for value in topo_order(root, lambda v: v._inputs):   # not reversed
        value._backward()
''',
    ),
    "fit_neuron": (
        '''
def fit_neuron(x, y, params, lr, steps):
    params = np.array(params, dtype=float)
    losses = []
    for _ in range(steps):
        p = [Value(v) for v in params]               # fresh values every step: no stale grads
        preds = [sum((p[j] * float(xj) for j, xj in enumerate(row)), p[-1]).tanh()
                 for row in x]
        loss = sum(((pred - float(t)) * (pred - float(t)) for pred, t in zip(preds, y)),
                   Value(0.0)) * (1.0 / len(y))
        loss.backward()
        losses.append(loss.data)
        params = params - lr * np.array([q.grad for q in p])
    return params, losses
''',
        '''
def fit_neuron(x, y, params, lr, steps):
    p = [Value(v) for v in params]                   # one value per parameter
    losses = []
    for _ in range(steps):
        loss = Value(0.0)
        for row, t in zip(x, y):
            z = p[-1]
            for j in range(len(row)):
                z = z + p[j] * float(row[j])
            err = z.tanh() - float(t)
            loss = loss + err * err
        loss = loss * (1.0 / len(y))
        loss.backward()                              # grads never reset to zero
        for q in p:
            q.data -= lr * q.grad
        losses.append(loss.data)
    return np.array([q.data for q in p]), losses
''',
    ),
}


# Appended to one right answer of the "different" student: the function now also writes an
# ordinary warning to stderr every time it is called.  The config's IgnorePattern must keep
# such a warning from zeroing the test cell.
NOISY_WRAPPER = """
import warnings as _warnings

_warnings.simplefilter("always")
_quiet_{name} = {name}


def {name}(*args, **kwargs):
    _warnings.warn("an ordinary warning that ends up on stderr", RuntimeWarning)
    return _quiet_{name}(*args, **kwargs)
"""


def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def answer_cells(nb) -> list:
    return [
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
        and not c.metadata["nbgrader"].get("grade")
    ]


def variant(cell, kind: str) -> str:
    """Source of a right-but-different (kind="right") or wrong answer for an answer cell."""
    body = SOLUTION_RE.search(cell.source)
    choice = CHOICE_RE.match(body.group(1)) if body else None
    if choice:
        name, value = choice.groups()
        if kind == "right":
            return f"{name} = {value!r}  # single quotes this time\n"
        options = get(name).choices  # the exercise registry's letters
        wrong = options[(options.index(value) + 1) % len(options)]
        return f'{name} = "{wrong}"\n'
    assert cell.id in VARIANTS, (
        f"answer cell {cell.id!r} has no entry in VARIANTS of {__file__}: add a right answer "
        "written differently and a wrong one"
    )
    right, wrong = VARIANTS[cell.id]
    return (right if kind == "right" else wrong).strip("\n") + "\n"


def submission(release_nb, solution_nb, replace: dict[str, str]):
    """The released notebook with every answer filled in: the solution's code, except for
    the cells in ``replace`` (cell id -> source)."""
    sol = {c.get("id"): c for c in solution_nb.cells}
    nb = _nbtools.normalize(release_nb)
    for cell in nb.cells:
        m = cell.metadata.get("nbgrader", {})
        if not m.get("solution"):
            continue
        if cell.id in replace:
            cell.source = replace[cell.id]
        else:
            cell.source = sol[cell.id].source
    return nb


def test_every_exercise_has_variants():
    """Fast guard: each answer cell has variants (the slow round trip would fail late)."""
    for name in ASSIGNMENTS:
        nb = _nbtools.read(_nbtools.solution_path(name, ROOT))
        for cell in answer_cells(nb):
            for kind in ("right", "wrong"):
                assert variant(cell, kind).strip()


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_round_trip(name, tmp_path):
    from nbgrader.api import Gradebook

    course_dir = tmp_path / "course"
    shutil.copytree(ROOT / "solutions" / name, course_dir / "solutions" / name)
    shutil.copy2(ROOT / "nbgrader_config.py", course_dir / "nbgrader_config.py")

    # 1. stock generate_assignment, repository layout, equal to the committed release
    gen = nbgrader("generate_assignment", name, cwd=course_dir)
    assert gen.returncode == 0, gen.stdout + gen.stderr
    released = course_dir / "notebooks" / name / f"{name}.ipynb"
    assert released.is_file(), f"expected {released}; got {list(course_dir.rglob('*.ipynb'))}"
    committed = _nbtools.release_path(name, ROOT)
    assert committed.is_file(), f"{committed} missing: run `backprop-course release`"
    assert released.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
        f"{committed} is stale: run `backprop-course release`"
    )

    # 2. validate the solution
    val = nbgrader("validate", f"solutions/{name}/{name}.ipynb", cwd=course_dir)
    assert "Success! Your notebook passes all the tests." in val.stdout, val.stdout + val.stderr

    # 3. several students, one autograde call
    solution_nb = _nbtools.read(course_dir / "solutions" / name / f"{name}.ipynb")
    release_nb = _nbtools.read(released)
    answers = [c.id for c in answer_cells(solution_nb)]
    by_id = {c.id: c for c in solution_nb.cells}
    # Answer cells without a test cell of their own (the capstone's parts of the learner's
    # network) are written differently by the "different" student, never answered wrongly.
    exercises = [e for e in answers if f"test_{e}" in by_id]
    wrong_groups = {"wrong-a": exercises[0::2], "wrong-b": exercises[1::2]}
    different = {e: variant(by_id[e], "right") for e in answers}
    noisy = next((e for e in exercises if re.search(rf"^def {e}\(", different[e], re.M)), None)
    if noisy:
        different[noisy] += NOISY_WRAPPER.format(name=noisy)
    students = {
        "untouched": _nbtools.normalize(release_nb),
        "different": submission(release_nb, solution_nb, different),
    }
    for student, group in wrong_groups.items():
        if group:
            students[student] = submission(
                release_nb, solution_nb, {e: variant(by_id[e], "wrong") for e in group}
            )
    sub = course_dir / "submitted"
    shutil.copytree(course_dir / "solutions" / name, sub / "solution" / name)
    for student, nb in students.items():
        _nbtools.write(nb, sub / student / name / f"{name}.ipynb")
    auto = nbgrader("autograde", name, cwd=course_dir)
    assert auto.returncode == 0, auto.stdout[-3000:] + auto.stderr[-5000:]

    scores: dict[str, dict[str, tuple[float | None, float]]] = {}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for student in ["solution", *students]:
            nb = gb.find_submission_notebook(name, name, student)
            scores[student] = {g.name: (g.auto_score, g.max_score) for g in nb.grades}
    test_cells = [c.id for c in solution_nb.cells if _nbtools.is_test_cell(c)]
    total = sum(scores["solution"][t][1] for t in test_cells)
    assert total == _nbtools.points(solution_nb)[0] > 0

    def auto_total(student: str) -> float:
        return sum(scores[student][t][0] or 0.0 for t in test_cells)

    lost = {s: [t for t in test_cells if scores[s][t][0] != scores[s][t][1]] for s in scores}
    assert auto_total("solution") == total, f"solution lost points in {lost['solution']}"
    assert auto_total("untouched") == 0, {t: scores["untouched"][t] for t in test_cells}
    assert auto_total("different") == total, (
        f"right answers written differently lost points in {lost['different']}"
    )
    for student, group in wrong_groups.items():
        if not group:
            continue
        for ex in group:
            assert scores[student][f"test_{ex}"][0] == 0, (
                f"a wrong {ex} kept points in test_{ex}"
            )
        wrong_names = set(group)
        for ex in exercises:
            if ex in wrong_names:
                continue
            # An exercise whose solution calls a wrongly answered one may fail with it.
            uses_wrong = any(
                re.search(rf"\b{w}\b", by_id[ex].source) for w in wrong_names
            )
            if not uses_wrong:
                got, max_score = scores[student][f"test_{ex}"]
                assert got == max_score, (
                    f"a wrong answer elsewhere ({sorted(wrong_names)}) cost test_{ex} points"
                )
    # 4. stock export: the CSV an instructor gets has the same totals.
    exp = nbgrader("export", "--to", "grades.csv", cwd=course_dir)
    assert exp.returncode == 0, exp.stderr[-3000:]
    with open(course_dir / "grades.csv", newline="") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    assert float(rows["solution"]["raw_score"]) == total
    assert float(rows["untouched"]["raw_score"]) == 0
    assert float(rows["different"]["raw_score"]) == total

    # Written answers are left to a human: never auto-scored for the solution.
    for cell in solution_nb.cells:
        if _nbtools.is_manual_cell(cell):
            assert scores["solution"][cell.id][0] is None
            assert scores["untouched"][cell.id][0] == 0
