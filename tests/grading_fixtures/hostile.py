"""A class of broken and hostile submissions of 03-linear-layer, built from the real notebooks.

Every submission starts from the released learner notebook (``notebooks/03-linear-layer``), the
way a learner receives it, and fills in its answer cells (``linear_forward``,
``linear_backward``, ``mc_dw_shape``, ``mc_db_sum``) or damages it.  The ``forger`` writes fake
"all passed" result lines to every file descriptor and exits.  ``EXPECTED`` says what the
grader must write for each student: status and the points of every exercise
(test_linear_forward 2, test_linear_backward 4, test_mc_dw_shape 1, test_mc_db_sum 1).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

ASSIGNMENT = "03-linear-layer"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
TESTS = ("test_linear_forward", "test_linear_backward", "test_mc_dw_shape", "test_mc_db_sum")

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

RIGHT_MC = {"mc_dw_shape": 'MC_DW_SHAPE = "c"\n', "mc_db_sum": 'MC_DB_SUM = "a"\n'}


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


def expected(status: str, points: tuple[float, float, float, float]) -> dict:
    return {"status": status, **dict(zip(TESTS, points, strict=True)),
            "score": float(sum(points))}


EXPECTED: dict[str, dict] = {
    "correct": expected("graded", (2, 4, 1, 1)),
    "correct-solution": expected("graded", (2, 4, 1, 1)),
    "partial": expected("graded", (2, 0, 1, 0)),
    "stub": expected("graded", (0, 0, 0, 0)),
    "infinite-loop": expected("timeout", (2, 0, 0, 0)),
    "ignores-sigint": expected("timeout", (0, 0, 0, 0)),
    "os-exit": expected("crashed", (2, 0, 0, 0)),
    "memory-hog": expected("memory-limit", (2, 0, 1, 1)),
    "output-flood": expected("graded", (2, 4, 1, 1)),
    "invalid-json": expected("malformed", (0, 0, 0, 0)),
    "empty-folder": expected("missing", (0, 0, 0, 0)),
    "deleted-tests": expected("tampered", (2, 0, 1, 1)),
    "edited-tests": expected("tampered", (0, 4, 1, 1)),
    "patched-numpy": expected("integrity", (0, 0, 0, 0)),
    "patched-checks": expected("integrity", (0, 0, 0, 0)),
    "reference-import": expected("integrity", (0, 0, 1, 1)),
    "vandal": expected("graded", (2, 4, 1, 1)),
    "forger": expected("crashed", (0, 0, 0, 0)),
}


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
