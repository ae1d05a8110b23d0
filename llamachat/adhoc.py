"""Conversations with a server named only by ``--base-url`` (no provider in the config).

Such a conversation stores the server's URL, without any ``user:password@``, as its
provider, so ``ask --continue`` can talk to the same server again. It is resolved to
the same ad-hoc OpenAI-compatible settings ``--base-url`` gives: no configured
provider's key is ever attached to it.
"""

from __future__ import annotations

from llamachat.secrets import redact_url

_SCHEMES = ("http://", "https://")


def is_adhoc(stored_provider: str | None) -> bool:
    """Whether a conversation's stored provider is an ad-hoc server's URL."""
    return bool(stored_provider) and str(stored_provider).lower().startswith(_SCHEMES)


def stored_provider_name(settings_name: str, base_url: str | None, provider: str | None) -> str:
    """What a conversation stores as its provider: the URL for ``--base-url`` alone."""
    if base_url and not provider:
        return redact_url(base_url)
    return settings_name
