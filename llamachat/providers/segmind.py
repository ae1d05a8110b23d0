"""Segmind: no token streaming; a sync call, or a queued job that is submitted then polled.

The sync call (v1) is here; the v2 job queue is :mod:`~llamachat.providers.segmind_queue`
and the cost and balance Segmind reports are :mod:`~llamachat.providers.segmind_billing`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from llamachat.numbers import money
from llamachat.providers.adapter import (
    BASE_URL_OPTION,
    DEFAULT_MODEL_OPTION,
    KEY_OPTION,
    HTTPProvider,
)
from llamachat.providers.base import (
    Capabilities,
    ChatRequest,
    Credits,
    ModelInfo,
    OptionKind,
    OptionSpec,
    ProviderEvent,
)
from llamachat.providers.errors import ErrorContext, ErrorKind, ProviderError
from llamachat.providers.openai_completion import parse_completion
from llamachat.providers.presets import LABELS, PRESET_MODELS, SEGMIND_BASE_URL, SEGMIND_KEY_ENV
from llamachat.providers.reply_errors import bad_response
from llamachat.providers.segmind_billing import header_credits, with_billing
from llamachat.providers.segmind_queue import poll_job, submit_and_poll

DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_DEADLINE = 600.0
#: The generation parameters Segmind takes (PROTOCOLS.md section 4); others are not sent.
SEGMIND_PARAMS = frozenset({"max_tokens", "temperature", "top_p"})


class SegmindProvider(HTTPProvider):
    """Segmind's serverless Llama 3.1 models, sync (v1) or queued (v2)."""

    kind: ClassVar[str] = "segmind"
    label: ClassVar[str] = LABELS["segmind"]
    default_base_url: ClassVar[str | None] = SEGMIND_BASE_URL
    key_header: ClassVar[str] = "x-api-key"
    key_prefix: ClassVar[str] = ""
    preset_models: ClassVar[tuple[ModelInfo, ...]] = PRESET_MODELS["segmind"]
    options: ClassVar[tuple[OptionSpec, ...]] = (
        KEY_OPTION.with_env(SEGMIND_KEY_ENV),
        OptionSpec(
            "mode",
            "Mode",
            OptionKind.CHOICE,
            "sync waits for the reply in one call; async queues a job and polls it.",
            choices=("sync", "async"),
            default="sync",
        ),
        OptionSpec(
            "poll_interval",
            "Poll every (s)",
            OptionKind.FLOAT,
            "How often a queued job's status is checked.",
            default=DEFAULT_POLL_INTERVAL,
        ),
        OptionSpec(
            "deadline",
            "Give up after (s)",
            OptionKind.FLOAT,
            "How long to wait for a queued job before leaving it to resume later.",
            default=DEFAULT_DEADLINE,
        ),
        BASE_URL_OPTION.with_default(default_base_url),
        DEFAULT_MODEL_OPTION,
    )

    @property
    def queued(self) -> bool:
        """Whether requests go through the v2 job queue."""
        return self.settings.mode == "async"

    @property
    def poll_interval(self) -> float:
        """Seconds between status polls."""
        return self.settings.poll_interval or DEFAULT_POLL_INTERVAL

    @property
    def deadline(self) -> float:
        """Seconds a queued job is waited for."""
        return self.settings.deadline or DEFAULT_DEADLINE

    def declare_capabilities(self) -> Capabilities:
        # The model pages document only messages; these three are accepted in practice.
        return Capabilities(
            streams=False,
            queued=self.queued,
            vision=True,
            reports_credits=True,
            reports_cost=True,
            params=SEGMIND_PARAMS,
        )

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body: messages and sampling fields; the model is in the URL."""
        return {"messages": [m.to_openai() for m in request.messages], **request.params.to_body()}

    def slug_url(self, version: str, model: str) -> str:
        """The URL of ``model`` under API ``version`` (``v1`` sync, ``v2`` queued)."""
        return f"{self.base_url}/{version}/{quote(model, safe='')}"

    # --- sync -------------------------------------------------------------------

    async def attempt(
        self, request: ChatRequest, ctx: ErrorContext
    ) -> AsyncGenerator[ProviderEvent, None]:
        response = await self.read_whole(
            "POST",
            self.slug_url("v1", request.model),
            ctx,
            json=self.request_body(request),
            timeout=httpx.Timeout(self.timeouts.reply, connect=self.timeouts.connect),
        )
        events = parse_completion(
            response.text, ctx, self.model_info(request.model), response.status_code
        )
        billed = with_billing(
            events, cost=response.headers.get("x-cost"), credits=header_credits(response)
        )
        for event in billed:
            yield event

    # --- async queue ------------------------------------------------------------

    def events(
        self, request: ChatRequest, ctx: ErrorContext
    ) -> AsyncGenerator[ProviderEvent, None]:
        if not self.queued:
            return super().events(request, ctx)
        return submit_and_poll(self, request, ctx)

    def resume(
        self, job_id: str, model: str, waited: float = 0.0
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Go back to polling a job submitted earlier (for example before a restart)."""
        ctx = self.error_context(model)
        return poll_job(self, job_id, ctx, model, status=None, waited=waited)

    # --- balance ----------------------------------------------------------------

    async def fetch_credits(self) -> Credits | None:
        """``GET /v1/get-user-credits``: paid and free credits in USD."""
        ctx = self.error_context()
        if self._key is None:
            raise ProviderError(
                ErrorKind.NO_KEY, f"{self.display_name} needs an API key: {self.key_hint()}."
            )
        response = await self.fetch_quietly("GET", f"{self.base_url}/v1/get-user-credits", ctx)
        try:
            data = response.json()
        except ValueError:
            raise bad_response(ctx, "the balance reply was not JSON", response.text) from None
        credits = money(data.get("credits")) if isinstance(data, Mapping) else None
        if credits is None:
            raise bad_response(ctx, "the balance reply had no credits", response.text)
        return Credits(credits, money(data.get("free-credits")))
