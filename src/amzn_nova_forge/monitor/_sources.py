"""Where a job's log events come from, one small class per kind of source.

* :class:`CloudWatchStreams` — every stream of a log group whose name starts with a prefix
  (SMTJ: group ``/aws/sagemaker/TrainingJobs``, prefix ``<job name>/``; one stream per
  node/host). Each stream is read with paginated ``GetLogEvents`` and the streams are
  merged in time order.
* :class:`CloudWatchFilter` — ``FilterLogEvents`` over the streams of a group that share
  a prefix, keeping events that mention the job (HyperPod: group
  ``/aws/sagemaker/Clusters/<cluster name>/<cluster id>``, streams are per node).
* :class:`LocalLogFile` — a local job's ``train.log`` (format in :mod:`._metrics`).

Every source returns events as dicts ``{"timestamp": ms, "message": str, "logStreamName": str}``
(CloudWatch events also keep ``ingestionTime`` and ``eventId`` when the service gives them),
and supports ``poll()`` to read only what arrived since the last call (``--follow``).
"""

from __future__ import annotations

import heapq
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from amzn_nova_forge.core.aws import aws_errors

__all__ = ["CloudWatchFilter", "CloudWatchStreams", "LocalLogFile", "LogSource", "merge_events"]

#: GetLogEvents returns at most this many events per call.
_PAGE = 10_000
#: Streams read at once (one per node; each read is a chain of paginated calls).
_MAX_THREADS = 8
Event = dict[str, Any]


def merge_events(per_stream: list[list[Event]]) -> list[Event]:
    """Merge per-stream lists (each already in time order) into one list in time order (stable)."""
    if len(per_stream) == 1:
        return per_stream[0]
    return list(heapq.merge(*per_stream, key=lambda e: e["timestamp"]))


def _map(fn: Callable[[str], list[Event]], streams: list[str]) -> list[list[Event]]:
    """``fn`` over the streams, in order; streams are read concurrently (each call waits on the network)."""
    if len(streams) <= 1:
        return [fn(s) for s in streams]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(_MAX_THREADS, len(streams)), thread_name_prefix="nova-logs") as pool:
        return list(pool.map(fn, streams))


def _window(events: list[Event], limit: int | None, start_from_head: bool) -> list[Event]:
    if limit is None or len(events) <= limit:
        return events
    return events[:limit] if start_from_head else events[-limit:]


class LogSource:
    """Base class: ``fetch`` a window of events, ``poll`` for new ones."""

    description = "logs"

    def fetch(
        self, *, limit: int | None, start_from_head: bool, start_time: int | None, end_time: int | None
    ) -> list[Event]:
        raise NotImplementedError

    def poll(self, *, start_time: int | None) -> list[Event]:
        raise NotImplementedError


class CloudWatchStreams(LogSource):
    """All streams ``<prefix>*`` of ``log_group``, each read with ``GetLogEvents``."""

    def __init__(self, logs_client: Any, log_group: str, stream_prefix: str) -> None:
        self.client = logs_client
        self.log_group = log_group
        self.stream_prefix = stream_prefix
        self.description = f"CloudWatch log group {log_group} (streams {stream_prefix}*)"
        self._tokens: dict[str, str] = {}

    def streams(self) -> list[str]:
        """Names of the job's streams (paginated ``DescribeLogStreams``)."""
        names: list[str] = []
        kwargs: dict[str, Any] = {"logGroupName": self.log_group, "logStreamNamePrefix": self.stream_prefix}
        with aws_errors("logs", f"while listing log streams of {self.log_group}"):
            try:
                for resp in self.client.get_paginator("describe_log_streams").paginate(**kwargs):
                    names.extend(s["logStreamName"] for s in resp.get("logStreams", []))
            except self.client.exceptions.ResourceNotFoundException:
                return []
        return sorted(names)

    def _read(
        self,
        stream: str,
        *,
        forward: bool,
        want: int | None,
        start_time: int | None,
        end_time: int | None,
        token: str | None = None,
    ) -> tuple[list[Event], str | None]:
        """Read one stream. Forward: from the head (or ``token``); backward: the last ``want`` events."""
        kwargs: dict[str, Any] = {"logGroupName": self.log_group, "logStreamName": stream, "startFromHead": forward}
        if start_time is not None:
            kwargs["startTime"] = int(start_time)
        if end_time is not None:
            kwargs["endTime"] = int(end_time)
        pages: list[list[Event]] = []
        got = 0
        empty_pages = 0
        last_forward = token
        with aws_errors("logs", f"while reading log stream {stream} of {self.log_group}"):
            while True:
                kwargs["limit"] = _PAGE if want is None else max(1, min(_PAGE, want - got))
                if token:
                    kwargs["nextToken"] = token
                resp = self.client.get_log_events(**kwargs)
                events = resp.get("events", [])
                if events:
                    empty_pages = 0
                    pages.append(
                        [
                            {
                                "timestamp": e["timestamp"],
                                "message": e.get("message", ""),
                                "ingestionTime": e.get("ingestionTime"),
                                "logStreamName": stream,
                            }
                            for e in events
                        ]
                    )
                    got += len(events)
                else:
                    empty_pages += 1
                if forward and resp.get("nextForwardToken"):
                    last_forward = resp["nextForwardToken"]
                nxt = resp.get("nextForwardToken" if forward else "nextBackwardToken")
                # The service returns the token it was given once the end is reached.
                if not nxt or nxt == token or empty_pages >= 50 or (want is not None and got >= want):
                    break
                token = nxt
        if not forward:
            pages.reverse()
        out = [e for page in pages for e in page]
        if want is not None and len(out) > want:
            out = out[:want] if forward else out[-want:]
        return out, last_forward

    def fetch(
        self, *, limit: int | None, start_from_head: bool, start_time: int | None, end_time: int | None
    ) -> list[Event]:
        def read(stream: str) -> list[Event]:
            events, _ = self._read(
                stream, forward=start_from_head or limit is None, want=limit, start_time=start_time, end_time=end_time
            )
            return events

        per_stream = [events for events in _map(read, self.streams()) if events]
        if not per_stream:
            return []
        return _window(merge_events(per_stream), limit, start_from_head)

    def poll(self, *, start_time: int | None) -> list[Event]:
        per_stream = []
        for stream in self.streams():
            events, token = self._read(
                stream,
                forward=True,
                want=None,
                start_time=start_time if stream not in self._tokens else None,
                end_time=None,
                token=self._tokens.get(stream),
            )
            if token:
                self._tokens[stream] = token
            if events:
                per_stream.append(events)
        return merge_events(per_stream) if per_stream else []


