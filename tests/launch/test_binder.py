"""Binder set-up, checked as far as it can be without Docker.

- repo2docker accepts the repository, picks up binder/ (Python version, requirements installed
  after the repository is copied in, postBuild) -- rendered with ``--no-build``;
- binder/requirements.txt installs the course itself and no instructor tooling;
- a fresh virtual environment built only from binder/requirements.txt imports the course and
  runs every learner notebook with no environment error: the only errors allowed are the
  NotImplementedError of unfilled exercises and what follows from them;
- every Binder link in the README points at a notebook that exists.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ROOT, copy_repo

BINDER = ROOT / "binder"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
BINDER_LINK = re.compile(
    r"https://mybinder\.org/v2/gh/backprop-course/backprop-course/main\?urlpath=([^)\s\"'>]+)"
)
FIRST_NOTEBOOK = "notebooks/01-chain-rule/01-chain-rule.ipynb"
#: Errors a learner notebook may show before the learner has written anything.
ALLOWED_AFTER_STUB = {"NotImplementedError", "NameError", "AssertionError"}


def requirement_lines() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def runtime_version() -> tuple[int, int]:
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", text)
    assert match, f"binder/runtime.txt should read like python-3.11, not {text!r}"
    return int(match.group(1)), int(match.group(2))


# --------------------------------------------------------------------------------------------
# fast
# --------------------------------------------------------------------------------------------

def test_binder_installs_the_course_and_no_instructor_tooling():
    lines = requirement_lines()
    local = [line for line in lines if re.fullmatch(r"(-e\s+)?\.(\[[\w,-]+\])?", line)]
    assert local, "binder/requirements.txt must install the course itself ('.' or '-e .')"
    assert not any("nbgrader" in line.lower() for line in lines), "nbgrader is instructor-only"
    extras = re.findall(r"\[([\w,-]+)\]", local[0])
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    optional = pyproject["project"]["optional-dependencies"]
    for extra in ",".join(extras).split(",") if extras else []:
        assert extra in optional, f"binder installs unknown extra [{extra}]"
        assert not any("nbgrader" in dep for dep in optional[extra]), (
            f"extra [{extra}] would bring nbgrader into the learner image")


def test_binder_python_is_supported():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lowest = re.fullmatch(r">=\s*(\d+)\.(\d+)", pyproject["project"]["requires-python"])
    assert lowest, pyproject["project"]["requires-python"]
    assert runtime_version() >= (int(lowest.group(1)), int(lowest.group(2)))


def test_repo2docker_picks_up_binder(tmp_path, repo_copy):
    """`repo2docker --no-build` renders the image's Dockerfile without a Docker engine."""
    if importlib.util.find_spec("repo2docker") is None:
        pytest.fail("repo2docker is missing: pip install -e '.[test]' (jupyter-repo2docker)")
    repo = repo_copy
    result = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug",
         "--user-id", "1000", "--user-name", "jovyan", str(repo)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    major, minor = runtime_version()
    assert f"python={major}.{minor}" in result.stderr, result.stderr[-2000:]
    dockerfile = result.stdout
    copy_repo_line = dockerfile.find("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    install = dockerfile.find('pip install --no-cache-dir -r "binder/requirements.txt"')
    post_build = dockerfile.find("RUN ./binder/postBuild")
    assert copy_repo_line != -1 and install != -1, dockerfile
    # "." in requirements.txt needs the whole repository: pip must run after it is copied in.
    assert install > copy_repo_line, "requirements.txt is installed before the repository"
    assert post_build > install, "postBuild must run after the course is installed"
    # binder/ wins: the root pyproject.toml is not installed a second time on its own.
    assert "pip install --no-cache-dir .\n" not in dockerfile


def test_readme_binder_links_open_existing_notebooks():
    readme = (ROOT / "README.md").read_text()
    targets = [urllib.parse.unquote(m) for m in BINDER_LINK.findall(readme)]
    assert targets, "README has no Binder link"
    paths = []
    for target in targets:
        assert target.startswith("lab/tree/"), f"Binder link should open JupyterLab: {target}"
        path = target.removeprefix("lab/tree/")
        assert (ROOT / path).is_file(), f"Binder link target {path} does not exist"
        paths.append(path)
    assert paths[0] == FIRST_NOTEBOOK, "the first Binder link (the badge) opens notebook 01"
    assert "badge_logo.svg" in readme
    missing = {str(nb.relative_to(ROOT)) for nb in NOTEBOOKS} - set(paths)
    assert not missing, f"notebooks without a launch link in the README: {sorted(missing)}"


def test_there_are_learner_notebooks():
    assert NOTEBOOKS, "no learner notebooks in notebooks/*/*.ipynb"


# --------------------------------------------------------------------------------------------
# slow: a fresh environment built only from binder/
# --------------------------------------------------------------------------------------------

RUN_NOTEBOOK = r'''
import json, sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                        resources={"metadata": {"path": sys.argv[2]}})
client.execute()


def lineage(name):
    """Class names in the MRO of the exception called ``name`` (builtins or the course's)."""
    import builtins
    spaces = [builtins]
    try:
        import course, course.checks
        spaces += [course.checks, course]
    except Exception:
        pass
    for space in spaces:
        cls = getattr(space, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return [c.__name__ for c in cls.__mro__]
    return [name]


cells = []
for cell in nb.cells:
    if cell.cell_type != "code":
        continue
    errors = [{"ename": o.ename, "evalue": o.evalue, "lineage": lineage(o.ename)}
              for o in cell.get("outputs", []) if o.output_type == "error"]
    stderr = "".join(o.text for o in cell.get("outputs", [])
                     if o.output_type == "stream" and o.name == "stderr")
    cells.append({"source": cell.source, "errors": errors, "stderr": stderr})
print(json.dumps(cells))
'''


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    """(python of a venv built only from binder/requirements.txt, repo copy, environment)."""
    root = tmp_path_factory.mktemp("binder")
    repo = copy_repo(root / "repo")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    home = root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "VIRTUAL_ENV", "PYTHON", "MPL"))}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
         "-r", "binder/requirements.txt"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    yield python, repo, env


