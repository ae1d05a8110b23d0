"""The sentence for a network failure: TLS, DNS, a refused or cut connection, a timeout."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable
from typing import TYPE_CHECKING

from llamachat.providers.errors import ErrorContext, ErrorKind, ProviderError

if TYPE_CHECKING:  # httpx is imported where requests are made, not at start-up
    import httpx


def _walk_causes(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def transport_error(
    ctx: ErrorContext, exc: httpx.TransportError, *, read_timeout: float, idempotent: bool = True
) -> ProviderError:
    """The :class:`ProviderError` for a network failure.

    A request that must not run twice (``idempotent=False``) is retried only
    when the failure proves it never reached the server.
    """
    import httpx

    host = exc.request.url.host if _has_request(exc) else "the server"
    causes = list(_walk_causes(exc))
    text = " ".join(str(c) for c in causes).lower()
    p = ctx.provider

    if any(isinstance(c, ssl.SSLError) for c in causes) or "ssl" in text or "certificate" in text:
        return ProviderError(
            ErrorKind.TLS,
            f"The secure connection to {host} failed (TLS): check the base URL, "
            "the system clock and the certificates.",
        )
    if isinstance(exc, httpx.ConnectTimeout):
        return ProviderError(
            ErrorKind.CONNECT_TIMEOUT,
            f"Connecting to {host} timed out: check your network connection and the base URL.",
            retryable=True,
        )
    if isinstance(exc, httpx.ConnectError):
        if any(isinstance(c, socket.gaierror) for c in causes) or (
            "name or service not known" in text
            or "nodename nor servname" in text
            or "temporary failure in name resolution" in text
            or "no address associated" in text
            or "getaddrinfo" in text
        ):
            return ProviderError(
                ErrorKind.DNS,
                f"Could not find the host {host}: check the base URL and your network connection.",
            )
        if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in text:
            return ProviderError(
                ErrorKind.CONNECTION_REFUSED,
                f"Could not connect to {host}: nothing is listening there. "
                "Check the base URL, or start the server.",
            )
        return ProviderError(
            ErrorKind.CONNECTION,
            f"Could not connect to {host}: check your network connection and the base URL.",
            retryable=True,
        )
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout | httpx.PoolTimeout):
        return ProviderError(
            ErrorKind.READ_TIMEOUT,
            f"{p} sent nothing for {read_timeout:g} s, so llamachat stopped waiting: "
            "try again, or raise read_timeout in the config.",
            retryable=idempotent or isinstance(exc, httpx.PoolTimeout),
        )
    return ProviderError(
        ErrorKind.STREAM_CUT,
        f"The connection to {p} dropped before the reply was complete: try again to get the rest.",
        retryable=idempotent,
    )


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 - the property raises when no request is attached
    except RuntimeError:
        return False
    return True
