"""`backprop-course release`: regenerate the learner notebooks from the solutions.

    backprop-course release                  regenerate notebooks/ from solutions/ (all)
    backprop-course release 03-linear-layer  only some assignments
    backprop-course release --check          exit 1 and name what is stale; change nothing

Underneath it is stock ``nbgrader generate_assignment`` with the repository's
``nbgrader_config.py``, run in a temporary course directory (so no gradebook or other
nbgrader working file is left in the repository).  Every generated notebook is then put in
canonical form (no outputs, no execution counts, no volatile metadata, nbformat's own JSON
layout), which makes the release byte-for-byte reproducible and ``--check`` stable.  The
canonical form is exactly what stock nbgrader writes for a canonical solution notebook, so
``nbgrader generate_assignment NN-topic`` run by hand gives the same files.

Solution notebooks must be stored without outputs as well: a release strips them in place,
and ``--check`` reports a solution that still has outputs.

The exercise registry (``course.exercises``) is the one source of truth for what is graded:
a release writes each graded cell's points from the registry into the solution notebook, and
``--check`` fails when a solution's graded cells (grade ids or points) disagree with it. A
graded cell the registry does not know, or a registry item without its cell, stops the
release until one of the two is fixed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from course import _nbtools

CONFIG_FILE = "nbgrader_config.py"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "assignments",
        nargs="*",
        metavar="ASSIGNMENT",
        help="assignment folders to release, e.g. 03-linear-layer (default: every folder in "
        "solutions/)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 and name every learner notebook that is out of date",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="course repository root (default: the one containing nbgrader_config.py, "
        "searched upwards from the current directory, else the installed package's)",
    )


@dataclass
class Plan:
    """What a release would change.  Paths are relative to the repository root."""

    write: dict[str, bytes] = field(default_factory=dict)  # stale or missing release files
    delete: list[str] = field(default_factory=list)  # release files with no source
    strip: dict[str, bytes] = field(default_factory=dict)  # solutions with stored outputs
    orphans: list[str] = field(default_factory=list)  # notebooks/<x> without solutions/<x>
    mismatch: list[str] = field(default_factory=list)  # graded cells the registry disagrees with
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not (self.write or self.delete or self.strip or self.orphans or self.mismatch)


def find_root(start: Path | None = None) -> Path:
    """The course repository: the nearest directory upwards holding nbgrader_config.py."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / CONFIG_FILE).is_file() and (d / _nbtools.SOLUTIONS).is_dir():
            return d
    return _nbtools.REPO_ROOT


