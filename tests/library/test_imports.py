"""The package's import structure: every module imports on its own, and nothing imports in a circle.

The library imports downward (layers <- network <- optim <- train <- experiments <- plots <-
widgets); a circle hides as a lazy import inside a function, so the graph below counts the
imports at any depth of a module, not only the ones at the top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import ROOT

PACKAGE = ROOT / "course"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {
    module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "data" not in p.parts
}


def _resolve(name: str) -> str | None:
    """The course module `name` refers to (a module, or the package holding the attribute)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str) -> set[str]:
    """Course modules that module `name` imports anywhere in its body (TYPE_CHECKING aside)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "course":
                    found.add(_resolve(alias.name) or alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] == "course":
                for alias in node.names:
                    target = _resolve(f"{base}.{alias.name}")
                    if target is not None:
                        found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(name)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := dfs(node)):
            return cycle
    return None


def test_the_graph_finder_sees_circles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_in_the_package():
    graph = {name: imports_of(name) for name in MODULES}
    assert graph["course.plots"] >= {"course.experiments"}  # the parser sees real imports
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_experiments_and_plots_do_not_import_the_widgets():
    graph = {name: imports_of(name) for name in MODULES}
    assert "course.widgets" not in graph["course.plots"]
    assert not graph["course.experiments"] & {"course.widgets", "course.plots"}


def _import_alone(name: str) -> tuple[str, int, str]:
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    return name, proc.returncode, proc.stderr[-2000:]


def test_every_module_imports_in_a_fresh_interpreter():
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_import_alone, MODULES))
    failed = [f"{name}:\n{err}" for name, rc, err in results if rc != 0]
    assert not failed, "\n\n".join(failed)


BLOCK_IPYWIDGETS = """
import sys, importlib.abc

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'ipywidgets':
            raise ImportError('ipywidgets blocked for this test')
        return None

sys.meta_path.insert(0, Block())
import {module}
assert 'ipywidgets' not in sys.modules
"""


@pytest.mark.parametrize("module", ["course.experiments", "course.plots"])
def test_imports_without_ipywidgets(module):
    code = BLOCK_IPYWIDGETS.format(module=module)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_the_released_import_paths_still_work():
    from course import plots, widgets

    for name in ("learning_rate_explorer", "optimizer_race", "gradient_flow", "race",
                 "lr_range_test", "train_run", "gradient_norms", "SURFACES", "LR_GRID"):
        assert hasattr(widgets, name), name
    assert hasattr(plots, "gradient_flow_figure")
