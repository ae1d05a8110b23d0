"""What the app and the command line share: the config, the store, the live providers.

One :class:`Workspace` per process. It builds each provider once, on first use, and
answers the questions every conversation asks of the config (a provider's settings,
its human name, its default parameters, how a model's window is fitted). It knows
nothing of terminals or widgets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from llamachat.adhoc import is_adhoc
from llamachat.config import Config, ProviderSettings, configured_params
from llamachat.providers.base import GenerationParams, Provider

if TYPE_CHECKING:
    from llamachat.context.policy import ContextRules
    from llamachat.store.db import Store


class Workspace:
    """The config, the store (``None`` when it cannot be opened) and the providers in use."""

    def __init__(self, config: Config, store: Store | None) -> None:
        self.config = config
        self.store = store
        self._providers: dict[str, Provider] = {}
        #: Settings given for one name outside the config (``ask``'s flags).
        self._given: dict[str, ProviderSettings] = {}
        #: Money the providers reported for this process's replies, in US dollars.
        self.spent_usd = 0.0
        #: Windows a server reported (or a request measured) by (provider, model).
        self._windows: dict[tuple[str, str], int] = {}
        #: The ``[keymap]`` in force (the TUI leaves out lines it cannot use).
        self.keymap: dict[str, str] = dict(config.keymap)

    @classmethod
    def start(
        cls, config: Config | None = None, store: Store | None = None
    ) -> tuple[Workspace, list[str], str | None]:
        """The workspace of a session, with the config file and the store opened unless
        given; what went wrong doing so (one sentence each, the session goes on with the
        defaults or unsaved); and why the config file could not be read, if it could not
        (it must then never be written over)."""
        from llamachat.config import config_defaults, load_config
        from llamachat.config_errors import ConfigError
        from llamachat.store.db import Store, StoreError

        problems: list[str] = []
        config_error = None
        if config is None:
            try:
                config = load_config()
            except ConfigError as error:
                problems.append(f"{error} Using the built-in defaults for now.")
                config_error = str(error)
                config = config_defaults()
        problems.extend(config.warnings)
        if store is None:
            try:
                store = Store.open_default()
            except StoreError as error:
                problems.append(f"{error} Conversations will not be saved this session.")
        return cls(config, store), problems, config_error

    def provider_settings(self, name: str) -> ProviderSettings:
        """The settings of provider ``name`` (``ConfigError`` if there is none)."""
        given = self._given.get(name)
        if given is not None:
            return given
        if is_adhoc(name):  # a conversation `ask --base-url` made: no configured key
            from llamachat.resolve import provider_settings

            return provider_settings(self.config, None, base_url=name)
        return self.config.provider(name)

    def provider(self, name: str) -> Provider:
        """The live provider called ``name``, built on first use (``ConfigError`` if unknown)."""
        provider = self._providers.get(name)
        if provider is None:
            from llamachat.providers.registry import build_provider

            provider = build_provider(self.provider_settings(name), self.config.network)
            self._providers[name] = provider
        return provider

    def use(self, name: str, settings: ProviderSettings) -> Provider:
        """Talk to ``settings`` under ``name`` from now on (settings from flags, not the file)."""
        self._given[name] = settings
        self._providers.pop(name, None)
        return self.provider(name)

    def is_built(self, name: str) -> bool:
        """Whether provider ``name`` has been built (and so may hold connections)."""
        return name in self._providers

    def display_name(self, name: str | None) -> str:
        """A provider's human name: its ``display_name``, else the name it has in the config
        (a built-in one's label: "DeepInfra"), never only its kind's."""
        if not name:
            return "assistant"
        if name in self._providers:
            return self._providers[name].display_name
        settings = self.config.providers.get(name)
        if settings is None:
            return name
        from llamachat.providers.presets import provider_label

        return provider_label(name, settings.kind, settings.display_name)

    def default_params(self, provider: str | None) -> GenerationParams:
        """Generation defaults from the config for ``provider`` (its own table wins)."""
        return configured_params(self.config, provider)

    def context_rules(self, name: str, model: str, policy: str | None = None) -> ContextRules:
        """How a request to ``model`` on provider ``name`` is fitted into its window
        (``policy``: the conversation's own, over the config's)."""
        from llamachat.context.settings import context_rules

        # A provider not built yet is not built for this: that would import httpx before
        # the first paint of a stored conversation. Its presets say the same.
        settings = self.provider_settings(name)
        rules = context_rules(self.config, settings, self._providers.get(name), model, policy)
        learned = self._windows.get((name, model))
        if rules.window is None and learned is not None:
            return replace(rules, window=learned, probe=False, source="server")
        return rules

    def learn_window(self, name: str, model: str, window: int) -> None:
        """Remember the window a request to ``model`` on ``name`` found (for the meter)."""
        self._windows[(name, model)] = window

    def add_provider(self, settings: ProviderSettings) -> None:
        """Offer one more provider (a local server found), as if it were in the config."""
        providers = dict(self.config.providers)
        providers[settings.name] = settings
        self.config = replace(self.config, providers=providers)
        self._providers.pop(settings.name, None)

    def default_provider(self) -> tuple[str, ProviderSettings]:
        """The provider a new conversation starts on: the configured default, else the demo."""
        from llamachat.config import default_provider_name

        name = default_provider_name(self.config)
        settings = self.config.providers.get(name)
        if settings is None:
            return "demo", self.config.providers["demo"]
        return name, settings

    def default_model(self, name: str, settings: ProviderSettings) -> str:
        """The model a new conversation on provider ``name`` starts with."""
        from llamachat.providers.presets import PRESET_MODELS

        # Read from the settings and presets: building the provider here would import httpx
        # before the first paint.
        presets = PRESET_MODELS.get(settings.kind, ())
        return (
            settings.default_model
            or (self.config.default_model if name == self.config.default_provider else None)
            or (settings.models[0] if settings.models else None)
            or (presets[0].id if presets else None)
            or self.provider(name).default_model()
            or ""
        )

    def reconfigure(self, config: Config) -> Sequence[Provider]:
        """Use ``config`` from now on; returns the providers built from the old one, to close."""
        self.config = config
        old = list(self._providers.values())
        self._providers.clear()
        return old

    async def aclose(self) -> None:
        """Close every provider's connections."""
        for provider in self.reconfigure(self.config):
            await provider.aclose()
