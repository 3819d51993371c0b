"""Regenerate the bundled samples: ``python src/amzn_nova_forge/dataset/samples/_generate.py``.

Deterministic question → answer patterns a tiny model can learn in a few hundred steps
(capitals, reversing and upper-casing words, small sums, successors). ``qa.jsonl`` is the
training set (generic ``question``/``answer`` columns); ``gen_qa.jsonl`` holds different
instances of the same patterns in the evaluation BYOD format (``query``/``response``).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

CAPITALS = [
    ("France", "Paris"),
    ("Germany", "Berlin"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Portugal", "Lisbon"),
    ("Japan", "Tokyo"),
    ("China", "Beijing"),
    ("India", "New Delhi"),
    ("Canada", "Ottawa"),
    ("Mexico", "Mexico City"),
    ("Brazil", "Brasilia"),
    ("Argentina", "Buenos Aires"),
    ("Egypt", "Cairo"),
    ("Kenya", "Nairobi"),
    ("Australia", "Canberra"),
    ("Russia", "Moscow"),
    ("Norway", "Oslo"),
    ("Sweden", "Stockholm"),
    ("Finland", "Helsinki"),
    ("Denmark", "Copenhagen"),
    ("Poland", "Warsaw"),
    ("Greece", "Athens"),
    ("Turkey", "Ankara"),
    ("Ireland", "Dublin"),
    ("Austria", "Vienna"),
    ("Belgium", "Brussels"),
    ("Netherlands", "Amsterdam"),
    ("Switzerland", "Bern"),
    ("Peru", "Lima"),
    ("Chile", "Santiago"),
    ("Colombia", "Bogota"),
    ("Thailand", "Bangkok"),
    ("Vietnam", "Hanoi"),
    ("Indonesia", "Jakarta"),
    ("Philippines", "Manila"),
    ("South Korea", "Seoul"),
    ("Morocco", "Rabat"),
    ("Nigeria", "Abuja"),
    ("Hungary", "Budapest"),
    ("Czechia", "Prague"),
    ("Romania", "Bucharest"),
    ("Iceland", "Reykjavik"),
    ("Cuba", "Havana"),
    ("Ghana", "Accra"),
    ("Ethiopia", "Addis Ababa"),
    ("Iran", "Tehran"),
]
WORDS = [
    "cat",
    "dog",
    "sun",
    "moon",
    "tree",
    "fish",
    "bird",
    "rain",
    "snow",
    "star",
    "lamp",
    "book",
    "door",
    "milk",
    "ship",
    "road",
    "frog",
    "leaf",
    "rock",
    "wind",
    "salt",
    "corn",
    "bell",
    "king",
    "rose",
    "wolf",
    "bear",
    "lake",
    "hill",
    "ring",
    "coin",
    "drum",
    "kite",
    "nest",
    "pear",
    "plum",
    "seed",
    "wave",
    "yarn",
    "zinc",
    "apple",
    "river",
    "stone",
    "cloud",
    "green",
    "table",
    "chair",
    "light",
    "sound",
    "water",
]


def _qa(rng: random.Random) -> list[tuple[str, str]]:
    rows = [(f"What is the capital of {c}?", cap) for c, cap in CAPITALS[:40]]
    words = rng.sample(WORDS, 40)
    rows += [(f"Reverse the word: {w}", w[::-1]) for w in words]
    rows += [(f"Uppercase the word: {w}", w.upper()) for w in rng.sample(WORDS, 40)]
    for _ in range(40):
        a, b = rng.randint(0, 20), rng.randint(0, 20)
        rows.append((f"What is {a} + {b}?", str(a + b)))
    for n in rng.sample(range(1, 100), 40):
        rows.append((f"What number comes after {n}?", str(n + 1)))
    rng.shuffle(rows)
    return rows


def main() -> None:
    here = Path(__file__).parent
    rng = random.Random(7)
    train = _qa(rng)
    with open(here / "qa.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"question": q, "answer": a}) + "\n" for q, a in train)
    seen = {q for q, _ in train}
    held: list[tuple[str, str]] = [(f"What is the capital of {c}?", cap) for c, cap in CAPITALS[40:]]
    ev = random.Random(11)
    while len(held) < 20:
        a, b = ev.randint(0, 20), ev.randint(0, 20)
        q = f"What is {a} + {b}?"
        if q not in seen:
            seen.add(q)
            held.append((q, str(a + b)))
    held += [(f"Reverse the word: {w}", w[::-1]) for w in ("lamp", "frog", "wave", "snow")]
    with open(here / "gen_qa.jsonl", "w", encoding="utf-8") as f:
        for query, response in held:
            f.write(json.dumps({"query": query, "response": response}) + "\n")


if __name__ == "__main__":
    main()
