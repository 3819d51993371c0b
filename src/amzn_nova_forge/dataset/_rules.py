"""Shared pieces of the record validators: context, feature bits, reserved words, limits.

A record validator is ``check(record, ctx) -> feature_mask``. It appends
``(json_path, message)`` to ``ctx.errs`` for every problem it finds in the record (never
stopping at the first) and ``(key, json_path, message)`` to ``ctx.warns`` for advice, and
returns a bit mask of the optional features the record uses; the driver
(:mod:`._validate`) turns masks into the dataset-level consistency rules.

Paths are JSONPath-like: ``$.messages[1].content[0].text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from amzn_nova_forge.core.enums import Model, Platform, Version

__all__ = ["ACCOUNT_RE", "S3_URI_RE", "Ctx", "Rules", "TemplatedConverse", "reserved_word"]

# Feature bits (consistency rules: if one record has it, every record must)
SYSTEM = 1
IMAGE = 2
VIDEO = 4
DOCUMENT = 8
REASONING = 16
TOOL_USE = 32
TOOL_RESULT = 64
ID = 128
REFERENCE = 256
TOOLS = 512
IMAGES = 1024
ANSWER = 2048
TASK = 4096
INFO = 8192

#: Reserved words. Union of the Nova docs (``User:``, ``Bot:``, ``Assistant:``, ``System:``,
#: ``<image>``, ``<video>``, ``[EOS]``) and the AWS sample validator (adds ``Thought:`` and
#: ``<unk>``). Matched case-insensitively, as the AWS validator does: the docs say a prompt
#: containing them "anywhere" fails the job, and the 1.4.10 SDK's case-sensitive list
#: (``User:``/``USER:`` only) lets ``user:`` through. A false alarm costs an edit; a miss
#: costs a failed GPU job.
_COLON_WORDS = ("user:", "bot:", "assistant:", "system:", "thought:")
_ANGLE_WORDS = ("<image>", "<video>", "<unk>")

#: S3 URI character rule (Nova docs: letters, digits, ``_ - / .``).
S3_URI_RE = re.compile(r"^s3://[\w\-/.]+$", re.ASCII)
ACCOUNT_RE = re.compile(r"^\d{12}$")
#: A base64 image data URI. The ``base64`` token is case-insensitive (RFC 2397 media-type
#: parameters; AWS's own mm_llm_judge example writes ``data:image/jpeg;Base64,``).
DATA_IMAGE_RE = re.compile(r"^data:image/[A-Za-z0-9.+-]+;(?i:base64),")


def reserved_word(text: str) -> str | None:
    """Return the reserved word ``text`` contains (lower-cased), or ``None``.

    Cheap on clean text: each family is only searched when its trigger character occurs.
    """
    low = None
    if ":" in text:
        low = text.lower()
        for w in _COLON_WORDS:
            if w in low:
                return w
    if "<" in text:
        low = low or text.lower()
        for w in _ANGLE_WORDS:
            if w in low:
                return w
    if "[" in text:
        low = low or text.lower()
        if "[eos]" in low:
            return "[eos]"
    return None


def reserved_msg(word: str) -> str:
    return (
        f"contains the reserved word {word!r} (case-insensitive), which makes Nova training fail; "
        "rephrase it (reserved: User:, Bot:, Assistant:, System:, Thought:, <image>, <video>, <unk>, [EOS])"
    )


@dataclass(slots=True)
class Rules:
    """What a (method, model, platform) allows. Built once per validation run."""

    model: Model
    platform: Platform | None = None
    dpo: bool = False
    v2: bool = False
    media: bool = True
    documents: bool = False
    reasoning: bool = False
    tools: bool = False
    image_formats: frozenset[str] = frozenset()
    video_formats: frozenset[str] = frozenset()
    single_turn: bool = False
    eval_task: Any = None

    @classmethod
    def for_converse(cls, model: Model, platform: Platform | None, *, dpo: bool = False) -> Rules:
        """Media formats per model and platform.

        Nova 1: PNG/JPEG/GIF/WebP images, MOV/MKV/MP4/WebM video (N1-MM). Nova 2 Lite: the
        newer Nova 2 user guide adds WebP/WebM and tool calling; the Bedrock page (and the
        AWS sample validator) allow only PNG/JPEG/GIF and MOV/MKV/MP4 and no tools. We use
        the Bedrock set when ``platform`` is BEDROCK and the Nova 2 user guide otherwise.
        """
        v2 = model.version is Version.TWO
        bedrock = platform is Platform.BEDROCK
        images = {"png", "jpeg", "gif", "webp"}
        videos = {"mov", "mkv", "mp4", "webm"}
        if v2 and bedrock:
            images.discard("webp")
            videos.discard("webm")
        return cls(
            model=model,
            platform=platform,
            dpo=dpo,
            v2=v2,
            media=model is not Model.NOVA_MICRO,
            documents=v2,
            reasoning=v2,
            tools=v2 and not bedrock,
            image_formats=frozenset(images),
            video_formats=frozenset(videos),
        )


@dataclass(slots=True)
class Ctx:
    """Per-run scratch space shared by the driver and a record validator."""

    rules: Rules
    errs: list[tuple[str, str]] = field(default_factory=list)
    warns: list[tuple[str, str, str]] = field(default_factory=list)
    shape: str | None = None  # RFT multiturn: which of the two record shapes the dataset uses
    #: ``(kind, format, uri, json path)`` of media blocks, collected only for ``check_media``
    media: list[tuple[str, str, str, str]] | None = None


class TemplatedConverse(dict):  # type: ignore[type-arg]
    """A Converse record built by the generic SFT transform from known values.

    It is an ordinary ``dict`` (JSON-serialised as one) that also remembers the values it
    was built from: ``fields = (question, answer, system, reasoning, media_kind, media)``.
    Its structure is correct by construction (schemaVersion, one user turn with optional
    media then the question, one assistant turn with optional reasoning then the answer),
    so the validator checks only those values (see
    :func:`._validate_converse.check_templated`), with the same messages and paths as the
    full walk; a test keeps the two in step.
    """

    __slots__ = ("fields",)

    fields: tuple[Any, ...]
