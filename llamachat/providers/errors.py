"""Typed provider failures, each with one plain sentence for a person.

:class:`ErrorKind` says what kind of failure happened and :class:`ProviderError`
carries the sentence, with the raw status and body for a details view (keys
masked). The sentences are made where the failure is classified:
:mod:`~llamachat.providers.reply_errors` for what a server sent back (an HTTP
status, a web page, an unreadable body, an error inside a 200 reply),
:mod:`~llamachat.providers.transport_errors` for network failures, and
:mod:`~llamachat.providers.error_bodies` finds the message inside an error body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from llamachat.secrets import redact
from llamachat.textsafety import one_line

#: How much of an error body is kept on the exception (keys masked first).
MAX_BODY = 20_000


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
