"""blog-sft-nova2-smtj.txt: it drives SageMaker directly (no SDK calls); its one data example, the
training record schema, must be accepted by our loader for the blog's job (Nova 2 Lite, SFT LoRA)."""

from __future__ import annotations

from pathlib import Path

import pytest

# blog-sft-nova2-smtj.txt, "3. Data Prep - Review" (the record, verbatim)
BLOG_RECORD = """{
  "schemaVersion": "bedrock-conversation-2024",
  "system": [{"text": "You are a digital assistant with a friendly personality"}],
  "messages": [
    {
      "role": "user",
      "content": [{ "text": "What is the capital of Mars?"}]
    },
    {
      "role": "assistant",
      "content": [{"text": "Mars does not have a capital. Perhaps it will one day."}]
    }
  ]
}"""


def test_blog_training_record_validates_for_nova_2_sft(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from amzn_nova_forge.core.enums import Model, TrainingMethod
    from amzn_nova_forge.dataset import JSONLDatasetLoader

    path = tmp_path / "train.jsonl"
    path.write_text((json.dumps(json.loads(BLOG_RECORD)) + "\n") * 3)
    loader = JSONLDatasetLoader()
    loader.load(str(path))
    loader.validate(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)
    assert "succeeded" in capsys.readouterr().out.lower()
