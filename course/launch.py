"""``backprop-course start``: open JupyterLab on the learner notebooks.

Which folder is opened, first match wins:

1. ``--dir PATH`` if given.
2. The current folder, if it is a clone of the course: ``./notebooks``.
3. The clone the course is installed from (``pip install -e .``): ``<clone>/notebooks``.
4. Otherwise (installed from a wheel), a working copy: learner notebooks shipped inside the
   package (``course/notebooks``) are copied to ``./backprop-course-notebooks``; files that
   already exist there are never overwritten, so a learner's work survives restarts and
   upgrades. The course is meant to be used from a clone and today's wheel ships no
   notebooks, so outside a clone ``start`` says how to get one.

JupyterLab refuses to run as root without ``--allow-root``; ``start`` adds it when it runs as
root (a container), so the same command works for an ordinary user and in a container.
When nbgrader is installed (an instructor's or CI's environment), its instructor panels
(formgrader, assignment list, course list, create assignment) are hidden from the session unless
``--instructor`` is given; a learner's install (``pip install ".[lab]"``) has no nbgrader at all.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

#: Folder a wheel install copies the learner notebooks to (inside the current folder).
WORKING_COPY = "backprop-course-notebooks"
#: The notebook every route opens first.
FIRST_NOTEBOOK = "01-chain-rule/01-chain-rule.ipynb"
DEFAULT_PORT = 8888
REPO_URL = "https://github.com/backprop-course/backprop-course"

#: nbgrader front-end plugins that are instructor tools (hidden in learner mode).
NBGRADER_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:menu",
)
#: nbgrader server extensions behind those panels.
NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``backprop-course start``."""
    parser.add_argument(
        "--port", type=int, default=None,
        help=f"port to serve on (default: the first free port from {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--ip", default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; use 0.0.0.0 inside a container)",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open a web browser, just print the URL"
    )
    parser.add_argument(
        "--dir", type=Path, default=None, metavar="PATH",
        help="notebook folder to open (default: the clone's notebooks/, else a working copy in "
        f"./{WORKING_COPY})",
    )
    parser.add_argument(
        "--instructor", action="store_true",
        help="instructor view: serve the whole clone (solutions/ too) with nbgrader's panels "
        "(formgrader, create assignment, ...)",
    )
    parser.add_argument(
        "--dry-run", action="store_true",
        help="print the folder, URL and JupyterLab arguments, then exit without serving",
    )


# --------------------------------------------------------------------------------------------
# Where the notebooks are
# --------------------------------------------------------------------------------------------

def is_course_clone(path: Path) -> bool:
    """True if ``path`` is a checkout of this repository (has pyproject.toml and notebooks/)."""
    pyproject = path / "pyproject.toml"
    if not (pyproject.is_file() and (path / "notebooks").is_dir()):
        return False
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return False
    return 'name = "backprop-course"' in text


def installed_clone() -> Path | None:
    """The clone the ``course`` package is imported from (editable install), if any."""
    import course

    root = Path(course.__file__).resolve().parent.parent
    return root if is_course_clone(root) else None


def shipped_notebooks() -> Traversable | None:
    """The learner notebooks inside an installed wheel (``course/notebooks``), if shipped."""
    try:
        folder = resources.files("course") / "notebooks"
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - defensive
        return None
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    return None


def copy_missing(source: Traversable, target: Path) -> tuple[int, int]:
    """Copy every file of ``source`` into ``target`` unless it already exists there.

    Returns (files copied, files kept because the learner already has them).
    Checkpoints and caches are skipped.
    """
    copied = kept = 0
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name.startswith((".", "__")):
            continue
        destination = target / entry.name
        if entry.is_dir():
            c, k = copy_missing(entry, destination)
            copied, kept = copied + c, kept + k
        elif destination.exists():
            kept += 1
        else:
            destination.write_bytes(entry.read_bytes())
            copied += 1
    return copied, kept


def find_notebook_dir(explicit: Path | None = None, cwd: Path | None = None) -> Path:
    """Pick the folder to open (see the module docstring); creates the working copy if needed.

    Raises FileNotFoundError with instructions when there is nothing to open.
    """
    cwd = Path.cwd() if cwd is None else cwd
    if explicit is not None:
        folder = explicit.expanduser().resolve()
        if not folder.is_dir():
            raise FileNotFoundError(f"--dir {explicit}: no such folder")
        return folder
    for root in (cwd.resolve(), installed_clone()):
        if root is not None and is_course_clone(root):
            return root / "notebooks"
    shipped = shipped_notebooks()
    if shipped is None:
        raise FileNotFoundError(
            "cannot find the course notebooks: this installation does not include them.\n"
            "Get the course from its repository and start it there:\n"
            f"  git clone {REPO_URL}\n"
            "  cd backprop-course && bash scripts/start.sh"
        )
    target = cwd / WORKING_COPY
    copied, kept = copy_missing(shipped, target)
    if copied:
        print(f"Copied {copied} course file(s) to {target}")
    if kept:
        print(f"Kept {kept} file(s) you already have in {target} (never overwritten)")
    return target.resolve()


