"""What the worker runs: training (SFT, CPT, DPO, RFT), evaluation and batch inference."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._local._checkpoints import Checkpoints, read_resume, restore_adapter
from amzn_nova_forge.manager._local._hparams import TrainConfig, resolve_config, unused_keys
from amzn_nova_forge.manager._local._jobdir import JobDir
from amzn_nova_forge.manager._local._load import load_model_for, read_recipe, resolve_model_source

__all__ = ["load_model_for", "resolve_model_source", "run_batch_inference", "run_evaluation", "run_training"]

logger = logging.getLogger(__name__)


def _train_sft_cpt(
    model: Any, examples: list[dict[str, list[int]]], cfg: TrainConfig, on_step: Checkpoints, resume: Any
) -> dict[str, Any]:
    """Train on the engine; ``on_step`` gets the dict events of the DPO / RFT loops (0-based ``step``)."""
    from amzn_nova_forge.manager._local._engine import StepMetrics, train_causal_lm

    def relay(m: StepMetrics) -> Any:
        return on_step({**m.to_dict(), "step": m.step - 1, "step_time": m.step_time_s})

    on_step.engine = True  # the engine hands over its optimizer state: on_save writes resumable checkpoints
    metrics = train_causal_lm(model, examples, cfg, relay, on_save=on_step.save, resume=resume)
    return {
        "steps": len(metrics),
        "final_loss": metrics[-1].loss if metrics else float("nan"),
        "consumed_samples": metrics[-1].consumed_samples if metrics else 0,
    }


def _rank() -> int:
    """This process's rank when several train the job together (torchrun), else 0."""
    return int(os.environ.get("RANK", "0"))


def run_training(jd: JobDir, job: dict[str, Any], flag: Any) -> None:
    """Train per ``job["method"]`` and write the checkpoint, metrics CSV, manifest and archive."""
    from amzn_nova_forge.core.enums import TrainingMethod
    from amzn_nova_forge.manager._local import _data, _model
    from amzn_nova_forge.manager._local._outputs import MetricsWriter, write_archive, write_manifest

    method = TrainingMethod(job["method"])
    family = method.family
    if family not in ("sft", "cpt", "dpo", "rft"):
        raise ConfigError(f"The local runtime cannot train {method.value!r}; it supports SFT, CPT, DPO and RFT.")
    recipe = read_recipe(job)
    cfg = resolve_config(job.get("hyperparameters"), recipe, method_is_lora=method.is_lora, overrides=job.get("local"))
    service_only = unused_keys(job.get("hyperparameters"))
    if service_only:
        jd.log(
            "Service-only settings with no local counterpart (infrastructure of the managed job, not the "
            f"training math): {', '.join(service_only)}."
        )
    if not job.get("data_s3_path"):
        raise ConfigError("No training data: pass data_s3_path (a local JSONL file or folder) to the customizer.")
    rows = _data.read_rows(job["data_s3_path"])
    jd.log(f"Method {method.value}; {len(rows)} training rows from {job['data_s3_path']}.")
    media = sum(1 for r in rows if _data.has_media(r))
    if media:
        jd.log(
            f"WARNING: {media} rows have image/video/document blocks; the local runtime trains on their "
            "text only (multimodal training needs a Nova model on SageMaker)."
        )
    resume_from = (job.get("local") or {}).get("resume_from")
    resume = read_resume(str(resume_from), family=family, lora=cfg.lora) if resume_from else None
    if resume is not None and not cfg.lora:  # full fine-tuning: the checkpoint holds every weight
        job = {**job, "model_name_or_path": str(resume_from)}
    model, tok, info = load_model_for(jd, job, cfg)
    import torch

    torch.manual_seed(cfg.seed)
    if cfg.lora:
        model = _model.apply_lora(model, cfg, include_lm_head=bool(info.get("tiny")))
        if resume is not None:
            restore_adapter(model, str(resume_from))
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        jd.log(
            f"LoRA rank {cfg.lora_rank}, alpha {cfg.lora_alpha}, LoRA+ ratio {cfg.loraplus_lr_ratio}: "
            f"{trainable / 1e6:.3f}M trainable parameters."
        )
    if family == "rft" and not (job.get("local") or {}).get("max_new_tokens") and cfg.max_new_tokens > 256:
        jd.log(
            f"Capping rollout max_new_tokens {cfg.max_new_tokens} -> 256 for local rehearsal "
            "(set LocalRuntimeManager(max_new_tokens=...) to change)."
        )
        cfg.max_new_tokens = 256
    if family == "rft" and (cfg.top_k == 1 or cfg.temperature <= 0):
        jd.log(
            f"Rollouts need sampling for group-relative advantages: top_k {cfg.top_k} -> 0, "
            f"temperature {cfg.temperature} -> {cfg.temperature if cfg.temperature > 0 else 1.0}."
        )
        cfg.top_k = 0
        cfg.temperature = cfg.temperature if cfg.temperature > 0 else 1.0
    jd.log("Training config: " + json.dumps({k: v for k, v in cfg.to_dict().items() if k != "extra"}, default=str))
    meta = {
        "base_model": info.get("source"),
        "tiny": bool(info.get("tiny")),
        "method": method.value,
        "job_id": jd.path.name,
        "parent": info.get("parent"),
        "lora": cfg.lora,
    }
    writer = Checkpoints(MetricsWriter(jd, rft=family == "rft", flag=flag), jd, cfg, meta, model, tok)
    if resume is not None:
        jd.log(f"Resuming from {resume_from} at step {resume['step']} (optimizer state restored).")
    if family == "sft":
        examples = [_data.tokenize_chat(tok, _data.to_messages(r), cfg.max_length) for r in rows]
        summary = _train_sft_cpt(model, examples, cfg, writer, resume)
    elif family == "cpt":
        examples = _data.pack_texts(tok, (_data.cpt_text(r) for r in rows), cfg.max_length)
        summary = _train_sft_cpt(model, examples, cfg, writer, resume)
    elif family == "dpo":
        from amzn_nova_forge.manager._local._dpo import build_pairs, train_dpo

        pairs = build_pairs(tok, [_data.dpo_example(r) for r in rows], cfg.max_length)
        summary = train_dpo(model, pairs, cfg, writer)
    else:
        from amzn_nova_forge.manager._local._reward import load_reward_function, reward_timeout
        from amzn_nova_forge.manager._local._rft import train_rft

        ref = job.get("rft_lambda")
        if not ref:
            raise ConfigError(
                "RFT needs a reward function: pass rft_lambda_arn (a Lambda ARN or a local .py file "
                "with lambda_handler) to train(), or rft_lambda= to LocalRuntimeManager."
            )
        score = load_reward_function(str(ref), job.get("region"), timeout_s=reward_timeout(job))
        examples = [_data.rft_example(r, i) for i, r in enumerate(rows)]
        summary = train_rft(model, tok, examples, score, cfg, writer)
    if _rank() != 0:  # torchrun: rank 0 writes the checkpoint and the outputs
        return
    val_loss = _validation_loss(jd, job, model, tok, cfg, family, max(int(summary.get("steps") or 1) - 1, 0))
    ckpt = _model.save_checkpoint(model, tok, jd.checkpoint_dir, meta)
    jd.log(f"Saved checkpoint to {ckpt}.")
    csv_path = writer.writer.write_csv(jd.metrics_csv)
    manifest = write_manifest(
        jd,
        {
            "checkpoint_s3_bucket": str(ckpt),
            "checkpoint_path": str(ckpt),
            "lora_adapter_path": str(ckpt / "adapter") if cfg.lora else None,
            "base_model": info.get("source"),
            "method": method.value,
            "job_id": jd.path.name,
            "steps": summary.get("steps"),
            "final_loss": summary.get("final_loss"),
            "val_loss": val_loss,
        },
    )
    archive = write_archive(jd, {"manifest.json": manifest, "step_wise_training_metrics.csv": csv_path})
    _upload_archive(jd, job, archive)
    jd.update_status(
        outputs={
            "checkpoint_path": str(ckpt),
            "output_archive": str(archive),
            "metrics_csv": str(csv_path),
            "manifest": str(manifest),
        },
        summary={**{k: v for k, v in summary.items() if isinstance(v, (int, float, str))}, "val_loss": val_loss},
    )


