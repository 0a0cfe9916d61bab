"""A mechanical evaluation: single-point mutants of right answers (tests/feedback/corpus).

Every right answer named in BASES is mutated one AST node at a time (an operator flipped, a
term dropped, a transpose removed, an axis changed, a constant doubled, return values
swapped, ...). A mutant that still computes the same outputs on fresh inputs (the registry's
hidden cases for HIDDEN_SEED, which the visible check never runs; a test below asserts that
they differ from the visible ones) is equivalent and skipped; every other mutant is a bug no
one wrote by hand, and the check must reject it. We also measure how often the failure names
the output that really differs (judged on the fresh inputs, not by the check) and how often
it names some mistake.
Run with -s for the numbers.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import inspect
import io
import textwrap
from collections.abc import Iterator

import numpy as np
from answers import load

from course import checks
from course.exercises import exercises, get

CORPUS = load("corpus", ["basics", "layers", "losses", "network", "optim", "deep",
                         "generalization", "autograd"])

BASES = {
    "neuron_backward": "neuron_textbook",
    "fanout_backward": "fanout_accumulate",
    "numerical_gradient": "numgrad_copy_each_time",
    "relative_error": "relerr_numpy",
    "linear_forward": "lin_fwd_matmul",
    "linear_backward": "lin_bwd_matmul",
    "relu_forward": "relu_fwd_maximum",
    "relu_backward": "relu_bwd_mult",
    "sigmoid_forward": "sig_fwd_plain",
    "sigmoid_backward": "sig_bwd_plain",
    "tanh_forward": "tanh_fwd_np",
    "tanh_backward": "tanh_bwd_plain",
    "mse_loss": "mse_plain",
    "softmax_cross_entropy": "sce_onehot_matrix",
    "two_layer_net": "net_inline",
    "gradient_descent": "gd_for",
    "sgd_epoch": "epoch_slices",
    "sgd_step": "sgd_plain",
    "momentum_step": "mom_plain",
    "rmsprop_step": "rms_plain",
    "adam_step": "adam_plain",
    "batchnorm_forward": "bn_plain",
    "batchnorm_backward": "bn_bwd_compact",
    "dropout_forward": "drop_plain",
    "dropout_backward": "drop_bwd_plain",
    "l2_penalty": "l2_plain",
    "early_stopping": "stop_counter",
    "node_grads": "node_grads_plain",
    "topo_order": "topo_recursive",
    "backward_grads": "backward_grads_plain",
    "fit_neuron": "fit_zeroing",
}
GENERIC_TAGS = {None, "raised", "shape", "dtype", "wrong_type", "constant_factor", "zeros"}

_SWAP_OPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
_SWAP_CALLS = {
    "sum": "mean",
    "mean": "sum",
    "max": "min",
    "min": "max",
    "maximum": "minimum",
    "minimum": "maximum",
}
_SWAP_CMP = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt}


def _mutations(node: ast.AST) -> Iterator[ast.AST | None]:
    """Replacements for one node (None: no change applies)."""
    if isinstance(node, ast.BinOp):
        if type(node.op) in _SWAP_OPS:
            yield ast.BinOp(node.left, _SWAP_OPS[type(node.op)](), node.right)
            yield node.left
            yield node.right
        if isinstance(node.op, ast.MatMult):
            yield ast.BinOp(node.right, ast.MatMult(), node.left)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield node.operand
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value:
        yield ast.Constant(node.value * 2)
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        yield node.value
    elif isinstance(node, ast.Attribute) and node.attr in _SWAP_CALLS:
        yield ast.Attribute(node.value, _SWAP_CALLS[node.attr], node.ctx)
    elif (
        isinstance(node, ast.keyword)
        and node.arg == "axis"
        and isinstance(node.value, ast.Constant)
        and node.value.value in (0, 1)
    ):
        yield ast.keyword("axis", ast.Constant(1 - node.value.value))
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        op = type(node.ops[0])
        if op in _SWAP_CMP:
            yield ast.Compare(node.left, [_SWAP_CMP[op]()], node.comparators)
    elif (
        isinstance(node, ast.Return)
        and isinstance(node.value, ast.Tuple)
        and len(node.value.elts) > 1
    ):
        elts = node.value.elts
        yield ast.Return(ast.Tuple([elts[1], elts[0], *elts[2:]], ast.Load()))


def mutants(fn) -> Iterator[tuple[str, object]]:
    source = textwrap.dedent(inspect.getsource(fn))
    tree = ast.parse(source)
    tree.body[0].decorator_list = []
    nodes = list(ast.walk(tree))
    for k, node in enumerate(nodes):
        for replacement in _mutations(node):
            new = copy.deepcopy(tree)
            target = list(ast.walk(new))[k]
            _replace(new, target, copy.deepcopy(replacement))
            ast.fix_missing_locations(new)
            try:
                code = compile(new, f"<mutant {fn.__name__}>", "exec")
            except (SyntaxError, ValueError, TypeError):
                continue
            namespace = dict(fn.__globals__)
            exec(code, namespace)
            yield f"{fn.__name__}#{k}:{ast.unparse(target)[:40]!r}", namespace[fn.__name__]


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, new)
                return
            if isinstance(value, list) and any(v is old for v in value):
                setattr(parent, name, [new if v is old else v for v in value])
                return


HIDDEN_SEED = 20240  # hidden cases: fresh values and shapes, not the visible ones


def _independent_cases(exercise: str):
    """Fresh inputs (the registry's hidden cases for one seed, not the visible cases the check
    runs) from the check's own case builder."""
    ex = get(exercise)
    return ex.spec, [c for c in ex.hidden(HIDDEN_SEED) if not c.float32]


