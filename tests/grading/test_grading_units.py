"""Fast tests of the grading pieces: parsing, plans, redaction, zips, the wire, and the grading
build (every route to a reference inside the jail gives perturbed values)."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from support import ROOT

from course.grading import assignment as A
from course.grading import feedback, harness, inmate, jail, runner, wire

NAME = "03-linear-layer"


@pytest.fixture(scope="module")
def spec() -> A.Assignment:
    return A.load_assignment(NAME, ROOT / "solutions", ROOT / "notebooks")


@pytest.fixture(scope="module")
def release() -> dict:
    return json.loads((ROOT / "notebooks" / NAME / f"{NAME}.ipynb").read_text())


def test_assignment_points_match_the_notebook_metadata(spec):
    assert spec.tests == [("test_linear_forward", 2.0), ("test_mc_dw_entry", 1.0),
                          ("test_linear_backward", 4.0), ("test_mc_dw_shape", 1.0),
                          ("test_mc_db_sum", 1.0)]
    assert spec.max_score == 9.0
    assert {"linear_forward", "linear_backward", "MC_DW_SHAPE", "MC_DB_SUM"} <= set(
        spec.protected)
    # hidden-test source is known, so feedback can be scrubbed of it
    assert 'grade_hidden("test_linear_forward", linear_forward)' in spec.hidden_lines


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"{not json", "malformed"),
        (b"\xff\xfe\x00", "malformed"),
        (b'{"cells": "nope", "nbformat": 4}', "malformed"),
        (b'{"cells": [], "nbformat": 3}', "malformed"),
        (b'{"cells": [{"cell_type": "code", "source": 7}], "nbformat": 4}', "malformed"),
    ],
)
def test_broken_notebooks_are_malformed(data, status):
    with pytest.raises(A.SubmissionError) as info:
        A.parse_submission(data)
    assert info.value.status == status


def test_plan_uses_source_tests_and_learner_answers(spec, release):
    plan = A.build_plan(spec, release)
    assert plan.tampered == {}
    kinds = {c["key"]: c["kind"] for c in plan.cells}
    assert kinds["linear_forward"] == "answer" and kinds["test_linear_forward"] == "test"
    # a test cell never enters the jail: the jail stops there and the grader asks for names
    test = next(c for c in plan.cells if c["key"] == "test_linear_forward")
    assert test["source"] == "" and test["targets"] == ["linear_forward"]
    assert "HIDDEN" not in json.dumps(plan.cells)
    answer = next(c["source"] for c in plan.cells if c["key"] == "linear_forward")
    assert "raise NotImplementedError" in answer  # the learner's own cell runs


def test_plan_detects_deleted_and_edited_cells(spec, release):
    nb = copy.deepcopy(release)
    gid = lambda c: c.get("metadata", {}).get("nbgrader", {}).get("grade_id")  # noqa: E731
    nb["cells"] = [c for c in nb["cells"] if gid(c) not in ("test_linear_backward", "mc_db_sum")]
    for cell in nb["cells"]:
        if gid(cell) == "test_mc_dw_shape":
            cell["source"] = "pass\n"
        if gid(cell) == "test_linear_forward":
            cell["source"] = "".join(cell["source"]) + "\n\n   "  # whitespace: not an edit
    plan = A.build_plan(spec, nb)
    assert plan.tampered == {
        "test_linear_backward": "test cell test_linear_backward was deleted",
        "test_mc_dw_shape": "test cell test_mc_dw_shape was edited",
        "mc_db_sum": "answer cell mc_db_sum was deleted",
    }


def test_hidden_regions_are_stripped():
    src = "check(f)\n### BEGIN HIDDEN TESTS\nassert secret(1)\n### END HIDDEN TESTS\nprint('x')"
    assert A.strip_hidden(src) == "check(f)\nprint('x')"


def test_redact_drops_lines_with_hidden_source():
    text = "ok line\nAssertionError at assert secret_value(42) == 7\nlast"
    assert feedback.redact(text, ["assert secret_value(42) == 7"]) == "ok line\nlast"


def test_magics_become_pass():
    assert inmate.strip_magics("%matplotlib inline\nx = 1\n  !ls") == (
        "pass  # %matplotlib inline\nx = 1\n  pass  # !ls")
    assert inmate.strip_magics("%%time\nx = 1") == ""


def test_zip_layouts_and_path_escape(tmp_path):
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export/alice/03-linear-layer.ipynb", "{}")
        zf.writestr("export/bob/03-linear-layer/03-linear-layer.ipynb", "{}")
        zf.writestr("export/carol/", "")
        zf.writestr("export/../evil.ipynb", "{}")
        zf.writestr("/abs/evil.ipynb", "{}")
        zf.writestr("__MACOSX/export/alice/._x", "")
    subs = runner.read_submissions(archive, NAME)
    assert [s.student_id for s in subs] == ["alice", "bob", "carol"]
    assert list(subs[0].files) == ["03-linear-layer.ipynb"]
    assert list(subs[1].files) == ["03-linear-layer/03-linear-layer.ipynb"]
    assert subs[2].files == {}


def test_submission_digest_depends_on_content_only():
    a = runner.Submission("a", {"n.ipynb": b"1"})
    b = runner.Submission("b", {"n.ipynb": b"1"})
    c = runner.Submission("a", {"n.ipynb": b"2"})
    assert a.digest() == b.digest() != c.digest()


# --- the wire: only plain values cross the jail boundary ---------------------------------------
def _roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


def test_wire_turns_learner_objects_into_opaque_values():
    class Yes(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    class Slippery:
        def __array__(self, *args, **kwargs):
            return np.zeros(3)

        def __len__(self):
            return 3

    for hostile_value in (np.zeros(3).view(Liar), Slippery(), np.zeros(3, dtype=object),
                          np.zeros(2, dtype=">f8"), {1: 2}, 10**30):
        assert isinstance(_roundtrip(hostile_value), wire.Opaque), hostile_value
    for text in (Yes("a"), np.str_("a")):  # a str subclass crosses as its characters only
        back = _roundtrip(text)
        assert type(back) is str and back == "a" and back != "b"
    got = _roundtrip({"t": (1, 2.5, "a", None, [np.float32(1.5)]), "a": np.eye(2)})
    assert type(got["t"]) is tuple and type(got["t"][2]) is str
    assert type(got["a"]) is np.ndarray and got["a"].dtype == np.float64


@pytest.mark.parametrize("message", [
    {"a": ["float64", [10**9], ""]},  # more bytes than any answer needs
    {"a": ["float64", [2], "AAAA"]},  # data that does not match the shape
    {"a": ["object", [1], ""]},
    {"x": 1},
    {"l": [{"l": []}] * (wire.MAX_ITEMS + 1)},
    {"rng": 1},  # a generator or a named function only comes from the grader
    {"fn": ["os:system", {"d": {}}]},
])
def test_wire_rejects_what_is_not_a_plain_value(message):
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_wire_rejects_deep_or_huge_lines():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(wire.WireError):
        wire.loads(deep)
    with pytest.raises(wire.WireError):
        wire.loads(b'{"a": "' + b"x" * (wire.MAX_LINE + 1) + b'"}')


def test_remote_exceptions_are_never_more_than_an_exception():
    for name in ("SystemExit", "KeyboardInterrupt", "GeneratorExit", "JailGone", "BaseException",
                 "not an identifier!", "CheckFailure"):
        exc = harness.remote_exception({"type": name, "msg": "x"})
        assert isinstance(exc, Exception) and isinstance(exc, harness.RemoteError)
    assert isinstance(harness.remote_exception({"type": "NotImplementedError"}),
                      NotImplementedError)


def test_disk_usage_counts_blocks_and_caps_entries(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 100_000)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b").write_bytes(b"y" * 50_000)
    assert 150_000 <= jail._disk_usage(tmp_path, 100) < 400_000
    for i in range(30):
        (tmp_path / "d" / f"f{i}").touch()
    assert jail._disk_usage(tmp_path, 20) >= 1 << 60


# --- the grading build: no working reference in the jail ---------------------------------------
# Each route is how a learner who read the code would reach a reference inside the jail; every
# one must return values that are wrong by the build's factor 1 +- [1e-3, 3e-3] per entry (the
# grader recognises them and reports "integrity"). The routes run in a child process that
# imports the build, as the jail does.
_ROUTES = r'''
import pickle, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import course, course.layers as L, course.losses as S, course.optim as O, course.gradcheck as G
import course.network as N, course._jailskew as js

x, W, b, dout, labels = pickle.loads(sys.stdin.buffer.read())
out = {}

def route(name, fn):
    try:
        out[name] = fn()
    except Exception as exc:
        out[name] = "error: %s: %s" % (type(exc).__name__, exc)

class Inert(np.ndarray):
    def __array_ufunc__(self, ufunc, method, *inputs, **kw):
        inputs = [np.asarray(i) if isinstance(i, Inert) else i for i in inputs]
        if ufunc is np.multiply and method == "__call__":
            return inputs[0].view(Inert)
        if "out" in kw:
            if ufunc is np.multiply:
                return kw["out"][0]
            kw["out"] = tuple(np.asarray(o) for o in kw["out"])
        r = getattr(ufunc, method)(*inputs, **kw)
        return r.view(Inert) if isinstance(r, np.ndarray) else r
    def __mul__(self, other):
        return self
    def __imul__(self, other):
        return self

def layer():
    lay = N.Linear(W.shape[0], W.shape[1])
    lay.W.value, lay.b.value = W.copy(), b.copy()
    return lay

def layer_backward():
    lay = layer()
    lay.forward(x)
    return lay.backward(dout), lay.W.grad, lay.b.grad

def sgd_inplace():
    w, buf = W.copy(), np.empty_like(W)
    O._sgd(W, dout[:3, :2], 0.1, w_out=w, buf=buf)
    return w

def optimizer_object():
    p = N.Parameter(W.copy())
    p.grad = dout[:3, :2].copy()
    O.Momentum([p], 0.1, beta=0.9).step()
    return p.value

f = lambda v: float(np.sum(np.sin(v)) + np.sum(v ** 2))
route("linear_forward", lambda: L.linear_forward(x, W, b))
route("vars", lambda: vars(L)["linear_forward"](x, W, b))
route("Linear.forward", lambda: layer().forward(x))
route("subclass inputs", lambda: np.array(L.linear_forward(x.view(Inert), W.view(Inert),
                                                           b.view(Inert))))
route("linear_backward", lambda: L.linear_backward(dout, x, W, b))
route("Linear.backward", layer_backward)
route("sigmoid_forward", lambda: L.sigmoid_forward(x))
route("_sigmoid", lambda: L._sigmoid(x))
route("tanh_backward", lambda: L.tanh_backward(x, x))
route("batchnorm_forward", lambda: L.batchnorm_forward(x, x[0] + 2, x[1]))
route("_normalize", lambda: L._normalize(x, 1e-5)[0])
route("softmax_cross_entropy", lambda: S.softmax_cross_entropy(x, labels))
route("SoftmaxCrossEntropy()", lambda: S.SoftmaxCrossEntropy()(x, labels))
route("MSELoss()", lambda: S.MSELoss()(x, x * 0.5 + 1))
route("sgd_step", lambda: O.sgd_step(W, dout[:3, :2], 0.1))
route("_sgd in place", sgd_inplace)
route("momentum_step", lambda: O.momentum_step(W, dout[:3, :2], W * 0.5, 0.1, 0.9))
route("adam_step", lambda: O.adam_step(W, dout[:3, :2], W * 0.1, W * W, 3, 0.01))
route("Momentum object", optimizer_object)
route("numerical_gradient", lambda: G.numerical_gradient(f, x.copy()))
route("_differences", lambda: G._differences(f, x.copy(), 1e-5)[0])
# simple patches of the perturbation module change nothing that is already imported
js._factor = lambda shape: 1.0
js.skew = lambda value, *args, **kwargs: value
js._RNG = None
route("after patching _jailskew", lambda: L.linear_forward(x, W, b))
route("after patching, tuple", lambda: L.linear_backward(dout, x, W, b))
route("twice", lambda: [L.linear_forward(x, W, b) for _ in range(2)])
sys.stdout.buffer.write(pickle.dumps(out))
'''


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return jail.make_build(tmp_path_factory.mktemp("build"), 7)


def test_every_route_to_a_reference_in_the_build_is_perturbed(build):
    from course import gradcheck as G
    from course import layers as L
    from course import losses as S
    from course import network as N
    from course import optim as O

    r = np.random.default_rng(3)
    x, W, b = r.normal(size=(4, 3)), r.normal(size=(3, 2)), r.normal(size=2)
    dout, labels = r.normal(size=(4, 2)), np.array([0, 2, 1, 2])
    proc = subprocess.run([sys.executable, "-c", _ROUTES, str(build)], capture_output=True,
                          input=pickle.dumps((x, W, b, dout, labels)), timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    got = pickle.loads(proc.stdout)

    def momentum_object():
        p = N.Parameter(W.copy())
        p.grad = dout[:3, :2].copy()
        O.Momentum([p], 0.1, beta=0.9).step()
        return p.value

    f = lambda v: float(np.sum(np.sin(v)) + np.sum(v ** 2))  # noqa: E731
    exact = {
        "linear_forward": L.linear_forward(x, W, b),
        "linear_backward": L.linear_backward(dout, x, W, b),
        "sigmoid_forward": L.sigmoid_forward(x),
        "tanh_backward": L.tanh_backward(x, x),
        "batchnorm_forward": L.batchnorm_forward(x, x[0] + 2, x[1]),
        "softmax_cross_entropy": S.softmax_cross_entropy(x, labels),
        "MSELoss()": S.mse_loss(x, x * 0.5 + 1),
        "sgd_step": O.sgd_step(W, dout[:3, :2], 0.1),
        "momentum_step": O.momentum_step(W, dout[:3, :2], W * 0.5, 0.1, 0.9),
        "adam_step": O.adam_step(W, dout[:3, :2], W * 0.1, W * W, 3, 0.01),
        "Momentum object": momentum_object(),
        "numerical_gradient": G.numerical_gradient(f, x.copy()),
    }
    same = {"vars": "linear_forward", "Linear.forward": "linear_forward",
            "subclass inputs": "linear_forward", "Linear.backward": "linear_backward",
            "_sigmoid": "sigmoid_forward", "SoftmaxCrossEntropy()": "softmax_cross_entropy",
            "_sgd in place": "sgd_step", "_differences": "numerical_gradient",
            "after patching _jailskew": "linear_forward",
            "after patching, tuple": "linear_backward"}
    for route, value in got.items():
        if route in ("_normalize", "twice"):
            continue
        assert not isinstance(value, str), (route, value)
        want = exact[same.get(route, route)]
        assert jail.looks_perturbed(value, want), route
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    assert jail.looks_perturbed(got["_normalize"], xhat)
    # every call draws fresh factors: nothing to replay, and averaging needs millions of calls
    first, second = got["twice"]
    assert not np.array_equal(first, second)


def test_the_build_keeps_no_seed_and_no_exact_reference(build):
    text = (build / "course" / "_jailskew.py").read_text()
    assert "default_rng()" in text and "default_rng(7" not in text
    layers = (build / "course" / "layers.py").read_text()
    assert "_bp_skew_private(" in layers  # private helpers too
    assert not (build / "course" / "grading" / "harness.py").exists()
    assert not (build / "course" / "grading" / "runner.py").exists()


_HELPERS = r'''
import importlib, pickle, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from course.exercises import Fn
jobs = pickle.loads(sys.stdin.buffer.read())
out = []
for module, attr, args in jobs:
    args = [Fn(a[1], a[2]) if isinstance(a, tuple) and a[:1] == ("FN",) else a for a in args]
    try:
        out.append(getattr(importlib.import_module(module), attr)(*args))
    except Exception as exc:
        out.append("error: %s: %s" % (type(exc).__name__, exc))
sys.stdout.buffer.write(pickle.dumps(out))
'''


def test_private_helpers_of_library_and_registry_are_perturbed_for_learner_code(build):
    """Private helpers compute pieces of references (the sigmoid, batchnorm's x_hat, a whole
    gradient descent, a network's loss): called from learner code, they are perturbed too, or
    withheld (they raise ReferenceWithheld)."""
    import importlib

    from course.exercises import Fn

    r = np.random.default_rng(5)
    x, labels = r.normal(size=(4, 3)), np.array([0, 2, 1, 2])
    w1, b1, w2, b2 = r.normal(size=(3, 5)), r.normal(size=5), r.normal(size=(5, 3)), np.zeros(3)
    quad = Fn("course.exercises.nb07_learning_rate:quadratic", {"shape": [3], "seed": 4})
    jobs = [
        ("course.layers", "_sigmoid", [x]),
        ("course.layers", "_normalize", [x, 1e-5]),
        ("course.exercises._shared", "_sig", [x]),
        ("course.exercises._shared", "_naive_softmax", [x, 1]),
        ("course.exercises.nb06_backprop_network", "_net_loss", [x, labels, w1, b1, w2, b2]),
        ("course.exercises.nb07_learning_rate", "_descend", [quad, r.normal(size=3), 0.1, 5]),
    ]
    jobs = [j for j in jobs if hasattr(importlib.import_module(j[0]), j[1])]
    assert len(jobs) >= 4, "the helpers this test knows were renamed: update the list"
    sent = [(m, a, [("FN", v.target, dict(v.params)) if isinstance(v, Fn) else v for v in args])
            for m, a, args in jobs]
    repeats = 3  # a scalar that passes through several perturbed calls can, once in a
    # thousand calls, come out within the checks' tolerance: three calls never all do
    proc = subprocess.run([sys.executable, "-c", _HELPERS, str(build)], capture_output=True,
                          input=pickle.dumps(sent * repeats), timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    results = pickle.loads(proc.stdout)
    for k, (module, attr, args) in enumerate(jobs):
        want = getattr(importlib.import_module(module), attr)(*args)
        flat_want = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in _leaves(want)])
        worst = 0.0
        runs = results[k::len(jobs)]
        if all(isinstance(got, str) and "ReferenceWithheld" in got for got in runs):
            continue  # not in the build at all
        for got in runs:
            assert not isinstance(got, str), (attr, got)
            flat = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in _leaves(got)])
            assert flat.shape == flat_want.shape, attr
            rel = np.abs(flat - flat_want) / np.maximum(np.abs(flat_want), 1e-12)
            worst = max(worst, float(rel.max()))
        assert worst > 1e-5, f"{module}.{attr} is exact in the build"


def _leaves(value):
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in _leaves(value[k])]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _leaves(v)]
    return [value]


_REBUILD = """
import types
import course.layers as L

def linear_forward(x, W, b):
    # the library's own code with globals in which the perturbation does nothing
    plain = {**vars(L), "_bp_skew": lambda value, *rest: value, "_bp_flush": lambda w: None}
    return types.FunctionType(L.linear_forward.__code__, plain)(x, W, b)
"""


@pytest.mark.xfail(strict=True, reason="known limit (issue 11): learner code that rewrites the "
                   "build's own code objects, globals or source gets exact references; only the "
                   "similarity note shows it")
def test_known_limit_code_that_rewrites_the_build(build):
    from course import layers as L

    r = np.random.default_rng(1)
    x, W, b = r.normal(size=(4, 3)), r.normal(size=(3, 2)), r.normal(size=2)
    code = ("import pickle, sys\nsys.path.insert(0, sys.argv[1])\n" + _REBUILD +
            "sys.stdout.buffer.write(pickle.dumps(linear_forward(*pickle.loads("
            "sys.stdin.buffer.read()))))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(build)], capture_output=True,
                          input=pickle.dumps((x, W, b)), timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    got = pickle.loads(proc.stdout)
    assert not np.allclose(got, L.linear_forward(x, W, b), rtol=1e-9, atol=0)


def test_code_that_rewrites_the_build_is_flagged_for_the_instructor():
    from course.grading.similarity import suspicious_constructs

    flags = " ".join(suspicious_constructs(_REBUILD))
    assert "__code__" in flags and "types" in flags and "vars()" in flags
