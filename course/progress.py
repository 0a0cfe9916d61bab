"""Where am I? Every graded item of the course with its points and pass / fail / not started.

In a notebook (``show_progress`` needs no import once ``course.checks`` is imported)::

    show_progress()                 # this notebook's graded items (all of them elsewhere)
    show_progress(notebook="03")    # just one notebook

It runs each item's check on what the notebook holds: the function of that name, the
multiple-choice answer (a string variable such as ``MC_DW_SHAPE``), the capstone's trained
model; written answers are listed as graded by your instructor. An exercise that still raises
NotImplementedError, or is not defined, counts as not started. It returns a `Progress`
object: ``.rows`` (one `ExerciseStatus` each, with its points), ``.counts``, ``.as_dicts()``;
it prints as a plain text table and shows as an HTML table in Jupyter.

From a shell, ``backprop-course progress [PATH ...]`` reads the learner notebooks
(default: ./notebooks), runs only their imports and function definitions (never training
or other cells) and checks the functions found there. The capstone model is trained by
running the notebook, so the command line cannot check it: use show_progress() in
notebook 12.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import html
import inspect
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PASS, FAIL, NOT_STARTED, NOT_CHECKED = "pass", "fail", "not started", "not checked"
ANSWERED = "answered"  # a multiple-choice answer recorded in exam mode (no feedback)
BY_INSTRUCTOR = "by instructor"  # a written answer, graded by hand


def _exercises() -> dict[str, tuple[str, ...]]:
    """notebook -> the names (in the notebook namespace) of its graded functions and model, in
    order, read from the exercise registry (course.exercises)."""
    from course.exercises import exercises

    out: dict[str, tuple[str, ...]] = {}
    for ex in exercises():
        if ex.kind in ("function", "model"):
            out[ex.notebook] = (*out.get(ex.notebook, ()), ex.name)
    return out


EXERCISES: dict[str, tuple[str, ...]] = _exercises()


def _items() -> dict[str, tuple[Any, ...]]:
    """notebook -> every graded item (course.exercises.Exercise), in notebook order."""
    from course.exercises import exercises

    out: dict[str, tuple[Any, ...]] = {}
    for ex in exercises():
        out[ex.notebook] = (*out.get(ex.notebook, ()), ex)
    return out


ITEMS: dict[str, tuple[Any, ...]] = _items()

# Names the capstone's trained model may have in the notebook.
MODEL_NAMES = ("digits_model", "model")


@dataclass
class ExerciseStatus:
    """One exercise: where it lives, its status and a one-line explanation."""

    notebook: str
    exercise: str
    status: str
    detail: str = ""
    kind: str = "function"  # "function", "model", "choice" or "written"
    points: float = 0.0


@dataclass
class Progress:
    """The status of every exercise. Prints as a text table; shows as HTML in Jupyter."""

    rows: list[ExerciseStatus]
    source: str = "this notebook"
    _skip_display: bool = field(default=False, repr=False, compare=False)

    @property
    def counts(self) -> dict[str, int]:
        out = {PASS: 0, FAIL: 0, NOT_STARTED: 0}
        for r in self.rows:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    @property
    def failed(self) -> bool:
        """True when some item fails (the command line then exits with status 1)."""
        return any(r.status == FAIL for r in self.rows)

    def status(self, exercise: str) -> str:
        """The status of one exercise, e.g. progress.status("linear_backward")."""
        for r in self.rows:
            if r.exercise == exercise:
                return r.status
        raise KeyError(exercise)

    def as_dicts(self) -> list[dict[str, str]]:
        return [asdict(r) for r in self.rows]

    def summary(self) -> str:
        c = self.counts
        auto = [r for r in self.rows if r.status != BY_INSTRUCTOR]
        total = len(auto)
        parts = [f"{c[PASS]} of {total} exercise{'s' if total != 1 else ''} pass"]
        if c[FAIL]:
            parts.append(f"{c[FAIL]} fail{'s' if c[FAIL] == 1 else ''}")
        if c[NOT_STARTED]:
            parts.append(f"{c[NOT_STARTED]} not started")
        if c.get(ANSWERED):
            parts.append(f"{c[ANSWERED]} answered (exam mode: no feedback)")
        if c.get(NOT_CHECKED):
            parts.append(f"{c[NOT_CHECKED]} not checked")
        text = "Progress: " + ", ".join(parts)
        earned = sum(r.points for r in self.rows if r.status == PASS)
        checked = sum(r.points for r in auto)
        if checked:
            text += f"; {_pts(earned)} of {_pts(checked)} points"
        manual = sum(r.points for r in self.rows if r.status == BY_INSTRUCTOR)
        if manual:
            text += f" (+ {_pts(manual)} for written answers, graded by your instructor)"
        return text

    def __str__(self) -> str:
        if not self.rows:
            return "Progress: no exercises."
        w_nb = max(len("notebook"), *(len(r.notebook) for r in self.rows))
        w_ex = max(len("exercise"), *(len(r.exercise) for r in self.rows))
        w_st = max(len("status"), *(len(r.status) for r in self.rows))
        lines = [
            self.summary(),
            "",
            f"{'notebook':<{w_nb}}  {'exercise':<{w_ex}}  {'points':>6}  {'status':<{w_st}}  "
            "details",
        ]
        for r in self.rows:
            lines.append(
                f"{r.notebook:<{w_nb}}  {r.exercise:<{w_ex}}  {_pts(r.points):>6}  "
                f"{r.status:<{w_st}}  {r.detail}".rstrip()
            )
        if self.source == "this notebook" and len({r.notebook for r in self.rows}) == 1:
            lines += ["", _OTHERS]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colours = {PASS: "#1a7f37", FAIL: "#cf222e", NOT_STARTED: "#6e7781", NOT_CHECKED: "#6e7781"}
        marks = {
            PASS: "&#10003; pass",
            FAIL: "&#10007; fail",
            NOT_STARTED: "&middot; not started",
            NOT_CHECKED: "? not checked",
            ANSWERED: "&middot; answered",
            BY_INSTRUCTOR: "&#9998; by instructor",
        }
        body = "".join(
            f"<tr><td>{html.escape(r.notebook)}</td><td><code>{html.escape(r.exercise)}</code>"
            f"</td><td>{_pts(r.points)}</td>"
            f"<td style='color:{colours.get(r.status, '#000')};white-space:nowrap'>"
            f"{marks.get(r.status, html.escape(r.status))}</td>"
            f"<td style='text-align:left'>{html.escape(r.detail)}</td></tr>"
            for r in self.rows
        )
        others = (
            f"<p>{html.escape(_OTHERS)}</p>"
            if self.source == "this notebook" and len({r.notebook for r in self.rows}) == 1
            else ""
        )
        return (
            f"<p><b>{html.escape(self.summary())}</b></p><table><thead><tr><th>notebook</th>"
            "<th>exercise</th><th>points</th><th>status</th>"
            "<th style='text-align:left'>details</th></tr>"
            f"</thead><tbody>{body}</tbody></table>{others}"
        )

    def _ipython_display_(self) -> None:
        # show_progress() has displayed us already: do not show a second copy as Out[n].
        if self._skip_display:
            self._skip_display = False
            return
        from IPython.display import display

        display({"text/plain": str(self), "text/html": self._repr_html_()}, raw=True)


_OTHERS = (
    "Other notebooks: run show_progress() in each, or `backprop-course progress` in a terminal "
    "for all of them."
)


def _pts(points: float) -> str:
    return f"{points:g}"


# --- Checking a namespace ----------------------------------------------------------------------
def _select(notebook: str | int | None) -> list[str]:
    if notebook is None:
        return list(ITEMS)
    key = str(notebook).strip().lower().removesuffix(".ipynb")
    if key.isdigit():
        key = f"{int(key):02d}"
    found = [
        nb for nb in ITEMS if nb == key or nb.startswith(key + "-") or nb.split("-", 1)[1] == key
    ]
    if not found:
        raise ValueError(
            f"show_progress: no notebook called {notebook!r}; choose one of "
            f"{', '.join(ITEMS)} (or its number)."
        )
    return found


def _checks() -> dict[str, Callable[[Any], None]]:
    """name -> the check of each graded function and model (what check_<name> runs), from the
    registry (course.checks imports this module, so it is not imported here)."""
    from course.exercises import get

    return {name: get(name).check for nb in EXERCISES for name in EXERCISES[nb]}


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 110 else line[:107] + "..."


def _run(check: Callable[[Any], None], obj: Any, name: str) -> tuple[str, str, Any]:
    from course._diagnose import NotDoneYet

    def tidy(text: str) -> str:
        line = text.strip().splitlines()[0] if text.strip() else ""
        for prefix in (f"{name}: ", name.replace("_", " ") + ": "):
            line = line.removeprefix(prefix)
        return _first_line(line.removeprefix("all good. "))

    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            check(obj)
    except NotDoneYet:
        return NOT_STARTED, "still raises NotImplementedError", None
    except AssertionError as exc:
        return FAIL, tidy(str(exc)), exc
    except Exception as exc:  # noqa: BLE001 - a progress table never crashes
        return FAIL, tidy(f"{type(exc).__name__}: {exc}"), exc
    return PASS, tidy(buffer.getvalue()), None


def _status(
    notebook: str,
    name: str,
    namespace: Mapping[str, Any],
    check: Callable[[Any], None],
    *,
    allow_model: bool,
) -> ExerciseStatus:
    if name == "digits_model":
        if not allow_model:
            return ExerciseStatus(
                notebook,
                name,
                NOT_CHECKED,
                "train it in the notebook, then run show_progress() there",
            )
        found = [(n, namespace[n]) for n in MODEL_NAMES if namespace.get(n) is not None]
        if not found:
            return ExerciseStatus(
                notebook,
                name,
                NOT_STARTED,
                f"no trained model yet (a variable called {MODEL_NAMES[0]} or {MODEL_NAMES[1]})",
            )
        var, obj = found[0]
        status, detail, exc = _run(check, obj, name)
        if (
            status == FAIL
            and var == "model"
            and getattr(exc, "mistake", None) in ("raised", "shape", "not_a_model", "wrong_type")
        ):
            # `model` is some other notebook's model, not a digits classifier.
            return ExerciseStatus(
                notebook, name, NOT_STARTED, "the variable model is not a digits model yet"
            )
        return ExerciseStatus(notebook, name, status, detail)
    fn = namespace.get(name)
    if fn is None:
        detail = f"not defined here (an exercise of notebook {notebook[:2]})"
        return ExerciseStatus(notebook, name, NOT_STARTED, detail)
    status, detail, _ = _run(check, fn, name)
    return ExerciseStatus(notebook, name, status, detail)


def _choice_status(ex: Any, namespace: Mapping[str, Any]) -> ExerciseStatus:
    """A multiple-choice answer: right / wrong (with the misconception) / not answered; in exam
    mode only whether it was answered."""
    from course._diagnose import NotDoneYet
    from course.exercises import exam_mode

    def row(status: str, detail: str) -> ExerciseStatus:
        return ExerciseStatus(ex.notebook, ex.name, status, detail, ex.kind, ex.points)

    if ex.name not in namespace:
        return row(NOT_STARTED, f"not answered here (a question of notebook {ex.notebook[:2]})")
    with contextlib.redirect_stdout(io.StringIO()):
        failure = ex.failure(namespace[ex.name])
    if isinstance(failure, NotDoneYet):
        return row(NOT_STARTED, "not answered yet")
    if failure is not None:
        return row(FAIL, _first_line(str(failure).removeprefix(f"{ex.name} = ")))
    if exam_mode():
        return row(ANSWERED, "recorded (no feedback during an exam)")
    return row(PASS, "right")


def _item_status(
    ex: Any,
    namespace: Mapping[str, Any],
    checks: Mapping[str, Callable[[Any], None]],
    *,
    allow_model: bool,
) -> ExerciseStatus:
    """The status row of one graded item (course.exercises.Exercise)."""
    if ex.kind == "choice":
        return _choice_status(ex, namespace)
    if ex.kind == "written":
        return ExerciseStatus(ex.notebook, ex.grade_id, BY_INSTRUCTOR, ex.title, ex.kind, ex.points)
    row = _status(ex.notebook, ex.name, namespace, checks[ex.name], allow_model=allow_model)
    row.kind, row.points = ex.kind, ex.points
    return row


def _present(namespace: Mapping[str, Any]) -> list[str]:
    """The notebooks whose graded functions or answers this namespace defines (their own, not
    course's): the notebook a bare show_progress() runs in."""
    found = []
    for nb, items in ITEMS.items():
        for ex in items:
            if ex.kind not in ("function", "choice") or ex.name not in namespace:
                continue
            obj = namespace[ex.name]
            if ex.kind == "function" and str(getattr(obj, "__module__", "")).startswith("course"):
                continue
            found.append(nb)
            break
    return found


def check_progress(
    namespace: Mapping[str, Any],
    notebook: str | int | None = None,
    *,
    allow_model: bool = True,
    source: str = "this notebook",
) -> Progress:
    """The status of every exercise (or of one notebook's), read from `namespace`.

    namespace: maps names to the learner's objects, e.g. a notebook's globals().
    notebook: a notebook name or number ("03", 3, "03-linear-layer", "linear-layer").
    Returns a Progress; nothing is printed.
    """
    checks = _checks()
    selected = notebook if isinstance(notebook, list) else _select(notebook)
    rows = [
        _item_status(ex, namespace, checks, allow_model=allow_model)
        for nb in selected
        for ex in ITEMS[nb]
    ]
    return Progress(rows, source=source)


def _caller_namespace() -> Mapping[str, Any]:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency of the lab extra
        shell = None
    if shell is not None and getattr(shell, "user_ns", None) is not None:
        return shell.user_ns
    frame = inspect.currentframe()
    try:
        caller = frame.f_back.f_back if frame and frame.f_back else None
        return dict(caller.f_globals) if caller is not None else {}
    finally:
        del frame


def show_progress(
    namespace: Mapping[str, Any] | None = None, notebook: str | int | None = None
) -> Progress:
    """Show every exercise (or one notebook's) with pass / fail / not started, and return it.

    namespace: where to find your functions; by default the notebook you are in (the IPython
    user namespace), or the caller's globals outside IPython.
    notebook: a notebook name or number, e.g. "03" or "linear-layer". By default the notebook
    you are in (the one whose exercises your namespace defines), or every notebook if that is
    not clear.
    """
    ns = _caller_namespace() if namespace is None else namespace
    if notebook is None:
        here = _present(ns)
        progress = check_progress(ns, here if len(here) == 1 else None)
    else:
        progress = check_progress(ns, notebook)
    try:
        from IPython import get_ipython

        in_ipython = get_ipython() is not None
    except ImportError:  # pragma: no cover
        in_ipython = False
    if in_ipython:
        from IPython.display import display

        display(progress)
        progress._skip_display = True
    else:
        print(progress)
    return progress


# --- Reading learner notebooks (the command line) ----------------------------------------------
_MAGIC = re.compile(r"^\s*[%!]")


def _definitions(source: str) -> list[ast.stmt]:
    """The imports, function and class definitions and literal constants of a code cell."""
    lines = ["" if _MAGIC.match(line) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    keep: list[ast.stmt] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
            keep.append(stmt)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            try:
                ast.literal_eval(stmt.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            keep.append(stmt)
    return keep


def load_notebook_namespace(path: str | Path) -> dict[str, Any]:
    """Run only the imports, definitions and literal constants of a notebook's code cells.

    Nothing else runs (no training, no plots, no checks). Statements that fail are skipped.
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {"__name__": "__progress__"}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        for stmt in _definitions(source):
            module = ast.Module(body=[stmt], type_ignores=[])
            try:
                code = compile(module, str(path), "exec")
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(code, namespace)  # noqa: S102 - the learner's own notebook
            except Exception:  # noqa: BLE001, S112 - a broken statement is simply skipped
                continue
    return namespace


def find_notebooks(paths: Iterable[str | Path]) -> dict[str, Path]:
    """Course notebooks under the given files or folders: notebook name -> path."""
    found: dict[str, Path] = {}
    for p in map(Path, paths):
        candidates = [p] if p.suffix == ".ipynb" else sorted(p.rglob("*.ipynb"))
        for c in candidates:
            if ".ipynb_checkpoints" in c.parts:
                continue
            if c.stem in ITEMS and c.stem not in found:
                found[c.stem] = c
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `backprop-course progress`."""
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="learner notebooks or folders holding them (default: ./notebooks, "
        "or the current folder)",
    )
    parser.add_argument("--notebook", "-n", help="only this notebook (name or number, e.g. 03)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.epilog = (
        "Exit status: 0 when nothing fails (exercises not started are fine), 1 when an exercise "
        "fails, 2 when no course notebook is found. Use it as a CI check of your repository."
    )


def _print(text: str) -> None:
    """print, quiet when the reader has gone (backprop-course progress | head)."""
    import os
    import sys

    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python would report the broken pipe again when it flushes stdout at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def run(args: argparse.Namespace) -> int:
    """Check the exercises in the learner notebooks and print the table.

    Returns 0 when nothing fails, 1 when something fails, 2 when no notebook is found."""
    paths = args.paths or (["notebooks"] if Path("notebooks").is_dir() else ["."])
    notebooks = find_notebooks(paths)
    # notebooks named one by one: only those are listed; folders: every notebook
    only_given = bool(args.paths) and all(Path(p).suffix == ".ipynb" for p in args.paths)
    try:
        selected = _select(args.notebook)
    except ValueError as exc:
        _print(f"backprop-course progress: {exc}")
        return 2
    if not any(nb in notebooks for nb in selected):
        _print(
            f"backprop-course progress: no course notebooks found in {', '.join(map(str, paths))}"
            " (expected files like 03-linear-layer.ipynb)."
        )
        return 2
    rows: list[ExerciseStatus] = []
    checks = _checks()
    for nb in selected:
        if nb not in notebooks:
            if not only_given:
                rows += [
                    ExerciseStatus(
                        nb,
                        ex.name or ex.grade_id,
                        NOT_CHECKED,
                        "notebook not found",
                        ex.kind,
                        ex.points,
                    )
                    for ex in ITEMS[nb]
                ]
            continue
        namespace = load_notebook_namespace(notebooks[nb])
        rows += [_item_status(ex, namespace, checks, allow_model=False) for ex in ITEMS[nb]]
    progress = Progress(rows, source="notebooks")
    if args.json:
        _print(
            json.dumps({"summary": progress.summary(), "exercises": progress.as_dicts()}, indent=2)
        )
    else:
        _print(str(progress))
    return 1 if progress.failed else 0
