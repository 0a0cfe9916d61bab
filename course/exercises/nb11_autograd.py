"""Notebook 11, your own autograd: the Value class (judged through node_grads), topo_order,
backward (judged through backward_grads), fit_neuron; three concept questions.

The learner's engine never crosses the grading boundary: every graded function takes plain
values (an expression as a list of (name, op, ...) nodes, node names, arrays) and returns
plain values ({name: (data, grad)}, a list of names, an array and a list of floats). The
notebook's probes `node_grads(expr)` and `backward_grads(expr)` build the expression with the
learner's Value (course.autograd.build) and read every node's data and grad back.

The engines' checks judge a whole graph at once and name the node whose gradient is wrong,
then recognise the mistake by replaying the graph with each known mistake (a wrong local
derivative, '=' instead of '+=' at a fan-out, the chain rule's factor out.grad forgotten, a
backward pass in the wrong order, a root gradient never seeded).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course._diagnose import Case, CheckFailure, Mistake, Output, Spec, _is_real_scalar
from course.exercises import Fn
from course.exercises._shared import REFERENCE, _rng, choice, function, plan

NOTEBOOK = "11-autograd"

Expr = Sequence[Sequence[Any]]


# --- The reference engine, on plain expressions --------------------------------------------------
def _parse(expr: Expr) -> list[tuple[str, str, tuple[Any, ...]]]:
    return [(str(n[0]), str(n[1]), tuple(n[2:])) for n in expr]


def _forward(expr: Expr) -> dict[str, float]:
    data: dict[str, float] = {}
    for name, op, args in _parse(expr):
        if op == "leaf":
            data[name] = float(args[0])
        elif op == "add":
            data[name] = data[args[0]] + data[args[1]]
        elif op == "mul":
            data[name] = data[args[0]] * data[args[1]]
        elif op == "tanh":
            data[name] = math.tanh(data[args[0]])
        elif op == "relu":
            data[name] = max(data[args[0]], 0.0)
        elif op == "exp":
            data[name] = math.exp(data[args[0]])
    return data


# local rules: (op, variant) -> function(input data, output data, out grad) -> contributions
_RULES: dict[tuple[str, str], Callable[[list[float], float, float], list[float]]] = {
    ("add", "right"): lambda x, o, g: [g, g],
    ("add", "no_chain"): lambda x, o, g: [1.0, 1.0],
    ("mul", "right"): lambda x, o, g: [g * x[1], g * x[0]],
    ("mul", "swapped"): lambda x, o, g: [g * x[0], g * x[1]],
    ("mul", "no_chain"): lambda x, o, g: [x[1], x[0]],
    ("tanh", "right"): lambda x, o, g: [g * (1.0 - o * o)],
    ("tanh", "input"): lambda x, o, g: [g * (1.0 - x[0] * x[0])],
    ("tanh", "no_square"): lambda x, o, g: [g * (1.0 - o)],
    ("tanh", "no_chain"): lambda x, o, g: [1.0 - o * o],
    ("relu", "right"): lambda x, o, g: [g * (1.0 if x[0] > 0 else 0.0)],
    ("relu", "pass"): lambda x, o, g: [g],
    ("relu", "no_chain"): lambda x, o, g: [1.0 if x[0] > 0 else 0.0],
    ("exp", "right"): lambda x, o, g: [g * o],
    ("exp", "input"): lambda x, o, g: [g * x[0]],
    ("exp", "no_chain"): lambda x, o, g: [o],
}


def _canonical_order(expr: Expr) -> list[str]:
    """Depth-first post-order from the output, inputs in the order they are listed."""
    nodes = {name: args for name, op, args in _parse(expr) if op != "leaf"}
    root = str(expr[-1][0])
    seen: set[str] = set()
    order: list[str] = []

    def visit(v: str) -> None:
        if v in seen:
            return
        seen.add(v)
        for u in nodes.get(v, ()):
            visit(u)
        order.append(v)

    visit(root)
    return order


def _backprop(
    expr: Expr,
    *,
    rules: dict[str, str] | None = None,
    accumulate: bool = True,
    order: str = "creation",
    seed_root: bool = True,
) -> dict[str, tuple[float, float]]:
    """{name: (data, grad)} after one backward pass, with optional known mistakes.

    order: "creation" (every node's _backward, newest first: the probe node_grads),
    "topo" (reverse topological order from the output: backward), "topo_forward" (the
    topological order not reversed: a mistake).
    """
    rules = rules or {}
    parsed = {name: (op, args) for name, op, args in _parse(expr)}
    data = _forward(expr)
    grad = dict.fromkeys(data, 0.0)
    root = str(expr[-1][0])
    if seed_root:
        grad[root] = 1.0
    if order == "creation":
        sequence = list(reversed(list(parsed)))
    elif order == "topo":
        sequence = list(reversed(_canonical_order(expr)))
    else:
        sequence = _canonical_order(expr)
    for name in sequence:
        op, args = parsed[name]
        if op == "leaf":
            continue
        rule = _RULES[(op, rules.get(op, "right"))]
        contributions = rule([data[a] for a in args], data[name], grad[name])
        for a, c in zip(args, contributions, strict=True):
            grad[a] = grad[a] + c if accumulate else c
    return {name: (data[name], grad[name]) for name in data}


def node_grads(expr: Expr) -> dict[str, tuple[float, float]]:
    """Reference: {name: (data, grad)} of every node after backpropagating from the output."""
    return _backprop(expr, order="creation")


def backward_grads(expr: Expr) -> dict[str, tuple[float, float]]:
    """Reference: the same as node_grads, found by a backward pass in topological order."""
    return _backprop(expr, order="topo")


# --- Expressions for the cases ------------------------------------------------------------------
_VISIBLE_EXPRS: list[list[tuple[Any, ...]]] = [
    [("a", "leaf", 0.5), ("b", "leaf", -1.5), ("c", "mul", "a", "b"), ("d", "add", "c", "a"),
     ("e", "tanh", "d")],
    [("x", "leaf", 0.8), ("k", "leaf", -1.2), ("y", "mul", "x", "x"), ("z", "exp", "y"),
     ("u", "add", "z", "k"), ("r", "relu", "u"), ("o", "mul", "r", "x")],
    [("p", "leaf", 1.2), ("q", "leaf", -0.7), ("s", "add", "p", "q"), ("t", "tanh", "s"),
     ("m", "mul", "t", "p"), ("n", "relu", "q"), ("w", "exp", "m"), ("f", "add", "w", "n")],
]
_NAMES = list("abcdfghjkmnpqrstuvwxyz")


def random_expr(r: np.random.Generator) -> list[tuple[Any, ...]]:
    """A random connected expression: 2-4 leaves, 4-7 operations (nodes used several times),
    relu inputs away from 0, exp inputs below 2, every dangling node summed into the output."""
    names = [str(n) for n in r.permutation(_NAMES)]
    expr: list[tuple[Any, ...]] = []
    data: dict[str, float] = {}
    used: dict[str, int] = {}

    def add(node: tuple[Any, ...]) -> None:
        expr.append(node)
        data.update(_forward(expr))
        for a in node[2:] if node[1] != "leaf" else ():
            used[a] = used.get(a, 0) + 1
        used.setdefault(node[0], 0)

    for _ in range(int(r.integers(2, 5))):
        v = float(np.round(r.uniform(0.3, 1.5) * r.choice([-1, 1]), 2))
        add((names.pop(), "leaf", v))
    for _ in range(int(r.integers(4, 8))):
        existing = list(data)
        op = str(r.choice(["add", "mul", "mul", "tanh", "relu", "exp"]))
        a = str(r.choice(existing))
        if op in ("add", "mul"):
            b = str(r.choice(existing))
            if op == "mul" and abs(data[a] * data[b]) > 4:
                op = "add"
            add((names.pop(), op, a, b))
            continue
        if op == "relu" and abs(data[a]) < 0.05:
            op = "tanh"
        if op == "exp" and data[a] > 2:
            op = "tanh"
        add((names.pop(), op, a))
    dangling = [n for n in data if used[n] == 0]
    while len(dangling) > 1:
        a, b = dangling.pop(0), dangling.pop(0)
        name = names.pop()
        add((name, "add", a, b))
        dangling.append(name)
    return expr


def _expr_cases(seed: int | None, reference: Callable[[Expr], Any]) -> list[Case]:
    base, exprs, _ = plan(seed, 2100, _VISIBLE_EXPRS, random_expr)
    cases = []
    for expr in exprs:
        expr = [tuple(node) for node in expr]
        cases.append(
            Case({"expr": expr}, (reference(expr),), extra={"hidden": seed is not None})
        )
    return cases


def _node_cases(seed: int | None) -> list[Case]:
    return _expr_cases(seed, node_grads)


def _backward_cases(seed: int | None) -> list[Case]:
    return _expr_cases(seed, backward_grads)


# --- Judging a graph ---------------------------------------------------------------------------
def _text(expr: Expr, name: str) -> str:
    for n, op, args in _parse(expr):
        if n == name:
            if op == "leaf":
                return f"{n} = {float(args[0]):g} (a leaf)"
            if op in ("add", "mul"):
                return f"{n} = {args[0]} {'+' if op == 'add' else '*'} {args[1]}"
            return f"{n} = {op}({args[0]})"
    return name


def _consumers(expr: Expr, name: str) -> list[str]:
    return [n for n, op, args in _parse(expr) if op != "leaf" and name in args]


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a) + abs(b), 1e-3 * scale, 1e-12)


# (tag, text, simulation options); texts never name a node (they also serve hidden cases)
_VALUE_MISTAKES: list[tuple[str, str, dict[str, Any]]] = [
    ("fan_out", "a node used more than once gets only one of its gradients: an input's .grad "
     "is set with '=' where it must be accumulated with '+=' (every use adds its share).",
     {"accumulate": False}),
    ("mul_rule", "the gradient of a product goes to the wrong input: d(a*b)/da = b and "
     "d(a*b)/db = a (each input gets the other one's data times out.grad).",
     {"rules": {"mul": "swapped"}}),
    ("tanh_rule", "the tanh derivative uses the input: it is 1 - tanh(x)^2 = 1 - out.data**2, "
     "with the output's data, not the input's.", {"rules": {"tanh": "input"}}),
    ("tanh_rule", "the tanh derivative is 1 - out.data**2 (squared), not 1 - out.data.",
     {"rules": {"tanh": "no_square"}}),
    ("relu_rule", "relu passes the gradient where its input is negative too: the local "
     "derivative is 1 where the input is > 0 and 0 elsewhere.", {"rules": {"relu": "pass"}}),
    ("exp_rule", "the derivative of exp(x) is exp(x) itself (out.data), not x.",
     {"rules": {"exp": "input"}}),
]
for _op in ("add", "mul", "tanh", "relu", "exp"):
    _VALUE_MISTAKES.append((
        "chain_rule",
        f"the _backward of {_op} adds only the local derivative: multiply it by out.grad (the "
        "chain rule: gradient into an input = local derivative times the output's gradient).",
        {"rules": {_op: "no_chain"}},
    ))

_BACKWARD_MISTAKES: list[tuple[str, str, dict[str, Any]]] = [
    ("root_not_seeded", "every gradient is 0: set root.grad = 1.0 before the loop (dL/dL = 1); "
     "otherwise every _backward multiplies by 0.", {"seed_root": False}),
    ("topo_order", "only the root passed its gradient on: backward walks the topological "
     "order forwards (inputs first, when their gradients are still 0), or calls _backward on "
     "the root alone. Call _backward on every node, in reverse topological order (root "
     "first), so a node's gradient is complete before it is passed on.",
     {"order": "topo_forward"}),
]


def _matches(got: dict[str, Any], predicted: dict[str, tuple[float, float]], scale: float) -> bool:
    return all(_close(float(got[n][1]), predicted[n][1], scale) for n in predicted)


def _graph_failure(
    spec: Spec, case: Case, head: str, details: list[str], hint: str, output: str,
    mistake: str | None, hidden_head: str,
) -> CheckFailure:
    hidden = bool(case.extra.get("hidden"))
    lines = [f"{spec.name}: {hidden_head if hidden else head}"]
    if not hidden:
        lines += [f"    {d}" for d in details]
    if hint:
        plain = mistake in (None, "returned_none", "wrong_type", "missing_node")
        lines.append(f"    {'Hint' if plain else 'Likely mistake'}: {hint}")
    if not hidden:
        expr = case.args["expr"]
        text = "; ".join(_text(expr, n) for n, _op, _a in _parse(expr))
        lines.append(f"    (tested with {text})")
    return CheckFailure("\n".join(lines), exercise=spec.name, output=output, mistake=mistake)


def _judge_graph(
    mistakes: list[tuple[str, str, dict[str, Any]]], order: str
) -> Callable[[Spec, Case, Any], tuple[Any, ...]]:
    def unpack(spec: Spec, case: Case, result: Any) -> tuple[Any, ...]:
        __tracebackhide__ = True
        expr = case.args["expr"]
        expected: dict[str, tuple[float, float]] = case.expected[0]
        names = list(expected)
        fail = _graph_failure
        if not isinstance(result, dict):
            kind = "None" if result is None else type(result).__name__
            raise fail(spec, case, f"the result is {kind}; it should be a dict "
                       "{name: (data, grad)} with one entry per node.", [],
                       "Did you forget a return statement?" if result is None else "",
                       "result", "returned_none" if result is None else "wrong_type",
                       f"the result is {kind}; it should be a dict {{name: (data, grad)}}.")
        missing = [n for n in names if n not in result]
        if missing:
            raise fail(spec, case, f"node {missing[0]!r} is missing from the result.", [], "",
                       "result", "missing_node", "a node is missing from the result.")
        for n in names:
            item = result[n]
            ok = (isinstance(item, tuple | list) and len(item) == 2
                  and all(_is_real_scalar(v) for v in item))
            if not ok:
                raise fail(spec, case, f"the entry of node {n!r} is not a pair of numbers "
                           "(data, grad).", [f"got a {type(item).__name__}"],
                           "Store plain floats in .data and .grad (float(...)), not Values "
                           "or arrays.", "result", "wrong_type",
                           "an entry is not a pair of numbers (data, grad).")
        scale_d = max(abs(v[0]) for v in expected.values())
        scale_g = max(abs(v[1]) for v in expected.values())
        for n in names:  # forward pass first, in the order the nodes are computed
            got, want = float(result[n][0]), expected[n][0]
            if not _close(got, want, scale_d):
                op = next(o for m, o, _a in _parse(expr) if m == n)
                hint = (f"the forward pass of {op} is wrong: check the value the operation "
                        "stores in out.data.") if op != "leaf" else (
                        "a leaf's data must be the number it was created with.")
                raise fail(spec, case, f"{n}.data is wrong ({_text(expr, n)}).",
                           [f"expected {want:.6g}, got {got:.6g}"], hint, "data",
                           "forward", f"the data of a {op} node is wrong.")
        sequence = list(reversed(_canonical_order(expr))) if order == "topo" else list(
            reversed(names))
        wrong = [n for n in sequence if not _close(float(result[n][1]), expected[n][1], scale_g)]
        if not wrong:
            return (expected,)
        first = wrong[0]
        who = "this node" if case.extra.get("hidden") else first  # hints name no hidden node
        got, want = float(result[first][1]), expected[first][1]
        users = _consumers(expr, first)
        details = [f"expected {want:.6g}, got {got:.6g}"]
        if users:
            details.append(f"{first} is used by: " + "; ".join(_text(expr, u) for u in users))
        tag, hint = None, ""
        for mtag, text, options in mistakes:
            predicted = _backprop(expr, **({"order": order} | options))
            if _matches(result, predicted, scale_g) and not _matches(
                    dict(expected), predicted, scale_g):
                tag, hint = mtag, text
                break
        if tag is None and first == str(expr[-1][0]):
            tag, hint = "root_not_seeded", (
                "the output's own gradient must be 1.0 (dL/dL): set root.grad = 1.0 before "
                "the loop, and never reset it.")
        if tag is None and order == "topo" and got == 0.0:
            tag, hint = "topo_order", (
                f"no gradient reached {who}: call _backward on every node of the topological "
                "order, in reverse (root first).")
        if tag is None:
            tag, hint = _fan_out_or_op(expr, expected, result, first, who)
        uses = sum(a == first for u in users for a in _parse_args(expr, u))
        kind = f"a node used {uses} times" if uses > 1 else (
            f"an input of a {_op_of(expr, users[0])} node" if users else "the output node")
        raise fail(spec, case, f"{first}.grad is wrong ({_text(expr, first)}).", details, hint,
                   "grad", tag, f"the gradient of {kind} is wrong.")

    return unpack


def _parse_args(expr: Expr, name: str) -> tuple[Any, ...]:
    return next(a for n, _op, a in _parse(expr) if n == name)


def _op_of(expr: Expr, name: str) -> str:
    return next(op for n, op, _a in _parse(expr) if n == name)


def _fan_out_or_op(
    expr: Expr, expected: dict[str, tuple[float, float]], got: dict[str, Any], first: str,
    who: str,
) -> tuple[str | None, str]:
    """No whole-graph mistake fits: is the first wrong node's gradient one of its shares (a
    missing +=), or is one operation's rule wrong?"""
    users = _consumers(expr, first)
    data = {n: v[0] for n, v in expected.items()}
    shares = []
    for u in users:
        op, args = _op_of(expr, u), _parse_args(expr, u)
        contributions = _RULES[(op, "right")]([data[a] for a in args], data[u], expected[u][1])
        shares += [c for a, c in zip(args, contributions, strict=True) if a == first]
    scale = max(abs(v[1]) for v in expected.values())
    value = float(got[first][1])
    if len(shares) > 1 and any(_close(value, s, scale) for s in shares):
        return "fan_out", _VALUE_MISTAKES[0][1]
    if len(users) == 1:
        op = _op_of(expr, users[0])
        return f"{op}_rule" if op != "add" else "add_rule", (
            f"{who} gets its gradient from the _backward of {op} alone: check the local "
            f"derivative there (and that it is multiplied by out.grad)."
        )
    return None, (f"{who} is used by several nodes: check their _backward rules, and that "
                  "each adds its share with +=.")


