"""Choosing the provider settings and model from flags, config and environment."""

from __future__ import annotations

from dataclasses import replace

from llamachat.config import Config, ConfigError, ProviderSettings, default_provider_name
from llamachat.secrets import redact_url


def provider_settings(
    config: Config,
    provider: str | None,
    base_url: str | None = None,
    api_key_env: str | None = None,
) -> ProviderSettings:
    """The settings named by ``--provider``/``--base-url``, else the default provider's."""
    if base_url and not provider:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"--base-url must start with http:// or https:// (got {redact_url(base_url)!r})."
            )
        return ProviderSettings(
            name="openai",
            kind="openai",
            display_name=f"OpenAI-compatible server at {redact_url(base_url)}",
            base_url=base_url,
            api_key_env=(api_key_env,) if api_key_env else (),
        )
    settings = config.provider(provider or default_provider_name(config))
    if base_url:
        settings = replace(settings, base_url=base_url)
    if api_key_env:
        settings = replace(settings, api_key_env=(api_key_env,), api_key=None)
    return settings


def configured_model(
    config: Config, settings: ProviderSettings, explicit: str | None
) -> str | None:
    """``--model``, else the provider's default, else the top-level one for the default provider."""
    if explicit:
        return explicit
    if settings.default_model:
        return settings.default_model
    if config.default_model and settings.name == default_provider_name(config):
        return config.default_model
    return None