def generate(root: Path, names: list[str], workdir: Path) -> Path:
    """Run stock nbgrader generate_assignment for ``names`` in a scratch course directory.

    Copies ``nbgrader_config.py`` and ``solutions/<name>`` into ``workdir`` and returns the
    scratch release directory (``workdir/notebooks``).
    """
    import logging

    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    shutil.copy2(root / CONFIG_FILE, workdir / CONFIG_FILE)
    for name in names:
        shutil.copytree(
            root / _nbtools.SOLUTIONS / name,
            workdir / _nbtools.SOLUTIONS / name,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
    config = PyFileConfigLoader(CONFIG_FILE, path=str(workdir)).load_config()
    config.CourseDirectory.root = str(workdir)
    log = logging.getLogger("backprop-course.release")
    log.setLevel(logging.WARNING)
    for name in names:
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id = name
        app = GenerateAssignment(coursedir=coursedir, config=config, log=log)
        app.force = True
        # The scratch gradebook is thrown away: skip it (creating one costs seconds).  SaveCells
        # only records cells in the gradebook; it does not change the notebook, and
        # tests/notebooks/test_release.py checks that the output equals stock nbgrader's byte
        # for byte.
        app.no_database = True
        app.preprocessors = [pp for pp in app.preprocessors if pp.__name__ != "SaveCells"]
        try:
            app.start()
        except Exception as exc:  # nbgrader raises NbGraderException with the reason logged
            raise RuntimeError(f"nbgrader generate_assignment {name} failed: {exc}") from exc
    return workdir / coursedir.release_directory


def _canonical(path: Path) -> bytes:
    if path.suffix == ".ipynb":
        return _nbtools.dumps(_nbtools.normalize(_nbtools.read(path))).encode("utf-8")
    return path.read_bytes()


def graded_cells(nb: object) -> dict[str, float]:
    """grade_id -> points of every graded cell (nbgrader grade=True) of a notebook."""
    out: dict[str, float] = {}
    for cell in nb.cells:  # type: ignore[attr-defined]
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            out[str(meta.get("grade_id"))] = float(meta.get("points", 0))
    return out


def registry_points(name: str) -> dict[str, float]:
    """grade_id -> points of the registry's items for assignment ``name``."""
    from course.exercises import exercises

    return {ex.grade_id: float(ex.points) for ex in exercises(name)}


def _solution_bytes(path: Path, name: str) -> tuple[bytes, list[str]]:
    """The canonical solution with every graded cell's points taken from the registry, and
    what cannot be fixed that way (grade ids only one side knows)."""
    nb = _nbtools.normalize(_nbtools.read(path))
    want = registry_points(name)
    have = graded_cells(nb)
    problems = [
        f"graded cell {gid} is not in the exercise registry (course/exercises/)"
        for gid in have
        if gid not in want
    ]
    problems += [
        f"registry item {gid} has no graded cell in the solution notebook"
        for gid in want
        if gid not in have
    ]
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = str(meta.get("grade_id"))
        if meta.get("grade") and gid in want:
            points = want[gid]
            meta["points"] = int(points) if float(points).is_integer() else points
    return _nbtools.dumps(nb).encode("utf-8"), problems


def _files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts
    }


def _changed_cells(old: bytes, new: bytes) -> str:
    """A short description of which cells differ between two notebook texts."""
    import nbformat

    try:
        a = nbformat.reads(old.decode("utf-8"), as_version=4)
        b = nbformat.reads(new.decode("utf-8"), as_version=4)
    except Exception:
        return "not a readable notebook"
    ida = [c.get("id") for c in a.cells]
    idb = [c.get("id") for c in b.cells]
    srca = {c.get("id"): (c.source, c.metadata) for c in a.cells}
    changed = [i for i in idb if i in srca and srca[i] != (b.cells[idb.index(i)].source,
                                                          b.cells[idb.index(i)].metadata)]
    added = [i for i in idb if i not in srca]
    removed = [i for i in ida if i not in idb]
    parts = []
    if changed:
        parts.append("changed cells: " + ", ".join(map(str, changed[:6])))
    if added:
        parts.append("new cells: " + ", ".join(map(str, added[:6])))
    if removed:
        parts.append("removed cells: " + ", ".join(map(str, removed[:6])))
    if not parts:
        parts.append("cell order, outputs or metadata differ" if ida != idb or a != b
                     else "formatting differs")
    return "; ".join(parts)