_NODE_GRADS = Spec(
    "node_grads",
    (Output("every node"),),
    [],
    single=True,
    check_order=(),
    compared_with="the chain rule (data and grad)",
    unpack=_judge_graph(_VALUE_MISTAKES, "creation"),
)
_BACKWARD_GRADS = Spec(
    "backward_grads",
    (Output("every node"),),
    [],
    single=True,
    check_order=(),
    compared_with="the chain rule (data and grad)",
    unpack=_judge_graph(_BACKWARD_MISTAKES + _VALUE_MISTAKES, "topo"),
)


# --- topo_order ----------------------------------------------------------------------------------
def graph(edges: dict[str, list[str]]) -> Callable[[Any], list[str]]:
    """inputs_of for a graph given as {node: [its inputs]} (nodes without an entry are leaves)."""
    table = {str(k): [str(v) for v in vs] for k, vs in dict(edges).items()}
    known = set(table) | {v for vs in table.values() for v in vs}

    def inputs_of(node: Any) -> list[str]:
        if not isinstance(node, str) or node not in known:
            raise KeyError(f"{node!r} is not a node of this graph")
        return list(table.get(node, []))

    return inputs_of


def topo_order(root: Any, inputs_of: Callable[[Any], Sequence[Any]]) -> list[Any]:
    """Reference: every node root depends on, each after all of its inputs, root last."""
    seen: set[Any] = set()
    order: list[Any] = []

    def visit(v: Any) -> None:
        if v in seen:
            return
        seen.add(v)
        for u in inputs_of(v):
            visit(u)
        order.append(v)

    visit(root)
    return order


