"""The one protocol every provider adapter speaks.

A :class:`ChatRequest` goes in; an async stream of :data:`ProviderEvent` comes
out. Failures are :class:`~llamachat.providers.errors.ProviderError`. Nothing
here knows about Textual, the store or the command line.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from llamachat.messages import ChatMessage as ChatMessage
from llamachat.messages import ContentPart as ContentPart
from llamachat.messages import ImagePart as ImagePart
from llamachat.messages import Role as Role
from llamachat.messages import TextPart as TextPart
from llamachat.params import ALL_PARAMS
from llamachat.params import GenerationParams as GenerationParams


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What a provider is asked to answer."""

    messages: tuple[ChatMessage, ...]
    model: str
    params: GenerationParams = field(default_factory=GenerationParams)
    stream: bool = True


# --- events -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobQueued:
    """A queued provider accepted the request as a job; keep ``job_id`` to resume it."""

    job_id: str


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A queued job changed state (``QUEUED``, ``PROCESSING``, ``COMPLETED``...)."""

    job_id: str
    status: str
    waited: float
    next_poll_in: float | None = None


@dataclass(frozen=True, slots=True)
class Retrying:
    """A request failed in a way worth retrying; the next attempt starts after ``delay`` s."""

    attempt: int
    max_attempts: int
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply's text."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning ("thinking"), shown apart and never sent back."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts and, when the provider reports or prices it, the cost in USD."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    cost_is_estimate: bool = False


@dataclass(frozen=True, slots=True)
class Credits:
    """The account balance the provider reported, in USD."""

    remaining_usd: float
    free_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Finished:
    """The reply is complete. ``raw`` keeps the provider's last JSON object, unknown fields too."""

    finish_reason: str | None
    raw: Mapping[str, Any] | None = None


ProviderEvent = (
    JobQueued | JobStatus | Retrying | TextDelta | ReasoningDelta | Usage | Credits | Finished
)


# --- declarations -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider can do; the UI and CLI adapt to these flags, never to provider names."""

    streams: bool
    queued: bool = False
    vision: bool = False
    lists_models: bool = False
    reports_credits: bool = False
    reports_cost: bool = False
    needs_key: bool = True
    #: The generation parameters (wire names) the provider takes; others are not sent.
    params: frozenset[str] = ALL_PARAMS


class OptionKind(StrEnum):
    """How an option is entered and shown."""

    SECRET = "secret"
    URL = "url"
    TEXT = "text"
    CHOICE = "choice"
    FLOAT = "float"
    MODELS = "models"


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One setting a provider takes; the settings screen and CLI are built from these."""

    name: str
    label: str
    kind: OptionKind
    help: str
    env_vars: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    default: str | float | None = None

    def with_env(self, env_vars: tuple[str, ...]) -> OptionSpec:
        """This option, read from ``env_vars`` when the config does not set it."""
        return replace(self, env_vars=env_vars)

    def with_default(self, default: str | float | None) -> OptionSpec:
        """This option with a preset value."""
        return replace(self, default=default)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model a provider offers, with what is known about it."""

    id: str
    context_length: int | None = None
    usd_per_mtok_in: float | None = None
    usd_per_mtok_out: float | None = None
    #: Whether the model accepts images: ``None`` when unknown (then images are allowed).
    vision: bool | None = None

    def cost(self, usage: Usage) -> float | None:
        """The price of ``usage`` by this model's list prices, or ``None`` if unknown."""
        if self.usd_per_mtok_in is None or usage.prompt_tokens is None:
            return None
        out_price = self.usd_per_mtok_out if self.usd_per_mtok_out is not None else 0.0
        completion = usage.completion_tokens or 0
        return (usage.prompt_tokens * self.usd_per_mtok_in + completion * out_price) / 1e6


@runtime_checkable
class Provider(Protocol):
    """A configured provider: one adapter instance bound to its settings.

    The UI and the CLI see only this: a name, capabilities, models, and a
    stream of events. Which wire protocol sits behind it is the adapter's business.
    """

    name: str
    display_name: str
    capabilities: Capabilities
    base_url: str
    key_source: str | None
    key_env: tuple[str, ...]

    @property
    def has_key(self) -> bool:
        """Whether a key was found (always true for keyless providers)."""
        ...

    def stream(self, request: ChatRequest) -> AsyncGenerator[ProviderEvent, None]:
        """Answer ``request`` as a stream of events; raise ``ProviderError`` on failure."""
        ...

    def resume(
        self, job_id: str, model: str, waited: float = 0.0
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Continue a queued job submitted earlier (queued providers only)."""
        ...

    async def list_models(self) -> list[ModelInfo]:
        """The models this provider offers (from its API where it has one)."""
        ...

    def known_models(self) -> list[ModelInfo]:
        """The models known without a network call."""
        ...

    def model_info(self, model: str) -> ModelInfo | None:
        """What is known about ``model`` without a network call."""
        ...

    def default_model(self) -> str | None:
        """The model to use when none is picked."""
        ...

    async def fetch_credits(self) -> Credits | None:
        """The account balance, or ``None`` where the provider has no balance call."""
        ...

    async def aclose(self) -> None:
        """Release network resources."""
        ...
