"""Typed provider failures, each with one plain sentence for a person.

Every HTTP status, body shape and network failure a provider can produce is
mapped here to an :class:`ErrorKind` and a sentence that says what happened and
what to do. The raw status and body stay on the exception for a details view,
with keys masked.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from llamachat.providers.wirejson import loads
from llamachat.secrets import redact, redact_truncated

if TYPE_CHECKING:  # httpx is imported where requests are made, not at start-up
    import httpx
from llamachat.textsafety import one_line


class ErrorKind(StrEnum):
    """What kind of failure happened; the UI and store keep this alongside the sentence."""

    NO_KEY = "no_key"
    NOT_CONFIGURED = "not_configured"
    AUTH = "auth"
    BILLING = "billing"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    BAD_METHOD = "bad_method"
    CONTENT_TYPE = "content_type"
    RETIRED = "retired"
    TOO_LARGE = "too_large"
    UNPROCESSABLE = "unprocessable"
    BAD_REQUEST = "bad_request"
    CONTEXT_LENGTH = "context_length"
    RATE_LIMITED = "rate_limited"
    SERVER = "server"
    UNAVAILABLE = "unavailable"
    GATEWAY = "gateway"
    HTTP_OTHER = "http_other"
    HTML_PAGE = "html_page"
    BAD_RESPONSE = "bad_response"
    EMPTY_REPLY = "empty_reply"
    REDIRECT = "redirect"
    REPLY_TOO_LARGE = "reply_too_large"
    REPLY_TIMEOUT = "reply_timeout"
    CONNECTION_REFUSED = "connection_refused"
    DNS = "dns"
    TLS = "tls"
    CONNECT_TIMEOUT = "connect_timeout"
    READ_TIMEOUT = "read_timeout"
    CONNECTION = "connection"
    STREAM_CUT = "stream_cut"
    STREAM_INCOMPLETE = "stream_incomplete"
    STREAM_ERROR = "stream_error"
    JOB_FAILED = "job_failed"
    JOB_EXPIRED = "job_expired"
    JOB_UNKNOWN = "job_unknown"
    JOB_TIMEOUT = "job_timeout"
    JOB_UNCONFIRMED = "job_unconfirmed"
    UNSUPPORTED = "unsupported"


class ProviderError(Exception):
    """A provider call failed. ``str(err)`` is the plain sentence; details ride along."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        body: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        job_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.body = body
        self.retryable = retryable
        self.retry_after = retry_after
        self.job_id = job_id
        #: The job ``job_id`` may still run at the provider: keep it queued, to be polled again.
        self.resumable = False
        self.partial_text = ""

    def details(self) -> str:
        """Everything known about the failure, for a details view (keys already masked)."""
        lines = [self.message, f"kind: {self.kind.value}"]
        if self.status is not None:
            lines.append(f"HTTP status: {self.status}")
        if self.job_id:
            lines.append(f"job id: {self.job_id}")
        if self.body:
            lines.append("response body:")
            lines.append(self.body)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ProviderError({self.kind.value!r}, {self.message!r}, status={self.status!r})"


@dataclass(frozen=True)
class ErrorContext:
    """What the error sentences need to know about the call that failed."""

    provider: str
    model: str = ""
    key_hint: str = "add the key in Settings"
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def clean(self, text: str, limit: int = 240) -> str:
        """A server-supplied string made safe for a sentence: one line, no keys, no escapes."""
        return one_line(redact(text, self.secrets), limit)


_MAX_BODY = 20_000
_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "exceed_context_size",
    "maximum context length",
    "context window",
    "context length",
    "input length",
    "too many tokens",
    "prompt is too long",
)


def server_message(body: str) -> str | None:
    """The error message inside a body of any known shape, or ``None``."""
    text = body.strip()
    if not text:
        return None
    if looks_like_html(text):
        return None
    try:
        data = loads(text)
    except ValueError:
        return text.splitlines()[0]
    return message_from_json(data)


def message_from_json(data: Any) -> str | None:
    """The error message inside a parsed JSON error body of any known shape."""
    if isinstance(data, str):
        return data
    if not isinstance(data, Mapping):
        return None
    error = data.get("error")
    if isinstance(error, Mapping):
        message = error.get("message") or error.get("msg")
        if message:
            return str(message)
        return json.dumps(error)[:500]
    if isinstance(error, str) and error:
        return error
    detail = data.get("detail")
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail:
        first = detail[0]
        if isinstance(first, Mapping) and "msg" in first:
            return str(first["msg"])
        return json.dumps(detail)[:500]
    if isinstance(detail, Mapping):
        return str(detail.get("message") or json.dumps(detail)[:500])
    message = data.get("message")
    if message:
        return str(message)
    return None


