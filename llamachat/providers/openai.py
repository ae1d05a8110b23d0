"""The OpenAI Chat Completions adapter: llama.cpp, vLLM, Ollama, LM Studio, Groq and friends.

Every SSE case in PROTOCOLS.md section 1 is handled here: comments and
keep-alives, CRLF, events split across reads, a missing ``[DONE]``, usage in
any of its three places, errors inside a 200 stream in all three forms,
unknown fields kept in the final ``raw`` object, and literal ``</s>`` kept.
Reasoning arrives as ``reasoning_content``, ``reasoning`` or an inline
``<think>`` block and becomes :class:`ReasoningDelta` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, ClassVar

import httpx
from httpx_sse import ServerSentEvent

from llamachat.providers.adapter import (
    BASE_URL_OPTION,
    DEFAULT_MODEL_OPTION,
    MODELS_OPTION,
    HTTPProvider,
)
from llamachat.providers.base import (
    Capabilities,
    ChatRequest,
    Finished,
    ModelInfo,
    OptionKind,
    OptionSpec,
    ProviderEvent,
    ReasoningDelta,
    TextDelta,
    Usage,
)
from llamachat.providers.errors import (
    ErrorContext,
    ErrorKind,
    ProviderError,
    bad_response,
    html_page_error,
    looks_like_html,
    stream_error,
)
from llamachat.providers.presets import LABELS
from llamachat.providers.sse import aiter_events
from llamachat.providers.thinking import ThinkSplitter, split_thinking


def usage_event(usage: Mapping[str, Any], model: ModelInfo | None) -> Usage:
    """A :class:`Usage` from an OpenAI ``usage``; DeepInfra's ``estimated_cost`` is the cost."""

    def count(name: str) -> int | None:
        value = usage.get(name)
        return (
            int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )

    prompt, completion = count("prompt_tokens"), count("completion_tokens")
    cost = usage.get("estimated_cost")
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        return Usage(prompt, completion, float(cost))
    estimate = model.cost(Usage(prompt, completion)) if model else None
    return Usage(prompt, completion, estimate, cost_is_estimate=estimate is not None)


async def parse_chat_stream(
    events: AsyncIterator[ServerSentEvent], ctx: ErrorContext, model: ModelInfo | None = None
) -> AsyncGenerator[ProviderEvent, None]:
    """The provider events of an OpenAI chat-completion SSE stream."""
    finish_reason: str | None = None
    done = False
    last: dict[str, Any] | None = None
    usage: Mapping[str, Any] | None = None
    loads = json.loads
    # Until the content is known not to open with <think>, it goes through the splitter.
    splitter: ThinkSplitter | None = ThinkSplitter()
    try:
        async for sse in events:
            data = sse.data
            if sse.event == "error":
                raise stream_error(ctx, data)
            if not data:
                continue
            if data[0] != "{" and data.strip() == "[DONE]":
                done = True
                break
            try:
                chunk = loads(data)
            except ValueError:
                raise bad_response(ctx, "a stream event was not JSON", data) from None
            if type(chunk) is not dict:
                continue
            if chunk.get("error"):
                raise stream_error(ctx, data)
            choices = chunk.get("choices")
            if choices:
                choice = choices[0]
                delta = choice.get("delta")
                if delta:
                    thought = delta.get("reasoning_content") or delta.get("reasoning")
                    if thought and type(thought) is str:
                        yield ReasoningDelta(thought)
                    content = delta.get("content")
                    if content:
                        if splitter is None:
                            yield TextDelta(content)
                        else:
                            for event in splitter.feed(content):
                                yield event
                            if splitter.passthrough:
                                splitter = None
                reason = choice.get("finish_reason")
                if reason:
                    finish_reason = reason
                    last = chunk
            if chunk.get("usage"):
                usage = chunk["usage"]
                last = chunk
    except httpx.TransportError:
        if finish_reason is None:
            raise
        # The reply was complete; only the end marker was lost with the connection.
    if splitter is not None:
        for event in splitter.close():
            yield event
    if done:
        await _drain(events)
    if finish_reason is None and not done:
        raise ProviderError(
            ErrorKind.STREAM_INCOMPLETE,
            f"The reply from {ctx.provider} stopped before it was complete: "
            "the text so far is kept; try again for the rest.",
            retryable=True,
        )
    if usage:
        yield usage_event(usage, model)
    yield Finished(finish_reason or "stop", last)