_VISIBLE_GRAPHS: list[tuple[str, dict[str, list[str]]]] = [
    ("e", {"c": ["a", "b"], "d": ["a", "c"], "e": ["d"]}),
    ("o", {"y": ["x", "x"], "z": ["y"], "u": ["z", "k"], "r": ["u"], "o": ["r", "x"],
           "q": ["o"]}),
    ("f", {"s": ["p", "q"], "t": ["s"], "m": ["t", "p"], "n": ["q"], "w": ["m"],
           "f": ["w", "n"]}),
]


def random_graph(r: np.random.Generator) -> tuple[str, dict[str, list[str]]]:
    """The graph of a random expression, plus one node that uses the output (unreachable)."""
    expr = random_expr(r)
    edges = {n: [str(a) for a in args] for n, op, args in _parse(expr) if op != "leaf"}
    root = str(expr[-1][0])
    extra = next(n for n in _NAMES if n not in {m for m, _o, _a in _parse(expr)})
    edges[extra] = [root]
    return root, edges


def _topo_cases(seed: int | None) -> list[Case]:
    base, graphs, _ = plan(seed, 2200, _VISIBLE_GRAPHS, random_graph)
    cases = []
    for root, edges in graphs:
        fn = Fn(f"{__name__}:graph", {"edges": edges})
        cases.append(Case({"root": root, "inputs_of": fn}, (topo_order(root, graph(edges)),),
                          extra={"hidden": seed is not None, "edges": edges}))
    return cases


