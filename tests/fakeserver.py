"""A fake provider server on real loopback HTTP, with scripted replies and faults.

It is a bare ASGI app under uvicorn, run in a background thread so that both
in-process tests and subprocesses (the CLI) can talk to it. Each
``(method, path)`` holds a queue of scripted replies; the last one repeats.
Every request is recorded (method, path, query, headers, body) for assertions.

Replies can stream SSE bytes in arbitrary pieces with delays, stall, or cut
the connection mid-body, which is how dropped streams are tested.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    client_port: int = 0

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """A scripted HTTP reply. ``chunks`` are sent one by one, ``delay`` seconds apart.

    ``cut`` closes the connection after the chunks without finishing the body.
    ``stall`` waits that long before the status line (for read timeouts).
    ``hold`` pauses the body before chunk number ``hold_at`` until the test sets it, so a
    test can act while a reply is certainly still streaming.
    ``forever`` is sent after the chunks, every ``delay`` seconds (at least 0.02), until
    the client goes away (or a minute passes): keep-alives or tokens that never end.
    """

    status: int = 200
    chunks: list[bytes] = field(default_factory=list)
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut: bool = False
    stall: float = 0.0
    repeat: bool = True
    hold: threading.Event | None = None
    hold_at: int = 0
    forever: bytes = b""


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A JSON body."""
    return Reply(status, [json.dumps(body).encode()], "application/json", headers or {})


def raw_reply(
    body: bytes | str, status: int = 200, content_type: str = "text/plain", **kw: Any
) -> Reply:
    """Bytes as they are."""
    data = body.encode() if isinstance(body, str) else body
    return Reply(status, [data], content_type, **kw)


def sse_reply(
    events: Iterable[bytes | str], *, split: int | None = None, delay: float = 0.0, **kw: Any
) -> Reply:
    """An SSE body; ``split`` cuts the whole byte stream into pieces of that size."""
    data = b"".join(e.encode() if isinstance(e, str) else e for e in events)
    if split:
        chunks = [data[i : i + split] for i in range(0, len(data), split)]
    else:
        chunks = [e.encode() if isinstance(e, str) else e for e in events]
    return Reply(200, chunks, "text/event-stream", delay=delay, **kw)


def chunk_event(
    content: str | None = None,
    *,
    finish: str | None = None,
    role: str | None = None,
    usage: dict[str, Any] | None = None,
    choices: bool = True,
    extra: dict[str, Any] | None = None,
    eol: str = "\n",
) -> str:
    """One ``data:`` event holding a chat-completion chunk."""
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    chunk: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1795316714,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        if choices
        else [],
    }
    if usage is not None:
        chunk["usage"] = usage
    if extra:
        chunk.update(extra)
    return f"data: {json.dumps(chunk)}{eol}{eol}"


def stream_events(
    pieces: Iterable[str],
    *,
    finish: str | None = "stop",
    usage: dict[str, Any] | None = None,
    usage_on_finish: bool = False,
    done: bool = True,
) -> list[str]:
    """A whole chat stream: role chunk, content chunks, finish, optional usage, ``[DONE]``."""
    events = [chunk_event(role="assistant")]
    events += [chunk_event(p) for p in pieces]
    if finish:
        events.append(chunk_event(finish=finish, usage=usage if usage_on_finish else None))
    if usage is not None and not usage_on_finish:
        events.append(chunk_event(usage=usage, choices=False))
    if done:
        events.append("data: [DONE]\n\n")
    return events


def completion_body(
    content: str, finish: str = "stop", usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A non-streaming chat-completion body."""
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1795316714,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
    }
    if usage is not None:
        body["usage"] = usage
    return body


Handler = Reply | Callable[[Recorded], Reply]


class FakeServer:
    """The server; use as a context manager or call :meth:`start` and :meth:`stop`."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], deque[Handler]] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- scripting ------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def on(self, method: str, path: str, *replies: Handler) -> None:
        """Script the replies to ``method path``, in order; the last one repeats."""
        with self._lock:
            self.routes[(method.upper(), path)] = deque(replies)

    def reset(self) -> None:
        """Forget every script and recorded request."""
        with self._lock:
            self.routes.clear()
            self.requests.clear()

    def received(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """The recorded requests, filtered by method and path."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def _next(self, method: str, path: str) -> Handler | None:
        with self._lock:
            queue = self.routes.get((method, path))
            if not queue:
                return None
            if len(queue) > 1:
                return queue.popleft()
            return queue[0]

    # --- ASGI -----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        recorded = Recorded(
            scope["method"],
            scope["path"],
            scope.get("query_string", b"").decode(),
            {k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body,
            (scope.get("client") or ("", 0))[1],
        )
        with self._lock:
            self.requests.append(recorded)
        handler = self._next(recorded.method, recorded.path)
        if handler is None:
            reply = json_reply({"error": f"no script for {recorded.method} {recorded.path}"}, 404)
        elif callable(handler):
            reply = handler(recorded)
        else:
            reply = handler
        if reply.stall:
            await asyncio.sleep(reply.stall)
        headers = [(b"content-type", reply.content_type.encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        for index, chunk in enumerate(reply.chunks):
            if reply.hold is not None and index == reply.hold_at:
                await asyncio.to_thread(reply.hold.wait, 60)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if reply.delay:
                await asyncio.sleep(reply.delay)
        if reply.forever:
            await self._send_forever(reply, receive, send)
        if reply.cut:
            raise ConnectionAbortedError("scripted cut")  # uvicorn drops the connection
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _send_forever(reply: Reply, receive: Receive, send: Send) -> None:
        # With the request body read, ``receive`` returns only when the client disconnects.
        gone = asyncio.ensure_future(receive())
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 60
        try:
            while not gone.done() and loop.time() < give_up:
                await send({"type": "http.response.body", "body": reply.forever, "more_body": True})
                await asyncio.sleep(max(reply.delay, 0.02))
        finally:
            gone.cancel()

    # --- lifecycle --------------------------------------------------------------

    def start(self) -> FakeServer:
        """Listen on a free loopback port in a background thread."""
        # IPPROTO_TCP explicitly: asyncio then sets TCP_NODELAY, so small SSE writes on a
        # reused connection are not held back ~40 ms by delayed acknowledgements.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self, log_level="critical", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
