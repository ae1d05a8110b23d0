"""The sentence for a reply that is an error: an HTTP status, a web page, an unreadable body.

Every HTTP error status gets an :class:`~llamachat.providers.errors.ErrorKind` and
a sentence that says what happened and what to do; so does an error reported
inside a 200 reply (an SSE error event or an error object as the body).
"""

from __future__ import annotations

from llamachat.providers.error_bodies import (
    error_code,
    is_context_error,
    looks_like_html,
    message_from_json,
    server_message,
)
from llamachat.providers.errors import MAX_BODY, ErrorContext, ErrorKind, ProviderError
from llamachat.providers.wirejson import loads
from llamachat.secrets import redact_truncated


def http_error(
    ctx: ErrorContext,
    status: int,
    body: str,
    retry_after: float | None = None,
) -> ProviderError:
    """The :class:`ProviderError` for an HTTP error reply."""
    body = redact_truncated(body, ctx.secrets, MAX_BODY)
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
        body=redact_truncated(body, ctx.secrets, MAX_BODY),
    )


def bad_response(ctx: ErrorContext, what: str, body: str = "") -> ProviderError:
    """The reply could not be read as the protocol says it should be."""
    return ProviderError(
        ErrorKind.BAD_RESPONSE,
        f"{ctx.provider} sent a reply llamachat could not read ({what}): check that the "
        "base URL points at the right API.",
        body=redact_truncated(body, ctx.secrets, MAX_BODY) or None,
    )


def stream_error(ctx: ErrorContext, payload: str, *, mid_stream: bool = True) -> ProviderError:
    """An error reported inside a 200 reply: an SSE error event, or an error object as the body."""
    payload = redact_truncated(payload, ctx.secrets, MAX_BODY)
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
