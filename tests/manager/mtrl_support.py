"""A stand-in for SageMaker's CreateJob / DescribeJob / StopJob and DescribeHubContent.

moto implements none of these four operations, so each is answered on the SDK's own client by
a one-operation ``before-call`` hook (``aws_support.stub_one``); every other call (model package
groups, IAM, S3, CloudWatch Logs) still goes to moto. botocore validates each request against
the service model before the hook runs, so a malformed request fails here as it would on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aws_support as A

ACCOUNT = A.ACCOUNT
HUB_ARN = "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/{name}/{version}"
AGENT_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/my_agent-a1b2c3d4e5"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-agent-env"
MLFLOW_ARN = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-x"


def _error(code: str, message: str) -> dict[str, Any]:
    return {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "r-1"},
    }


class FakeJobs:
    """In-memory SageMaker jobs: what the stubs answer, plus the requests they saw."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.create_calls = A.stub_one("sagemaker", "CreateJob", self._create)
        self.describe_calls = A.stub_one("sagemaker", "DescribeJob", self._describe)
        self.stop_calls = A.stub_one("sagemaker", "StopJob", self._stop)
        self.hub_calls = A.stub_one("sagemaker", "DescribeHubContent", self._hub)
        #: Set to an exception to raise on the next CreateJob after the job is recorded (a lost answer).
        self.fail_after_create: Exception | None = None
        #: Set to answer CreateJob before anything is recorded (an error response, or raise).
        self.refuse_create: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def _create(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.refuse_create is not None:
            return self.refuse_create(p)
        name = p["JobName"]
        if name in self.jobs:
            return _error("ResourceInUse", f"Job {name} already exists")
        now = datetime(2026, 1, 1, tzinfo=UTC)
        self.jobs[name] = {
            "JobName": name,
            "JobArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:job/{p['JobCategory']}/{name}",
            "RoleArn": p["RoleArn"],
            "JobCategory": p["JobCategory"],
            "JobConfigSchemaVersion": p["JobConfigSchemaVersion"],
            "JobConfigDocument": p["JobConfigDocument"],
            "CreationTime": now,
            "LastModifiedTime": now,
            "JobStatus": "InProgress",
            "SecondaryStatus": "Starting",
            "Tags": p.get("Tags", []),
        }
        if self.fail_after_create is not None:
            err, self.fail_after_create = self.fail_after_create, None
            raise err
        return {"JobArn": self.jobs[name]["JobArn"]}

    def _describe(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self.jobs.get(p["JobName"])
        if job is None or job["JobCategory"] != p["JobCategory"]:
            return _error("ResourceNotFound", f"Job {p['JobName']} of category {p['JobCategory']} not found")
        return dict(job)

    def _stop(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self.jobs.get(p["JobName"])
        if job is None:
            return _error("ResourceNotFound", f"Job {p['JobName']} not found")
        if job["JobStatus"] != "InProgress":
            return _error("ValidationException", f"Job {p['JobName']} is in status {job['JobStatus']}")
        job["JobStatus"] = "Stopping"
        return {}

    def _hub(self, p: dict[str, Any]) -> dict[str, Any]:
        version = p.get("HubContentVersion", "1.0.0")
        return {
            "HubContentName": p["HubContentName"],
            "HubContentArn": HUB_ARN.format(name=p["HubContentName"], version=version),
            "HubContentVersion": version,
            "HubContentType": "Model",
            "DocumentSchemaVersion": "2.0.0",
            "HubName": p["HubName"],
            "HubArn": "arn:aws:sagemaker:us-east-1:aws:hub/SageMakerPublicHub",
            "HubContentDocument": "{}",
            "HubContentStatus": "Available",
            "CreationTime": "2025-01-01T00:00:00Z",
        }

    # ---- what SageMaker does while a job runs ------------------------------------------------
    def document(self, name: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.jobs[name]["JobConfigDocument"])
        return doc

    def progress(self, name: str, **service_output: Any) -> None:
        """Write ``ServiceOutput`` into the job's document, as SageMaker does while it runs."""
        doc = self.document(name)
        doc.setdefault("ServiceOutput", {}).update(service_output)
        self.jobs[name]["JobConfigDocument"] = json.dumps(doc)

    def finish(self, name: str, status: str = "Completed", reason: str | None = None) -> None:
        job = self.jobs[name]
        job["JobStatus"] = status
        job["SecondaryStatus"] = status
        job["EndTime"] = datetime(2026, 1, 1, 2, tzinfo=UTC)
        if reason:
            job["FailureReason"] = reason
