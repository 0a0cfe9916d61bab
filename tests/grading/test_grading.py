"""End-to-end tests of ``backprop-course grade`` on a hostile class of 03-linear-layer.

The class (tests/grading/hostile.py) is built from the real released notebook: honest
learners, broken notebooks, and the attacks of issue 11 written as a learner who has read the
grader would write them (routes to the reference, patches of the perturbation, forged lines on
the channel, objects that equal anything, reading secrets, escaping the jail, orphans, fork and
disk floods, huge replies, a formula as a student id). It is graded once per module with the real
command line, two jobs and short limits; each test then checks one promise: exact rows, no
point for what was not solved, classmates untouched, nothing outside a submission's working copy
touched, no process left behind, feedback without hidden tests. The same class is also graded
by an ordinary user (``nobody`` when the tests run as root) from a venv of Debian's Python.
"""

from __future__ import annotations

import collections
import csv
import html
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import hostile
import pytest
from support import ROOT, copy_repo

from course.grading.gradebook import feedback_path

pytestmark = pytest.mark.slow

TIMEOUT = "15"
MEMORY = "1024"
PROBE = ROOT / "course" / "grading" / "_vandal_probe.txt"
MARK = hostile.MARKER
MAX = hostile.EXPECTED["correct"]["score"]  # every point of the assignment
NOBODY = 65534


def grade(subs: Path, out: Path, *extra: str, timeout: str = TIMEOUT, env=None,
          python: str = sys.executable, cwd: Path = ROOT, user: int | None = None):
    cmd = [python, "-m", "course.cli", "grade", hostile.ASSIGNMENT, str(subs),
           "--out", str(out), "--jobs", "2", "--timeout", timeout, "--memory", MEMORY, *extra]
    as_user = {} if user is None else {"user": user, "group": user, "extra_groups": []}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900, env=env,
                          **as_user)