def _reachable(root: str, edges: dict[str, list[str]]) -> set[str]:
    return set(topo_order(root, graph(edges)))


def _topo_problem(order: list[Any], root: str, edges: dict[str, list[str]]) -> tuple[
        str, str, list[str], str, str] | None:
    """(tag, head, details, hint, hidden head) for the first thing wrong with order, or None."""
    reach = _reachable(root, edges)
    known = set(edges) | {v for vs in edges.values() for v in vs}
    bad = [v for v in order if not isinstance(v, str) or v not in known]
    if bad:
        return ("unknown", f"the order contains {bad[0]!r}, which is not a node of the graph.",
                [], "List the nodes themselves, exactly as inputs_of returns them.",
                "the order contains something that is not a node of the graph.")
    counts = {v: order.count(v) for v in order}
    dup = next((v for v in order if counts[v] > 1), None)
    if dup is not None:
        return ("duplicates", f"the order lists node {dup!r} {counts[dup]} times.", [],
                "Keep a set of visited nodes and skip a node you have seen: a node used by two "
                "others (or twice by one) is reached more than once, but is listed once.",
                "the order lists a node more than once.")
    extra = [v for v in order if v not in reach]
    if extra:
        return ("unreachable", f"the order contains {extra[0]!r}, which the root does not "
                "depend on.", [], "Start from the root and follow inputs_of only: nodes that "
                "merely use the root are not part of its graph.",
                "the order contains a node the root does not depend on.")
    missing = [v for v in topo_order(root, graph(edges)) if v not in order]
    if missing:
        direct = set(graph(edges)(root)) | {root}
        hint = ("Visit the inputs of the inputs too (recursively), down to the leaves."
                if set(order) <= direct else
                "Every node the root depends on, directly or through others, must be listed.")
        return ("missing", f"the order misses node {missing[0]!r} ({len(missing)} of "
                f"{len(reach)} nodes are missing).", [], hint, "the order misses nodes.")
    position = {v: i for i, v in enumerate(order)}
    if all(position[u] > position[v] for v in order for u in edges.get(v, [])):
        return ("reversed", "the order is reversed: the root comes first.", [],
                "topo_order lists every node after its inputs, root last; backward then walks "
                "the list in reverse. Append a node after visiting its inputs, and return the "
                "list as it is.", "the order is reversed: the root comes first.")
    for v in order:
        for u in edges.get(v, []):
            if position[u] > position[v]:
                tag = "preorder" if order[0] == root else "order"
                hint = ("Append a node only after the recursive calls on its inputs (post-order),"
                        " not before them." if tag == "preorder" else
                        "Append a node only after all of its inputs are in the list.")
                return (tag, f"the order puts node {v!r} before its input {u!r}.",
                        [f"positions: {v!r} at {position[v]}, {u!r} at {position[u]}"], hint,
                        "the order puts a node before one of its inputs.")
    return None


