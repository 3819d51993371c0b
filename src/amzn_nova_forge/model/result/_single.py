"""``SingleInferenceResult``: the answer to one ``invoke_inference`` call.

It is an :class:`~amzn_nova_forge.model.result._inference.InferenceResult` with the
published fields (``job_id``, ``started_time``, ``inference_output_path`` — always ``""``
because nothing is written anywhere) plus the answer itself: ``text`` (the assistant's
reply), ``response`` (the parsed body the endpoint returned), ``chunks`` (streamed
pieces), ``usage`` and ``stop_reason``. The request is finished when the object exists,
so its status is ``COMPLETED`` without any call.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from amzn_nova_forge.core.enums import DeployPlatform, JobStatus, Platform
from amzn_nova_forge.manager._base import JobInfo
from amzn_nova_forge.model.result._base import BaseJobResult
from amzn_nova_forge.model.result._inference import InferenceResult

__all__ = ["SingleInferenceResult"]

#: Most streamed pieces kept from a ``streaming_response`` iterator.
MAX_CHUNKS = 100_000


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


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
        nonstreaming_response: str | None = None,
        streaming_response: Iterable[str] | None = None,
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
        if nonstreaming_response is not None and response is None:  # the official positional form
            response = _json_or_text(nonstreaming_response)
            text = text or (response if isinstance(response, str) else "")
        if streaming_response is not None and chunks is None:
            chunks = [str(c) for c in itertools.islice(streaming_response, MAX_CHUNKS)]
            text = text or "".join(chunks)
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

    @property
    def nonstreaming_response(self) -> str | None:
        """The response body as text (None for a streamed answer), as the official SDK names it."""
        if self.chunks:
            return None
        if self.response is None or isinstance(self.response, str):
            return self.response
        return json.dumps(self.response, default=str)

    @property
    def streaming_response(self) -> Iterator[str] | None:
        """The streamed pieces, in order (None for a non-streamed answer)."""
        return iter(self.chunks) if self.chunks else None

    def get(self, s3_path: str | None = None) -> dict[str, Any]:
        """The answer as plain data (``text``, ``response``, ``usage`` …); ``s3_path`` is ignored.

        ``inference_results`` (``is_streaming``, ``response``) is the official SDK's form of the same answer.
        """
        streaming = bool(self.chunks)
        return {
            **self.to_dict(),
            "inference_results": {
                "is_streaming": streaming,
                "response": list(self.chunks) if streaming else self.nonstreaming_response,
            },
        }

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
