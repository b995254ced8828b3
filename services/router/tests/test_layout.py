"""The router's folders import only downwards: no folder-level import cycle, and only the
HTTP layer (api/) and the app that wires it see the wiring object."""

from __future__ import annotations

import ast
from pathlib import Path

import chorus_router

PACKAGE = Path(chorus_router.__file__).parent
WIRING = "chorus_router.api.services"


def _imports(path: Path) -> set[str]:
    """Every chorus_router module `path` imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("chorus_router.")}


def _node(relative: Path) -> str:
    """A top-level folder, or a module at the package root, as the graph's node."""
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _folder_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        source = _node(path.relative_to(PACKAGE))
        for module in _imports(path):
            target = module.split(".")[1]
            known = (PACKAGE / target).is_dir() or (PACKAGE / f"{target}.py").exists()
            if known and target != source:
                graph.setdefault(source, set()).add(target)
    return graph


def _cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """One path from `start` back to itself, if there is one."""
    paths = [[start]]
    seen: set[str] = set()
    while paths:
        path = paths.pop()
        for following in sorted(graph.get(path[-1], ())):
            if following == start:
                return [*path, start]
            if following not in seen:
                seen.add(following)
                paths.append([*path, following])
    return None


def test_no_folder_imports_itself_through_another() -> None:
    graph = _folder_graph()
    cycles = [cycle for node in sorted(graph) if (cycle := _cycle_through(graph, node))]
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_only_the_http_layer_and_the_app_see_the_wiring_object() -> None:
    outside = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if WIRING in _imports(path)
        and _node(path.relative_to(PACKAGE)) not in ("api", "app", "__main__")
    )
    assert outside == []
