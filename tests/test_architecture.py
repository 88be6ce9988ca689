"""The house rules of src/framesift, checked on the code itself (docs/architecture.md).

Floors, from the ground up: the engine (every module outside the packages below), then
``catalog``, then ``batch``, then the shells ``cli`` and ``notebook``. An import may point
down or sideways on its floor, never up; there is no import cycle (imports inside functions
count: a deferred import does not make a cycle go away); no file is over 500 lines and no
function over 80.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "framesift"
FLOORS = {"catalog": 1, "batch": 2, "cli": 3, "notebook": 3}  # everything else: 0, the engine
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS.get(parts[1], 0) if len(parts) > 1 else FLOORS["cli"]  # the package root


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if MODULES[module].name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _known(name: str) -> str | None:
    """The framesift module ``name`` refers to (a module, or a name in a package)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> set[str]:
    """Every framesift module ``module`` imports, at the top or inside a function (imports
    only type checkers read are left out)."""
    tree = ast.parse(MODULES[module].read_text())
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            names = [f"{base}.{alias.name}" for alias in node.names] or [base]
        for name in names:
            target = _known(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _without_package_roots(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Arrows between modules; a package's ``__init__`` re-exporting its own modules is the
    package's front door, not a room of its own, so arrows from it to its members are left
    out of the cycle search."""
    return {
        module: {t for t in targets if not t.startswith(module + ".")}
        for module, targets in graph.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_rules_see_the_whole_package():
    """A guard on the guard: the graph has the rooms and arrows the rules speak of."""
    assert {"framesift.sample", "framesift.catalog.catalog", "framesift.cli"} <= set(MODULES)
    assert "framesift.select" in GRAPH["framesift.sample"]
    assert "framesift.catalog.ingest" in GRAPH["framesift.batch.loop"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle():
    assert _cycles(_without_package_roots(GRAPH)) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str):
    """The engine never imports the catalog, the batch loop or a shell; the catalog never
    imports the batch loop or a shell; nothing imports the command line."""
    upward = sorted(t for t in GRAPH[module] if _floor(t) > _floor(module))
    if module == "framesift":  # the package root re-exports from every floor, lazily
        upward = []
    assert upward == [], f"{module} imports a floor above it"


def test_files_and_functions_stay_small():
    too_long: list[str] = []
    for module, path in MODULES.items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_FILE_LINES:
            too_long.append(f"{module}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{module}.{node.name}: {length} lines")
    assert too_long == []
