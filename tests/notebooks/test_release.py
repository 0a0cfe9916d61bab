"""`backprop-course release`: regenerates notebooks/ from solutions/ reproducibly, and
`--check` names what is stale."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import _nbtools, release
from course.cli import main

ROOT = _nbtools.REPO_ROOT
ASSIGNMENTS = _nbtools.assignments(ROOT)


def run_cli(*args: str) -> int:
    """`backprop-course release ARGS`, parsed by the release module's own arguments."""
    parser = argparse.ArgumentParser(prog="backprop-course release")
    release.add_arguments(parser)
    return release.run(parser.parse_args(list(args)))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A scratch course repository with one small assignment (03) and a stale release."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    name = "03-linear-layer"
    shutil.copytree(ROOT / "solutions" / name, root / "solutions" / name)
    (root / "notebooks").mkdir()
    return root


def test_help_is_fast_and_lists_check(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["release", "--help"])
    assert exc.value.code == 0
    assert "--check" in capsys.readouterr().out


@pytest.mark.slow
def test_committed_learner_notebooks_are_up_to_date(capsys):
    """The repository's notebooks/ is exactly what a release of solutions/ produces."""
    code = run_cli("--root", str(ROOT), "--check")
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{len(ASSIGNMENTS)} learner notebooks are up to date" in out


@pytest.mark.slow
def test_release_check_cycle(repo, capsys):
    name = "03-linear-layer"
    target = repo / "notebooks" / name / f"{name}.ipynb"
    source = repo / "solutions" / name / f"{name}.ipynb"

    # Nothing released yet: --check fails and names the missing notebook, writes nothing.
    assert run_cli("--root", str(repo), "--check") == 1
    out = capsys.readouterr().out
    assert f"notebooks/{name}/{name}.ipynb: missing" in out
    assert not target.exists()

    # Release writes it; a second check passes; releasing again changes nothing.
    assert run_cli("--root", str(repo)) == 0
    first = target.read_bytes()
    capsys.readouterr()
    assert run_cli("--root", str(repo), "--check") == 0
    assert "up to date" in capsys.readouterr().out
    assert run_cli("--root", str(repo), name) == 0
    assert "0 files changed" in capsys.readouterr().out
    assert target.read_bytes() == first

    # The learner notebook is the stock nbgrader output: no outputs, stubs instead of code.
    nb = json.loads(first)
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    text = first.decode()
    assert "raise NotImplementedError()" in text and "BEGIN SOLUTION" not in text
    assert "BEGIN HIDDEN TESTS" not in text

    # Edit the solution's text: the check names the notebook and the changed cell.
    sol = _nbtools.read(source)
    intro = sol.cells[0]
    intro.source += "\n\nAn extra sentence."
    _nbtools.write(sol, source)
    assert run_cli("--root", str(repo), "--check") == 1
    out = capsys.readouterr().out
    assert f"notebooks/{name}/{name}.ipynb" in out and "changed cells: intro" in out
    assert target.read_bytes() == first, "--check must not write"

    # Outputs stored in the solution are reported, then stripped by a release.
    sol = _nbtools.read(source)
    setup = next(c for c in sol.cells if c.get("id") == "setup")
    setup.outputs = [{"output_type": "stream", "name": "stdout", "text": "hello\n"}]
    setup.execution_count = 3
    source.write_text(json.dumps(sol, indent=1), encoding="utf-8")
    assert run_cli("--root", str(repo), "--check") == 1
    assert "stored outputs" in capsys.readouterr().out
    assert run_cli("--root", str(repo)) == 0
    capsys.readouterr()
    stripped = _nbtools.read(source)
    assert all(not c.outputs for c in stripped.cells if c.cell_type == "code")
    assert "An extra sentence." in target.read_text(encoding="utf-8")

    # A hand edit of the learner notebook is caught and undone.
    target.write_text(target.read_text(encoding="utf-8").replace("9 points", "19 points"))
    assert run_cli("--root", str(repo), "--check") == 1
    assert "changed cells: intro" in capsys.readouterr().out
    assert run_cli("--root", str(repo)) == 0
    assert run_cli("--root", str(repo), "--check") == 0
    capsys.readouterr()

    # Stray files in a release folder and learner folders without a source are reported.
    stray = repo / "notebooks" / name / "scratch.txt"
    stray.write_text("x")
    (repo / "notebooks" / "99-orphan").mkdir()
    (repo / "notebooks" / "99-orphan" / "99-orphan.ipynb").write_text("{}")
    assert run_cli("--root", str(repo), "--check") == 1
    out = capsys.readouterr().out
    assert "scratch.txt" in out and "99-orphan" in out
    shutil.rmtree(repo / "notebooks" / "99-orphan")
    assert run_cli("--root", str(repo)) == 0
    assert not stray.exists()
    capsys.readouterr()

    # Unknown assignment: usage error, nothing written.
    assert run_cli("--root", str(repo), "42-nothing") == 2


@pytest.mark.slow
def test_release_equals_stock_nbgrader(repo, tmp_path):
    """`backprop-course release` and stock `nbgrader generate_assignment` agree byte for byte,
    so instructors can use either."""
    name = "03-linear-layer"
    assert run_cli("--root", str(repo), name) == 0
    stock = tmp_path / "stock"
    shutil.copytree(repo / "solutions", stock / "solutions")
    shutil.copy2(repo / "nbgrader_config.py", stock / "nbgrader_config.py")
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", name],
        cwd=stock,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    ours = (repo / "notebooks" / name / f"{name}.ipynb").read_bytes()
    theirs = (stock / "notebooks" / name / f"{name}.ipynb").read_bytes()
    assert ours == theirs
    assert (stock / "gradebook.db").exists()  # stock nbgrader created the assignment entry
    assert not (repo / "gradebook.db").exists()  # the release command leaves no working files


def test_find_root_walks_up(tmp_path, monkeypatch):
    (tmp_path / "solutions" / "x").mkdir(parents=True)
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    monkeypatch.chdir(tmp_path / "solutions" / "x")
    assert release.find_root() == tmp_path


def _set_graded(path: Path, cell_id: str, **changes) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade_id") == cell_id:
            meta.update(changes)
            if "grade_id" in changes:
                cell["id"] = changes["grade_id"]
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


@pytest.mark.slow
def test_points_come_from_the_exercise_registry(tmp_path, capsys):
    """A release writes the registry's points into the graded cells; --check fails while a
    solution disagrees with the registry, and a grade id the registry does not know stops
    the release."""
    name = "03-linear-layer"
    shutil.copy2(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / name, tmp_path / "solutions" / name)
    shutil.copytree(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
    source = tmp_path / "solutions" / name / f"{name}.ipynb"
    assert run_cli("--root", str(tmp_path), "--check") == 0

    _set_graded(source, "test_linear_forward", points=3)
    capsys.readouterr()
    assert run_cli("--root", str(tmp_path), "--check") == 1
    assert "points differ from the exercise registry" in capsys.readouterr().out
    assert run_cli("--root", str(tmp_path)) == 0
    assert release.graded_cells(_nbtools.read(source))["test_linear_forward"] == 2
    assert run_cli("--root", str(tmp_path), "--check") == 0

    _set_graded(source, "test_mc_db_sum", grade_id="test_mc_db_total")
    capsys.readouterr()
    assert run_cli("--root", str(tmp_path), "--check") == 1
    out = capsys.readouterr().out
    assert "test_mc_db_total is not in the exercise registry" in out
    assert "test_mc_db_sum has no graded cell" in out
    assert run_cli("--root", str(tmp_path)) == 1