async def _drain(events: AsyncIterator[ServerSentEvent]) -> None:
    """Read what follows ``[DONE]`` so the connection goes back to the pool for reuse.

    A server that keeps the body open after ``[DONE]`` costs at most half a second.
    """
    with contextlib.suppress(httpx.HTTPError, TimeoutError):
        async with asyncio.timeout(0.5):
            async for _ in events:
                pass


def parse_completion(
    body: str, ctx: ErrorContext, model: ModelInfo | None = None
) -> list[ProviderEvent]:
    """The provider events of a whole (non-streaming) chat-completion reply."""
    if looks_like_html(body):
        raise html_page_error(ctx, 200, body)
    try:
        data = json.loads(body)
    except ValueError:
        raise bad_response(ctx, "the reply was not JSON", body) from None
    if not isinstance(data, dict):
        raise bad_response(ctx, "the reply was not a JSON object", body)
    if data.get("error"):
        raise stream_error(ctx, body, mid_stream=False)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise bad_response(ctx, "the reply had no choices", body)
    choice = choices[0]
    message = choice.get("message") or {}
    if not isinstance(message, dict):
        message = {}
    content = message.get("content")
    thought = message.get("reasoning_content") or message.get("reasoning")
    events: list[ProviderEvent] = []
    if isinstance(thought, str) and thought:
        events.append(ReasoningDelta(thought))
    if isinstance(content, str) and content:
        events.extend(split_thinking(content))
    usage = data.get("usage")
    if isinstance(usage, dict) and usage:
        events.append(usage_event(usage, model))
    events.append(Finished(choice.get("finish_reason") or "stop", data))
    return events


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def model_from_listing(entry: Mapping[str, Any], known: ModelInfo | None) -> ModelInfo:
    """A :class:`ModelInfo` from a ``/models`` entry, reading the fields hosts add."""
    meta = entry.get("metadata") if isinstance(entry.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    context = None
    for source, name in (
        (entry, "context_length"),
        (entry, "context_window"),
        (entry, "max_model_len"),
        (meta, "context_length"),
    ):
        value = source.get(name)
        if isinstance(value, int) and value > 0:
            context = value
            break
    price_in = price_out = None
    pricing = entry.get("pricing")
    if isinstance(pricing, Mapping):  # OpenRouter: USD per token, as strings
        per_in, per_out = _number(pricing.get("prompt")), _number(pricing.get("completion"))
        price_in = per_in * 1e6 if per_in is not None else None
        price_out = per_out * 1e6 if per_out is not None else None
    meta_pricing = meta.get("pricing")
    if isinstance(meta_pricing, Mapping):  # DeepInfra: USD per million tokens
        price_in = _number(meta_pricing.get("input_tokens"))
        price_out = _number(meta_pricing.get("output_tokens"))
    return ModelInfo(
        id=str(entry["id"]),
        context_length=context or (known.context_length if known else None),
        usd_per_mtok_in=price_in
        if price_in is not None
        else (known.usd_per_mtok_in if known else None),
        usd_per_mtok_out=price_out
        if price_out is not None
        else (known.usd_per_mtok_out if known else None),
        vision=known.vision if known else None,
    )


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
            response = await self.client.post(url, json=body, timeout=self._reply_timeout())
            await self.raise_for_status(response, ctx)
            for event in parse_completion(response.text, ctx, info):
                yield event
            return
        headers = {"Accept": "text/event-stream"}
        async with self.client.stream("POST", url, json=body, headers=headers) as response:
            await self.raise_for_status(response, ctx)
            content_type = response.headers.get("content-type", "")
            if "json" in content_type or "html" in content_type:
                # The server ignored stream=true (or is not an API at all): read it whole.
                text = (await response.aread()).decode("utf-8", "replace")
                for event in parse_completion(text, ctx, info):
                    yield event
                return
            async for event in parse_chat_stream(aiter_events(response), ctx, info):
                yield event

    def _reply_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeouts.reply, connect=self.timeouts.connect)

    async def list_models(self) -> list[ModelInfo]:
        """``GET /models``, enriched with what the presets know; config models appended."""
        ctx = self.error_context()
        response = await self.fetch_quietly("GET", self.models_url(), ctx)
        text = response.text
        try:
            data = json.loads(text)
        except ValueError:
            if looks_like_html(text):
                raise html_page_error(ctx, response.status_code, text) from None
            raise bad_response(ctx, "the model list was not JSON", text) from None
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