def _judge_topo(spec: Spec, case: Case, result: Any) -> tuple[Any, ...]:
    __tracebackhide__ = True
    hidden = bool(case.extra.get("hidden"))
    root, edges = case.args["root"], case.extra["edges"]
    if not isinstance(result, list | tuple):
        kind = "None" if result is None else type(result).__name__
        raise CheckFailure(
            f"topo_order: the order is {kind}; it should be a list of nodes."
            + ("\n    Hint: Did you forget a return statement?" if result is None else ""),
            exercise=spec.name, output="order",
            mistake="returned_none" if result is None else "wrong_type")
    problem = _topo_problem(list(result), root, edges)
    if problem is None:
        return (case.expected[0],)
    tag, head, details, hint, hidden_head = problem
    lines = [f"topo_order: {hidden_head if hidden else head}"]
    if not hidden:
        lines += [f"    {d}" for d in details]
    lines.append(f"    Likely mistake: {hint}")
    if not hidden:
        shown = ", ".join(f"{k} <- {' '.join(v)}" for k, v in edges.items())
        lines.append(f"    (tested with root = {root!r}, inputs: {shown})")
    raise CheckFailure("\n".join(lines), exercise=spec.name, output="order", mistake=tag)


_TOPO = Spec(
    "topo_order",
    (Output("order"),),
    [],
    single=True,
    check_order=(),
    compared_with="a valid topological order",
    unpack=_judge_topo,
)


