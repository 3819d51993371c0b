"""The JSONL pre-scan finds exactly the lines a full digit scan finds (it only decides what to re-read)."""

from __future__ import annotations

import random

import pytest

from amzn_nova_forge.dataset import _jsonrules as J


def _random_chunk(rng: random.Random) -> tuple[bytes, int]:
    n = rng.randint(1, 400)
    data = bytes(rng.choice(b'0123456789 \n"a:') if rng.random() < 0.5 else rng.choice(b"0123456789") for _ in range(n))
    return data, len(data) - rng.randint(0, min(5, len(data)))


@pytest.mark.parametrize("windows", [J._MAX_WINDOWS, 1])
def test_sampled_scan_equals_the_full_scan(monkeypatch, windows):
    monkeypatch.setattr(J, "_MAX_WINDOWS", windows)  # 1: every chunk takes the fallback after one window
    rng = random.Random(13)
    for _ in range(500):
        data, end = _random_chunk(rng)
        assert sorted(set(J.scan_chunk(data, end))) == sorted(set(J._full_scan(data, 0, end))), (data, end)


def test_scan_finds_a_run_at_every_offset():
    for offset in range(30):
        data = b"x" * offset + b"1" * 19 + b"\nabc\n"
        assert list(J.scan_chunk(data, len(data))) == [0]
        assert list(J.scan_chunk(b"y\n" + data, len(data) + 2)) == [1]
    assert list(J.scan_chunk(b"1" * 18 + b"\n" + b"2" * 18, 37)) == []


def test_problem_decides_digits_in_strings_are_fine():
    assert J.problem(b'{"s": "' + b"9" * 40 + b'"}') is None
    assert J.problem(b'{"n": ' + b"9" * 40 + b"}") == (
        "$.n",
        f"integer {'9' * 40} is outside the 64-bit range; write it as a string to keep it exactly",
    )
    assert J.problem(b"not json") is None  # the caller's parser reports syntax errors
