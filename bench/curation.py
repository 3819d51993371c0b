"""Data-curation benchmark: our filters against datatrove's MinHash dedup, side by side.

Two measurements, each engine in a fresh child process whose whole process tree's RSS is
sampled every 50 ms (peak = the largest sum over the tree):

* **FUZZY_DEDUP** on ``--docs`` short documents (30–50 words from a 20,000-word vocabulary)
  of which ``--dup-rate`` are planted near-duplicates of an earlier document (1–2 word edits:
  replace, insert, delete, swap), each checked to have Jaccard >= 0.8 to its source on the
  word-3-gram shingles both engines use. Recall and precision are against the planted truth
  (a dropped record is right when it is a planted duplicate). Both engines get the same LSH
  (112 permutations, 14 bands x 8 rows, word 3-grams, whitespace words) and the same 2
  workers; datatrove gets the data pre-split into one file per worker and a whitespace word
  tokenizer (its English default needs spaCy). Time: input JSONL to the kept records
  written (datatrove: its four stages; ours: load, filter, execute, save).
* **EXACT_DEDUP + DEFAULT_TEXT_FILTER + INVALID_RECORDS** (CPT rules) on ``--records``
  records (5 % exact duplicates, 2 % short, 1 % URL-heavy, 1 % invalid). Time: ``execute()``
  on a loaded file (the three filters, the kept store and the side files written), and the
  whole load → execute → save; also the CPU seconds of the process and its workers. Each of
  ``--repeat`` rounds runs it twice: with the default output folders (summary and dropped
  records per step) and with an explicit ``output_path`` per step (each step then also
  writes the records it kept: three more copies of the data).

Usage::

    python bench/curation.py --docs 100000 --records 100000     # development size
    python bench/curation.py                                    # 1M and 1M (the reported run)
    python bench/curation.py --skip-datatrove                   # without the baseline
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
NGRAM, PERM, BANDS, ROWS = 3, 112, 14, 8


# --------------------------------------------------------------------------- data
def _vocab(rng: random.Random, n: int = 20000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(n)]


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    if len(words) < NGRAM:
        return {tuple(words)}
    return {tuple(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def _edit(rng: random.Random, words: list[str], vocab: list[str]) -> list[str]:
    w = list(words)
    for _ in range(rng.randint(1, 2)):
        op = rng.random()
        i = rng.randrange(len(w))
        if op < 0.4:
            w[i] = rng.choice(vocab)
        elif op < 0.6:
            w.insert(i, rng.choice(vocab))
        elif op < 0.8 and len(w) > 10:
            del w[i]
        else:
            j = min(len(w) - 1, i + 1)
            w[i], w[j] = w[j], w[i]
    return w


def gen_fuzzy(n: int, dup_rate: float, path: Path, shards: int, seed: int = 7) -> list[int]:
    """Write the corpus (one file and ``shards`` files); returns the planted duplicate ids."""
    rng = random.Random(seed)
    vocab = _vocab(rng)
    originals: list[list[str]] = []
    truth: list[int] = []
    lines = []
    for i in range(n):
        if originals and rng.random() < dup_rate:
            src = originals[rng.randrange(len(originals))]
            a = _shingles(src)
            while True:
                w = _edit(rng, src, vocab)
                b = _shingles(w)
                if len(a & b) / len(a | b) >= 0.8:
                    break
            truth.append(i)
        else:
            w = [rng.choice(vocab) for _ in range(rng.randint(30, 50))]
            originals.append(w)
        lines.append(json.dumps({"id": i, "text": " ".join(w)}) + "\n")
    path.write_text("".join(lines))
    shard_dir = path.parent / "shards"
    shard_dir.mkdir(exist_ok=True)
    per = (n + shards - 1) // shards
    for s in range(shards):
        (shard_dir / f"part-{s:05d}.jsonl").write_text("".join(lines[s * per : (s + 1) * per]))
    return truth


def gen_filters(n: int, path: Path, seed: int = 11) -> None:
    rng = random.Random(seed)
    vocab = _vocab(rng)
    texts: list[str] = []
    with path.open("w") as f:
        for _ in range(n):
            r = rng.random()
            if r < 0.05 and texts:
                rec: dict[str, object] = {"text": rng.choice(texts)}
            elif r < 0.07:
                rec = {"text": " ".join(rng.choice(vocab) for _ in range(3))}
            elif r < 0.08:
                rec = {"text": "see https://example.com/" + "x" * 120 + " now"}
            elif r < 0.09:
                rec = {"text": " ".join(rng.choice(vocab) for _ in range(20)), "extra": 1}
            else:
                t = " ".join(rng.choice(vocab) for _ in range(rng.randint(25, 45))).capitalize() + "."
                texts.append(t) if len(texts) < 50000 else None
                rec = {"text": t}
            f.write(json.dumps(rec) + "\n")


# --------------------------------------------------------------------------- engines (children)
def child_ours_fuzzy(data: Path, out: Path) -> dict[str, object]:
    from amzn_nova_forge.core.enums import FilterMethod
    from amzn_nova_forge.dataset import JSONLDatasetLoader

    t0 = time.perf_counter()
    loader = JSONLDatasetLoader().load(str(data))
    loader.filter(
        method=FilterMethod.FUZZY_DEDUP,
        shingle="word",
        ngram_size=NGRAM,
        num_perm=PERM,
        num_bands=BANDS,
        rows_per_band=ROWS,
        lowercase=False,
        output_path=str(out / "fuzzy"),
    ).execute(executor="local")
    loader.save_data(str(out / "kept.jsonl"))
    seconds = time.perf_counter() - t0
    dropped = [json.loads(x)["record"]["id"] for x in (out / "fuzzy" / "dropped.jsonl").read_text().splitlines()]
    return {"seconds": seconds, "dropped": dropped}


def _xxh64_str(text: str) -> int:
    import xxhash

    return int(xxhash.xxh64_intdigest(text.encode("utf-8")))


def child_datatrove(shards: Path, out: Path, workers: int) -> dict[str, object]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig
    from datatrove.utils.word_tokenizers import WordTokenizer

    class Whitespace(WordTokenizer):  # the same words as ours; datatrove's English default needs spaCy
        def word_tokenize(self, text: str) -> list[str]:
            return text.split()

        def sent_tokenize(self, text: str) -> list[str]:
            return [text]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [(0, len(text))]

    cfg = MinhashConfig(
        hash_config=HashConfig(precision=64, hash_fc="xxhash"), num_buckets=BANDS, hashes_per_bucket=ROWS, n_grams=NGRAM
    )
    cfg.norm_config.lowercase = False if hasattr(cfg.norm_config, "lowercase") else None
    ws = Whitespace()
    sig_step = MinhashDedupSignature(output_folder=str(out / "sigs"), config=cfg, language=ws)
    # datatrove 0.10.1 hands str to xxhash 4.x, which wants bytes ("Strings must be encoded
    # before hashing"); encode first, as the library means to (same hash values).
    sig_step._hash_func = _xxh64_str
    logs = out / "logs"
    t0 = time.perf_counter()
    s1 = LocalPipelineExecutor(
        pipeline=[JsonlReader(str(shards)), sig_step],
        tasks=workers,
        workers=workers,
        logging_dir=str(logs / "s1"),
    )
    s2 = LocalPipelineExecutor(
        pipeline=[MinhashDedupBuckets(input_folder=str(out / "sigs"), output_folder=str(out / "buckets"), config=cfg)],
        tasks=BANDS,
        workers=workers,
        logging_dir=str(logs / "s2"),
        depends=s1,
    )
    s3 = LocalPipelineExecutor(
        pipeline=[
            MinhashDedupCluster(input_folder=str(out / "buckets"), output_folder=str(out / "remove"), config=cfg)
        ],
        tasks=1,
        logging_dir=str(logs / "s3"),
        depends=s2,
    )
    s4 = LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(shards)),
            MinhashDedupFilter(input_folder=str(out / "remove"), exclusion_writer=JsonlWriter(str(out / "removed"))),
            JsonlWriter(str(out / "kept")),
        ],
        tasks=workers,
        workers=workers,
        logging_dir=str(logs / "s4"),
        depends=s3,
    )
    s4.run()
    seconds = time.perf_counter() - t0
    import gzip

    dropped = []
    for f in sorted((out / "removed").glob("*")):
        opener = gzip.open if f.suffix == ".gz" else open
        with opener(f, "rt") as fh:
            dropped += [int(json.loads(x)["id"]) for x in fh]
    return {"seconds": seconds, "dropped": dropped}


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (the local executor's workers)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def child_ours_filters(data: Path, out: Path, explicit: int) -> dict[str, object]:
    """The three filters; ``explicit``: give each an ``output_path`` (then each step also
    writes the records it kept there: three more copies of the data) instead of the default
    folders next to the input (summary and dropped records only)."""
    from amzn_nova_forge.core.enums import FilterMethod, Model, Platform, TrainingMethod
    from amzn_nova_forge.dataset import JSONLDatasetLoader

    def where(name: str) -> dict[str, str]:
        return {"output_path": str(out / name)} if explicit else {}

    t0 = time.perf_counter()
    loader = JSONLDatasetLoader().load(str(data))
    t1, c1 = time.perf_counter(), _cpu()
    loader.filter(method=FilterMethod.EXACT_DEDUP, **where("exact")).filter(
        method=FilterMethod.DEFAULT_TEXT_FILTER, **where("text")
    ).filter(
        method=FilterMethod.INVALID_RECORDS,
        training_method=TrainingMethod.CPT,
        model=Model.NOVA_LITE_2,
        platform=Platform.SMTJ,
        **where("invalid"),
    ).execute(executor="local")
    t2, c2 = time.perf_counter(), _cpu()
    loader.save_data(str(out / "kept.jsonl"))
    t3 = time.perf_counter()
    res = loader.last_curation
    assert res is not None
    return {
        "execute_seconds": t2 - t1,
        "execute_cpu_seconds": round(c2 - c1, 2),
        "total_seconds": t3 - t0,
        "input": res.input_count,
        "kept": res.output_count,
        "steps": [(s.method, s.total_count, s.filtered_count) for s in res.steps],
    }


# --------------------------------------------------------------------------- parent
def _tree_rss(pid: int) -> int:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_child(args: list[str]) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tf:
        result_path = tf.name
    proc = subprocess.Popen([sys.executable, __file__, "--child", *args, "--result", result_path], env=env)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    rc = proc.wait()
    stop.set()
    th.join()
    if rc != 0:
        raise SystemExit(f"child {args[0]} failed with exit status {rc}")
    result = json.loads(Path(result_path).read_text())
    os.unlink(result_path)
    result["peak_rss_mb"] = round(peak / 2**20, 1)
    return result


def _score(dropped: list[int], truth: set[int]) -> tuple[float, float]:
    d = set(dropped)
    hit = len(d & truth)
    return hit / len(truth), (hit / len(d) if d else 1.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--dup-rate", type=float, default=0.1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-datatrove", action="store_true")
    ap.add_argument("--skip-fuzzy", action="store_true")
    ap.add_argument("--skip-filters", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the filters measurement (each both ways)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child", nargs="+")
    ap.add_argument("--result")
    a = ap.parse_args()
    if a.child:
        name, *rest = a.child
        fn = {"ours_fuzzy": child_ours_fuzzy, "datatrove": child_datatrove, "ours_filters": child_ours_filters}[name]
        params: list[object] = [Path(x) for x in rest[:2]] + [int(x) for x in rest[2:]]
        Path(a.result).write_text(json.dumps(fn(*params)))
        return
    report: dict[str, object] = {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="nova-curation-bench-") as tmp:
        root = Path(tmp)
        if not a.skip_fuzzy:
            data = root / "fuzzy" / "corpus.jsonl"
            data.parent.mkdir()
            t = time.perf_counter()
            truth = set(gen_fuzzy(a.docs, a.dup_rate, data, a.workers))
            print(
                f"generated {a.docs:,} docs with {len(truth):,} planted near-duplicates in {time.perf_counter() - t:.0f} s"
            )
            rows = {}
            ours = run_child(["ours_fuzzy", str(data), str(root / "ours")])
            rows["ours"] = ours
            if not a.skip_datatrove:
                rows["datatrove"] = run_child(
                    ["datatrove", str(data.parent / "shards"), str(root / "dt"), str(a.workers)]
                )
            for name, r in rows.items():
                rec, prec = _score(r.pop("dropped"), truth)  # type: ignore[arg-type]
                r.update(recall=round(rec, 4), precision=round(prec, 4), docs_per_s=round(a.docs / r["seconds"]))  # type: ignore[operator]
                print(
                    f"FUZZY_DEDUP {name:9s}: {r['seconds']:.1f} s, {r['docs_per_s']:,} docs/s, recall {rec:.4f}, "
                    f"precision {prec:.4f}, peak RSS {r['peak_rss_mb']} MB"
                )
            if "datatrove" in rows:
                ratio = rows["datatrove"]["seconds"] / rows["ours"]["seconds"]  # type: ignore[operator]
                print(f"FUZZY_DEDUP speed-up over datatrove: {ratio:.2f}x")
                report["fuzzy_speedup"] = round(ratio, 2)
            report["fuzzy"] = {"docs": a.docs, "planted": len(truth), **rows}
        if not a.skip_filters:
            data = root / "filters" / "records.jsonl"
            data.parent.mkdir()
            gen_filters(a.records, data)
            runs = []
            for k in range(a.repeat):
                for explicit in (0, 1):
                    r = run_child(["ours_filters", str(data), str(root / f"of{k}{explicit}"), str(explicit)])
                    r["explicit_output_paths"] = bool(explicit)
                    r["records_per_s_execute"] = round(a.records / r["execute_seconds"])  # type: ignore[operator]
                    r["records_per_s_total"] = round(a.records / r["total_seconds"])  # type: ignore[operator]
                    print(
                        f"EXACT_DEDUP+DEFAULT_TEXT_FILTER+INVALID_RECORDS on {a.records:,}"
                        f"{' (explicit output paths)' if explicit else ''}: execute {r['execute_seconds']:.2f} s "
                        f"({r['records_per_s_execute']:,} rec/s, {r['execute_cpu_seconds']} CPU s); "
                        f"load+execute+save {r['total_seconds']:.2f} s ({r['records_per_s_total']:,} rec/s); "
                        f"peak RSS {r['peak_rss_mb']} MB; steps {r['steps']}"
                    )
                    runs.append(r)
            report["filters"] = runs
    report["load_avg_end"] = os.getloadavg()
    print(f"load average start {report['load_avg_start']}, end {report['load_avg_end']}")
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