def descendants(pid: int) -> list[int]:
    """Pids of every process below ``pid`` (Linux /proc)."""
    parent_of: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent_of[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, par in parent_of.items() if par == p]
        found += kids
        frontier += kids
    return found


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def marked_processes() -> list[int]:
    """Processes the attacks named MARK (the orphan, the fork flood), still alive."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == MARK and alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def survivors(wait: float = 5.0) -> list[int]:
    """Marked processes still alive after up to ``wait`` seconds (the kernel ends a PID
    namespace's processes right after its first process; this only allows for a busy machine)."""
    deadline = time.monotonic() + wait
    while True:
        found = marked_processes()
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def planted(subs: Path, out: Path) -> list[str]:
    """Files an attack tried to create outside its own working copy, if any exist."""
    places = [ROOT, ROOT / "course", ROOT / "course" / "grading", out, Path("/tmp"), Path("/usr"),
              *[Path(p) for p in sys.path if p.endswith("-packages") and os.path.isdir(p)],
              *[p for p in subs.iterdir() if p.is_dir()]]
    found = [str(p) for place in places if place.is_dir() for p in place.glob(f"{MARK}*")]
    return found + ([str(PROBE)] if PROBE.exists() else [])


def snapshot(subs: Path) -> dict:
    return {p.relative_to(subs): p.read_bytes() for p in subs.rglob("*") if p.is_file()}


def student_id(cell: str) -> str:
    """A student id as written in grades.csv (a formula-like id carries a leading quote)."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@") else cell


def read_rows(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as fh:
        return {student_id(row["student_id"]): row for row in csv.DictReader(fh)}


def page(out: Path, student: str) -> str:
    return html.unescape(feedback_path(out, student, hostile.ASSIGNMENT).read_text())


def assert_rows_exact(out: Path, students=None) -> None:
    rows = read_rows(out)
    students = list(hostile.EXPECTED) if students is None else list(students)
    assert set(rows) == set(students)
    for student in students:
        want, row = hostile.EXPECTED[student], rows[student]
        got = {"status": row["status"], "score": float(row["score"]),
               **{t: float(row[t]) for t in hostile.TESTS}}
        assert got == want, f"{student}: {row}"
        assert row["assignment"] == hostile.ASSIGNMENT
        assert float(row["max_score"]) == MAX
        assert "\n" not in row["detail"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    subs, out = base / "submissions", base / "out"
    if PROBE.exists():
        PROBE.unlink()
    assert not marked_processes(), "processes of an earlier hostile run are still alive"
    hostile.build_class(subs, ROOT, out, PROBE)
    before = snapshot(subs)
    start = time.monotonic()
    proc = grade(subs, out)
    elapsed = time.monotonic() - start
    return {"subs": subs, "out": out, "proc": proc, "before": before, "elapsed": elapsed,
            "survivors": survivors(), "planted": planted(subs, out)}


def test_exit_status_summary_and_progress(graded):
    proc = graded["proc"]
    assert proc.returncode == 0, proc.stderr
    # the summary table names every student; the progress lines count up to the class size
    for student in hostile.EXPECTED:
        assert student[:37] in proc.stdout
    n = len(hostile.EXPECTED)
    assert f"[{n}/{n}]" in proc.stderr
    counts = collections.Counter(want["status"] for want in hostile.EXPECTED.values())
    for status, count in counts.items():
        assert f"{status}: {count}" in proc.stdout


def test_every_row_is_exact(graded):
    with open(graded["out"] / "grades.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header[:6 + len(hostile.TESTS)] == ["student_id", "assignment", "score", "max_score",
                                               "status", "detail", *hostile.TESTS]
    assert_rows_exact(graded["out"])


def test_a_formula_id_is_text_in_the_gradebook(graded):
    text = (graded["out"] / "grades.csv").read_text()
    assert "'=HYPERLINK(" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_details_say_what_happened(graded):
    detail = {s: r["detail"] for s, r in read_rows(graded["out"]).items()}
    assert detail["correct"] == ""
    assert f"no result within {TIMEOUT} s" in detail["infinite-loop"]
    assert f"no result within {TIMEOUT} s" in detail["ignores-sigint"]
    assert "exit code 3" in detail["os-exit"]
    assert "MemoryError" in detail["memory-hog"]
    assert "not valid JSON" in detail["invalid-json"]
    assert "no notebook" in detail["empty-folder"]
    assert detail["deleted-tests"] == "test cell test_linear_backward was deleted"
    assert detail["edited-tests"] == "test cell test_linear_forward was edited"
    assert "db" in detail["partial"]
    assert "exit code 0" in detail["forger"]
    assert "disk limit" in detail["disk-filler"]
    for student, want in hostile.EXPECTED.items():
        if want["status"] == "integrity":
            assert "perturbed reference values" in detail[student], student
        if want["status"] == "crashed":
            assert "the notebook process ended" in detail[student], student


def test_feedback_never_shows_hidden_tests(graded):
    out = graded["out"]
    source = json.loads((ROOT / "solutions" / hostile.ASSIGNMENT / hostile.NOTEBOOK).read_text())
    secret = hostile.unleak_markers(source)
    for student in hostile.EXPECTED:
        text = page(out, student)
        assert "BEGIN HIDDEN TESTS" not in text, student
        for line in secret:
            assert line not in text, (student, line)
        assert "Score:" in text
    assert f"{MAX:g} / {MAX:g}" in page(out, "correct")
    assert "db has the right shape" in page(out, "partial")
    flood = feedback_path(out, "output-flood", hostile.ASSIGNMENT)
    assert flood.stat().st_size < 300_000
    assert "more characters of output not shown" in flood.read_text()


def test_nothing_outside_the_working_copy_is_touched(graded):
    assert snapshot(graded["subs"]) == graded["before"]
    assert graded["planted"] == []
    vandal = page(graded["out"], "vandal")
    assert vandal.count("could not delete") >= 2
    assert "could not write the repository" in vandal


def test_escapes_and_secrets_fail(graded):
    out, subs = graded["out"], graded["subs"]
    escaper = page(out, "escaper")
    assert "ESCAPED " not in escaper
    assert escaper.count("ESCAPE-FAILED") >= 12
    secrets = page(out, "reads-secrets")
    for path in (ROOT / "solutions", subs, out, ROOT / "course" / "layers.py", "/proc/1/environ"):
        assert f"READ {path}" not in secrets
    assert secrets.count("NOPE ") >= 8
    # the jail sees its own two processes only (bubblewrap's init and the notebook)
    assert "PIDS [1, 2]" in secrets
    # forged outputs on the channel reach the page as text, never as markup
    forged = feedback_path(out, "fake-replies", hostile.ASSIGNMENT).read_text()
    assert "alert(1)" in forged
    assert "<script>alert" not in forged and "><script>" not in forged


def test_no_process_survives(graded):
    assert graded["survivors"] == []


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
    assert (row["status"], row["score"]) == ("graded", f"{MAX:g}")


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
    """Ctrl-C while a jail runs: the rows finished so far are written, the jail (bubblewrap and
    the notebook's Python below it) is gone, and a second run grades only what is left."""
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
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(list(cache.glob("[!_]*.json"))) < 3:
        time.sleep(0.2)
    jail: list[int] = []
    while time.monotonic() < deadline and len(jail) < 2:  # bwrap, and python inside it
        time.sleep(0.2)
        jail = descendants(proc.pid)
    assert len(jail) >= 2, "a jail (bwrap and the notebook below it) should be running"
    time.sleep(1.0)  # now inside the first looping submission
    jail = descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    stdout, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - start < 20
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    rows = read_rows(out)
    assert set(rows) == {"correct", "partial", "stub"}
    assert rows["correct"]["score"] == f"{MAX:g}"
    assert float(rows["partial"]["score"]) == hostile.EXPECTED["partial"]["score"]
    # no grading process survives the interrupt
    time.sleep(0.5)
    assert not [pid for pid in jail if alive(pid)]
    # resuming grades only what is left
    for i in range(2):
        shutil.copy(subs / "correct" / hostile.NOTEBOOK, subs / f"zz-loop-{i}" / hostile.NOTEBOOK)
    proc2 = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
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
    test cell's points with no warning (the jail breaks no plot, import or data file),
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
    """If the solution itself does not earn full marks in the jail (a broken check, a
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
    assert f"the solution of 03-linear-layer scores {MAX - 1:g}/{MAX:g}" in proc.stderr
    assert "test_mc_db_sum" in proc.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()


# --- the same attacks, graded by an ordinary user ----------------------------------------------
DEBIAN_PYTHON = "/usr/bin/python3"


def _python_for(user: int | None) -> bool:
    as_user = {} if user is None else {"user": user, "group": user, "extra_groups": []}
    try:
        check = subprocess.run(
            [DEBIAN_PYTHON, "-c",
             "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"],
            capture_output=True, cwd="/", timeout=60, **as_user)
    except OSError:
        return False
    return check.returncode == 0


@pytest.fixture(scope="module")
def graded_by_ordinary_user():
    """The subset NOBODY_SUBSET, graded by `nobody` (or by the current user when it is not
    root) with `backprop-course grade` from a venv of Debian's Python that holds a copy of the
    repository, installed (not editable): the jail then runs without root, in a user namespace,
    and the grader's own course package sits in site-packages."""

    user = NOBODY if os.geteuid() == 0 else None
    if not _python_for(user):
        pytest.skip(f"{DEBIAN_PYTHON} (>= 3.11, with venv) is not usable by the user here")
    root = Path(tempfile.mkdtemp(prefix="backprop-grade-user-"))
    try:
        os.chmod(root, 0o755)
        repo, venv, work = root / "repo", root / "venv", root / "work"
        copy_repo(repo)
        subprocess.run([DEBIAN_PYTHON, "-m", "venv", str(venv)], check=True, timeout=300)
        pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                              f"{repo}[instructor]"], capture_output=True, text=True,
                             timeout=1200)
        assert pip.returncode == 0, pip.stderr[-3000:]
        work.mkdir()
        subs, out = work / "subs", work / "out"
        probe = repo / "course" / "grading" / "_vandal_probe.txt"
        hostile.build_class(subs, repo, out, probe)
        for folder in subs.iterdir():
            if folder.name not in hostile.NOBODY_SUBSET:
                shutil.rmtree(folder)
        if user is not None:
            for path in [work, *work.rglob("*")]:
                os.chown(path, user, user, follow_symlinks=False)
        before = snapshot(subs)
        env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8"}
        cmd = [str(venv / "bin" / "backprop-course"), "grade", hostile.ASSIGNMENT, str(subs),
               "--out", str(out), "--jobs", "2", "--timeout", TIMEOUT, "--memory", MEMORY]
        as_user = {} if user is None else {"user": user, "group": user, "extra_groups": []}
        proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True,
                              timeout=900, **as_user)
        site = sorted(venv.glob("lib/python3*/site-packages"))
        planted_files = [str(p) for d in [*site, repo, repo / "course", out, Path("/tmp"),
                                          *[p for p in subs.iterdir() if p.is_dir()]]
                         for p in d.glob(f"{MARK}*")] + ([str(probe)] if probe.exists() else [])
        yield {"proc": proc, "subs": subs, "out": out, "before": before,
               "survivors": survivors(), "planted": planted_files, "user": user}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_ordinary_user_same_rows_and_nothing_touched(graded_by_ordinary_user):
    run = graded_by_ordinary_user
    assert run["proc"].returncode == 0, run["proc"].stderr
    assert "without root" not in run["proc"].stderr
    assert_rows_exact(run["out"], hostile.NOBODY_SUBSET)
    assert snapshot(run["subs"]) == run["before"]
    assert run["planted"] == []
    assert run["survivors"] == []
    out = run["out"]
    assert "ESCAPED " not in page(out, "escaper")
    assert page(out, "escaper").count("ESCAPE-FAILED") >= 12
    # the grader's own course package (exact references) is hidden in the jail
    assert "FOUND-COPY []" in page(out, "installed-copy")
    assert "PIDS [1, 2]" in page(out, "reads-secrets")
