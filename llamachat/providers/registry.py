"""From settings to a live provider: the one place that maps ``kind`` to an adapter class."""

from __future__ import annotations

from typing import Any

from llamachat.config import Config, NetworkSettings, ProviderSettings
from llamachat.providers.base import OptionSpec, Provider
from llamachat.providers.deepinfra import DeepInfraProvider
from llamachat.providers.demo import DemoProvider
from llamachat.providers.e2e import E2EProvider
from llamachat.providers.openai import OpenAIProvider
from llamachat.providers.segmind import SegmindProvider

ADAPTERS: dict[str, Any] = {
    "openai": OpenAIProvider,
    "deepinfra": DeepInfraProvider,
    "e2e": E2EProvider,
    "segmind": SegmindProvider,
    "demo": DemoProvider,
}


def build_provider(settings: ProviderSettings, network: NetworkSettings | None = None) -> Provider:
    """A provider instance for ``settings``."""
    provider: Provider = ADAPTERS[settings.kind](settings, network)
    return provider


def provider_from_config(config: Config, name: str) -> Provider:
    """The provider called ``name`` in ``config``."""
    return build_provider(config.provider(name), config.network)


def option_specs(kind: str) -> tuple[OptionSpec, ...]:
    """The options an adapter kind declares, for the CLI and the settings screen."""
    specs: tuple[OptionSpec, ...] = ADAPTERS[kind].options
    return specs
