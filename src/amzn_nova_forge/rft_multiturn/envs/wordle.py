"""Built-in ``wordle`` environment: guess a 5-letter word in at most ``max_turns`` guesses.

Samples carry the secret word as ``answer`` (optionally a ``prompt``). Each turn the policy
answers with ``<guess>word</guess>`` (or a bare 5-letter word) and gets feedback per letter:
``G`` right place, ``Y`` in the word elsewhere, ``-`` absent. Reward: 1.0 for solving on the
first guess, minus 0.1 per extra guess; unsolved games earn 0.1 x the green letters of the
best guess / 5.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

SYSTEM = (
    "You are playing Wordle. Guess the secret 5-letter English word. Answer with your guess as "
    "<guess>word</guess>. After each guess you get feedback per letter: G = correct letter in the "
    "correct place, Y = letter in the word but elsewhere, - = letter not in the word."
)
_GUESS = re.compile(r"<guess>\s*([A-Za-z]{5})\s*</guess>", re.IGNORECASE)
_WORD = re.compile(r"\b([A-Za-z]{5})\b")


def feedback(guess: str, answer: str) -> str:
    """Wordle feedback, handling repeated letters like the game does."""
    guess, answer = guess.lower(), answer.lower()
    marks = ["-"] * 5
    left = Counter(a for g, a in zip(guess, answer) if g != a)
    for i, (g, a) in enumerate(zip(guess, answer)):
        if g == a:
            marks[i] = "G"
        elif left[g] > 0:
            marks[i] = "Y"
            left[g] -= 1
    return "".join(marks)


def parse_guess(text: str, use_think: bool = False) -> str | None:
    if use_think and "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    m = _GUESS.search(text)
    if m:
        return m.group(1).lower()
    words = _WORD.findall(text)
    return words[-1].lower() if words else None


class WordleEnv:
    """Multi-turn Wordle."""

    def __init__(self, max_turns: int = 6, use_think: bool = False, **_: Any) -> None:
        self.max_turns = int(max_turns)
        self.use_think = bool(use_think)

    def rollout(self, sample: dict[str, Any], generate: Callable[[list[dict[str, str]]], str]) -> dict[str, Any]:
        answer = str(sample.get("answer") or sample.get("secret") or "").strip().lower()
        if not re.fullmatch(r"[a-z]{5}", answer):
            raise ValueError(f"wordle sample needs a 5-letter 'answer', got {answer!r}")
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": str(sample.get("prompt") or "Make your first guess.")},
        ]
        best_greens, invalid = 0, 0
        for turn in range(1, self.max_turns + 1):
            reply = generate(messages)
            messages.append({"role": "assistant", "content": reply})
            guess = parse_guess(reply, self.use_think)
            if guess is None:
                invalid += 1
                messages.append({"role": "user", "content": "Invalid guess: answer with <guess>xxxxx</guess>."})
                continue
            fb = feedback(guess, answer)
            best_greens = max(best_greens, fb.count("G"))
            if guess == answer:
                reward = max(0.1, 1.0 - 0.1 * (turn - 1))
                return {
                    "reward": reward,
                    "messages": messages,
                    "metrics": {"solved": 1.0, "turns": turn, "invalid_guesses": invalid},
                }
            messages.append({"role": "user", "content": f"{guess.upper()}: {fb}"})
        return {
            "reward": 0.1 * best_greens / 5,
            "messages": messages,
            "metrics": {"solved": 0.0, "turns": self.max_turns, "invalid_guesses": invalid},
        }


def load_environment(**kwargs: Any) -> WordleEnv:
    return WordleEnv(**kwargs)
