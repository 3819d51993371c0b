"""Benchmark: fetch and parse the logs of a 100,000-line training job from moto CloudWatch Logs.

The job has ``--streams`` streams (one per node, SMTJ naming ``<job>/algo-N-…``) holding
``--lines`` lines in all, in the SFT container format (progress line per step plus
INFO/NCCL/warning chatter). Measured, each in the same process after loading:

* ``fetch all``: ``CloudWatchLogMonitor.get_logs(start_from_head=True)`` — every stream,
  paginated ``GetLogEvents`` (10,000 events per call), merged in time order;
* ``parse``: ``parse_metrics`` over all events (SFT: training_loss / validation_loss);
* ``tail 100``: ``get_logs(limit=100)`` — what ``show_logs(limit=100)`` costs;
* ``plot``: ``plot_metrics`` to a PNG (includes importing matplotlib the first time);
* CPU seconds of fetch and of parse (``time.process_time``; steadier than wall time on a
  loaded machine);
* peak Python memory (``tracemalloc``) of fetch + parse, and the process max RSS.

Run::

    .venv/bin/python bench/logs.py [--lines 100000] [--streams 4] [--server] [--json]

``--server`` goes through a ``ThreadedMotoServer`` on 127.0.0.1 (real HTTP) instead of the
in-process mock.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "monitor"))

GROUP = "/aws/sagemaker/TrainingJobs"


def _load(logs: object, job: str, lines: int, streams: int) -> int:
    from logfixtures import BASE_MS, put_lines, sft_lines

    per_stream = lines // streams
    steps = per_stream // 4  # 1 progress line + 3 chatter lines per step
    total = 0
    for n in range(streams):
        body = sft_lines(steps, chatter=3, seed=n)[:per_stream]
        put_lines(logs, GROUP, f"{job}/algo-{n + 1}-1768478400", body, start_ms=BASE_MS + n, every_ms=20)
        total += len(body)
    return total


def run(lines: int, streams: int) -> dict[str, float | int]:
    import boto3

    from amzn_nova_forge.core.enums import Platform, TrainingMethod
    from amzn_nova_forge.monitor import CloudWatchLogMonitor
    from amzn_nova_forge.monitor._metrics import parse_metrics

    logs = boto3.client("logs", region_name="us-east-1")
    t0 = time.perf_counter()
    loaded = _load(logs, "bench-job", lines, streams)
    load_s = time.perf_counter() - t0

    monitor = CloudWatchLogMonitor.from_job_id(job_id="bench-job", platform=Platform.SMTJ)
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    events = monitor.get_logs(start_from_head=True)
    fetch_s, fetch_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    rows = parse_metrics(events, TrainingMethod.SFT_LORA)
    parse_s, parse_cpu = time.perf_counter() - t0, time.process_time() - c0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(events) == loaded, (len(events), loaded)
    assert all(events[i]["timestamp"] <= events[i + 1]["timestamp"] for i in range(len(events) - 1))

    t0 = time.perf_counter()
    tail = monitor.get_logs(limit=100)
    tail_s = time.perf_counter() - t0
    assert len(tail) == 100

    monitor._job_is_terminal = lambda: True  # type: ignore[method-assign]  # no SageMaker job in this bench
    monitor._events, monitor._final = events, True
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        monitor.plot_metrics(TrainingMethod.SFT_LORA, output_path=os.path.join(d, "loss.png"))
        plot_s = time.perf_counter() - t0

    return {
        "lines": loaded,
        "streams": streams,
        "metric_rows": len(rows),
        "load_into_moto_s": round(load_s, 2),
        "fetch_all_s": round(fetch_s, 3),
        "parse_s": round(parse_s, 3),
        "fetch_plus_parse_s": round(fetch_s + parse_s, 3),
        "fetch_cpu_s": round(fetch_cpu, 3),
        "parse_cpu_s": round(parse_cpu, 3),
        "tail_100_s": round(tail_s, 3),
        "plot_png_s": round(plot_s, 3),
        "peak_python_mb": round(peak / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--streams", type=int, default=4)
    ap.add_argument("--server", action="store_true", help="use ThreadedMotoServer over HTTP")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[var] = "bench"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    if args.server:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
        try:
            result = run(args.lines, args.streams)
        finally:
            server.stop()
    else:
        from moto import mock_aws

        with mock_aws():
            result = run(args.lines, args.streams)
    result["mode"] = "server" if args.server else "in-process"
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>20}: {v}")


if __name__ == "__main__":
    main()
