"""Published path of ``create_bedrock_execution_role`` (``amzn_nova_forge.util.bedrock``)."""

from __future__ import annotations

from amzn_nova_forge.iam.iam_role_creator import create_bedrock_execution_role

__all__ = ["create_bedrock_execution_role"]
