"""The entry point a SageMaker or Glue data-prep job runs: the same pipeline, inside the job.

``python -m amzn_nova_forge.dataset._curation._job [--config FILE | --config-json JSON]``;
without either it reads SageMaker's ``/opt/ml/input/config/hyperparameters.json``. The
config (built by :func:`job_arguments`) names the input JSONL (local path or ``s3://``), the
steps (:meth:`FilterStep.to_dict`), each step's output folder, and the output root. The job
runs every step with the local executor (all the instance's cores) and writes, under each
step folder, ``_summary.json``, ``dropped.jsonl`` and ``part-00000.jsonl``, and under the
output root ``part-00000.jsonl`` (the kept records) and ``_curation.json`` (the counts the
submitting SDK reads back).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from amzn_nova_forge.core import storage

__all__ = ["CURATION_FILE", "PIPELINE_ID", "job_arguments", "main", "run_job"]

logger = logging.getLogger(__name__)

PIPELINE_ID = "nova_forge_curation"
CURATION_FILE = "_curation.json"
_SM_HYPERPARAMETERS = "/opt/ml/input/config/hyperparameters.json"


def job_arguments(input_uri: str, steps: Sequence[Any], out_dirs: Sequence[str], output_root: str) -> dict[str, str]:
    """The job's string arguments (SageMaker hyperparameters and Glue arguments are strings)."""
    return {
        "pipeline_id": PIPELINE_ID,
        "input_path": input_uri,
        "output_path": output_root,
        "steps": json.dumps([s.to_dict() for s in steps]),
        "output_dirs": json.dumps(list(out_dirs)),
    }


def run_job(config: Mapping[str, str]) -> dict[str, Any]:
    """Run the pipeline the config describes; returns what it writes to ``_curation.json``."""
    from amzn_nova_forge.dataset._curation._params import step_from_dict
    from amzn_nova_forge.dataset._loaders import JSONLDatasetLoader

    if config.get("pipeline_id") != PIPELINE_ID:
        raise SystemExit(f"unknown pipeline_id {config.get('pipeline_id')!r}; expected {PIPELINE_ID!r}")
    steps = [step_from_dict(d) for d in json.loads(config["steps"])]
    out_dirs = json.loads(config["output_dirs"])
    root = config["output_path"]
    with tempfile.TemporaryDirectory(prefix="nova-forge-job-") as tmp:
        src = config["input_path"]
        local = src
        if storage.is_s3(src):
            local = os.path.join(tmp, "input.jsonl")
            storage.download(src, local)
        loader = JSONLDatasetLoader().load(local)
        for step, out in zip(steps, out_dirs, strict=True):
            loader.filter(method=step.method, text_field=step.text_field, output_path=out, **dict(step.params))
        loader.execute(executor="local")
        loader.save_data(storage.join(root, "part-00000.jsonl"))
    curation = loader.last_curation
    if curation is None:  # execute() records counts only when a step ran
        raise SystemExit("the job config lists no curation steps; nothing was curated")
    result: dict[str, Any] = curation.to_dict()
    storage.write_text(storage.join(root, CURATION_FILE), json.dumps(result, indent=2))
    return result


def _config(argv: Sequence[str] | None) -> dict[str, str]:
    ap = argparse.ArgumentParser(prog="python -m amzn_nova_forge.dataset._curation._job")
    ap.add_argument("--config", help="a JSON file with the job arguments")
    ap.add_argument("--config-json", help="the job arguments as a JSON string (Glue)")
    args, _unknown = ap.parse_known_args(argv)
    if args.config_json:
        return dict(json.loads(args.config_json))
    path = args.config or _SM_HYPERPARAMETERS
    with open(path, encoding="utf-8") as f:
        return dict(json.load(f))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job; exit status 0 on success (failures raise, so the job is marked Failed)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    result = run_job(_config(argv))
    logger.info("Curation done: %s records in, %s kept", result["input_count"], result["output_count"])
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in tests
    sys.exit(main())