def plan(root: Path, names: list[str] | None = None) -> Plan:
    """Compare the committed release with a fresh one; return what would change."""
    root = Path(root)
    available = _nbtools.assignments(root)
    selected = list(available if not names else names)
    unknown = [n for n in selected if n not in available]
    if unknown:
        raise ValueError(
            "no solution notebook for " + ", ".join(unknown) + f" (expected "
            f"{_nbtools.SOLUTIONS}/NN-topic/NN-topic.ipynb; found: {', '.join(available)})"
        )
    result = Plan()
    canonical: dict[str, bytes] = {}
    for name in selected:
        src = _nbtools.solution_path(name, root)
        want, problems = _solution_bytes(src, name)
        canonical[name] = want
        rel = src.relative_to(root).as_posix()
        if problems:
            result.mismatch.append(rel)
            result.reasons[rel] = "; ".join(problems)
        if src.read_bytes() != want:
            result.strip[rel] = want
            if _canonical(src) != src.read_bytes():
                reason = "solution notebook has stored outputs or volatile metadata"
            else:
                reason = "graded cells' points differ from the exercise registry"
            result.reasons[rel] = "; ".join(filter(None, [result.reasons.get(rel), reason]))
    if not names:
        release_dir = root / _nbtools.RELEASE
        if release_dir.is_dir():
            for d in sorted(release_dir.iterdir()):
                if d.is_dir() and d.name not in available and _files(d):
                    rel = f"{_nbtools.RELEASE}/{d.name}"
                    result.orphans.append(rel)
                    result.reasons[rel] = "learner folder without a solutions/ folder"
    if not selected:
        return result
    with tempfile.TemporaryDirectory(prefix="backprop-release-") as tmp:
        # Release the canonical solution (what the repository will hold after stripping).
        work = Path(tmp)
        for name in selected:
            dest = work / "input" / _nbtools.SOLUTIONS / name
            shutil.copytree(root / _nbtools.SOLUTIONS / name, dest,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            notebook = dest / f"{name}.ipynb"
            notebook.write_bytes(canonical[name])
        shutil.copy2(root / CONFIG_FILE, work / "input" / CONFIG_FILE)
        (work / "course").mkdir()
        generated = generate(work / "input", selected, work / "course")
        for name in selected:
            new_files = {k: _canonical(p) for k, p in _files(generated / name).items()}
            old_files = _files(root / _nbtools.RELEASE / name)
            for rel, data in new_files.items():
                target = f"{_nbtools.RELEASE}/{name}/{rel}"
                old = old_files.get(rel)
                if old is None:
                    result.write[target] = data
                    result.reasons[target] = "missing"
                elif old.read_bytes() != data:
                    result.write[target] = data
                    result.reasons[target] = (
                        _changed_cells(old.read_bytes(), data) if rel.endswith(".ipynb")
                        else "differs"
                    )
            for rel in old_files:
                if rel not in new_files:
                    target = f"{_nbtools.RELEASE}/{name}/{rel}"
                    result.delete.append(target)
                    result.reasons[target] = "not produced by the release"
    return result


def apply(root: Path, todo: Plan) -> None:
    for rel, data in {**todo.strip, **todo.write}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for rel in todo.delete:
        (root / rel).unlink()


def run(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve() if args.root else find_root()
    if not (root / CONFIG_FILE).is_file():
        print(f"release: no {CONFIG_FILE} in {root}", file=sys.stderr)
        return 2
    try:
        todo = plan(root, list(args.assignments) or None)
    except ImportError as exc:
        print(
            f"release: needs nbgrader ({exc}); install it with "
            "pip install 'backprop-course[instructor]'",
            file=sys.stderr,
        )
        return 2
    except (ValueError, RuntimeError) as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 2
    names = list(args.assignments) or _nbtools.assignments(root)
    if todo.mismatch and not args.check:
        print("release: the solution notebooks and the exercise registry disagree:")
        for rel in todo.mismatch:
            print(f"  {rel}: {todo.reasons[rel]}")
        print("Fix course/exercises/ or the notebook's graded cells, then release again.")
        return 1
    if args.check:
        if todo.clean:
            print(f"release --check: {len(names)} learner notebooks are up to date.")
            return 0
        print("release --check: notebooks/ is out of date:")
        for rel in dict.fromkeys([*todo.mismatch, *todo.strip, *todo.write, *todo.delete,
                                  *todo.orphans]):
            print(f"  {rel}: {todo.reasons.get(rel, 'stale')}")
        print("Run `backprop-course release` and commit the result.")
        return 1
    apply(root, todo)
    for rel in [*todo.strip, *todo.write]:
        print(f"wrote {rel} ({todo.reasons.get(rel, 'stale')})")
    for rel in todo.delete:
        print(f"deleted {rel} ({todo.reasons.get(rel)})")
    for rel in todo.orphans:
        print(f"warning: {rel}: {todo.reasons[rel]}; delete it by hand if it is obsolete")
    changed = len(todo.strip) + len(todo.write) + len(todo.delete)
    print(f"release: {len(names)} assignments, {changed} files changed.")
    return 0
