"""A fake llama.cpp-like server with a small context window, for the context tests.

It counts a request's tokens its own way (one per word, four per message, five per
request: not llamachat's estimator), refuses a request whose prompt and ``max_tokens``
exceed the window (a ``context_length_exceeded`` 400 worded as the real server's, or
llama.cpp's empty 200), and otherwise answers forty words, with usage or without.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.fakeserver import (
    Recorded,
    Reply,
    completion_body,
    json_reply,
    raw_reply,
    sse_reply,
    stream_events,
)

WORDS = ["the", "people", "would", "time", "good", "make", "work", "world", "year", "first"]


def words(count: int, offset: int = 0) -> str:
    """``count`` words of nonsense (as the tiny real model writes)."""
    return " ".join(WORDS[(offset + i) % len(WORDS)] for i in range(count))


def server_tokens(body: dict[str, Any]) -> int:
    """The prompt's size as this server counts it."""
    return 5 + sum(4 + len(str(m["content"]).split()) for m in body["messages"])


@dataclass
class SmallModel:
    """The chat handler: ``fake.on("POST", CHAT, model)``."""

    window: int = 512
    usage: bool = True
    #: How a request over the window is refused: "error" (400) or "empty" (empty 200).
    refuse: str = "error"
    #: Count each word this many times (a tokenizer that splits words more than estimated).
    per_word: float = 1
    reply_words: int = 40
    #: Refuse every request for a summary as too long.
    refuse_summaries: bool = False
    sizes: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, body: dict[str, Any]) -> int:
        extra = sum(len(str(m["content"]).split()) for m in body["messages"])
        return server_tokens(body) + int(extra * (self.per_word - 1))

    def __call__(self, request: Recorded) -> Reply:
        body = request.json
        size = self.count(body)
        completion = body.get("max_tokens") or 0
        if size + completion > self.window or (self.refuse_summaries and not body.get("stream")):
            with self._lock:
                self.refused.append(size)
            if self.refuse == "empty":
                return raw_reply(b"", content_type="text/event-stream")
            total = size + completion
            message = (
                f"This model's maximum context length is {self.window} tokens. However, you "
                f"requested {total} tokens ({size} in the messages, {completion} in the "
                "completion). Please reduce the length of the messages or completion."
            )
            error = {
                "message": message,
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
            return json_reply({"error": error}, 400)
        with self._lock:
            self.sizes.append(size)
        if not body.get("stream"):  # a summary
            with self._lock:
                self.summaries.append(body)
            text = f"SUMMARY {len(self.summaries)}: " + words(20)
            usage = {"prompt_tokens": size, "completion_tokens": 25}
            return json_reply(completion_body(text, usage=usage))
        reply = words(self.reply_words, len(self.sizes))
        usage = {"prompt_tokens": size, "completion_tokens": self.reply_words}
        pieces = [" " + w for w in reply.split()]
        return sse_reply(stream_events(pieces, usage=usage if self.usage else None))


def props(n_ctx: int) -> Reply:
    """llama.cpp's ``GET /props`` (the fields llamachat reads, in the server's layout)."""
    body = {
        "default_generation_settings": {"n_ctx": n_ctx, "n_predict": -1, "model": "tiny.gguf"},
        "total_slots": 1,
        "chat_template": "",
    }
    return raw_reply(json.dumps(body), content_type="application/json")
