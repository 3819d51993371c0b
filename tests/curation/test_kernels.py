"""The compiled kernels against plain-Python statements of each rule, on random documents.

Each reference below is the rule as the module docstring of ``_textrules`` states it,
written the obvious way (``re``, ``str.split``, ``collections.Counter``); the kernels must
agree with them exactly, compiled or not.
"""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from amzn_nova_forge.core.enums import FilterMethod
from amzn_nova_forge.dataset._curation import _kernels as K
from amzn_nova_forge.dataset._curation._params import DEFAULTS
from amzn_nova_forge.dataset._curation._textrules import RULES, _codes, measure, text_filter_codes

PIECES = list("abcdefghij   ") + [
    "\n", "\t", "é", "Ã©", "â€™", "\ufffd", "漢", "😀", "http://x.y/", "WWW.a", "https://", "  ", "Â",
    "\u3000", "\u2003", "\x1c", "ſ", "HTTPſ://q", "www. ", ".", ",", "!!", "the cat sat ",
]  # fmt: skip
URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MOJIBAKE = re.compile(
    r"[ÃÂâ][\u0080-\u00bf\u2010-\u203a\u20ac\u2122\u0152\u0153\u0160\u0161\u0178\u017d\u017e]+|\ufffd+"
)
SEPARATORS = "".join(map(chr, K.WORD_SEPARATORS))


def corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        base = [rng.choice(PIECES) for _ in range(rng.randint(0, 60))]
        if rng.random() < 0.35:  # repetitive documents, to exercise both repetition rules
            base = base * rng.randint(2, 6)
        docs.append("".join(base))
    return [*docs, "", "x" * 100, "ab" * 60, "word " * 30, ("one two three four five six seven eight nine ten " * 3)]


def words_of(text: str) -> list[str]:
    return [w for w in re.split(f"[{re.escape(SEPARATORS)}]+", text) if w]


def reference(text: str, nw: int = 10, nc: int = 10) -> list[float]:
    """chars, url, alnum, newlines, mojibake, word cover, words, char top: as documented."""
    alnum = sum(
        1
        for ch in text
        if (ch.isascii() and ch.isalnum())
        or (
            not ch.isascii()
            and not (
                ord(ch) < 0xC0
                or 0x2000 <= ord(ch) < 0x2C00
                or 0x3000 <= ord(ch) < 0x3040
                or 0xFE30 <= ord(ch) < 0xFE50
                or 0xFF00 <= ord(ch) < 0xFF10
            )
        )
    )
    words = words_of(text)
    grams = [tuple(words[i : i + nw]) for i in range(len(words) - nw + 1)]
    seen = Counter(grams)
    covered = set()
    for i, g in enumerate(grams):
        if seen[g] > 1:
            covered.update(range(i, i + nw))
    chars = Counter(text[i : i + nc] for i in range(len(text) - nc + 1))
    repeated = sorted((c for c in chars.values() if c > 1), reverse=True)
    top = sum(repeated[: math.isqrt(len(chars))])
    return [
        len(text),
        sum(m.end() - m.start() for m in URL.finditer(text)),
        alnum,
        text.count("\n"),
        sum(m.end() - m.start() for m in MOJIBAKE.finditer(text)),
        len(covered),
        len(words),
        top,
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_measure_matches_its_plain_python_statement(seed):
    texts = corpus(1500, seed)
    got = K.text_measures(*K.encode(texts), 10, 10)
    want = np.array([reference(t) for t in texts])
    for k, name in enumerate(K.MEASURES):
        bad = np.flatnonzero(got[:, k] != want[:, k])
        assert not len(bad), (name, [(texts[i], got[i, k], want[i, k]) for i in bad[:3]])


def test_other_ngram_sizes():
    texts = corpus(400, 5)
    got = K.text_measures(*K.encode(texts), 3, 4)
    want = np.array([reference(t, 3, 4) for t in texts])
    assert (got == want).all()


@pytest.mark.parametrize("ratio", [0.05, 0.2, 0.35, 0.5, 0.8, 1.0])
def test_skipping_documents_that_cannot_break_the_char_rule_gives_the_same_codes(ratio):
    p = {**DEFAULTS[FilterMethod.DEFAULT_TEXT_FILTER], "max_char_repetition_ratio": ratio, "min_chars": 0}
    p["max_word_repetition_ratio"] = 1.0  # let the char rule decide alone
    rng = random.Random(7)
    texts = corpus(800, 11)
    # documents around the bound: a random head, then a repeated tail of varying share
    for _ in range(400):
        head = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(rng.randint(20, 200)))
        tail = "".join(rng.choice("abcdef ") for _ in range(rng.randint(10, 30))) * rng.randint(1, 12)
        texts.append(head + tail)
    exact = _codes(len(texts), measure(texts, p, exact=True), p)
    fast = text_filter_codes(texts, p)
    assert (exact == fast).all()
    dropped = int((exact == RULES.index("char_repetition")).sum())
    assert (0 < dropped < len(texts)) if ratio < 1 else dropped == 0  # a ratio never exceeds 1


