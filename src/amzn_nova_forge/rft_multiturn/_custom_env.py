"""``CustomEnvironment``: scaffold, check and ship your own RFT multiturn reward environment.

A custom environment is a folder ``<output_dir>/<env_id>/`` holding ``<env_module>.py``
(``env_id`` with ``-`` as ``_``) that defines ``load_environment(**vf_env_args)``, returning an
object with ``rollout(sample, generate) -> {"reward", "messages", "metrics"}`` (see
:mod:`amzn_nova_forge.rft_multiturn.envs`), plus ``requirements.txt``, ``samples.jsonl``
(used by :meth:`CustomEnvironment.validate`) and a README.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import tarfile
from pathlib import Path
from typing import Any

from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.errors import ConfigError

__all__ = ["ENV_TYPES", "CustomEnvironment"]

logger = logging.getLogger(__name__)

ENV_TYPES = ("single_turn", "multi_turn")
#: Key prefix of uploaded environments (the RFT role reads ``<bucket>/<prefix>/*``).
DEFAULT_S3_PREFIX = "nova-rft-custom-envs"
_ENV_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")

_SINGLE_TURN = '''"""Custom RFT environment {env_id!r} (single turn): one answer per prompt, scored by reward()."""

from __future__ import annotations

from typing import Any, Callable

SYSTEM_PROMPT = "Answer the question. Put the final answer inside <answer>...</answer>."


def reward(completion: str, sample: dict[str, Any]) -> float:
    """1.0 when the text inside <answer>...</answer> equals the sample's answer, else 0.0. Edit me."""
    expected = str(sample.get("answer", "")).strip().lower()
    got = completion.rsplit("<answer>", 1)[-1].split("</answer>", 1)[0].strip().lower()
    return 1.0 if expected and got == expected else 0.0


class Environment:
    def __init__(self, system_prompt: str = SYSTEM_PROMPT, **kwargs: Any) -> None:
        self.system_prompt = system_prompt

    def rollout(self, sample: dict[str, Any], generate: Callable[[list[dict[str, str]]], str]) -> dict[str, Any]:
        messages = [
            {{"role": "system", "content": self.system_prompt}},
            {{"role": "user", "content": str(sample.get("prompt", ""))}},
        ]
        completion = generate(messages)
        messages.append({{"role": "assistant", "content": completion}})
        score = reward(completion, sample)
        return {{"reward": score, "messages": messages, "metrics": {{"correct": score}}}}


def load_environment(**kwargs: Any) -> Environment:
    return Environment(**kwargs)
'''

_MULTI_TURN = '''"""Custom RFT environment {env_id!r} (multi turn): the environment answers each policy turn."""

from __future__ import annotations

from typing import Any, Callable

SYSTEM_PROMPT = "Find the secret number between 1 and 100. Reply with one number per turn."


def env_response(guess_text: str, sample: dict[str, Any]) -> tuple[str, bool]:
    """The environment's reply to one policy turn and whether the episode is over. Edit me."""
    secret = int(sample.get("answer", 0))
    digits = "".join(ch for ch in guess_text if ch.isdigit())
    if not digits:
        return "Please reply with a number.", False
    guess = int(digits[:6])
    if guess == secret:
        return "Correct!", True
    return ("Higher." if guess < secret else "Lower."), False


class Environment:
    def __init__(self, max_turns: int = 8, system_prompt: str = SYSTEM_PROMPT, **kwargs: Any) -> None:
        self.max_turns = int(max_turns)
        self.system_prompt = system_prompt

    def rollout(self, sample: dict[str, Any], generate: Callable[[list[dict[str, str]]], str]) -> dict[str, Any]:
        messages = [
            {{"role": "system", "content": self.system_prompt}},
            {{"role": "user", "content": str(sample.get("prompt", "Start guessing."))}},
        ]
        for turn in range(1, self.max_turns + 1):
            reply = generate(messages)
            messages.append({{"role": "assistant", "content": reply}})
            feedback, done = env_response(reply, sample)
            messages.append({{"role": "user", "content": feedback}})
            if done:
                return {{"reward": 1.0 - (turn - 1) / self.max_turns, "messages": messages,
                        "metrics": {{"solved": 1.0, "turns": turn}}}}
        return {{"reward": 0.0, "messages": messages, "metrics": {{"solved": 0.0, "turns": self.max_turns}}}}


def load_environment(**kwargs: Any) -> Environment:
    return Environment(**kwargs)
