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

from llamachat.numbers import money, reported_cost
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
from llamachat.providers.error_bodies import server_message
from llamachat.providers.errors import ErrorContext, ErrorKind, ProviderError
from llamachat.providers.fields import kind_of, malformed
from llamachat.providers.limits import Body
from llamachat.providers.openai_completion import parse_completion
from llamachat.providers.presets import LABELS, PRESET_MODELS, SEGMIND_BASE_URL, SEGMIND_KEY_ENV
from llamachat.providers.reply_errors import bad_response, http_error
from llamachat.providers.retry import retry_after
from llamachat.providers.wirejson import NestedTooDeep, loads

DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_DEADLINE = 600.0
#: The generation parameters Segmind takes (PROTOCOLS.md section 4); others are not sent.
SEGMIND_PARAMS = frozenset({"max_tokens", "temperature", "top_p"})
_PENDING_DONE = {"COMPLETED", "FAILED"}


#: A job older than this is gone at Segmind (results are kept one hour).
JOB_LIFETIME = 3600.0
CREDITS_HEADER = "x-remaining-credits"
RESUME_HINT = "press r on the reply to resume waiting for it, or run `llamachat history resume`"
#: Job failures after which polling again cannot help.
TERMINAL_JOB_ERRORS = (ErrorKind.JOB_EXPIRED, ErrorKind.JOB_UNKNOWN, ErrorKind.JOB_FAILED)


def header_credits(response: Body) -> float | None:
    """The balance in a reply's ``x-remaining-credits`` header, if it can be read."""
    return money(response.headers.get(CREDITS_HEADER))


def unconfirmed(ctx: ErrorContext, err: ProviderError) -> ProviderError:
    """A submit that failed after it may have reached Segmind: say it may still be billed.

    A refusal (4xx) proves no job was made; a 5xx, a timeout or a cut connection
    does not, and such a submit is never sent again on its own.
    """
    maybe_sent = (err.status is not None and err.status >= 500) or (
        err.status is None
        and err.kind
        in (
            ErrorKind.READ_TIMEOUT,
            ErrorKind.STREAM_CUT,
            ErrorKind.REPLY_TIMEOUT,
            ErrorKind.REPLY_TOO_LARGE,
        )
    )
    if not maybe_sent:
        return err
    what = f"HTTP {err.status}" if err.status is not None else "no reply"
    return ProviderError(
        ErrorKind.JOB_UNCONFIRMED,
        f"{ctx.provider} did not confirm the job ({what}), so it may still run and be billed: "
        "llamachat will not send it again on its own; regenerate (r) to submit it again.",
        status=err.status,
        body=err.body,
    )


