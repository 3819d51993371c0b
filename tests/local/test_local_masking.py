"""Loss masking: only assistant turns are trained (tiny byte-level tokenizer, no model needed)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def tok():  # type: ignore[no-untyped-def]
    pytest.importorskip("transformers")
    from amzn_nova_forge.manager._local._tiny import build_tiny_tokenizer

    return build_tiny_tokenizer()


def _trained_text(tok, ex) -> str:  # type: ignore[no-untyped-def]
    return tok.decode([t for t, lab in zip(ex["input_ids"], ex["labels"]) if lab != -100])


def test_only_assistant_turns_carry_labels_in_multi_turn_chats(tok) -> None:  # type: ignore[no-untyped-def]
    from amzn_nova_forge.manager._local._data import to_messages, tokenize_chat

    row = {
        "system": [{"text": "SYS"}],
        "messages": [
            {"role": "user", "content": [{"text": "first question"}]},
            {"role": "assistant", "content": [{"text": "ANSWER1"}]},
            {"role": "user", "content": [{"text": "second question"}]},
            {"role": "assistant", "content": [{"text": "ANSWER2"}]},
        ],
    }
    ex = tokenize_chat(tok, to_messages(row), max_length=512)
    assert _trained_text(tok, ex) == "ANSWER1<|eot|>ANSWER2<|eot|>"
    assert len(ex["input_ids"]) == len(ex["labels"])
    short = tokenize_chat(tok, to_messages(row), max_length=20)
    assert len(short["input_ids"]) == 20  # truncated to max_length


def test_dpo_pairs_mask_the_prompt(tok) -> None:  # type: ignore[no-untyped-def]
    from amzn_nova_forge.manager._local._dpo import build_pairs

    pairs = build_pairs(tok, [{"prompt": [{"role": "user", "content": "Q?"}], "chosen": "yes", "rejected": "no"}], 64)
    assert _trained_text(tok, pairs[0]["chosen"]) == "yes<|eot|>"
    assert _trained_text(tok, pairs[0]["rejected"]) == "no<|eot|>"


def test_cpt_packing_fills_blocks_with_eos_between_documents(tok) -> None:  # type: ignore[no-untyped-def]
    from amzn_nova_forge.manager._local._data import pack_texts

    blocks = pack_texts(tok, ["abc", "defg", "hi"], max_length=4)
    # one stream "abc<eot>defg<eot>hi<eot>" cut into blocks of 4 tokens (a 1-token tail would be dropped)
    assert [tok.decode(b["input_ids"]) for b in blocks] == ["abc<|eot|>", "defg", "<|eot|>hi<|eot|>"]
    assert all(b["labels"] == b["input_ids"] for b in blocks)