@pytest.mark.slow
def test_binder_env_has_the_course_and_no_nbgrader(binder_env):
    python, repo, env = binder_env
    probe = subprocess.run(
        [str(python), "-c",
         "import importlib.util, json, course, ipywidgets, jupyterlab, numpy\n"
         "print(json.dumps({'course': course.__file__, 'ipywidgets': ipywidgets.__version__,\n"
         "  'nbgrader': importlib.util.find_spec('nbgrader') is not None}))"],
        cwd="/", env=env, capture_output=True, text=True, timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["nbgrader"] is False, "the learner image must not carry nbgrader"
    assert found["ipywidgets"].split(".")[0] == "8"
    assert "site-packages" in found["course"] or str(repo) in found["course"]


def defined_in(name: str, source: str) -> bool:
    """Whether ``source`` (a cell) defines or assigns ``name``."""
    return re.search(
        rf"(^|\n)\s*(def|class)\s+{re.escape(name)}\b|\b{re.escape(name)}\b[^\n=]*=(?!=)"
        rf"|import[^\n]*\b{re.escape(name)}\b",
        source,
    ) is not None


def is_stub_error(lineage: set[str], message: str) -> bool:
    """An unfilled exercise: its NotImplementedError, or a check saying it still raises one."""
    return "NotImplementedError" in lineage or (
        "AssertionError" in lineage and "NotImplementedError" in message
    )


def is_bare_stub(source: str) -> bool:
    """A cell whose whole answer was replaced by the stub (it may have defined any name)."""
    lines = [line.strip() for line in source.splitlines()]
    return [line for line in lines if line and not line.startswith("#")] == [
        "raise NotImplementedError()"
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    "notebook", NOTEBOOKS or [None], ids=[nb.parent.name for nb in NOTEBOOKS] or ["none"]
)
def test_learner_notebook_runs_in_binder_env(binder_env, notebook, tmp_path):
    assert notebook is not None, "no learner notebooks in notebooks/*/*.ipynb"
    python, repo, env = binder_env
    copy = repo / notebook.relative_to(ROOT)
    script = tmp_path / "run_notebook.py"
    script.write_text(RUN_NOTEBOOK)
    result = subprocess.run(
        [str(python), str(script), str(copy), str(copy.parent)],
        cwd=copy.parent, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    cells = json.loads(result.stdout.strip().splitlines()[-1])

    stubbed = False  # an unfilled exercise has raised NotImplementedError
    failed_sources: list[str] = []  # cells that stopped with an error
    problems = []
    for index, cell in enumerate(cells):
        for error in cell["errors"]:
            ename, evalue, lineage = error["ename"], error["evalue"], set(error["lineage"])
            if is_stub_error(lineage, evalue):
                stubbed = True
            elif not stubbed or not lineage & ALLOWED_AFTER_STUB:
                problems.append(f"code cell {index}: {ename}: {evalue}")
            elif ename == "NameError":
                match = re.search(r"name '(\w+)' is not defined", evalue)
                if not (match and any(
                    is_bare_stub(s) or defined_in(match.group(1), s) for s in failed_sources
                )):
                    problems.append(f"code cell {index}: NameError not caused by a stub: {evalue}")
        if cell["errors"]:
            failed_sources.append(cell["source"])
        if re.search(r"ModuleNotFoundError|ImportError|No module named", cell["stderr"]):
            problems.append(f"code cell {index} stderr: {cell['stderr'][:300]}")
    assert not problems, f"{notebook.name} in the Binder environment:\n" + "\n".join(problems)
