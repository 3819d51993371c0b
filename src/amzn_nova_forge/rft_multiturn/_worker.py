"""RFT multiturn environment worker: ``python -m amzn_nova_forge.rft_multiturn._worker ...``.

Run by every platform (a local process, an EC2 process started through SSM, an ECS task).
Each of ``--concurrency`` threads loops:

1. receive one rollout from the rollout request queue,
2. run the environment's ``rollout(sample, generate)``; ``generate(messages)`` sends a
   generate request (``request_id``) and waits for the trainer's answer on the generate
   response queue (answers meant for another process are released at once),
3. send the result to the rollout-finished queue, record it in the tasks table, delete the
   request.

SIGTERM/SIGINT stop the worker: a rollout in progress is released to the queue
(visibility 0) so another worker picks it up, and the process exits 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from typing import Any

from amzn_nova_forge.core.aws import client

logger = logging.getLogger("nova_forge.rft_worker")
#: Shortest pause between two empty short polls (an interval of 0 must not spin on SQS).
MIN_IDLE_S = 0.05
#: Environment variable telling environments where the worker runs (``local``, ``ec2``, ``ecs``).
PLATFORM_ENV = "NOVA_FORGE_RFT_PLATFORM"


class Stopped(Exception):
    """The worker is shutting down."""


class Worker:
    """One worker process (several threads share its generate-response mailbox)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stop = threading.Event()
        self.worker_id = args.worker_id or f"{os.uname().nodename}-{os.getpid()}"
        self._mailbox: dict[str, str] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self.done = 0
        self.env = self._load_env()

    def _load_env(self) -> Any:
        from amzn_nova_forge.rft_multiturn import envs

        if self.args.platform:
            os.environ[PLATFORM_ENV] = self.args.platform
        kwargs = json.loads(self.args.env_args or "{}")
        if self.args.env_path:
            return envs.load_from_path(self.args.env_path, self.args.env_id, **kwargs)
        return envs.load_builtin(self.args.env_id, **kwargs)

    def sqs(self) -> Any:
        # Few retries: a worker must notice a stop request quickly even when AWS is unreachable.
        return client("sqs", self.args.region, max_attempts=3)

    # ---- policy calls -----------------------------------------------------------------------
    def generate(self, messages: list[dict[str, str]], rollout_id: str, deadline: float) -> str:
        request_id = uuid.uuid4().hex
        # One generation may take at most --completion-timeout, and never past the rollout's deadline.
        deadline = min(deadline, time.monotonic() + self.args.completion_timeout)
        with self._lock:
            self._pending.add(request_id)
        self.sqs().send_message(
            QueueUrl=self.args.generate_request,
            MessageBody=json.dumps(
                {"request_id": request_id, "rollout_id": rollout_id, "worker_id": self.worker_id, "messages": messages}
            ),
        )
        try:
            while True:
                with self._lock:
                    if request_id in self._mailbox:
                        return self._mailbox.pop(request_id)
                if self.stop.is_set():
                    raise Stopped()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no generation for request {request_id} within the completion/rollout timeout")
                if not self._poll_responses() and self.args.completion_interval < 1:
                    self.stop.wait(max(MIN_IDLE_S, self.args.completion_interval))
        finally:
            with self._lock:
                self._pending.discard(request_id)
                self._mailbox.pop(request_id, None)

    def _poll_responses(self) -> int:
        """Receive generate responses once; returns how many messages arrived."""
        sqs = self.sqs()
        resp = sqs.receive_message(
            QueueUrl=self.args.generate_response,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=_long_poll(self.args.completion_interval),
            VisibilityTimeout=30,
        )
        messages = resp.get("Messages", [])
        for msg in messages:
            try:
                body = json.loads(msg["Body"])
            except json.JSONDecodeError:
                body = {}
            rid = body.get("request_id")
            with self._lock:
                mine = rid in self._pending
                if mine:
                    self._mailbox[rid] = str(body.get("content", ""))
            if mine:
                sqs.delete_message(QueueUrl=self.args.generate_response, ReceiptHandle=msg["ReceiptHandle"])
            else:  # another worker's answer: hand it back at once
                sqs.change_message_visibility(
                    QueueUrl=self.args.generate_response, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0
                )
        return len(messages)

    # ---- rollouts ---------------------------------------------------------------------------
    def run_one(self, msg: dict[str, Any]) -> None:
        sqs = self.sqs()
        started = time.monotonic()
        try:
            body = json.loads(msg["Body"])
        except json.JSONDecodeError:
            logger.error("dropping malformed rollout message %s", msg.get("MessageId"))
            sqs.delete_message(QueueUrl=self.args.rollout_queue, ReceiptHandle=msg["ReceiptHandle"])
            return
        rid = str(body.get("rollout_id") or msg.get("MessageId"))
        deadline = started + self.args.rollout_timeout
        logger.info("rollout %s started", rid)
        try:
            out = self.env.rollout(body.get("sample") or {}, lambda m: self.generate(m, rid, deadline))
            result = {
                "status": "ok",
                "reward": float(out.get("reward", 0.0)),
                "messages": out.get("messages", []),
                "metrics": out.get("metrics", {}),
            }
        except Stopped:
            sqs.change_message_visibility(
                QueueUrl=self.args.rollout_queue, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0
            )
            logger.info("rollout %s released (worker stopping)", rid)
            return
        except Exception as e:
            logger.exception("rollout %s failed", rid)
            result = {
                "status": "error",
                "reward": 0.0,
                "error": f"{type(e).__name__}: {e}",
                "messages": [],
                "metrics": {},
            }
        result.update(
            rollout_id=rid,
            env_id=self.args.env_id,
            env_type=self.args.env_type,
            worker_id=self.worker_id,
            duration_s=round(time.monotonic() - started, 3),
        )
        sqs.send_message(QueueUrl=self.args.finished_queue, MessageBody=json.dumps(result, default=str))
        if self.args.tasks_table:
            client("dynamodb", self.args.region, max_attempts=3).put_item(
                TableName=self.args.tasks_table,
                Item={
                    "rollout_id": {"S": rid},
                    "status": {"S": "done" if result["status"] == "ok" else "error"},
                    "reward": {"N": repr(result["reward"])},
                    "worker_id": {"S": self.worker_id},
                    "ttl": {"N": str(int(time.time()) + 7 * 86400)},
                },
            )
        sqs.delete_message(QueueUrl=self.args.rollout_queue, ReceiptHandle=msg["ReceiptHandle"])
        self._record_metrics(result)
        with self._lock:
            self.done += 1
        logger.info(
            "rollout %s finished status=%s reward=%.4f in %.2fs",
            rid,
            result["status"],
            result["reward"],
            result["duration_s"],
        )

    def _record_metrics(self, result: dict[str, Any]) -> None:
        """Append one line per rollout to ``<log dir>/<worker id>.metrics.jsonl`` (with ``--log-dir``)."""
        if not self.args.log_dir:
            return
        keys = ("rollout_id", "status", "reward", "duration_s", "metrics", "env_type")
        line = json.dumps({k: result.get(k) for k in keys}, default=str)
        with self._lock, open(os.path.join(self.args.log_dir, f"{self.worker_id}.metrics.jsonl"), "a") as f:
            f.write(line + "\n")

    def loop(self) -> None:
        wait = _long_poll(self.args.poll_wait)
        while not self.stop.is_set():
            try:
                resp = self.sqs().receive_message(
                    QueueUrl=self.args.rollout_queue,
                    MaxNumberOfMessages=1,
                    WaitTimeSeconds=wait,
                    VisibilityTimeout=int(self.args.rollout_timeout) + 60,
                )
            except Exception:
                logger.exception("polling the rollout queue failed; retrying")
                self.stop.wait(2.0)
                continue
            messages = resp.get("Messages", [])
            for msg in messages:
                self.run_one(msg)
            if not messages and wait == 0:
                self.stop.wait(max(MIN_IDLE_S, self.args.poll_wait))

    def serve(self) -> int:
        threads = [
            threading.Thread(target=self.loop, name=f"rollout-{i}", daemon=True) for i in range(self.args.concurrency)
        ]
        for t in threads:
            t.start()
        logger.info(
            "worker %s ready: env=%s type=%s threads=%d queue=%s",
            self.worker_id,
            self.args.env_id,
            self.args.env_type,
            self.args.concurrency,
            self.args.rollout_queue,
        )
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.5)
        logger.info("worker %s stopped after %d rollout(s)", self.worker_id, self.done)
        return 0


