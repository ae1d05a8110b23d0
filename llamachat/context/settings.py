"""The context rules of one request, from the config and ``--context-overflow``.

Policy: the flag, else ``context_overflow`` in ``[providers.NAME]``, else in
``[defaults]``, else drop-oldest. Window: ``[providers.NAME.context]``, else the
top-level ``[context]`` table, else the presets (or a listing already fetched), else
unknown (and asked of the server when it matters).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llamachat.config import Config, ProviderSettings
from llamachat.context.policy import ContextRules, Overflow
from llamachat.context.window import configured_window, known_window, preset_window
from llamachat.providers.base import Provider

#: The key of a conversation's stored parameters that holds its own policy (Settings).
CONVERSATION_KEY = "context_overflow"


def conversation_policy(params: Mapping[str, Any] | None) -> str | None:
    """The policy a conversation was given in Settings, if any (stored with its parameters)."""
    value = (params or {}).get(CONVERSATION_KEY)
    return value if value in {policy.value for policy in Overflow} else None


def overflow_policy(config: Config, settings: ProviderSettings, flag: str | None) -> Overflow:
    """The policy in force: the flag, the provider's table, ``[defaults]``, drop-oldest."""
    name = flag or settings.context_overflow or config.defaults.context_overflow
    return Overflow(name) if name else Overflow.DROP_OLDEST


def context_rules(
    config: Config,
    settings: ProviderSettings,
    provider: Provider | None,
    model: str,
    flag: str | None = None,
) -> ContextRules:
    """How requests to ``model`` are fitted into its window (``provider``: the live one, whose
    listing may know more; ``None``: the presets, without building it)."""
    policy = overflow_policy(config, settings, flag)
    summary_model = settings.summary_model or config.defaults.summary_model
    override = configured_window(settings.context, model) or configured_window(
        config.context, model
    )
    if override is not None:
        return ContextRules(override, policy, summary_model, probe=False, source="config")
    known = (
        known_window(provider, model) if provider is not None else preset_window(settings, model)
    )
    if known is not None:
        return ContextRules(known, policy, summary_model, probe=False, source="preset")
    return ContextRules(None, policy, summary_model, probe=True, source="unknown")
