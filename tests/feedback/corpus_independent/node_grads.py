"""11 autograd: the Value class, judged through node_grads(expr) -> {name: (data, grad)}.

Unlike most of this corpus, written by the author of the check (issue 13), so it is not held
out: it guards the check against regressions rather than measuring it."""

import math

from course.autograd import build

from ._registry import right, wrong

EX = "node_grads"


def engine(mul="right", tanh="right", relu="right", exp="right", add="+="):
    """A Value class with one chosen bug."""

    class V:
        def __init__(self, data, kids=(), op=""):
            self.data, self.grad, self._inputs, self._op = float(data), 0.0, tuple(kids), op
            self._backward = lambda: None

        def _node(self, data, kids, locals_):
            out = V(data, kids)

            def back():
                for kid, loc in zip(kids, locals_(out), strict=True):
                    kid.grad += loc * out.grad

            out._backward = back
            return out

        def __add__(self, o):
            o = o if isinstance(o, V) else V(o)
            if add == "=":
                out = V(self.data + o.data, (self, o))

                def back():
                    self.grad = out.grad
                    o.grad = out.grad

                out._backward = back
                return out
            return self._node(self.data + o.data, (self, o), lambda out: (1.0, 1.0))

        def __mul__(self, o):
            o = o if isinstance(o, V) else V(o)
            if mul == "swapped":
                return self._node(self.data * o.data, (self, o), lambda out: (self.data, o.data))
            return self._node(self.data * o.data, (self, o), lambda out: (o.data, self.data))

        def tanh(self):
            t = math.tanh(self.data)
            if tanh == "input":
                return self._node(t, (self,), lambda out: (1 - self.data**2,))
            return self._node(t, (self,), lambda out: (1 - out.data**2,))

        def relu(self):
            if relu == "leaky":
                return self._node(max(self.data, 0.0), (self,),
                                  lambda out: (1.0 if self.data > 0 else 0.01,))
            return self._node(max(self.data, 0.0), (self,), lambda out: (float(self.data > 0),))

        def exp(self):
            if exp == "forward":
                return self._node(math.exp(self.data) - 1, (self,), lambda out: (out.data + 1,))
            return self._node(math.exp(self.data), (self,), lambda out: (out.data,))

    return V


def probe(V, name):
    def node_grads(expr):
        nodes = build(expr, V)
        nodes[expr[-1][0]].grad = 1.0
        for node in list(nodes.values())[::-1]:
            node._backward()
        return {k: (v.data, v.grad) for k, v in nodes.items()}

    node_grads.__name__ = name
    return node_grads


right(EX)(probe(engine(), "ng_generic_engine"))
wrong(EX, "grad", "= instead of += in add", ("+=", "accumulat", "used more than once"))(
    probe(engine(add="="), "ng_add_assign"))
wrong(EX, "grad", "mul sends each input its own data", ("wrong input", "other", "product"))(
    probe(engine(mul="swapped"), "ng_mul_swapped"))
wrong(EX, "grad", "tanh derivative from the input", ("tanh", "out.data", "output"))(
    probe(engine(tanh="input"), "ng_tanh_input"))
wrong(EX, "grad", "leaky relu", ("relu",))(probe(engine(relu="leaky"), "ng_relu_leaky"))
wrong(EX, "data", "exp forward is exp(x) - 1", ("forward", "out.data", "value"))(
    probe(engine(exp="forward"), "ng_exp_forward"))
