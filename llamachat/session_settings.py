"""A conversation's settings: provider, model, parameters, system prompt, context policy.

The part of a :class:`~llamachat.session.ChatSession` that says what the next request
is made with and keeps that with the conversation: adopted from the stored conversation
(over the config's defaults), switched mid-conversation, changed in Settings, and the
provider's balance and image support for the model chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from llamachat.config_errors import ConfigError
from llamachat.config_personas import PERSONA_KEY, Persona
from llamachat.context.settings import CONVERSATION_KEY, conversation_policy
from llamachat.params import SPECS, params_dict, params_from
from llamachat.providers.base import GenerationParams, Provider
from llamachat.providers.errors import ProviderError
from llamachat.store.models import Conversation
from llamachat.totals import SessionTotals

if TYPE_CHECKING:
    from llamachat.context.policy import ContextRules
    from llamachat.store.db import Store
    from llamachat.workspace import Workspace


class SessionSettings:
    """What a conversation's next request is made with, and where the conversation is kept."""

    # Set by :class:`~llamachat.session.ChatSession`, whose settings half this is.
    workspace: Workspace
    #: Where this conversation is kept (``None``: nowhere, or the store refused it).
    store: Store | None
    conversation_id: int | None
    provider_name: str
    model: str
    params: GenerationParams
    system_prompt: str | None
    #: The name of the persona in use (``None``: none); kept with the conversation and
    #: with each reply it makes.
    persona: str | None
    #: This conversation's own context_overflow policy (Settings); ``None``: the config's.
    context_overflow: str | None
    title: str
    #: The unsent prompt kept with the conversation when it was read.
    draft: str
    _stored_leaf: int | None  # the branch's end, when none of it was read
    totals: SessionTotals

    # --- settings -------------------------------------------------------------------------

    def provider(self, name: str | None = None) -> Provider:
        """The live provider of this conversation (or ``name``); ``ConfigError`` if unknown."""
        return self.workspace.provider(name or self.provider_name)

    def adopt(
        self, conversation: Conversation, *, provider: str | None = None, model: str | None = None
    ) -> None:
        """Take a stored conversation's settings: its provider and model (unless ``provider``
        or ``model`` is chosen over them), its parameters over the config's defaults for the
        provider, its system prompt and its context policy."""
        self.conversation_id = conversation.id
        self.title = conversation.title or "New chat"
        self.draft = conversation.draft
        self._stored_leaf = conversation.active_leaf_id
        self.provider_name = provider or conversation.provider or self.provider_name
        self.model = model or conversation.model or self.model
        defaults = self.workspace.default_params(self.provider_name)
        cleared = [
            name for name, value in conversation.params.items() if value is None and name in SPECS
        ]
        self.params = defaults.merged(params_from(conversation.params)).without(cleared)
        self.context_overflow = conversation_policy(conversation.params)
        self.system_prompt = conversation.system_prompt
        persona = conversation.params.get(PERSONA_KEY)
        self.persona = persona if isinstance(persona, str) and persona else None

    async def pick_model(self, explicit: str | None, stored: Conversation | None) -> str | None:
        """The model to use: ``explicit``, else the ``stored`` conversation's when it is on
        this provider, else the configured one, else the provider's own default, else the
        first it lists (``None``: it offers none)."""
        from llamachat.resolve import configured_model

        if explicit:
            return explicit
        if stored is not None and stored.model and stored.provider == self.provider_name:
            return stored.model
        settings = self.workspace.provider_settings(self.provider_name)
        provider = self.provider()
        model = configured_model(self.workspace.config, settings, None) or provider.default_model()
        if model:
            return model
        models = await provider.list_models()
        return models[0].id if models else None

    def keep_settings(self, *, persona_chosen: bool = False) -> None:
        """Keep the provider, model and system prompt in use with the conversation, and
        the parameters too when a persona was just chosen (``StoreError`` if the store
        refused)."""
        if self.store is not None and self.conversation_id is not None:
            params = {"params": self.stored_params()} if persona_chosen else {}
            self.store.update_settings(
                self.conversation_id,
                provider=self.provider_name,
                model=self.model,
                system_prompt=self.system_prompt,
                **params,
            )

    def stored_params(self) -> dict[str, object]:
        """The parameters kept with the conversation, with its own context policy if set."""
        stored: dict[str, object] = dict(params_dict(self.params))
        # A default the person cleared for this conversation stays cleared ("blank: the
        # provider's"), rather than coming back from the config when it is read again.
        defaults = self.workspace.default_params(self.provider_name).values()
        stored |= {name: None for name in defaults if name not in stored}
        if self.context_overflow:
            stored[CONVERSATION_KEY] = self.context_overflow
        if self.persona:
            stored[PERSONA_KEY] = self.persona
        return stored

    def use_persona(self, persona: Persona | None) -> None:
        """Take ``persona``'s system prompt, and its parameters over the config's defaults
        for the provider in use (``None``: no persona, the config's defaults again). Its
        provider and model are for the caller to choose (see :meth:`choose_persona`)."""
        defaults = self.workspace.default_params(self.provider_name)
        if persona is None:
            self.persona, self.params = None, defaults
            self.system_prompt = self.workspace.config.defaults.system_prompt
            return
        self.persona, self.system_prompt = persona.name, persona.system_prompt
        self.params = defaults.merged(persona.params)

    def choose_persona(self, name: str | None) -> None:
        """Use persona ``name`` (``None``: none) from the next message on: its provider and
        model when it names them, its system prompt and parameters; kept with the
        conversation (``ConfigError`` for an unknown name, ``StoreError`` if the store
        refused: the choice holds for this session anyway)."""
        persona = self.workspace.config.persona(name) if name else None
        if persona is not None and (persona.provider or persona.model):
            provider = persona.provider or self.provider_name
            model = persona.model
            if model is None and provider != self.provider_name:
                model = self.workspace.default_model(
                    provider, self.workspace.provider_settings(provider)
                )
            self.switch_model(provider, model or self.model)
        self.use_persona(persona)
        if self.store is not None and self.conversation_id is not None:
            self.store.update_settings(
                self.conversation_id, system_prompt=self.system_prompt, params=self.stored_params()
            )

    def switch_model(self, provider: str, model: str) -> None:
        """Use another provider or model from the next message on (kept with the
        conversation; ``StoreError`` if the store refused, the switch holds anyway)."""
        changed_provider = provider != self.provider_name
        self.provider_name, self.model = provider, model
        if changed_provider:
            self.totals.credits_usd = None  # another provider's balance would mislead
        if self.store is not None and self.conversation_id is not None:
            self.store.update_settings(self.conversation_id, provider=provider, model=model)

    def apply_settings(
        self, *, system_prompt: str | None, params: GenerationParams, context_overflow: str | None
    ) -> None:
        """Use these settings from the next message on, kept with the conversation
        (``StoreError`` if the store refused; they hold for this session anyway)."""
        self.params, self.system_prompt = params, system_prompt or None
        self.context_overflow = context_overflow
        if self.store is not None and self.conversation_id is not None:
            self.store.update_settings(
                self.conversation_id,
                system_prompt=self.system_prompt,
                params=self.stored_params(),
            )

    def context_rules(self) -> ContextRules | None:
        """How the next request is fitted into the model's window (``None``: as it is)."""
        try:
            return self.workspace.context_rules(
                self.provider_name, self.model, self.context_overflow
            )
        except ConfigError:
            return None

    def reports_credits(self) -> bool:
        """Whether the provider has a call for its balance (and a key to make it with)."""
        try:
            provider = self.provider()
        except ConfigError:
            return False  # said when something is sent
        return provider.capabilities.reports_credits and provider.has_key

    async def fetch_credits(self) -> bool:
        """Ask the provider for its balance; ``True`` if the totals changed."""
        provider = self.provider()
        try:
            credits = await provider.fetch_credits()
        except ProviderError:
            return False  # the balance is a nicety; a failure here is not worth a message
        if credits is None or provider.name != self.provider_name:
            return False  # switched meanwhile: another provider's balance would mislead
        self.totals.credits_usd = credits.remaining_usd
        return True

    def images_refused(self, images: Sequence[str], remedy: str) -> str | None:
        """Why ``images`` cannot go to the current model (``remedy``: what to do), or ``None``."""
        from llamachat.images import accepts_images

        provider = self.provider()
        if not images or accepts_images(provider, self.model):
            return None
        return f"'{self.model}' on {provider.display_name} does not accept images: {remedy}"

    def ensure_conversation(self) -> int | None:
        """The conversation's id, creating it in the store first if needed (``StoreError``)."""
        if self.store is not None and self.conversation_id is None:
            self.conversation_id = self.store.create_conversation(
                system_prompt=self.system_prompt,
                provider=self.provider_name,
                model=self.model,
                params=self.stored_params(),
            ).id
        return self.conversation_id
