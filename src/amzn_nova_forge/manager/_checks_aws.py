"""AWS account helpers shared by the runtimes and the pre-submission checks.

* :func:`caller_role_arn`: the IAM role of the credentials in use (STS, then IAM for the
  role's path) — the default execution role of SageMaker jobs.
* :func:`default_output_path` / :func:`ensure_output_bucket`: the default output bucket
  ``sagemaker-nova-<account>-<region>`` (created with SSE-KMS when a key is given; refused
  when it exists but belongs to another account).
* :func:`simulate` (``iam:SimulatePrincipalPolicy``), :func:`check_bucket_reachable`,
  :func:`check_data_exists`, :func:`role_trusts`: the building blocks of the IAM and infra
  checks in ``model/_checks.py``. Each returns problems as strings ("what to fix"),
  never raises for a failed check.

Only this module (and the runtime modules) know these request shapes.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.errors import AWSServiceError, ConfigError

__all__ = [
    "caller_account",
    "caller_role_arn",
    "check_bucket_reachable",
    "check_data_exists",
    "default_output_path",
    "ensure_output_bucket",
    "role_trusts",
    "simulate",
]

logger = logging.getLogger(__name__)

_ASSUMED = re.compile(r"^arn:(?P<part>[\w-]+):sts::(?P<acct>\d{12}):assumed-role/(?P<name>[^/]+)/.+$")
_ROLE = re.compile(r"^arn:[\w-]+:iam::\d{12}:role/.+$")


def _code(err: Exception) -> str:
    return str(((getattr(err, "response", None) or {}).get("Error") or {}).get("Code") or "")


def caller_identity(region: str | None = None) -> dict[str, Any]:
    """``sts:GetCallerIdentity`` (Account, Arn, UserId)."""
    with aws_errors("sts", "Check that AWS credentials are configured (aws configure / AWS_PROFILE)."):
        return dict(client("sts", region).get_caller_identity())


def caller_account(region: str | None = None) -> str:
    """The AWS account id of the credentials in use."""
    return str(caller_identity(region)["Account"])


def caller_role_arn(region: str | None = None) -> str:
    """The IAM role ARN behind the credentials in use (the default execution role).

    Raises:
        ConfigError: The credentials are an IAM user or root, which a service cannot assume.
    """
    arn = str(caller_identity(region)["Arn"])
    if _ROLE.match(arn):
        return arn
    m = _ASSUMED.match(arn)
    if not m:
        raise ConfigError(
            f"No execution role given and the credentials in use ({arn}) are not an IAM role, so "
            "SageMaker cannot assume them. Pass execution_role='arn:aws:iam::<account>:role/<name>' "
            "(create one with amzn_nova_forge.iam.create_sagemaker_execution_role)."
        )
    name = m.group("name")
    from botocore.exceptions import ClientError

    try:
        return str(client("iam", region).get_role(RoleName=name)["Role"]["Arn"])
    except ClientError as e:  # no iam:GetRole: the path is unknown, assume "/"
        logger.debug("iam:GetRole(%s) failed (%s); assuming path '/'", name, _code(e))
        return f"arn:{m.group('part')}:iam::{m.group('acct')}:role/{name}"


def default_output_path(region: str | None = None, *, account: str | None = None) -> str:
    """``s3://sagemaker-nova-<account>-<region>/output`` (the account from STS unless given)."""
    region = resolve_region(region)
    account = account or caller_account(region)
    return f"s3://sagemaker-nova-{account}-{region}/output"


def ensure_output_bucket(path: str, *, region: str | None = None, kms_key_id: str | None = None) -> None:
    """Create the bucket of ``path`` if it is missing; refuse one owned by another account.

    Raises:
        ConfigError: The bucket exists and belongs to another account.
        AWSServiceError: The bucket could not be checked or created.
    """
    from botocore.exceptions import ClientError

    region = resolve_region(region)
    bucket, _ = storage.parse_s3(path)
    s3 = client("s3", region)
    account = caller_account(region)
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        return
    except ClientError as e:
        code = _code(e)
        if code in ("403", "AccessDenied"):
            raise ConfigError(
                f"Bucket {bucket!r} exists but is not owned by account {account}. "
                "Pass output_s3_path='s3://<your-bucket>/<prefix>' to the customizer."
            ) from e
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise AWSServiceError.from_client_error(e, service="s3", hint=f"while checking bucket {bucket}") from e
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    with aws_errors("s3", f"while creating the default output bucket {bucket}"):
        try:
            s3.create_bucket(**kwargs)
        except ClientError as e:  # created meanwhile by another call of ours: carry on
            if _code(e) != "BucketAlreadyOwnedByYou":
                raise
            logger.info("Default output bucket %s was created concurrently; using it.", bucket)
        if kms_key_id:
            s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": kms_key_id,
                            }
                        }
                    ]
                },
            )
    logger.info("Created default output bucket %s", bucket)


def simulate(
    principal_arn: str, actions_resources: Iterable[tuple[str, str]], *, region: str | None = None
) -> list[str]:
    """``iam:SimulatePrincipalPolicy`` for each (action, resource); returns the denied pairs as text."""
    problems: list[str] = []
    by_resource: dict[str, list[str]] = {}
    for action, resource in actions_resources:
        by_resource.setdefault(resource, []).append(action)
    iam = client("iam", region)
    for resource, actions in by_resource.items():
        with aws_errors("iam", "Grant iam:SimulatePrincipalPolicy, or pass validation_config={'iam': False}."):
            resp = iam.simulate_principal_policy(
                PolicySourceArn=principal_arn, ActionNames=sorted(set(actions)), ResourceArns=[resource]
            )
        for r in resp.get("EvaluationResults", []):
            if r.get("EvalDecision") != "allowed":
                problems.append(f"{r.get('EvalActionName')} on {resource} ({r.get('EvalDecision')})")
    return problems