class CloudWatchFilter(LogSource):
    """``FilterLogEvents`` over ``stream_prefix*`` of ``log_group``, keeping events that mention ``term``."""

    def __init__(self, logs_client: Any, log_group: str, stream_prefix: str | None, term: str | None) -> None:
        self.client = logs_client
        self.log_group = log_group
        self.stream_prefix = stream_prefix
        self.term = term
        self.description = f"CloudWatch log group {log_group}"
        self._seen: set[str] = set()
        self._last_ts: int | None = None

    def _filter(self, start_time: int | None, end_time: int | None, stop_after: int | None = None) -> list[Event]:
        kwargs: dict[str, Any] = {"logGroupName": self.log_group, "interleaved": True}
        if self.stream_prefix:
            kwargs["logStreamNamePrefix"] = self.stream_prefix
        if self.term:
            kwargs["filterPattern"] = '"' + self.term.replace('"', "") + '"'
        if start_time is not None:
            kwargs["startTime"] = int(start_time)
        if end_time is not None:
            kwargs["endTime"] = int(end_time)
        out: list[Event] = []
        with aws_errors("logs", f"while filtering {self.log_group}"):
            try:
                for resp in self.client.get_paginator("filter_log_events").paginate(**kwargs):
                    for e in resp.get("events", []):
                        # The pattern narrows the search server-side; this keeps the exact phrase only.
                        if self.term and self.term not in e.get("message", ""):
                            continue
                        # (moto 5.2 ignores logStreamNamePrefix here; AWS honours it.)
                        if self.stream_prefix and not e.get("logStreamName", "").startswith(self.stream_prefix):
                            continue
                        out.append(
                            {
                                "timestamp": e["timestamp"],
                                "message": e.get("message", ""),
                                "ingestionTime": e.get("ingestionTime"),
                                "logStreamName": e.get("logStreamName", ""),
                                "eventId": e.get("eventId"),
                            }
                        )
                    if stop_after is not None and len(out) >= stop_after:
                        break  # pages come oldest first: the head is complete
            except self.client.exceptions.ResourceNotFoundException:
                return []
        out.sort(key=lambda e: e["timestamp"])  # stable: keeps the service's order for equal times
        return out

    def fetch(
        self, *, limit: int | None, start_from_head: bool, start_time: int | None, end_time: int | None
    ) -> list[Event]:
        stop = limit if start_from_head else None
        return _window(self._filter(start_time, end_time, stop_after=stop), limit, start_from_head)

    def poll(self, *, start_time: int | None) -> list[Event]:
        since = self._last_ts if self._last_ts is not None else start_time
        fresh = []
        for e in self._filter(since, None):
            key = e.get("eventId") or f"{e['logStreamName']}:{e['timestamp']}:{e['message']}"
            if key in self._seen:
                continue
            self._seen.add(key)
            fresh.append(e)
        if fresh:
            self._last_ts = fresh[-1]["timestamp"]
        return fresh


_TS_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?) ")


def _ts_ms(text: str) -> int | None:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


class LocalLogFile(LogSource):
    """A local job's ``train.log``: one event per line, optional ISO-8601 timestamp prefix."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.description = f"log file {path}"
        self._offset = 0
        self._last_ts = 0

    def _parse(self, data: bytes, last_ts: int) -> tuple[list[Event], int]:
        out: list[Event] = []
        name = os.path.basename(os.path.dirname(self.path)) or "local"
        for raw in data.decode("utf-8", errors="replace").splitlines():
            m = _TS_PREFIX.match(raw)
            msg = raw
            if m is not None:
                ts = _ts_ms(m.group(1))
                if ts is not None:
                    last_ts = ts
                    msg = raw[m.end() :]
            out.append({"timestamp": last_ts, "message": msg, "logStreamName": name})
        return out, last_ts

    def fetch(
        self, *, limit: int | None, start_from_head: bool, start_time: int | None, end_time: int | None
    ) -> list[Event]:
        if not os.path.exists(self.path):
            return []
        with open(self.path, "rb") as f:
            events, _ = self._parse(f.read(), 0)
        if start_time is not None:
            events = [e for e in events if e["timestamp"] == 0 or e["timestamp"] >= start_time]
        if end_time is not None:
            events = [e for e in events if e["timestamp"] <= end_time]
        return _window(events, limit, start_from_head)

    def poll(self, *, start_time: int | None) -> list[Event]:
        if not os.path.exists(self.path):
            return []
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n")
        if end < 0:
            return []  # no complete line yet
        self._offset += end + 1
        events, self._last_ts = self._parse(data[: end + 1], self._last_ts)
        return events


def iter_follow(source: LogSource, *, start_time: int | None) -> Iterator[list[Event]]:
    """Yield each poll's new events forever (the caller decides when to stop)."""
    while True:
        yield source.poll(start_time=start_time)