def with_billing(
    events: list[ProviderEvent], *, cost: Any, credits: float | None
) -> list[ProviderEvent]:
    """``events`` with Segmind's reported cost in the usage and the balance before the finish.

    ``cost`` is the value as sent (``x-cost``, ``metrics.cost``), taken only when it is
    plausible for the reply's tokens (:func:`reported_cost`); else the list-price estimate stays.
    """
    has_usage = any(isinstance(e, Usage) for e in events)
    billed: list[ProviderEvent] = []
    for event in events:
        if isinstance(event, Usage):
            usd = reported_cost(cost, event.prompt_tokens, event.completion_tokens)
            if usd is not None:
                event = Usage(event.prompt_tokens, event.completion_tokens, usd)
        if isinstance(event, Finished):
            usd = None if has_usage else reported_cost(cost, None, None)
            if usd is not None:
                billed.append(Usage(cost_usd=usd))
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

    # --- sync -------------------------------------------------------------------

    async def attempt(
        self, request: ChatRequest, ctx: ErrorContext
    ) -> AsyncGenerator[ProviderEvent, None]:
        response = await self.read_whole(
            "POST",
            self._slug_url("v1", request.model),
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
        return self._queued(request, ctx)

    async def _queued(
        self, request: ChatRequest, ctx: ErrorContext
    ) -> AsyncGenerator[ProviderEvent, None]:
        submitted: Body | None = None
        try:
            # idempotent=False: once the request may have arrived, it is never sent again.
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
        except ProviderError as err:
            raise unconfirmed(ctx, err) from None
        assert submitted is not None
        try:
            job = submitted.json()
        except ValueError:
            raise bad_response(
                ctx, "the job submission reply was not JSON", submitted.text
            ) from None
        if not isinstance(job, Mapping) or not all(
            isinstance(job.get(k), str) and job.get(k)
            for k in ("request_id", "status_url", "response_url")
        ):
            raise bad_response(
                ctx,
                "the job submission reply had no request_id, status_url or response_url",
                submitted.text,
            )
        job_id = str(job["request_id"])
        yield JobQueued(job_id)
        credits = header_credits(submitted)
        if credits is not None:
            yield Credits(credits)
        async for event in self._poll(
            job_id,
            ctx,
            request.model,
            status=ctx.clean(job["status"], 40) if isinstance(job.get("status"), str) else "QUEUED",
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

    def _job_error(
        self, ctx: ErrorContext, job_id: str, response: Body, *, seen: bool, age: float
    ) -> ProviderError:
        body = response.text
        if response.status_code == 404 and not seen and age < JOB_LIFETIME:
            return ProviderError(
                ErrorKind.JOB_UNKNOWN,
                f"{ctx.provider} does not know job {job_id} (404 on its first status check): "
                "the id is wrong or the job was never accepted; send the prompt again.",
                status=404,
                body=body,
                job_id=job_id,
            )
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
        poll = JobPoll(self, job_id, ctx, started)
        if status is not None:
            yield JobStatus(job_id, status, waited, interval)
        while status != "COMPLETED":
            if time.monotonic() + interval > give_up_at:
                error = ProviderError(
                    ErrorKind.JOB_TIMEOUT,
                    f"{ctx.provider} job {job_id} did not finish within {self.deadline:g} s; "
                    f"it is kept: {RESUME_HINT}.",
                    job_id=job_id,
                )
                error.resumable = True
                raise error
            await asyncio.sleep(interval)
            data: Mapping[str, Any] = {}
            async for item in poll.get(status_url):
                if isinstance(item, Mapping):
                    data = item
                else:
                    yield item
            raw_status = data.get("status") or "PENDING"
            if not isinstance(raw_status, str):
                raise bad_response(
                    ctx,
                    f"a job status reply's 'status' was {kind_of(raw_status)}, not text",
                    json.dumps(data),
                )
            new_status = ctx.clean(raw_status, 40).upper()
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
        async for item in poll.get(result_url):
            if isinstance(item, Mapping):
                result = item
            else:
                yield item
        for event in self._result_events(result, ctx, model, poll.credits):
            yield event

    def _result_events(
        self,
        result: Mapping[str, Any],
        ctx: ErrorContext,
        model: str,
        header_balance: float | None = None,
    ) -> list[ProviderEvent]:
        output = result.get("output")
        if isinstance(output, str):
            try:
                decoded = loads(output)
            except NestedTooDeep as problem:
                raise malformed(ctx, "the finished job's ", problem, output) from None
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
        # The header is read as the reply is sent; the metrics were written as the job ended.
        balance = header_balance
        if balance is None:
            balance = money(metrics.get("remaining_credits"))
        return with_billing(events, cost=metrics.get("cost"), credits=balance)

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


class JobPoll:
    """The GETs of one polling session: retried, mapped to job errors, credits read."""

    def __init__(
        self, provider: SegmindProvider, job_id: str, ctx: ErrorContext, started: float
    ) -> None:
        self.provider = provider
        self.job_id = job_id
        self.ctx = ctx
        self.started = started
        #: Whether a check of this session succeeded (after that, a 404 means expired).
        self.seen = False
        #: The newest balance a reply's header carried.
        self.credits: float | None = None

    async def get(self, url: str) -> AsyncGenerator[Mapping[str, Any] | ProviderEvent, None]:
        """``Retrying`` and ``Credits`` events, then the reply's JSON object."""
        provider, ctx, job_id = self.provider, self.ctx, self.job_id

        async def once() -> AsyncGenerator[tuple[Mapping[str, Any], float | None], None]:
            response = await provider.read_whole("GET", url, ctx, check=False)
            if response.status_code >= 400:
                age = time.monotonic() - self.started
                raise provider._job_error(ctx, job_id, response, seen=self.seen, age=age)
            try:
                data = response.json()
            except ValueError:
                raise bad_response(ctx, "a job status reply was not JSON", response.text) from None
            if not isinstance(data, Mapping):
                raise bad_response(ctx, "a job status reply was not an object", response.text)
            yield data, header_credits(response)

        policy = replace(provider.policy, max_retries=max(provider.policy.max_retries, 6))
        try:
            async for item in retrying(policy, once, provider.translate(ctx)):
                if isinstance(item, Retrying):
                    yield item
                    continue
                data, credits = item
                self.seen = True
                if credits is not None and credits != self.credits:
                    self.credits = credits
                    yield Credits(credits)
                yield data
        except ProviderError as err:
            err.job_id = job_id
            if err.kind not in TERMINAL_JOB_ERRORS:
                err.resumable = True
                err.message = f"{err.message} The job {job_id} is kept: {RESUME_HINT}."
                err.args = (err.message,)
            raise
