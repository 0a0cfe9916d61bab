"""A class of broken and hostile submissions of 03-linear-layer, built from the real notebooks.

Every submission starts from the released learner notebook (``notebooks/03-linear-layer``), the
way a learner receives it, and fills in its answer cells (``linear_forward``, ``mc_dw_entry``,
``linear_backward``, ``mc_dw_shape``, ``mc_db_sum``) or damages it.  The ``forger`` writes fake
"all passed" result lines to every file descriptor and exits.  ``EXPECTED`` says what the
grader must write for each student: status and the points of every exercise
(test_linear_forward 2, test_mc_dw_entry 1, test_linear_backward 4, test_mc_dw_shape 1,
test_mc_db_sum 1), in notebook order.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

ASSIGNMENT = "03-linear-layer"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
TESTS = ("test_linear_forward", "test_mc_dw_entry", "test_linear_backward", "test_mc_dw_shape",
         "test_mc_db_sum")

RIGHT_FORWARD = '''
def linear_forward(x, W, b):
    """Affine layer, written with einsum."""
    return np.einsum("nd,dm->nm", x, W) + b
'''

RIGHT_BACKWARD = '''
def linear_backward(dout, x, W, b):
    """Gradients, with a loop over the batch for dW."""
    dW = np.zeros_like(W, dtype=np.result_type(x, dout))
    for n in range(x.shape[0]):
        dW += np.outer(x[n], dout[n])
    return dout @ W.T, dW, dout.sum(axis=0)
'''

WRONG_BACKWARD = '''
def linear_backward(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)   # db averaged: wrong
'''

STUB_FORWARD = '''
def linear_forward(x, W, b):
    return np.zeros((x.shape[0], W.shape[1]))
'''

STUB_BACKWARD = '''
def linear_backward(dout, x, W, b):
    return np.zeros(x.shape), np.zeros(W.shape), np.zeros(b.shape)
'''

RIGHT_MC = {"mc_dw_entry": 'MC_DW_ENTRY = "b"\n', "mc_dw_shape": 'MC_DW_SHAPE = "c"\n',
            "mc_db_sum": 'MC_DB_SUM = "a"\n'}


def _src(cell: dict) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def _gid(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _answers(forward: str = RIGHT_FORWARD, backward: str = RIGHT_BACKWARD, mc=None) -> dict:
    out = {"linear_forward": forward, "linear_backward": backward}
    out.update(RIGHT_MC if mc is None else mc)
    return out


def _fill(release: dict, answers: dict[str, str]) -> dict:
    nb = copy.deepcopy(release)
    for cell in nb["cells"]:
        if _gid(cell) in answers:
            cell["source"] = answers[_gid(cell)]
    return nb


def expected(status: str, points: tuple[float, float, float, float, float]) -> dict:
    return {"status": status, **dict(zip(TESTS, points, strict=True)),
            "score": float(sum(points))}


EXPECTED: dict[str, dict] = {
    "correct": expected("graded", (2, 1, 4, 1, 1)),
    "correct-solution": expected("graded", (2, 1, 4, 1, 1)),
    "partial": expected("graded", (2, 0, 0, 1, 0)),
    "stub": expected("graded", (0, 0, 0, 0, 0)),
    "infinite-loop": expected("timeout", (2, 1, 0, 0, 0)),
    "ignores-sigint": expected("timeout", (0, 0, 0, 0, 0)),
    "os-exit": expected("crashed", (2, 1, 0, 0, 0)),
    "memory-hog": expected("memory-limit", (2, 1, 0, 1, 1)),
    "output-flood": expected("graded", (2, 1, 4, 1, 1)),
    "invalid-json": expected("malformed", (0, 0, 0, 0, 0)),
    "empty-folder": expected("missing", (0, 0, 0, 0, 0)),
    "deleted-tests": expected("tampered", (2, 1, 0, 1, 1)),
    "edited-tests": expected("tampered", (0, 1, 4, 1, 1)),
    # patches inside the jail change nothing: the comparisons run in the grader's process,
    # so these learners get what their real (stub) answers earn
    "patched-numpy": expected("graded", (0, 1, 0, 1, 1)),
    "patched-checks": expected("graded", (0, 1, 0, 1, 1)),
    "reference-import": expected("integrity", (0, 1, 0, 1, 1)),
    "vandal": expected("graded", (2, 1, 4, 1, 1)),
    "forger": expected("crashed", (0, 0, 0, 0, 0)),
    # issue 11: every route to a working reference inside the jail gives perturbed values
    "importlib-copy": expected("integrity", (0, 1, 0, 1, 1)),
    "installed-copy": expected("integrity", (0, 1, 0, 1, 1)),
    "check-globals": expected("integrity", (0, 1, 0, 1, 1)),
    "network-layer": expected("integrity", (0, 1, 0, 1, 1)),
    "skew-patch": expected("integrity", (0, 1, 0, 1, 1)),
    "subclass-input": expected("integrity", (0, 1, 0, 1, 1)),
    # objects that claim to equal anything cross the boundary as nothing
    "hostile-objects": expected("graded", (0, 0, 0, 0, 0)),
    # forged lines on the channel can only say what the learner could have answered anyway
    "fake-replies": expected("graded", (0, 1, 0, 1, 1)),
    "reads-secrets": expected("graded", (0, 0, 0, 0, 0)),
    "escaper": expected("graded", (2, 1, 4, 1, 1)),
    "orphan": expected("graded", (2, 1, 4, 1, 1)),
    "fork-flood": expected("graded", (2, 1, 4, 1, 1)),
    "disk-filler": expected("crashed", (2, 1, 0, 0, 0)),
    "huge-reply": expected("crashed", (0, 0, 0, 0, 0)),
    "=HYPERLINK(\"x\")": expected("graded", (2, 1, 4, 1, 1)),
}
MARKER = "BPC-HOSTILE"  # every file an attack tries to create outside its copy has this name
# a small class for the run as an ordinary user (the attacks on the jail itself)
NOBODY_SUBSET = ("correct", "partial", "installed-copy", "skew-patch", "hostile-objects",
                 "fake-replies", "reads-secrets", "escaper", "orphan", "fork-flood", "vandal",
                 "forger")


def build_class(dest: Path, repo: Path, out: Path, probe: Path) -> None:
    """Write one folder per student of ``EXPECTED`` into ``dest``.

    ``out`` is the grader's output folder and ``probe`` a file in the repository: the vandal
    tries to delete the other submissions and the gradebook, and to create ``probe``.
    """
    release = json.loads((repo / "notebooks" / ASSIGNMENT / NOTEBOOK).read_text())
    source = json.loads((repo / "solutions" / ASSIGNMENT / NOTEBOOK).read_text())
    solution = {_gid(c): _src(c) for c in source["cells"]
                if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    nbs: dict[str, dict | str | None] = {}

    nbs["correct"] = _fill(release, _answers())
    nbs["correct-solution"] = _fill(release, solution)
    # partial: MC_DW_ENTRY left unanswered, db averaged, MC_DB_SUM wrong
    nbs["partial"] = _fill(release, _answers(backward=WRONG_BACKWARD,
                                             mc={"mc_dw_shape": 'MC_DW_SHAPE = "c"\n',
                                                 "mc_db_sum": 'MC_DB_SUM = "b"\n'}))
    nbs["stub"] = copy.deepcopy(release)
    nbs["infinite-loop"] = _fill(release, _answers(backward='''
def linear_backward(dout, x, W, b):
    while True:
        pass
'''))
    nbs["ignores-sigint"] = _fill(release, _answers(forward='''
import signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)

def linear_forward(x, W, b):
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            pass
'''))
    nbs["os-exit"] = _fill(release, _answers(backward='''
import os

def linear_backward(dout, x, W, b):
    os._exit(3)
'''))
    nbs["memory-hog"] = _fill(release, _answers(backward='''
def linear_backward(dout, x, W, b):
    hog = []
    while True:
        hog.append(bytearray(64 * 2**20))
'''))
    nbs["output-flood"] = _fill(release, _answers(forward='''
import os
print("spam " * 4_000_000)
for _ in range(20_000):
    print("more spam, line after line")
os.write(1, b"raw spam " * 1_000_000)
''' + RIGHT_FORWARD))
    nbs["invalid-json"] = '{"cells": [ this is not JSON'
    nbs["empty-folder"] = None
    deleted = _fill(release, _answers())
    deleted["cells"] = [c for c in deleted["cells"] if _gid(c) != "test_linear_backward"]
    nbs["deleted-tests"] = deleted
    edited = _fill(release, _answers(forward=STUB_FORWARD))
    for cell in edited["cells"]:
        if _gid(cell) == "test_linear_forward":
            cell["source"] = "# nothing to check here\npass\n"
    nbs["edited-tests"] = edited
    nbs["patched-numpy"] = _fill(release, _answers(forward='''
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
''' + STUB_FORWARD, backward=STUB_BACKWARD))
    nbs["patched-checks"] = _fill(release, _answers(forward='''
import course.checks
course.checks.check_linear_forward = lambda fn: print("linear_forward: ok")
check_linear_backward = lambda fn: print("linear_backward: ok")
''' + STUB_FORWARD, backward=STUB_BACKWARD))
    nbs["reference-import"] = _fill(release, _answers(forward='''
from course import linear_forward
''', backward='''
import course

def linear_backward(dout, x, W, b):
    return course.linear_backward(dout, x, W, b)
'''))
    nbs["vandal"] = _fill(release, _answers(forward=f'''
import os, shutil
for target in ({str(dest)!r}, {str(out)!r}):
    try:
        shutil.rmtree(target)
    except Exception as exc:
        print("could not delete", target, type(exc).__name__)
try:
    open({str(probe)!r}, "w").write("vandal was here")
except Exception as exc:
    print("could not write the repository", type(exc).__name__)
''' + RIGHT_FORWARD))

    # writes fake "all tests passed" results to every file descriptor, then exits
    nbs["forger"] = _fill(release, _answers(forward='''
import json, os
fake = "".join(json.dumps({"ev": "cell", "i": i, "ok": True, "outputs": [], "error": None,
                           "delegation": []}) + "\\n" for i in range(40))
fake += json.dumps({"ev": "done"}) + "\\n"
for fd in range(3, 64):
    try:
        os.write(fd, fake.encode())
    except OSError:
        pass
os._exit(0)
''' + STUB_FORWARD, backward=STUB_BACKWARD))

    _issue11(nbs, release, dest, repo, out, probe)

    for student, nb in nbs.items():
        folder = dest / student
        folder.mkdir(parents=True)
        if nb is None:
            continue
        text = nb if isinstance(nb, str) else json.dumps(nb, indent=1)
        (folder / NOTEBOOK).write_text(text)


def solution_submission(repo: Path, assignment: str) -> str:
    """The released notebook of ``assignment`` with every answer cell taken from the solution."""
    nb = f"{assignment}.ipynb"
    release = json.loads((repo / "notebooks" / assignment / nb).read_text())
    source = json.loads((repo / "solutions" / assignment / nb).read_text())
    answers = {_gid(c): _src(c) for c in source["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    return json.dumps(_fill(release, answers), indent=1)


def unleak_markers(source: dict) -> list[str]:
    """Lines of hidden-test source in the solution notebook (must never reach feedback)."""
    lines = []
    for cell in source["cells"]:
        for region in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", _src(cell),
                                 re.S):
            lines += [ln.strip() for ln in region.splitlines() if len(ln.strip()) > 15]
    return lines


def _issue11(nbs: dict, release: dict, dest: Path, repo: Path, out: Path, probe: Path) -> None:
    """The attacks of issue 11 (and more), as learners who have read the grader would write."""
    mark = MARKER
    nbs["importlib-copy"] = _fill(release, _answers(forward='''
import importlib.util, course.layers
spec = importlib.util.spec_from_file_location("my_layers", course.layers.__file__)
copy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(copy)

def linear_forward(x, W, b):
    return copy.linear_forward(x, W, b)
''', backward='''
import course.layers
ref = vars(course.layers)["linear_backward"]
ns = {"ref": ref}
# a wrapper compiled under the library's own file name
exec(compile("def linear_backward(dout, x, W, b):\\n    return ref(dout, x, W, b)\\n",
             course.layers.__file__, "exec"), ns)
linear_backward = ns["linear_backward"]
'''))
    # the grader's own (exact) course package, wherever Python could find it
    nbs["installed-copy"] = _fill(release, _answers(forward='''
import glob, importlib.util, os, sys
places = [os.path.join(d, "course", "layers.py") for d in sys.path if d]
for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/usr/local"}:
    places += glob.glob(os.path.join(prefix, "lib", "python3*", "*-packages", "course",
                                     "layers.py"))
places += glob.glob("/usr/lib/python3/dist-packages/course/layers.py")
copies = [p for p in places if os.path.isfile(p) and not p.startswith("/opt/backprop-grading")]
print("FOUND-COPY", copies)
import course.layers
path = copies[0] if copies else course.layers.__file__
spec = importlib.util.spec_from_file_location("exact_layers", path)
exact = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exact)
linear_forward = exact.linear_forward
''', backward='''
linear_backward = exact.linear_backward
'''))
    nbs["check-globals"] = _fill(release, _answers(forward='''
import sys
g = check_linear_forward.__globals__  # the check function's module: the registry is near
lookup = g.get("get") or sys.modules["course.exercises"].get
ref = lookup("linear_forward").reference

def linear_forward(x, W, b):
    return ref(x, W, b)
''', backward='''
reg = sys.modules["course.exercises"].REGISTRY
refb = reg["test_linear_backward"].reference

def linear_backward(dout, x, W, b):
    return refb(dout, x, W, b)
'''))
    nbs["network-layer"] = _fill(release, _answers(forward='''
from course.network import Linear

def linear_forward(x, W, b):
    layer = Linear(W.shape[0], W.shape[1])
    layer.W.value, layer.b.value = W, b
    return layer.forward(x)
''', backward='''
def linear_backward(dout, x, W, b):
    layer = Linear(W.shape[0], W.shape[1])
    layer.W.value, layer.b.value = W, b
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.W.grad, layer.b.grad
'''))
    nbs["skew-patch"] = _fill(release, _answers(forward='''
import course, course._jailskew as js
js._factor = lambda shape: 1.0
js.skew = lambda value, *args, **kwargs: value
js.FORBID[0] = False
if hasattr(js, "_RNG"):
    js._RNG = None
from course import linear_forward
''', backward='''
def linear_backward(dout, x, W, b):
    return course.linear_backward(dout, x, W, b)
'''))
    nbs["subclass-input"] = _fill(release, _answers(forward='''
import course

class Inert(np.ndarray):
    """Multiplying by anything (the perturbation) changes nothing."""
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

def linear_forward(x, W, b):
    return np.array(course.linear_forward(x.view(Inert), W.view(Inert), b.view(Inert)))
''', backward='''
def linear_backward(dout, x, W, b):
    # calibration: average many perturbed answers
    runs = [course.linear_backward(dout, x, W, b) for _ in range(64)]
    return tuple(np.mean([r[k] for r in runs], axis=0) for k in range(3))
'''))
    nbs["hostile-objects"] = _fill(release, _answers(forward='''
class Liar(np.ndarray):
    def __eq__(self, other):
        return True
    def __array_ufunc__(self, *args, **kwargs):
        return True
    def __len__(self):
        return 10**9

def linear_forward(x, W, b):
    return np.zeros((x.shape[0], W.shape[1])).view(Liar)
''', backward='''
class Slippery:
    def __array__(self, *args, **kwargs):
        return np.zeros(3)
    def __len__(self):
        return 3
    def __eq__(self, other):
        return True
    def __getitem__(self, i):
        return Slippery()
    def __float__(self):
        return 0.0

def linear_backward(dout, x, W, b):
    return (Slippery(), np.zeros(3, dtype=object), Slippery())
''', mc={"mc_dw_shape": '''
class Yes(str):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = str.__hash__

MC_DW_SHAPE = Yes("z")
''', "mc_db_sum": 'MC_DB_SUM = Yes("z")\n'}))
    nbs["fake-replies"] = _fill(release, _answers(forward='''
import json, os
# outputs for every cell, test cells too, with markup that must stay text in the feedback
lines = [json.dumps({"ev": "cell", "i": i, "ok": True, "text": "<script>alert(1)</script>",
                     "images": ['"><script>alert(2)</script>'],
                     "error": {"type": "<script>alert(3)</script>", "msg": "x", "tb": []}})
         for i in range(40)]
lines += [json.dumps({"ev": "test", "i": i, "key": "x"}) for i in range(40)]
lines += [json.dumps({"id": k, "ok": True, "found": True, "callable": False, "value": "c",
                      "result": {"l": []}, "after": [], "after_kw": {}}) for k in range(1, 60)]
data = ("\\n".join(lines) + "\\n").encode()
for fd in range(3, 64):
    try:
        os.write(fd, data)
    except OSError:
        pass
''' + STUB_FORWARD, backward=STUB_BACKWARD))
    secrets = [str(repo / "solutions" / ASSIGNMENT / NOTEBOOK), str(dest / "correct" / NOTEBOOK),
               str(out / "grades.csv"), str(out), str(dest), str(repo / "course" / "layers.py"),
               "/proc/1/cmdline", "/proc/1/environ", "/root", "/home"]
    nbs["reads-secrets"] = _fill(release, _answers(forward=f'''
import glob, os
for path in {secrets!r}:
    try:
        if os.path.isdir(path):
            found = os.listdir(path)
        else:
            found = open(path, "rb").read(200)
        print("READ", path, repr(found)[:80])
    except Exception as exc:
        print("NOPE", path, type(exc).__name__)
print("PIDS", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        print("CMD", pid, open(f"/proc/{{pid}}/cmdline", "rb").read()[:120])
    except Exception:
        pass
''' + STUB_FORWARD, backward=STUB_BACKWARD, mc={}))
    nbs["escaper"] = _fill(release, _answers(forward=f'''
import ctypes, os, subprocess

def attempt(what, fn):
    try:
        fn()
        print("ESCAPED", what)
    except Exception as exc:
        print("ESCAPE-FAILED", what, type(exc).__name__)

def write(path):
    def go():
        with open(path, "w") as fh:  # closed here: a refused write raises, never lost
            fh.write("x")
    return go

def capabilities():
    # does a process the learner controls (its uid: the notebook, bubblewrap's init without
    # root) hold a capability? (with root, init is root's: out of the learner's reach)
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        status = open(f"/proc/{{pid}}/status").read()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields["Uid"].split()[0]) != os.getuid():
            continue
        if any(int(fields[k].strip(), 16) for k in ("CapEff", "CapPrm", "CapAmb")):
            return
    raise PermissionError("no process of the learner holds a capability")

def run(*cmd):
    def go():
        out = subprocess.run(cmd, capture_output=True, timeout=10)
        if out.returncode != 0:
            raise PermissionError(out.stderr.decode()[:100])
    return go

def unshare_and_remount():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x10000000 | 0x00020000) != 0:  # CLONE_NEWUSER | CLONE_NEWNS
        raise PermissionError(os.strerror(ctypes.get_errno()))
    run("mount", "-o", "remount,rw", "/opt/backprop-grading")()
    open("/opt/backprop-grading/course/{mark}.py", "w").write("x")

import course, site, sys
attempt("build", write(os.path.join(os.path.dirname(course.__file__), "{mark}.py")))
for d in sys.path:
    if d.endswith("-packages"):
        attempt("pth " + d, write(os.path.join(d, "{mark}.pth")))
attempt("usr", write("/usr/{mark}"))
attempt("repo", write({str(repo / mark)!r}))
attempt("probe", write({str(probe)!r}))
attempt("classmate", write({str(dest / "correct" / mark)!r}))
attempt("out", write({str(out / mark)!r}))
attempt("remount", run("mount", "-o", "remount,rw", "/"))
attempt("userns", unshare_and_remount)
attempt("setuid", lambda: os.setuid(0))
attempt("capabilities", capabilities)
attempt("sysrq", write("/proc/sysrq-trigger"))
attempt("kill-1", lambda: os.kill(1, 9) or (_ for _ in ()).throw(PermissionError("alive")))
attempt("network", lambda: __import__("socket").create_connection(("1.1.1.1", 80), timeout=2))
''' + RIGHT_FORWARD))
    nbs["orphan"] = _fill(release, _answers(forward=f'''
import ctypes, fcntl, os, signal, time
notebook = os.getpid()
if os.fork() == 0:
    os.setsid()
    ctypes.CDLL(None).prctl(15, b"{mark}", 0, 0, 0)  # PR_SET_NAME: findable in /proc
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while True:
        # flock the grader's lock and files in /tmp, kill everything it sees, re-fork
        for path in ({str(out / ".lock" / "grade.lock")!r}, "/tmp/{mark}.lock"):
            try:
                fh = open(path, "a")
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except Exception:
                pass
        for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
            if pid not in (os.getpid(), notebook):
                try:
                    os.kill(pid, signal.SIGKILL)
                except Exception:
                    pass
        try:
            if os.fork() != 0:
                os._exit(0)
        except OSError:
            pass
        time.sleep(0.05)
time.sleep(0.5)
''' + RIGHT_FORWARD))
    nbs["fork-flood"] = _fill(release, _answers(forward=f'''
import ctypes, os, time
children = 0
for _ in range(300):
    try:
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, b"{MARKER}", 0, 0, 0)
            time.sleep(3600)
            os._exit(0)
        children += 1
    except OSError:
        break
print("forked", children > 0)
''' + RIGHT_FORWARD))
    nbs["disk-filler"] = _fill(release, _answers(backward=f'''
import os
chunk = b"x" * 2**20
for i in range(20):
    try:
        with open("/tmp/{mark}-%d" % i, "wb") as fh:
            for _ in range(200):
                fh.write(chunk)
    except OSError:
        break
for i in range(40):
    with open("{mark}-%d" % i, "wb") as fh:
        for _ in range(200):
            fh.write(chunk)
''' + RIGHT_BACKWARD))
    nbs["huge-reply"] = _fill(release, _answers(forward='''
def linear_forward(x, W, b):
    return np.zeros((4000, 4000))
''', backward=STUB_BACKWARD))
    nbs['=HYPERLINK("x")'] = _fill(release, _answers())
