"""An OpenAI-compatible chat server for a local model (runs in its own process).

``python -m amzn_nova_forge.manager._local._serve --model DIR [--port 0] [--ready-file F] [--device auto]``

Routes: ``POST /v1/chat/completions`` (OpenAI request; Nova ``inferenceConfig`` and content
blocks accepted), ``GET /v1/models``, ``GET /health``. Binds 127.0.0.1 only. When ready it
writes ``{"port", "pid", "url"}`` to the ready file.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["chat_completion", "main"]


def _messages(body: dict[str, Any]) -> list[dict[str, str]]:
    from amzn_nova_forge.manager._local._data import block_text

    msgs: list[dict[str, str]] = []
    system = body.get("system")
    if system:
        msgs.append({"role": "system", "content": block_text(system)})
    for m in body.get("messages") or []:
        msgs.append({"role": str(m.get("role", "user")), "content": block_text(m.get("content"))})
    if not msgs or all(m["role"] == "system" for m in msgs):
        raise ValueError("'messages' must contain at least one user message.")
    return msgs


def chat_completion(
    model: Any, tok: Any, body: dict[str, Any], model_name: str, lock: threading.Lock
) -> dict[str, Any]:
    """Answer one chat-completions request body with the OpenAI response shape."""
    from amzn_nova_forge.manager._local._data import tokenize_prompt
    from amzn_nova_forge.manager._local._model import generate

    cfg = dict(body.get("inferenceConfig") or {})
    max_new = int(
        body.get("max_tokens")
        or body.get("max_new_tokens")
        or body.get("max_completion_tokens")
        or cfg.get("maxTokens")
        or cfg.get("max_new_tokens")
        or 128
    )
    temperature = float(body.get("temperature", cfg.get("temperature", 0.0)) or 0.0)
    top_p = float(body.get("top_p", cfg.get("topP", 1.0)) or 1.0)
    top_k = int(body.get("top_k", cfg.get("topK", 0)) or 0)
    n = int(body.get("n") or 1)
    prompt = tokenize_prompt(tok, _messages(body))
    with lock:
        outs = generate(
            model,
            tok,
            [prompt],
            max_new_tokens=min(max_new, 4096),
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            num_return_sequences=n,
            keep_eos=True,
        )
    choices = []
    completion_tokens = 0
    for i, ids in enumerate(outs):
        finished = bool(ids) and ids[-1] == tok.eos_token_id
        text = tok.decode([t for t in ids if t != tok.eos_token_id], skip_special_tokens=True)
        completion_tokens += len(ids)
        choices.append(
            {
                "index": i,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop" if finished else "length",
            }
        )
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_name,
        "choices": choices,
        "usage": {
            "prompt_tokens": len(prompt),
            "completion_tokens": completion_tokens,
            "total_tokens": len(prompt) + completion_tokens,
        },
    }


def make_handler(model: Any, tok: Any, model_name: str) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        server_version = "NovaForgeLocal/1"

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet access log
            sys.stderr.write(f"{self.address_string()} {fmt % args}\n")

        def _send(self, code: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") in ("/health", "/ping"):
                self._send(200, {"status": "ok", "model": model_name})
            elif self.path.rstrip("/") == "/v1/models":
                self._send(
                    200, {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "local"}]}
                )
            else:
                self._send(404, {"error": {"message": f"No route {self.path}", "type": "not_found"}})

        def do_POST(self) -> None:
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/invocations"):
                self._send(404, {"error": {"message": f"No route {self.path}", "type": "not_found"}})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise TypeError("request body must be a JSON object")
                self._send(200, chat_completion(model, tok, body, model_name, lock))
            except (ValueError, KeyError, TypeError) as e:
                self._send(400, {"error": {"message": str(e), "type": "invalid_request_error"}})
            except Exception as e:
                self._send(500, {"error": {"message": f"{type(e).__name__}: {e}", "type": "server_error"}})

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nova-forge-local-serve")
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--ready-file")
    args = parser.parse_args(argv)
    from amzn_nova_forge.manager._local import _model
    from amzn_nova_forge.manager._local._jobs import resolve_model_source

    source = resolve_model_source({"model_name_or_path": args.model, "base_model": args.model})
    device = _model.pick_device(args.device)
    model, tok, _ = _model.load(source, device)
    model.eval()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(model, tok, Path(str(source)).name or "local"))
    port = server.server_address[1]
    if args.ready_file:
        Path(args.ready_file).write_text(
            json.dumps({"port": port, "pid": __import__("os").getpid(), "url": f"http://127.0.0.1:{port}"}),
            encoding="utf-8",
        )
    print(f"Serving {source} on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # pragma: no cover
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
