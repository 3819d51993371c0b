"""The one seam through which HyperPod jobs are started, cancelled and read: the Kubernetes API.

Why the Kubernetes API and not the HyperPod CLI:

* The HyperPod CLI takes a recipe only by a path *inside its installed package*; the
  published SDK therefore writes generated recipes into ``site-packages`` and parses the
  job name out of the CLI's stdout (``NAME: (\\S+)``). Both break silently with a CLI
  upgrade, need write access to the environment, and race between concurrent jobs.
* A HyperPod EKS cluster runs Kubeflow's training operator. A Nova job *is* a
  ``kubeflow.org/v1`` ``PyTorchJob`` plus the ``training-config`` ConfigMap holding the
  recipe (the same objects the recipes' Helm chart renders). Creating them ourselves means
  we choose the job name (no stdout parsing), status is ``.status.conditions`` (a
  documented API), and cancel is a delete — no package editing, no helm.
* Authentication uses the standard EKS token (a presigned ``sts:GetCallerIdentity``), so
  only ``kubectl`` is needed on the PATH; no AWS CLI, no ``hyperpod connect-cluster``.

Tests (and users with their own tooling) replace the seam with :func:`set_launcher`:
anything with ``start(spec) -> job name``, ``cancel(...)`` and ``status(...) -> dict``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any, Protocol

from amzn_nova_forge.core.aws import aws_errors, client
from amzn_nova_forge.errors import JobSubmissionError, MissingDependencyError

__all__ = [
    "HyperPodJobSpec",
    "HyperPodLauncher",
    "KubernetesLauncher",
    "get_launcher",
    "render_manifests",
    "set_launcher",
]

logger = logging.getLogger(__name__)

_TIMEOUT_S = 120


@dataclass(frozen=True)
class HyperPodJobSpec:
    """Everything needed to start one Nova job on a HyperPod EKS cluster."""

    job_name: str
    cluster_name: str
    namespace: str
    region: str | None
    image_uri: str
    recipe_yaml: str
    instance_type: str
    instance_count: int
    labels: dict[str, str] = field(default_factory=dict)


class HyperPodLauncher(Protocol):
    """The seam: start, cancel and read HyperPod jobs."""

    def start(self, spec: HyperPodJobSpec) -> str: ...

    def cancel(self, *, cluster_name: str, namespace: str, job_name: str, region: str | None) -> None: ...

    def status(self, *, cluster_name: str, namespace: str, job_name: str, region: str | None) -> dict[str, Any]:
        """``{"raw": <last condition type>, "message": str|None, "started_at": str|None, "ended_at": str|None}``."""
        ...


def render_manifests(spec: HyperPodJobSpec) -> dict[str, Any]:
    """The ConfigMap (recipe) and PyTorchJob for ``spec``, as one Kubernetes ``List``."""
    labels = {"app.kubernetes.io/managed-by": "amzn-nova-forge", "nova-forge/job": spec.job_name, **spec.labels}
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{spec.job_name}-training-config", "namespace": spec.namespace, "labels": labels},
        "data": {"config.yaml": spec.recipe_yaml},
    }
    container = {
        "name": "pytorch",
        "image": spec.image_uri,
        "imagePullPolicy": "Always",
        "env": [{"name": "RECIPE_PATH", "value": "/config/config.yaml"}],
        "volumeMounts": [{"name": "training-config", "mountPath": "/config"}],
    }
    pod = {
        "metadata": {"labels": labels},
        "spec": {
            "nodeSelector": {"node.kubernetes.io/instance-type": spec.instance_type},
            "containers": [container],
            "volumes": [{"name": "training-config", "configMap": {"name": f"{spec.job_name}-training-config"}}],
        },
    }
    replicas: dict[str, Any] = {"Master": {"replicas": 1, "restartPolicy": "Never", "template": pod}}
    if spec.instance_count > 1:
        replicas["Worker"] = {"replicas": spec.instance_count - 1, "restartPolicy": "Never", "template": pod}
    job = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": spec.job_name, "namespace": spec.namespace, "labels": labels},
        "spec": {"pytorchReplicaSpecs": replicas, "runPolicy": {"cleanPodPolicy": "None"}},
    }
    return {"apiVersion": "v1", "kind": "List", "items": [config_map, job]}


class KubernetesLauncher:
    """Default seam: ``kubectl`` against the cluster's EKS endpoint with an EKS token."""

    def __init__(self, kubectl: str = "kubectl") -> None:
        self.kubectl = kubectl

    def _kubeconfig(self, cluster_name: str, region: str | None) -> str:
        with aws_errors("sagemaker", f"while describing HyperPod cluster {cluster_name}"):
            hp = client("sagemaker", region).describe_cluster(ClusterName=cluster_name)
        eks_arn = ((hp.get("Orchestrator") or {}).get("Eks") or {}).get("ClusterArn")
        if not eks_arn:
            raise JobSubmissionError(f"HyperPod cluster {cluster_name!r} is not orchestrated by EKS.")
        eks_name = eks_arn.rsplit("/", 1)[-1]
        with aws_errors("eks", f"while describing EKS cluster {eks_name}"):
            eks = client("eks", region).describe_cluster(name=eks_name)["cluster"]
        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": eks_name,
                    "cluster": {
                        "server": eks["endpoint"],
                        "certificate-authority-data": eks["certificateAuthority"]["data"],
                    },
                }
            ],
            "users": [{"name": "nova-forge", "user": {"token": _eks_token(eks_name, region)}}],
            "contexts": [{"name": eks_name, "context": {"cluster": eks_name, "user": "nova-forge"}}],
            "current-context": eks_name,
        }
        fd, path = tempfile.mkstemp(prefix="nova-forge-kubeconfig-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(cfg, f)
        os.chmod(path, 0o600)
        return path

    def _run(self, cluster_name: str, region: str | None, args: list[str], stdin: str | None = None) -> str:
        if shutil.which(self.kubectl) is None:
            raise MissingDependencyError(
                f"{self.kubectl!r} is needed to run jobs on SageMaker HyperPod; install kubectl "
                "(https://kubernetes.io/docs/tasks/tools/).",
                extra="hyperpod",
            )
        kubeconfig = self._kubeconfig(cluster_name, region)
        try:
            proc = subprocess.run(
                [self.kubectl, "--kubeconfig", kubeconfig, *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_S,
                check=False,
            )
        finally:
            os.unlink(kubeconfig)
        if proc.returncode != 0:
            raise JobSubmissionError(
                f"kubectl {' '.join(args[:2])} failed: {proc.stderr.strip() or proc.stdout.strip()}"
            )
        return proc.stdout

    def start(self, spec: HyperPodJobSpec) -> str:
        self._run(spec.cluster_name, spec.region, ["apply", "-f", "-"], stdin=json.dumps(render_manifests(spec)))
        return spec.job_name

    def cancel(self, *, cluster_name: str, namespace: str, job_name: str, region: str | None) -> None:
        self._run(cluster_name, region, ["delete", "pytorchjob", job_name, "-n", namespace, "--ignore-not-found"])
        self._run(
            cluster_name,
            region,
            ["delete", "configmap", f"{job_name}-training-config", "-n", namespace, "--ignore-not-found"],
        )

    def status(self, *, cluster_name: str, namespace: str, job_name: str, region: str | None) -> dict[str, Any]:
        out = self._run(cluster_name, region, ["get", "pytorchjob", job_name, "-n", namespace, "-o", "json"])
        status = json.loads(out).get("status") or {}
        conditions = status.get("conditions") or []
        last = conditions[-1] if conditions else {}
        return {
            "raw": last.get("type") or "Pending",
            "message": last.get("message"),
            "started_at": status.get("startTime"),
            "ended_at": status.get("completionTime"),
        }


def _eks_token(cluster_name: str, region: str | None) -> str:
    """An EKS bearer token: a presigned STS GetCallerIdentity URL carrying the cluster id header."""
    sts = client("sts", region)

    def _header(request: Any, **_: Any) -> None:
        request.headers["x-k8s-aws-id"] = cluster_name

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", _header, unique_id="nova-forge-eks")
    try:
        url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    finally:
        sts.meta.events.unregister("before-sign.sts.GetCallerIdentity", unique_id="nova-forge-eks")
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


_launcher: HyperPodLauncher | None = None


def get_launcher() -> HyperPodLauncher:
    """The launcher in use (default: :class:`KubernetesLauncher`)."""
    global _launcher
    if _launcher is None:
        _launcher = KubernetesLauncher()
    return _launcher


def set_launcher(launcher: HyperPodLauncher | None) -> HyperPodLauncher | None:
    """Replace the seam (None restores the default); returns the previous launcher."""
    global _launcher
    previous, _launcher = _launcher, launcher
    return previous
