"""From settings to a live provider: the one place that maps ``kind`` to an adapter class.

Adapters are imported when first needed, so start-up does not pay for httpx
unless a network provider is actually used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from llamachat.config import Config, NetworkSettings, ProviderSettings
from llamachat.providers.base import OptionSpec, Provider

#: kind -> (module, class)
ADAPTERS: dict[str, tuple[str, str]] = {
    "openai": ("llamachat.providers.openai", "OpenAIProvider"),
    "deepinfra": ("llamachat.providers.deepinfra", "DeepInfraProvider"),
    "e2e": ("llamachat.providers.e2e", "E2EProvider"),
    "segmind": ("llamachat.providers.segmind", "SegmindProvider"),
    "demo": ("llamachat.providers.demo", "DemoProvider"),
}


def adapter_class(kind: str) -> Any:
    """The adapter class for a provider kind."""
    module, name = ADAPTERS[kind]
    return getattr(import_module(module), name)


def build_provider(settings: ProviderSettings, network: NetworkSettings | None = None) -> Provider:
    """A provider instance for ``settings``."""
    provider: Provider = adapter_class(settings.kind)(settings, network)
    return provider


def provider_from_config(config: Config, name: str) -> Provider:
    """The provider called ``name`` in ``config``."""
    return build_provider(config.provider(name), config.network)


def option_specs(kind: str) -> tuple[OptionSpec, ...]:
    """The options an adapter kind declares, for the CLI and the settings screen."""
    specs: tuple[OptionSpec, ...] = adapter_class(kind).options
    return specs
