"""Server-Sent Events from an httpx response, with the non-standard cases providers send.

Line splitting and field parsing come from ``httpx-sse``. On top of it, one
wart of old llama.cpp servers is handled: an ``error: {...}`` line, which the
SSE spec would silently ignore, becomes an ``error`` event so it is not lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from httpx_sse import ServerSentEvent

# The decoders are httpx-sse's own; EventSource.aiter_sse hides the raw lines we need.
from httpx_sse._decoders import SSEDecoder, SSELineDecoder


async def aiter_events(response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
    """Every event of an SSE body, as it arrives; comments and keep-alives are skipped."""
    lines = SSELineDecoder()
    events = SSEDecoder()
    async for text in response.aiter_text():
        for line in lines.decode(text):
            if line.startswith("error:"):
                yield ServerSentEvent(event="error", data=line[6:].strip())
                continue
            event = events.decode(line)
            if event is not None:
                yield event
    for line in lines.flush():
        event = events.decode(line)
        if event is not None:
            yield event
    final = events.decode("")
    if final is not None and (final.data or final.event):
        yield final
