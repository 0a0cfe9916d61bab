"""Shared fixtures, and one marker per notebook generated from the exercise registry.

The tests are in folders by area: library/ (the numerical library, datasets, widgets,
benchmarks), feedback/ (the learner-facing checks and the answer corpora), grading/ (the grader,
its jail, reports and exports), notebooks/ (the course notebooks, release, nbgrader),
launch/ (starting the course, Binder, oldest dependencies) and browser/ (JupyterLab and the
JupyterLite site in headless Chromium). Run one area with ``pytest tests/grading``.

``pytest -m nb08`` runs everything about notebook 08: a test concerns notebook NN when its file,
its node id or its parameters name one of that notebook's exercises (``momentum_step``,
``MC_ADAM_FIRST_STEP``), one of its grade ids (``test_momentum_step``), its folder
(``08-optimizers``) or its registry module (``nb08_``). The names come from
``course.exercises``, so a new exercise is marked without editing this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import (
    ROOT,
    chromium_launch,
    copy_repo,
    notebook_marker,
    notebook_markers,
    require_chromium,
)


def _param_texts(item: pytest.Item) -> list[str]:
    """The names a test's parameters carry (an Exercise, a corpus Answer, a notebook path)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return []
    texts = []
    for value in callspec.params.values():
        if isinstance(value, str | Path):
            texts.append(str(value))
        for attr in ("exercise", "notebook", "grade_id", "name"):
            text = getattr(value, attr, None)
            if isinstance(text, str):
                texts.append(text)
    return texts


def notebooks_of(item: pytest.Item) -> list[str]:
    """The markers ("nb03", ...) of the notebooks a collected test concerns."""
    return notebook_markers([item.nodeid, *_param_texts(item)])


def pytest_configure(config: pytest.Config) -> None:
    from course.exercises import notebooks

    for notebook in notebooks():
        mark = notebook_marker(notebook)
        config.addinivalue_line("markers", f"{mark}: concerns notebook {notebook} (registry)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for mark in notebooks_of(item):
            item.add_marker(mark)


# --- shared fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the repository as a clean clone would hold it, in a temporary folder."""
    return copy_repo(tmp_path / "repo")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium (Playwright) per test module (two sync Playwright sessions cannot be
    open at once); skips without Chromium and playwright, fails under CI."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_launch())
        try:
            yield browser
        finally:
            browser.close()