def _long_poll(interval: float) -> int:
    """SQS ``WaitTimeSeconds`` for a poll interval: whole seconds (0-20); below 1 s poll, then sleep."""
    return 0 if interval < 1 else min(20, int(interval))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="nova-forge-rft-worker", description=__doc__.splitlines()[0])
    p.add_argument("--region", required=True)
    p.add_argument("--rollout-queue", required=True)
    p.add_argument("--finished-queue", required=True)
    p.add_argument("--generate-request", required=True)
    p.add_argument("--generate-response", required=True)
    p.add_argument("--tasks-table", default="")
    p.add_argument("--env-id", required=True)
    p.add_argument("--env-path", default="")
    p.add_argument("--env-args", default="{}")
    p.add_argument("--env-type", default="train")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--poll-wait", type=_seconds(0, 20), default=1.0, metavar="0-20")
    p.add_argument("--rollout-timeout", type=float, default=300.0)
    p.add_argument("--completion-timeout", type=_seconds(1, 86400), default=600.0)
    p.add_argument("--completion-interval", type=_seconds(0, 60), default=0.5)
    p.add_argument("--log-dir", default="")
    p.add_argument("--platform", default="", choices=["", "local", "ec2", "ecs"])
    p.add_argument("--worker-id", default="")
    return p.parse_args(argv)


def _seconds(low: float, high: float) -> Any:
    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g} seconds, got {text}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fmt = "%(asctime)s %(levelname)s [%(threadName)s] %(message)s"
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format=fmt)
    worker = Worker(args)
    if args.log_dir:
        os.makedirs(args.log_dir, exist_ok=True)
        handler = logging.FileHandler(os.path.join(args.log_dir, f"{worker.worker_id}.log"))
        handler.setFormatter(logging.Formatter(fmt))
        logging.getLogger().addHandler(handler)

    def _stop(signum: int, _frame: Any) -> None:
        logger.info("signal %d: stopping", signum)
        worker.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return worker.serve()


if __name__ == "__main__":  # pragma: no cover - process entry point
    sys.exit(main())
