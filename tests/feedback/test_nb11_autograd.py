"""Notebook 11 (your own autograd): the registry's items judge the learner's engine through
plain values, recognise the named mistakes, and draw fresh graphs for every grading seed."""

from __future__ import annotations

import contextlib
import io
import math
import re

import numpy as np
import pytest
from answers import load

from course import checks
from course._diagnose import CheckFailure
from course.autograd import build, describe
from course.exercises import exercises, get
from course.exercises import nb11_autograd as nb
from course.grading import wire

AUTOGRAD = load("corpus", ["autograd"])
FUNCTIONS = exercises("11", kind="function")
SEEDS = (1, 2, 3, 77, 12345)


def _quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def test_the_notebook_items() -> None:
    items = exercises("11-autograd")
    assert [ex.grade_id for ex in items] == [
        "test_value", "test_topo_order", "test_backward", "test_fit_neuron",
        "test_mc_fan_out", "test_mc_zero_grad", "test_mc_speed",
    ]
    assert [ex.name for ex in items[:4]] == [
        "node_grads", "topo_order", "backward_grads", "fit_neuron"]
    assert sum(ex.points for ex in items) == 14
    assert get("test_value") is get("node_grads")


@pytest.mark.parametrize("ex", FUNCTIONS, ids=lambda e: e.name)
def test_every_reference_passes(ex) -> None:
    assert _quiet(ex.failure, ex.reference) is None
    for seed in SEEDS:
        assert _quiet(ex.grade_failure, ex.reference, seed) is None, (ex.name, seed)


@pytest.mark.parametrize("entry", AUTOGRAD, ids=lambda e: e.id)
def test_learner_engines_are_judged(entry) -> None:
    """Right engines pass visible and hidden cases; each wrong one fails naming its mistake."""
    ex = get(entry.exercise)
    if entry.right:
        for seed in SEEDS[:3]:
            assert _quiet(ex.grade_failure, entry.fn, seed) is None
        return
    failure = _quiet(ex.failure, entry.fn)
    assert isinstance(failure, CheckFailure)
    assert (failure.output, failure.mistake) == (entry.output, entry.mistake), str(failure)
    assert len(str(failure).splitlines()) <= 8


def test_every_named_mistake_is_recognised() -> None:
    """fan-out (missing +=), each local rule, the chain rule's factor, a backward pass in the
    wrong order, a root never seeded, a forgotten zeroing: all in the corpus, all recognised."""
    recognised = {(e.exercise, e.mistake) for e in AUTOGRAD if not e.right}
    value_tags = {tag for tag, _text, _opt in nb._VALUE_MISTAKES} - {"chain_rule"}
    assert {("node_grads", t) for t in value_tags | {"chain_rule", "forward"}} <= recognised
    assert {("backward_grads", t) for t in ("topo_order", "root_not_seeded")} <= recognised
    assert {("topo_order", t) for t in ("preorder", "reversed", "duplicates", "missing")} <= (
        recognised)
    fit_tags = {m.tag for m in nb._FIT.mistakes} - {"off_by_one", "not_updated"}
    assert {("fit_neuron", t) for t in fit_tags} <= recognised
    assert ("fit_neuron", "no_zero_grad") in recognised


def test_the_failure_names_the_node_and_the_graph() -> None:
    fn = next(e.fn for e in AUTOGRAD if e.fn.__name__ == "node_grads_MulAssign")
    message = str(_quiet(get("node_grads").failure, fn))
    assert message.startswith("node_grads: a.grad is wrong")
    assert "a is used by: c = a * b; d = c + a" in message
    assert "+=" in message and "tested with a = 0.5 (a leaf)" in message


def _hidden_only(expected_visible):
    """Right on the visible cases (a lookup), wrong everywhere else."""

    def node_grads(expr):
        key = repr(expr)
        if key in expected_visible:
            return expected_visible[key]
        return {n: (d, 0.5 * g) for n, (d, g) in nb.node_grads(expr).items()}

    return node_grads


def test_a_hidden_failure_shows_no_hidden_graph() -> None:
    ex = get("node_grads")
    table = {repr(c.args["expr"]): c.expected[0] for c in ex.visible()}
    fn = _hidden_only(table)
    assert _quiet(ex.failure, fn) is None
    failure = _quiet(ex.grade_failure, fn, 5)
    assert isinstance(failure, CheckFailure)
    message = str(failure)
    assert "hidden" in message and "tested with" not in message and "expected" not in message
    for case in ex.hidden(5):
        for name, _op, *_ in case.args["expr"]:
            assert not re.search(rf"\b{name}\b(\.grad|\.data| is used| gets| =)", message)
            assert f"'{name}'" not in message


