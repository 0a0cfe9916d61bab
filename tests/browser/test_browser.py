"""The widgets in a real browser: JupyterLab 4 and Notebook 7 in headless Chromium (Playwright).

One Jupyter server (a temporary directory, a free port, a token) serves a small test notebook
that calls the widgets plus the course's notebooks 07 and 08 when they exist. For each, the test
opens the notebook, runs all cells, waits for the learning-rate slider, moves it with the
keyboard and checks that the figure (the <img> output) changed and that no
"Error displaying widget" appeared.

Needs Debian's Chromium at /usr/bin/chromium (.ci/run installs it). Without it the tests are
skipped, except under CI (the CI environment variable is set), where that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from support import ROOT, require_chromium

pytestmark = pytest.mark.browser

TEST_NOTEBOOK = "widgets-test.ipynb"
# Solution versions: every exercise cell is filled in, so "run all" reaches the widget cells
# (in the learner versions the first unsolved exercise stops the run).
COURSE_NOTEBOOKS = {
    "07-learning-rate": ROOT / "solutions" / "07-learning-rate" / "07-learning-rate.ipynb",
    "08-optimizers": ROOT / "solutions" / "08-optimizers" / "08-optimizers.ipynb",
}
# Each widget's cell is found by a control label that only that widget shows.
EXPLORER = "data + model"
RACE = "loss surface"
SECONDS = 1000  # Playwright timeouts are in milliseconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_test_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from course.widgets import learning_rate_explorer, "
                                  "optimizer_race"),
        nbformat.v4.new_code_cell("learning_rate_explorer()"),
        nbformat.v4.new_code_cell("optimizer_race()"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


class JupyterServer:
    """A running `jupyter lab` serving `root`; urls carry the token."""

    def __init__(self, root: Path, proc: subprocess.Popen, port: int, token: str) -> None:
        self.root, self.proc, self.port, self.token = root, proc, port, token

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    require_chromium()
    base = tmp_path_factory.mktemp("jupyter")
    root = base / "notebooks"
    root.mkdir()
    _write_test_notebook(root / TEST_NOTEBOOK)
    for name, source in COURSE_NOTEBOOKS.items():
        if source.exists():
            shutil.copytree(source.parent, root / name)
    # A private config dir: expose the app object to the page (so the test can run commands
    # the way the menus do) and switch off the news pop-up (it would reach for the internet).
    config = base / "config"
    (config / "labconfig").mkdir(parents=True)
    (config / "jupyter_server_config.py").write_text(
        "c.LabApp.expose_app_in_browser = True\n"
        "c.JupyterNotebookApp.expose_app_in_browser = True\n"
    )
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "IPYTHONDIR": str(base / "ipython"),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    log = open(base / "server.log", "w")  # closed in the finalizer
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         f"--ServerApp.token={token}", f"--port={port}", "--ServerApp.port_retries=0",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}",
         f"--LabApp.workspaces_dir={base / 'workspaces'}"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = JupyterServer(root, proc, port, token)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited early:\n{(base / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(server.url("api/status"), timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not start:\n{(base / 'server.log').read_text()}")
            time.sleep(0.5)
        yield server
    finally:
        # The server started its kernels in its own session: end the whole group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()


@pytest.fixture
def page(jupyter_server: JupyterServer, chromium: object) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        context.close()


def open_and_run_all(page: object, url: str, path: str) -> None:
    """Open notebook `path`, wait for its kernel, run every cell, wait until all finished."""
    page.goto(url, timeout=90 * SECONDS)
    # The notebook is the current widget, its file is loaded and its kernel is idle.
    page.wait_for_function(
        """(path) => {
            const app = window.jupyterapp;
            const panel = app && app.shell.currentWidget;
            const session = panel && panel.sessionContext;
            return panel && panel.context && panel.context.path === path
                && panel.context.isReady && session && session.session
                && session.session.kernel && session.session.kernel.status === 'idle';
        }""",
        arg=path,
        timeout=120 * SECONDS,
    )
    # Start "Run All" without awaiting it (a page.evaluate has no timeout of its own).
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    # Done when no cell shows the busy prompt [*] and every code cell has a number.
    page.wait_for_function("""() => {
        const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
        return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
    }""", timeout=180 * SECONDS)


def shutdown_kernel(page: object) -> None:
    """Ask for the kernel's shutdown (not awaited; the server stops the rest at the end)."""
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.sessionContext.shutdown(); }")


