"""``nova-forge logs|plot|results``: follow a job's logs, plot its curve, read its results.

Each command takes a result file saved with ``result.dump()`` (any job kind, any platform)::

    nova-forge logs my-job_SMTJ.json --limit 100 --head
    nova-forge logs my-job_SMTJ.json --follow
    nova-forge plot my-job_SMTJ.json -o loss.png --start-step 50 --end-step 200
    nova-forge results my-eval_SMTJ.json [--json] [--save s3://bucket/results.jsonl]

``results`` exits with 3 when the job has no results yet (still running, failed, or wrote none).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``logs``, ``plot`` and ``results`` commands."""
    logs = subparsers.add_parser("logs", help="print (or --follow) the logs of a saved job result")
    logs.add_argument("result", help="result JSON saved with result.dump()")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines until the job ends")
    logs.add_argument("--limit", type=int, help="at most this many lines")
    logs.add_argument("--head", action="store_true", help="the first lines instead of the last ones")
    logs.add_argument("--end-time", help="only lines up to this time (ISO-8601 or epoch ms)")
    logs.add_argument("--poll", type=float, default=10.0, help="seconds between polls with --follow (default 10)")
    logs.add_argument("--json", action="store_true", help="one JSON object per event (timestamp, message)")
    logs.set_defaults(handler=_logs)

    plot = subparsers.add_parser("plot", help="plot the loss / reward curve of a saved training result")
    plot.add_argument("result", help="result JSON saved with result.dump()")
    plot.add_argument("-o", "--output", default=None, help="PNG file to write (default <job>_<metric>.png)")
    plot.add_argument("--method", help="training method, e.g. sft_lora (default: the result's)")
    plot.add_argument("--metric", action="append", dest="metrics", help="metric to plot (repeatable)")
    plot.add_argument("--start-step", type=int)
    plot.add_argument("--end-step", type=int)
    plot.add_argument("--json", action="store_true", help="print the PNG path and the plotted steps as JSON")
    plot.set_defaults(handler=_plot)

    res = subparsers.add_parser("results", help="print the results of a saved evaluation / batch-inference job")
    res.add_argument("result", help="result JSON saved with result.dump()")
    res.add_argument("--json", action="store_true", help="print the results as JSON")
    res.add_argument("--save", help="batch inference: also write the formatted JSONL here (s3:// or local)")
    res.epilog = "exit codes: 0 results printed, 3 no results yet (running, failed or none written), 1 error"
    res.set_defaults(handler=_results)


def _load(path: str) -> Any:
    from amzn_nova_forge.model.result._base import BaseJobResult

    return BaseJobResult.load(path)


def _logs(args: argparse.Namespace) -> int:
    from amzn_nova_forge.monitor._logs import CloudWatchLogMonitor

    monitor = CloudWatchLogMonitor.from_job_result(_load(args.result))
    if not args.follow:
        if not args.json:
            monitor.show_logs(limit=args.limit, start_from_head=args.head, end_time=args.end_time)
            return 0
        for event in monitor.get_logs(limit=args.limit, start_from_head=args.head, end_time=args.end_time):
            print(_event_json(event))
        return 0
    for event in monitor.follow(poll_every=args.poll):
        print(_event_json(event) if args.json else event["message"], flush=True)
    return 0


def _event_json(event: Any) -> str:
    keep = {k: event.get(k) for k in ("timestamp", "message", "logStreamName") if event.get(k) is not None}
    return json.dumps(keep, ensure_ascii=False, default=str)


def _plot(args: argparse.Namespace) -> int:
    from amzn_nova_forge.errors import ConfigError
    from amzn_nova_forge.monitor._logs import CloudWatchLogMonitor

    result = _load(args.result)
    method = args.method or getattr(result, "method", None)
    if method is None:
        raise ConfigError(f"{args.result} is not a training result; pass --method (e.g. --method sft_lora).")
    monitor = CloudWatchLogMonitor.from_job_result(result)
    try:
        path = monitor.plot_metrics(method, args.metrics, args.start_step, args.end_step, output_path=args.output)
    except NotImplementedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rows = monitor.get_metrics(method, args.start_step, args.end_step)
    if args.json:
        first, last = (rows[0]["step"], rows[-1]["step"]) if rows else (None, None)
        print(json.dumps({"path": str(path), "steps": len(rows), "first_step": first, "last_step": last}, indent=2))
        return 0
    print(f"Wrote {path} ({len(rows)} steps, {rows[0]['step']}..{rows[-1]['step']}).")
    return 0


def _results(args: argparse.Namespace) -> int:
    result = _load(args.result)
    get = getattr(result, "get", None)
    if get is None:  # pragma: no cover - every published result has get()
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return 0
    from amzn_nova_forge.core.enums import JobStatus
    from amzn_nova_forge.model.result._evaluation import EvaluationResult
    from amzn_nova_forge.model.result._inference import BatchInferenceResult

    if (
        isinstance(result, (EvaluationResult, BatchInferenceResult))
        and not (args.save and isinstance(result, EvaluationResult))
        and result.status().status is not JobStatus.COMPLETED
    ):  # say why there is nothing (show() does), without get()'s notebook-oriented warning
        if args.json:
            print("{}")
        else:
            result.show()
        return 3
    if isinstance(result, BatchInferenceResult):
        data = result.get(args.save) if args.save else result.get()
        if args.save and data:
            print(f"Saved {len(data['inference_results'])} records to {args.save}.", file=sys.stderr)
    else:
        if args.save:
            print("error: --save applies to batch-inference results only.", file=sys.stderr)
            return 2
        data = get()
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return 0 if data else 3
    if isinstance(result, (EvaluationResult, BatchInferenceResult)):
        result.show()
    else:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    return 0 if data else 3
