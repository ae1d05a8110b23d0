"""Base URLs: whether one can be used, and the origin (scheme, host, port) a key belongs to.

Only the standard library, so the config can check its URLs without loading httpx.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f]")


def shown_url(url: str) -> str:
    """``url`` as a sentence may quote it: no ``user:password@``, no control characters."""
    without_login = re.sub(r"(?<=//)[^/?#@]*@", "", url, count=1)
    visible = _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", without_login)
    return visible if len(visible) <= 200 else visible[:200] + "…"


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a provider's base URL (a phrase to follow the URL), or ``None``."""
    if _UNSAFE.search(url):
        return "has a space or a control character in it"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        if "out of range" in str(error):
            return "has a port outside 1 to 65535"
        if "IPv6" in str(error):
            return "is not a valid URL (an IPv6 address goes in [brackets])"
        return "is not a valid URL (its port is not a number)"
    if parts.scheme.lower() not in DEFAULT_PORTS:
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host name"
    if port == 0:
        return "has a port outside 1 to 65535"
    return None


def origin(url: str) -> tuple[str, str, int]:
    """The scheme, host and port of ``url`` (the default port when none is written)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme, 0)