def move_slider_and_check(page: object, widget_label: str, *, use_keyboard: bool) -> None:
    """In the cell whose widget shows `widget_label`: move its learning-rate slider to the
    right (arrow key on the focused handle, or a mouse drag); the figure must change and no
    widget error may show.

    (In Notebook 7 the arrow keys do not reach a focused slider handle, so there we drag.)
    """
    label = page.locator(".jupyter-widgets .widget-label", has_text=widget_label)
    cell = page.locator(".jp-CodeCell").filter(has=label).first
    cell.scroll_into_view_if_needed()
    slider = cell.locator(".widget-slider", has_text="learning rate").first
    slider.wait_for(timeout=60 * SECONDS)
    figure = cell.locator(".jp-OutputArea-output img").first
    figure.wait_for(timeout=60 * SECONDS)
    before_src = figure.get_attribute("src")
    assert before_src and before_src.startswith("data:image/png"), before_src
    assert figure.evaluate("img => img.naturalWidth") > 300  # a real figure, not a stub
    readout_before = slider.locator(".widget-readout").inner_text()
    handle = slider.locator(".noUi-handle")
    if use_keyboard:
        handle.focus()
        page.keyboard.press("ArrowRight")
    else:
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 40, y, steps=5)
        page.mouse.up()
    # The image output is replaced through its display id: look it up afresh each time.
    page.wait_for_function(
        """([cell, before]) => {
            const img = cell.querySelector('.jp-OutputArea-output img');
            return img !== null && img.src !== before && img.complete && img.naturalWidth > 0;
        }""",
        arg=[cell.element_handle(), before_src],
        timeout=60 * SECONDS,
    )
    assert slider.locator(".widget-readout").inner_text() != readout_before
    assert page.get_by_text("Error displaying widget").count() == 0
    assert cell.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    # Uncaught page errors from the widget machinery (other extensions' noise is ignored:
    # Notebook 7 with nbgrader's extension logs unrelated ones).
    widget_errors = [e for e in page.errors if "widget" in e.lower()]
    assert not widget_errors, widget_errors


def _lab_case(name: str, label: str) -> object:
    """Notebook `name` (07 or 08) if it exists yet, else the small test notebook."""
    path = f"{name}/{name}.ipynb" if COURSE_NOTEBOOKS[name].exists() else TEST_NOTEBOOK
    return pytest.param(path, label, id=f"{name}:{path}")


@pytest.mark.parametrize(("path", "label"), [_lab_case("07-learning-rate", EXPLORER),
                                             _lab_case("08-optimizers", RACE)])
def test_jupyterlab_slider_redraws_figure(jupyter_server: JupyterServer, page: object,
                                          path: str, label: str) -> None:
    # A fresh workspace, so JupyterLab does not reopen notebooks from an earlier test.
    workspace = secrets.token_hex(4)
    open_and_run_all(page, jupyter_server.url(f"lab/workspaces/{workspace}/tree/{path}"), path)
    try:
        move_slider_and_check(page, label, use_keyboard=True)
    finally:
        shutdown_kernel(page)


def test_notebook7_slider_redraws_both_widgets(jupyter_server: JupyterServer,
                                               page: object) -> None:
    open_and_run_all(page, jupyter_server.url(f"notebooks/{TEST_NOTEBOOK}"), TEST_NOTEBOOK)
    try:
        move_slider_and_check(page, EXPLORER, use_keyboard=False)
        move_slider_and_check(page, RACE, use_keyboard=False)
    finally:
        shutdown_kernel(page)
