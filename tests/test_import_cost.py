"""``import amzn_nova_forge`` is fast and pulls in no heavy module (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

HEAVY = (
    "torch",
    "transformers",
    "matplotlib",
    "mlflow",
    "pandas",
    "numpy",
    "pyarrow",
    "boto3",
    "botocore",
    "sagemaker",
    "peft",
    "trl",
    "tqdm",
)


def _fresh(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_pulls_in_no_heavy_module():
    for stmt in (
        "import amzn_nova_forge",
        "import amzn_nova_forge.dataset",
        "from amzn_nova_forge.dataset import JSONLDatasetLoader, Model, TrainingMethod",
        "import amzn_nova_customization_sdk",
    ):
        got = _fresh(f"import sys, json\n{stmt}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
        assert got == [], f"{stmt!r} imported {got}"


def test_import_time_under_300ms():
    code = (
        "import time, json\nt = time.perf_counter()\nimport amzn_nova_forge\nprint(json.dumps(time.perf_counter() - t))"
    )
    best = min(_fresh(code) for _ in range(5))
    assert best < 0.3, f"import amzn_nova_forge took {best:.3f} s"


def test_local_data_prep_imports_no_aws_sdk(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"q": "a?", "a": "b"}\n', encoding="utf-8")
    code = (
        "import sys, json\n"
        "from amzn_nova_forge.dataset import JSONLDatasetLoader, Model, TrainingMethod\n"
        f"l = JSONLDatasetLoader(question='q', answer='a').load({str(path)!r})\n"
        "l.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE)\n"
        f"l.save_data({str(tmp_path / 'o.jsonl')!r})\n"
        "print(json.dumps([m for m in ('boto3', 'botocore') if m in sys.modules]))"
    )
    t = time.perf_counter()
    assert _fresh(code) == []
    assert time.perf_counter() - t < 30
