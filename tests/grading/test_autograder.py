"""The Gradescope bundle (autograder/): run_autograder on a submission laid out as Gradescope
lays it out (/autograder/submission/..., /autograder/source/...), in a temporary folder.

The fast tests replace `backprop-course grade` by a stub (recording how it was called) so they
test the bundle's plumbing; the slow test grades a correct notebook with the real grader.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import generated_class as g
import pytest
from support import ROOT

RUN = ROOT / "autograder" / "run_autograder"
ASSIGNMENT = "03-linear-layer"

STUB = r'''
import json, os, subprocess, sys
from pathlib import Path
args = sys.argv[1:]
if args[0] == "export":
    sys.exit(subprocess.call([sys.executable, "-m", "course.cli", *args]))
log = Path(os.environ["STUB_LOG"])
log.write_text(json.dumps({"argv": args, "cwd": os.getcwd()}))
if os.environ.get("STUB_FAIL"):
    print("grader exploded", file=sys.stderr)
    sys.exit(3)
_, assignment, klass, flag, out = args
assert flag == "--out"
students = sorted(p.name for p in Path(klass).iterdir())
assert students == ["submission"], students
nb = json.loads((Path(klass) / "submission" / f"{assignment}.ipynb").read_text())
entry = json.loads(os.environ["STUB_ENTRY"])
entry["row"]["student_id"] = "submission"
(Path(out) / "results").mkdir(parents=True)
(Path(out) / "results" / "submission.json").write_text(json.dumps({**entry, "notebook": nb}))
(Path(out) / "grades.csv").write_text("student_id,score\nsubmission,4\n")
print("gradebook:", Path(out) / "grades.csv")
'''


def gradescope_layout(base: Path, notebook: dict | None, name: str = f"{ASSIGNMENT}.ipynb",
                      nested: bool = True) -> Path:
    root = base / "autograder"
    sub = root / "submission" / ("my-upload" if nested else "")
    sub.mkdir(parents=True)
    if notebook is not None:
        (sub / name).write_text(json.dumps(notebook))
    (sub / "notes.txt").write_text("extra file")
    (root / "submission_metadata.json").write_text(json.dumps(
        {"id": 1, "users": [{"email": "bob@example.edu", "name": "Bob"}]}))
    (root / "source").mkdir()
    (root / "source" / "ASSIGNMENT").write_text(f"{ASSIGNMENT}\n")
    return root


def run_autograder(root: Path, tmp: Path, *, stub: bool = True, fail: bool = False,
                   timeout: float = 120) -> tuple[dict, subprocess.CompletedProcess]:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "COURSE_DIR": str(ROOT),
           "PYTHON": sys.executable}
    if stub:
        (tmp / "stub.py").write_text(STUB)
        env.update(BACKPROP_COURSE=f"{sys.executable} {tmp / 'stub.py'}",
                   STUB_LOG=str(tmp / "stub.log"),
                   STUB_ENTRY=json.dumps({"row": g.row_for("bob"),
                                          "results": g.results_for("bob")}))
        if fail:
            env["STUB_FAIL"] = "1"
    else:
        env["BACKPROP_COURSE"] = f"{sys.executable} -m course.cli"
    proc = subprocess.run(["bash", str(RUN)], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    return results, proc


def test_grades_one_submission_as_gradescope_lays_it_out(tmp_path: Path) -> None:
    root = gradescope_layout(tmp_path, g.notebook_for("bob"))
    results, _ = run_autograder(root, tmp_path)
    call = json.loads((tmp_path / "stub.log").read_text())
    assert call["argv"][:2] == ["grade", ASSIGNMENT] and call["argv"][3] == "--out"
    assert len(call["argv"]) == 5
    assert Path(call["cwd"]) == ROOT
    assert results["score"] == 4.0
    assert [t["max_score"] for t in results["tests"]] == [i[4] for i in g.ITEMS]
    assert all({"name", "score", "max_score", "output"} <= set(t) for t in results["tests"])
    assert "it looks transposed" in results["tests"][1]["output"]
    # nothing of the work folder is left behind in the submission
    assert sorted(p.name for p in (root / "submission").rglob("*")) == \
        sorted(["my-upload", f"{ASSIGNMENT}.ipynb", "notes.txt"])


def test_a_single_notebook_with_another_name_is_graded(tmp_path: Path) -> None:
    root = gradescope_layout(tmp_path, g.notebook_for("alice"), name="Copy of lab 3.ipynb",
                             nested=False)
    results, _ = run_autograder(root, tmp_path)
    assert len(results["tests"]) == len(g.ITEMS)


def test_no_notebook_gives_a_clear_zero(tmp_path: Path) -> None:
    root = gradescope_layout(tmp_path, None)
    results, _ = run_autograder(root, tmp_path)
    assert results["score"] == 0 and results["tests"] == []
    assert f"{ASSIGNMENT}.ipynb" in results["output"]
    assert not (tmp_path / "stub.log").exists()


def test_a_failing_grader_still_writes_results(tmp_path: Path) -> None:
    root = gradescope_layout(tmp_path, g.notebook_for("bob"))
    results, proc = run_autograder(root, tmp_path, fail=True)
    assert results["score"] == 0 and "could not grade" in results["output"]
    assert "exit status 3" in results["output"]
    assert "grader exploded" in proc.stderr + proc.stdout  # in the log, for the instructor


def test_make_bundle(tmp_path: Path) -> None:
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                      capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    out = tmp_path / "bundle.zip"
    subprocess.run(["bash", str(ROOT / "autograder" / "make_bundle.sh"), ASSIGNMENT, str(out)],
                   check=True, capture_output=True, timeout=300)
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "ASSIGNMENT", "course/pyproject.toml",
                f"course/solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"} <= names
        assert z.read("ASSIGNMENT").decode().strip() == ASSIGNMENT
        for script in ("setup.sh", "run_autograder"):
            assert (z.getinfo(script).external_attr >> 16) & 0o111, script


def _perfect_submission() -> dict:
    """The released notebook with every answer cell taken from the solution."""
    release = json.loads((ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    solution = json.loads((ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in solution["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    for cell in release["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            src = "".join(answers[gid]) if isinstance(answers[gid], list) else answers[gid]
            cell["source"] = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", "", src,
                                    flags=re.M)
    return release


@pytest.mark.slow
def test_real_grader_gives_full_marks(tmp_path: Path) -> None:
    root = gradescope_layout(tmp_path, _perfect_submission())
    results, proc = run_autograder(root, tmp_path, stub=False, timeout=900)
    assert results["tests"], proc.stdout + proc.stderr
    total = sum(t["max_score"] for t in results["tests"] if "status" in t)
    assert results["score"] == pytest.approx(total), results
    assert all(t.get("status", "passed") == "passed" for t in results["tests"]), results
