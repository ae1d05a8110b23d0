"""The HTTP client every adapter uses: timeouts, and keys bound to their own host."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass

import httpx

from llamachat import __version__
from llamachat.secrets import Secret


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait: for a connection, for the next piece of a reply, for a whole reply
    (``reply`` non-streamed, ``stream`` streamed)."""

    connect: float = 10.0
    read: float = 60.0
    reply: float = 600.0
    stream: float = 1800.0


class HostBoundAuth(httpx.Auth):
    """Adds the key header only to requests for the provider's own scheme, host and port.

    Whatever URL a request ends up at (a redirect, a ``poll_url`` a server
    handed back, a misconfigured base URL), the key never goes anywhere else.
    """

    def __init__(self, origin: httpx.URL, header: str, key: Secret, prefix: str = "") -> None:
        self._origin = (origin.scheme, origin.host, origin.port)
        self._header = header
        self._key = key
        self._prefix = prefix

    def allows(self, url: httpx.URL) -> bool:
        """Whether ``url`` belongs to the provider the key was issued for."""
        return (url.scheme, url.host, url.port) == self._origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._key and self.allows(request.url):
            request.headers[self._header] = self._prefix + self._key.reveal()
        yield request

    def __repr__(self) -> str:
        return f"HostBoundAuth(host={self._origin[1]!r}, header={self._header!r})"


def make_client(
    origin: str,
    timeouts: Timeouts,
    *,
    key: Secret | None = None,
    key_header: str = "Authorization",
    key_prefix: str = "Bearer ",
    headers: Mapping[str, str] | None = None,
) -> httpx.AsyncClient:
    """An async client whose key is sent only to ``origin``'s host."""
    auth = HostBoundAuth(httpx.URL(origin), key_header, key, key_prefix) if key else None
    return httpx.AsyncClient(
        auth=auth,
        timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect),
        headers={"User-Agent": f"llamachat/{__version__}", **(headers or {})},
        follow_redirects=False,
        trust_env=True,
    )
