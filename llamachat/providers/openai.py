"""The OpenAI Chat Completions adapter: llama.cpp, vLLM, Ollama, LM Studio, Groq and friends.

A streamed reply is read by :mod:`~llamachat.providers.openai_stream`, a whole one
by :mod:`~llamachat.providers.openai_completion`, and the ``/models`` listing by
:mod:`~llamachat.providers.openai_models`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Any, ClassVar

import httpx

from llamachat.providers.adapter import (
    BASE_URL_OPTION,
    DEFAULT_MODEL_OPTION,
    MODELS_OPTION,
    HTTPProvider,
)
from llamachat.providers.base import (
    Capabilities,
    ChatRequest,
    ModelInfo,
    OptionKind,
    OptionSpec,
    ProviderEvent,
)
from llamachat.providers.errors import ErrorContext
from llamachat.providers.fields import unreadable_body
from llamachat.providers.limits import StreamClock, read_body, reply_timeout
from llamachat.providers.openai_completion import parse_completion
from llamachat.providers.openai_models import model_from_listing
from llamachat.providers.openai_stream import parse_chat_stream
from llamachat.providers.presets import LABELS
from llamachat.providers.reply_errors import bad_response
from llamachat.providers.sse import StreamStats, aiter_events
from llamachat.providers.wirejson import loads


class OpenAIProvider(HTTPProvider):
    """Any server that speaks OpenAI Chat Completions at a base URL."""

    kind: ClassVar[str] = "openai"
    label: ClassVar[str] = LABELS["openai"]
    options: ClassVar[tuple[OptionSpec, ...]] = (
        BASE_URL_OPTION,
        OptionSpec(
            "api_key", "API key", OptionKind.SECRET, "Optional: local servers usually need none."
        ),
        OptionSpec(
            "api_key_env",
            "Key env var",
            OptionKind.TEXT,
            "The environment variable holding the key.",
        ),
        MODELS_OPTION,
        DEFAULT_MODEL_OPTION,
    )
    #: Ask for usage in a final chunk (``stream_options``); servers that ignore it are fine.
    stream_usage_default: ClassVar[bool] = True

    def declare_capabilities(self) -> Capabilities:
        # A local server needs no key; one configured with ``api_key_env`` (Groq...) does.
        needs_key = bool(self.settings.api_key_env)
        return Capabilities(streams=True, vision=True, lists_models=True, needs_key=needs_key)

    def chat_url(self, model: str) -> str:
        """Where chat completions are posted."""
        return f"{self.base_url}/chat/completions"

    def models_url(self) -> str:
        """Where the model listing is fetched."""
        return f"{self.base_url}/models"

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body for ``request``."""
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [m.to_openai() for m in request.messages],
            **request.params.to_body(),
        }
        if request.stream:
            body["stream"] = True
            stream_usage = self.settings.stream_usage
            if stream_usage if stream_usage is not None else self.stream_usage_default:
                body["stream_options"] = {"include_usage": True}
        return body

    async def attempt(
        self, request: ChatRequest, ctx: ErrorContext
    ) -> AsyncGenerator[ProviderEvent, None]:
        body = self.request_body(request)
        info = self.model_info(request.model)
        url = self.chat_url(request.model)
        if not request.stream:
            whole = await self.read_whole(
                "POST", url, ctx, json=body, timeout=self._reply_timeout()
            )
            for event in parse_completion(whole.text, ctx, info, whole.status_code):
                yield event
            return
        headers = {"Accept": "text/event-stream"}
        async with self.client.stream("POST", url, json=body, headers=headers) as response:
            await self.raise_for_status(response, ctx)
            content_type = response.headers.get("content-type", "")
            if "json" in content_type or "html" in content_type:
                # The server ignored stream=true (or is not an API at all): read it whole.
                try:
                    async with asyncio.timeout(self.timeouts.reply):
                        reply = await read_body(response, ctx)
                except TimeoutError:
                    raise reply_timeout(ctx, self.timeouts.reply) from None
                for event in parse_completion(reply.text, ctx, info, reply.status_code):
                    yield event
                return
            clock = StreamClock(self.timeouts.read, self.timeouts.stream)
            stats = StreamStats()
            sse = aiter_events(response, clock, ctx, stats)
            async for event in parse_chat_stream(sse, ctx, info, clock=clock, stats=stats):
                yield event

    def _reply_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeouts.reply, connect=self.timeouts.connect)

    async def list_models(self) -> list[ModelInfo]:
        """``GET /models``, enriched with what the presets know; config models appended."""
        ctx = self.error_context()
        response = await self.fetch_quietly("GET", self.models_url(), ctx)
        text = response.text
        try:
            data = loads(text)  # nested too deeply is a ValueError too
        except ValueError:
            raise unreadable_body(ctx, text, response.status_code) from None
        entries = data.get("data") if isinstance(data, dict) else data
        if not isinstance(entries, list):
            raise bad_response(ctx, "the model list had no 'data' array", text)
        known = {m.id: m for m in self.known_models()}
        models = [
            model_from_listing(entry, known.get(entry["id"]))
            for entry in entries
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str)
        ]
        listed = {m.id for m in models}
        configured = set(self.settings.models) | {self.settings.default_model}
        models.extend(m for m in self.known_models() if m.id not in listed and m.id in configured)
        return models
