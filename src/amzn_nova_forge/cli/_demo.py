"""``nova-forge demo``: the whole customize → evaluate → batch-infer loop on this machine.

With no ``--base-model`` and no network it builds a tiny model offline (and says so), prepares
the bundled sample dataset with the Dataset module, trains SFT LoRA through
``NovaModelCustomizer(..., infra=LocalRuntimeManager(...))`` with a progress bar of the loss,
evaluates on held-out questions (gen_qa: exact match, F1, ROUGE, BLEU), runs batch inference
and writes a loss-curve PNG. With ``--base-model <id or folder>`` it does the same on a real model.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["register", "run_demo"]

#: SFT overrides per model kind (valid for the NOVA_MICRO SFT LoRA recipe's ranges).
TINY_OVERRIDES = {"lr": 2e-3, "global_batch_size": 16, "max_epochs": 4, "warmup_steps": 5, "loraplus_lr_ratio": 4.0}
REAL_OVERRIDES = {"lr": 1e-4, "global_batch_size": 16, "max_epochs": 1, "warmup_steps": 2}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo",
        help="rehearse the whole workflow locally (train, evaluate, batch-infer) in a few minutes",
        description=(__doc__ or "").replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--base-model", default=None, help="Hugging Face model id or local folder (default: a tiny model built offline)"
    )
    p.add_argument("--output-dir", default=None, help="where to write data, jobs and plots (default: a temp folder)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps (default: auto)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: 4 tiny, 1 real)")
    p.add_argument("--max-steps", type=int, default=None, help="cap on optimizer steps")
    p.set_defaults(handler=_handler)


def _handler(args: argparse.Namespace) -> int:
    summary = run_demo(
        base_model=args.base_model,
        output_dir=args.output_dir,
        device=args.device,
        epochs=args.epochs,
        max_steps=args.max_steps,
    )
    return 0 if summary["ok"] else 1


def _say(text: str = "") -> None:
    print(text, flush=True)


def _losses(csv_path: Path) -> list[tuple[int, float]]:
    with open(csv_path, encoding="utf-8") as f:
        return [(int(r["step_number"]), float(r["training_loss"])) for r in csv.DictReader(f)]


def plot_loss(points: list[tuple[int, float]], path: Path, title: str) -> Path | None:
    """Write a loss-curve PNG (None when matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _say("  (matplotlib is not installed: skipping the loss-curve PNG; pip install 'amzn-nova-forge[plot]')")
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", linewidth=1.5)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _prepare_data(data_dir: Path, model: Any, method: Any) -> tuple[str, str]:
    from amzn_nova_forge.dataset import JSONLDatasetLoader, sample_path

    data_dir.mkdir(parents=True, exist_ok=True)
    loader = JSONLDatasetLoader(question="question", answer="answer").load(sample_path("qa"))
    loader.transform(method=method, model=model)
    loader.validate(method=method, model=model)
    train = loader.save_data(str(data_dir / "train.jsonl"))
    eval_path = data_dir / "gen_qa.jsonl"
    shutil.copyfile(sample_path("gen_qa"), eval_path)
    return str(train), str(eval_path)


def run_demo(
    base_model: str | None = None,
    output_dir: str | None = None,
    device: str = "auto",
    *,
    epochs: int | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Run the demo; print what happens and return a summary dict (``ok``, paths, metrics, timings).

    Example:
        >>> summary = run_demo(output_dir="/tmp/nova-demo")  # doctest: +SKIP
        >>> summary["loss_first"] > summary["loss_last"]  # doctest: +SKIP
        True
    """
    from amzn_nova_forge.core.enums import EvaluationTask, JobStatus, Model, TrainingMethod
    from amzn_nova_forge.manager._local import LocalRuntimeManager
    from amzn_nova_forge.manager._local._follow import follow
    from amzn_nova_forge.manager._local._manager import check_local_dependencies
    from amzn_nova_forge.model import NovaModelCustomizer

    check_local_dependencies()  # fail before doing anything when the [local] extra is missing
    t0 = time.monotonic()
    out = Path(output_dir or tempfile.mkdtemp(prefix="nova-forge-demo-")).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    model, method = Model.NOVA_MICRO, TrainingMethod.SFT_LORA
    tiny = not base_model
    _say(f"Nova Forge local demo  ->  {out}")
    if tiny:
        _say(
            "No --base-model given: using a TINY DEMO MODEL built offline (random weights, byte-level tokenizer,\n"
            "about 0.1M parameters). It rehearses the workflow end to end; its answers are not meaningful.\n"
            "Run `nova-forge demo --base-model Qwen/Qwen2.5-0.5B-Instruct` (or a local folder) for a real model."
        )
    else:
        _say(f"Base model: {base_model}")
    summary: dict[str, Any] = {"ok": False, "output_dir": str(out), "tiny": tiny}

    _say("\n[1/5] Preparing the bundled sample dataset (Dataset module: load -> transform -> validate -> save)")
    train_path, eval_path = _prepare_data(out / "data", model, method)
    _say(f"  training data: {train_path}\n  held-out questions: {eval_path}")

    infra = LocalRuntimeManager(
        base_model=base_model,
        device=device,
        output_root=out / "jobs",
        max_steps=max_steps,
        max_new_tokens=24 if tiny else 64,
    )
    customizer = NovaModelCustomizer(
        model=model,
        method=method,
        infra=infra,
        data_s3_path=train_path,
        output_s3_path=str(out / "jobs"),
        generated_recipe_dir=str(out / "recipes"),
    )
    overrides = dict(TINY_OVERRIDES if tiny else REAL_OVERRIDES)
    if epochs:
        overrides["max_epochs"] = epochs

    _say(f"\n[2/5] Training {method.name} on {model.name}'s recipe locally, overrides {json.dumps(overrides)}")
    t_train = time.monotonic()
    result = customizer.train(job_name="demo-sft-lora", overrides=overrides)
    assert result is not None
    info = follow(result.ref, desc="training")
    summary["train_s"] = round(time.monotonic() - t_train, 1)
    job_dir = Path(result.extras["job_dir"])
    if info.status is not JobStatus.COMPLETED:
        _say(f"Training {info.raw_status}: {info.message}\nLogs: {job_dir / 'train.log'}")
        return summary
    points = _losses(job_dir / "output" / "step_wise_training_metrics.csv")
    first = sum(v for _, v in points[:3]) / min(3, len(points))
    last = sum(v for _, v in points[-3:]) / min(3, len(points))
    checkpoint = result.model_artifacts.checkpoint_s3_path
    summary.update(
        loss_first=first, loss_last=last, steps=len(points), checkpoint=checkpoint, training_job=result.job_id
    )
    _say(
        f"  loss {first:.3f} -> {last:.3f} over {len(points)} steps "
        f"({'falling' if last < first else 'NOT falling'}); checkpoint: {checkpoint}"
    )
    saved = result.dump(str(out))
    _say(f"  result saved to {saved} (reload with BaseJobResult.load)")

    _say("\n[3/5] Evaluating the trained model (gen_qa: exact match, F1, ROUGE, BLEU)")
    t_eval = time.monotonic()
    ev = customizer.evaluate(
        job_name="demo-eval", eval_task=EvaluationTask.GEN_QA, data_s3_path=eval_path, model_path=checkpoint
    )
    assert ev is not None
    ev_info = follow(ev.ref, desc="evaluating")
    summary["eval_s"] = round(time.monotonic() - t_eval, 1)
    if ev_info.status is not JobStatus.COMPLETED:
        _say(f"Evaluation {ev_info.raw_status}: {ev_info.message}")
        return summary
    metrics = LocalRuntimeManager.job_status_data(ev.ref).get("outputs", {}).get("metrics", {})
    summary["metrics"] = metrics
    shown = {k: round(float(metrics[k]), 4) for k in ("em", "qem", "f1", "rouge1", "rougeL", "bleu") if k in metrics}
    _say("  " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    if tiny:
        _say(
            "  (the tiny demo model has random weights and ~50 steps of training: scores near 0 are expected;\n"
            "   the point is the pipeline. Use --base-model for meaningful numbers.)"
        )

    _say("\n[4/5] Batch inference on the held-out questions")
    t_batch = time.monotonic()
    batch_out = out / "batch-inference"
    bi = customizer.batch_inference(
        job_name="demo-batch", input_path=eval_path, output_s3_path=str(batch_out), model_path=checkpoint
    )
    assert bi is not None
    bi_info = follow(bi.ref, desc="inferring")
    summary["batch_s"] = round(time.monotonic() - t_batch, 1)
    if bi_info.status is not JobStatus.COMPLETED:
        _say(f"Batch inference {bi_info.raw_status}: {bi_info.message}")
        return summary
    results_path = batch_out / "inference_results.jsonl"
    rows = [json.loads(line) for line in results_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    summary["inference_results"] = str(results_path)
    for r in rows[:3]:
        _say(f"  Q: {r['query']!r}  gold: {r['gold_response']!r}  model: {r['inference_response'][:40]!r}")
    _say(f"  {len(rows)} rows -> {results_path}")

    _say("\n[5/5] Loss curve")
    png = plot_loss(points, out / "loss_curve.png", f"{method.name} on {'tiny demo model' if tiny else base_model}")
    if png:
        summary["loss_curve"] = str(png)
        _say(f"  {png}")
    summary["total_s"] = round(time.monotonic() - t0, 1)
    summary["ok"] = True
    _say(f"\nDone in {summary['total_s']:.0f}s. Everything is under {out}.")
    return summary


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_handler(argparse.Namespace(base_model=None, output_dir=None, device="auto", epochs=None, max_steps=None)))
