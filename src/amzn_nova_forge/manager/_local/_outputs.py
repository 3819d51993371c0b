"""Write a local job's outputs in the SMTJ layout: log lines, metrics CSV, manifest, ``output.tar.gz``."""

from __future__ import annotations

import csv
import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

from amzn_nova_forge.manager._local import _tracking
from amzn_nova_forge.manager._local._jobdir import JobDir

__all__ = ["MetricsWriter", "write_archive", "write_manifest"]


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class MetricsWriter:
    """Turns ``on_step`` events into ``train.log`` lines (SMTJ format), CSV rows and status progress.

    The log line looks like the SMTJ container's, which the log monitor parses::

        Epoch 0: : 3it [00:02, 1.41it/s, reduced_train_loss=2.3456, global_step=2.000,
        consumed_samples=24.0, train_step_timing in s=0.700]
    """

    COLUMNS = ("step_number", "epoch_number", "training_loss", "learning_rate", "consumed_samples", "step_time_s")

    def __init__(self, jd: JobDir, *, rft: bool = False, flag: Any = None) -> None:
        self.jd = jd
        self.rft = rft
        self.flag = flag
        self.rows: list[dict[str, Any]] = []
        self.t0 = time.perf_counter()
        self._last_status = 0.0

    def __call__(self, ev: dict[str, Any]) -> bool:
        step = int(ev["step"])
        elapsed = time.perf_counter() - self.t0
        rate = (step + 1) / elapsed if elapsed > 0 else 0.0
        parts = [
            f"reduced_train_loss={ev['loss']:.4f}",
            f"global_step={step}.000",
            f"consumed_samples={float(ev['consumed_samples']):.1f}",
            f"train_step_timing in s={ev['step_time']:.3f}",
            f"lr={ev['lr']:.3e}",
        ]
        if self.rft:
            parts.insert(2, f"reward_score={ev['reward_score']:.4f}")
        self.jd.log(
            f"Epoch {ev['epoch']}: : {step + 1}it [{_clock(elapsed)}, {rate:.2f}it/s, " + ", ".join(parts) + "]"
        )
        row = {
            "step_number": step,
            "epoch_number": ev["epoch"],
            "training_loss": round(float(ev["loss"]), 6),
            "learning_rate": ev["lr"],
            "consumed_samples": ev["consumed_samples"],
            "step_time_s": round(float(ev["step_time"]), 4),
        }
        for extra in ("reward_score", "reward_accuracy", "reward_margin"):
            if extra in ev:
                row[extra] = round(float(ev[extra]), 6)
        self.rows.append(row)
        _tracking.log_step(row)  # MLflow / TensorBoard
        now = time.perf_counter()
        total = int(ev.get("total_steps") or 0)
        if now - self._last_status > 0.5 or step + 1 >= total:
            self._last_status = now
            self.jd.update_status(
                progress={
                    "step": step + 1,
                    "total_steps": total,
                    "loss": row["training_loss"],
                    **({"reward_score": row["reward_score"]} if self.rft else {}),
                }
            )
        return bool(self.flag is not None and self.flag.stop)

    def write_csv(self, path: Path) -> Path:
        cols = list(self.COLUMNS) + [
            c for c in ("reward_score", "reward_accuracy", "reward_margin") if any(c in r for r in self.rows)
        ]
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(self.rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
        return path


def write_manifest(jd: JobDir, data: dict[str, Any]) -> Path:
    path = jd.output_dir / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def write_archive(jd: JobDir, members: dict[str, Path]) -> Path:
    """Write ``output/output.tar.gz`` with ``members`` (archive name → file or folder); atomic."""
    jd.output_dir.mkdir(parents=True, exist_ok=True)
    tmp = jd.archive.with_suffix(".tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        for name, path in members.items():
            if path.exists():
                tar.add(str(path), arcname=name)
    tmp.replace(jd.archive)
    return jd.archive
