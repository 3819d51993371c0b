"""Only the runtimes know a platform: no code outside ``manager/`` branches on ``Platform.<X>``.

What a platform can do is a :class:`~amzn_nova_forge.manager._base.Capabilities` flag its runtime
class declares; code elsewhere reads the flag. The per-platform data tables of ``recipe/`` and
``dataset/`` may name platforms. The scan finds comparisons (``is``, ``is not``, ``==``, ``!=``,
``in``, ``not in``) with a ``Platform.<member>`` on either side (or inside a tuple/list/set that
is compared), and ``match`` cases on ``Platform.<member>``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.manager._base import Capabilities
from amzn_nova_forge.manager._registry import capabilities_of, get_runtime_class, runtime_platforms

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "amzn_nova_forge"
#: Folders (relative to the package) where naming a platform in a branch is allowed.
ALLOWED_DIRS = ("manager/", "recipe/", "dataset/")
#: Known exceptions, to be removed as they are fixed.
#: Files allowed to branch on the platform outside manager/ (none: keep it that way).
KNOWN_EXCEPTIONS: set[str] = set()

_COMPARE_OPS = (ast.Is, ast.IsNot, ast.Eq, ast.NotEq, ast.In, ast.NotIn)


def _is_platform_member(node: ast.AST) -> bool:
    """``Platform.X`` or ``<module>.Platform.X``."""
    if not isinstance(node, ast.Attribute):
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and owner.id == "Platform") or (
        isinstance(owner, ast.Attribute) and owner.attr == "Platform"
    )


def _names_platform(node: ast.AST) -> bool:
    if _is_platform_member(node):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_platform_member(e) for e in node.elts)
    return False


def platform_branches(source: str, filename: str = "<src>") -> list[int]:
    """Line numbers of the comparisons and ``match`` cases on ``Platform.<member>`` in ``source``."""
    lines: list[int] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(op, _COMPARE_OPS) for op in node.ops) and any(_names_platform(s) for s in sides):
                lines.append(node.lineno)
        elif isinstance(node, ast.MatchValue) and _is_platform_member(node.value):
            lines.append(node.lineno)
    return sorted(lines)


def _scanned_files() -> list[tuple[str, Path]]:
    files = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if not rel.startswith(ALLOWED_DIRS):
            files.append((rel, path))
    return files


def test_the_scan_finds_each_form_of_branch() -> None:
    source = (
        "if p is Platform.SMHP:\n"
        "    pass\n"
        "x = p == enums.Platform.LOCAL\n"
        "y = p in (Platform.SMTJ, Platform.SMHP)\n"
        "match p:\n"
        "    case Platform.BEDROCK:\n"
        "        pass\n"
        "z = p is DeployPlatform.LOCAL\n"  # another enum: not a platform branch
        "w = {Platform.SMTJ: 1}\n"  # a table, not a branch
    )
    assert platform_branches(source) == [1, 3, 4, 6]


def test_no_platform_branches_outside_the_runtimes() -> None:
    found = []
    for rel, path in _scanned_files():
        for line in platform_branches(path.read_text(encoding="utf-8"), rel):
            if rel not in KNOWN_EXCEPTIONS:
                found.append(f"src/amzn_nova_forge/{rel}:{line}")
    assert not found, (
        "Code outside manager/ branches on the platform; declare a Capabilities flag on the runtime "
        "classes and read it instead:\n" + "\n".join(found)
    )


def test_known_exceptions_still_exist_and_still_branch() -> None:
    """A known exception that was fixed or moved must leave the list (so it cannot hide a new branch)."""
    for rel in KNOWN_EXCEPTIONS:
        path = PACKAGE / rel
        if not path.exists():
            pytest.fail(f"{rel} is gone: remove it from KNOWN_EXCEPTIONS.")
        assert platform_branches(path.read_text(encoding="utf-8"), rel), (
            f"{rel} no longer branches on the platform: remove it from KNOWN_EXCEPTIONS."
        )


def test_capabilities_replacing_the_branches() -> None:
    """Each runtime declares what the removed branches used to decide by platform."""
    flags = {
        "billed": {Platform.SMTJ, Platform.SMTJServerless, Platform.SMHP, Platform.BEDROCK},
        "live_status": {Platform.LOCAL},
        "reads_recipe_after_execute": {Platform.LOCAL},
        "deploys_model_arn": {Platform.BEDROCK},
        "serves_local_checkpoints": {Platform.LOCAL},
        "agentcore_mtrl": {Platform.SMTJServerless},
        "training_metrics_csv": {Platform.SMHP},
        "batch_sample_tracing": {Platform.SMHP},
        "log_needs_cluster": {Platform.SMHP},
        "rft_multiturn": {Platform.SMHP},
    }
    for name, expected in flags.items():
        having = {p for p in runtime_platforms() if getattr(capabilities_of(p), name)}
        assert having == expected, name
    assert Platform.GLUE not in runtime_platforms()
    assert capabilities_of("LOCAL") is get_runtime_class(Platform.LOCAL).capabilities
    assert Capabilities().billed and not Capabilities().live_status
