"""Keeping API keys out of every string a person or a log can see."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "****"
#: An echo of this many leading characters of a key (or of the key reversed) is masked.
MIN_ECHO = 8
_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # keeps every index

# Shapes of credentials that may turn up in a server's error body even when we
# do not know the exact key (a proxy echoing a header, another account's key).
_KEY_PATTERNS = re.compile(
    r"(?:Bearer\s+[A-Za-z0-9._~+/=-]{8,})"
    r"|(?:\bSG_[A-Za-z0-9_-]{6,})"
    r"|(?:\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"
    r"|(?:\b(?:sk|gsk|csk)[-_][A-Za-z0-9_-]{10,})"
)


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that needs it: the request header."""
        return self._value

    def masked(self) -> str:
        """A hint that tells keys apart without revealing them: ``****abcd``."""
        if len(self._value) <= 8:
            return MASK
        return MASK + self._value[-4:]

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)


def _echoes(text: str, secret: str) -> list[tuple[int, int]]:
    """Where ``text`` echoes any :data:`MIN_ECHO` characters in a row of ``secret``,
    forwards or reversed, in any letter case.

    Matching pieces rather than the whole key also finds a key cut short, split by a
    line break or a NUL, or with one character percent-encoded: every stretch of eight
    or more of its characters is masked, so at most seven show on either side of a break.
    """
    folded = text.translate(_FOLD)
    size = min(MIN_ECHO, len(secret))
    grams: set[str] = set()
    for form in (secret.translate(_FOLD), secret[::-1].translate(_FOLD)):
        grams.update(form[i : i + size] for i in range(len(form) - size + 1))
    spans: list[tuple[int, int]] = []
    for start in range(len(folded) - size + 1):
        if folded[start : start + size] in grams:
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], start + size)
            else:
                spans.append((start, start + size))
    return spans


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` and anything shaped like a key replaced by a mask.

    A key is also found cut short (its first eight characters or more), reversed, or in
    another letter case, as a server or proxy may echo it.
    """
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        if secret and len(secret) >= 4:
            spans += _echoes(text, secret)
    if spans:
        pieces, at = [], 0
        for start, end in sorted(spans):
            if end <= at:
                continue
            if start >= at:
                pieces.append(text[at:start])
                pieces.append(MASK)
            at = end
        text = "".join(pieces) + text[at:]
    return _KEY_PATTERNS.sub(MASK, text)


def redact_truncated(text: str, secrets: Iterable[str], limit: int) -> str:
    """``text`` redacted, then cut to ``limit`` characters: in that order, so a key that
    straddles the cut is masked whole rather than stored half-visible."""
    secrets = tuple(secrets)
    # Only a window a little past the cut is redacted: a body may be megabytes long.
    margin = max((len(secret) for secret in secrets), default=0) + 4096
    return redact(text[: limit + margin], secrets)[:limit]


def redact_url(url: str) -> str:
    """``url`` without ``user:password@``, for every place a base URL is shown or stored."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def url_password(url: str) -> str:
    """The password in ``url``'s ``user:password@``, if any: a secret to mask like a key."""
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""
