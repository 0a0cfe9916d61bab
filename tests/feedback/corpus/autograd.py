"""Tuning corpus, notebook 11: the Value class (through node_grads), topo_order, backward
(through backward_grads) and fit_neuron, written the way learners write them.

A Value class is judged through the notebook's probes, so each entry here is the probe built
on one learner's class (or one learner's backward)."""

import math

import numpy as np

from course.autograd import build

from ._mark import right, wrong


class Value:
    """A right engine, the way the notebook asks for it."""

    def __init__(self, data, _inputs=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._inputs = tuple(_inputs)
        self._op = _op
        self._backward = lambda: None

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = self._lift(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._lift(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = type(self)(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = type(self)(max(0.0, self.data), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = type(self)(math.exp(self.data), (self,), "exp")

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
        backward_right(self)


def _lifted(other, cls):
    return other if isinstance(other, Value) else cls(other)


class MulAssign(Value):
    def __mul__(self, other):
        other = _lifted(other, type(self))
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad = other.data * out.grad
            other.grad = self.data * out.grad

        out._backward = _backward
        return out


class AddAssign(Value):
    def __add__(self, other):
        other = _lifted(other, type(self))
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = out.grad
            other.grad = out.grad

        out._backward = _backward
        return out


class MulSwapped(Value):
    def __mul__(self, other):
        other = _lifted(other, type(self))
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += self.data * out.grad
            other.grad += other.data * out.grad

        out._backward = _backward
        return out


class MulNoChain(Value):
    def __mul__(self, other):
        other = _lifted(other, type(self))
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data
            other.grad += self.data

        out._backward = _backward
        return out


class TanhOfInput(Value):
    def tanh(self):
        out = type(self)(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - self.data**2) * out.grad

        out._backward = _backward
        return out


class TanhNotSquared(Value):
    def tanh(self):
        out = type(self)(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data) * out.grad

        out._backward = _backward
        return out


class ReluPassAll(Value):
    def relu(self):
        out = type(self)(max(0.0, self.data), (self,), "relu")

        def _backward():
            self.grad += out.grad

        out._backward = _backward
        return out


class ExpOfInput(Value):
    def exp(self):
        out = type(self)(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += self.data * out.grad

        out._backward = _backward
        return out


class ExpForwardWrong(Value):
    def exp(self):
        out = type(self)(math.exp(-self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out


def _node_probe(cls):
    def node_grads(expr):
        nodes = build(expr, cls)
        nodes[expr[-1][0]].grad = 1.0
        for node in reversed(list(nodes.values())):
            node._backward()
        return {name: (node.data, node.grad) for name, node in nodes.items()}

    node_grads.__name__ = f"node_grads_{cls.__name__}"
    return node_grads


node_grads_right = right("node_grads")(_node_probe(Value))
wrong("node_grads", "grad", "fan_out")(_node_probe(MulAssign))
wrong("node_grads", "grad", "fan_out")(_node_probe(AddAssign))
wrong("node_grads", "grad", "mul_rule")(_node_probe(MulSwapped))
wrong("node_grads", "grad", "chain_rule")(_node_probe(MulNoChain))
wrong("node_grads", "grad", "tanh_rule")(_node_probe(TanhOfInput))
wrong("node_grads", "grad", "tanh_rule")(_node_probe(TanhNotSquared))
wrong("node_grads", "grad", "relu_rule")(_node_probe(ReluPassAll))
wrong("node_grads", "grad", "exp_rule")(_node_probe(ExpOfInput))
wrong("node_grads", "data", "forward")(_node_probe(ExpForwardWrong))


@wrong("node_grads", "result", "returned_none")
def node_grads_no_return(expr):
    nodes = build(expr, Value)
    nodes[expr[-1][0]].grad = 1.0
    for node in reversed(list(nodes.values())):
        node._backward()


# --- topo_order ----------------------------------------------------------------------------------
@right("topo_order")
def topo_recursive(root, inputs_of):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for parent in inputs_of(node):
                visit(parent)
            order.append(node)

    visit(root)
    return order


@right("topo_order")
def topo_kahn(root, inputs_of):
    # collect the graph, then repeatedly take a node whose inputs are all placed
    nodes, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node not in nodes:
            nodes.add(node)
            stack.extend(inputs_of(node))
    order, placed = [], set()
    while len(order) < len(nodes):
        for node in sorted(nodes - placed):
            if all(p in placed for p in inputs_of(node)):
                order.append(node)
                placed.add(node)
    return order


@wrong("topo_order", "order", "preorder")
def topo_preorder(root, inputs_of):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            order.append(node)
            for parent in inputs_of(node):
                visit(parent)

    visit(root)
    return order


@wrong("topo_order", "order", "reversed")
def topo_root_first(root, inputs_of):
    return topo_recursive(root, inputs_of)[::-1]


@wrong("topo_order", "order", "duplicates")
def topo_no_visited_set(root, inputs_of):
    order = []

    def visit(node):
        for parent in inputs_of(node):
            visit(parent)
        order.append(node)

    visit(root)
    return order


@wrong("topo_order", "order", "missing")
def topo_one_level(root, inputs_of):
    return [*dict.fromkeys(inputs_of(root)), root]


@wrong("topo_order", "order", "returned_none")
def topo_no_return(root, inputs_of):
    order = []
    order.append(root)


# --- backward ------------------------------------------------------------------------------------
def backward_right(root):
    order = topo_recursive(root, lambda v: v._inputs)
    root.grad = 1.0
    for v in reversed(order):
        v._backward()


def _backward_probe(fn, name):
    class Engine(Value):
        def backward(self):
            fn(self)

    def backward_grads(expr):
        nodes = build(expr, Engine)
        nodes[expr[-1][0]].backward()
        return {n: (node.data, node.grad) for n, node in nodes.items()}

    backward_grads.__name__ = name
    return backward_grads


def _not_reversed(root):
    root.grad = 1.0
    for v in topo_recursive(root, lambda v: v._inputs):
        v._backward()


def _not_seeded(root):
    for v in reversed(topo_recursive(root, lambda v: v._inputs)):
        v._backward()


def _root_only(root):
    root.grad = 1.0
    root._backward()


def _preorder_topo(root):
    root.grad = 1.0
    for v in reversed(topo_preorder(root, lambda v: v._inputs)):
        v._backward()


right("backward_grads")(_backward_probe(backward_right, "backward_grads_right"))
wrong("backward_grads", "grad", "topo_order")(
    _backward_probe(_not_reversed, "backward_grads_not_reversed"))
wrong("backward_grads", "grad", "root_not_seeded")(
    _backward_probe(_not_seeded, "backward_grads_not_seeded"))
wrong("backward_grads", "grad", "topo_order")(
    _backward_probe(_root_only, "backward_grads_root_only"))


# --- fit_neuron ----------------------------------------------------------------------------------
def _loss(p, x, y):
    loss = Value(0.0)
    for row, t in zip(x, y, strict=True):
        z = p[-1]
        for j, v in enumerate(row):
            z = z + p[j] * float(v)
        err = z.tanh() - float(t)
        loss = loss + err * err
    return loss * (1.0 / len(y))


@right("fit_neuron")
def fit_zeroing(x, y, params, lr, steps):
    p = [Value(v) for v in params]
    losses = []
    for _ in range(steps):
        loss = _loss(p, x, y)
        for q in p:
            q.grad = 0.0
        loss.backward()
        for q in p:
            q.data -= lr * q.grad
        losses.append(loss.data)
    return np.array([q.data for q in p]), losses


@right("fit_neuron")
def fit_fresh_values(x, y, params, lr, steps):
    w = np.array(params, dtype=float)
    losses = []
    for _ in range(steps):
        p = [Value(v) for v in w]
        loss = _loss(p, x, y)
        loss.backward()
        losses.append(loss.data)
        w = w - lr * np.array([q.grad for q in p])
    return w, losses


@wrong("fit_neuron", "params", "no_zero_grad")
def fit_no_zeroing(x, y, params, lr, steps):
    p = [Value(v) for v in params]
    losses = []
    for _ in range(steps):
        loss = _loss(p, x, y)
        loss.backward()
        for q in p:
            q.data -= lr * q.grad
        losses.append(loss.data)
    return np.array([q.data for q in p]), losses


@wrong("fit_neuron", "params", "sign")
def fit_ascent(x, y, params, lr, steps):
    p = [Value(v) for v in params]
    losses = []
    for _ in range(steps):
        loss = _loss(p, x, y)
        for q in p:
            q.grad = 0.0
        loss.backward()
        for q in p:
            q.data += lr * q.grad
        losses.append(loss.data)
    return np.array([q.data for q in p]), losses


@wrong("fit_neuron", "losses", "losses_after_step")
def fit_loss_after(x, y, params, lr, steps):
    p = [Value(v) for v in params]
    losses = []
    for _ in range(steps):
        loss = _loss(p, x, y)
        for q in p:
            q.grad = 0.0
        loss.backward()
        for q in p:
            q.data -= lr * q.grad
        losses.append(_loss(p, x, y).data)
    return np.array([q.data for q in p]), losses


@wrong("fit_neuron", "params", "bias_not_trained")
def fit_weights_only(x, y, params, lr, steps):
    p = [Value(v) for v in params]
    losses = []
    for _ in range(steps):
        loss = _loss(p, x, y)
        for q in p:
            q.grad = 0.0
        loss.backward()
        for q in p[:-1]:
            q.data -= lr * q.grad
        losses.append(loss.data)
    return np.array([q.data for q in p]), losses


@wrong("fit_neuron", "params", "sum_not_mean")
def fit_sum_loss(x, y, params, lr, steps):
    p = [Value(v) for v in params]
    losses = []
    for _ in range(steps):
        loss = _loss(p, x, y) * float(len(y))
        for q in p:
            q.grad = 0.0
        loss.backward()
        for q in p:
            q.data -= lr * q.grad
        losses.append(loss.data)
    return np.array([q.data for q in p]), losses


# --- Plain probes (the notebook's), the bases of the mutation test -------------------------------
@right("node_grads")
def node_grads_plain(expr):
    nodes = build(expr, Value)
    nodes[expr[-1][0]].grad = 1.0
    for node in reversed(list(nodes.values())):
        node._backward()
    return {name: (node.data, node.grad) for name, node in nodes.items()}


@right("backward_grads")
def backward_grads_plain(expr):
    nodes = build(expr, Value)
    nodes[expr[-1][0]].backward()
    return {name: (node.data, node.grad) for name, node in nodes.items()}
