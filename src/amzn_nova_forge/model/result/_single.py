"""``SingleInferenceResult``: the answer to one ``invoke_inference`` call.

It is an :class:`~amzn_nova_forge.model.result._inference.InferenceResult` with the
published fields (``job_id``, ``started_time``, ``inference_output_path`` — always ``""``
because nothing is written anywhere) plus the answer itself: ``text`` (the assistant's
reply), ``response`` (the parsed body the endpoint returned), ``chunks`` (streamed
pieces), ``usage`` and ``stop_reason``. The request is finished when the object exists,
so its status is ``COMPLETED`` without any call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from amzn_nova_forge.core.enums import DeployPlatform, JobStatus, Platform
from amzn_nova_forge.manager._base import JobInfo
from amzn_nova_forge.model.result._base import BaseJobResult
from amzn_nova_forge.model.result._inference import InferenceResult

__all__ = ["SingleInferenceResult"]

#: The job platform recorded for each kind of endpoint (results need one).
_JOB_PLATFORM = {
    DeployPlatform.SAGEMAKER: Platform.SMTJ,
    DeployPlatform.BEDROCK_OD: Platform.BEDROCK,
    DeployPlatform.BEDROCK_PT: Platform.BEDROCK,
    DeployPlatform.LOCAL: Platform.LOCAL,
}


class SingleInferenceResult(InferenceResult):
    """The result of one real-time inference request.

    Attributes:
        job_id: The response id (or a generated one when the endpoint gives none).
        started_time: When the request was sent (UTC).
        inference_output_path: Always ``""`` (a single inference writes no output file).
        endpoint_arn: The ARN (or local URL) that answered.
        deploy_platform: The :class:`DeployPlatform` of that endpoint.
        text: The assistant's reply text ("" when the body has no recognisable text).
        response: The parsed response body (dict), or the raw text when it is not JSON.
        chunks: The streamed text pieces, in order (empty for non-streaming calls).
        usage: Token counts when the endpoint reports them.
        stop_reason: Why generation stopped, when reported.
        latency_s: Wall time of the call in seconds.

    Example:
        >>> r = SingleInferenceResult("1", text="Hi!", endpoint_arn="http://127.0.0.1:8000",
        ...                           deploy_platform=DeployPlatform.LOCAL)
        >>> r.get()["text"], r.get_job_status()[0].name
        ('Hi!', 'COMPLETED')
    """

    def __init__(
        self,
        job_id: str,
        started_time: datetime | None = None,
        inference_output_path: str = "",
        *,
        endpoint_arn: str = "",
        deploy_platform: DeployPlatform | str | None = None,
        text: str = "",
        response: Any = None,
        chunks: list[str] | None = None,
        usage: Mapping[str, Any] | None = None,
        stop_reason: str | None = None,
        latency_s: float | None = None,
        platform: Platform | str | None = None,
        region: str | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> None:
        dp = DeployPlatform(deploy_platform) if deploy_platform is not None else None
        if platform is None:
            platform = _JOB_PLATFORM.get(dp, Platform.LOCAL) if dp else Platform.LOCAL
        super().__init__(job_id, started_time, inference_output_path, platform=platform, region=region, extras=extras)
        self.endpoint_arn = endpoint_arn
        self.deploy_platform = dp
        self.text = text
        self.response = response
        self.chunks = list(chunks or [])
        self.usage = dict(usage or {})
        self.stop_reason = stop_reason
        self.latency_s = latency_s

    # ---- a finished request: no live calls ----------------------------------------------------
    def status(self) -> JobInfo:
        """Always ``COMPLETED`` (the answer is already here)."""
        return JobInfo(JobStatus.COMPLETED, "Completed", started_at=self.started_time, ended_at=self.started_time)

    def get(self, s3_path: str | None = None) -> dict[str, Any]:
        """The answer as plain data (``text``, ``response``, ``usage`` …); ``s3_path`` is ignored."""
        return self.to_dict()

    def show(self) -> None:
        """Print the reply, then the endpoint, timing and token usage."""
        where = f"{self.deploy_platform.value} " if self.deploy_platform else ""
        print(f"Inference {self.job_id} ({where}{self.endpoint_arn})")
        if self.text:
            print(self.text)
        elif self.response is not None:
            body = self.response if isinstance(self.response, str) else json.dumps(self.response, indent=2, default=str)
            print(body)
        else:
            print("(empty response)")
        details = []
        if self.stop_reason:
            details.append(f"stop reason: {self.stop_reason}")
        if self.usage:
            details.append("usage: " + ", ".join(f"{k}={v}" for k, v in self.usage.items()))
        if self.latency_s is not None:
            details.append(f"latency: {self.latency_s:.2f}s")
        if self.chunks:
            details.append(f"{len(self.chunks)} streamed chunks")
        if details:
            print("-- " + "; ".join(details))

    # ---- serialisation ------------------------------------------------------------------------
    def _fields(self) -> dict[str, Any]:
        return {
            **super()._fields(),
            "endpoint_arn": self.endpoint_arn,
            "deploy_platform": self.deploy_platform.value if self.deploy_platform else None,
            "text": self.text,
            "response": self.response,
            "chunks": list(self.chunks),
            "usage": dict(self.usage),
            "stop_reason": self.stop_reason,
            "latency_s": self.latency_s,
        }

    @classmethod
    def _from_fields(cls, base: dict[str, Any], data: Mapping[str, Any]) -> BaseJobResult:
        return cls(
            base.pop("job_id"),
            base.pop("started_time"),
            data.get("inference_output_path") or "",
            endpoint_arn=data.get("endpoint_arn") or "",
            deploy_platform=data.get("deploy_platform"),
            text=data.get("text") or "",
            response=data.get("response"),
            chunks=data.get("chunks"),
            usage=data.get("usage"),
            stop_reason=data.get("stop_reason"),
            latency_s=data.get("latency_s"),
            **base,
        )

    def __str__(self) -> str:
        return self.text or (
            self.response if isinstance(self.response, str) else json.dumps(self.response, default=str)
        )
