"""RFT multiturn infrastructure: reward-environment workers, queues and stacks.

See ``docs/rft_multiturn.md``. Public names: :class:`RFTMultiturnInfrastructure`,
:class:`CustomEnvironment`, :func:`list_rft_stacks`, :func:`create_rft_execution_role`,
:class:`StackOutputs`, :class:`QueueMessageCounts`, the platforms
:class:`LocalRFTInfrastructure` / :class:`EC2RFTInfrastructure` / :class:`ECSRFTInfrastructure`,
:class:`Sandbox` / :class:`SandboxLimits` (confined execution of model-written commands),
``RFT_EXECUTION_ROLE_NAME``, ``VFEnvId``, ``EnvType``.
"""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        **_exports.RFT,
        **_exports.RFT_NAMESPACE,
        "VFEnvId": "amzn_nova_forge.core.enums",
        "EnvType": "amzn_nova_forge.core.enums",
        "StackOutputs": "amzn_nova_forge.rft_multiturn._stacks",
        "RFT_EXECUTION_ROLE_NAME": "amzn_nova_forge.rft_multiturn._constants",
    },
)
