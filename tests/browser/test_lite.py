"""The browser version of the course (`backprop-course lite build`, course/lite.py).

One session fixture builds the site once into a temporary folder (downloads are cached in
~/.cache/backprop-course/lite, or $BACKPROP_COURSE_CACHE/lite). Then:

- the build test checks the folder: every learner notebook, the pinned Pyodide, a lock whose
  every file is there with its sha256, and whose Pyodide wheels are the official ones;
- the browser test serves the folder from 127.0.0.1 (http.server in a thread), opens notebook
  07 in headless Chromium, writes an answer, runs its check, moves the widget's slider and
  sees the figure redraw, shows the progress view, saves, reloads the page and finds the
  answer still there, checks that the notebook as the browser saved it would be graded as it
  is, and asserts that no request went anywhere but 127.0.0.1.

Needs npm (Pyodide's core files come from the npm registry) and Debian's Chromium at
/usr/bin/chromium. Without them the tests skip, except under CI, where that is a failure.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from support import ROOT, require

from course import lite

NOTEBOOK = "07-learning-rate/07-learning-rate.ipynb"
ANSWER = ("def sgd_step(w, dw, lr):\n"
          "    # answered in the browser\n"
          "    return w - lr * dw\n")
SECONDS = 1000  # Playwright timeouts are in milliseconds


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once per session from this repository."""
    require("npm", shutil.which("npm") is not None)
    out = tmp_path_factory.mktemp("lite") / "site"
    messages: list[str] = []
    try:
        lite.build(out, repo=ROOT, log=messages.append)
    except lite.LiteBuildError as exc:
        pytest.fail(f"{exc}\n" + "\n".join(messages))
    return out


# ---------------------------------------------------------------------------------------------
# fast: only wheels whose sha256 is the official lock's are taken, from any source


def _fake_lock(files: dict[str, bytes]) -> dict:
    import hashlib

    return {"packages": {
        "a": {"file_name": "a.whl", "sha256": hashlib.sha256(files["a.whl"]).hexdigest(),
              "depends": ["B_pkg"]},
        "b-pkg": {"file_name": "b.whl", "sha256": hashlib.sha256(files["b.whl"]).hexdigest(),
                  "depends": []},
        "unused": {"file_name": "u.whl", "sha256": "0" * 64, "depends": []},
    }}


def test_closure_follows_dependencies_with_any_spelling() -> None:
    lock = _fake_lock({"a.whl": b"A", "b.whl": b"B"})
    assert lite.closure(lock, ["A"]) == ["a", "b-pkg"]
    with pytest.raises(lite.LiteBuildError, match="not in Pyodide's lock"):
        lite.closure(lock, ["scipy"])


def test_wheels_are_taken_only_with_the_lock_hash(tmp_path: Path) -> None:
    lock = _fake_lock({"a.whl": b"A", "b.whl": b"B"})
    pins = {"pyodide": {"version": "0", "wheel_sources": []}}
    good, bad = tmp_path / "official", tmp_path / "tampered"
    good.mkdir(), bad.mkdir()
    (bad / "a.whl").write_bytes(b"not A")
    (good / "a.whl").write_bytes(b"A")
    (good / "b.whl").write_bytes(b"B")
    log: list[str] = []
    cache = tmp_path / "cache"
    # The tampered copy is rejected, the official one taken, and where it came from recorded.
    found = lite.pyodide_wheels(cache, pins, lock, ["a", "b-pkg"], tmp_path, [bad, good],
                                log.append)
    assert set(found) == {"a.whl", "b.whl"} and found["a.whl"]["source"] == str(good)
    assert any("rejected a.whl" in line for line in log)
    assert (cache / "wheels" / "a.whl").read_bytes() == b"A"
    assert json.loads((cache / "wheels" / "SOURCES.json").read_text())["a.whl"]["source"] \
        == str(good)
    # A file no source has with the right hash stops the build and names the fallback.
    with pytest.raises(lite.LiteBuildError, match="--pyodide-wheels"):
        lite.pyodide_wheels(tmp_path / "cache2", pins, lock, ["a"], tmp_path, [bad], log.append)


