"""``nova-forge deploy`` and ``nova-forge invoke``.

Examples::

    nova-forge deploy s3://bucket/ckpt/ --platform bedrock_od --endpoint-name my-model --model NOVA_LITE_2
    nova-forge deploy --training-result my-job_SMTJ.json --platform sagemaker --unit-count 1 \\
        --env CONTEXT_LENGTH=12000 --env MAX_CONCURRENCY=16
    nova-forge invoke arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-model --message "Hello!"
    nova-forge invoke http://127.0.0.1:8080 --body '{"messages": [...], "max_tokens": 50}' --json

``deploy`` saves the deployment as JSON (``--save-dir``, default ``.``) and prints its URI.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["register"]

_PLATFORMS = ("bedrock_od", "bedrock_pt", "sagemaker", "local")


def _env(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--env expects KEY=VALUE, got {item!r}.")
        out[key.strip()] = value
    return out


def _cmd_deploy(args: argparse.Namespace) -> int:
    from amzn_nova_forge.cli._job import _method
    from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform, Model
    from amzn_nova_forge.model import _deploy

    if not args.artifact and not args.training_result:
        raise ValueError(
            "Give the checkpoint to deploy (S3 path, Bedrock model ARN or local folder) or --training-result FILE."
        )
    model = Model.from_model_name(args.model) if args.model else None
    method = _method(args.method) if args.method else None
    region = args.region
    path = args.artifact
    if args.training_result:
        from amzn_nova_forge.model.result._base import BaseJobResult

        result = BaseJobResult.load(args.training_result)
        path = path or _deploy.resolve_artifact_path(None, None, result)
        model = model or getattr(result, "model_type", None)
        method = method or getattr(result, "method", None)
        region = region or result.region
    deployment = _deploy.deploy_model(
        path,
        model=model,
        method=method,
        deploy_platform=DeployPlatform(args.platform),
        unit_count=args.unit_count,
        endpoint_name=args.endpoint_name,
        execution_role_name=args.role_name,
        sagemaker_instance_type=args.instance_type,
        sagemaker_environment_variables=_env(args.env),
        region=region,
        deployment_mode=DeploymentMode(args.mode),
        wait=not args.no_wait,
        timeout=args.timeout,
        poll_interval=args.poll_interval,
    )
    saved = deployment.dump(args.save_dir)
    if args.json:
        print(json.dumps(deployment.to_dict(), indent=2))
    else:
        print(f"Deployed {deployment.endpoint.endpoint_name} ({deployment.endpoint.platform.value})")
        print(f"URI: {deployment.endpoint.uri}")
        print(f"Saved: {saved}")
        if deployment.endpoint.platform.value == "local":
            print(
                'The server runs in the background; stop it with: python -c "from amzn_nova_forge.manager import '
                f"LocalRuntimeManager; LocalRuntimeManager.stop_deployment('{deployment.endpoint.uri}')\""
            )
    return 0


def _request_body(args: argparse.Namespace) -> dict[str, Any]:
    if args.body is not None:
        text = args.body
        if text.startswith("@"):
            from amzn_nova_forge.core import storage

            try:
                text = storage.read_text(text[1:])
            except UnicodeDecodeError as e:
                raise ValueError(f"--body file {text[1:]} is not UTF-8 text (byte {e.start}).") from None
            except IsADirectoryError:
                raise ValueError(f"--body file {text[1:]} is a folder; give a JSON file.") from None
        try:
            body = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"--body is not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}.") from None
        except RecursionError:
            raise ValueError("--body is nested too deeply.") from None
        if not isinstance(body, dict):
            raise ValueError("--body must be a JSON object.")
    elif args.message is not None:
        body = {"messages": [{"role": "user", "content": args.message}]}
    else:
        raise ValueError("Give the request with --message TEXT or --body JSON (or --body @file.json).")
    if args.max_tokens is not None:
        body["max_tokens"] = args.max_tokens
    if args.stream:
        body["stream"] = True
    return body


def _load_deployment(path: str) -> Any:
    """A saved deployment; any malformed file is one :class:`ConfigError` naming it."""
    from amzn_nova_forge.errors import ConfigError
    from amzn_nova_forge.model.result._deployment import DeploymentResult

    try:
        return DeploymentResult.load(path)
    except (ConfigError, FileNotFoundError):
        raise
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError, OSError) as e:
        what = f"missing field {e}" if isinstance(e, KeyError) else f"{type(e).__name__}: {e}"
        raise ConfigError(
            f"{path} is not a saved deployment ({what}). Give a file written by deployment.dump() "
            "or 'nova-forge deploy', or the endpoint ARN / URL."
        ) from e


def _cmd_invoke(args: argparse.Namespace) -> int:
    from amzn_nova_forge.model import _invoke

    endpoint = args.endpoint
    if endpoint.endswith(".json"):  # a saved deployment
        endpoint = _load_deployment(endpoint).endpoint.uri
    result = _invoke.invoke(endpoint, _request_body(args))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        result.show()
    return 0


def register(subparsers: Any) -> None:
    """Add ``deploy`` and ``invoke`` to the ``nova-forge`` parser."""
    p = subparsers.add_parser("deploy", help="deploy a trained checkpoint to Bedrock, SageMaker or locally")
    p.add_argument("artifact", nargs="?", help="checkpoint: s3:// path, Bedrock custom model ARN or local folder")
    p.add_argument("--training-result", metavar="FILE", help="a saved TrainingResult JSON (its checkpoint is used)")
    p.add_argument("--platform", choices=_PLATFORMS, default="bedrock_od", help="default: bedrock_od")
    p.add_argument("--model", help="Nova model, e.g. NOVA_LITE_2 (checks SageMaker instance limits; default name)")
    p.add_argument("--method", help="training method, e.g. sft_lora (used in the default endpoint name)")
    p.add_argument("--unit-count", type=int, help="PT model units or SageMaker instance count (required for both)")
    p.add_argument("--endpoint-name", help="endpoint name (default: <model>-<method>-<platform>)")
    p.add_argument("--role-name", help="execution role name (created when missing)")
    p.add_argument("--instance-type", default="ml.p5.48xlarge", help="SageMaker instance type")
    p.add_argument("--env", action="append", metavar="KEY=VALUE", help="SageMaker container environment (repeat)")
    p.add_argument("--mode", choices=("fail_if_exists", "update_if_exists"), default="fail_if_exists")
    p.add_argument("--region", help="AWS region (default: the environment's)")
    p.add_argument("--timeout", type=float, help="seconds to wait in all (default 3 hours)")
    p.add_argument("--poll-interval", type=float, help="seconds between status checks (default 30)")
    p.add_argument("--no-wait", action="store_true", help="return once the endpoint is being created")
    p.add_argument("--save-dir", default=".", help="where to save <endpoint>_deployment.json (default .)")
    p.add_argument("--json", action="store_true", help="print the deployment as JSON")
    p.set_defaults(handler=_cmd_deploy)

    q = subparsers.add_parser("invoke", help="send one inference request to a deployed model")
    q.add_argument("endpoint", help="endpoint ARN, local URL, or a saved <endpoint>_deployment.json")
    q.add_argument("--message", help="a single user message")
    q.add_argument("--body", help="the request body as JSON, or @file.json")
    q.add_argument("--max-tokens", type=int)
    q.add_argument("--stream", action="store_true", help="stream the response")
    q.add_argument("--json", action="store_true", help="print the result as JSON")
    q.set_defaults(handler=_cmd_invoke)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(0)
