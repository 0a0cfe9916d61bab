"""End-to-end tests of ``backprop-course grade`` on a hostile class of 03-linear-layer.

The class (tests/grading_fixtures/hostile.py) is built from the real released notebook and
graded once per module with the real command line, two jobs and short limits; each test then
checks one promise of the grader: exact rows, feedback without hidden tests, safety against a
vandal, caching and resuming, zip input.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent / "grading_fixtures"))

import hostile  # noqa: E402

pytestmark = pytest.mark.slow

TIMEOUT = "8"
MEMORY = "1024"
PROBE = ROOT / "course" / "grading" / "_vandal_probe.txt"


def grade(subs: Path, out: Path, *extra: str, timeout: str = TIMEOUT, env=None):
    cmd = [sys.executable, "-m", "course.cli", "grade", hostile.ASSIGNMENT, str(subs),
           "--out", str(out), "--jobs", "2", "--timeout", timeout, "--memory", MEMORY, *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


def children(pid: int) -> list[int]:
    """Pids of the direct children of ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def read_rows(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    subs, out = base / "submissions", base / "out"
    if PROBE.exists():
        PROBE.unlink()
    hostile.build_class(subs, ROOT, out, PROBE)
    before = {p.relative_to(subs): p.read_bytes() for p in subs.rglob("*") if p.is_file()}
    start = time.monotonic()
    proc = grade(subs, out)
    elapsed = time.monotonic() - start
    return {"subs": subs, "out": out, "proc": proc, "before": before, "elapsed": elapsed}


def test_exit_status_summary_and_progress(graded):
    proc = graded["proc"]
    assert proc.returncode == 0, proc.stderr
    # the summary table names every student; the progress lines count up to the class size
    for student in hostile.EXPECTED:
        assert student in proc.stdout
    n = len(hostile.EXPECTED)
    assert f"[{n}/{n}]" in proc.stderr
    assert "integrity: 3" in proc.stdout and "timeout: 2" in proc.stdout
    assert "crashed: 2" in proc.stdout


def test_every_row_is_exact(graded):
    rows = read_rows(graded["out"])
    assert set(rows) == set(hostile.EXPECTED)
    with open(graded["out"] / "grades.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["student_id", "assignment", "score", "max_score", "status", "detail",
                      *hostile.TESTS]
    for student, want in hostile.EXPECTED.items():
        row = rows[student]
        got = {"status": row["status"], "score": float(row["score"]),
               **{t: float(row[t]) for t in hostile.TESTS}}
        assert got == want, f"{student}: {row}"
        assert row["assignment"] == hostile.ASSIGNMENT
        assert float(row["max_score"]) == 8.0
        assert "\n" not in row["detail"]


def assert_rows_exact(out: Path) -> None:
    rows = read_rows(out)
    assert set(rows) == set(hostile.EXPECTED)
    for student, want in hostile.EXPECTED.items():
        row = rows[student]
        got = {"status": row["status"], "score": float(row["score"]),
               **{t: float(row[t]) for t in hostile.TESTS}}
        assert got == want, f"{student}: {row}"


@pytest.mark.skipif(os.geteuid() != 0, reason="without root the module fixture already "
                    "grades in this mode (user namespace); nothing to add")
def test_without_root_mode_same_rows_and_vandal_harmless(tmp_path):
    """Root simulates the non-root path (the grader's own uid, user namespace sandbox)."""
    subs, out = tmp_path / "submissions", tmp_path / "out"
    hostile.build_class(subs, ROOT, out, PROBE)
    before = {p.relative_to(subs): p.read_bytes() for p in subs.rglob("*") if p.is_file()}
    proc = grade(subs, out, env={**os.environ, "BACKPROP_GRADE_SAME_USER": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "no sandbox for learner code" not in proc.stderr
    assert_rows_exact(out)
    after = {p.relative_to(subs): p.read_bytes() for p in subs.rglob("*") if p.is_file()}
    assert after == before
    assert not PROBE.exists()
    page = (out / "feedback" / "vandal" / f"{hostile.ASSIGNMENT}.html").read_text()
    assert page.count("could not delete") >= 2


def test_details_say_what_happened(graded):
    rows = read_rows(graded["out"])
    detail = {s: r["detail"] for s, r in rows.items()}
    assert detail["correct"] == ""
    assert "test cell test_linear_backward" in detail["infinite-loop"]
    assert "test cell test_linear_forward" in detail["ignores-sigint"]
    assert "exit code 3" in detail["os-exit"]
    assert "MemoryError" in detail["memory-hog"]
    assert "not valid JSON" in detail["invalid-json"]
    assert "no notebook" in detail["empty-folder"]
    assert detail["deleted-tests"] == "test cell test_linear_backward was deleted"
    assert detail["edited-tests"] == "test cell test_linear_forward was edited"
    assert "numpy.allclose" in detail["patched-numpy"]
    assert "course.checks.check_linear_forward" in detail["patched-checks"]
    assert "reference" in detail["reference-import"]
    assert "course.linear_backward" in detail["reference-import"]
    assert "db" in detail["partial"] and "hidden tests" in detail["partial"]
    assert "exit code 0" in detail["forger"] and "answer cell linear_forward" in detail["forger"]


def test_feedback_shows_checks_but_never_hidden_tests(graded):
    out = graded["out"]
    source = json.loads((ROOT / "solutions" / hostile.ASSIGNMENT / hostile.NOTEBOOK).read_text())
    secret = hostile.unleak_markers(source)
    assert secret, "the fixture notebook should have hidden tests"
    for student in hostile.EXPECTED:
        page = (out / "feedback" / student / f"{hostile.ASSIGNMENT}.html").read_text()
        assert "BEGIN HIDDEN TESTS" not in page, student
        for line in secret:
            assert line not in page, (student, line)
        assert "Score:" in page
    correct = (out / "feedback" / "correct" / f"{hostile.ASSIGNMENT}.html").read_text()
    assert "linear_forward" in correct and "8 / 8" in correct
    partial = (out / "feedback" / "partial" / f"{hostile.ASSIGNMENT}.html").read_text()
    # the learner-facing check message names the wrong output ...
    assert "db has the right shape" in partial
    # ... while a failure inside the hidden tests is reported without its details
    assert "hidden tests for this exercise failed" in partial
    flood = (out / "feedback" / "output-flood" / f"{hostile.ASSIGNMENT}.html")
    assert flood.stat().st_size < 300_000
    assert "more characters of output not shown" in flood.read_text()


def test_vandal_changed_nothing(graded):
    subs, before = graded["subs"], graded["before"]
    after = {p.relative_to(subs): p.read_bytes() for p in subs.rglob("*") if p.is_file()}
    assert after == before
    assert not PROBE.exists()
    if os.geteuid() == 0:
        page = (graded["out"] / "feedback" / "vandal" / f"{hostile.ASSIGNMENT}.html").read_text()
        assert page.count("PermissionError") >= 3


def test_rerun_grades_only_changed_submissions(graded, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(graded["subs"], subs)
    shutil.copytree(graded["out"], out)
    # the cache is keyed by content, not by path: a copied class is still up to date
    proc = grade(subs, out)
    assert proc.returncode == 0, proc.stderr
    # (fails spuriously only if course/*.py changed between the two runs: the cache key
    # includes the grader and checks source, on purpose)
    assert proc.stderr.count("(unchanged)") == len(hostile.EXPECTED), proc.stderr
    first = (graded["out"] / "grades.csv").read_text()
    assert (out / "grades.csv").read_text() == first
    # the stub learner finishes the notebook: only that submission is graded again
    shutil.copy(subs / "correct" / hostile.NOTEBOOK, subs / "stub" / hostile.NOTEBOOK)
    proc = grade(subs, out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("(unchanged)") == len(hostile.EXPECTED) - 1, proc.stderr
    row = read_rows(out)["stub"]
    assert (row["status"], row["score"]) == ("graded", "8")


def test_zip_of_a_class(graded, tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for student in ("correct", "partial", "invalid-json", "empty-folder"):
            folder = graded["subs"] / student
            zf.writestr(f"downloads/{student}/", "")
            for path in folder.iterdir():
                zf.write(path, f"downloads/{student}/{path.name}")
        zf.writestr("../escape/evil.ipynb", "{}")
    proc = grade(archive, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(tmp_path / "out")
    assert set(rows) == {"correct", "partial", "invalid-json", "empty-folder"}
    for student, row in rows.items():
        assert row["status"] == hostile.EXPECTED[student]["status"]
        assert float(row["score"]) == hostile.EXPECTED[student]["score"]
    assert not (tmp_path / "escape").exists()


def test_interrupt_leaves_a_consistent_gradebook(graded, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for student in ("correct", "partial", "stub"):
        shutil.copytree(graded["subs"] / student, subs / student)
    for i in range(2):
        shutil.copytree(graded["subs"] / "infinite-loop", subs / f"zz-loop-{i}")
    cmd = [sys.executable, "-m", "course.cli", "grade", hostile.ASSIGNMENT, str(subs),
           "--out", str(out), "--jobs", "1", "--timeout", "120", "--memory", MEMORY]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    cache = out / ".cache" / hostile.ASSIGNMENT
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(cache.glob("[!_]*.json"))) < 3:
        time.sleep(0.2)
    time.sleep(1.0)  # now inside the first looping submission
    workers = children(proc.pid)
    assert workers, "a grading worker should be running"
    proc.send_signal(signal.SIGINT)
    # a hang guard only: how fast grading stops is measured in benchmarks/grading_bench.py
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    rows = read_rows(out)
    assert set(rows) == {"correct", "partial", "stub"}
    assert rows["correct"]["score"] == "8" and rows["partial"]["score"] == "3"
    # no grading process survives the interrupt
    assert not [pid for pid in workers if alive(pid)]
    # resuming grades only what is left
    for i in range(2):
        shutil.copy(subs / "correct" / hostile.NOTEBOOK, subs / f"zz-loop-{i}" / hostile.NOTEBOOK)
    proc2 = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc2.returncode == 0, proc2.stderr
    assert proc2.stderr.count("(unchanged)") == 3, proc2.stderr
    assert len(read_rows(out)) == 5


def test_missing_assignment_is_an_error(tmp_path):
    (tmp_path / "subs").mkdir()
    cmd = [sys.executable, "-m", "course.cli", "grade", "99-nothing", str(tmp_path / "subs"),
           "--out", str(tmp_path / "out")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "no assignment '99-nothing'" in proc.stderr


def _assignments() -> list[str]:
    return sorted(
        p.name for p in (ROOT / "notebooks").iterdir()
        if (p / f"{p.name}.ipynb").is_file()
        and (ROOT / "solutions" / p.name / f"{p.name}.ipynb").is_file()
    )


@pytest.mark.parametrize("assignment", _assignments())
def test_every_assignment_solution_full_marks_untouched_zero(assignment, tmp_path):
    """Agrees with nbgrader's points on every notebook: the solution's answers earn every
    test cell's points with no warning (the sandbox breaks no plot, import or data file),
    the untouched learner notebook earns none."""
    from course.grading.assignment import load_assignment

    subs = tmp_path / "subs"
    (subs / "solution").mkdir(parents=True)
    (subs / "untouched").mkdir()
    nb = f"{assignment}.ipynb"
    (subs / "solution" / nb).write_text(hostile.solution_submission(ROOT, assignment))
    shutil.copy(ROOT / "notebooks" / assignment / nb, subs / "untouched" / nb)
    cmd = [sys.executable, "-m", "course.cli", "grade", assignment, str(subs),
           "--out", str(tmp_path / "out"), "--jobs", "2", "--timeout", "120",
           "--skip-self-check"]  # the "solution" student is the self-check
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(tmp_path / "out")
    spec = load_assignment(assignment, ROOT / "solutions", ROOT / "notebooks")
    assert spec.max_score > 0
    good, blank = rows["solution"], rows["untouched"]
    assert (good["status"], good["detail"]) == ("graded", ""), good
    assert float(good["score"]) == float(good["max_score"]) == spec.max_score
    for gid, points in spec.tests:
        assert float(good[gid]) == points
        assert float(blank[gid]) == 0
    assert blank["status"] == "graded" and float(blank["score"]) == 0


def test_broken_solution_stops_before_grading(tmp_path):
    """If the solution itself does not earn full marks in the sandbox (a broken check, a
    missing package), nothing is graded: exit 2 and say why, instead of a class of zeros."""
    src = json.loads((ROOT / "solutions" / hostile.ASSIGNMENT / hostile.NOTEBOOK).read_text())
    for cell in src["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "mc_db_sum":
            cell["source"] = 'MC_DB_SUM = "d"\n'
    (tmp_path / "solutions" / hostile.ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "solutions" / hostile.ASSIGNMENT / hostile.NOTEBOOK).write_text(json.dumps(src))
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / hostile.ASSIGNMENT / hostile.NOTEBOOK, subs / "alice")
    proc = grade(subs, tmp_path / "out", "--source-dir", str(tmp_path / "solutions"),
                 "--release-dir", str(ROOT / "notebooks"))
    assert proc.returncode == 2
    assert "the solution of 03-linear-layer scores 7/8" in proc.stderr
    assert "test_mc_db_sum" in proc.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