# ---------------------------------------------------------------------------------------------
# the folder


@pytest.mark.slow
@pytest.mark.browser
def test_site_has_notebooks_pinned_pyodide_and_a_verified_lock(site: Path) -> None:
    pins = lite.load_pins(ROOT)
    # Every learner notebook, with the browser note first and every graded cell unchanged.
    learner = sorted(p.relative_to(ROOT / "notebooks").as_posix()
                     for p in (ROOT / "notebooks").glob("*/*.ipynb"))
    assert learner and sorted(json.loads((site / lite.MANIFEST).read_text())["notebooks"]) \
        == learner
    for rel in learner:
        served = json.loads((site / "files" / rel).read_text())
        original = json.loads((ROOT / "notebooks" / rel).read_text())
        assert lite.NOTE_TAG in served["cells"][0]["metadata"]["tags"]
        assert served["cells"][1:] == original["cells"]
        nbformat.validate(nbformat.from_dict(served))
    # The pinned Pyodide, local, and a clean build (no doit database in the output).
    config = json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"][lite.KERNEL_PLUGIN]
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.js"
    assert kernel["disablePyPIFallback"] is True
    assert all(u.startswith("./") for u in kernel["pipliteUrls"])
    assert not list(site.rglob(".jupyterlite.doit.db*"))
    lock = lite.check_site(site)  # every file of the lock is there, with its sha256
    assert lock["info"]["version"] == pins["pyodide"]["version"]
    # Pyodide's own packages are exactly the official ones (the lock in the npm tarball).
    tgz = lite.default_cache() / "npm" / f"pyodide-{pins['pyodide']['version']}.tgz"
    assert lite.sha256_file(tgz) == pins["pyodide"]["npm_sha256"]
    with tarfile.open(tgz) as tar:
        official = json.load(tar.extractfile("package/pyodide-lock.json"))["packages"]
    ours = {"backprop-course", *pins["kernel"]}
    for name, entry in lock["packages"].items():
        if name not in ours:
            assert entry == official[name], name
    assert {"numpy", "matplotlib", "ipywidgets", "backprop-course"} <= set(lock["packages"])
    # The README's "in your browser" link points at a file of the site.
    readme = (ROOT / "README.md").read_text()
    marker = "lab/index.html?path="
    if marker in readme:
        target = readme.split(marker, 1)[1].split(")", 1)[0].split("&", 1)[0]
        assert (site / "files" / target).exists(), target


# ---------------------------------------------------------------------------------------------
# the browser


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript",
                      ".mjs": "text/javascript", ".json": "application/json"}

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def server(site: Path) -> Iterator[str]:
    """The site over http://127.0.0.1:<free port>/ (a static file server in a thread)."""
    # The tests drive the app through window.jupyterapp (JupyterLab's test hook).
    path = site / "jupyter-lite.json"
    config = json.loads(path.read_text())
    config["jupyter-config-data"]["exposeAppInBrowser"] = "true"
    path.write_text(json.dumps(config))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def page(server: str, chromium: object) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))

    def route(r: object) -> None:  # anything not local is recorded and never sent
        if urlsplit(r.request.url).hostname == "127.0.0.1" or \
                r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.requests = requests  # type: ignore[attr-defined]
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()


# Small helpers on the JupyterLab app the page exposes.
_PANEL = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
_CELLS = f"({_PANEL}).content.widgets"


def _open(page: object, url: str) -> None:
    """Load the notebook page; wait for the notebook and an idle Pyodide kernel."""
    page.goto(url, timeout=90 * SECONDS)
    page.wait_for_function(
        f"""(path) => {{
            const panel = {_PANEL};
            const kernel = panel && panel.sessionContext && panel.sessionContext.session
                && panel.sessionContext.session.kernel;
            return !!panel && !!panel.context && panel.context.path === path
                && panel.context.isReady && kernel && kernel.status === 'idle';
        }}""",
        arg=NOTEBOOK, timeout=240 * SECONDS, polling=500)


