"""Local evaluation and batch inference (worker side), writing the SMTJ evaluation layout.

* ``gen_qa``: generate for each ``{"query", "response"}`` row; metrics from :mod:`._metrics`.
* Multiple-choice benchmarks (``mmlu``, ``mmlu_pro``, ``gpqa``, ``bbh`` …) on the user's own
  questions ``{"question", "choices": [...] | {"A": ...}, "answer": "B" | 1 | "<text>"}``:
  the choice whose letter the model finds most likely wins; metric ``accuracy``. Rows without
  choices are scored generatively (normalised exact match).
* ``rft_eval``: generate, score with the reward function; metric ``reward_score``.
* Batch inference: ``inference_results.jsonl`` rows ``{system, query, gold_response,
  inference_response, metadata}``.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._local._hparams import find_in_recipe, resolve_config
from amzn_nova_forge.manager._local._jobdir import JobDir

__all__ = ["batch_inference", "evaluate"]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MC_TASKS = frozenset({"mmlu", "mmlu_pro", "gpqa", "bbh", "mmmu", "math"})
UNSUPPORTED = {
    "llm_judge": "it needs a Bedrock judge model",
    "mm_llm_judge": "it needs a Bedrock judge model",
    "rubric_llm_judge": "it needs a Bedrock judge model",
    "humaneval": "it executes generated code in a sandbox",
    "strong_reject": "it needs the StrongREJECT grader",
    "ifeval": "it needs the IFEval instruction checkers",
    "rft_multiturn_eval": "it needs a multi-turn environment",
}


def _gen_settings(job: dict[str, Any], recipe: dict[str, Any]) -> dict[str, Any]:
    inf = recipe.get("inference") if isinstance(recipe.get("inference"), dict) else recipe
    local = job.get("local") or {}
    cap = int(local.get("max_new_tokens") or 256)
    asked = find_in_recipe(inf, ("max_new_tokens",))
    temperature = find_in_recipe(inf, ("temperature",))
    top_k = find_in_recipe(inf, ("top_k",))
    top_p = find_in_recipe(inf, ("top_p",))
    return {
        "min_new_tokens": 1,
        "max_new_tokens": min(int(asked), cap) if asked else cap,
        "temperature": float(temperature or 0.0),
        "top_k": max(int(top_k or 0), 0),
        "top_p": float(top_p if top_p not in (None, "") else 1.0),
    }


def _load(jd: JobDir, job: dict[str, Any]) -> tuple[Any, Any]:
    from amzn_nova_forge.manager._local._load import load_model_for

    cfg = resolve_config({}, {}, method_is_lora=False, overrides={"dtype": (job.get("local") or {}).get("dtype")})
    model, tok, _ = load_model_for(jd, job, cfg)
    model.eval()
    return model, tok


def _generate_all(
    jd: JobDir, model: Any, tok: Any, prompts: list[list[dict[str, str]]], gen: dict[str, Any]
) -> list[str]:
    from amzn_nova_forge.manager._local._data import tokenize_prompt
    from amzn_nova_forge.manager._local._model import generate

    out: list[str] = []
    bs = 8
    for i in range(0, len(prompts), bs):
        ids = [tokenize_prompt(tok, p) for p in prompts[i : i + bs]]
        comps = generate(model, tok, ids, **gen)
        out.extend(tok.decode(c, skip_special_tokens=True).strip() for c in comps)
        jd.update_status(progress={"step": min(i + bs, len(prompts)), "total_steps": len(prompts)})
    jd.log(f"Generated {len(out)} responses.")
    return out


def _data_path(job: dict[str, Any]) -> str:
    extra = job.get("extra") or {}
    path = extra.get("input_path") or job.get("data_s3_path")
    if not path:
        raise ConfigError("No input data: pass data_s3_path (a local JSONL file or folder) for local evaluation.")
    return str(path)


def _write_eval_outputs(
    jd: JobDir, job: dict[str, Any], task_key: str, metrics: dict[str, Any], records: list[dict[str, Any]] | None
) -> dict[str, str]:
    from amzn_nova_forge.manager._local._outputs import write_archive

    res_dir = jd.output_dir / "eval_results"
    res_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime())
    results = {
        "results": {task_key: metrics},
        "config_general": {
            "model_name": job.get("model_name_or_path") or job.get("base_model") or "tiny-demo",
            "job_name": job.get("job_name"),
            "platform": "LOCAL",
            "timestamp": stamp,
        },
    }
    results_path = res_dir / f"results_{stamp}.json"
    results_path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    members = {f"{job.get('job_name') or jd.path.name}/eval_results/{results_path.name}": results_path}
    out = {"results_path": str(results_path)}
    if records is not None:
        inf_path = res_dir / "inference_output.jsonl"
        with open(inf_path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
        members[f"{job.get('job_name') or jd.path.name}/eval_results/inference_output.jsonl"] = inf_path
        out["inference_output_path"] = str(inf_path)
    out["output_archive"] = str(write_archive(jd, members))
    return out


def _mc_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = []
    for i, r in enumerate(rows):
        choices = r.get("choices", r.get("options"))
        if isinstance(choices, dict):
            letters, texts = list(choices), [str(v) for v in choices.values()]
        elif not isinstance(choices, list) or len(choices) < 2:
            raise ConfigError(
                f"row {i + 1}: multiple-choice rows need 'choices' (a list of 2+ options or "
                "a {letter: text} dict) and 'answer'."
            )
        else:
            texts = [str(c) for c in choices]
            letters = list(LETTERS[: len(texts)])
        ans = r.get("answer", r.get("gold", r.get("response")))
        if isinstance(ans, int) and not isinstance(ans, bool):
            gold = ans
        elif str(ans).strip().upper() in letters:
            gold = letters.index(str(ans).strip().upper())
        elif str(ans) in texts:
            gold = texts.index(str(ans))
        else:
            raise ConfigError(f"row {i + 1}: answer {ans!r} is not a choice letter, index or choice text.")
        question = str(r.get("question", r.get("query", "")))
        body = (
            question
            + "\n"
            + "\n".join(f"{letter}. {t}" for letter, t in zip(letters, texts, strict=True))
            + "\nAnswer:"
        )
        items.append({"letters": letters, "gold": gold, "prompt": [{"role": "user", "content": body}], "row": r})
    return items


def _score_mc(model: Any, tok: Any, items: list[dict[str, Any]]) -> list[int]:
    import torch

    from amzn_nova_forge.manager._local._data import tokenize_prompt

    device = next(model.parameters()).device
    preds = []
    for it in items:
        prompt = tokenize_prompt(tok, it["prompt"])
        best, best_lp = 0, float("-inf")
        for k, letter in enumerate(it["letters"]):
            cand = list(tok(letter, add_special_tokens=False)["input_ids"])
            ids = torch.tensor([prompt + cand], device=device)
            with torch.no_grad():
                logits = model(input_ids=ids).logits[0, len(prompt) - 1 : -1].float()
            lp = float(torch.log_softmax(logits, -1).gather(-1, torch.tensor(cand, device=device)[:, None]).sum())
            if lp > best_lp:
                best, best_lp = k, lp
        preds.append(best)
    return preds


def evaluate(jd: JobDir, job: dict[str, Any], recipe: dict[str, Any]) -> None:
    """Run the evaluation task named in ``job["extra"]["eval_task"]`` (or the recipe)."""
    from amzn_nova_forge.manager._local import _data
    from amzn_nova_forge.manager._local._metrics import gen_qa_metrics, normalize_answer

    extra = job.get("extra") or {}
    ev: dict[str, Any] = recipe["evaluation"] if isinstance(recipe.get("evaluation"), dict) else {}
    task = str(extra.get("eval_task") or ev.get("task") or "gen_qa")
    task = getattr(task, "value", task)
    subtask = extra.get("subtask") or ev.get("subtask")
    if task in UNSUPPORTED:
        raise ConfigError(
            f"Evaluation task {task!r} is not available on the local runtime: {UNSUPPORTED[task]}. "
            "Run it on SMTJ or SMHP; locally use gen_qa, rft_eval or a multiple-choice benchmark "
            "on your own questions."
        )
    rows = _data.read_rows(_data_path(job))
    jd.log(f"Evaluation task {task}{'/' + str(subtask) if subtask else ''} on {len(rows)} rows.")
    model, tok = _load(jd, job)
    gen = _gen_settings(job, recipe)
    key = f"custom|{task}_{subtask or task}|0"
    records: list[dict[str, Any]] | None = None
    if task in MC_TASKS and any("choices" in r or "options" in r for r in rows):
        items = _mc_rows(rows)
        preds = _score_mc(model, tok, items)
        hits = [float(p == it["gold"]) for p, it in zip(preds, items, strict=True)]
        metrics: dict[str, Any] = {
            "accuracy": statistics.fmean(hits),
            "accuracy_stderr": statistics.pstdev(hits) / max(len(hits), 1) ** 0.5,
        }
        records = [
            {
                "prompt": json.dumps(it["prompt"]),
                "inference": it["letters"][p],
                "gold": it["letters"][it["gold"]],
                "metadata": it["row"].get("metadata"),
            }
            for p, it in zip(preds, items, strict=True)
        ]
    elif task == "rft_eval":
        from amzn_nova_forge.manager._local._reward import load_reward_function, make_request, reward_timeout

        ref = (
            extra.get("rft_lambda_arn")
            or job.get("rft_lambda")
            or find_in_recipe(recipe, ("reward_lambda_arn", "lambda_arn"))
            or (extra.get("rl_env") or {}).get("reward_lambda_arn")
        )
        if not ref:
            raise ConfigError("rft_eval needs a reward function: a local .py file or Lambda ARN (rl_env / rft_lambda).")
        score = load_reward_function(str(ref), job.get("region"), timeout_s=reward_timeout(job))
        examples = [_data.rft_example(r, i) for i, r in enumerate(rows)]
        outs = _generate_all(jd, model, tok, [e["prompt"] for e in examples], gen)
        rewards = score([make_request(e, o) for e, o in zip(examples, outs, strict=True)])
        metrics = {
            "reward_score": statistics.fmean(rewards),
            "reward_score_stderr": statistics.pstdev(rewards) / max(len(rewards), 1) ** 0.5,
        }
        records = [
            {
                "prompt": json.dumps(e["prompt"]),
                "inference": o,
                "gold": e["row"].get("reference_answer"),
                "metadata": {"reward": r},
            }
            for e, o, r in zip(examples, outs, rewards, strict=True)
        ]
    else:
        qa = [_data.qa_example(r) for r in rows]
        missing = [i + 1 for i, q in enumerate(qa) if q["gold"] is None]
        if missing:
            raise ConfigError(f"{task} rows need a reference answer ('response'); missing in rows {missing[:10]}.")
        outs = _generate_all(jd, model, tok, [q["prompt"] for q in qa], gen)
        golds = [str(q["gold"]) for q in qa]
        if task == "gen_qa":
            metrics = gen_qa_metrics(outs, golds)
        else:
            hits = [float(normalize_answer(o) == normalize_answer(g)) for o, g in zip(outs, golds, strict=True)]
            name = "exact_match" if task == "math" else "accuracy"
            metrics = {name: statistics.fmean(hits), f"{name}_stderr": statistics.pstdev(hits) / len(hits) ** 0.5}
        records = [
            {"prompt": json.dumps(q["prompt"]), "inference": o, "gold": q["gold"], "metadata": q["metadata"]}
            for q, o in zip(qa, outs, strict=True)
        ]
    jd.log(
        "Evaluation metrics: " + json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()})
    )
    outputs = _write_eval_outputs(jd, job, key, metrics, records)
    jd.update_status(outputs={**outputs, "metrics": metrics, "task": task})


def batch_inference(jd: JobDir, job: dict[str, Any], recipe: dict[str, Any]) -> None:
    """Generate a response for every input row; write ``inference_results.jsonl``."""
    from amzn_nova_forge.core import storage
    from amzn_nova_forge.manager._local import _data

    rows = _data.read_rows(_data_path(job))
    jd.log(f"Batch inference on {len(rows)} rows.")
    model, tok = _load(jd, job)
    qa = [_data.qa_example(r) for r in rows]
    outs = _generate_all(jd, model, tok, [q["prompt"] for q in qa], _gen_settings(job, recipe))
    results = [
        {
            "system": q["system"],
            "query": q["query"],
            "gold_response": q["gold"],
            "inference_response": o,
            "metadata": q["metadata"],
        }
        for q, o in zip(qa, outs, strict=True)
    ]
    text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in results)
    local_path = jd.output_dir / "inference_results.jsonl"
    local_path.parent.mkdir(parents=True, exist_ok=True)
    local_path.write_text(text, encoding="utf-8")
    records = [
        {"prompt": json.dumps(q["prompt"]), "inference": o, "gold": q["gold"], "metadata": q["metadata"]}
        for q, o in zip(qa, outs, strict=True)
    ]
    outputs = _write_eval_outputs(jd, job, "custom|batch_inference|0", {"num_records": len(results)}, records)
    outputs["inference_results_path"] = str(local_path)
    dest = job.get("output_s3_path")
    if dest and Path(str(dest)).expanduser().resolve() != jd.path and not str(dest).endswith(".tar.gz"):
        target = storage.join(str(dest), "inference_results.jsonl")
        storage.write_text(target, text)
        outputs["inference_results_copy"] = target
        jd.log(f"Wrote {target}.")
    jd.update_status(outputs=outputs)