def error_code(body: str) -> str:
    """The ``error.code`` or ``error.type`` of a JSON body, lower-cased, or ``""``."""
    try:
        data = loads(body)
    except ValueError:
        return ""
    if isinstance(data, Mapping) and isinstance(data.get("error"), Mapping):
        error = data["error"]
        return f"{error.get('code') or ''} {error.get('type') or ''}".strip().lower()
    return ""


def looks_like_html(text: str) -> bool:
    """Whether a body is a web page rather than an API reply."""
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body")) or "<html" in head


def is_context_error(message: str, code: str = "") -> bool:
    """Whether an error says the prompt is longer than the model's context window."""
    haystack = f"{message} {code}".lower()
    return any(marker in haystack for marker in _CONTEXT_MARKERS)


def http_error(
    ctx: ErrorContext,
    status: int,
    body: str,
    retry_after: float | None = None,
) -> ProviderError:
    """The :class:`ProviderError` for an HTTP error reply."""
    body = redact_truncated(body, ctx.secrets, _MAX_BODY)
    raw_message = server_message(body)
    message = ctx.clean(raw_message) if raw_message else ""
    code = error_code(body)
    html = looks_like_html(body)
    p = ctx.provider
    model = f"'{ctx.model}'" if ctx.model else "this model"
    because = f": {message}" if message else ""

    def make(kind: ErrorKind, sentence: str, retryable: bool = False) -> ProviderError:
        return ProviderError(
            kind,
            sentence,
            status=status,
            body=body,
            retryable=retryable,
            retry_after=retry_after,
        )

    if status in (400, 413, 422, 500) and is_context_error(message, code):
        return make(
            ErrorKind.CONTEXT_LENGTH,
            f"The conversation is longer than {model} can read on {p} (its context window): "
            "start a new conversation, shorten the prompt, or lower max tokens.",
        )
    if status == 400:
        if message:
            return make(ErrorKind.BAD_REQUEST, f"{p} rejected the request{because}.")
        return make(
            ErrorKind.BAD_REQUEST,
            f"{p} rejected the request as invalid (400): check the model and parameters.",
        )
    if status == 401:
        return make(ErrorKind.AUTH, f"{p} rejected the API key (401): {ctx.key_hint}.")
    if status == 402:
        return make(
            ErrorKind.BILLING,
            f"{p} says the account needs payment (402): add credit or a payment method "
            "on the provider's website, then try again.",
        )
    if status == 403:
        return make(
            ErrorKind.FORBIDDEN,
            f"{p} refused access (403): the key is not allowed to use {model}; "
            "check the account's permissions or pick another model.",
        )
    if status == 404:
        return make(
            ErrorKind.NOT_FOUND,
            f"{p} does not know {model} at this address (404): pick another model "
            "or check the base URL.",
        )
    if status == 405:
        return make(
            ErrorKind.BAD_METHOD,
            f"{p} does not accept chat requests at this address (405): check the base URL.",
        )
    if status == 406:
        if "credit" in message.lower() or "balance" in message.lower():
            return make(
                ErrorKind.INSUFFICIENT_CREDITS,
                f"{p} says the account has insufficient credits (406): add credit, then try again.",
            )
        return make(
            ErrorKind.CONTENT_TYPE,
            f"{p} refused the request (406){because}: it answers 406 when the account is out "
            "of credits or the content type is wrong; check your credits on its website "
            "and that the base URL points at its API.",
        )
    if status == 410:
        return make(
            ErrorKind.RETIRED,
            f"{p} has retired {model} (410): pick another model.",
        )
    if status == 413:
        return make(
            ErrorKind.TOO_LARGE,
            f"The request is too large for {p} (413): shorten the conversation "
            "or send a smaller image.",
        )
    if status == 422:
        return make(
            ErrorKind.UNPROCESSABLE,
            f"{p} could not process the request (422){because or ': check the parameters'}.",
        )
    if status == 429:
        wait = f"wait {retry_after:.0f} s" if retry_after else "wait a moment"
        return make(
            ErrorKind.RATE_LIMITED,
            f"{p} is limiting the rate of requests (429): {wait} and try again.",
            retryable=True,
        )
    if status in (502, 504):
        return make(
            ErrorKind.GATEWAY,
            f"{p}'s gateway failed ({status}): the service is busy or down; try again in a moment.",
            retryable=True,
        )
    if status == 503:
        return make(
            ErrorKind.UNAVAILABLE,
            f"{p} is overloaded or down for maintenance (503): try again in a moment.",
            retryable=True,
        )
    if status >= 500:
        detail = f" ({message})" if message and not html else ""
        return make(
            ErrorKind.SERVER,
            f"{p} had an internal error ({status}){detail}: try again, "
            "or check the model and parameters.",
            retryable=True,
        )
    if html:
        return html_page_error(ctx, status, body)
    return make(
        ErrorKind.HTTP_OTHER,
        f"{p} answered with an unexpected error (HTTP {status}){because}.",
    )


