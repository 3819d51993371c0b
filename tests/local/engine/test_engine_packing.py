"""Host-side packing: label shifting, bin packing, token-budget micro-batches, collation."""

from __future__ import annotations

import pytest

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._local._engine._packing import (
    IGNORE,
    collate,
    pack_rows,
    plan_micro_batches,
    prepare_examples,
)

pytestmark = pytest.mark.torch


def test_labels_are_shifted_within_each_example_and_truncated():
    ex = prepare_examples(
        [{"input_ids": [10, 11, 12, 13, 14], "labels": [-100, -100, 12, 13, 14]}, {"input_ids": [7, 8]}], max_length=4
    )
    assert ex[0].input_ids.tolist() == [10, 11, 12, 13]
    assert ex[0].targets.tolist() == [-100, 12, 13, IGNORE]  # last token of an example has no target
    assert ex[1].targets.tolist() == [8, IGNORE]  # missing labels = every token (CPT)
    assert [e.n_targets for e in ex] == [2, 1]


def test_misaligned_labels_and_empty_examples():
    with pytest.raises(ConfigError, match="must align"):
        prepare_examples([{"input_ids": [1, 2, 3], "labels": [1, 2]}], 8)
    assert prepare_examples([{"input_ids": [], "labels": []}], 8) == []


@pytest.mark.parametrize("seed", range(5))
def test_pack_rows_respects_capacity_and_keeps_every_example_once(seed):
    import random

    rng = random.Random(seed)
    lengths = [rng.randint(1, 64) for _ in range(50)]
    rows = pack_rows(lengths, 64)
    assert sorted(i for r in rows for i in r) == list(range(50))
    assert all(sum(lengths[i] for i in r) <= 64 for r in rows)
    # first-fit-decreasing is within 11/9 OPT + 1 of the lower bound
    assert len(rows) <= 11 / 9 * (sum(lengths) / 64) + 2


def test_pack_rows_rejects_oversized_example():
    with pytest.raises(ConfigError, match="does not fit"):
        pack_rows([10], 8)


@pytest.mark.parametrize("layout,packing", [("varlen", True), ("rows", True), ("rows", False)])
def test_token_budget_batching(layout, packing):
    import random

    rng = random.Random(1)
    lengths = [min(128, int(rng.lognormvariate(3.5, 0.8)) + 1) for _ in range(200)]
    budget = 512
    plan = plan_micro_batches(lengths, budget, layout=layout, max_length=128, packing=packing)
    seen = sorted(i for mb in plan for row in mb for i in row)
    assert seen == list(range(200))
    for mb in plan:
        widths = [sum(lengths[i] for i in row) for row in mb]
        assert len(mb) * max(widths) <= budget  # padded size of the micro-batch fits the budget
        if layout == "rows":
            assert max(widths) <= 128
            if not packing:
                assert all(len(row) == 1 for row in mb)
        else:
            assert len(mb) == 1
    # budget batching uses few forward passes: close to total tokens / budget
    assert len(plan) <= sum(lengths) / budget * 1.5 + 2


def test_collate_varlen_layout():
    ex = prepare_examples([{"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}, {"input_ids": [4, 5]}], 8)
    mb = collate(ex, [[0, 1]], layout="varlen", pad_multiple=8)
    t = mb.tensors
    assert t["input_ids"].tolist() == [[1, 2, 3, 4, 5, 0, 0, 0]]
    assert t["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0, 1, 2]]
    assert t["cu_seq_lens"].tolist() == [0, 3, 5, 8]  # the padding is a segment of its own
    assert t["target_index"].tolist() == [0, 1, 3]  # token 2 has no target: no leak into example 2
    assert t["targets"].tolist() == [2, 3, 5]
    assert (mb.tokens, mb.n_targets, mb.n_examples, mb.max_seqlen) == (5, 3, 2, 3)


def test_collate_rows_layout_packed_and_unpacked():
    ex = prepare_examples([{"input_ids": [1, 2, 3]}, {"input_ids": [4, 5]}, {"input_ids": [6]}], 8)
    mb = collate(ex, [[0, 1], [2]], layout="rows", packing=True, pad_multiple=4)
    t = mb.tensors
    assert t["input_ids"].tolist() == [[1, 2, 3, 4, 5, 0, 0, 0], [6, 0, 0, 0, 0, 0, 0, 0]]
    assert t["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0, 1, 2], [0, 1, 2, 3, 4, 5, 6, 7]]
    assert t["target_index"].tolist() == [0, 1, 3]
    mb = collate(ex, [[0], [1]], layout="rows", packing=False, pad_multiple=1)
    assert mb.tensors["position_ids"].tolist() == [[0, 1, 2], [0, 1, 2]]
    assert mb.tensors["target_index"].tolist() == [0, 1, 3]


def test_balanced_bins_are_few_and_even():
    from amzn_nova_forge.manager._local._engine._packing import balanced_bins

    lengths = [2048] * 10 + [300] * 60  # 38,480 tokens under a 28,672 budget
    bins = balanced_bins(lengths, 28672)
    loads = sorted(sum(lengths[i] for i in b) for b in bins)
    assert len(bins) == 2 and loads[0] > 18000  # two even passes, not 28k + 10k
    assert sorted(i for b in bins for i in b) == list(range(70))
    assert balanced_bins([], 10) == []
    with pytest.raises(ConfigError, match="example of 11 tokens does not fit a budget of 10"):
        balanced_bins([11], 10)