def _upload_archive(jd: JobDir, job: dict[str, Any], archive: Path) -> None:
    """Copy ``output.tar.gz`` to ``<output_s3_path>/<job_id>/output/`` when the output path is on S3.

    The checkpoint itself stays on this machine (the manifest names its local folder).
    """
    dest = job.get("output_s3_path")
    if not dest or not str(dest).startswith("s3://"):
        return
    from amzn_nova_forge.core import storage

    target = storage.join(str(dest), jd.path.name, "output", "output.tar.gz")
    storage.upload(str(archive), target)
    jd.log(f"Uploaded {archive.name} to {target}.")
    jd.update_status(outputs={"output_archive_s3": target})


def _validation_loss(
    jd: JobDir, job: dict[str, Any], model: Any, tok: Any, cfg: TrainConfig, family: str, step: int
) -> float | None:
    path = job.get("validation_data_s3_path")
    if not path or family not in ("sft", "cpt"):
        return None
    import torch

    from amzn_nova_forge.manager._local import _data
    from amzn_nova_forge.manager._local._batches import pad_batch, sequence_logps

    rows = _data.read_rows(path)
    if family == "sft":
        ex = [_data.tokenize_chat(tok, _data.to_messages(r), cfg.max_length) for r in rows]
    else:
        ex = _data.pack_texts(tok, (_data.cpt_text(r) for r in rows), cfg.max_length)
    total, count = 0.0, 0
    device = next(model.parameters()).device
    with torch.no_grad():
        for i in range(0, len(ex), cfg.micro):
            b = pad_batch(ex[i : i + cfg.micro], cfg.pad_token_id, device)
            lp, n = sequence_logps(model, b)
            total += float(-lp.sum())
            count += int(n.sum())
    val = total / max(count, 1)
    jd.log(f"Validation: global_step={step}.000, val_loss={val:.4f}")
    return val


def run_evaluation(jd: JobDir, job: dict[str, Any], flag: Any) -> None:
    from amzn_nova_forge.manager._local import _eval

    _eval.evaluate(jd, job, read_recipe(job))


def run_batch_inference(jd: JobDir, job: dict[str, Any], flag: Any) -> None:
    from amzn_nova_forge.manager._local import _eval

    _eval.batch_inference(jd, job, read_recipe(job))