def _truth(exercise: str, fn) -> tuple[str, str | None]:
    """('equivalent' | 'raises' | 'wrong', first differing output or mutated input)."""
    from course._diagnose import _unpack, call_learner, close

    spec, cases = _independent_cases(exercise)
    order = spec.check_order or range(len(spec.outputs))
    for case in cases:
        try:
            result, mutated = call_learner(spec, fn, case)
        except AssertionError:
            return "raises", None
        if mutated:
            return "wrong", mutated[0]
        try:
            got = _unpack(spec, case, result)
        except AssertionError as exc:
            return "wrong", getattr(exc, "output", None)
        differ = []
        for i in order:
            try:
                same = close(got[i], case.expected[i], tol=1e-7, floor=1e-6)
            except Exception:  # noqa: BLE001
                same = False
            if not same:
                differ.append(spec.outputs[i].name)
        if differ:
            # a wrong state (v, m, cache) is the root cause of a wrong w, and the check names
            # it, unless the state holds another output's value (outputs returned swapped)
            names = [o.name for o in spec.outputs]
            state = [name for name in differ if name in spec.state]
            if state and differ[0] not in spec.state:
                k = names.index(state[0])
                swapped = any(
                    j != k and close(got[k], case.expected[j], tol=1e-7, floor=1e-6)
                    for j in range(len(names))
                )
                return "wrong", differ[0] if swapped else state[0]
            return "wrong", differ[0]
    return "equivalent", None


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - incomparable values differ
        return False


def test_fresh_inputs_are_not_the_visible_ones():
    """The seed claim above: no fresh case repeats a visible case's inputs."""
    for exercise in BASES:
        ex = get(exercise)
        visible = ex.visible()
        for case in _independent_cases(exercise)[1]:
            for seen in visible:
                same = case.args.keys() == seen.args.keys() and all(
                    _same(case.args[k], seen.args[k]) for k in case.args
                )
                assert not same, f"{exercise}: a fresh case repeats a visible one"


def test_every_function_exercise_has_a_base():
    assert set(BASES) == {ex.name for ex in exercises(kind="function")}


def test_mutants_are_rejected_and_explained():
    entries = {e.fn.__name__: e for e in CORPUS}
    total = killed = out_ok = out_total = tagged = 0
    missed, misnamed = [], []
    for exercise, base in BASES.items():
        check = getattr(checks, f"check_{exercise}")
        for label, mutant in mutants(entries[base].fn):
            with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
                kind, truth = _truth(exercise, mutant)
                if kind == "equivalent":
                    continue
                total += 1
                try:
                    check(mutant)
                    failure = None
                except AssertionError as exc:
                    failure = exc
            if failure is None:
                missed.append(f"{exercise} {label}")
                continue
            killed += 1
            tagged += getattr(failure, "mistake", None) not in GENERIC_TAGS
            if kind == "wrong" and truth is not None:
                out_total += 1
                if getattr(failure, "output", None) == truth:
                    out_ok += 1
                else:
                    misnamed.append(
                        f"{exercise} {label}: truth {truth}, named "
                        f"{getattr(failure, 'output', None)}"
                    )
    print(
        f"\nmutants: {total} non-equivalent, {killed} rejected ({killed / total:.0%}); "
        f"wrong output named {out_ok}/{out_total} ({out_ok / out_total:.0%}); "
        f"a specific mistake named for {tagged}/{killed} ({tagged / killed:.0%})"
    )
    for line in missed + misnamed:
        print("  ", line)
    assert total >= 150
    assert not missed
    assert out_ok / out_total >= 0.90