def test_hidden_graphs_differ_per_seed() -> None:
    for ex in (get("node_grads"), get("backward_grads")):
        visible = [c.args["expr"] for c in ex.visible()]
        a, b = ([c.args["expr"] for c in ex.hidden(s)] for s in (1, 2))
        assert a == [c.args["expr"] for c in ex.hidden(1)]
        assert a != b and not set(map(repr, a)) & set(map(repr, visible))
    topo = get("topo_order")
    graphs = {s: [c.extra["edges"] for c in topo.hidden(s)] for s in (1, 2)}
    assert graphs[1] != graphs[2]
    fit = get("fit_neuron")
    xs = {s: [c.args["x"] for c in fit.hidden(s)] for s in (1, 2)}
    assert all(x.shape != y.shape or not np.array_equal(x, y)
               for x, y in zip(xs[1], xs[2], strict=True))


def test_cases_and_answers_are_plain_values() -> None:
    """What crosses the jail boundary: plain data in, plain data out (no Opaque)."""

    def no_opaque(node) -> bool:
        if isinstance(node, dict):
            if set(node) == {"o"} and isinstance(node["o"], list):
                return False
            return all(no_opaque(v) for v in node.values())
        if isinstance(node, list):
            return all(no_opaque(v) for v in node)
        return True

    for ex in FUNCTIONS:
        for case in ex.visible() + ex.hidden(3):
            args = [wire.encode(v, markers=True) for v in case.args.values()]
            assert no_opaque(args), ex.name
            result = ex.reference(*case.call_args()[0])
            encoded = wire.encode(result)
            assert no_opaque(encoded), ex.name
            decoded = wire.decode(encoded)
            if ex.name != "fit_neuron":
                assert decoded == result


def test_random_expressions_are_well_formed() -> None:
    r = np.random.default_rng(0)
    for _ in range(200):
        expr = nb.random_expr(r)
        assert all(type(n[0]) is str for n in expr)
        data = nb._forward(expr)
        for _name, op, *args in expr:
            if op == "relu":
                assert abs(data[args[0]]) >= 0.05
        users = {a for _n, op, *args in expr if op != "leaf" for a in args}
        assert [n for n, *_ in expr if n not in users] == [expr[-1][0]]  # one output
        assert describe(expr).count("\n") == len(expr) - 1


def test_reference_engine_matches_numerical_gradients() -> None:
    r = np.random.default_rng(1)
    for _ in range(30):
        expr = nb.random_expr(r)
        grads = nb.node_grads(expr)
        for name, op, *args in expr:
            if op != "leaf":
                continue

            def f(v, name=name, expr=expr):
                shifted = [(n, "leaf", v) if n == name else (n, *rest) for n, *rest in expr]
                return nb._forward(shifted)[expr[-1][0]]

            v = float(args[0])
            numeric = (f(v + 1e-6) - f(v - 1e-6)) / 2e-6
            assert math.isclose(grads[name][1], numeric, rel_tol=1e-5, abs_tol=1e-7)


def test_reference_engine_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(2)
    ops = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "tanh": torch.tanh,
           "relu": torch.relu, "exp": torch.exp}
    for _ in range(20):
        expr = nb.random_expr(r)
        nodes = {}
        for name, op, *args in expr:
            if op == "leaf":
                nodes[name] = torch.tensor(float(args[0]), dtype=torch.float64,
                                           requires_grad=True)
            else:
                nodes[name] = ops[op](*(nodes[a] for a in args))
            nodes[name].retain_grad()
        nodes[expr[-1][0]].backward()
        ours = nb.backward_grads(expr)
        for name, tensor in nodes.items():
            assert math.isclose(ours[name][0], tensor.item(), rel_tol=1e-12, abs_tol=1e-12)
            assert math.isclose(ours[name][1], float(tensor.grad), rel_tol=1e-9, abs_tol=1e-12)


def test_build_uses_only_the_learners_operations() -> None:
    calls = []

    class Spy:
        def __init__(self, data):
            self.data = data

        def __add__(self, other):
            calls.append("+")
            return Spy(self.data + other.data)

        def __mul__(self, other):
            calls.append("*")
            return Spy(self.data * other.data)

        def tanh(self):
            calls.append("tanh")
            return Spy(math.tanh(self.data))

    nodes = build([("a", "leaf", 2.0), ("b", "mul", "a", "a"), ("c", "add", "b", "a"),
                   ("d", "tanh", "c")], Spy)
    assert calls == ["*", "+", "tanh"] and list(nodes) == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="before it is computed"):
        build([("b", "mul", "a", "a")], Spy)


def test_checks_facade_has_the_probes() -> None:
    for name in ("node_grads", "topo_order", "backward_grads", "fit_neuron"):
        assert callable(getattr(checks, f"check_{name}"))
