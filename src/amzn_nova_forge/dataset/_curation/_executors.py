"""Executors: where the per-chunk work of a filter pipeline runs.

An executor has one verb, :meth:`Executor.map`: apply a picklable function to a stream of
tasks and yield the results **in task order**, with a bounded number of tasks in flight
(so memory stays flat however large the dataset). The pipeline (:mod:`._pipeline`) is the
same whichever executor runs it; only the place the chunks are analysed changes.

* :class:`SerialExecutor` — in this process (small data, tests, the inside of a job).
* :class:`LocalExecutor` — the default: a pool of processes, one per core.
* :class:`RayExecutor` — Ray tasks on any cluster (``address="ray://host:10001"``,
  ``"auto"``, or a local Ray started for you); needs ``pip install 'amzn-nova-forge[ray]'``.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar, runtime_checkable

from amzn_nova_forge.errors import ConfigError

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "SerialExecutor", "resolve_executor"]

T = TypeVar("T")
R = TypeVar("R")


@runtime_checkable
class Executor(Protocol):
    """Runs a function over tasks, results in order; see the module docstring."""

    name: str

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]: ...


class SerialExecutor:
    """Runs every task in the calling process.

    Example:
        >>> list(SerialExecutor().map(abs, [-1, 2]))
        [1, 2]
    """

    name = "serial"

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        for t in tasks:
            yield fn(t)


class LocalExecutor:
    """A pool of worker processes on this machine (forked where available).

    Args:
        max_workers: Worker processes (default: the usable cores).
        max_in_flight: Tasks queued or running at once (default: twice the workers); bounds
            memory to that many chunks.

    Example:
        >>> ex = LocalExecutor(max_workers=2)
        >>> ex.max_workers
        2
    """

    name = "local"

    def __init__(self, max_workers: int | None = None, *, max_in_flight: int | None = None) -> None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        workers = cores if max_workers is None else max_workers
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"max_workers must be a positive integer; got {max_workers!r}.")
        self.max_workers = workers
        self.max_in_flight = max_in_flight or 2 * workers

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        import multiprocessing

        if self.max_workers == 1:
            yield from SerialExecutor().map(fn, tasks)
            return
        # fork where the platform has it: no re-import of the caller's __main__ (a script
        # without an ``if __name__ == "__main__"`` guard works) and no start-up cost; workers
        # only run pure computation on the chunks they are sent.
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        pending: collections.deque[Any] = collections.deque()
        with ctx.Pool(self.max_workers) as pool:
            for t in tasks:
                pending.append(pool.apply_async(fn, (t,)))
                if len(pending) >= self.max_in_flight:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

    def __repr__(self) -> str:
        return f"LocalExecutor(max_workers={self.max_workers})"


class RayExecutor:
    """Ray tasks on a Ray cluster: the same chunks, spread over every node's cores.

    Args:
        address: The cluster (``"auto"``, ``"ray://head:10001"``, ``"127.0.0.1:6379"``);
            ``None`` uses the Ray already initialised in this process, else starts a local one.
        num_cpus: CPUs of a local Ray started here (ignored when joining a cluster).
        max_in_flight: Tasks submitted and not yet collected (default: 2 per cluster CPU).
        init_kwargs: More ``ray.init`` arguments (e.g. ``runtime_env``).

    Tasks are spread over the nodes (``SPREAD``); after a run ``nodes_used`` holds the ids of
    the nodes that analysed chunks.

    Example:
        >>> ex = RayExecutor(address="auto")  # doctest: +SKIP
        >>> loader.filter(method=FilterMethod.EXACT_DEDUP).execute(executor=ex)  # doctest: +SKIP
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        max_in_flight: int | None = None,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.max_in_flight = max_in_flight
        self.init_kwargs = dict(init_kwargs or {})

    def _ray(self) -> Any:
        from amzn_nova_forge.dataset._curation._deps import require

        ray = require("ray", extra="ray")
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False, **self.init_kwargs}
            kwargs["address"] = self.address or "local"
            if self.address is None and self.num_cpus is not None:
                kwargs["num_cpus"] = self.num_cpus
            ray.init(**kwargs)
        return ray

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        ray = self._ray()
        remote = ray.remote(num_cpus=1, max_retries=2, scheduling_strategy="SPREAD")(_on_node)
        limit = self.max_in_flight or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        pending: collections.deque[Any] = collections.deque()
        self.nodes_used: set[str] = set()

        def collect() -> R:
            node, result = ray.get(pending.popleft())
            self.nodes_used.add(node)
            return result  # type: ignore[no-any-return]

        for t in tasks:
            pending.append(remote.remote(fn, t))
            if len(pending) >= limit:
                yield collect()
        while pending:
            yield collect()

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r})"


def _on_node(fn: Callable[[Any], Any], task: Any) -> tuple[str, Any]:
    """Run ``fn(task)`` in a Ray worker; also say which node ran it (``RayExecutor.nodes_used``)."""
    import ray

    return str(ray.get_runtime_context().get_node_id()), fn(task)


def resolve_executor(executor: Executor | str | None, records: int | None) -> Executor:
    """``None``: serial below 20,000 records (starting processes costs more), else local."""
    if executor is None:
        return SerialExecutor() if records is not None and records < 20_000 else LocalExecutor()
    if isinstance(executor, str):
        table: dict[str, Callable[[], Executor]] = {
            "serial": SerialExecutor,
            "local": LocalExecutor,
            "ray": RayExecutor,
        }
        if executor not in table:
            raise ConfigError(f"Unknown executor {executor!r}; use one of {sorted(table)} or an Executor object.")
        return table[executor]()
    if not isinstance(executor, Executor):
        raise ConfigError(
            f"executor must be 'local', 'serial', 'ray' or an object with map(fn, tasks); got {type(executor).__name__}."
        )
    return executor
