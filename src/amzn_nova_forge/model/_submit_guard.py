"""Clean failure for the submission pipeline: temporary recipe folders and uploaded inputs.

``submit`` (``model/_submit.py``) calls two functions from here:

* :func:`recipe_dir` gives the folder the recipe YAML is written to. Without
  ``generated_recipe_dir`` it is a fresh ``nova-forge-recipe-*`` temporary folder that is removed
  once the runtime has taken the recipe (after ``execute``), or at interpreter exit when the
  submission stopped earlier (a failed check, a cached job). A dry run keeps it and logs where
  it is (that recipe is what the user asked to see); so does the local runtime, whose worker
  reads the recipe after ``execute`` returns.
* :func:`execute` runs ``infra.execute(job_config)``. When that fails, the objects the runtime
  uploaded for this job (everything under ``<output>/<job name>/input/``: the unique job name
  makes that prefix this submission's own) are deleted; what cannot be deleted is named in the
  error and logged.

Example:
    >>> folder = recipe_dir(customizer, dry_run=False)  # doctest: +SKIP
    >>> job_id = execute(customizer, job_config, folder)  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import threading
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import JobConfig

__all__ = ["discard_pending", "execute", "recipe_dir", "uploaded_inputs"]

logger = logging.getLogger(__name__)

TEMP_PREFIX = "nova-forge-recipe-"
_pending: set[str] = set()
_lock = threading.Lock()


def discard_pending() -> None:
    """Remove every temporary recipe folder not yet handed to a runtime (run at interpreter exit)."""
    with _lock:
        paths = list(_pending)
        _pending.clear()
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(discard_pending)


def _reads_recipe_after_execute(customizer: Any) -> bool:
    """True when the customizer's runtime reads the recipe folder while the job runs (keep it)."""
    from amzn_nova_forge.manager._registry import capabilities_of

    platform = getattr(customizer, "platform", None)
    return platform is not None and capabilities_of(platform).reads_recipe_after_execute


def recipe_dir(customizer: Any, *, dry_run: bool) -> str:
    """The folder to write the recipe into (see the module docstring for its lifetime)."""
    chosen = getattr(customizer, "generated_recipe_dir", None)
    if chosen:
        return str(chosen)
    path = tempfile.mkdtemp(prefix=TEMP_PREFIX)
    if dry_run:
        logger.warning("Dry run: the recipe is kept in %s (pass generated_recipe_dir to choose the folder).", path)
    elif _reads_recipe_after_execute(customizer):
        logger.info("Recipe folder %s is kept: the local job reads it while it runs.", path)
    else:
        with _lock:
            _pending.add(path)
    return path


def _release(path: str) -> None:
    with _lock:
        owned = path in _pending
        _pending.discard(path)
    if owned:
        shutil.rmtree(path, ignore_errors=True)


def uploaded_inputs(job_config: JobConfig) -> str | None:
    """The S3 prefix the runtime uploads this job's inputs under, or None for a non-S3 output."""
    from amzn_nova_forge.core import storage

    output = job_config.output_s3_path
    if not output or not storage.is_s3(output) or not job_config.job_name:
        return None
    return storage.join(output, job_config.job_name, "input") + "/"


def _remove_uploads(job_config: JobConfig) -> list[str]:
    """Delete what was uploaded for this job; return the URIs that are still there."""
    from amzn_nova_forge.core import storage

    prefix = uploaded_inputs(job_config)
    if prefix is None:
        return []
    left: list[str] = []
    try:
        uris = list(storage.list_uris(prefix))
    except Exception as e:  # the bucket may be what failed; nothing more to do
        logger.debug("Cannot list %s after a failed submission: %s", prefix, e)
        return []
    for uri in uris:
        try:
            storage.delete(uri)
            logger.info("Removed %s (uploaded for a submission that failed).", uri)
        except Exception as e:
            logger.warning("Could not remove %s after the submission failed: %s", uri, e)
            left.append(uri)
    return left


def execute(customizer: Any, job_config: JobConfig, recipe_folder: str) -> str:
    """``customizer.infra.execute(job_config)`` with the clean-up described in the module docstring.

    Raises:
        ConfigError: ``execute`` met a missing bucket or object (builtin ``FileNotFoundError``).
        Whatever else ``execute`` raised; a note on it (and the log) names uploads that could not be removed.
    """
    try:
        job_id: str = customizer.infra.execute(job_config)
    except FileNotFoundError as e:  # a missing bucket or object the checks (when on) would have caught
        _remove_uploads(job_config)
        raise ConfigError(
            f"Job {job_config.job_name} was not started: {e} Create it, or pass an output_s3_path in a bucket "
            "you own; validation_config={'infra': True} checks locations before submitting."
        ) from e
    except BaseException as e:
        left = _remove_uploads(job_config)
        if left:
            note = "Uploaded for this submission and left in place (delete them): " + ", ".join(left)
            e.add_note(note)
            if e.args and isinstance(e.args[0], str):
                e.args = (f"{e.args[0]} {note}.", *e.args[1:])
        raise
    finally:
        _release(recipe_folder)
    return job_id
