"""The static names seen by type checkers equal the lazy names seen at run time.

Every public ``__init__.py`` carries an ``if TYPE_CHECKING:`` block written by
``scripts/gen_static_imports.py`` (the huggingface_hub pattern). If a name is added to a
lazy table without re-running the script, these tests fail and say what to run.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
gen = importlib.import_module("gen_static_imports")

NAMESPACES = [gen.module_name(p) for p in gen.namespaces()]


def test_every_lazy_namespace_is_found() -> None:
    assert {"amzn_nova_forge", "amzn_nova_forge.model", "amzn_nova_forge.core"} <= set(NAMESPACES)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_static_block_is_up_to_date(namespace: str) -> None:
    path = ROOT / "src" / Path(*namespace.split(".")) / "__init__.py"
    text = path.read_text(encoding="utf-8")
    assert gen.BEGIN in text, f"{path}: run `python scripts/gen_static_imports.py`"
    static, static_all = gen.static_names(text)
    module = importlib.import_module(namespace)
    assert static == module.__lazy_exports__, f"{path} is stale: run `python scripts/gen_static_imports.py`"
    assert sorted(static_all) == sorted(module.__lazy_exports__)
    runtime_all = set(module.__all__)
    assert set(static_all) <= runtime_all


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_static_imports_name_the_runtime_objects(namespace: str) -> None:
    module = importlib.import_module(namespace)
    static, _ = gen.static_names((ROOT / "src" / Path(*namespace.split(".")) / "__init__.py").read_text())
    for public, target in static.items():
        mod, _, attr = target.partition(":")
        assert getattr(importlib.import_module(mod), attr or public) is getattr(module, public), (namespace, public)


def test_import_is_still_lazy() -> None:
    code = "import sys, amzn_nova_forge; print(sorted(m for m in sys.modules if m.startswith('amzn_nova_forge.')))"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "amzn_nova_forge.model" not in out and "amzn_nova_forge.manager" not in out, out


@pytest.mark.slow
def test_a_users_type_checker_sees_concrete_types(tmp_path: Path) -> None:
    """mypy on a user's script: public names are concrete types; typos are errors, not ``Any``."""
    api = pytest.importorskip("mypy.api")
    script = tmp_path / "user_script.py"
    script.write_text(
        textwrap.dedent(
            """
            from amzn_nova_forge import *
            from amzn_nova_forge.core import ForgeConfig as CoreForgeConfig
            from amzn_nova_forge.dataset import JSONLDatasetLoader as DL

            reveal_type(Model.NOVA_LITE_2)
            reveal_type(CoreForgeConfig(output_s3_path="s3://b/o").validation_config)
            reveal_type(DL)
            reveal_type(LocalRuntimeManager)
            from amzn_nova_forge.model import NoSuchThing
            ForgeConfig(output_s3_pth="s3://b/o")
            """
        ),
        encoding="utf-8",
    )
    stdout, _, _ = api.run(
        [
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--follow-imports",
            "silent",
            "--python-version",
            "3.11",
            str(script),
        ]
    )
    lines = stdout.splitlines()
    reveals = [ln for ln in lines if "Revealed type" in ln]
    assert len(reveals) == 4, stdout
    assert "amzn_nova_forge.core.enums.Model" in reveals[0]
    assert "ValidationConfig" in reveals[1]
    assert "JSONLDatasetLoader" in reveals[2]
    assert "LocalRuntimeManager" in reveals[3]
    assert not any(r.endswith('Revealed type is "Any"') for r in reveals), reveals
    assert any("NoSuchThing" in ln and "error" in ln for ln in lines), stdout
    assert any("output_s3_pth" in ln and "error" in ln for ln in lines), stdout
