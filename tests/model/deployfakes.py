"""Test doubles for deploy tests: the AWS operations moto lacks, a fault injector, and an inventory.

moto implements IAM, STS, SageMaker models / endpoint configs / endpoints and the tagging
API, but none of Bedrock's custom-model import, custom-model deployments or provisioned
throughput, nor SageMaker inference components (reference/moto-coverage.md: "create_custom_model
(import), create/get/list_custom_model_deployment, create/get/update/list_provisioned_model_throughput
❌"; ``create_inference_component`` is not in moto 5.2.5 and an inference-component endpoint config
(a variant without ``ModelName``) crashes moto with ``KeyError: 'ModelName'``).

So :class:`FakeAWS` registers botocore ``before-call`` hooks on the SDK's boto3 session
(clients created from it inherit them, see moto-coverage.md "Stubber / hooks for the gaps"):

* bedrock: an in-memory, stateful stand-in for exactly those missing operations;
* resourcegroupstaggingapi ``GetResources`` for ``bedrock:custom-model`` (moto has no bedrock
  resources; sagemaker:model lookups still go to moto);
* sagemaker: inference components (create/describe/delete) — every other SageMaker call
  goes to moto, with moto's variant check relaxed for model-less (inference-component) variants.

The same hook is the fault injector: :meth:`FakeAWS.fail` makes the next call of one
operation fail with AccessDenied, throttling, a 5xx, or succeed and then lose its response.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore import xform_name
from botocore.awsrequest import AWSResponse

from amzn_nova_forge.core import aws as aws_factory
from amzn_nova_forge.iam._iam_core import MANAGED_TAG

ACCT = "123456789012"
REGION = "us-east-1"
FAULT_KINDS = ("access_denied", "throttling", "server_error", "lost_response")
_ERRORS = {
    # kind: (HTTP status, code per service family)
    "access_denied": (403, {"iam": "AccessDenied", "sts": "AccessDenied", "default": "AccessDeniedException"}),
    "throttling": (400, {"iam": "Throttling", "sts": "Throttling", "default": "ThrottlingException"}),
    "server_error": (500, {"default": "InternalServerException", "sagemaker": "InternalFailure"}),
    "lost_response": (503, {"default": "ServiceUnavailable"}),
}


_LOADER: Any = None
_PLAIN: dict[str, Any] = {}


def _shared_loader() -> Any:
    """One botocore data loader for every session in the test process (parsing service JSON is the slow part)."""
    global _LOADER
    if _LOADER is None:
        from botocore.loaders import create_loader

        _LOADER = create_loader()
    return _LOADER


def plain_client(service: str) -> Any:
    """A client without the fake's hooks (moto still answers it): the truth, for checks."""
    if service not in _PLAIN:
        import botocore.session

        core = botocore.session.Session()
        core.register_component("data_loader", _shared_loader())
        _PLAIN[service] = boto3.session.Session(botocore_session=core, region_name=REGION).client(service)
    return _PLAIN[service]


def _error(service: str, kind: str, op: str) -> tuple[AWSResponse, dict[str, Any]]:
    status, codes = _ERRORS[kind]
    code = codes.get(service, codes["default"])
    body = {
        "Error": {"Code": code, "Message": f"injected {kind} on {op}"},
        "ResponseMetadata": {"RequestId": f"req-{kind}", "HTTPStatusCode": status},
    }
    return AWSResponse(None, status, {}, None), body


def _ok(body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse(None, 200, {}, None), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}


