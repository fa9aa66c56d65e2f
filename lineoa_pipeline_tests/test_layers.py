"""The package's plan: imports run one way, from the command line down to LINE's export format, and no module
imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

import lineoa_pipeline

PACKAGE = Path(lineoa_pipeline.__file__).parent
# Highest first: a package may import those below it, never those above, and its own modules.
LAYERS: list[set[str]] = [
    {"commands"},
    {"defs"},  # with definitions.py, which loads them
    {"ingest", "retention", "history", "synthetic"},
    {"warehouse"},
    {"settings"},
    {"line_export"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _modules() -> dict[str, Path]:
    return {
        ".".join(("lineoa_pipeline", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module of the package `path` imports, at any depth of its code (type-checking imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lineoa_pipeline"):
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if name in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lineoa_pipeline."))
    return found & modules.keys()


def _area(module: str) -> str:
    area = module.split(".")[1] if "." in module else ""
    return "defs" if area == "definitions" else area


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def test_every_package_has_a_layer() -> None:
    areas = {_area(m) for m in _graph()} - {""}
    assert areas == RANK.keys()


def test_imports_run_one_way() -> None:
    upward = [
        f"{module} imports {imported}"
        for module, imports in _graph().items()
        if _area(module)
        for imported in imports
        if RANK[_area(imported)] < RANK[_area(module)]
        or (RANK[_area(imported)] == RANK[_area(module)] and _area(imported) != _area(module))
    ]
    assert upward == []


def test_no_module_imports_itself_back() -> None:
    graph = _graph()
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for imported in sorted(graph[module]):
            if imported in path:
                cycles.append(" -> ".join([*path[path.index(imported) :], imported]))
            elif imported not in done:
                visit(imported, [*path, imported])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert cycles == []


def test_every_package_says_what_it_owns_and_may_import() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), init.parent.name
