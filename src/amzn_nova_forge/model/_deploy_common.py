"""What every deployment backend shares: the run context, waiting with progress, errors.

A :class:`DeployContext` carries the settings of one ``deploy`` call (region, name,
mode, timeout, poll interval, an injectable ``sleep``/``clock`` for tests) and the
list of resources created so far, each recorded the moment it exists together with a
function that deletes it. A failure at any step raises a
:class:`~amzn_nova_forge.errors.DeploymentError` naming everything left behind; with
``rollback=True`` the resources this call created are deleted first (newest first) and
the error names only what could not be deleted.

:meth:`DeployContext.create` is how every create call is made: when the call fails, the
resource is looked up by its deterministic name, and if it exists (the request succeeded
but its response was lost) it is recorded and the deployment goes on.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from amzn_nova_forge._config import progress_disabled
from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform, Model, TrainingMethod
from amzn_nova_forge.errors import AWSServiceError, DeploymentError

__all__ = ["DEFAULT_POLL_INTERVAL_S", "DEFAULT_TIMEOUT_S", "DeployContext", "progress"]

logger = logging.getLogger(__name__)

#: Whole-deployment timeout (Bedrock imports and endpoints take 15–60 minutes).
DEFAULT_TIMEOUT_S = 3 * 3600.0
DEFAULT_POLL_INTERVAL_S = 30.0
#: How long to retry a call that fails because a just-created IAM role has not propagated yet.
ROLE_PROPAGATION_S = 60.0


class _Progress:
    """An indeterminate progress line (elapsed time + status); a no-op when bars are disabled."""

    def __init__(self, desc: str) -> None:
        self._bar: Any = None
        if progress_disabled():
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a base dependency
            return
        self._bar = tqdm(total=None, desc=desc, bar_format="{desc}: {elapsed}{postfix}", file=sys.stderr, leave=True)

    def status(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(text)
            self._bar.update(0)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@contextmanager
def progress(desc: str) -> Iterator[_Progress]:
    """Show a progress line for a wait (honours ``NOVA_FORGE_DISABLE_PROGRESS_BARS``)."""
    bar = _Progress(desc)
    try:
        yield bar
    finally:
        bar.close()


@dataclass
class DeployContext:
    """Settings and bookkeeping of one deployment.

    Attributes:
        created: ``"<kind> <id>"`` for every resource created so far (reported on failure).
    """

    platform: DeployPlatform
    region: str | None
    endpoint_name: str
    artifact: str
    model: Model | None = None
    method: TrainingMethod | None = None
    mode: DeploymentMode = DeploymentMode.FAIL_IF_EXISTS
    unit_count: int | None = None
    role_name: str | None = None
    wait: bool = True
    timeout: float | None = DEFAULT_TIMEOUT_S
    poll_interval: float = DEFAULT_POLL_INTERVAL_S
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    created: list[str] = field(default_factory=list)
    role_created: bool = False
    started: float = 0.0
    rollback: bool = False
    kms_key_id: str | None = None
    role_arn: str | None = None
    rolled_back: bool = False
    escrow_uri: str | None = None
    undo: list[tuple[str, Callable[[], None] | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.started = self.clock()

    # ---- bookkeeping ------------------------------------------------------------------------
    def record(self, what: str, undo: Callable[[], None] | None = None) -> None:
        """Remember a resource this deployment created, and how to delete it."""
        self.created.append(what)
        self.undo.append((what, undo))
        logger.info("Created %s", what)

    def error(self, message: str) -> DeploymentError:
        """A DeploymentError naming what was created and left in place (rolled back first if asked)."""
        if self.rollback and self.undo and not self.rolled_back:
            message += self.roll_back()
        return DeploymentError(message, created=self.created)

    def roll_back(self) -> str:
        """Delete what this deployment created, newest first; return a sentence saying what happened."""
        self.rolled_back = True
        removed: list[str] = []
        failed: list[str] = []
        for what, undo in reversed(self.undo):
            if undo is None:
                failed.append(f"{what} (cannot be deleted by the SDK)")
                continue
            try:
                undo()
            except Exception as e:
                logger.warning("Rollback: deleting %s failed: %s", what, e)
                failed.append(f"{what} ({e})")
                continue
            removed.append(what)
            self.created.remove(what)
        self.undo = [(w, u) for w, u in self.undo if w in self.created]
        text = f" Rolled back: {', '.join(removed)}." if removed else ""
        if failed:
            text += f" Could not roll back: {'; '.join(failed)}."
        return text

    def create(
        self,
        client: Any,
        operation: str,
        *,
        what: Callable[[Any], str],
        probe: Callable[[], Any],
        undo: Callable[[Any], Callable[[], None]],
        hint: str = "",
        **kwargs: Any,
    ) -> Any:
        """Call a create ``operation``; record the resource the moment it exists.

        Args:
            what: Description of the resource from the response (``"SageMaker model m"``).
            probe: Looks the resource up by its deterministic name; returns a response-like
                value when it exists, ``None`` when not. Used when the call fails.
            undo: Given the response, returns the function that deletes the resource.

        Raises:
            AWSServiceError: The call failed and the resource does not exist.
        """
        try:
            response = self.call(client, operation, hint=hint, **kwargs)
        except AWSServiceError as e:
            try:
                response = probe()
            except AWSServiceError:
                response = None
            if response is None:
                raise
            logger.warning("%s failed (%s) but the resource exists: its response was lost. Going on.", operation, e)
        self.record(what(response), undo(response))
        return response

    @property
    def deadline(self) -> float | None:
        return None if self.timeout is None else self.started + self.timeout

    # ---- AWS calls --------------------------------------------------------------------------
    def call(self, client: Any, operation: str, *, hint: str = "", **kwargs: Any) -> Any:
        """Call ``client.<operation>(**kwargs)``; botocore errors become :class:`AWSServiceError`.

        While a role created by this deployment may still be propagating through IAM, a
        ``ValidationException``/``AccessDenied`` that mentions the role is retried for up
        to :data:`ROLE_PROPAGATION_S` seconds.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        service = client.meta.service_model.service_name
        waited = 0.0
        while True:
            try:
                return getattr(client, operation)(**kwargs)
            except ClientError as e:
                err = e.response.get("Error", {})
                text = f"{err.get('Code', '')} {err.get('Message', '')}".lower()
                propagating = self.role_created and "role" in text and waited < ROLE_PROPAGATION_S
                if propagating and ("validation" in text or "accessdenied" in text or "assume" in text):
                    logger.info("IAM role not usable yet (%s); retrying in 10s", err.get("Message"))
                    self.sleep(10.0)
                    waited += 10.0
                    continue
                raise AWSServiceError.from_client_error(e, service=service, hint=hint) from e
            except BotoCoreError as e:
                raise AWSServiceError(f"{service} {operation} failed: {e}", service=service, operation=operation) from e

    # ---- waiting ----------------------------------------------------------------------------
    def wait_until(
        self,
        what: str,
        poll: Callable[[], tuple[str, str | None]],
        *,
        ready: Collection[str],
        failed: Collection[str],
    ) -> str:
        """Poll ``poll() -> (status, message)`` until a ``ready`` status; return it.

        Raises:
            DeploymentError: A ``failed`` status (with the platform's reason), or the
                deployment's timeout passed first.
        """
        with progress(f"Waiting for {what}") as bar:
            while True:
                status, message = poll()
                bar.status(status)
                logger.debug("%s: %s", what, status)
                if status in ready:
                    return status
                if status in failed:
                    raise self.error(f"{what} is {status}: {message or 'no reason given by the service'}.")
                deadline = self.deadline
                if deadline is not None and self.clock() >= deadline:
                    raise self.error(
                        f"Timed out after {self.timeout:.0f}s waiting for {what} (still {status}). "
                        "It may still finish: check it in the console, or deploy again with a longer timeout."
                    )
                self.sleep(self.poll_interval)
