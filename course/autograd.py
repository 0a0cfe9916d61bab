"""Small helpers for notebook 11, where you build a scalar autograd engine (your own `Value`).

An expression is plain data, a list of nodes in the order they are computed:

    expr = [("a", "leaf", 2.0),        # a leaf: a number you start from
            ("b", "leaf", -3.0),
            ("c", "mul", "a", "b"),    # c = a * b
            ("d", "add", "c", "a"),    # d = c + a   (a is used twice: fan-out)
            ("e", "tanh", "d")]        # e = tanh(d); the last node is the output

Operations: ``leaf`` (a number), ``add`` and ``mul`` (two inputs), ``tanh``, ``relu`` and
``exp`` (one input). `build` turns such a list into a graph of *your* Value objects, using
only what your class offers (``+``, ``*``, ``.tanh()``, ``.relu()``, ``.exp()``), so the
checks can describe a graph in plain data and still test your engine.

This module holds no engine of its own: the engine is yours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["OPS", "build", "describe", "output_name"]

# operation -> number of inputs (a leaf holds a number instead)
OPS = {"leaf": 0, "add": 2, "mul": 2, "tanh": 1, "relu": 1, "exp": 1}
_SYMBOL = {"add": "+", "mul": "*"}


def _nodes(expr: Sequence[Sequence[Any]]) -> list[tuple[str, str, tuple[Any, ...]]]:
    """Validated (name, op, args) triples."""
    out: list[tuple[str, str, tuple[Any, ...]]] = []
    seen: set[str] = set()
    for i, node in enumerate(expr):
        if not isinstance(node, list | tuple) or len(node) < 2:
            raise ValueError(f"node {i} of the expression is not (name, op, ...): {node!r}")
        name, op, *args = node
        if op not in OPS:
            raise ValueError(f"node {name!r}: unknown operation {op!r} (one of {list(OPS)})")
        want = 1 if op == "leaf" else OPS[op]
        if len(args) != want:
            raise ValueError(f"node {name!r}: {op} takes {want} argument(s), got {len(args)}")
        if op != "leaf":
            missing = [a for a in args if a not in seen]
            if missing:
                raise ValueError(f"node {name!r} uses {missing[0]!r} before it is computed")
        if name in seen:
            raise ValueError(f"node name {name!r} is used twice")
        seen.add(name)
        out.append((str(name), str(op), tuple(args)))
    if not out:
        raise ValueError("the expression is empty")
    return out


def build(expr: Sequence[Sequence[Any]], value_class: type) -> dict[str, Any]:
    """Build expr with value_class (your Value); returns {name: Value} in the order of expr.

    Leaves become ``value_class(number)``; ``add`` is ``a + b``, ``mul`` is ``a * b``,
    ``tanh``/``relu``/``exp`` call the method of that name.
    """
    nodes: dict[str, Any] = {}
    for name, op, args in _nodes(expr):
        if op == "leaf":
            nodes[name] = value_class(float(args[0]))
        elif op == "add":
            nodes[name] = nodes[args[0]] + nodes[args[1]]
        elif op == "mul":
            nodes[name] = nodes[args[0]] * nodes[args[1]]
        else:
            nodes[name] = getattr(nodes[args[0]], op)()
    return nodes


def output_name(expr: Sequence[Sequence[Any]]) -> str:
    """The name of the last node (the output of the expression)."""
    return str(expr[-1][0])


def describe(expr: Sequence[Sequence[Any]]) -> str:
    """The expression as lines of Python-like text, e.g. ``c = a * b``."""
    lines = []
    for name, op, args in _nodes(expr):
        if op == "leaf":
            lines.append(f"{name} = {float(args[0]):g}")
        elif op in _SYMBOL:
            lines.append(f"{name} = {args[0]} {_SYMBOL[op]} {args[1]}")
        else:
            lines.append(f"{name} = {op}({args[0]})")
    return "\n".join(lines)