# --------------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------------

def running_as_root() -> bool:
    """True on POSIX when the effective user is root (JupyterLab then needs --allow-root)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def free_port(ip: str, start: int = DEFAULT_PORT, tries: int = 100) -> int:
    """The first port from ``start`` on that can be bound on ``ip``."""
    host = "127.0.0.1" if ip in ("localhost", "") else ip
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port in {start}..{start + tries - 1} on {ip}")


def browser_url(ip: str, port: int, token: str) -> str:
    """The URL a browser on this machine opens (0.0.0.0 and :: are shown as 127.0.0.1)."""
    host = "127.0.0.1" if ip in ("0.0.0.0", "::", "", "*") else ip
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/lab?token={token}"


def lab_arguments(notebook_dir: Path, ip: str, port: int, *, no_browser: bool) -> list[str]:
    """Command-line arguments for JupyterLab."""
    argv = [
        f"--ServerApp.root_dir={notebook_dir}",
        f"--ServerApp.ip={ip}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # the printed URL must be the real one
    ]
    if no_browser:
        argv.append("--no-browser")
    if running_as_root():
        argv.append("--allow-root")
    return argv


@contextmanager
def learner_config() -> Iterator[Path]:
    """A temporary Jupyter config folder hiding nbgrader's instructor panels.

    Put first on JUPYTER_CONFIG_PATH, it overrides the site-wide files nbgrader installs.
    """
    with tempfile.TemporaryDirectory(prefix="backprop-course-jupyter-") as tmp:
        root = Path(tmp)
        (root / "labconfig").mkdir()
        (root / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": dict.fromkeys(NBGRADER_LAB_PLUGINS, True)})
        )
        (root / "jupyter_server_config.d").mkdir()
        (root / "jupyter_server_config.d" / "zz-backprop-course-learner.json").write_text(
            json.dumps(
                {"ServerApp": {"jpserver_extensions": dict.fromkeys(
                    NBGRADER_SERVER_EXTENSIONS, False)}}
            )
        )
        yield root


def run(args: argparse.Namespace) -> int:
    """Serve JupyterLab on the course notebooks until it is stopped; returns the exit status."""
    try:
        notebook_dir = find_notebook_dir(args.dir)
        port = args.port if args.port is not None else free_port(args.ip)
    except OSError as exc:  # FileNotFoundError included
        print(f"backprop-course start: {exc}", file=sys.stderr)
        return 2
    root_dir = notebook_dir
    if args.instructor and is_course_clone(notebook_dir.parent):
        # nbgrader's formgrader reads nbgrader_config.py and the gradebook from the server's
        # working folder: serve the whole clone (solutions/ and notebooks/) from its root.
        root_dir = notebook_dir.parent
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    argv = lab_arguments(root_dir, args.ip, port, no_browser=args.no_browser)
    url = browser_url(args.ip, port, token)

    print(f"Course notebooks: {notebook_dir}")
    if (notebook_dir / FIRST_NOTEBOOK).is_file():
        print(f"Start with: {FIRST_NOTEBOOK}")
    print(f"Open the course at: {url}")
    if args.dry_run:
        print("JupyterLab arguments: " + " ".join(argv))
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        print(
            "backprop-course start: JupyterLab is not installed. Install it with:\n"
            "  pip install 'backprop-course[lab]'   (from a clone: pip install -e '.[lab]')",
            file=sys.stderr,
        )
        return 2
    print("Stop the server with Ctrl-C.", flush=True)

    os.environ["JUPYTER_TOKEN"] = token
    # Terminals and `!backprop-course progress` in a notebook find this environment's commands
    # even when it was never activated (scripts/start.sh runs .venv/bin/backprop-course).
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join(filter(None, [bin_dir, os.environ.get("PATH")]))
    if root_dir != notebook_dir:
        os.chdir(root_dir)
    from jupyterlab.labapp import LabApp

    hide_nbgrader = importlib.util.find_spec("nbgrader") is not None and not args.instructor
    if not hide_nbgrader:
        LabApp.launch_instance(argv=argv)
        return 0
    with learner_config() as config_dir:
        previous = os.environ.get("JUPYTER_CONFIG_PATH")
        os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            [str(config_dir)] + ([previous] if previous else [])
        )
        LabApp.launch_instance(argv=argv)
    return 0
