"""`backprop-course start` and the README's first command (scripts/start.sh).

Fast tests cover how the notebook folder is chosen and how JupyterLab is configured; the slow
ones start real JupyterLab servers on free loopback ports and poll them until they answer:
from this environment, with and without nbgrader's instructor panels, and through
scripts/start.sh in a fresh copy of the repository, as an unprivileged user and as root.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ROOT, copy_repo

from course import launch

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
NOBODY = 65534  # uid/gid of "nobody" on Debian and most Linux systems
TOKEN = "backprop-course-test-token"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    launch.add_arguments(parser)
    return parser.parse_args(list(argv))


def make_clone(root: Path) -> Path:
    """A minimal fake checkout of the course at ``root``."""
    (root / "notebooks" / "01-chain-rule").mkdir(parents=True)
    (root / "notebooks" / "01-chain-rule" / "01-chain-rule.ipynb").write_text("{}")
    (root / "pyproject.toml").write_text('[project]\nname = "backprop-course"\n')
    return root


def unused_port() -> int:
    """A free port below Linux's ephemeral range (32768+), where kernels pick theirs."""
    return launch.free_port("127.0.0.1", start=random.randrange(20000, 30000))


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def wait_until_serving(proc: subprocess.Popen, port: int, log: Path, timeout: float) -> None:
    """Poll /api/status until it answers 200; fail with the server's log if it never does."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/api/status?token={TOKEN}"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if http_get(url, timeout=2)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"no answer from {url} after {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server started in its own session (SIGTERM, then SIGKILL), and its children."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def serve(cmd: list[str], log: Path, *, env: dict[str, str], cwd: Path,
          user: int | None = None) -> subprocess.Popen:
    """Start ``cmd`` in its own session (as ``user`` if given), output to ``log``."""
    with log.open("ab") as out:  # appends: a retry keeps what the first attempt printed
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
            **({"user": user, "group": user, "extra_groups": []} if user is not None else {}),
        )
    return proc


def serve_until_up(cmd: list[str], log: Path, *, env: dict[str, str], cwd: Path,
                   timeout: float, user: int | None = None) -> tuple[subprocess.Popen, int]:
    """Start ``cmd + ["--port", P]`` and wait until it answers; retry if P was taken meanwhile."""
    for _attempt in range(3):
        port = unused_port()
        proc = serve([*cmd, "--port", str(port)], log, env=env, cwd=cwd, user=user)
        try:
            wait_until_serving(proc, port, log, timeout=timeout)
            return proc, port
        except pytest.fail.Exception:
            stop(proc)
            if "is not available" not in log.read_text():
                raise
    pytest.fail(f"could not get a free port in 3 attempts:\n{log.read_text()[-2000:]}")


def isolated_env(home: Path, path: str | None = None) -> dict[str, str]:
    """The current environment with a private HOME (so no user config leaks in) and our token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), JUPYTER_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
    if path is not None:
        env["PATH"] = path
    return env


def page_config(lab_html: str) -> dict:
    match = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
        lab_html, re.S,
    )
    assert match, "JupyterLab page has no jupyter-config-data"
    return json.loads(match.group(1))


def python_for(uid: int) -> str | None:
    """A Python >= 3.11 with venv that user ``uid`` can run (pyenv under /root is unreadable)."""
    as_user = {} if uid == os.geteuid() else {"user": uid, "group": uid, "extra_groups": []}
    candidates = ["/usr/bin/python3", "/usr/local/bin/python3", shutil.which("python3") or ""]
    for candidate in dict.fromkeys(c for c in candidates if c):
        check = subprocess.run(
            [candidate, "-c", "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"],
            capture_output=True, cwd="/", **as_user,
        )
        if check.returncode == 0:
            return candidate
    return None


# --------------------------------------------------------------------------------------------
# fast: which folder, which arguments
# --------------------------------------------------------------------------------------------