# --- fit_neuron ----------------------------------------------------------------------------------
def _fit(
    x: np.ndarray, y: np.ndarray, params: np.ndarray, lr: float, steps: int, *,
    zero: bool = True, sign: float = 1.0, after: bool = False, mean: bool = True,
    bias: bool = True,
) -> tuple[np.ndarray, list[float]]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    p = np.array(params, dtype=np.float64)
    acc = np.zeros_like(p)
    n = len(y)

    def loss_grad(p: np.ndarray) -> tuple[float, np.ndarray]:
        t = np.tanh(x @ p[:-1] + p[-1])
        r = t - y
        loss = float(r @ r / n) if mean else float(r @ r)
        dz = (2 * r / (n if mean else 1)) * (1 - t * t)
        g = np.concatenate([x.T @ dz, [dz.sum()]])
        if not bias:
            g[-1] = 0.0
        return loss, g

    losses = []
    for _ in range(steps):
        loss, g = loss_grad(p)
        acc = acc + g if not zero else g
        p = p - sign * lr * acc
        losses.append(loss_grad(p)[0] if after else loss)
    return p, losses


def fit_neuron(
    x: np.ndarray, y: np.ndarray, params: np.ndarray, lr: float, steps: int
) -> tuple[np.ndarray, list[float]]:
    """Reference: gradient descent on mean((tanh(x w + b) - y)^2); params = (w..., b)."""
    return _fit(x, y, params, lr, steps)


