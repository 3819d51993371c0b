"""The RFT role an :class:`RFTMultiturnInfrastructure` needs: its S3 locations and ECR repositories."""

from __future__ import annotations

from typing import TYPE_CHECKING

from amzn_nova_forge.core.aws import client
from amzn_nova_forge.errors import AWSServiceError

if TYPE_CHECKING:
    from amzn_nova_forge.rft_multiturn._infra import RFTMultiturnInfrastructure

__all__ = ["ensure_role", "role_locations", "role_repositories"]


def role_locations(infra: RFTMultiturnInfrastructure) -> list[str]:
    """``s3://bucket/prefix`` locations remote workers read (worker code, starter kit, custom environment)."""
    if infra.platform == "local":
        return []
    from amzn_nova_forge.rft_multiturn._custom_env import DEFAULT_S3_PREFIX
    from amzn_nova_forge.rft_multiturn._package import default_bucket

    bucket = infra.s3_bucket or default_bucket(infra.region)
    infra.s3_bucket = bucket
    out = [f"s3://{bucket}/nova-rft-sdk", f"s3://{bucket}/{DEFAULT_S3_PREFIX}"]
    for uri in (infra.starter_kit_path, infra.custom_env.s3_uri if infra.custom_env else None):
        if uri and uri.startswith("s3://"):
            out.append(uri.rsplit("/", 1)[0])
    return out


def role_repositories(infra: RFTMultiturnInfrastructure) -> list[str]:
    """Private ECR repositories of the ECS worker image (none for public images)."""
    image = str(getattr(infra.infra, "image", "") or "")
    host, _, rest = image.partition("/")
    if ".dkr.ecr." not in host or not rest:
        return []
    account, region = host.split(".")[0], host.split(".")[3]
    return [f"arn:aws:ecr:{region}:{account}:repository/{rest.split('@')[0].split(':')[0]}"]


def ensure_role(infra: RFTMultiturnInfrastructure) -> str:
    """The RFT role's ARN: created when missing; an SDK-made role is extended with this setup's locations."""
    from botocore.exceptions import ClientError

    from amzn_nova_forge.rft_multiturn._role import create_rft_execution_role, sdk_managed

    try:
        infra.role_arn = str(client("iam", infra.region).get_role(RoleName=infra.rft_role_name)["Role"]["Arn"])
        exists = True
    except ClientError as e:
        if (e.response.get("Error") or {}).get("Code") != "NoSuchEntity":
            raise AWSServiceError.from_client_error(e, service="iam") from e
        exists = False
    locations, repos = role_locations(infra), role_repositories(infra)
    # A role this SDK made is rewritten (scoped policy, earlier locations kept); any other is left alone.
    if exists and (infra.custom_policy_path or not sdk_managed(infra.region, infra.rft_role_name)):
        return str(infra.role_arn)
    infra.role_arn = create_rft_execution_role(
        infra.region,
        infra.rft_role_name,
        infra.custom_policy_path,
        s3_locations=locations,
        ecr_repositories=repos,
    )
    return infra.role_arn