def html_page_error(ctx: ErrorContext, status: int, body: str) -> ProviderError:
    """A web page came back where an API reply was expected."""
    return ProviderError(
        ErrorKind.HTML_PAGE,
        f"{ctx.provider} answered with a web page instead of an API reply (HTTP {status}): "
        "check the base URL.",
        status=status,
        body=redact_truncated(body, ctx.secrets, _MAX_BODY),
    )


def bad_response(ctx: ErrorContext, what: str, body: str = "") -> ProviderError:
    """The reply could not be read as the protocol says it should be."""
    return ProviderError(
        ErrorKind.BAD_RESPONSE,
        f"{ctx.provider} sent a reply llamachat could not read ({what}): check that the "
        "base URL points at the right API.",
        body=redact_truncated(body, ctx.secrets, _MAX_BODY) or None,
    )


def stream_error(ctx: ErrorContext, payload: str, *, mid_stream: bool = True) -> ProviderError:
    """An error reported inside a 200 reply: an SSE error event, or an error object as the body."""
    payload = redact_truncated(payload, ctx.secrets, _MAX_BODY)
    try:
        raw = message_from_json(loads(payload))
    except ValueError:
        raw = payload
    message = ctx.clean(raw or "no details given")
    if is_context_error(message, error_code(payload)):
        return ProviderError(
            ErrorKind.CONTEXT_LENGTH,
            f"The conversation is longer than the context window of '{ctx.model}' on "
            f"{ctx.provider}: start a new conversation or shorten the prompt.",
            body=payload,
        )
    where = "in the middle of the reply" if mid_stream else "instead of a reply"
    return ProviderError(
        ErrorKind.STREAM_ERROR,
        f"{ctx.provider} reported an error {where}: {message}.",
        body=payload,
    )


def _walk_causes(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def transport_error(
    ctx: ErrorContext, exc: httpx.TransportError, *, read_timeout: float, idempotent: bool = True
) -> ProviderError:
    """The :class:`ProviderError` for a network failure.

    A request that must not run twice (``idempotent=False``) is retried only
    when the failure proves it never reached the server.
    """
    import httpx

    host = exc.request.url.host if _has_request(exc) else "the server"
    causes = list(_walk_causes(exc))
    text = " ".join(str(c) for c in causes).lower()
    p = ctx.provider

    if any(isinstance(c, ssl.SSLError) for c in causes) or "ssl" in text or "certificate" in text:
        return ProviderError(
            ErrorKind.TLS,
            f"The secure connection to {host} failed (TLS): check the base URL, "
            "the system clock and the certificates.",
        )
    if isinstance(exc, httpx.ConnectTimeout):
        return ProviderError(
            ErrorKind.CONNECT_TIMEOUT,
            f"Connecting to {host} timed out: check your network connection and the base URL.",
            retryable=True,
        )
    if isinstance(exc, httpx.ConnectError):
        if any(isinstance(c, socket.gaierror) for c in causes) or (
            "name or service not known" in text
            or "nodename nor servname" in text
            or "temporary failure in name resolution" in text
            or "no address associated" in text
            or "getaddrinfo" in text
        ):
            return ProviderError(
                ErrorKind.DNS,
                f"Could not find the host {host}: check the base URL and your network connection.",
            )
        if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in text:
            return ProviderError(
                ErrorKind.CONNECTION_REFUSED,
                f"Could not connect to {host}: nothing is listening there. "
                "Check the base URL, or start the server.",
            )
        return ProviderError(
            ErrorKind.CONNECTION,
            f"Could not connect to {host}: check your network connection and the base URL.",
            retryable=True,
        )
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout | httpx.PoolTimeout):
        return ProviderError(
            ErrorKind.READ_TIMEOUT,
            f"{p} sent nothing for {read_timeout:g} s, so llamachat stopped waiting: "
            "try again, or raise read_timeout in the config.",
            retryable=idempotent or isinstance(exc, httpx.PoolTimeout),
        )
    return ProviderError(
        ErrorKind.STREAM_CUT,
        f"The connection to {p} dropped before the reply was complete: try again to get the rest.",
        retryable=idempotent,
    )


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 - the property raises when no request is attached
    except RuntimeError:
        return False
    return True