def _fit_cases(seed: int | None) -> list[Case]:
    fixed = [(6, 2, 0.5, 5), (8, 3, 0.3, 4), (5, 4, 0.8, 6)]

    def draw(r: np.random.Generator) -> tuple[int, int, float, int]:
        return (int(r.integers(4, 10)), int(r.integers(2, 5)),
                float(r.choice([0.2, 0.3, 0.5, 0.8])), int(r.integers(3, 8)))

    base, settings, _ = plan(seed, 2300, fixed, draw)
    cases = []
    for k, (n, d, lr, steps) in enumerate(settings):
        r = _rng(base + k)
        x = r.normal(size=(n, d))
        y = np.tanh(x @ r.normal(size=d) + 0.3 * r.normal(size=n))
        params = 0.5 * r.normal(size=d + 1)
        args = {"x": x, "y": y, "params": params, "lr": lr, "steps": steps}
        cases.append(Case(args, _fit(x, y, params, lr, steps), sizes={"steps": steps}))
    return cases


def _fit_args(c: Case) -> tuple[Any, ...]:
    a = c.args
    return a["x"], a["y"], a["params"], a["lr"], a["steps"]


def _fit_variant(**kw: Any) -> Callable[[Case], Any]:
    def predict(c: Case) -> Any:
        return _fit(*_fit_args(c), **kw)

    return predict


def _fit_steps(delta: int) -> Callable[[Case], Any]:
    def predict(c: Case) -> Any:
        x, y, p, lr, steps = _fit_args(c)
        return _fit(x, y, p, lr, steps + delta)

    return predict


_FIT = Spec(
    "fit_neuron",
    (Output("params", like="params"), Output("losses", "floats")),
    [
        Mistake(
            "no_zero_grad",
            "the gradients pile up from step to step: backward adds to .grad with +=, so set "
            "every parameter's grad to 0 before each loss.backward().",
            predict=_fit_variant(zero=False),
        ),
        Mistake(
            "losses_after_step",
            "losses[i] is the loss after step i; it should be the loss before step i (so "
            "losses[0] is the loss at the starting params).",
            predict=lambda c: (None, _fit(*_fit_args(c), after=True)[1]),
        ),
        Mistake(
            "sign",
            "the parameters move uphill: a descent step is p.data -= lr * p.grad.",
            predict=_fit_variant(sign=-1.0),
        ),
        Mistake(
            "sum_not_mean",
            "the loss sums the squared errors over the N examples; it is their mean (divide "
            "by N).",
            predict=_fit_variant(mean=False),
        ),
        Mistake(
            "bias_not_trained",
            "the bias (the last entry of params) never changes: it is a parameter too, so "
            "update it with the weights.",
            predict=_fit_variant(bias=False),
        ),
        Mistake(
            "off_by_one",
            "params are one step short: the loop must take exactly steps steps.",
            predict=_fit_steps(-1),
        ),
        Mistake(
            "off_by_one",
            "params went one step too far: the loop must take exactly steps steps.",
            predict=_fit_steps(1),
        ),
        Mistake(
            "not_updated",
            "params never change: build the parameter Values once, before the loop, update "
            "their .data in place, and return those.",
            predict=lambda c: (c.args["params"], [_fit(*_fit_args(c)[:3], 0.0, 1)[1][0]]
                               * c.args["steps"]),
        ),
    ],
    compared_with=REFERENCE,
)

