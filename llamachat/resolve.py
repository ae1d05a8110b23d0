"""Choosing the provider settings and model from flags, config and environment."""

from __future__ import annotations

from dataclasses import replace

from llamachat.config import Config, ProviderSettings, default_provider_name
from llamachat.config_errors import ConfigError
from llamachat.secrets import redact_url
from llamachat.urls import base_url_problem, origin, shown_url


def provider_settings(
    config: Config,
    provider: str | None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    send_key: bool = False,
) -> ProviderSettings:
    """The settings named by ``--provider``/``--base-url``, else the default provider's.

    ``ConfigError`` for a ``--base-url`` that cannot be used, and for one on another
    host than the provider's own while that provider has a key, unless ``send_key``
    (a key is never sent to a server the person did not choose it for).
    """
    if base_url is not None:
        problem = base_url_problem(base_url)
        if problem:
            raise ConfigError(f"--base-url {shown_url(base_url)} {problem}.")
    if base_url and not provider:
        return ProviderSettings(
            name="openai",
            kind="openai",
            display_name=f"OpenAI-compatible server at {redact_url(base_url)}",
            base_url=base_url,
            api_key_env=(api_key_env,) if api_key_env else (),
        )
    settings = config.provider(provider or default_provider_name(config))
    if api_key_env:
        settings = replace(settings, api_key_env=(api_key_env,), api_key=None)
    elif base_url and not send_key and _has_key(settings) and not _same_origin(settings, base_url):
        raise ConfigError(
            f"--base-url {shown_url(base_url)} is not the server of provider '{settings.name}', "
            f"so its key is not sent there: add --send-key to send it, or --api-key-env NAME "
            "for another key."
        )
    if base_url:
        settings = replace(settings, base_url=base_url)
    return settings


def _has_key(settings: ProviderSettings) -> bool:
    """Whether requests to ``settings``' server would carry a key, or a header like one."""
    secret_headers = any(
        word in name.lower() for name in settings.headers for word in ("auth", "key", "token")
    )
    return secret_headers or settings.key()[0] is not None


def _same_origin(settings: ProviderSettings, base_url: str) -> bool:
    """Whether ``base_url`` is on the scheme, host and port of the provider's own base URL."""
    from llamachat.providers.registry import adapter_class

    own = settings.base_url or adapter_class(settings.kind).default_base_url
    return bool(own) and origin(own) == origin(base_url)


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