'''

_SAMPLES: dict[str, list[dict[str, Any]]] = {
    "single_turn": [{"prompt": "What is 2 + 3?", "answer": "5"}, {"prompt": "Capital of France?", "answer": "paris"}],
    "multi_turn": [{"prompt": "Guess my number.", "answer": 42}, {"prompt": "Guess my number.", "answer": 7}],
}


class CustomEnvironment:
    """A user-defined reward environment for RFT multiturn training.

    Args:
        env_id: Environment id (letters, digits, ``-``, ``_``; a letter first).
        local_path: Folder of an existing environment (default ``<output_dir>/<env_id>``).
        output_dir: Where :meth:`create` writes the environment.
        env_type: ``"single_turn"`` or ``"multi_turn"`` (the scaffold created).
        s3_uri: Where the packaged environment is (set by :meth:`package_and_upload`).

    Example:
        >>> custom_env = CustomEnvironment(
        ...     env_id="my-custom-env", output_dir="~/custom_envs/", env_type="single_turn"
        ... ).create(overwrite=True)  # doctest: +SKIP
        >>> custom_env.validate()  # doctest: +SKIP
        True
        >>> custom_env.package_and_upload(s3_bucket="my-bucket", s3_prefix="custom-environments")  # doctest: +SKIP
        's3://my-bucket/custom-environments/my-custom-env/my-custom-env.tar.gz'
    """

    def __init__(
        self,
        env_id: str,
        local_path: str | None = None,
        output_dir: str = "~/custom_envs",
        env_type: str = "single_turn",
        s3_uri: str | None = None,
    ) -> None:
        if not isinstance(env_id, str) or not _ENV_ID.match(env_id):
            raise ConfigError(f"env_id must start with a letter and use letters, digits, '-' or '_': {env_id!r}.")
        if env_type not in ENV_TYPES:
            raise ConfigError(f"env_type must be one of {ENV_TYPES}, got {env_type!r}.")
        self.env_id = env_id
        self.output_dir = output_dir
        self.env_type = env_type
        self.local_path = str(Path(local_path).expanduser()) if local_path else None
        self.s3_uri = s3_uri

    @property
    def module_name(self) -> str:
        return self.env_id.replace("-", "_")

    @property
    def path(self) -> Path:
        return Path(self.local_path) if self.local_path else Path(self.output_dir).expanduser() / self.env_id

    def create(self, overwrite: bool = False) -> CustomEnvironment:
        """Write the environment scaffold; returns ``self`` (so calls chain).

        Raises:
            ConfigError: The folder exists and ``overwrite`` is False.
        """
        target = Path(self.output_dir).expanduser() / self.env_id
        if target.exists():
            if not overwrite:
                raise ConfigError(f"{target} already exists; pass overwrite=True to replace it.")
            shutil.rmtree(target)
        target.mkdir(parents=True)
        code = (_SINGLE_TURN if self.env_type == "single_turn" else _MULTI_TURN).format(env_id=self.env_id)
        (target / f"{self.module_name}.py").write_text(code)
        (target / "requirements.txt").write_text("# Extra packages your environment needs, one per line.\n")
        (target / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in _SAMPLES[self.env_type]))
        (target / "README.md").write_text(
            f"# {self.env_id}\n\nA {self.env_type.replace('_', '-')} RFT environment for the Amazon Nova Forge SDK.\n"
            f"Edit `{self.module_name}.py`; `load_environment(**vf_env_args)` must return an object with\n"
            "`rollout(sample, generate)` returning `{'reward', 'messages', 'metrics'}`.\n"
        )
        self.local_path = str(target)
        logger.info("Created %s environment at %s", self.env_type, target)
        return self

    def load(self) -> CustomEnvironment:
        """Use the existing environment at ``local_path``; returns ``self`` (so calls chain).

        ``local_path`` may be the environment's folder or the folder holding it (``<local_path>/<env_id>``).

        Raises:
            ConfigError: No ``local_path``, or no ``<env_module>.py`` in either folder.

        Example:
            >>> env = CustomEnvironment(env_id="my-custom-env", local_path="~/custom_envs/my-custom-env").load()  # doctest: +SKIP
        """
        if not self.local_path:
            raise ConfigError("load() needs local_path= (the environment's folder, or the folder holding it).")
        given = Path(self.local_path).expanduser()
        for folder in (given, given / self.env_id):
            if (folder / f"{self.module_name}.py").is_file():
                self.local_path = str(folder)
                logger.info("Loaded custom environment %s from %s", self.env_id, folder)
                return self
        raise ConfigError(
            f"No environment {self.env_id!r} at {given}: expected {self.module_name}.py there or in "
            f"{given / self.env_id}. Pass the environment's folder as local_path, or call create()."
        )

    def validate(self, **vf_env_args: Any) -> bool:
        """Load the environment and run one rollout per sample in ``samples.jsonl`` with a stub policy.

        Returns:
            True (every problem raises).

        Raises:
            ConfigError: The folder, module or ``load_environment`` is missing, or a rollout does
                not return a numeric ``reward``.
        """
        from amzn_nova_forge.rft_multiturn import envs

        folder = self.path
        if not folder.is_dir():
            raise ConfigError(f"Environment folder {folder} does not exist; call create() or pass local_path.")
        try:
            env = envs.load_from_path(folder, self.env_id, **vf_env_args)
        except (FileNotFoundError, TypeError, SyntaxError, ImportError) as e:
            raise ConfigError(f"Environment {self.env_id!r} at {folder} is invalid: {e}") from e
        samples_file = folder / "samples.jsonl"
        samples = (
            [json.loads(ln) for ln in samples_file.read_text().splitlines() if ln.strip()]
            if samples_file.exists()
            else []
        )
        for i, sample in enumerate(samples[:5], 1):
            try:
                out = env.rollout(sample, lambda messages: "<answer>stub</answer> 1")
            except Exception as e:
                raise ConfigError(f"samples.jsonl line {i}: rollout raised {type(e).__name__}: {e}") from e
            if not isinstance(out, dict) or not isinstance(out.get("reward"), (int, float)):
                raise ConfigError(
                    f"samples.jsonl line {i}: rollout must return a dict with a numeric 'reward', got {out!r}."
                )
        logger.info("Environment %s at %s is valid (%d sample rollouts)", self.env_id, folder, min(5, len(samples)))
        return True

    def _archive(self) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for f in sorted(self.path.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts and not f.name.endswith(".pyc"):
                    tar.add(f, arcname=str(f.relative_to(self.path)))
        return buf.getvalue()

    def package_and_upload(
        self,
        s3_bucket: str | None = None,
        s3_prefix: str = DEFAULT_S3_PREFIX,
        region: str | None = None,
        *,
        bucket: str | None = None,
    ) -> str:
        """Package the folder as ``.tar.gz`` and upload it; returns and sets :attr:`s3_uri`.

        The object is ``s3://<s3_bucket>/<s3_prefix>/<env_id>/<env_id>.tar.gz``.

        Args:
            s3_bucket: Bucket name (default ``sagemaker-<region>-<account>``, created if missing).
            s3_prefix: Key prefix (default ``nova-rft-custom-envs``).
            region: Region of the default bucket.
            bucket: Earlier name of ``s3_bucket``.

        Raises:
            ConfigError: No environment folder, ``s3_bucket`` given as an ``s3://`` URI, or a bad prefix.
        """
        if s3_bucket is not None and bucket is not None and s3_bucket != bucket:
            raise ConfigError(f"Pass s3_bucket ({s3_bucket!r}) or bucket ({bucket!r}), not both.")
        bucket = s3_bucket or bucket
        if bucket is not None and (bucket.startswith("s3://") or "/" in bucket):
            raise ConfigError(f"s3_bucket must be a bucket name only (use s3_prefix for the path), got {bucket!r}.")
        prefix = (s3_prefix or "").strip("/")
        if ".." in prefix.split("/") or "*" in prefix:
            raise ConfigError(f"s3_prefix must be a plain key prefix, got {s3_prefix!r}.")
        if not self.path.is_dir():
            raise ConfigError(f"Environment folder {self.path} does not exist; call create() first.")
        region = resolve_region(region)
        s3 = client("s3", region)
        if bucket is None:
            from amzn_nova_forge.rft_multiturn._package import default_bucket

            bucket = default_bucket(region)
        key = "/".join(p for p in (prefix, self.env_id, f"{self.env_id}.tar.gz") if p)
        with aws_errors("s3"):
            s3.put_object(Bucket=bucket, Key=key, Body=self._archive())
        self.s3_uri = f"s3://{bucket}/{key}"
        logger.info("Uploaded %s to %s", self.env_id, self.s3_uri)
        return self.s3_uri

    def to_dict(self) -> dict[str, Any]:
        return {
            "env_id": self.env_id,
            "local_path": self.local_path,
            "s3_uri": self.s3_uri,
            "output_dir": self.output_dir,
            "env_type": self.env_type,
        }

    def __repr__(self) -> str:
        return f"CustomEnvironment(env_id={self.env_id!r}, env_type={self.env_type!r}, path={str(self.path)!r})"