def test_exact_keys_group_exactly_the_normalised_texts():
    rng = random.Random(3)
    base = ["a b", "a  b", " a b ", "a\tb", "a\u2003b", "a\x1cb", "ab", "A b", "", "   ", "é b", "a b c"]
    texts = [rng.choice(base) for _ in range(300)]
    keys = K.exact_keys(*K.encode(texts))
    by_key: dict[tuple[int, int], set[str]] = {}
    for t, k in zip(texts, map(tuple, keys.tolist()), strict=True):
        by_key.setdefault(k, set()).add(" ".join(t.split()))
    assert all(len(v) == 1 for v in by_key.values())  # one normalised text per key
    assert len(by_key) == len({" ".join(t.split()) for t in texts})  # and one key per text


def test_the_fused_pass_gives_the_same_keys():
    texts = corpus(500, 4)
    buf, off = K.encode(texts)
    fused = np.zeros((len(texts), 2), dtype=np.uint64)
    counts = K.text_measures(buf, off, 10, 10, 0.5, exact=False, keys_out=fused)
    assert (fused == K.exact_keys(buf, off)).all()
    assert (counts[:, :7] == K.text_measures(buf, off, 10, 10)[:, :7]).all()


def test_exact_index_keeps_the_first_record_of_each_key_across_chunks_and_growth():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 300, size=(20000, 2)).astype(np.uint64)
    alive = rng.random(20000) < 0.9
    lines = np.arange(3, 20003)  # source lines need not start at 1
    from amzn_nova_forge.dataset._curation._index import ExactIndex

    index = ExactIndex(16)
    got = np.concatenate(
        [index.add(keys[i : i + 777], alive[i : i + 777], lines[i : i + 777]) for i in range(0, 20000, 777)]
    )
    first: dict[tuple[int, int], int] = {}
    want = []
    for k, a, line in zip(map(tuple, keys.tolist()), alive.tolist(), lines.tolist(), strict=True):
        if not a:
            want.append(-1)
        elif k in first:
            want.append(first[k])
        else:
            first[k] = line
            want.append(-1)
    assert got.tolist() == want


def test_without_numba_the_same_functions_run_as_plain_python():
    texts = corpus(60, 9)
    script = (
        "import sys, json; sys.modules['numba'] = None\n"
        "from amzn_nova_forge.dataset._curation import _kernels as K\n"
        "texts = json.loads(sys.stdin.read())\n"
        "buf, off = K.encode(texts)\n"
        "print(json.dumps([K.compiled(), K.text_measures(buf, off, 10, 10).tolist(), K.exact_keys(buf, off).tolist()]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(texts), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    compiled, counts, keys = json.loads(proc.stdout)
    buf, off = K.encode(texts)
    assert compiled is False and K.compiled() is True
    assert counts == K.text_measures(buf, off, 10, 10).tolist()
    assert keys == K.exact_keys(buf, off).tolist()
