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
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from typing import Any, ClassVar

import httpx
from httpx_sse import ServerSentEvent

from llamachat.numbers import money, reported_cost
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
from llamachat.providers.error_bodies import looks_like_html
from llamachat.providers.errors import ErrorContext, ErrorKind, ProviderError
from llamachat.providers.fields import (
    Malformed,
    empty_reply,
    finish_reason,
    first_choice,
    kind_of,
    malformed,
    object_field,
    optional_text,
    text_field,
    token_count,
    unreadable_body,
    usage_field,
)
from llamachat.providers.limits import StreamClock, read_body, reply_timeout
from llamachat.providers.presets import LABELS
from llamachat.providers.reply_errors import bad_response, stream_error
from llamachat.providers.sse import StreamStats, aiter_events
from llamachat.providers.thinking import ThinkSplitter, split_thinking
from llamachat.providers.wirejson import NestedTooDeep, loads, loads_each


def usage_event(usage: Mapping[str, Any], model: ModelInfo | None) -> Usage:
    """A :class:`Usage` from an OpenAI ``usage``; DeepInfra's ``estimated_cost`` is the cost.

    A count or cost that is not a sane number (negative, NaN, ``1e300``, text) is left unknown;
    so is a cost the tokens could not come to (:func:`reported_cost`), priced from the list instead.
    """
    prompt = token_count(usage.get("prompt_tokens"))
    completion = token_count(usage.get("completion_tokens"))
    cost = reported_cost(usage.get("estimated_cost"), prompt, completion)
    if cost is not None:
        return Usage(prompt, completion, cost)
    estimate = model.cost(Usage(prompt, completion)) if model else None
    return Usage(prompt, completion, estimate, cost_is_estimate=estimate is not None)


def _nothing() -> None:
    return None


async def parse_chat_stream(
    events: AsyncIterator[ServerSentEvent],
    ctx: ErrorContext,
    model: ModelInfo | None = None,
    *,
    clock: StreamClock | None = None,
    stats: StreamStats | None = None,
) -> AsyncGenerator[ProviderEvent, None]:
    """The provider events of an OpenAI chat-completion SSE stream.

    Every field is type-checked: a value of the wrong type ends the reply with one
    sentence (the text so far is kept); informational ones (usage, reasoning) are ignored.
    Each piece of text tells ``clock`` the reply is progressing.
    """
    finish_reason: str | None = None
    done = False
    last: dict[str, Any] | None = None
    usage: Mapping[str, Any] | None = None
    progress = clock.progress if clock is not None else _nothing
    seen_event = got_text = False
    # Until the content is known not to open with <think>, it goes through the splitter.
    splitter: ThinkSplitter | None = ThinkSplitter()
    try:
        async for sse in events:
            seen_event = True
            data = sse.data
            if sse.event == "error":
                raise stream_error(ctx, data)
            if not data:
                continue
            if data[0] != "{" and data.strip() == "[DONE]":
                done = True
                break
            try:
                chunks: Iterable[Any] = (loads(data),)
            except NestedTooDeep as problem:
                raise malformed(ctx, "a stream event's ", problem, data) from None
            except ValueError:
                chunks, done = _several(data, ctx)
            for chunk in chunks:
                if type(chunk) is not dict:
                    continue
                if chunk.get("error"):
                    raise stream_error(ctx, data)
                try:
                    # The common case inline (this runs for every token); odd values to fields.py.
                    choices = chunk.get("choices")
                    if choices:
                        choice = choices[0] if type(choices) is list else None
                        if type(choice) is not dict:
                            first_choice(chunk)  # raises, saying what is wrong
                        assert choice is not None
                        delta = choice.get("delta")
                        if delta:
                            if type(delta) is not dict:
                                raise Malformed(f"'delta' was {kind_of(delta)}, not an object")
                            thought = delta.get("reasoning_content") or delta.get("reasoning")
                            if thought and type(thought) is str:
                                progress()
                                got_text = True
                                yield ReasoningDelta(thought)
                            content = delta.get("content")
                            if content:
                                if type(content) is not str:
                                    raise Malformed(f"'content' was {kind_of(content)}, not text")
                                progress()
                                got_text = True
                                if splitter is None:
                                    yield TextDelta(content)
                                else:
                                    for event in splitter.feed(content):
                                        yield event
                                    if splitter.passthrough:
                                        splitter = None
                        reason = choice.get("finish_reason")
                        if reason:
                            if type(reason) is not str:
                                raise Malformed(f"'finish_reason' was {kind_of(reason)}, not text")
                            progress()
                            finish_reason = reason[:64]
                            last = chunk
                    chunk_usage = chunk.get("usage")
                    if chunk_usage and type(chunk_usage) is dict:
                        usage = chunk_usage
                        last = chunk
                except Malformed as problem:
                    raise malformed(ctx, "a stream event's ", problem, data) from None
            if done:
                break
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
        raise _unfinished(ctx, seen_event=seen_event, got_text=got_text, stats=stats)
    if finish_reason is None and not got_text:
        raise empty_reply(ctx, what="a stream that ended before any text")
    if usage:
        yield usage_event(usage, model)
    yield Finished(finish_reason or "stop", last)


