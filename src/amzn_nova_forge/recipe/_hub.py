"""A recipe version pinned in the SageMaker public hub (``hub_content_version``), read only when asked.

The bundled offline catalogue is the default source of recipes. With ``hub_content_version``
set on a service class (or the customizer), the submission asks SageMaker once for that
version of the model's hub content (``DescribeHubContent`` on ``SageMakerPublicHub``), picks
the entry of its ``RecipeCollection`` that matches the job (technique, LoRA or full rank,
platform, instance type) and takes from it the container image of the SMTJ job and the list of
supported instance types. The recipe body, its override keys and ranges stay the catalogue's.

Example:
    >>> pinned = hub_recipe(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, Platform.SMTJ,  # doctest: +SKIP
    ...     version="1.0.20", region="us-east-1", instance_type="ml.p5.48xlarge")
    >>> pinned.image_uri  # doctest: +SKIP
    '708977205387.dkr.ecr.us-east-1.amazonaws.com/nova-fine-tune-repo:SM-TJ-SFT-V2-latest'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, InstanceConfigError, UnsupportedFeatureError

__all__ = ["PUBLIC_HUB", "HubRecipe", "hub_recipe", "select_recipe"]

#: The hub that publishes the Nova recipes.
PUBLIC_HUB = "SageMakerPublicHub"
#: ``CustomizationTechnique`` per method family (the hub calls RFT "RLVR").
_TECHNIQUE = {"sft": "SFT", "dpo": "DPO", "cpt": "CPT", "rft": "RLVR"}
#: Which template key an entry must carry to run on a platform.
_TEMPLATE_KEY = {
    Platform.SMTJ: "SmtjRecipeTemplateS3Uri",
    Platform.SMTJServerless: "SmtjRecipeTemplateS3Uri",
    Platform.SMHP: "HpEksPayloadTemplateS3Uri",
}


@dataclass(frozen=True)
class HubRecipe:
    """The hub entry a pinned job follows.

    Attributes:
        name: The entry's ``Name``.
        version: The hub content version read.
        image_uri: The SMTJ container image of the entry (None on HyperPod, whose image comes
            from the payload manifest: the catalogue's is used).
        instance_types: The entry's ``SupportedInstanceTypes``.
    """

    name: str
    version: str
    image_uri: str | None
    instance_types: tuple[str, ...]


def select_recipe(
    collection: list[Mapping[str, Any]],
    method: TrainingMethod,
    platform: Platform,
    *,
    instance_type: str | None,
    version: str,
) -> HubRecipe:
    """Pick the entry of ``collection`` that matches the job.

    Raises:
        UnsupportedFeatureError: No entry of this version for the method on the platform.
        InstanceConfigError: The entries exist but none supports ``instance_type``.
    """
    method = TrainingMethod(method)
    if method is TrainingMethod.EVALUATION:
        wanted = [r for r in collection if r.get("Type") == "Evaluation"]
    else:
        technique = _TECHNIQUE.get(method.family)
        wanted = [
            r
            for r in collection
            if r.get("CustomizationTechnique") == technique
            and (str(r.get("Peft") or "").upper() == "LORA") == method.is_lora
            and r.get("IsSubscriptionModel") is not True
        ]
    key = _TEMPLATE_KEY.get(platform)
    wanted = [r for r in wanted if key and r.get(key)]
    if not wanted:
        raise UnsupportedFeatureError(
            f"Hub content version {version!r} has no {method.name} recipe for {platform.value}; "
            "pick another hub_content_version, or leave it out to use the bundled recipes.",
            runtime=platform.value,
            features=["hub_content_version"],
        )
    if instance_type is not None and platform is not Platform.SMTJServerless:
        fitting = [r for r in wanted if instance_type in (r.get("SupportedInstanceTypes") or [])]
        if not fitting:
            allowed = sorted({t for r in wanted for t in (r.get("SupportedInstanceTypes") or [])})
            raise InstanceConfigError(
                f"Instance type {instance_type!r} is not supported by the {method.name} recipes of hub content "
                f"version {version!r}; supported: {', '.join(allowed) or 'none listed'}.",
                instance_type=instance_type,
            )
        wanted = fitting
    entry = wanted[0]
    return HubRecipe(
        name=str(entry.get("Name", "")),
        version=version,
        image_uri=str(entry["SmtjImageUri"]) if platform is not Platform.SMHP and entry.get("SmtjImageUri") else None,
        instance_types=tuple(entry.get("SupportedInstanceTypes") or ()),
    )


def hub_recipe(
    model: Model,
    method: TrainingMethod,
    platform: Platform,
    *,
    version: str,
    region: str | None,
    instance_type: str | None = None,
    sagemaker_client: Any = None,
) -> HubRecipe:
    """Read ``version`` of the model's hub content and pick the job's recipe entry.

    Raises:
        UnsupportedFeatureError: The platform takes no hub recipes (Bedrock, local), or the version
            has no recipe for the method.
        ConfigError: The hub answered with a document that is not the expected JSON.
        AWSServiceError: ``DescribeHubContent`` failed (e.g. the version does not exist).
    """
    if platform not in _TEMPLATE_KEY:
        raise UnsupportedFeatureError(
            f"hub_content_version applies to SageMaker recipes (SMTJ, SMTJServerless, SMHP), not {platform.value}.",
            runtime=platform.value,
            features=["hub_content_version"],
        )
    from amzn_nova_forge.core.aws import aws_errors, client

    sm = sagemaker_client or client("sagemaker", region)
    with aws_errors("sagemaker", f"while reading hub content {model.hub_content_name!r} version {version!r}"):
        answer = sm.describe_hub_content(
            HubName=PUBLIC_HUB,
            HubContentType="Model",
            HubContentName=model.hub_content_name,
            HubContentVersion=version,
        )
    raw = answer.get("HubContentDocument") or "{}"
    try:
        document = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (json.JSONDecodeError, TypeError, ValueError) as e:
        raise ConfigError(
            f"Hub content {model.hub_content_name!r} {version}: the document is not JSON ({e})."
        ) from None
    collection = document.get("RecipeCollection") if isinstance(document, dict) else None
    if not isinstance(collection, list):
        raise ConfigError(f"Hub content {model.hub_content_name!r} {version} lists no RecipeCollection.")
    return select_recipe(
        [r for r in collection if isinstance(r, Mapping)],
        method,
        platform,
        instance_type=instance_type,
        version=str(answer.get("HubContentVersion") or version),
    )