def _index(page: object, *, grade_id: str | None = None, contains: str | None = None) -> int:
    return page.evaluate(
        f"""([gid, text]) => {_CELLS}.findIndex(c =>
            gid ? (c.model.getMetadata('nbgrader') || {{}}).grade_id === gid
                : c.model.sharedModel.getSource().includes(text))""",
        [grade_id, contains])


def _run(page: object, index: int, timeout: int = 120) -> str:
    """Run cell `index`, wait until it finished, return its output text."""
    page.evaluate(f"""(i) => {{
        const nb = ({_PANEL}).content;
        nb.activeCellIndex = i; nb.deselectAll();
        window.jupyterapp.commands.execute('notebook:run-cell');
    }}""", index)
    page.wait_for_function(f"""(i) => {{
        const cell = {_CELLS}[i];
        const prompt = cell.node.querySelector('.jp-InputPrompt');
        return cell.model.executionCount !== null && prompt
            && /\\[\\d+\\]/.test(prompt.textContent);
    }}""", arg=index, timeout=timeout * SECONDS, polling=250)
    return page.evaluate(f"(i) => {_CELLS}[i].node.querySelector('.jp-OutputArea').innerText",
                         index)


def _slider_redraws_figure(page: object, index: int) -> None:
    """Drag the learning-rate slider in cell `index` to the right; the figure changes."""
    page.evaluate(f"(i) => ({_PANEL}).content.scrollToItem(i, 'start')", index)
    cell = page.evaluate_handle(f"(i) => {_CELLS}[i].node", index)
    slider = cell.wait_for_selector(".widget-slider:has-text('learning rate')",
                                    timeout=120 * SECONDS)
    figure = cell.wait_for_selector(".jp-OutputArea-output img", timeout=120 * SECONDS)
    before = figure.get_attribute("src")
    assert before and before.startswith("data:image/png"), before
    readout = slider.query_selector(".widget-readout").inner_text()
    box = slider.query_selector(".noUi-handle").bounding_box()  # drag the handle right
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=5)
    page.mouse.up()
    page.wait_for_function(
        """([cell, before]) => {
            const img = cell.querySelector('.jp-OutputArea-output img');
            return img !== null && img.src !== before && img.complete && img.naturalWidth > 300;
        }""",
        arg=[cell, before], timeout=120 * SECONDS)
    assert slider.query_selector(".widget-readout").inner_text() != readout
    assert page.get_by_text("Error displaying widget").count() == 0


