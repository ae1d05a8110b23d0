"""Keeping API keys out of every string a person or a log can see."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "****"

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


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` and anything shaped like a key replaced by a mask."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return _KEY_PATTERNS.sub(MASK, text)
