"""Deployment logs: a SageMaker endpoint's CloudWatch lines; Bedrock deployments have none (status instead)."""

from __future__ import annotations

from datetime import UTC, datetime

from amzn_nova_forge.core import aws
from amzn_nova_forge.core.enums import DeployPlatform
from amzn_nova_forge.model.result._deployment import EndpointInfo

__all__ = ["endpoint_log_lines", "show_endpoint_logs"]


def endpoint_log_lines(info: EndpointInfo, limit: int) -> list[str]:
    """The last ``limit`` log lines of a SageMaker endpoint (``/aws/sagemaker/Endpoints/<name>``).

    Raises:
        AWSServiceError: The log group cannot be read (e.g. the endpoint never started).
    """
    logs = aws.client("logs", info.region)
    group = f"/aws/sagemaker/Endpoints/{info.endpoint_name}"
    events: list[dict[str, object]] = []
    with aws.aws_errors("logs", hint=f"Log group {group} exists once the endpoint has started."):
        kwargs: dict[str, object] = {"logGroupName": group, "limit": limit}
        while True:
            page = logs.filter_log_events(**kwargs)
            events.extend(page.get("events", []))
            token = page.get("nextToken")
            if not token or len(events) >= 10 * limit:  # bounded: keep the newest ``limit``
                break
            kwargs["nextToken"] = token
    events.sort(key=lambda e: int(str(e.get("timestamp", 0))))
    out = []
    for e in events[-limit:]:
        when = datetime.fromtimestamp(int(str(e.get("timestamp", 0))) / 1000, UTC).isoformat(timespec="seconds")
        out.append(f"{when} {str(e.get('message', '')).rstrip()}")
    return out


def show_endpoint_logs(info: EndpointInfo, limit: int) -> None:
    """Print the endpoint's logs (SageMaker) or its status (Bedrock and local keep no logs here)."""
    from amzn_nova_forge.model import _deploy

    if DeployPlatform(info.platform) is DeployPlatform.SAGEMAKER:
        lines = endpoint_log_lines(info, limit)
        print("\n".join(lines) if lines else f"No log lines yet for endpoint {info.endpoint_name}.")
        return
    status, message = _deploy.endpoint_status(info)
    print(
        f"{DeployPlatform(info.platform).name} deployment {info.uri} is {status}"
        + (f": {message}" if message else "")
        + ". (Bedrock writes no deployment logs; this is its status.)"
    )
