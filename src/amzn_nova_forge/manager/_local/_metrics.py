"""gen_qa metrics computed offline: exact match, quasi-exact match, token F1, ROUGE and BLEU (no torch).

Names follow the cloud ``gen_qa`` results: ``em``, ``qem``, ``f1``, ``f1_quasi``, ``rouge1``,
``rouge2``, ``rougeL``, ``bleu``, each with a ``_stderr`` (standard error of the mean over
samples; BLEU's is from sentence-level BLEU). ROUGE uses ``rouge-score``; BLEU uses ``sacrebleu``.
"""

from __future__ import annotations

import math
import re
import statistics
import string
from collections import Counter
from collections.abc import Sequence

__all__ = ["gen_qa_metrics", "normalize_answer", "token_f1"]

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower-case, drop punctuation and articles, collapse whitespace."""
    text = "".join(ch for ch in str(text).lower() if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def token_f1(prediction: str, reference: str, *, normalize: bool = True) -> float:
    """Token-overlap F1 between ``prediction`` and ``reference``."""
    p = (normalize_answer(prediction) if normalize else str(prediction)).split()
    r = (normalize_answer(reference) if normalize else str(reference)).split()
    if not p and not r:
        return 1.0
    if not p or not r:
        return 0.0
    common = sum((Counter(p) & Counter(r)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(r)
    return 2 * precision * recall / (precision + recall)


def _stderr(values: Sequence[float]) -> float:
    return statistics.pstdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def _rouge_tokenizer() -> object:
    class _Tok:
        """Unicode-aware word tokenizer (rouge-score's default drops non-[a-z0-9] text)."""

        def tokenize(self, text: str) -> list[str]:
            return re.findall(r"\w+", text.lower(), flags=re.UNICODE)

    return _Tok()


def gen_qa_metrics(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """All gen_qa metrics for aligned ``predictions`` / ``references`` (scores in 0..1, BLEU 0..100).

    Example:
        >>> m = gen_qa_metrics(["Paris"], ["paris"])
        >>> (m["em"], m["qem"], m["f1"])
        (0.0, 1.0, 1.0)
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references.")
    if not predictions:
        return {}
    per: dict[str, list[float]] = {k: [] for k in ("em", "qem", "f1", "f1_quasi", "rouge1", "rouge2", "rougeL", "bleu")}
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False, tokenizer=_rouge_tokenizer())
    import sacrebleu

    for pred, ref in zip(predictions, references, strict=True):
        pred, ref = str(pred), str(ref)
        per["em"].append(float(pred.strip() == ref.strip()))
        per["qem"].append(float(normalize_answer(pred) == normalize_answer(ref)))
        per["f1"].append(token_f1(pred, ref, normalize=False))
        per["f1_quasi"].append(token_f1(pred, ref, normalize=True))
        scores = scorer.score(ref, pred)
        for k in ("rouge1", "rouge2", "rougeL"):
            per[k].append(scores[k].fmeasure)
        per["bleu"].append(sacrebleu.sentence_bleu(pred, [ref]).score)
    out: dict[str, float] = {}
    for k, values in per.items():
        out[k] = statistics.fmean(values)
        out[f"{k}_stderr"] = _stderr(values)
    out["bleu"] = sacrebleu.corpus_bleu([str(p) for p in predictions], [[str(r) for r in references]]).score
    out["exact_match"], out["quasi_exact_match"] = out["em"], out["qem"]
    out["f1_score"], out["f1_score_quasi"] = out["f1"], out["f1_quasi"]
    return out