@pytest.mark.slow
@pytest.mark.browser
def test_notebook_runs_offline_in_chromium(server: str, page: object) -> None:
    url = f"{server}lab/index.html?path={NOTEBOOK}"
    _open(page, url)
    assert _index(page, contains="Running in your browser") == 0  # the note comes first

    # Write an answer, run the setup, the answer and its check: the check's message shows.
    answer = _index(page, grade_id="sgd_step")
    page.evaluate(f"([i, text]) => {_CELLS}[i].model.sharedModel.setSource(text)",
                  [answer, ANSWER])
    _run(page, _index(page, grade_id="setup"), timeout=180)
    _run(page, answer)
    message = _run(page, _index(page, grade_id="test_sgd_step"))
    assert "sgd_step: all good" in message, message

    # The widget: a slider move redraws the figure, in the browser's Python.
    explorer = _index(page, contains="learning_rate_explorer()")
    _run(page, explorer, timeout=180)
    _slider_redraws_figure(page, explorer)

    # The progress view works from a cell (added at the end, as a learner would).
    page.evaluate(f"""() => {{
        const nb = ({_PANEL}).content;
        nb.activeCellIndex = nb.widgets.length - 1;
        return window.jupyterapp.commands.execute('notebook:insert-cell-below');
    }}""")
    last = page.evaluate(f"() => {_CELLS}.length - 1")
    page.evaluate(f"""(i) => {_CELLS}[i].model.sharedModel.setSource(
        'from course.progress import show_progress\\nshow_progress(notebook="07")')""", last)
    progress = _run(page, last)
    assert "sgd_step" in progress and "pass" in progress, progress

    # Save, reload: the answer is still there (kept in the browser's storage).
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(f"() => !({_PANEL}).context.model.dirty", timeout=30 * SECONDS)
    page.reload()
    _open(page, url)
    assert "answered in the browser" in page.evaluate(
        f"(i) => {_CELLS}[i].model.sharedModel.getSource()", _index(page, grade_id="sgd_step"))

    # The notebook as the browser hands it out (File > Download) is graded as it is.
    saved = page.evaluate("""async (path) => {
        const m = await window.jupyterapp.serviceManager.contents.get(path, {content: true});
        return m.content;
    }""", NOTEBOOK)
    from course.grading.assignment import build_plan, load_assignment, parse_submission

    assignment = load_assignment("07-learning-rate", ROOT / "solutions", ROOT / "notebooks")
    plan = build_plan(assignment, parse_submission(json.dumps(saved).encode()))
    assert plan.tampered == {}, plan.tampered
    assert "answered in the browser" in plan.answers["sgd_step"]

    # Nothing left the machine, and the Python in the page was Pyodide's.
    outside = [u for u in page.requests if urlsplit(u).hostname not in ("127.0.0.1", None)
               and not u.startswith(("data:", "blob:"))]
    assert not outside, outside
    assert any(u.endswith("/static/pyodide/pyodide.asm.wasm") for u in page.requests)
    assert not [e for e in page.errors if "widget" in e.lower()], page.errors


SOLUTIONS = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb"))


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not os.environ.get("BACKPROP_COURSE_LITE_ALL"),
                    reason="every notebook in the browser takes minutes: set "
                           "BACKPROP_COURSE_LITE_ALL=1")
@pytest.mark.parametrize("name", SOLUTIONS)
def test_every_solution_notebook_runs_in_the_browser(server: str, page: object,
                                                     name: str) -> None:
    """Opt-in: each solution notebook, put into the browser's storage, runs with no error."""
    import time

    nb = json.loads((ROOT / "solutions" / name / f"{name}.ipynb").read_text())
    nb["metadata"]["kernelspec"] = {"name": "python", "display_name": "Python (Pyodide)",
                                    "language": "python"}
    path = f"solution-{name}.ipynb"
    page.goto(f"{server}lab/index.html", timeout=90 * SECONDS)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.serviceManager",
                           timeout=90 * SECONDS)
    page.evaluate("""async ([p, c]) => window.jupyterapp.serviceManager.contents.save(
        p, {type: 'notebook', format: 'json', content: c})""", [path, nb])
    global NOTEBOOK
    saved, NOTEBOOK = NOTEBOOK, path
    try:
        _open(page, f"{server}lab/index.html?path={path}")
    finally:
        NOTEBOOK = saved
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    state = f"""() => {{
        const k = ({_PANEL}).sessionContext.session.kernel.status;
        const code = {_CELLS}.filter(c => c.model.type === 'code');
        return [k, code.filter(c => c.model.executionCount === null).length,
                code.flatMap(c => c.model.outputs.toJSON())
                    .filter(o => o.output_type === 'error')
                    .map(o => o.ename + ': ' + o.evalue)];
    }}"""
    deadline, idle = time.monotonic() + 600, 0
    while time.monotonic() < deadline and idle < 4:
        time.sleep(1)
        kernel, pending, errors = page.evaluate(state)
        assert not errors, errors
        idle = idle + 1 if kernel == "idle" else 0
    assert pending == 0, f"{pending} code cells did not run"
    assert not [u for u in page.requests if urlsplit(u).hostname not in ("127.0.0.1", None)
                and not u.startswith(("data:", "blob:"))]
