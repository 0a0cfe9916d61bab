"""11 autograd: topo_order(root, inputs_of) -> every node after its inputs, root last.

Unlike most of this corpus, written by the author of the check (issue 13), so it is not held
out: it guards the check against regressions rather than measuring it."""

from ._registry import ORDER, right, wrong

EX = "topo_order"


@right(EX)
def topo_nested(root, inputs_of):
    out = []

    def go(v, seen=set()):  # noqa: B006 - a learner's shared default, reset below
        if v in seen:
            return
        seen.add(v)
        for u in inputs_of(v):
            go(u, seen)
        out.append(v)

    go(root, set())
    return out


@wrong(EX, "order", "appends before recursing", ("before", "after", "post-order") + ORDER)
def topo_pre(root, inputs_of):
    out, seen = [], set()

    def go(v):
        if v not in seen:
            seen.add(v)
            out.append(v)
            for u in inputs_of(v):
                go(u)

    go(root)
    return out


@wrong(EX, "order", "no visited set: duplicates", ("twice", "times", "visited", "once"))
def topo_dupes(root, inputs_of):
    out = []

    def go(v):
        for u in inputs_of(v):
            go(u)
        out.append(v)

    go(root)
    return out


@wrong(EX, "order", "root first", ("reverse", "root comes first", "root last") + ORDER)
def topo_reversed(root, inputs_of):
    return list(reversed(topo_nested(root, inputs_of)))


@wrong(EX, "order", "only the direct inputs", ("missing", "recurs", "inputs of the inputs"))
def topo_shallow(root, inputs_of):
    out = []
    for u in inputs_of(root):
        if u not in out:
            out.append(u)
    return out + [root]
