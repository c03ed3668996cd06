"""Dependencies point one way (docs/architecture.md "Layers"): walk every production module's imports and fail
on an upward import or a cycle.

Imports inside `if TYPE_CHECKING:` are type annotations only and are not followed; function-level imports
are (they still run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("models", "chat", "cards", "services", "handlers", "schedulers", "bot", "demo")

# Who may import whom (besides itself). Pure vocabulary modules importing nothing of ours are in LEAVES.
MAY_IMPORT: dict[str, set[str]] = {
    "models": set(),
    "chat": {"models"},
    "cards": {"models", "chat"},
    "services": {"models", "chat", "cards"},
    "handlers": {"models", "chat", "cards", "services"},
    "schedulers": {"models", "chat", "cards", "services"},
    "bot": {"models", "chat", "cards", "services", "handlers", "schedulers"},
    "demo": {"models", "chat", "cards", "services", "handlers", "schedulers", "bot"},
}
# The command line is the one entry point above everything: `salesbot demo` runs the demo package.
ENTRY_POINTS = {"bot.cli": {"demo"}}
LEAVES = {"cards.keys", "services.escape"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str, modules: set[str]) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {
                f"{base}.{alias.name}" for alias in node.names
            } & modules  # `from services import roles`
            found.update(submodules)
            if len(submodules) < len(node.names):  # also names defined in `base` itself
                found.add(base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            modules[_module_name(path)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = {t for t in _imports(tree, package, set(modules)) if t in modules}
        graph[name] = targets - {name}
    return graph


GRAPH = _graph()


def test_the_walk_sees_the_code() -> None:
    assert {"chat.router", "chat.handle", "services.roles", "services.scope", "bot.dispatcher"} <= set(GRAPH)
    assert "models" in GRAPH["chat.handle"] or any(t.startswith("models") for t in GRAPH["chat.handle"])


def test_leaves_import_nothing_of_ours() -> None:
    for leaf in LEAVES:
        assert GRAPH[leaf] == set(), f"{leaf} must stay a leaf: it imports {sorted(GRAPH[leaf])}"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_upward_import(package: str) -> None:
    wrong = []
    for module, targets in GRAPH.items():
        if module.split(".")[0] != package:
            continue
        for target in targets:
            top = target.split(".")[0]
            if top == package or target in LEAVES or top in MAY_IMPORT[package]:
                continue
            if top in ENTRY_POINTS.get(module, set()):
                continue
            wrong.append(f"{module} imports {target}")
    assert not wrong, "upward or sideways imports:\n" + "\n".join(sorted(wrong))


def test_no_import_cycle() -> None:
    # A package's __init__ importing its own submodules is not a cycle of dependencies: drop those edges.
    graph = {
        module: {t for t in targets if not (GRAPH.get(t) is not None and t.startswith(module + "."))}
        for module, targets in GRAPH.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)
