"""The RFT reward-Lambda features every runtime manager shares.

``rft_lambda`` holds either a Lambda ARN or a local ``.py`` file. Assigning an ARN sets
``rft_lambda_arn`` at once; assigning a file clears it until :meth:`deploy_lambda` zips the
file (as ``lambda_function.py``) and creates or updates the function. :meth:`validate_lambda`
runs the reward function (deployed or local) on the first samples of the dataset through
``verify_reward_function``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import zipfile
from pathlib import Path
from typing import Any, ClassVar

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.aws import aws_errors, client
from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.errors import ConfigError

__all__ = ["LAMBDA_ARN", "RFTLambdaMixin", "is_lambda_arn"]

logger = logging.getLogger(__name__)

#: A Lambda function ARN (optionally with a version or alias).
LAMBDA_ARN = re.compile(r"^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[\w$-]+)?$")
_RUNTIME = "python3.12"
_HANDLER = "lambda_function.lambda_handler"
_TIMEOUT_S = 300


def is_lambda_arn(value: str | None) -> bool:
    """True when ``value`` looks like an ARN (``arn:...``) rather than a file path."""
    return bool(value) and str(value).startswith("arn:")


class RFTLambdaMixin:
    """``rft_lambda`` / ``rft_lambda_arn`` properties, ``deploy_lambda`` and ``validate_lambda``.

    Example:
        >>> runtime.rft_lambda = "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn"  # doctest: +SKIP
        >>> runtime.rft_lambda_arn  # doctest: +SKIP
        'arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn'
    """

    platform: ClassVar[Any]
    region: str | None
    _rft_lambda: str | None = None
    _rft_lambda_arn: str | None = None

    @property
    def rft_lambda(self) -> str | None:
        """Lambda ARN or local ``.py`` path of the RFT reward function."""
        return self._rft_lambda

    @rft_lambda.setter
    def rft_lambda(self, value: str | None) -> None:
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise ConfigError(f"rft_lambda must be a Lambda ARN or a .py file path, got {value!r}.")
        value = os.fspath(value) if value is not None else None
        self._rft_lambda = value
        self._rft_lambda_arn = value if is_lambda_arn(value) else None

    @property
    def rft_lambda_arn(self) -> str | None:
        """The resolved Lambda ARN (set from ``rft_lambda`` or by :meth:`deploy_lambda`)."""
        return self._rft_lambda_arn

    @rft_lambda_arn.setter
    def rft_lambda_arn(self, value: str | None) -> None:
        self._rft_lambda_arn = value

    # ---- deploy -------------------------------------------------------------------------------
    def deploy_lambda(self, lambda_name: str | None = None, execution_role_arn: str | None = None) -> str:
        """Zip ``rft_lambda`` (a local .py file) and create or update the Lambda function.

        Args:
            lambda_name: Function name (default: the file stem with ``_`` replaced by ``-``).
            execution_role_arn: The function's role (default: this manager's ``execution_role``).

        Returns:
            The function ARN (also stored in ``rft_lambda_arn``).

        Raises:
            ValueError: ``rft_lambda`` is unset or an ARN, the file is missing, no role can be
                resolved, or (HyperPod) the name lacks ``SageMaker``.

        Example:
            >>> runtime.rft_lambda = "rft_training_reward.py"  # doctest: +SKIP
            >>> lambda_arn = runtime.deploy_lambda(lambda_name="my-reward-fn")  # doctest: +SKIP
        """
        source = self._rft_lambda
        if not source:
            raise ConfigError("rft_lambda is not set. Set runtime.rft_lambda = 'reward.py' first.")
        if is_lambda_arn(source):
            raise ConfigError(f"rft_lambda is already a Lambda ARN ({source}); there is nothing to deploy.")
        path = Path(source).expanduser()
        if not path.is_file():
            raise ConfigError(f"Reward function file {str(path)!r} not found.")
        if path.suffix != ".py":
            raise ConfigError(f"Reward function file {str(path)!r} must be a .py file.")
        role = execution_role_arn or getattr(self, "execution_role", None)
        if not role:
            raise ConfigError(
                "No execution role for the Lambda: pass execution_role_arn='arn:aws:iam::<account>:role/<name>' "
                "(the role must trust lambda.amazonaws.com)."
            )
        name = lambda_name or path.stem.replace("_", "-")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise ConfigError(f"Invalid Lambda function name {name!r}: use 1-64 letters, digits, '-' or '_'.")
        if self.platform == Platform.SMHP and "SageMaker" not in name:
            raise ConfigError(
                f"On SageMaker HyperPod the reward Lambda name must contain 'SageMaker'; got {name!r}. "
                f"Try lambda_name='{name}-SageMaker'."
            )
        arn = _create_or_update(name, _zip(path), role, self.region)
        self._rft_lambda_arn = arn
        logger.info("Deployed reward Lambda %s", arn)
        return arn

    # ---- validate -----------------------------------------------------------------------------
    def validate_lambda(self, data_s3_path: str, validation_samples: int = 10) -> None:
        """Run the reward function on the first ``validation_samples`` records of ``data_s3_path``.

        Raises:
            ValueError: ``rft_lambda`` is unset, or the function or its output is invalid.

        Example:
            >>> runtime.rft_lambda = "rft_training_reward.py"  # doctest: +SKIP
            >>> runtime.validate_lambda(data_s3_path="s3://bucket/data.jsonl")  # doctest: +SKIP
        """
        from amzn_nova_forge.manager._reward_check import verify_reward_function

        target = self._rft_lambda_arn or self._rft_lambda
        if not target:
            raise ConfigError("rft_lambda is not set. Set runtime.rft_lambda to a Lambda ARN or a .py file.")
        if not isinstance(validation_samples, int) or validation_samples < 1:
            raise ConfigError(f"validation_samples must be a positive integer, got {validation_samples!r}.")
        samples = _read_samples(data_s3_path, validation_samples)
        platform = self.platform if is_lambda_arn(target) else None
        if platform not in (None, Platform.SMHP, Platform.SMTJ):
            platform = Platform.SMTJ  # the SMHP naming rule is the only platform-specific rule
        verify_reward_function(target, samples, region=self.region or "us-east-1", platform=platform)


def _zip(path: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("lambda_function.py", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def _create_or_update(name: str, code: bytes, role: str, region: str | None) -> str:
    from botocore.exceptions import ClientError

    lam = client("lambda", region)
    try:
        lam.get_function(FunctionName=name)
        exists = True
    except ClientError as e:
        if (e.response.get("Error") or {}).get("Code") != "ResourceNotFoundException":
            raise ConfigError(f"Cannot look up Lambda {name!r}: {e}") from e
        exists = False
    with aws_errors("lambda", f"while deploying the reward function {name!r}"):
        if exists:
            resp = lam.update_function_code(FunctionName=name, ZipFile=code)
            lam.get_waiter("function_updated_v2").wait(FunctionName=name)
        else:
            resp = lam.create_function(
                FunctionName=name,
                Runtime=_RUNTIME,
                Handler=_HANDLER,
                Role=role,
                Code={"ZipFile": code},
                Timeout=_TIMEOUT_S,
            )
            lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return str(resp["FunctionArn"])


def _read_samples(uri: str, n: int) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    try:
        for number, line in enumerate(storage.iter_lines(uri), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ConfigError(f"{uri}:{number}: not valid JSON ({e.msg}).") from e
            if not isinstance(record, dict):
                raise ConfigError(f"{uri}:{number}: expected a JSON object per line.")
            samples.append(record)
            if len(samples) >= n:
                break
    except FileNotFoundError as e:
        raise ConfigError(f"Validation data {uri} not found.") from e
    if not samples:
        raise ConfigError(f"{uri} has no records to validate the reward function with.")
    return samples
