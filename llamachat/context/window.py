"""A model's context window: from the config, the presets, or what a server said.

A server's refusal often names the window and the size of the prompt ("This model's
maximum context length is 4096 tokens. However, you requested 6046 tokens (6026 in the
messages, 20 in the completion)"; llama.cpp's ``n_ctx`` and ``n_prompt_tokens``;
DeepInfra's "Requested input length 140000 exceeds maximum input length 131072"):
read those, so a retry fits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from llamachat.config import ProviderSettings
from llamachat.providers.base import Provider

_WINDOW_PATTERNS = (
    re.compile(r"maximum context length (?:is|of) (\d[\d,]*)", re.I),
    re.compile(r"maximum input length (?:is |of )?(\d[\d,]*)", re.I),
    re.compile(r"context (?:size|length|window) (?:is|of) (\d[\d,]*)", re.I),
    re.compile(r"n_ctx\W{1,4}(\d+)", re.I),
)
_PROMPT_PATTERNS = (
    re.compile(r"(\d[\d,]*) in the messages", re.I),
    re.compile(r"input length (?:of )?(\d[\d,]*) exceeds", re.I),
    re.compile(r"n_prompt_tokens\W{1,4}(\d+)", re.I),
    re.compile(r"prompt (?:is|has) (\d[\d,]*) tokens", re.I),
)
#: Windows outside this range are misreadings, not windows.
_PLAUSIBLE = range(16, 100_000_001)


def _first_number(patterns: tuple[re.Pattern[str], ...], text: str) -> int | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            value = int(match.group(1).replace(",", ""))
            if value in _PLAUSIBLE:
                return value
    return None


def window_from_error(text: str | None) -> int | None:
    """The context window a server's error body or sentence names, if it names one."""
    return _first_number(_WINDOW_PATTERNS, text or "")


def prompt_from_error(text: str | None) -> int | None:
    """The prompt size, in the server's tokens, that an error body names, if it does."""
    return _first_number(_PROMPT_PATTERNS, text or "")


def configured_window(overrides: Mapping[str, int], model: str) -> int | None:
    """A window set in the config for ``model`` (``[providers.NAME.context]``)."""
    value = overrides.get(model)
    return value if isinstance(value, int) and value in _PLAUSIBLE else None


def known_window(provider: Provider, model: str) -> int | None:
    """The window the presets (or an earlier model listing) give ``model``, if any."""
    info = provider.model_info(model)
    if info is not None and info.context_length and info.context_length in _PLAUSIBLE:
        return info.context_length
    return None


def preset_window(settings: ProviderSettings, model: str) -> int | None:
    """The window the presets of ``settings``' kind give ``model``, if any (no provider built)."""
    from llamachat.providers.presets import PRESET_MODELS

    for info in PRESET_MODELS.get(settings.kind, ()):
        if info.id == model and info.context_length in _PLAUSIBLE:
            return info.context_length
    return None


def n_ctx_from_props(body: str) -> int | None:
    """llama.cpp's ``/props``: ``n_ctx`` at the top or in ``default_generation_settings``."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    settings = data.get("default_generation_settings")
    for source in (data, settings if isinstance(settings, dict) else {}):
        value = source.get("n_ctx")
        if isinstance(value, int) and not isinstance(value, bool) and value in _PLAUSIBLE:
            return value
    return None


async def probe_window(provider: Provider, model: str) -> int | None:
    """Ask the server for ``model``'s window: llama.cpp's ``/props``, then ``/models``.

    Any failure means "not known"; nothing here raises, and nothing is retried. (A
    connection a server dropped after refusing a stream is one: llama-cpp-python does.)
    """
    import httpx

    from llamachat.providers.errors import ProviderError
    from llamachat.providers.openai import OpenAIProvider

    failures = (ProviderError, httpx.HTTPError, OSError, ValueError)

    if not isinstance(provider, OpenAIProvider):
        return None
    root = provider.base_url.rstrip("/").removesuffix("/v1")
    ctx = provider.error_context(model)
    try:
        body = await provider.read_whole("GET", f"{root}/props", ctx)
    except failures:
        pass
    else:
        window = n_ctx_from_props(body.text)
        if window is not None:
            return window
    try:
        models = await provider.list_models()
    except failures:
        return None
    for info in models:
        if info.id == model and info.context_length and info.context_length in _PLAUSIBLE:
            return info.context_length
    return None
