"""An OpenAI-compatible server for a local model (Starlette on uvicorn, in its own process).

``python -m amzn_nova_forge.manager._local._serve --model DIR [--port 0] [--ready-file F] [--device auto]``

Routes: ``POST /v1/chat/completions`` and ``POST /v1/completions`` (JSON or SSE with
``stream: true``), ``GET /v1/models``, ``GET /health`` (no token), ``POST /invocations``
(SageMaker-style alias of chat) and ``POST /admin/shutdown`` (used by ``stop_deployment``).

Security: binds 127.0.0.1 only; every route but ``/health`` needs
``Authorization: Bearer <token>`` (the token comes from ``$NOVA_FORGE_SERVE_TOKEN``, never
argv); the ``Host`` header must name this server (DNS-rebinding defence); a request with an
``Origin`` from anywhere else is refused; POST bodies must be ``application/json`` (so a
cross-site ``text/plain`` form cannot reach the model) with a valid ``Content-Length`` of at
most ``--max-body-bytes``. Generation runs on a bounded thread pool; requests beyond
``--max-pending`` get 503.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import socket
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amzn_nova_forge.manager._local._serve_protocol import (
    APIError,
    Choice,
    GenRequest,
    Kind,
    completion_chunk,
    completion_response,
    new_id,
    parse_request,
    sse,
    usage,
)

__all__ = ["TOKEN_ENV", "Guard", "ServerSettings", "build_app", "main"]

#: Environment variable holding the bearer token the server requires.
TOKEN_ENV = "NOVA_FORGE_SERVE_TOKEN"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class ServerSettings:
    """Limits and identity of one server."""

    token: str
    port: int
    model_name: str
    max_body_bytes: int = 1 << 20
    max_tokens_limit: int = 2048
    max_concurrent: int = 4
    max_pending: int = 32
    extra_origins: tuple[str, ...] = ()

    def hosts(self) -> set[str]:
        """Accepted ``Host`` header values."""
        return {f"{h}:{self.port}" for h in ("127.0.0.1", "localhost", "[::1]")}

    def origins(self) -> set[str]:
        """Accepted ``Origin`` header values (this server's own, plus ``extra_origins``)."""
        return {f"http://{h}" for h in self.hosts()} | set(self.extra_origins)


async def _reply(send: Send, status: int, body: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": data})


class Guard:
    """ASGI middleware: Host, Origin, bearer token, JSON content type and body size, checked first.

    Nothing of the body is read before the headers pass; the body is read through a
    counting ``receive`` that refuses more than ``max_body_bytes`` even without a
    ``Content-Length`` (chunked uploads).
    """

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings
        self._hosts = settings.hosts()
        self._origins = settings.origins()
        self._auth = f"Bearer {settings.token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._check(scope)
        if problem is not None:
            status, message, extra = problem
            await _reply(send, status, APIError(message, status=status).body(), extra)
            return
        limit = self.settings.max_body_bytes
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise APIError(f"The request body exceeds {limit} bytes.", status=413)
            return message

        await self.app(scope, bounded, send)

    def _check(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        headers: dict[bytes, list[bytes]] = {}
        for k, v in scope["headers"]:
            headers.setdefault(k.lower(), []).append(v)

        def one(name: bytes) -> str | None:
            values = headers.get(name)
            return values[0].decode("latin-1").strip() if values else None

        if one(b"host") not in self._hosts:
            return 400, "Invalid Host header: this server answers only to 127.0.0.1/localhost on its port.", []
        origin = one(b"origin")
        if origin is not None and origin not in self._origins:
            return 403, f"Origin {origin!r} is not allowed to call this server.", []
        path, method = scope["path"].rstrip("/") or "/", scope["method"]
        if path == "/health" and method == "GET":
            return None
        given = (headers.get(b"authorization") or [b""])[0].strip()
        if not secrets.compare_digest(given, self._auth):
            what = "Missing" if not given else "Invalid"
            return (
                401,
                f"{what} bearer token. Send 'Authorization: Bearer <token>' with the token of this deployment "
                "(deployment.endpoint.api_key, or LocalRuntimeManager.deployment_token(url)).",
                [(b"www-authenticate", b"Bearer")],
            )
        if method != "POST":
            return None
        ctype = (one(b"content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return 415, f"Content-Type must be application/json, got {ctype or 'none'!r}.", []
        lengths = headers.get(b"content-length") or []
        if len(lengths) > 1:
            return 400, "More than one Content-Length header.", []
        if lengths:
            raw = lengths[0].decode("latin-1").strip()
            if not raw.isdigit():
                return 400, f"Invalid Content-Length {raw!r}: expected a non-negative integer.", []
            if int(raw) > self.settings.max_body_bytes:
                return 413, f"The request body ({raw} bytes) exceeds {self.settings.max_body_bytes} bytes.", []
        return None


class _Service:
    """Routes of one server: validation, the bounded generation pool, JSON and SSE answers."""

    def __init__(self, engine: Any, settings: ServerSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.pool = ThreadPoolExecutor(max_workers=settings.max_concurrent, thread_name_prefix="generate")
        self.pending = 0
        self.lock = threading.Lock()
        self.server: Any = None  # the uvicorn server, for /admin/shutdown

    def _admit(self, *, count: bool = True) -> None:
        """Refuse (503) when ``max_pending`` requests are in progress; else count this one (``count``)."""
        with self.lock:
            if self.pending >= self.settings.max_pending:
                raise APIError(f"The server is busy ({self.pending} requests in progress); retry shortly.", status=503)
            if count:
                self.pending += 1

    def _leave(self) -> None:
        with self.lock:
            self.pending -= 1

    async def generation(self, request: Any, kind: Kind) -> Any:
        from starlette.responses import JSONResponse, StreamingResponse

        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise APIError(f"The request body is not valid JSON: {e}.") from e
        req = parse_request(body, kind, max_tokens_limit=self.settings.max_tokens_limit)
        if req.model not in (None, self.settings.model_name):
            raise APIError(
                f"The model {req.model!r} does not exist here; this server serves {self.settings.model_name!r}.",
                status=404,
                param="model",
                code="model_not_found",
            )
        loop = asyncio.get_running_loop()
        prompt = await loop.run_in_executor(self.pool, self.engine.prompt_ids, req)
        self.engine.budget(req, len(prompt))  # a prompt that does not fit is a 400 before any stream starts
        rid = new_id(kind)
        if req.stream:  # counted once the stream starts: a client gone before that holds no place
            self._admit(count=False)
            return StreamingResponse(
                self._stream(req, prompt, rid), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
            )
        self._admit()
        try:
            choices = await loop.run_in_executor(self.pool, self.engine.generate, req, prompt)
        finally:
            self._leave()
        return JSONResponse(
            completion_response(req, choices, rid=rid, model=self.settings.model_name, prompt_tokens=len(prompt))
        )

    async def _stream(self, req: GenRequest, prompt: list[int], rid: str) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any, Any]] = asyncio.Queue()
        stop = threading.Event()

        def push(kind: str, a: Any = None, b: Any = None) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, a, b))

        def work() -> None:
            try:
                push(
                    "done",
                    self.engine.generate(req, prompt, on_delta=lambda i, t: push("delta", i, t), cancelled=stop.is_set),
                )
            except BaseException as e:  # reported to the client as an error event
                push("error", e)

        model = self.settings.model_name
        with self.lock:
            self.pending += 1
        future = loop.run_in_executor(self.pool, work)
        try:
            for i in range(req.n):
                yield sse(completion_chunk(req, rid=rid, model=model, index=i, text="", first=True))
            while True:
                kind, a, b = await queue.get()
                if kind == "delta":
                    yield sse(completion_chunk(req, rid=rid, model=model, index=a, text=b))
                elif kind == "error":
                    yield sse(APIError(f"Generation failed: {type(a).__name__}: {a}", status=500).body())
                    break
                else:
                    choices: list[Choice] = a
                    for c in choices:
                        yield sse(
                            completion_chunk(req, rid=rid, model=model, index=c.index, finish_reason=c.finish_reason)
                        )
                    if req.include_usage:
                        done = usage(len(prompt), sum(c.tokens for c in choices))
                        yield sse(completion_chunk(req, rid=rid, model=model, index=None, usage_obj=done))
                    yield sse("[DONE]")
                    break
        finally:
            stop.set()
            self._leave()
            with contextlib.suppress(BaseException):
                await future

    async def models(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        item = {"id": self.settings.model_name, "object": "model", "created": 0, "owned_by": "local"}
        return JSONResponse({"object": "list", "data": [item]})

    async def shutdown(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        if self.server is not None:
            self.server.should_exit = True
        return JSONResponse({"status": "shutting down"})


def build_app(engine: Any, settings: ServerSettings) -> tuple[ASGIApp, _Service]:
    """The ASGI app (routes behind :class:`Guard`) and its service object.

    Example:
        >>> app, service = build_app(engine, ServerSettings(token="t", port=8000, model_name="m"))  # doctest: +SKIP
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    service = _Service(engine, settings)

    async def on_api_error(request: Request, exc: Exception) -> Response:
        err = exc if isinstance(exc, APIError) else APIError(str(exc))
        return JSONResponse(err.body(), status_code=err.status)

    async def on_error(request: Request, exc: Exception) -> Response:
        return JSONResponse(APIError(f"{type(exc).__name__}: {exc}", status=500).body(), status_code=500)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def chat(request: Request) -> Response:
        return await service.generation(request, "chat")  # type: ignore[no-any-return]

    async def completions(request: Request) -> Response:
        return await service.generation(request, "completion")  # type: ignore[no-any-return]

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        return JSONResponse(APIError(f"No route {request.method} {request.url.path}.", status=status).body(), status)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", service.models, methods=["GET"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/invocations", chat, methods=["POST"]),
        Route("/admin/shutdown", service.shutdown, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={APIError: on_api_error, 404: not_found, 405: not_found, Exception: on_error},
    )
    return Guard(app, settings), service


def _write_ready(path: str, port: int) -> None:
    target = Path(path)
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_text(json.dumps({"port": port, "pid": os.getpid(), "url": f"http://127.0.0.1:{port}"}), encoding="utf-8")
    os.replace(tmp, target)


def main(argv: list[str] | None = None) -> int:
    """Load the model, bind 127.0.0.1 and serve until ``/admin/shutdown`` or SIGTERM."""
    parser = argparse.ArgumentParser(prog="nova-forge-local-serve")
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--ready-file")
    parser.add_argument("--max-tokens-limit", type=int, default=2048)
    parser.add_argument("--max-concurrent", type=int, default=4)
    parser.add_argument("--max-body-bytes", type=int, default=1 << 20)
    parser.add_argument("--allow-origin", action="append", default=[])
    args = parser.parse_args(argv)
    token = os.environ.pop(TOKEN_ENV, "")
    if len(token) < 16:
        print(f"{TOKEN_ENV} must hold the deployment's bearer token (16+ characters).", file=sys.stderr)
        return 2
    import uvicorn

    from amzn_nova_forge.manager._local import _model
    from amzn_nova_forge.manager._local._jobs import resolve_model_source
    from amzn_nova_forge.manager._local._serve_gen import Engine

    source = resolve_model_source({"model_name_or_path": args.model, "base_model": args.model})
    model, tok, _ = _model.load(source, _model.pick_device(args.device))
    model.eval()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    port = int(sock.getsockname()[1])
    settings = ServerSettings(
        token=token,
        port=port,
        model_name=Path(str(source)).name or "local",
        max_body_bytes=args.max_body_bytes,
        max_tokens_limit=args.max_tokens_limit,
        max_concurrent=args.max_concurrent,
        extra_origins=tuple(args.allow_origin),
    )
    app, service = build_app(Engine(model, tok), settings)
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_keep_alive=5, lifespan="off")
    server = uvicorn.Server(config)
    service.server = server
    if args.ready_file:
        _write_ready(args.ready_file, port)
    print(f"Serving {source} on http://127.0.0.1:{port}", flush=True)
    server.run(sockets=[sock])
    service.pool.shutdown(wait=False, cancel_futures=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
