"""The Ray executor: the same pipeline on Ray keeps exactly what the local executor keeps,
on a local two-worker Ray and across two Ray nodes on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from amzn_nova_forge.core.enums import FilterMethod
from amzn_nova_forge.dataset import JSONLDatasetLoader
from amzn_nova_forge.dataset.operations import RayExecutor
from tests.curation.conftest import random_docs

ray = pytest.importorskip("ray")

_INIT = {"include_dashboard": False, "_node_ip_address": "127.0.0.1", "log_to_driver": False}


def _corpus(jsonl):
    docs = random_docs(3000, seed=11)
    recs = [{"id": i, "text": t} for i, t in enumerate(docs)]
    for i in range(0, 3000, 97):  # near-duplicates: one word changed
        w = docs[i].split()
        w[7] = "qqqqqq"
        recs.append({"id": f"near{i}", "text": " ".join(w)})
    recs += [{"id": f"same{i}", "text": docs[i]} for i in range(0, 3000, 301)]
    recs.append({"id": "short", "text": "too short"})
    return jsonl(recs)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """256-record chunks: a few thousand records make enough tasks for every worker."""
    from amzn_nova_forge.dataset._curation import _pipeline

    monkeypatch.setattr(_pipeline, "CHUNK_RECORDS", 256)


def _run(path, executor):
    loader = JSONLDatasetLoader().load(str(path))
    loader.filter(method=FilterMethod.DEFAULT_TEXT_FILTER).filter(method=FilterMethod.EXACT_DEDUP).filter(
        method=FilterMethod.FUZZY_DEDUP, shingle="word", ngram_size=4, num_perm=64
    ).execute(executor=executor)
    return [r["id"] for r in loader], loader.last_curation


@pytest.mark.timeout(600)
def test_local_two_worker_ray_keeps_exactly_what_local_keeps(jsonl):
    path = _corpus(jsonl)
    local_ids, local_res = _run(path, "local")
    ray.init(address="local", num_cpus=2, **_INIT)
    try:
        ex = RayExecutor()
        ray_ids, ray_res = _run(path, ex)
    finally:
        ray.shutdown()
    assert ray_ids == local_ids
    assert ray_res.executor == "ray" and local_res.executor == "local"
    assert [s.filtered_count for s in ray_res.steps] == [s.filtered_count for s in local_res.steps]
    assert [s.filtered_count for s in ray_res.steps] == [1, 10, 27]  # 27 of the 31 one-word edits (J ~ 0.74) are caught
    assert len(ex.nodes_used) == 1
    assert local_res.input_count == 3042


@pytest.mark.timeout(600)
def test_a_filter_runs_across_two_ray_nodes(jsonl):
    """A head node in this process plus a second node (``ray start``, its own raylet) joined
    over the GCS address; the chunks are spread over both."""
    path = _corpus(jsonl)
    expected, _ = _run(path, "serial")
    ray.init(address="local", num_cpus=1, **_INIT)
    second = None
    try:
        gcs = ray.get_runtime_context().gcs_address
        ray_cli = os.path.join(os.path.dirname(sys.executable), "ray")
        second = subprocess.Popen(
            [ray_cli, "start", f"--address={gcs}", "--num-cpus=1", "--node-ip-address=127.0.0.1", "--block"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while len([n for n in ray.nodes() if n["Alive"]]) < 2:
            assert time.monotonic() < deadline, "the second Ray node did not join"
            time.sleep(1)
        _warm_up_both_nodes(deadline)
        ex = RayExecutor(max_in_flight=4)
        ids, res = _run(path, ex)
    finally:
        ray.shutdown()
        if second is not None:
            _stop_group(second)
    assert ids == expected
    assert len(ex.nodes_used) == 2  # chunks were analysed on both nodes
    assert res.output_count == len(expected)


def _warm_up_both_nodes(deadline: float) -> None:
    """Wait until a worker runs on each node (a new node's first Python worker takes seconds)."""

    @ray.remote(num_cpus=1, scheduling_strategy="SPREAD")
    def where() -> str:
        time.sleep(0.3)
        return str(ray.get_runtime_context().get_node_id())

    while len(set(ray.get([where.remote() for _ in range(4)]))) < 2:
        assert time.monotonic() < deadline, "tasks never ran on the second Ray node"


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the ``ray start --block`` process and the raylet it started (its process group)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