EXERCISES = [
    # The Value class is judged through the notebook's probe node_grads (its answer cell is
    # "value"), backward through backward_grads: the graded names are the probes.
    dataclasses.replace(
        function(
            NOTEBOOK,
            _NODE_GRADS,
            _node_cases,
            4,
            "Exercise 1: the Value class (+, *, tanh, relu, exp), judged through node_grads",
            "Check your Value class through node_grads(expr) -> {name: (data, grad)}.",
            reference=node_grads,
        ),
        grade_id="test_value",
    ),
    function(
        NOTEBOOK,
        _TOPO,
        _topo_cases,
        2,
        "Exercise 2: topo_order, every node after its inputs",
        "Check topo_order(root, inputs_of) -> list of nodes, each after its inputs, root last.",
        reference=topo_order,
    ),
    dataclasses.replace(
        function(
            NOTEBOOK,
            _BACKWARD_GRADS,
            _backward_cases,
            2,
            "Exercise 3: backward, judged through backward_grads",
            "Check your backward through backward_grads(expr) -> {name: (data, grad)}.",
            reference=backward_grads,
        ),
        grade_id="test_backward",
    ),
    function(
        NOTEBOOK,
        _FIT,
        _fit_cases,
        3,
        "Exercise 4: fit_neuron, training with your engine",
        "Check fit_neuron(x, y, params, lr, steps) -> (params, losses).",
        reference=fit_neuron,
    ),
    choice(
        NOTEBOOK,
        "MC_FAN_OUT",
        1,
        "Question 1: a value used twice, with = instead of +=",
        "c2bba7c187a5b30eeb043b5252e51f9c252d8786f4ac8f58dcf275112e7daaa4",
        {
            "a": (
                "0 would mean no gradient arrives at all; with = each write still stores "
                "out.grad * other.data = 3, the last write wins and the other share is lost."
            ),
            "c": (
                "6 is the right gradient (2a), which needs both shares to add up with +=; with = "
                "the second write replaces the first, so a.grad ends at 3."
            ),
            "d": (
                "9 is a * a, the data of b, not a gradient; with = only one share of 3 survives."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_ZERO_GRAD",
        1,
        "Question 2: forgetting to zero the gradients between steps",
        "056ad96b76c604024575235b1cbfb738f5c4c87e76e012c86da4297cd2a22392",
        {
            "a": (
                "backward never overwrites: every _backward adds with +=, so the old gradient "
                "stays inside .grad."
            ),
            "c": (
                "Nothing resets .grad to 0 on its own; the old values stay and the new ones are "
                "added to them."
            ),
            "d": (
                "No error is raised: adding to an old gradient is valid arithmetic, which is why "
                "this bug is silent."
            ),
        },
    ),
    choice(
        NOTEBOOK,
        "MC_SPEED",
        1,
        "Question 3: why the scalar engine is slow",
        "6f6c87cc390fcb1170d2ac36903bb08982fb766de881bd2cdcca54ea5d33d06d",
        {
            "a": (
                "Both compute the same derivatives (you compared them: they agree to about "
                "1e-15); the difference is how the arithmetic is run."
            ),
            "b": (
                "Reverse mode costs about one backward pass for all parameters, in both the "
                "engine and the layers; the cost per scalar operation differs."
            ),
            "d": (
                "The topological sort visits each node once (linear time); the cost is the Python "
                "object and function call made for every single number."
            ),
        },
    ),
]
