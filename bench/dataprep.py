"""Data-preparation benchmark: the spec's SFT example on generated generic Q/A JSONL.

Pipeline (the same calls for both SDKs, exactly as in the API spec)::

    loader = JSONLDatasetLoader(question="input", answer="output")
    loader.load(path)
    loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)
    loader.validate(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)
    loader.save_data(out)

Each run happens in a fresh subprocess; we report wall-clock rows/s of the pipeline
(import excluded), its CPU seconds (the process and the worker processes it started), and
the peak RSS of its whole process tree: the larger of the process's own ``VmHWM`` and the
sum of the RSS of the process and all its children, sampled every 10 ms (a forked
worker's pages shared with its parent count once per process, so this is an upper bound). The anchor (``amzn-nova-forge==1.4.10``) runs from its own virtualenv under
moto's ``mock_aws`` (it resolves an S3 "dataprep" bucket even for local files)::

    python3 -m venv /tmp/anchor-venv
    /tmp/anchor-venv/bin/pip install --ignore-requires-python amzn-nova-forge==1.4.10 \\
        'contourpy<1.4' 'matplotlib<3.11' 'scipy<1.18' 'numpy<2.5' 'pandas<3.2' moto
    .venv/bin/python bench/dataprep.py --rows 100000 1000000 --anchor-python /tmp/anchor-venv/bin/python

Without ``--anchor-python`` only our SDK is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data"
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
    "river",
    "stone",
    "cloud",
    "light",
    "sound",
    "water",
    "table",
    "chair",
]


def make_data(rows: int) -> Path:
    """Generic Q/A JSONL (``input``/``output``), deterministic, ~200 bytes a row."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"qa_{rows}.jsonl"
    if path.exists():
        return path
    rng = random.Random(rows)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8") as f:
        for i in range(rows):
            q = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 20)))
            a = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30)))
            f.write(json.dumps({"input": f"Question {i}: {q}?", "output": a}) + "\n")
    os.replace(tmp, path)
    return path


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _tree_rss(pid: int) -> int:
    """Sum of the RSS (bytes) of ``pid`` and all its descendants (0 once it has exited)."""
    import psutil

    try:
        procs = [psutil.Process(pid)]
        procs += procs[0].children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def worker(kind: str, src: str, out: str) -> None:
    """Run the pipeline once in this process and print one JSON line of measurements."""
    os.environ["NOVA_FORGE_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TELEMETRY_OPT_OUT"] = "true"
    ctx = None
    if kind == "anchor":
        for var, val in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            os.environ[var] = val
        import logging
        import warnings

        warnings.simplefilter("ignore")
        from moto import mock_aws

        ctx = mock_aws()
        ctx.start()
    t0 = time.perf_counter()
    from amzn_nova_forge.dataset import JSONLDatasetLoader
    from amzn_nova_forge.model import Model, TrainingMethod

    if kind == "anchor":
        logging.disable(logging.WARNING)
    t_import = time.perf_counter() - t0
    import resource

    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0, c0 = time.perf_counter(), time.process_time()
    loader = JSONLDatasetLoader(question="input", answer="output")
    loader.load(src)
    loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)
    loader.validate(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)
    loader.save_data(out)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # worker processes, once reaped
    cpu += kids.ru_utime + kids.ru_stime - kids0.ru_utime - kids0.ru_stime
    if ctx is not None:
        ctx.stop()
    with open(out, "rb") as f:
        rows = sum(1 for _ in f)
    print(
        "RESULT "
        + json.dumps(
            {
                "kind": kind,
                "rows": rows,
                "wall_s": wall,
                "cpu_s": cpu,
                "import_s": t_import,
                "peak_rss_mb": _peak_rss_mb(),
            }
        )
    )


def _run(python: str, kind: str, src: Path, timeout: float) -> dict[str, float]:
    out = DATA / f"out_{kind}_{src.stem}.jsonl"
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the anchor imports its own amzn_nova_forge, never this tree's
    if kind == "ours":
        env["PYTHONPATH"] = str(ROOT / "src")
    proc = subprocess.Popen(
        [python, __file__, "--worker", kind, str(src), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(DATA),
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        stop.set()
        sampler.join()
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            out.unlink(missing_ok=True)
            result = dict(json.loads(line[7:]))
            result["peak_rss_mb"] = max(result["peak_rss_mb"], peak / 2**20)
            return result
    raise RuntimeError(f"{kind} run failed (exit {proc.returncode}):\n{stderr[-3000:]}")


def import_time(python: str, repeat: int = 5) -> float:
    """Best-of-``repeat`` wall time of ``import amzn_nova_forge`` in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([python, "-c", "import amzn_nova_forge"], check=True, env=env)
        best = min(best, time.perf_counter() - t)
    base = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True, env=env)
        base = min(base, time.perf_counter() - t)
    return best - base


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--anchor-python", help="python of a venv with amzn-nova-forge==1.4.10 and moto")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of our SDK per size; the fastest is reported (noise on a shared machine only ever adds time)",
    )
    ap.add_argument("--worker", nargs=3, metavar=("KIND", "SRC", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    print(f"import amzn_nova_forge: {import_time(sys.executable):.3f} s (best of 5, interpreter start excluded)")
    header = "| rows | SDK | rows/s (wall) | pipeline wall s | CPU s | peak RSS MB |"
    print(header + "\n|---|---|---|---|---|---|")
    for rows in args.rows:
        src = make_data(rows)
        ours = min(
            (_run(sys.executable, "ours", src, args.timeout) for _ in range(args.repeat)), key=lambda r: r["wall_s"]
        )
        results = [ours]
        if args.anchor_python:
            results.append(_run(args.anchor_python, "anchor", src, args.timeout))
        for r in results:
            name = "amzn_nova_forge (this repo)" if r["kind"] == "ours" else "amzn-nova-forge 1.4.10"
            print(
                f"| {rows:,} | {name} | {r['rows'] / r['wall_s']:,.0f} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | "
                f"{r['peak_rss_mb']:.0f} |",
                flush=True,
            )
        if len(results) == 2:
            a = results[1]
            print(
                f"|   | **ratio** | **{a['wall_s'] / ours['wall_s']:.1f}x** (wall) | | "
                f"{a['cpu_s'] / ours['cpu_s']:.1f}x (CPU) | {a['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x less |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
