"""The grading trust boundary, piece by piece: the wire codec, the grading build, the jail and
the harness (the end-to-end hostile class is in test_grading.py)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from support import ROOT

from course.exercises import exercises, get
from course.grading import harness, jail, wire

NEEDS_JAIL = pytest.mark.skipif(jail.jail_problem() is not None,
                                reason=f"no bubblewrap jail here: {jail.jail_problem()}")


# --- the wire ----------------------------------------------------------------------------------
class EvilStr(str):
    def __eq__(self, other):  # noqa: D105
        return True

    __hash__ = str.__hash__


def roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


def test_plain_values_round_trip_with_their_types():
    value = {"a": (1, 2.5, None, True), "b": [np.float32(1.5), np.arange(6.0).reshape(2, 3)],
             "c": np.array([1, 0], dtype=bool), "s": "text", "nan": float("nan")}
    back = roundtrip(value)
    assert type(back["a"]) is tuple and back["a"][:3] == (1, 2.5, None)
    assert type(back["b"][0]) is np.float32 and back["b"][0] == np.float32(1.5)
    assert back["b"][1].dtype == np.float64 and back["b"][1].shape == (2, 3)
    assert back["c"].dtype == bool
    assert np.isnan(back["nan"])


def test_learner_objects_never_cross_as_themselves():
    back = roundtrip(EvilStr("b"))
    assert type(back) is str and back == "b" and back != "c"
    assert isinstance(roundtrip(np.array([object()], dtype=object)), wire.Opaque)
    assert isinstance(roundtrip(x for x in ()), wire.Opaque)
    assert isinstance(roundtrip(np.ma.masked_array([1.0])), wire.Opaque)


@pytest.mark.parametrize("message", [
    {"a": ["float64", [3], "AAAA"]},  # bytes do not match the shape
    {"a": ["object", [1], "AAAA"]},  # dtype not allowed
    {"a": ["float64", [-1], ""]},
    {"x": 1},  # unknown tag
    {"rng": 3},  # markers only from the grader
    {"fn": ["os:system", {"d": {}}]},
])
def test_malformed_values_are_rejected(message):
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_deep_and_huge_messages_are_rejected():
    deep: dict = {"l": []}
    for _ in range(50):
        deep = {"l": [deep]}
    with pytest.raises(wire.WireError):
        wire.decode(deep)
    with pytest.raises(wire.WireError):
        wire.loads("[" * 200_000 + "]" * 200_000)


# --- the grading build -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return jail.make_build(tmp_path_factory.mktemp("build"), seed=7)


def _run_in_build(build: Path, code: str) -> str:
    import subprocess

    proc = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                           f"{str(build)!r})\n{code}"], capture_output=True, text=True,
                          timeout=120, cwd=tempfile.gettempdir())
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_build_has_no_working_reference_of_any_graded_function(build):
    """Every graded function that the library or the registry defines gives perturbed values in
    the build (judged here, in the trusted process, on the visible cases)."""
    # the inputs are drawn here: a reference that only the registry defines is withheld in
    # the build (it raises), so the build cannot build its own visible cases for it
    calls = {}
    for ex in exercises(kind="function"):
        args, kwargs = ex.visible()[0].call_args()
        calls[ex.name] = [wire.encode(a, markers=True) for a in args]
        calls[ex.name + ".kw"] = {k: wire.encode(v, markers=True) for k, v in kwargs.items()}
    code = r'''
import importlib, json, numpy as np
from course.exercises import MODULES, Fn
from course.grading import wire
calls = json.loads(CALLS)
dec = lambda v: wire.decode(v, markers=True, rng_factory=np.random.default_rng,
                           fn_factory=lambda t, p: Fn(target=t, params=p))
out = {}
for name in [n for n in calls if not n.endswith(".kw")]:
    for where in ["course", "course.gradcheck"] + ["course.exercises." + m for m in MODULES]:
        fn = getattr(importlib.import_module(where), name, None)
        if callable(fn):
            break
    else:
        continue
    args = [dec(a) for a in calls[name]]
    kwargs = {k: dec(v) for k, v in calls[name + ".kw"].items()}
    try:
        with np.errstate(all="ignore"):
            out[name] = wire.encode(fn(*args, **kwargs))
    except Exception as exc:
        out[name] = "raised " + type(exc).__name__
print(json.dumps(out))
'''.replace("CALLS", repr(json.dumps(calls)))
    built = json.loads(_run_in_build(build, code))
    graded = {ex.name for ex in exercises(kind="function")}
    missing = graded - set(built)
    assert not missing, f"graded functions with no reference anywhere: {sorted(missing)}"
    for name, encoded in built.items():
        if encoded == "raised ReferenceWithheld":
            continue  # withheld: no reference at all
        got = wire.decode(encoded)
        expected = get(name).visible()[0].expected
        assert not _close(got, expected), f"{name}: the build returns exact reference values"


def _close(got, expected) -> bool:
    try:
        g = np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in _flat(got)])
        e = np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in _flat(expected)])
    except (TypeError, ValueError):
        return False
    return g.shape == e.shape and bool(np.allclose(g, e, rtol=1e-7, atol=1e-12))


def _flat(v):
    if isinstance(v, dict):
        return [x for k in sorted(v) for x in _flat(v[k])]
    if isinstance(v, list | tuple):
        return [x for item in v for x in _flat(item)]
    return [v] if v is not None else []


def test_build_optimizer_objects_and_layers_are_perturbed_but_train(build):
    out = _run_in_build(build, r'''
import numpy as np
import course.optim as O
from course.datasets import load_digits
from course.losses import softmax_cross_entropy
from course.network import mlp
from course.train import fit
w = np.ones(4)
O._sgd(w, np.ones(4), 0.5, w_out=w, buf=np.empty(4))
print("private_exact", bool(np.allclose(w, 0.5, rtol=1e-9)))
x, y = load_digits()
model = mlp([64, 32, 10])
fit(model, softmax_cross_entropy, O.Adam(model.parameters(), lr=0.01), x[:1000], y[:1000],
    epochs=8, batch_size=64)
model.eval()
print("acc", float(np.mean(model.forward(x[1000:]).argmax(1) == y[1000:])))
''')
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines())
    assert lines["private_exact"] == "False"
    assert float(lines["acc"]) > 0.85  # training in the notebook still works


def test_looks_perturbed_tells_the_build_from_real_mistakes():
    rng = np.random.default_rng(0)
    e = rng.standard_normal((5, 4))
    u = rng.uniform(1e-3, 3e-3, e.shape) * rng.choice([-1, 1], e.shape)
    assert jail.looks_perturbed(e * (1 + u), e)
    assert not jail.looks_perturbed(e, e)
    assert not jail.looks_perturbed(2 * e, e)
    assert not jail.looks_perturbed(e.T.copy().reshape(e.shape), e)


# --- the jail ----------------------------------------------------------------------------------
def run_cells(build: Path, cells: list[str], items=(), timeout: float = 60,
              files: dict[str, bytes] | None = None):
    """Run code cells in a jail; at the end judge ``items`` (exercises). (events, verdict)."""
    work = Path(tempfile.mkdtemp(prefix="jail-test-"))
    for rel, data in (files or {}).items():
        (work / rel).write_bytes(data)
    plan = [{"kind": "code", "key": f"c{i}", "source": src} for i, src in enumerate(cells)]
    for ex in items:
        plan.append({"kind": "test", "key": ex.grade_id, "source": "",
                     "targets": harness.targets(ex.grade_id)})
    j = jail.Jail(build, work, jail.Limits(timeout=timeout, memory_mb=1024))
    j.start({"cells": plan})
    events, verdict = {}, harness.Verdict()
    while True:
        ev = j.read()
        if ev is None or ev.get("ev") == "done":
            break
        if ev.get("ev") == "cell":
            events[ev["i"]] = ev
        if ev.get("ev") == "test":
            part = harness.grade_items(j, [get(plan[ev["i"]]["key"])], seed=11)
            verdict.items += part.items
            j.send_continue()
    outcome = j.close()
    outcome.jail_uid = j.uid  # for the tests that look for this jail's processes
    return events, verdict, outcome, work


@NEEDS_JAIL
def test_jail_sees_only_its_working_copy(build, tmp_path):
    secret = ROOT / "solutions"
    probe = r'''
import os, socket
report = {}
report["uid"] = os.getuid()
report["repo"] = os.path.exists(REPO)
report["solutions"] = os.path.exists(SECRET)
try:
    open("/usr/evil", "w"); report["usr_writable"] = True
except OSError:
    report["usr_writable"] = False
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1); report["net"] = True
except OSError:
    report["net"] = False
report["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
report["home"] = os.getcwd()
open("mine.txt", "w").write("ok")
print(report)
'''.replace("REPO", repr(str(ROOT))).replace("SECRET", repr(str(secret)))
    events, _, _, work = run_cells(build, [probe])
    text = events[0]["text"]
    report = eval(text)  # noqa: S307 - our own probe's dict
    assert report["repo"] is False and report["solutions"] is False
    assert report["usr_writable"] is False and report["net"] is False
    assert max(report["pids"]) < 10  # its own PID namespace
    if os.geteuid() == 0:
        assert report["uid"] >= 10_000_000  # a fresh uid, not root
    assert (work / "mine.txt").read_text() == "ok"


@NEEDS_JAIL
def test_processes_left_behind_die_with_the_jail(build):
    cells = ["import os, time\nif os.fork() == 0:\n    os.setsid()\n    while True:\n"
             "        time.sleep(0.1)\nprint('parent', os.getpid())"]
    events, _, outcome, _ = run_cells(build, cells)
    assert "parent" in events[0]["text"]  # the fork happened
    import subprocess

    ps = subprocess.run(["ps", "-eo", "uid,pid,cmd"], capture_output=True, text=True).stdout
    if os.geteuid() == 0:  # this jail's own uid (other tests may be grading at the same time)
        leftovers = [line for line in ps.splitlines()[1:]
                     if line.split()[0] == str(outcome.jail_uid)]
    else:  # without root the jail runs as us: look for its orphan by its command line
        leftovers = [line for line in ps.splitlines() if "while True" in line and "fork" in line]
    assert not leftovers, leftovers


@NEEDS_JAIL
def test_helpers_in_extra_cells_count_and_str_subclasses_do_not(build):
    cells = [
        "import numpy as np",
        "def _affine(x, W, b):\n    return np.add(x @ W, b)",  # an extra helper cell
        "def linear_forward(x, W, b):\n    return _affine(x, W, b)",
        "class S(str):\n    def __eq__(self, o):\n        return True\n"
        "    __hash__ = str.__hash__\nMC_DW_SHAPE = S('a')",
    ]
    _, verdict, _, _ = run_cells(build, cells, [get("linear_forward"), get("MC_DW_SHAPE")])
    by = {it.name: it for it in verdict.items}
    assert by["linear_forward"].passed is True
    assert by["MC_DW_SHAPE"].passed is False  # judged as the plain string "a"


@NEEDS_JAIL
def test_calling_the_reference_is_integrity_and_hard_coding_fails_the_grade(build):
    ex = get("linear_backward")
    table = {}
    for case in ex.visible():
        key = np.asarray(case.args["x"]).tobytes()
        table[key.hex()] = [np.asarray(a).tolist() for a in case.expected]
    cells = [
        "import numpy as np, course.layers as L\n"
        "def linear_forward(x, W, b):\n    return L.linear_forward(x, W, b)",
        f"TABLE = {table!r}\n"
        "def linear_backward(dout, x, W, b):\n"
        "    got = TABLE.get(np.asarray(x).tobytes().hex())\n"
        "    return tuple(np.array(g, dtype=x.dtype) for g in got) if got else (x, W, b)",
    ]
    _, verdict, _, _ = run_cells(build, cells, [get("linear_forward"), ex])
    by = {it.name: it for it in verdict.items}
    assert by["linear_forward"].integrity and by["linear_forward"].points == 0
    assert by["linear_backward"].passed is False  # visible cases pass, hidden ones do not
    assert "hidden" in by["linear_backward"].message


@NEEDS_JAIL
def test_own_work_refuses_the_library_inside_the_jail(build):
    cells = ["import numpy as np, course.layers as L\n"
             "class M:\n    def forward(self, x):\n        return L.linear_forward(x, "
             "np.ones((x.shape[1], 10)), np.zeros(10))\nm = M()"]
    work = Path(tempfile.mkdtemp(prefix="jail-test-"))
    j = jail.Jail(build, work, jail.Limits(timeout=60))
    j.start({"cells": [{"kind": "code", "key": "c", "source": cells[0]},
                       {"kind": "test", "key": "t", "source": "", "targets": ["m"]}]})
    while (ev := j.read()) is not None and ev.get("ev") != "test":
        pass
    model = harness.RemoteModel(j, "t", "m", own_work=True)
    with pytest.raises(harness.RemoteError) as info:
        model.forward(np.ones((2, 64)))
    assert "own functions" in str(info.value)
    free = harness.RemoteModel(j, "t", "m")
    assert free.forward(np.ones((2, 64))).shape == (2, 10)
    j.close()
