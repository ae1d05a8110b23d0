"""Server-Sent Events from an httpx response, with the non-standard cases providers send.

Line splitting and field parsing come from ``httpx-sse``. On top of it, one
wart of old llama.cpp servers is handled: an ``error: {...}`` line, which the
SSE spec would silently ignore, becomes an ``error`` event so it is not lost.

Reading is bounded (see :mod:`llamachat.providers.limits`): every read waits at
most what the :class:`~llamachat.providers.limits.StreamClock` allows, and one
event (a line without a newline, or lines without a blank line) is at most
:data:`~llamachat.providers.limits.MAX_SSE_EVENT` characters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from httpx_sse import ServerSentEvent

# The decoders are httpx-sse's own; EventSource.aiter_sse hides the raw lines we need.
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

from llamachat.providers.errors import ErrorContext
from llamachat.providers.limits import MAX_SSE_EVENT, StreamClock, event_too_large

#: Characters of the body's start kept to say what it was when it held no events.
_HEAD = 2000


@dataclass(slots=True)
class StreamStats:
    """What arrived on the wire, for saying what happened when no event did."""

    chars: int = 0
    head: str = ""


async def aiter_events(
    response: httpx.Response,
    clock: StreamClock | None = None,
    ctx: ErrorContext | None = None,
    stats: StreamStats | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """Every event of an SSE body, as it arrives; comments and keep-alives are skipped.

    With a ``clock``, a read that outlasts it raises the clock's sentence; before
    the first piece of reply data, any whole line (a keep-alive too) is a sign of life.
    """
    lines = SSELineDecoder()
    events = SSEDecoder()
    ctx = ctx or ErrorContext("the server")
    stats = stats if stats is not None else StreamStats()
    texts = response.aiter_text()
    loop = asyncio.get_running_loop()
    pending = 0  # characters of the event being gathered, complete lines
    partial = 0  # characters of the line not yet ended
    while True:
        if clock is None:
            try:
                text = await anext(texts)
            except StopAsyncIteration:
                break
        else:
            start = loop.time()
            budget = clock.budget(start)
            if budget <= 0:
                raise clock.expired(ctx, start)
            try:
                async with asyncio.timeout(budget):
                    text = await anext(texts)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise clock.expired(ctx, loop.time()) from None
            clock.waited += loop.time() - start
        if not stats.chars and text.startswith("\ufeff"):
            text = text[1:]  # a byte-order mark before the first line is not part of it (SSE)
        if len(stats.head) < _HEAD:
            stats.head += text[: _HEAD - len(stats.head)]
        stats.chars += len(text)
        decoded = lines.decode(text)
        if not decoded:
            partial += len(text)
        else:
            partial = len(lines.buffer[0]) if lines.buffer else 0
            if clock is not None and not clock.started:
                clock.waited = 0.0
        for line in decoded:
            if not line:
                pending = 0  # a blank line ends the event being gathered
            elif line[0] == ":":
                continue  # a comment: nothing is kept
            elif line.startswith("error:"):
                yield ServerSentEvent(event="error", data=line[6:].strip())
                continue
            else:
                pending += len(line) + 1
                if pending > MAX_SSE_EVENT:
                    raise event_too_large(ctx)
            event = events.decode(line)
            if event is not None:
                yield event
        if pending + partial > MAX_SSE_EVENT:
            raise event_too_large(ctx)
    for line in lines.flush():
        event = events.decode(line)
        if event is not None:
            yield event
    final = events.decode("")
    if final is not None and (final.data or final.event):
        yield final
