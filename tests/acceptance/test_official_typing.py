"""A user's type checker sees concrete result types and catches a misspelt keyword.

mypy (through ``mypy.api``) checks a small user script that imports the service class and the
customizer from the official module paths; the package is found through ``MYPYPATH`` (this tree's
``src``), its own modules are followed silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

USER_SCRIPT = """
from amzn_nova_forge.core.enums import EvaluationTask, Model, TrainingMethod
from amzn_nova_forge.evaluator.forge_evaluator import EvalTaskConfig, ForgeEvaluator
from amzn_nova_forge.manager import SMTJRuntimeManager
from amzn_nova_forge.model.nova_model_customizer import NovaModelCustomizer
from amzn_nova_forge.trainer.forge_trainer import ForgeTrainer

infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
trainer = ForgeTrainer(model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA, infra=infra)
reveal_type(trainer.train(job_name="my-job"))
customizer = NovaModelCustomizer(model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA, infra=infra)
reveal_type(customizer.train(job_name="my-job"))
evaluator = ForgeEvaluator(model=Model.NOVA_MICRO, infra=infra)
reveal_type(evaluator.evaluate(job_name="e", eval_task=EvaluationTask.MMLU, task_config=EvalTaskConfig(subtask="x")))
reveal_type(trainer.get_config())
trainer.train(job_nam="typo")
"""


def test_user_mypy_sees_concrete_types_and_keyword_typos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = pytest.importorskip("mypy.api")
    script = tmp_path / "user_script.py"
    script.write_text(USER_SCRIPT)
    monkeypatch.setenv("MYPYPATH", str(SRC))
    stdout, stderr, _ = api.run(
        [
            str(script),
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--no-error-summary",
            "--hide-error-context",
        ]
    )
    lines = [line for line in stdout.splitlines() if "user_script.py" in line]
    revealed = [re.sub(r"^.*Revealed type is ", "", line) for line in lines if "Revealed type is" in line]
    assert len(revealed) == 4, stdout + stderr
    for text in revealed[:2]:
        assert "amzn_nova_forge.model.result._training.TrainingResult" in text and "Any" not in text, text
    assert "amzn_nova_forge.model.result._evaluation.EvaluationResult" in revealed[2] and "Any" not in revealed[2]
    assert "amzn_nova_forge.recipe._config.RecipeConfig" in revealed[3]
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 1 and 'Unexpected keyword argument "job_nam"' in errors[0], stdout
