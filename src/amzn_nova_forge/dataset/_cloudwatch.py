"""``CloudWatchDatasetLoader``: the rows of a CloudWatch Logs Insights query as records.

``load()`` only records the query; on first use (``show``, ``transform``, ``save``…) the
loader calls ``logs:StartQuery``, polls ``logs:GetQueryResults`` until the query ends
(bounded by ``timeout_s``; a query still running then is stopped with ``logs:StopQuery``),
and makes one record per result row: ``{field: value}`` for every field the query returns
except ``@ptr``. Values are strings, as Logs Insights returns them. Logs Insights returns
at most 10,000 rows per query: a full page logs a warning to narrow the time range.

Example:
    >>> from datetime import datetime, timezone
    >>> loader = CloudWatchDatasetLoader().load(
    ...     log_group="/my-app/api-logs",
    ...     query="fields request, response | filter endpoint = '/chat'",
    ...     start_time=datetime(2025, 1, 1, tzinfo=timezone.utc),
    ...     end_time=datetime(2025, 1, 8, tzinfo=timezone.utc),
    ... )  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from amzn_nova_forge.dataset._loader_base import DatasetLoader
from amzn_nova_forge.dataset._records import write_records
from amzn_nova_forge.dataset._store import StoreWriter
from amzn_nova_forge.errors import ConfigError, DataPrepError

__all__ = ["CloudWatchDatasetLoader"]

logger = logging.getLogger(__name__)

#: Most rows one Logs Insights query returns.
MAX_ROWS = 10_000
_DONE = {"Complete", "Failed", "Cancelled", "Timeout", "Unknown"}


def _epoch(value: datetime, name: str) -> int:
    if not isinstance(value, datetime):
        raise ConfigError(f"{name} must be a datetime; got {type(value).__name__}.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigError(
            f"{name} has no time zone; pass an aware datetime, e.g. datetime(2025, 1, 1, tzinfo=timezone.utc)."
        )
    return int(value.timestamp())


def _client_error(e: Exception, op: str, group: str) -> DataPrepError:
    response: dict[str, Any] = getattr(e, "response", {}) or {}
    err = response.get("Error") or {}
    code, msg = err.get("Code", type(e).__name__), err.get("Message", str(e))
    rid = (response.get("ResponseMetadata") or {}).get("RequestId")
    hint = {
        "ResourceNotFoundException": "check the log group name and region",
        "MalformedQueryException": "check the query syntax (fields, filter, parse …)",
        "AccessDeniedException": "the caller needs logs:StartQuery and logs:GetQueryResults on the log group",
        "LimitExceededException": "too many concurrent Logs Insights queries; retry later",
    }.get(code, "")
    req = f", request id {rid}" if rid else ""
    return DataPrepError(
        f"CloudWatch Logs {op} failed ({code}{req}): {msg}{'; ' + hint if hint else ''}", path=f"logs:{group}"
    )


class CloudWatchDatasetLoader(DatasetLoader):
    """Loads the result rows of a CloudWatch Logs Insights query; see :mod:`._cloudwatch`.

    Example:
        >>> loader = CloudWatchDatasetLoader(region="us-east-1")
        >>> loader.load(log_group="/app", query="fields request, response", start_time=t0, end_time=t1)  # doctest: +SKIP
    """

    _format = "cloudwatch"
    _extensions = ()
    poll_s: float = 1.0

    def load(  # type: ignore[override]
        self,
        log_group: str,
        query: str,
        start_time: datetime,
        end_time: datetime,
        *,
        limit: int = MAX_ROWS,
        timeout_s: float = 3600.0,
    ) -> CloudWatchDatasetLoader:
        """Record the query; it runs when the data is first used.

        Args:
            log_group: Log group name, e.g. ``"/my-app/api-logs"``.
            query: A Logs Insights query; its fields become the record keys.
            start_time: Start of the time range (inclusive), timezone-aware.
            end_time: End of the time range, timezone-aware, after ``start_time``.
            limit: Most rows to return (1 … 10,000).
            timeout_s: How long to wait for the query (Logs Insights stops queries at 60 min).

        Raises:
            ConfigError: Bad arguments (now). DataPrepError: the query fails, times out or
                AWS refuses it (on first use; names the operation and request id).

        Example:
            >>> loader.load("/app", "fields @message", t0, t1)  # doctest: +SKIP
        """
        if not isinstance(log_group, str) or not log_group:
            raise ConfigError(f"log_group must be a log group name; got {log_group!r}.")
        if not isinstance(query, str) or not query.strip():
            raise ConfigError("query must be a non-empty Logs Insights query, e.g. 'fields request, response'.")
        start, end = _epoch(start_time, "start_time"), _epoch(end_time, "end_time")
        if end <= start:
            raise ConfigError(f"end_time ({end_time.isoformat()}) must be after start_time ({start_time.isoformat()}).")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_ROWS:
            raise ConfigError(f"limit must be an integer from 1 to {MAX_ROWS:,}; got {limit!r}.")
        if not isinstance(timeout_s, int | float) or not 0 < timeout_s <= 24 * 3600:
            raise ConfigError(f"timeout_s must be a number of seconds in (0, 86400]; got {timeout_s!r}.")
        request = {
            "logGroupName": log_group,
            "startTime": start,
            "endTime": end,
            "queryString": query,
            "limit": limit,
        }

        def source(writer: StoreWriter) -> None:
            write_records(writer, self._run(request, float(timeout_s)), f"logs:{log_group}")

        self._set_source(f"logs:{log_group}", source)
        return self

    def _run(self, request: dict[str, Any], timeout_s: float) -> list[dict[str, str]]:
        from botocore.exceptions import BotoCoreError, ClientError

        from amzn_nova_forge.core.aws import client

        group = request["logGroupName"]
        logs = client("logs", self.region)
        try:
            query_id = logs.start_query(**request)["queryId"]
        except (ClientError, BotoCoreError) as e:
            raise _client_error(e, "StartQuery", group) from e
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                resp = logs.get_query_results(queryId=query_id)
            except (ClientError, BotoCoreError) as e:
                raise _client_error(e, "GetQueryResults", group) from e
            status = resp.get("status", "Unknown")
            if status in _DONE:
                break
            if time.monotonic() >= deadline:
                try:
                    logs.stop_query(queryId=query_id)
                except (ClientError, BotoCoreError) as e:
                    logger.warning("StopQuery of %s failed: %s", query_id, e)
                raise DataPrepError(
                    f"the Logs Insights query {query_id} was still {status} after {timeout_s:g} s and was "
                    "stopped; narrow the time range or simplify the query",
                    path=f"logs:{group}",
                )
            time.sleep(self.poll_s)
        if status != "Complete":
            raise DataPrepError(
                f"the Logs Insights query {query_id} ended with status {status}; check the query and time range",
                path=f"logs:{group}",
            )
        rows = [
            {f["field"]: f.get("value", "") for f in row if f.get("field") != "@ptr"} for row in resp.get("results", [])
        ]
        if len(rows) >= request["limit"]:
            logger.warning(
                "The Logs Insights query returned %d rows, its limit: more may match. Run several queries over "
                "narrower time ranges to get them all.",
                len(rows),
            )
        logger.info("Logs Insights query %s returned %d rows", query_id, len(rows))
        return rows
