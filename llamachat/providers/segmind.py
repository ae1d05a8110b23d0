"""Segmind: no token streaming; a sync call, or a queued job that is submitted then polled.

The v2 queue follows PROTOCOLS.md section 4: a submit that was accepted is
never sent again; polling GETs are retried; ``FAILED`` (HTTP 422) and an
expired job (404) get their own sentences; the result's ``output`` is JSON
encoded inside a string and is decoded twice. Cancelling the stream stops
polling; the job id from :class:`JobQueued` resumes it with :meth:`resume`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from llamachat.providers.adapter import (
    BASE_URL_OPTION,
    DEFAULT_MODEL_OPTION,
    KEY_OPTION,
    HTTPProvider,
    retrying,
)
from llamachat.providers.base import (
    Capabilities,
    ChatRequest,
    Credits,
    Finished,
    JobQueued,
    JobStatus,
    ModelInfo,
    OptionKind,
    OptionSpec,
    ProviderEvent,
    Retrying,
    Usage,
)
from llamachat.providers.errors import (
    ErrorContext,
    ErrorKind,
    ProviderError,
    bad_response,
    http_error,
    server_message,
)
from llamachat.providers.openai import parse_completion
from llamachat.providers.presets import LABELS, PRESET_MODELS, SEGMIND_BASE_URL, SEGMIND_KEY_ENV
from llamachat.providers.retry import retry_after

DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_DEADLINE = 600.0
#: The generation parameters Segmind takes (PROTOCOLS.md section 4); others are not sent.
SEGMIND_PARAMS = frozenset({"max_tokens", "temperature", "top_p"})
_PENDING_DONE = {"COMPLETED", "FAILED"}


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def with_billing(
    events: list[ProviderEvent], *, cost: float | None, credits: float | None
) -> list[ProviderEvent]:
    """``events`` with Segmind's reported cost in the usage and the balance before the finish."""
    has_usage = any(isinstance(e, Usage) for e in events)
    billed: list[ProviderEvent] = []
    for event in events:
        if isinstance(event, Usage) and cost is not None:
            event = Usage(event.prompt_tokens, event.completion_tokens, cost)
        if isinstance(event, Finished):
            if cost is not None and not has_usage:
                billed.append(Usage(cost_usd=cost))
            if credits is not None:
                billed.append(Credits(credits))
        billed.append(event)
    return billed


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

    def _slug_url(self, version: str, model: str) -> str:
        return f"{self.base_url}/{version}/{quote(model, safe='')}"

    async def raise_for_status(self, response: httpx.Response, ctx: ErrorContext) -> None:
        """As for every provider, but a Segmind 500 usually means a bad parameter: no retry."""
        try:
            await super().raise_for_status(response, ctx)
        except ProviderError as err:
            if err.status == 500 and err.kind is ErrorKind.SERVER:
                err.retryable = False
            raise

    # --- sync -------------------------------------------------------------------

    async def attempt(
        self, request: ChatRequest, ctx: ErrorContext
    ) -> AsyncGenerator[ProviderEvent, None]:
        response = await self.client.post(
            self._slug_url("v1", request.model),
            json=self.request_body(request),
            timeout=httpx.Timeout(self.timeouts.reply, connect=self.timeouts.connect),
        )
        await self.raise_for_status(response, ctx)
        events = parse_completion(response.text, ctx, self.model_info(request.model))
        billed = with_billing(
            events,
            cost=_float(response.headers.get("x-cost")),
            credits=_float(response.headers.get("x-remaining-credits")),
        )
        for event in billed:
            yield event

    # --- async queue ------------------------------------------------------------

    def events(
        self, request: ChatRequest, ctx: ErrorContext
    ) -> AsyncGenerator[ProviderEvent, None]:
        if not self.queued:
            return super().events(request, ctx)
        return self._queued(request, ctx)

    async def _queued(
        self, request: ChatRequest, ctx: ErrorContext
    ) -> AsyncGenerator[ProviderEvent, None]:
        submitted: httpx.Response | None = None
        # idempotent=False: a failure after the request may have arrived is not retried.
        async for item in self.fetch(
            "POST",
            self._slug_url("v2", request.model),
            ctx,
            idempotent=False,
            json=self.request_body(request),
        ):
            if isinstance(item, Retrying):
                yield item
            else:
                submitted = item
        assert submitted is not None
        try:
            job = submitted.json()
        except ValueError:
            raise bad_response(
                ctx, "the job submission reply was not JSON", submitted.text
            ) from None
        if not isinstance(job, Mapping) or not all(
            job.get(k) for k in ("request_id", "status_url", "response_url")
        ):
            raise bad_response(
                ctx,
                "the job submission reply had no request_id, status_url or response_url",
                submitted.text,
            )
        job_id = str(job["request_id"])
        yield JobQueued(job_id)
        async for event in self._poll(
            job_id,
            ctx,
            request.model,
            status=str(job.get("status") or "QUEUED"),
            status_url=self._same_origin(job.get("status_url")),
            result_url=self._same_origin(job.get("response_url")),
        ):
            yield event

    def resume(
        self, job_id: str, model: str, waited: float = 0.0
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Go back to polling a job submitted earlier (for example before a restart)."""
        ctx = self.error_context(model)
        return self._poll(job_id, ctx, model, status=None, waited=waited)

    def _same_origin(self, url: Any) -> str | None:
        """A server-supplied URL, only if it points at our own host (the key goes there)."""
        if not isinstance(url, str):
            return None
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            return None
        base = httpx.URL(self.base_url)
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            return None
        return url

    def _job_error(self, ctx: ErrorContext, job_id: str, response: httpx.Response) -> ProviderError:
        body = response.text
        if response.status_code == 404:
            return ProviderError(
                ErrorKind.JOB_EXPIRED,
                f"{ctx.provider} no longer has job {job_id} (results are kept for one hour): "
                "send the prompt again.",
                status=404,
                body=body,
                job_id=job_id,
            )
        if response.status_code == 422:
            reason = server_message(body) or "no reason given"
            return ProviderError(
                ErrorKind.JOB_FAILED,
                f"{ctx.provider} job {job_id} failed: {ctx.clean(reason)}.",
                status=422,
                body=body,
                job_id=job_id,
            )
        error = http_error(ctx, response.status_code, body, retry_after(response.headers))
        error.job_id = job_id
        return error

    async def _poll(
        self,
        job_id: str,
        ctx: ErrorContext,
        model: str,
        *,
        status: str | None,
        status_url: str | None = None,
        result_url: str | None = None,
        waited: float = 0.0,
    ) -> AsyncGenerator[ProviderEvent, None]:
        status_url = status_url or f"{self.base_url}/v2/requests/{quote(job_id, safe='')}/status"
        result_url = result_url or f"{self.base_url}/v2/requests/{quote(job_id, safe='')}"
        started = time.monotonic() - waited
        give_up_at = time.monotonic() + self.deadline
        interval = self.poll_interval
        if status is not None:
            yield JobStatus(job_id, status, waited, interval)
        while status != "COMPLETED":
            if time.monotonic() + interval > give_up_at:
                raise ProviderError(
                    ErrorKind.JOB_TIMEOUT,
                    f"{ctx.provider} job {job_id} did not finish within {self.deadline:g} s; "
                    "it was left in the queue, so it can be resumed later.",
                    job_id=job_id,
                )
            await asyncio.sleep(interval)
            data: Mapping[str, Any] = {}
            async for item in self._get_job(status_url, job_id, ctx):
                if isinstance(item, Retrying):
                    yield item
                else:
                    data = item
            new_status = str(data.get("status") or "PENDING").upper()
            if new_status == "FAILED":
                reason = data.get("error") or "no reason given"
                raise ProviderError(
                    ErrorKind.JOB_FAILED,
                    f"{ctx.provider} job {job_id} failed: {ctx.clean(str(reason))}.",
                    body=json.dumps(data),
                    job_id=job_id,
                )
            if new_status != status:
                status = new_status
                yield JobStatus(
                    job_id,
                    status,
                    time.monotonic() - started,
                    None if status == "COMPLETED" else interval,
                )
        result: Mapping[str, Any] = {}
        async for item in self._get_job(result_url, job_id, ctx):
            if isinstance(item, Retrying):
                yield item
            else:
                result = item
        for event in self._result_events(result, ctx, model):
            yield event

    async def _get_job(
        self, url: str, job_id: str, ctx: ErrorContext
    ) -> AsyncGenerator[Mapping[str, Any] | Retrying, None]:
        """A status or result GET, retried on transient failures, mapped to job errors."""

        async def once() -> AsyncGenerator[Mapping[str, Any], None]:
            response = await self.client.get(url)
            if response.status_code >= 400:
                raise self._job_error(ctx, job_id, response)
            try:
                data = response.json()
            except ValueError:
                raise bad_response(ctx, "a job status reply was not JSON", response.text) from None
            if not isinstance(data, Mapping):
                raise bad_response(ctx, "a job status reply was not an object", response.text)
            yield data

        policy = replace(self.policy, max_retries=max(self.policy.max_retries, 6))
        try:
            async for item in retrying(policy, once, self.translate(ctx)):
                yield item
        except ProviderError as err:
            err.job_id = job_id
            if err.kind not in (ErrorKind.JOB_EXPIRED, ErrorKind.JOB_FAILED):
                err.message = f"{err.message} The job {job_id} is kept and can be resumed."
                err.args = (err.message,)
            raise

    def _result_events(
        self, result: Mapping[str, Any], ctx: ErrorContext, model: str
    ) -> list[ProviderEvent]:
        output = result.get("output")
        if isinstance(output, str):
            try:
                decoded = json.loads(output)
            except ValueError:
                decoded = None
            body = (
                output
                if isinstance(decoded, dict)
                else json.dumps(
                    {"choices": [{"message": {"role": "assistant", "content": output}}]}
                )
            )
        elif isinstance(output, Mapping):
            body = json.dumps(output)
        else:
            raise bad_response(ctx, "the finished job had no output", json.dumps(result))
        events = parse_completion(body, ctx, self.model_info(model))
        metrics = result.get("metrics")
        if not isinstance(metrics, Mapping):
            metrics = {}
        return with_billing(
            events,
            cost=_float(metrics.get("cost")),
            credits=_float(metrics.get("remaining_credits")),
        )

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
        credits = _float(data.get("credits")) if isinstance(data, Mapping) else None
        if credits is None:
            raise bad_response(ctx, "the balance reply had no credits", response.text)
        return Credits(credits, _float(data.get("free-credits")))