def principal_for_simulation(arn: str) -> str:
    """SimulatePrincipalPolicy needs a role/user ARN, not an STS assumed-role ARN."""
    m = _ASSUMED.match(arn)
    if m:
        return f"arn:{m.group('part')}:iam::{m.group('acct')}:role/{m.group('name')}"
    return arn


def role_trusts(role_arn: str, service: str, *, region: str | None = None) -> list[str]:
    """Problems if ``role_arn`` does not exist or its trust policy does not let ``service`` assume it."""
    from botocore.exceptions import ClientError

    name = role_arn.rsplit("/", 1)[-1]
    try:
        role = client("iam", region).get_role(RoleName=name)["Role"]
    except ClientError as e:
        if _code(e) == "NoSuchEntity":
            return [f"execution role {role_arn} does not exist"]
        return [f"execution role {role_arn} cannot be read ({_code(e)}); grant iam:GetRole"]
    doc = role.get("AssumeRolePolicyDocument") or {}
    if isinstance(doc, str):
        try:
            doc = json.loads(urllib.parse.unquote(doc))
        except json.JSONDecodeError:
            doc = {}
    statements = doc.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        principals = (st.get("Principal") or {}).get("Service") or []
        if isinstance(principals, str):
            principals = [principals]
        if service in principals:
            return []
    return [f"execution role {role_arn} does not trust {service} (add it to the role's trust policy)"]


def check_bucket_reachable(uri: str, *, region: str | None = None) -> list[str]:
    """Problems if the bucket of ``uri`` does not exist or cannot be reached."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _ = storage.parse_s3(uri)
    try:
        client("s3", region).head_bucket(Bucket=bucket)
    except BotoCoreError:  # no credentials, no network: a one-line AWSServiceError, not a botocore traceback
        with aws_errors("s3"):
            raise
    except ClientError as e:
        code = _code(e)
        if code in ("404", "NoSuchBucket", "NotFound"):
            return [f"output bucket {bucket!r} does not exist (create it or change output_s3_path)"]
        return [f"output bucket {bucket!r} is not reachable ({code}); check s3:ListBucket permission"]
    return []


def check_data_exists(uris: Sequence[str | None]) -> list[str]:
    """Problems for each S3 URI in ``uris`` with no object (or prefix) behind it."""
    problems: list[str] = []
    for uri in uris:
        if not uri or not storage.is_s3(uri):
            continue
        try:
            if not storage.exists(uri):
                problems.append(f"{uri} does not exist (upload the data or fix the path)")
        except AWSServiceError as e:
            problems.append(f"{uri} cannot be read ({e.code}); check s3:GetObject/ListBucket permission")
    return problems


def s3_arns(uri: str) -> tuple[str, str]:
    """``(bucket ARN, object ARN pattern)`` for an S3 URI (``arn:aws:s3:::b``, ``arn:aws:s3:::b/key*``)."""
    bucket, key = storage.parse_s3(uri)
    return f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{key}*"


class AWSChecksMixin:
    """Pre-submission IAM and infrastructure checks a runtime runs for itself.

    A runtime lists what its job needs (:meth:`iam_requirements`) and which service assumes
    its execution role (``trusted_service``); the customizer calls :meth:`check_iam` and
    :meth:`check_infra` as ``validation_config`` says. Each returns problems ("what to fix").
    """

    region: str | None
    #: The service principal that assumes the execution role (None: no execution role).
    trusted_service: ClassVar[str | None] = None

    def iam_requirements(self, job_config: Any, account: str) -> list[tuple[str, str]]:
        """(action, resource) pairs the *caller* needs to start and follow this job."""
        reqs: list[tuple[str, str]] = []
        role = getattr(self, "execution_role", None)
        if role:
            reqs.append(("iam:PassRole", role))
        for uri in (job_config.data_s3_path, job_config.validation_data_s3_path):
            if uri and storage.is_s3(uri):
                bucket_arn, obj = s3_arns(uri)
                reqs += [("s3:GetObject", obj), ("s3:ListBucket", bucket_arn)]
        if job_config.output_s3_path and storage.is_s3(job_config.output_s3_path):
            bucket_arn, obj = s3_arns(job_config.output_s3_path)
            reqs += [("s3:PutObject", obj), ("s3:ListBucket", bucket_arn)]
        return reqs

    def _role_for_checks(self) -> str | None:
        resolve = getattr(self, "resolve_execution_role", None)
        if callable(resolve):
            return str(resolve())
        role = getattr(self, "execution_role", None)
        return str(role) if role else None

    def check_iam(self, job_config: Any) -> list[str]:
        """Problems with the caller's permissions and the execution role's trust policy."""
        role = self._role_for_checks()
        ident = caller_identity(self.region)
        principal = principal_for_simulation(str(ident["Arn"]))
        problems = [
            f"caller {principal} is not allowed {p}"
            for p in simulate(principal, self.iam_requirements(job_config, str(ident["Account"])), region=self.region)
        ]
        if role and self.trusted_service:
            problems += role_trusts(role, self.trusted_service, region=self.region)
        return problems

    def check_infra(self, job_config: Any) -> list[str]:
        """Problems with the output bucket and the input data."""
        problems: list[str] = []
        out = job_config.output_s3_path
        if out and storage.is_s3(out) and not job_config.default_output_path:
            problems += check_bucket_reachable(out, region=self.region)
        problems += check_data_exists([job_config.data_s3_path, job_config.validation_data_s3_path])
        return problems
