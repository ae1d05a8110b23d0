"""What every HTTP provider adapter shares: settings, the client, retries, error translation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, ClassVar, TypeVar

import httpx

from llamachat.config import NetworkSettings, ProviderSettings
from llamachat.config_checks import header_problem
from llamachat.providers.base import (
    Capabilities,
    ChatRequest,
    Credits,
    ModelInfo,
    OptionKind,
    OptionSpec,
    ProviderEvent,
    ReasoningDelta,
    Retrying,
    TextDelta,
)
from llamachat.providers.errors import ErrorContext, ErrorKind, ProviderError
from llamachat.providers.fields import redirect_error
from llamachat.providers.http import Timeouts, make_client
from llamachat.providers.limits import (
    MAX_ERROR_BODY,
    Body,
    decode,
    read_body,
    read_capped,
    reply_timeout,
    reply_too_long,
)
from llamachat.providers.presets import provider_label
from llamachat.providers.reply_errors import http_error
from llamachat.providers.retry import RetryPolicy, retry_after
from llamachat.providers.transport_errors import transport_error
from llamachat.secrets import url_password

T = TypeVar("T")

KEY_OPTION = OptionSpec("api_key", "API key", OptionKind.SECRET, "The key the provider issued you.")
BASE_URL_OPTION = OptionSpec(
    "base_url",
    "Base URL",
    OptionKind.URL,
    "Where the API lives, ending in /v1 for OpenAI-compatible servers.",
)
MODELS_OPTION = OptionSpec(
    "models", "Models", OptionKind.MODELS, "Model ids to offer besides the ones the API lists."
)
DEFAULT_MODEL_OPTION = OptionSpec(
    "default_model", "Default model", OptionKind.TEXT, "The model used when none is picked."
)


async def retrying(
    policy: RetryPolicy,
    attempt: Callable[[], AsyncGenerator[T, None]],
    translate: Callable[[httpx.TransportError], ProviderError],
) -> AsyncGenerator[T | Retrying, None]:
    """Run ``attempt`` until it succeeds, retrying failures that allow it.

    A retry is announced by a :class:`Retrying` event before its wait. Once a
    piece of text has been yielded, nothing is retried: the reply would repeat.
    """
    number = 0
    while True:
        started = False
        try:
            # Closed here, not left to the collector: a reader that stops early (``ask | head``)
            # must close the HTTP stream before the loop ends.
            async with aclosing(attempt()) as events:
                async for event in events:
                    if not started and type(event) in (TextDelta, ReasoningDelta):
                        started = True
                    yield event
            return
        except httpx.TransportError as exc:
            failure = translate(exc)
        except ProviderError as err:
            failure = err
        number += 1
        if started or not failure.retryable or not policy.allows(number, failure.retry_after):
            raise failure
        delay = policy.delay(number, failure.retry_after)
        yield Retrying(number, policy.max_retries, delay, failure.message)
        await asyncio.sleep(delay)


class HTTPProvider:
    """Base of the adapters that talk HTTP. Subclasses fill in the class-level declaration."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    default_base_url: ClassVar[str | None] = None
    preset_models: ClassVar[tuple[ModelInfo, ...]] = ()
    options: ClassVar[tuple[OptionSpec, ...]] = ()
    key_header: ClassVar[str] = "Authorization"
    key_prefix: ClassVar[str] = "Bearer "

    def __init__(self, settings: ProviderSettings, network: NetworkSettings | None = None) -> None:
        network = network or NetworkSettings()
        self.settings = settings
        self.name = settings.name
        self.display_name = provider_label(settings.name, settings.kind, settings.display_name)
        self.base_url = (settings.base_url or self.default_base_url or "").rstrip("/")
        self.key_env = settings.key_env
        self._key, self.key_source = settings.key()
        self.timeouts = Timeouts(
            connect=network.connect_timeout,
            read=network.read_timeout,
            reply=network.reply_timeout,
            stream=network.stream_timeout,
        )
        self.max_reply_chars = network.max_reply_chars
        self.policy = RetryPolicy(
            max_retries=network.max_retries,
            base_delay=network.backoff_base,
            max_delay=network.backoff_cap,
        )
        self.capabilities = self.declare_capabilities()
        self._client: httpx.AsyncClient | None = None

    # --- declaration ------------------------------------------------------------

    def declare_capabilities(self) -> Capabilities:
        """This instance's capabilities (some depend on settings, such as Segmind's mode)."""
        raise NotImplementedError

    @property
    def has_key(self) -> bool:
        """Whether a key was found in the config or the environment."""
        return self._key is not None

    def key_hint(self) -> str:
        """What to do about a missing or rejected key, naming the env var to set."""
        if self.key_env:
            return f"set {self.key_env[0]} or add the key in Settings"
        return f"add the key in Settings (or set api_key_env for [providers.{self.name}])"

    def known_models(self) -> list[ModelInfo]:
        """Preset models plus the ones named in the config, without a network call."""
        models = list(self.preset_models)
        known = {m.id for m in models}
        for model_id in (*self.settings.models, self.settings.default_model):
            if model_id and model_id not in known:
                models.append(ModelInfo(model_id))
                known.add(model_id)
        return models

    def model_info(self, model: str) -> ModelInfo | None:
        """What is known about ``model`` without a network call."""
        for info in self.known_models():
            if info.id == model:
                return info
        return None

    def default_model(self) -> str | None:
        """The configured default model, else the first known one."""
        if self.settings.default_model:
            return self.settings.default_model
        models = self.known_models()
        return models[0].id if models else None

    # --- plumbing ---------------------------------------------------------------

    def origin(self) -> str:
        """The scheme, host and port the key belongs to."""
        url = httpx.URL(self.base_url)
        return str(url.copy_with(path="/", query=None, fragment=None))

    @property
    def client(self) -> httpx.AsyncClient:
        """The provider's HTTP client, created on first use.

        A header that cannot be sent (settings not read from the file, which refuses it
        with its line) is a configuration error before anything is sent, never retried.
        """
        if self._client is None:
            for name, value in self.settings.headers.items():
                problem = header_problem(name, value)
                if problem:
                    raise ProviderError(
                        ErrorKind.NOT_CONFIGURED,
                        f"The {problem}: fix it in [providers.{self.name}] of the config.",
                    )
            self._client = make_client(
                self.origin(),
                self.timeouts,
                key=self._key,
                key_header=self.key_header,
                key_prefix=self.key_prefix,
                headers=self.settings.headers,
            )
        return self._client

    def error_context(self, model: str = "") -> ErrorContext:
        """The facts the error sentences need, with the key to mask."""
        secrets = tuple(
            s
            for s in (
                self._key.reveal() if self._key else "",
                *self.settings.headers.values(),
                url_password(self.base_url),
            )
            if s
        )
        return ErrorContext(self.display_name, model, self.key_hint(), secrets)

    def translate(
        self, ctx: ErrorContext, *, idempotent: bool = True
    ) -> Callable[[httpx.TransportError], ProviderError]:
        """A function turning network exceptions into sentences for ``ctx``."""

        def run(exc: httpx.TransportError) -> ProviderError:
            return transport_error(ctx, exc, read_timeout=self.timeouts.read, idempotent=idempotent)

        return run

    async def raise_for_status(self, response: httpx.Response, ctx: ErrorContext) -> None:
        """Raise the mapped :class:`ProviderError` if ``response`` is a redirect or an HTTP error.

        Redirects are never followed (the key would travel); an error body is read
        up to :data:`~llamachat.providers.limits.MAX_ERROR_BODY` only.
        """
        status = response.status_code
        if status < 300:
            return
        if status < 400:
            raise redirect_error(ctx, response)
        data, _ = await read_capped(response, MAX_ERROR_BODY)
        body = decode(data, response.encoding)
        raise http_error(ctx, status, body, retry_after(response.headers))

    async def read_whole(
        self, method: str, url: str, ctx: ErrorContext, *, check: bool = True, **kwargs: Any
    ) -> Body:
        """One request whose whole reply must arrive within ``reply_timeout``, size-capped.

        A redirect is always refused; with ``check``, so is an HTTP error status.
        """
        try:
            async with asyncio.timeout(self.timeouts.reply):
                async with self.client.stream(method, url, **kwargs) as response:
                    if check or 300 <= response.status_code < 400:
                        await self.raise_for_status(response, ctx)
                    return await read_body(response, ctx)
        except TimeoutError:
            raise reply_timeout(ctx, self.timeouts.reply) from None

    def check_request(self, request: ChatRequest) -> None:
        """Refuse, before any network traffic, a request this provider cannot take."""
        if self.capabilities.needs_key and self._key is None:
            raise ProviderError(
                ErrorKind.NO_KEY, f"{self.display_name} needs an API key: {self.key_hint()}."
            )
        if any(m.has_images for m in request.messages):
            info = self.model_info(request.model)
            if not self.capabilities.vision or (info is not None and info.vision is False):
                raise ProviderError(
                    ErrorKind.UNSUPPORTED,
                    f"'{request.model}' on {self.display_name} does not accept images: "
                    "pick a model that does, or send text only.",
                )

    # --- the protocol -----------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncGenerator[ProviderEvent, None]:
        """Answer ``request`` as events; a failure carries the text received before it."""
        self.check_request(request)
        ctx = self.error_context(request.model)
        received: list[str] = []
        limit = self.max_reply_chars
        size = 0
        try:
            async with aclosing(self.events(request, ctx)) as events:
                async for event in events:
                    kind = type(event)
                    if kind is TextDelta or kind is ReasoningDelta:
                        assert isinstance(event, TextDelta | ReasoningDelta)
                        size += len(event.text)
                        if size > limit:
                            # Past the cap: keep the text up to it, read no more.
                            kept = event.text[: len(event.text) - (size - limit)]
                            if kept:
                                if kind is TextDelta:
                                    received.append(kept)
                                yield kind(kept)
                            raise reply_too_long(ctx, limit)
                        if kind is TextDelta:
                            received.append(event.text)
                    yield event
        except ProviderError as err:
            err.partial_text = "".join(received)
            raise

    def events(
        self, request: ChatRequest, ctx: ErrorContext
    ) -> AsyncGenerator[ProviderEvent, None]:
        """The events of one request, retries included."""
        return retrying(self.policy, lambda: self.attempt(request, ctx), self.translate(ctx))

    def fetch(
        self, method: str, url: str, ctx: ErrorContext, *, idempotent: bool = True, **kwargs: Any
    ) -> AsyncGenerator[Body | Retrying, None]:
        """One plain request with retries: ``Retrying`` events, then the successful reply, whole.

        A request that must not run twice (``idempotent=False``) is retried only when the
        server refused it outright (429) or it never left (a connection that failed).
        """

        async def once() -> AsyncGenerator[Body, None]:
            try:
                body = await self.read_whole(method, url, ctx, **kwargs)
            except ProviderError as err:
                if not idempotent and err.status != 429:
                    err.retryable = False
                raise
            yield body

        return retrying(self.policy, once, self.translate(ctx, idempotent=idempotent))

    async def fetch_quietly(self, method: str, url: str, ctx: ErrorContext, **kwargs: Any) -> Body:
        """Like :meth:`fetch`, for callers that only want the reply."""
        async for item in self.fetch(method, url, ctx, **kwargs):
            if isinstance(item, Body):
                return item
        raise AssertionError("fetch ended without a response")  # pragma: no cover

    def attempt(
        self, request: ChatRequest, ctx: ErrorContext
    ) -> AsyncGenerator[ProviderEvent, None]:
        """One try at the request, without retries."""
        raise NotImplementedError

    def resume(
        self, job_id: str, model: str, waited: float = 0.0
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Only queued providers have jobs to resume."""
        raise ProviderError(
            ErrorKind.UNSUPPORTED,
            f"{self.display_name} has no job queue, so there is nothing to resume.",
        )

    async def list_models(self) -> list[ModelInfo]:
        """The models on offer; without a models API, the known ones."""
        return self.known_models()

    async def fetch_credits(self) -> Credits | None:
        """The account balance, where the provider has a call for it."""
        return None

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
