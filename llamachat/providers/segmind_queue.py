"""Segmind's v2 job queue: a job submitted once, then polled until its reply is ready.

The queue follows PROTOCOLS.md section 4: a submit that was accepted is never
sent again; polling GETs are retried; ``FAILED`` (HTTP 422) and an expired job
(404) get their own sentences; the result's ``output`` is JSON encoded inside a
string and is decoded twice. Cancelling the stream stops polling; the job id
from :class:`JobQueued` resumes it with :func:`poll_job`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from llamachat.numbers import money
from llamachat.providers.adapter import retrying
from llamachat.providers.base import (
    ChatRequest,
    Credits,
    JobQueued,
    JobStatus,
    ModelInfo,
    ProviderEvent,
    Retrying,
)
from llamachat.providers.error_bodies import server_message
from llamachat.providers.errors import ErrorContext, ErrorKind, ProviderError
from llamachat.providers.fields import kind_of, malformed
from llamachat.providers.limits import Body
from llamachat.providers.openai_completion import parse_completion
from llamachat.providers.reply_errors import bad_response, http_error
from llamachat.providers.retry import RetryPolicy, retry_after
from llamachat.providers.segmind_billing import header_credits, with_billing
from llamachat.providers.wirejson import NestedTooDeep, loads


class QueueHost(Protocol):
    """What the queue needs of the provider that drives it (a ``SegmindProvider``)."""

    @property
    def base_url(self) -> str: ...

    @property
    def policy(self) -> RetryPolicy: ...

    @property
    def poll_interval(self) -> float: ...

    @property
    def deadline(self) -> float: ...

    def model_info(self, model: str) -> ModelInfo | None: ...

    def request_body(self, request: ChatRequest) -> dict[str, Any]: ...

    def slug_url(self, version: str, model: str) -> str: ...

    def translate(
        self, ctx: ErrorContext, *, idempotent: bool = True
    ) -> Callable[[httpx.TransportError], ProviderError]: ...

    async def read_whole(
        self, method: str, url: str, ctx: ErrorContext, *, check: bool = True, **kwargs: Any
    ) -> Body: ...

    def fetch(
        self, method: str, url: str, ctx: ErrorContext, *, idempotent: bool = True, **kwargs: Any
    ) -> AsyncGenerator[Body | Retrying, None]: ...


_PENDING_DONE = {"COMPLETED", "FAILED"}

#: A job older than this is gone at Segmind (results are kept one hour).
JOB_LIFETIME = 3600.0
RESUME_HINT = "press r on the reply to resume waiting for it, or run `llamachat history resume`"
#: Job failures after which polling again cannot help.
TERMINAL_JOB_ERRORS = (ErrorKind.JOB_EXPIRED, ErrorKind.JOB_UNKNOWN, ErrorKind.JOB_FAILED)


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


async def submit_and_poll(
    provider: QueueHost, request: ChatRequest, ctx: ErrorContext
) -> AsyncGenerator[ProviderEvent, None]:
    """Submit ``request`` as a job, then poll it until its reply is ready."""
    submitted: Body | None = None
    try:
        # idempotent=False: once the request may have arrived, it is never sent again.
        async for item in provider.fetch(
            "POST",
            provider.slug_url("v2", request.model),
            ctx,
            idempotent=False,
            json=provider.request_body(request),
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
        raise bad_response(ctx, "the job submission reply was not JSON", submitted.text) from None
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
    async for event in poll_job(
        provider,
        job_id,
        ctx,
        request.model,
        status=ctx.clean(job["status"], 40) if isinstance(job.get("status"), str) else "QUEUED",
        status_url=same_origin(provider.base_url, job.get("status_url")),
        result_url=same_origin(provider.base_url, job.get("response_url")),
    ):
        yield event


def same_origin(base_url: str, url: Any) -> str | None:
    """A server-supplied URL, only if it points at our own host (the key goes there)."""
    if not isinstance(url, str):
        return None
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return None
    base = httpx.URL(base_url)
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        return None
    return url


def job_error(
    ctx: ErrorContext, job_id: str, response: Body, *, seen: bool, age: float
) -> ProviderError:
    """Why a status or result GET of job ``job_id`` failed: unknown, expired, failed, or HTTP."""
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


async def poll_job(
    provider: QueueHost,
    job_id: str,
    ctx: ErrorContext,
    model: str,
    *,
    status: str | None,
    status_url: str | None = None,
    result_url: str | None = None,
    waited: float = 0.0,
) -> AsyncGenerator[ProviderEvent, None]:
    """Poll job ``job_id`` until it is done, then read its reply (also to resume a job)."""
    status_url = status_url or f"{provider.base_url}/v2/requests/{quote(job_id, safe='')}/status"
    result_url = result_url or f"{provider.base_url}/v2/requests/{quote(job_id, safe='')}"
    started = time.monotonic() - waited
    give_up_at = time.monotonic() + provider.deadline
    interval = provider.poll_interval
    poll = JobPoll(provider, job_id, ctx, started)
    if status is not None:
        yield JobStatus(job_id, status, waited, interval)
    while status != "COMPLETED":
        if time.monotonic() + interval > give_up_at:
            error = ProviderError(
                ErrorKind.JOB_TIMEOUT,
                f"{ctx.provider} job {job_id} did not finish within {provider.deadline:g} s; "
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
    for event in result_events(provider, result, ctx, model, poll.credits):
        yield event


def result_events(
    provider: QueueHost,
    result: Mapping[str, Any],
    ctx: ErrorContext,
    model: str,
    header_balance: float | None = None,
) -> list[ProviderEvent]:
    """The events of a finished job's result, its cost and balance included."""
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
            else json.dumps({"choices": [{"message": {"role": "assistant", "content": output}}]})
        )
    elif isinstance(output, Mapping):
        body = json.dumps(output)
    else:
        raise bad_response(ctx, "the finished job had no output", json.dumps(result))
    events = parse_completion(body, ctx, provider.model_info(model))
    metrics = result.get("metrics")
    if not isinstance(metrics, Mapping):
        metrics = {}
    # The header is read as the reply is sent; the metrics were written as the job ended.
    balance = header_balance
    if balance is None:
        balance = money(metrics.get("remaining_credits"))
    return with_billing(events, cost=metrics.get("cost"), credits=balance)


class JobPoll:
    """The GETs of one polling session: retried, mapped to job errors, credits read."""

    def __init__(self, provider: QueueHost, job_id: str, ctx: ErrorContext, started: float) -> None:
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
                raise job_error(ctx, job_id, response, seen=self.seen, age=age)
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
