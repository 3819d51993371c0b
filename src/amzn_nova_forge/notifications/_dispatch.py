"""Pick the notification manager for a job result and enable notifications for its job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.errors import ConfigError, UnsupportedFeatureError

__all__ = ["PLATFORMS", "SMHP_KWARGS", "SMTJ_KWARGS", "enable_for_result", "enable_job_notifications"]

logger = logging.getLogger(__name__)

SMTJ_KWARGS = frozenset({"kms_key_id"})
SMHP_KWARGS = frozenset(
    {
        "namespace",
        "kubectl_layer_arn",
        "eks_cluster_arn",
        "vpc_id",
        "subnet_ids",
        "security_group_id",
        "route_table_ids",
        "create_dynamodb_endpoint",
        "create_s3_endpoint",
        "polling_interval_minutes",
        "kms_key_id",
    }
)


def _smtj_manager(result: Any, region: str | None, kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from amzn_nova_forge.notifications._smtj import SMTJNotificationManager

    return SMTJNotificationManager(region=region, kms_key_id=kwargs.get("kms_key_id")), {}


def _smhp_manager(result: Any, region: str | None, kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from amzn_nova_forge.notifications._smhp import SMHPNotificationManager

    cluster, result_namespace = _cluster_and_namespace(result)
    if not cluster:
        raise ConfigError(f"Result for job {result.job_id!r} has no cluster_name; it is not a HyperPod job result.")
    options = dict(kwargs)
    namespace = options.pop("namespace", None) or result_namespace
    if not namespace:
        raise ConfigError("namespace is required for HyperPod notifications, e.g. namespace='kubeflow'.")
    return SMHPNotificationManager(cluster, region=region, **options), {"namespace": namespace}


#: Platform -> (options it accepts, factory of its manager and the extra enable_notifications arguments).
PLATFORMS: dict[Platform, tuple[frozenset[str], Callable[..., tuple[Any, dict[str, Any]]]]] = {
    Platform.SMTJ: (SMTJ_KWARGS, _smtj_manager),
    Platform.SMHP: (SMHP_KWARGS, _smhp_manager),
}


def _is_training(result: Any) -> bool:
    return hasattr(result, "_artifacts") or hasattr(type(result), "model_artifacts")


def _output_path(result: Any, output_s3_path: str | None) -> str | None:
    """Where the job writes its outputs: the argument, else the result's (training jobs need one)."""
    if output_s3_path:
        return output_s3_path
    if not _is_training(result):
        # Evaluation / inference jobs: no manifest to check; the path is only shown in the email.
        path = getattr(result, "eval_output_path", None) or getattr(result, "inference_output_path", None)
        return str(path) if path and str(path).startswith("s3://") else None
    # ``_artifacts`` (TrainingResult) holds the stored paths; ``model_artifacts`` may make a live
    # status call to resolve the checkpoint, which notifications do not need.
    artifacts = getattr(result, "_artifacts", None) or getattr(result, "model_artifacts", None)
    path = getattr(artifacts, "output_s3_path", None) if artifacts is not None else None
    if not path:
        raise ConfigError(
            f"{type(result).__name__} for job {result.job_id!r} has no model_artifacts.output_s3_path; "
            "pass output_s3_path='s3://bucket/output/' (where the job writes its outputs) so the "
            "notification can check the output manifest."
        )
    return str(path)


def _check_kwargs(platform: Platform, given: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ConfigError(
            f"Unknown {platform.value} notification option(s): {', '.join(unknown)}. "
            f"Allowed: {', '.join(sorted(allowed))}."
        )


def _cluster_and_namespace(result: Any) -> tuple[str | None, str | None]:
    extras = getattr(result, "extras", {}) or {}
    cluster = getattr(result, "cluster_name", None) or extras.get("cluster_name")
    namespace = getattr(result, "namespace", None) or extras.get("namespace")
    return cluster, namespace


def enable_for_result(
    result: Any,
    emails: list[str],
    output_s3_path: str | None = None,
    region: str | None = "us-east-1",
    **platform_kwargs: Any,
) -> dict[str, Any]:
    """Enable notifications for ``result``'s job (SMTJ or SMHP).

    The infrastructure goes in the job's own region when the result knows it (EventBridge
    and the HyperPod VPC are regional), else in ``region``.

    Returns:
        What the manager did (stack name, topic ARN, new subscriptions).

    Raises:
        ConfigError: Missing or invalid parameters (a ``ValueError``).
        UnsupportedFeatureError: The platform has no notifications (Bedrock, serverless, local).
        NotificationManagerInfraError: The infrastructure could not be set up.
    """
    platform = Platform(result.platform)
    job_region = getattr(result, "region", None)
    if job_region and region and job_region != region:
        logger.warning(
            "Job %s runs in %s; creating its notification infrastructure there instead of %s "
            "(job events are only visible in the job's region).",
            result.job_id,
            job_region,
            region,
        )
    effective_region = job_region or region
    if platform not in PLATFORMS:
        raise UnsupportedFeatureError(
            f"Job notifications are available for {' and '.join(p.value for p in PLATFORMS)} jobs only, "
            f"not {platform.value}.",
            runtime=platform.value,
            features=["job notifications"],
        )
    allowed, make = PLATFORMS[platform]
    _check_kwargs(platform, platform_kwargs, allowed)
    manager, extra = make(result, effective_region, platform_kwargs)
    output = _output_path(result, output_s3_path)
    return dict(
        manager.enable_notifications(
            job_name=result.job_id,
            emails=emails,
            output_s3_path=output,
            validate_output=_is_training(result),
            **extra,
        )
    )


def enable_job_notifications(result: Any, emails: list[str], **kwargs: Any) -> None:
    """Set up notifications for ``result``'s job (dispatches on its platform).

    Example:
        >>> enable_job_notifications(result, ["me@example.com"], output_s3_path="s3://b/o")  # doctest: +SKIP
    """
    enable_for_result(result, emails, **kwargs)
