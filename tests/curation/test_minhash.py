"""MinHash/LSH and the vectorised text measures against plain Python definitions."""

from __future__ import annotations

import random

import numpy as np
import pytest

from amzn_nova_forge.dataset._curation._minhash import band_keys, lsh_params, signatures
from amzn_nova_forge.dataset._curation._textrules import RULES, explain, text_filter_codes
from amzn_nova_forge.dataset._curation._vec import TextBatch
from tests.curation.conftest import random_docs

P = {"lowercase": True, "ngram_size": 3, "shingle": "word", "num_perm": 256, "seed": 42}


def _jaccard(a: str, b: str, n: int = 3) -> float:
    def sh(t: str) -> set[tuple[str, ...]]:
        w = t.lower().split()
        return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)} if len(w) >= n else {tuple(w)}

    x, y = sh(a), sh(b)
    return len(x & y) / len(x | y)


def test_signature_agreement_estimates_jaccard():
    rng = random.Random(0)
    docs = random_docs(200, seed=2)
    pairs = []
    for d in docs:
        w = d.split()
        for _ in range(rng.randint(0, 6)):
            w[rng.randrange(len(w))] = "edit"
        pairs.append((d, " ".join(w)))
    sa = signatures([a for a, _ in pairs], P)
    sb = signatures([b for _, b in pairs], P)
    est = (sa == sb).mean(axis=1)
    true = np.array([_jaccard(a, b) for a, b in pairs])
    assert abs(float((est - true).mean())) < 0.01  # unbiased
    assert float(np.abs(est - true).max()) < 0.12  # ~4 standard deviations at 256 permutations


def test_signatures_do_not_depend_on_batching_or_case():
    docs = random_docs(50, seed=8)
    whole = signatures(docs, P)
    parts = np.vstack([signatures(docs[:17], P), signatures(docs[17:], P)])
    assert np.array_equal(whole, parts)
    assert np.array_equal(signatures([docs[0].upper()], P)[0], whole[0])
    assert (signatures([""], P) == np.iinfo(np.uint32).max).all()


def test_lsh_params_meet_the_recall_target_at_the_threshold():
    for perm in (64, 112, 128, 256):
        b, r = lsh_params(0.8, perm)
        assert b * r <= perm
        assert 1 - (1 - 0.8**r) ** b >= 0.95
    assert lsh_params(0.8, 112) == (16, 7)


def test_band_keys_match_only_when_the_band_rows_match():
    sig = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [5, 2, 3, 4]], dtype=np.uint32)
    k = band_keys(sig, 2, 2)
    assert k[0, 0] == k[1, 0] and k[0, 1] != k[1, 1]
    assert k[0, 1] == k[2, 1] and k[0, 0] != k[2, 0]


def test_word_and_char_ngrams_stay_inside_documents():
    b = TextBatch(["a b c", "d e", "", "f g h i"])
    h, d = b.word_ngrams(2)
    assert d.tolist() == [0, 0, 1, 3, 3, 3]
    _, d2 = b.char_ngrams(3)
    assert d2.tolist() == [0, 0, 0, 1, 3, 3, 3, 3, 3]
    again, _ = TextBatch(["f g h i"]).word_ngrams(2)
    assert h[3:].tolist() == again.tolist()  # a hash depends on the n-gram only


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("The quick brown fox jumps over the lazy dog while the cat sleeps on the mat.", "kept"),
        ("tiny", "too_short"),
        ("x" * 100, "char_repetition"),
    ],
)
def test_text_rules_single_documents(text, rule):
    from amzn_nova_forge.core.enums import FilterMethod
    from amzn_nova_forge.dataset._curation._params import DEFAULTS

    p = DEFAULTS[FilterMethod.DEFAULT_TEXT_FILTER]
    assert RULES[int(text_filter_codes([text], p)[0])] == rule
    assert explain(text, p).startswith(rule)


def test_url_characters_are_counted_per_document():
    from amzn_nova_forge.dataset._curation import _kernels

    texts = ["see http://a.io/xyz", "next", "www.b.com and http://c.d", "HTTPS://x y http:// z"]
    counts = _kernels.text_measures(*_kernels.encode(texts), 10, 10)
    assert counts[:, _kernels.MEASURES.index("url_chars")].tolist() == [15, 0, 9 + 10, 9]
