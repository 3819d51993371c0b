"""The package's layering, checked from the source: no upward import, no import cycle.

Layers, bottom to top (an upper layer may import a lower one, never the reverse)::

    0  core, errors, _config, _lazy, _exports, _alias, _version
    1  dataset, recipe
    2  manager (runtimes)
    3  model, trainer, evaluator, deployer, inference, monitor, iam, notifications, rft_multiturn, util
    4  cli, mcp, __main__

Every import counts, including imports inside functions (lazy imports still couple the
modules); only imports under ``if TYPE_CHECKING:`` are exempt, since they never run.
A new top-level sub-package must be given a layer here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = "amzn_nova_forge"

LAYERS: dict[str, int] = {
    "core": 0,
    "errors": 0,
    "_config": 0,
    "_lazy": 0,
    "_exports": 0,
    "_alias": 0,
    "_version": 0,
    "py": 0,
    "dataset": 1,
    "recipe": 1,
    "manager": 2,
    "model": 3,
    "trainer": 3,
    "evaluator": 3,
    "deployer": 3,
    "inference": 3,
    "monitor": 3,
    "iam": 3,
    "notifications": 3,
    "rft_multiturn": 3,
    "util": 3,
    "telemetry": 3,
    "validation": 3,
    "cli": 4,
    "mcp": 4,
    "__main__": 4,
}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in (SRC / PKG).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for each import of ``name`` that runs (TYPE_CHECKING blocks skipped)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]

    def walk(nodes: list[ast.stmt]) -> Iterator[tuple[str, int]]:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from walk(node.orelse)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, node.lineno
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                for alias in node.names:
                    full = f"{module}.{alias.name}"
                    yield (full if full in MODULES else module), node.lineno
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    yield from walk([c for c in children if isinstance(c, ast.stmt)] + _handler_bodies(children))

    yield from walk(ast.parse(path.read_text(encoding="utf-8")).body)


def _handler_bodies(children: list[object]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for c in children:
        if isinstance(c, ast.ExceptHandler):
            out.extend(c.body)
    return out


def _resolve(module: str) -> str | None:
    while module and module not in MODULES:
        if "." not in module:
            return None
        module = module.rsplit(".", 1)[0]
    return module or None


def _graph() -> dict[str, dict[str, int]]:
    graph: dict[str, dict[str, int]] = {}
    for name, path in MODULES.items():
        edges: dict[str, int] = {}
        for imported, line in _imports(name, path):
            if not imported.startswith(PKG):
                continue
            target = _resolve(imported)
            if target and target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


GRAPH = _graph()


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the top-level package: a lazy namespace over everything
    return LAYERS.get(parts[1])


def test_every_subpackage_has_a_layer() -> None:
    missing = sorted({m.split(".")[1] for m in MODULES if "." in m and m.split(".")[1] not in LAYERS})
    assert not missing, f"give these sub-packages a layer in tests/test_layering.py: {missing}"


def test_no_upward_import() -> None:
    bad = []
    for module, edges in GRAPH.items():
        lm = _layer(module)
        for target, line in edges.items():
            lt = _layer(target)
            if lm is not None and lt is not None and lt > lm:
                bad.append(f"{MODULES[module].relative_to(SRC)}:{line} imports {target} (layer {lm} -> {lt})")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def strong(v: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_no_import_cycle() -> None:
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles (move the shared part down a module):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b": 1}, "b": {"a": 1}}, [["a", "b"]]),
        ({"a": {"b": 1}, "b": {"c": 1}, "c": {}}, []),
        ({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}, [["a", "b", "c"]]),
    ],
)
def test_cycle_finder(graph: dict[str, dict[str, int]], expected: list[list[str]]) -> None:
    assert _cycles(graph) == expected


def test_import_scanner_sees_lazy_and_skips_type_checking(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from amzn_nova_forge.cli import x\n"
        "def f():\n    try:\n        from amzn_nova_forge.model import y\n    except ImportError:\n"
        "        import amzn_nova_forge.monitor\n",
        encoding="utf-8",
    )
    found = {m for m, _ in _imports("amzn_nova_forge.core.m", src)}
    assert "amzn_nova_forge.model.y" in found or "amzn_nova_forge.model" in found
    assert "amzn_nova_forge.monitor" in found
    assert not any(m.startswith("amzn_nova_forge.cli") for m in found)
