"""How long and how much of a provider's reply is read: the bounds every reply is held to.

A reply is bounded in time and in size, whatever the server does:

* a streamed reply waits at most ``read_timeout`` for its next piece of text
  (:class:`StreamClock`); keep-alive comments count as a sign of life only
  before the first piece, bytes trickled one at a time never do; and the whole
  stream is cut after ``stream_timeout``;
* a whole (non-streamed) body must arrive within ``reply_timeout`` in all, and
  at most :data:`MAX_JSON_BODY` bytes of it are read, after decompression
  (:func:`read_body`);
* one SSE event is at most :data:`MAX_SSE_EVENT` characters, and the reply's
  text at most ``max_reply_chars``.

Past a bound, reading stops, the text that arrived is kept, and one sentence
names the limit.
"""

from __future__ import annotations

import asyncio
import codecs
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llamachat.providers.errors import ErrorContext, ErrorKind, ProviderError
from llamachat.providers.wirejson import loads

if TYPE_CHECKING:
    import httpx

#: Decoded (decompressed) bytes of a JSON body read at most: far beyond any real reply.
MAX_JSON_BODY = 32 * 1024 * 1024
#: Bytes of an error body read: only its first 20,000 characters are kept anyway.
MAX_ERROR_BODY = 1024 * 1024
#: Characters of one SSE event (one line, or lines without a blank line between them).
MAX_SSE_EVENT = 1024 * 1024


def size_words(n: int) -> str:
    """A size for a sentence: ``32 MB``, ``1 MB``, ``8 million characters``."""
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    return f"{n:,} bytes"


def chars_words(n: int) -> str:
    """A number of characters for a sentence."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000} million characters"
    return f"{n:,} characters"


class StreamClock:
    """The time bounds of one streamed reply.

    ``waited`` counts only the time spent waiting on the network since the last
    piece of reply data, so a slow reader (a busy screen, a disk) never counts
    against the server. ``end`` is the loop time at which the whole stream stops.
    """

    __slots__ = ("end", "gap", "started", "total", "waited")

    def __init__(self, gap: float, total: float) -> None:
        self.gap = gap
        self.total = total
        self.waited = 0.0
        self.started = False
        self.end = asyncio.get_running_loop().time() + total

    def progress(self) -> None:
        """A piece of reply data arrived: the gap starts again."""
        self.waited = 0.0
        self.started = True

    def budget(self, now: float) -> float:
        """Seconds the next read may wait."""
        return min(self.gap - self.waited, self.end - now)

    def expired(self, ctx: ErrorContext, now: float) -> ProviderError:
        """The sentence for whichever bound ran out."""
        if now >= self.end - 0.01:
            return ProviderError(
                ErrorKind.REPLY_TIMEOUT,
                f"The reply from {ctx.provider} was still arriving after {self.total:g} s "
                "(stream_timeout), so llamachat stopped it: the text so far is kept; "
                "raise stream_timeout in [network] for longer replies.",
            )
        what = "more of the reply" if self.started else "the start of the reply"
        return ProviderError(
            ErrorKind.READ_TIMEOUT,
            f"{ctx.provider} sent no {what} for {self.gap:g} s (read_timeout), "
            "so llamachat stopped waiting: try again, or raise read_timeout in the config.",
            retryable=True,
        )


def event_too_large(ctx: ErrorContext) -> ProviderError:
    """An SSE line or event past :data:`MAX_SSE_EVENT`."""
    return ProviderError(
        ErrorKind.REPLY_TOO_LARGE,
        f"{ctx.provider} sent one piece of the stream longer than {size_words(MAX_SSE_EVENT)} "
        "(the limit for one event), so llamachat stopped reading: the text so far is kept.",
    )


def reply_too_long(ctx: ErrorContext, limit: int) -> ProviderError:
    """A reply whose text passed ``max_reply_chars``."""
    return ProviderError(
        ErrorKind.REPLY_TOO_LARGE,
        f"The reply from {ctx.provider} passed {chars_words(limit)} (max_reply_chars), "
        "so llamachat stopped reading it: the text up to the limit is kept; "
        "raise max_reply_chars in [network] for longer replies.",
    )


def body_too_large(ctx: ErrorContext, limit: int) -> ProviderError:
    """A whole body past ``limit`` decoded bytes."""
    return ProviderError(
        ErrorKind.REPLY_TOO_LARGE,
        f"{ctx.provider} sent a reply larger than {size_words(limit)} once decompressed "
        "(the limit for one reply), so llamachat stopped reading it: check the base URL, "
        "or ask for a shorter reply.",
    )


def reply_timeout(ctx: ErrorContext, seconds: float) -> ProviderError:
    """A whole body that did not arrive within ``reply_timeout``."""
    return ProviderError(
        ErrorKind.REPLY_TIMEOUT,
        f"{ctx.provider} did not finish sending its reply within {seconds:g} s "
        "(reply_timeout), so llamachat stopped waiting: try again, or raise reply_timeout "
        "in the config.",
    )


async def read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` decoded bytes of ``response``'s body, and whether there was more."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            chunks.append(chunk[: limit - (size - len(chunk))])
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


def decode(data: bytes, encoding: str | None) -> str:
    """Body bytes as text in the reply's charset (UTF-8 when unknown), never failing.

    A leading byte-order mark is not part of the text (JSON parsers refuse it).
    """
    try:
        text = codecs.decode(data, encoding or "utf-8", "replace")
    except LookupError:
        text = data.decode("utf-8", "replace")
    return text.removeprefix("\ufeff")


@dataclass(frozen=True, slots=True)
class Body:
    """A whole reply read within its bounds: status, headers and text."""

    status_code: int
    headers: httpx.Headers
    text: str
    url: str = ""

    def json(self) -> Any:
        """The body parsed as JSON (``ValueError`` when it is not, or is nested too deep)."""
        return loads(self.text)


async def read_body(
    response: httpx.Response, ctx: ErrorContext, limit: int = MAX_JSON_BODY
) -> Body:
    """``response``'s whole body, refused past ``limit`` decoded bytes."""
    data, more = await read_capped(response, limit)
    if more:
        raise body_too_large(ctx, limit)
    return Body(
        response.status_code,
        response.headers,
        decode(data, response.encoding),
        str(response.url),
    )
