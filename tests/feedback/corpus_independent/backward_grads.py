"""11 autograd: backward, judged through backward_grads(expr) -> {name: (data, grad)}.

Unlike most of this corpus, written by the author of the check (issue 13), so it is not held
out: it guards the check against regressions rather than measuring it."""

from course.autograd import build

from ._registry import ORDER, right, wrong
from .node_grads import engine

EX = "backward_grads"


def _order(root):
    out, seen, stack = [], set(), [(root, 0)]
    while stack:
        v, i = stack.pop()
        if i == 0:
            if v in seen:
                continue
            seen.add(v)
        kids = v._inputs
        if i < len(kids):
            stack.append((v, i + 1))
            stack.append((kids[i], 0))
        else:
            out.append(v)
    return out


def probe(run, name):
    V = engine()

    def backward_grads(expr):
        nodes = build(expr, V)
        run(nodes[expr[-1][0]])
        return {k: (v.data, v.grad) for k, v in nodes.items()}

    backward_grads.__name__ = name
    return backward_grads


def _right(root):
    root.grad = 1.0
    for v in _order(root)[::-1]:
        v._backward()


def _forward_order(root):
    root.grad = 1.0
    for v in _order(root):
        v._backward()


def _no_seed(root):
    for v in _order(root)[::-1]:
        v._backward()


def _seed_zero_after(root):
    root.grad = 1.0
    for v in _order(root)[::-1]:
        v._backward()
        v.grad = 0.0 if v is root else v.grad


def _direct_only(root):
    root.grad = 1.0
    root._backward()
    for v in root._inputs:
        v._backward()


right(EX)(probe(_right, "bg_iterative"))
wrong(EX, "grad", "topological order not reversed", ("reverse", "root first") + ORDER)(
    probe(_forward_order, "bg_forward_order"))
wrong(EX, "grad", "root.grad never set to 1", ("root.grad", "seed", "1.0", "dl/dl"))(
    probe(_no_seed, "bg_no_seed"))
wrong(EX, "grad", "the root's own grad is reset", ("root", "1.0", "seed", "dl/dl"))(
    probe(_seed_zero_after, "bg_root_reset"))
wrong(EX, "grad", "only two levels", ("every node", "reverse", "root alone", "order"))(
    probe(_direct_only, "bg_two_levels"))