def test_explicit_dir_wins(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    assert launch.find_notebook_dir(folder, cwd=tmp_path) == folder.resolve()
    with pytest.raises(FileNotFoundError, match="no such folder"):
        launch.find_notebook_dir(tmp_path / "missing", cwd=tmp_path)


def test_editable_install_opens_its_clone():
    import course

    if Path(course.__file__).resolve().parent.parent != ROOT:
        pytest.skip("course is not imported from this checkout (not an editable install)")
    assert launch.installed_clone() == ROOT
    assert launch.find_notebook_dir(cwd=Path("/")) == ROOT / "notebooks"


def test_clone_in_current_folder_is_used(tmp_path, monkeypatch):
    installed = make_clone(tmp_path / "installed")
    monkeypatch.setattr(launch, "installed_clone", lambda: installed)
    clone = make_clone(tmp_path / "clone")
    # The clone you stand in wins over the one the package was installed from ...
    assert launch.find_notebook_dir(cwd=clone) == clone.resolve() / "notebooks"
    # ... which is used from anywhere else.
    assert launch.find_notebook_dir(cwd=tmp_path) == installed / "notebooks"
    # A folder that merely has notebooks/ is not mistaken for the course.
    other = tmp_path / "other"
    (other / "notebooks").mkdir(parents=True)
    (other / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    assert not launch.is_course_clone(other)


def test_wheel_install_copies_notebooks_and_keeps_learner_work(tmp_path, monkeypatch, capsys):
    shipped = tmp_path / "site-packages" / "course" / "notebooks"
    (shipped / "01-chain-rule").mkdir(parents=True)
    (shipped / "01-chain-rule" / "01-chain-rule.ipynb").write_text("shipped v1")
    (shipped / ".ipynb_checkpoints").mkdir()
    monkeypatch.setattr(launch, "installed_clone", lambda: None)
    monkeypatch.setattr(launch, "shipped_notebooks", lambda: shipped)
    home = tmp_path / "home"
    home.mkdir()

    folder = launch.find_notebook_dir(cwd=home)
    assert folder == (home / launch.WORKING_COPY).resolve()
    nb = folder / "01-chain-rule" / "01-chain-rule.ipynb"
    assert nb.read_text() == "shipped v1"
    assert not (folder / ".ipynb_checkpoints").exists()
    assert "Copied 1" in capsys.readouterr().out

    # The learner works; the package is upgraded with a new notebook and a changed old one.
    nb.write_text("learner's answers")
    (shipped / "01-chain-rule" / "01-chain-rule.ipynb").write_text("shipped v2")
    (shipped / "02-gradient-checking").mkdir()
    (shipped / "02-gradient-checking" / "02-gradient-checking.ipynb").write_text("new")
    assert launch.find_notebook_dir(cwd=home) == folder
    assert nb.read_text() == "learner's answers"
    assert (folder / "02-gradient-checking" / "02-gradient-checking.ipynb").read_text() == "new"
    out = capsys.readouterr().out
    assert "Copied 1" in out and "Kept 1" in out


def test_no_notebooks_anywhere_says_how_to_get_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(launch, "installed_clone", lambda: None)
    monkeypatch.setattr(launch, "shipped_notebooks", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert launch.run(parse("--dry-run")) == 2
    err = capsys.readouterr().err
    assert "git clone https://github.com/backprop-course/backprop-course" in err
    assert "scripts/start.sh" in err


@pytest.mark.parametrize("euid, expected", [(0, True), (1000, False)])
def test_allow_root_added_exactly_when_root(monkeypatch, tmp_path, euid, expected):
    monkeypatch.setattr(os, "geteuid", lambda: euid, raising=False)
    argv = launch.lab_arguments(tmp_path, "127.0.0.1", 8888, no_browser=True)
    assert ("--allow-root" in argv) is expected
    assert f"--ServerApp.root_dir={tmp_path}" in argv
    assert "--no-browser" in argv
    assert "--ServerApp.port=8888" in argv and "--ServerApp.port_retries=0" in argv


def test_free_port_skips_a_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert launch.free_port("127.0.0.1", start=taken) > taken


def test_browser_url_is_reachable_from_this_machine():
    assert launch.browser_url("0.0.0.0", 9000, "t") == "http://127.0.0.1:9000/lab?token=t"
    assert launch.browser_url("127.0.0.1", 8888, "t") == "http://127.0.0.1:8888/lab?token=t"
    assert launch.browser_url("::1", 8888, "t") == "http://[::1]:8888/lab?token=t"


def test_learner_config_hides_the_instructor_panels():
    with launch.learner_config() as config:
        page = json.loads((config / "labconfig" / "page_config.json").read_text())
        server = json.loads(
            next((config / "jupyter_server_config.d").glob("*.json")).read_text())
    disabled = {name for name, off in page["disabledExtensions"].items() if off}
    for panel in ("formgrader", "assignment-list", "course-list", "create-assignment"):
        assert f"@jupyter/nbgrader:{panel}" in disabled
    assert "@jupyter/nbgrader:validate-assignment" not in disabled  # a learner tool
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert not config.exists()  # temporary


def test_cli_dry_run_prints_folder_and_url(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "course.cli", "start", "--dry-run", "--port", "8123"],
        capture_output=True, text=True, cwd=tmp_path, env=isolated_env(tmp_path), timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"http://127.0.0.1:8123/lab?token={TOKEN}" in result.stdout
    assert "Course notebooks: " in result.stdout
    assert ("--allow-root" in result.stdout) is IS_ROOT


# --------------------------------------------------------------------------------------------
# slow: real servers
# --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_start_serves_jupyterlab_on_the_notebooks(tmp_path):
    """Learner view: JupyterLab on notebooks/, instructor panels hidden even with nbgrader."""
    pytest.importorskip("jupyterlab")
    log = tmp_path / "server.log"
    cmd = [sys.executable, "-m", "course.cli", "start", "--no-browser"]
    proc, port = serve_until_up(cmd, log, env=isolated_env(tmp_path), cwd=tmp_path, timeout=120)
    try:
        base = f"http://127.0.0.1:{port}"
        status, html = http_get(f"{base}/lab?token={TOKEN}")
        assert status == 200
        status, body = http_get(f"{base}/api/contents?token={TOKEN}")
        assert status == 200
        served = {item["name"] for item in json.loads(body)["content"]}
        expected = {p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir()}
        assert expected and expected <= served and "solutions" not in served, served
        assert f"{base}/lab?token={TOKEN}" in log.read_text()  # the printed URL is the real one
        if importlib.util.find_spec("nbgrader"):
            disabled = set(page_config(html).get("disabledExtensions", []))
            for panel in ("formgrader", "assignment-list", "course-list", "create-assignment"):
                assert f"@jupyter/nbgrader:{panel}" in disabled
            assert http_get(f"{base}/formgrader?token={TOKEN}")[0] == 404
    finally:
        stop(proc)


@pytest.mark.slow
def test_start_instructor_serves_the_clone_with_formgrader(tmp_path):
    """Instructor view (the control for the test above): formgrader answers."""
    pytest.importorskip("nbgrader")
    clone = make_clone(tmp_path / "clone")
    (clone / "solutions").mkdir()
    log = tmp_path / "server.log"
    cmd = [sys.executable, "-m", "course.cli", "start", "--no-browser",
           "--instructor", "--dir", str(clone / "notebooks")]
    proc, port = serve_until_up(cmd, log, env=isolated_env(tmp_path), cwd=tmp_path, timeout=120)
    try:
        base = f"http://127.0.0.1:{port}"
        status, html = http_get(f"{base}/lab?token={TOKEN}")
        assert status == 200
        assert "@jupyter/nbgrader:formgrader" not in page_config(html).get("disabledExtensions", [])
        assert http_get(f"{base}/formgrader?token={TOKEN}")[0] == 200
        served = {i["name"] for i in json.loads(http_get(f"{base}/api/contents?token={TOKEN}")[1])[
            "content"]}
        assert {"solutions", "notebooks"} <= served
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def fresh_copy() -> Iterator[Path]:
    """A copy of the repository as a clean clone has it, in a folder any user can enter."""
    root = Path(tempfile.mkdtemp(prefix="backprop-course-fresh-"))
    try:
        os.chmod(root, 0o755)
        copy_repo(root / "backprop-course")
        (root / "home").mkdir()
        if IS_ROOT:
            for path in [root, *root.rglob("*")]:
                os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        yield root
    finally:
        # Half a gigabyte of small files: delete in the background instead of stalling the run.
        subprocess.Popen(["rm", "-rf", str(root)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_start_script(fresh: Path, *, user: int | None, python: str, timeout: float) -> str:
    clone = fresh / "backprop-course"
    log = fresh / f"start-{user}.log"
    env = isolated_env(fresh / "home", path=f"{Path(python).parent}:/usr/bin:/bin")
    env["PYTHON"] = python
    proc, port = serve_until_up(["bash", "scripts/start.sh", "--no-browser"], log,
                                env=env, cwd=clone, user=user, timeout=timeout)
    try:
        status, body = http_get(f"http://127.0.0.1:{port}/api/contents?token={TOKEN}")
        assert status == 200
        served = {i["name"] for i in json.loads(body)["content"]}
        assert {p.name for p in (clone / "notebooks").iterdir() if p.is_dir()} <= served
        assert f"Course notebooks: {clone / 'notebooks'}" in log.read_text()
    finally:
        stop(proc)
    return log.read_text()


@pytest.mark.slow
def test_first_command_from_a_fresh_copy_as_an_ordinary_user(fresh_copy):
    """The README's first command, `bash scripts/start.sh`, as a user who is not root."""
    user = NOBODY if IS_ROOT else None
    python = python_for(user if user is not None else os.geteuid())
    if python is None:
        pytest.skip("no Python >= 3.11 with venv that an unprivileged user can run here")
    out = run_start_script(fresh_copy, user=user, python=python, timeout=420)
    assert "Installing the course" in out
    venv = fresh_copy / "backprop-course" / ".venv"
    assert (venv / "bin" / "backprop-course").exists()
    if user is not None:
        assert venv.stat().st_uid == user  # installed and served by the unprivileged user


@pytest.mark.slow
def test_first_command_as_root_in_a_container(fresh_copy):
    """As root (a container), JupyterLab needs --allow-root; start adds it."""
    if not IS_ROOT:
        pytest.skip("needs root; the ordinary-user route is tested above")
    python = python_for(0)
    assert python is not None
    # JupyterLab refuses to run as root without --allow-root: serving proves start added it.
    run_start_script(fresh_copy, user=None, python=python, timeout=420)


def test_readme_commands_are_the_ones_tested():
    """The README's first command is the script tested above; its test command is CI's."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    start, tests = blocks[0].strip().splitlines(), blocks[1].strip().splitlines()
    assert start[-1] == "bash scripts/start.sh"
    assert (ROOT / "scripts" / "start.sh").is_file()
    ci = [
        line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.strip().startswith(("#", "echo"))
    ]
    assert ci[-1] == tests[-1], f"CI ends with {ci[-1]!r}, the README says {tests[-1]!r}"
