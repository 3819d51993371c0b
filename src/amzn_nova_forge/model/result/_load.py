"""Read a saved job result file defensively: every way it can be malformed is one typed error.

``BaseJobResult.load`` calls :func:`load_result`. A result file is written by ``result.dump()``,
but what is read back may have been edited, truncated, copied from another tool, or not be a
result at all. Whatever goes wrong (missing key, wrong type, bad date, invalid UTF-8, too deep,
a folder instead of a file) becomes a :class:`~amzn_nova_forge.errors.ConfigError` naming the
file and saying what to do; only a missing file stays ``FileNotFoundError``.

Example:
    >>> from amzn_nova_forge.model.result._base import BaseJobResult
    >>> load_result(BaseJobResult, "my-job_SMTJ.json")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.model.result._base import BaseJobResult

__all__ = ["MAX_RESULT_BYTES", "load_result"]

#: A saved result is a few KiB; anything past this is not one.
MAX_RESULT_BYTES = 16 << 20
_WHAT_TO_DO = "load a file written by result.dump() (or 'nova-forge train'), or save the result again"


def _bad(path: str, why: str, detail: str = "") -> ConfigError:
    more = f": {detail}" if detail else ""
    return ConfigError(f"{path} is not a saved job result ({why}){more}. To fix: {_WHAT_TO_DO}.")


def _read(path: str) -> str:
    from amzn_nova_forge.core import storage

    try:
        if not storage.is_s3(path):
            import os

            if os.path.isdir(path):
                raise _bad(path, "it is a folder")
            if os.path.exists(path) and os.path.getsize(path) > MAX_RESULT_BYTES:
                raise _bad(path, f"it is over {MAX_RESULT_BYTES} bytes")
        data = storage.read_bytes(path)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"No saved job result at {path!r}: result.dump() writes <job_id>_<PLATFORM>.json "
            "into the current folder (or into its file_path)."
        ) from None
    except (IsADirectoryError, NotADirectoryError):
        raise _bad(path, "it is a folder") from None
    except PermissionError:
        raise ConfigError(f"{path} cannot be read (permission denied); check the file's permissions.") from None
    if len(data) > MAX_RESULT_BYTES:
        raise _bad(path, f"it is over {MAX_RESULT_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _bad(path, f"it is not UTF-8 text (invalid byte at offset {e.start})") from None


def _parse(path: str, text: str) -> dict[str, Any]:
    if not text.strip():
        raise _bad(path, "it is empty")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise _bad(path, f"invalid JSON at line {e.lineno}", f"{e.msg} at column {e.colno}") from None
    except RecursionError:
        raise _bad(path, "its JSON is nested too deeply") from None
    except ValueError as e:  # parse_constant refused NaN / Infinity
        raise _bad(path, str(e)) from None
    if not isinstance(data, dict):
        raise _bad(path, f"no 'job_id': it holds a JSON {type(data).__name__}, not an object")
    if "job_id" not in data:
        raise _bad(path, "no 'job_id'")
    if not isinstance(data["job_id"], str) or not data["job_id"].strip():
        raise _bad(path, f"'job_id' must be a non-empty string, got {data['job_id']!r}")
    for key in _STRING_FIELDS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise _bad(path, f"{key!r} must be a string, got {type(value).__name__}")
    extras = data.get("extras")
    if extras is not None and not isinstance(extras, dict):
        raise _bad(path, f"'extras' must be an object, got {type(extras).__name__}")
    return data


#: Fields every result class stores as a string (or null); anything else is a damaged file.
_STRING_FIELDS = (
    "__class_name__",
    "platform",
    "region",
    "started_time",
    "method",
    "model_type",
    "eval_task",
    "eval_output_path",
    "inference_output_path",
    "cluster_name",
    "namespace",
)


def _no_constant(name: str) -> Any:
    raise ValueError(f"it contains {name}, which is not a JSON number")


def load_result(cls: type[BaseJobResult], path: str) -> BaseJobResult:
    """Load the result saved at ``path`` as (a subclass of) ``cls``.

    Raises:
        FileNotFoundError: Nothing at ``path``.
        ConfigError: Anything else: a folder, unreadable, too large, not UTF-8, not JSON, not an
            object, a missing or mistyped field, an unknown result class, a bad platform or date.
    """
    path = str(path)
    data = _parse(path, _read(path))
    try:
        return cls.from_dict(data)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from e
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError, OverflowError) as e:
        detail = f"missing field {e}" if isinstance(e, KeyError) else f"{type(e).__name__}: {e}"
        raise _bad(path, detail) from e