class NotFound(Exception):
    """Raised inside a fake handler; becomes a ResourceNotFound/ValidationException error response."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class FakeAWS:
    """Stateful stand-ins for the missing operations, a call log, and one-shot faults."""

    def __init__(self) -> None:
        self.models: dict[str, dict[str, Any]] = {}  # arn -> model
        self.deployments: dict[str, dict[str, Any]] = {}
        self.throughputs: dict[str, dict[str, Any]] = {}
        self.components: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.requests: list[tuple[str, str, dict[str, Any]]] = []  # (service, op, parameters)
        self.model_statuses: list[str] = []  # statuses GetCustomModel reports before "Active"
        self.fault: tuple[str, str, str] | None = None  # (service, op, kind), one shot
        self.fired: tuple[str, str, str] | None = None
        self._ids = itertools.count(1)

    # ---- wiring ---------------------------------------------------------------------------------
    def install(self, monkeypatch: Any) -> FakeAWS:
        """Hook the SDK's session (and relax moto's check of model-less endpoint variants)."""
        from moto.sagemaker.models import FakeEndpointConfig, SageMakerModelBackend

        from amzn_nova_forge.model._deploy_sagemaker import SMI_CONFIGS

        nova = {t for per_model in SMI_CONFIGS.values() for t in per_model}
        validate_type = FakeEndpointConfig.validate_instance_type
        validate_variants = FakeEndpointConfig.validate_production_variants
        backend_variants = SageMakerModelBackend.validate_production_variants

        def instance_type(self: Any, value: str) -> None:  # moto's allow-list predates p5/g6
            if value not in nova:
                validate_type(self, value)

        def variants(self: Any, production_variants: list[dict[str, Any]]) -> None:
            with_model = [v for v in production_variants if "ModelName" in v]
            for v in production_variants:
                if "ModelName" not in v:
                    self.validate_instance_type(v["InstanceType"])
            validate_variants(self, with_model)

        monkeypatch.setattr(FakeEndpointConfig, "validate_instance_type", instance_type)
        monkeypatch.setattr(FakeEndpointConfig, "validate_production_variants", variants)
        monkeypatch.setattr(
            SageMakerModelBackend,
            "validate_production_variants",
            lambda self, pv: backend_variants(self, [v for v in pv if "ModelName" in v]),
        )
        sdk_session = aws_factory.session(REGION)
        sdk_session._session.register_component("data_loader", _shared_loader())
        events = sdk_session.events
        events.register("before-parameter-build", self._keep_params)
        events.register("before-call", self._before_call)
        return self

    def fail(self, service: str, op: str, kind: str) -> None:
        """Make the next ``service`` ``op`` call fail with ``kind`` (one of :data:`FAULT_KINDS`)."""
        self.fault = (service, op, kind)
        self.fired = None

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fake_params"] = dict(params)  # shallow: bodies may be open files

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        service, op = model.service_model.service_name, model.name
        params = context.get("fake_params", {})
        self.calls.append((service, op))
        self.requests.append((service, op, params))
        if self.fault is not None and self.fault[:2] == (service, op):
            kind = self.fault[2]
            self.fired, self.fault = self.fault, None
            if kind == "lost_response":  # the request succeeds, then its response is lost
                self._perform(service, op, params)
            return _error(service, kind, op)
        return self._dispatch(service, op, params)

    def _perform(self, service: str, op: str, params: dict[str, Any]) -> None:
        answer = self._dispatch(service, op, params)
        if answer is None:  # a moto operation: run it on a client without our hooks
            getattr(plain_client(service), xform_name(op))(**params)

    def _dispatch(self, service: str, op: str, params: dict[str, Any]) -> Any:
        handler = getattr(self, f"_{service.replace('-', '_')}_{op}", None)
        if handler is None:
            return None
        try:
            body = handler(params)
        except NotFound as e:
            status = 404 if e.code.startswith("ResourceNotFound") else 400
            return AWSResponse(None, status, {}, None), {
                "Error": {"Code": e.code, "Message": str(e)},
                "ResponseMetadata": {"HTTPStatusCode": status},
            }
        return None if body is None else _ok(body)

    # ---- bedrock: custom models -----------------------------------------------------------------
    def _model(self, ident: str) -> dict[str, Any]:
        for arn, m in self.models.items():
            if ident in (arn, m["modelName"]):
                return m
        raise NotFound("ResourceNotFoundException", f"Custom model {ident} not found")

    def _bedrock_CreateCustomModel(self, p: dict[str, Any]) -> dict[str, Any]:
        if any(m["modelName"] == p["modelName"] for m in self.models.values()):
            raise NotFound("ConflictException", f"Model {p['modelName']} already exists")
        arn = f"arn:aws:bedrock:{REGION}:{ACCT}:custom-model/imported/m{next(self._ids):06d}"
        self.models[arn] = {
            "modelArn": arn,
            "modelName": p["modelName"],
            "creationTime": datetime.now(UTC),
            "statuses": list(self.model_statuses),
            "tags": list(p.get("modelTags", [])),
            "source": p.get("modelSourceConfig") or p.get("customModelDataSource"),
            "roleArn": p.get("roleArn"),
            "kms": p.get("modelKmsKeyArn"),
        }
        return {"modelArn": arn}

    def _bedrock_GetCustomModel(self, p: dict[str, Any]) -> dict[str, Any]:
        m = self._model(p["modelIdentifier"])
        status = m["statuses"].pop(0) if m["statuses"] else "Active"
        return {
            "modelArn": m["modelArn"],
            "modelName": m["modelName"],
            "creationTime": m["creationTime"],
            "modelStatus": status,
        }

    def _bedrock_DeleteCustomModel(self, p: dict[str, Any]) -> dict[str, Any]:
        self.models.pop(self._model(p["modelIdentifier"])["modelArn"])
        return {}

    def _bedrock_ListTagsForResource(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self._model(p["resourceARN"])["tags"]}

    # ---- bedrock: on-demand deployments ---------------------------------------------------------
    def _bedrock_CreateCustomModelDeployment(self, p: dict[str, Any]) -> dict[str, Any]:
        if any(d["customModelDeploymentName"] == p["modelDeploymentName"] for d in self.deployments.values()):
            raise NotFound("ConflictException", f"Deployment {p['modelDeploymentName']} exists")
        self._model(p["modelArn"])
        arn = f"arn:aws:bedrock:{REGION}:{ACCT}:custom-model-deployment/d{next(self._ids):06d}"
        self.deployments[arn] = {
            "customModelDeploymentArn": arn,
            "customModelDeploymentName": p["modelDeploymentName"],
            "modelArn": p["modelArn"],
            "createdAt": datetime.now(UTC),
            "status": "Active",
        }
        return {"customModelDeploymentArn": arn}

    def _bedrock_GetCustomModelDeployment(self, p: dict[str, Any]) -> dict[str, Any]:
        d = self.deployments.get(p["customModelDeploymentIdentifier"])
        if d is None:
            raise NotFound("ResourceNotFoundException", "deployment not found")
        return {**d, "modelDeploymentName": d["customModelDeploymentName"]}

    def _bedrock_ListCustomModelDeployments(self, p: dict[str, Any]) -> dict[str, Any]:
        part = p.get("nameContains", "")
        return {
            "modelDeploymentSummaries": [d for d in self.deployments.values() if part in d["customModelDeploymentName"]]
        }

    def _bedrock_DeleteCustomModelDeployment(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.deployments.pop(p["customModelDeploymentIdentifier"], None) is None:
            raise NotFound("ResourceNotFoundException", "deployment not found")
        return {}

    # ---- bedrock: provisioned throughput --------------------------------------------------------
    def _bedrock_CreateProvisionedModelThroughput(self, p: dict[str, Any]) -> dict[str, Any]:
        if any(t["provisionedModelName"] == p["provisionedModelName"] for t in self.throughputs.values()):
            raise NotFound("ConflictException", "exists")
        self._model(p["modelId"])
        arn = f"arn:aws:bedrock:{REGION}:{ACCT}:provisioned-model/p{next(self._ids):06d}"
        self.throughputs[arn] = {
            "provisionedModelArn": arn,
            "provisionedModelName": p["provisionedModelName"],
            "modelArn": p["modelId"],
            "desiredModelArn": p["modelId"],
            "modelUnits": p["modelUnits"],
            "status": "InService",
        }
        return {"provisionedModelArn": arn}

    def _bedrock_GetProvisionedModelThroughput(self, p: dict[str, Any]) -> dict[str, Any]:
        t = self.throughputs.get(p["provisionedModelId"])
        if t is None:
            raise NotFound("ResourceNotFoundException", "not found")
        return dict(t)

    def _bedrock_ListProvisionedModelThroughputs(self, p: dict[str, Any]) -> dict[str, Any]:
        part = p.get("nameContains", "")
        return {
            "provisionedModelSummaries": [t for t in self.throughputs.values() if part in t["provisionedModelName"]]
        }

    def _bedrock_UpdateProvisionedModelThroughput(self, p: dict[str, Any]) -> dict[str, Any]:
        t = self.throughputs[p["provisionedModelId"]]
        t["modelArn"] = t["desiredModelArn"] = p["desiredModelId"]
        return {}

    def _bedrock_DeleteProvisionedModelThroughput(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.throughputs.pop(p["provisionedModelId"], None) is None:
            raise NotFound("ResourceNotFoundException", "not found")
        return {}

    # ---- tagging: bedrock custom models ---------------------------------------------------------
    def _resourcegroupstaggingapi_GetResources(self, p: dict[str, Any]) -> dict[str, Any] | None:
        if p.get("ResourceTypeFilters") != ["bedrock:custom-model"]:
            return None  # moto answers (sagemaker:model)
        (flt,) = p["TagFilters"]
        hits = [
            {"ResourceARN": arn, "Tags": [{"Key": t["key"], "Value": t["value"]} for t in m["tags"]]}
            for arn, m in self.models.items()
            if any(t["key"] == flt["Key"] and t["value"] in flt["Values"] for t in m["tags"])
        ]
        return {"ResourceTagMappingList": hits}

    # ---- sagemaker: inference components --------------------------------------------------------
    def _sagemaker_CreateInferenceComponent(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["InferenceComponentName"]
        if name in self.components:
            raise NotFound("ValidationException", f"Inference component {name} already exists")
        arn = f"arn:aws:sagemaker:{REGION}:{ACCT}:inference-component/{name}"
        self.components[name] = {
            "InferenceComponentName": name,
            "InferenceComponentArn": arn,
            "EndpointName": p["EndpointName"],
            "VariantName": p["VariantName"],
            "Specification": p["Specification"],
            "RuntimeConfig": p["RuntimeConfig"],
            "InferenceComponentStatus": "InService",
        }
        return {"InferenceComponentArn": arn}

    def _sagemaker_DescribeInferenceComponent(self, p: dict[str, Any]) -> dict[str, Any]:
        c = self.components.get(p["InferenceComponentName"])
        if c is None:
            raise NotFound("ValidationException", f"Could not find inference component {p['InferenceComponentName']}")
        return dict(c)

    def _sagemaker_DeleteInferenceComponent(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.components.pop(p["InferenceComponentName"], None) is None:
            raise NotFound("ValidationException", "not found")
        return {}

    # ---- what exists ----------------------------------------------------------------------------
    def inventory(self) -> set[str]:
        """Every resource a deploy could have created, in the SDK's ``"<kind> <id>"`` words."""
        iam, sm = plain_client("iam"), plain_client("sagemaker")  # no hooks: the truth from moto
        out: set[str] = set()
        for role in iam.list_roles()["Roles"]:
            tags = iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
            if any(t["Key"] == MANAGED_TAG for t in tags):
                out.add(f"IAM role {role['Arn']}")
        out |= {f"IAM policy {p['Arn']}" for p in iam.list_policies(Scope="Local")["Policies"]}
        out |= {f"Bedrock custom model {arn}" for arn in self.models}
        out |= {f"Bedrock custom model deployment {arn}" for arn in self.deployments}
        out |= {f"Bedrock provisioned model {arn}" for arn in self.throughputs}
        out |= {f"SageMaker model {m['ModelName']}" for m in sm.list_models()["Models"]}
        out |= {
            f"SageMaker endpoint config {c['EndpointConfigName']}"
            for c in sm.list_endpoint_configs()["EndpointConfigs"]
        }
        out |= {f"SageMaker endpoint {e['EndpointName']}" for e in sm.list_endpoints()["Endpoints"]}
        out |= {f"SageMaker inference component {n}" for n in self.components}
        return out