def _several(data: str, ctx: ErrorContext) -> tuple[list[Any], bool]:
    """The JSON values of an event that is not one value, and whether it held ``[DONE]``.

    SSE joins the ``data:`` lines of one event with a newline, and llama.cpp and some
    proxies send a chunk a line; others run objects together. Each is read in turn, up
    to a ``[DONE]`` line; only an event that is not JSON is an error.
    """
    parts: list[str] = []
    done = False
    for line in data.split("\n"):
        if line.strip() == "[DONE]":
            done = True
            break
        parts.append(line)
    text = "\n".join(parts)
    if done and not text.strip():
        return [], True
    try:
        return loads_each(text), done
    except NestedTooDeep as problem:
        raise malformed(ctx, "a stream event's ", problem, data) from None
    except ValueError:
        raise bad_response(ctx, "a stream event was not JSON", data) from None


def _unfinished(
    ctx: ErrorContext, *, seen_event: bool, got_text: bool, stats: StreamStats | None
) -> ProviderError:
    """Why a stream ended without its end: cut after some text, before any, or never a stream."""
    if got_text:
        return ProviderError(
            ErrorKind.STREAM_INCOMPLETE,
            f"The reply from {ctx.provider} stopped before it was complete: "
            "the text so far is kept; try again for the rest.",
            retryable=True,
        )
    if not seen_event and stats is not None:
        head = stats.head.lstrip()
        if not head or not head.startswith((":", "data", "event", "id", "retry")):
            return unreadable_body(ctx, stats.head)
    return ProviderError(
        ErrorKind.STREAM_INCOMPLETE,
        f"The reply from {ctx.provider} ended before any text arrived: try again.",
        retryable=True,
    )


async def _drain(events: AsyncIterator[ServerSentEvent]) -> None:
    """Read what follows ``[DONE]`` so the connection goes back to the pool for reuse.

    A server that keeps the body open after ``[DONE]`` costs at most half a second.
    """
    with contextlib.suppress(httpx.HTTPError, TimeoutError):
        async with asyncio.timeout(0.5):
            async for _ in events:
                pass


def parse_completion(
    body: str, ctx: ErrorContext, model: ModelInfo | None = None, status: int = 200
) -> list[ProviderEvent]:
    """The provider events of a whole (non-streaming) chat-completion reply, every field checked."""
    if not body.strip() or looks_like_html(body):
        raise unreadable_body(ctx, body, status)
    try:
        data = loads(body)
    except NestedTooDeep as problem:
        raise malformed(ctx, "the reply's ", problem, body) from None
    except ValueError:
        raise unreadable_body(ctx, body, status) from None
    if not isinstance(data, dict):
        raise bad_response(ctx, "the reply was not a JSON object", body)
    if data.get("error"):
        raise stream_error(ctx, body, mid_stream=False)
    try:
        choice = first_choice(data)
        if choice is None:
            raise bad_response(ctx, "the reply had no choices", body)
        message = object_field(choice, "message") or {}
        content = text_field(message, "content")
        reason = finish_reason(choice)
    except Malformed as problem:
        raise malformed(ctx, "the reply's ", problem, body) from None
    thought = optional_text(message, "reasoning_content") or optional_text(message, "reasoning")
    events: list[ProviderEvent] = []
    if thought:
        events.append(ReasoningDelta(thought))
    if content:
        events.extend(split_thinking(content))
    usage = usage_field(data)
    if usage:
        events.append(usage_event(usage, model))
    events.append(Finished(reason or "stop", data))
    return events


def _number(value: Any) -> float | None:
    """A price from a listing: a finite, non-negative number (or numeric text), else ``None``."""
    return money(value)


def model_from_listing(entry: Mapping[str, Any], known: ModelInfo | None) -> ModelInfo:
    """A :class:`ModelInfo` from a ``/models`` entry, reading the fields hosts add."""
    meta = entry.get("metadata") if isinstance(entry.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    cpp = entry.get("meta") if isinstance(entry.get("meta"), Mapping) else {}  # llama.cpp
    assert isinstance(cpp, Mapping)
    context = None
    for source, name in (
        (entry, "context_length"),
        (entry, "context_window"),
        (entry, "max_model_len"),
        (meta, "context_length"),
        (cpp, "n_ctx"),
        (cpp, "n_ctx_train"),
    ):
        value = source.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
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
