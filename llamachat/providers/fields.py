"""Reading a provider's reply defensively: its status, its body's shape, every field's type.

Whatever a server sends, a value of the wrong type becomes one sentence
(:class:`Malformed`, turned into a ``BAD_RESPONSE`` by the caller) or is
ignored where it is only informational (usage, reasoning); a number that is
not finite, negative or absurdly large is never taken as a token count or money.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from llamachat.providers.error_bodies import looks_like_html
from llamachat.providers.errors import ErrorContext, ErrorKind, ProviderError
from llamachat.secrets import redact

if TYPE_CHECKING:
    import httpx

#: A token count past this is not a real one: a broken reply, never shown or stored.
MAX_TOKENS = 1_000_000_000
#: A ``finish_reason`` is a short word; anything longer is cut to this.
MAX_FINISH_REASON = 64
_SAMPLE = 20_000


class Malformed(ValueError):
    """A field of a provider's JSON had the wrong type; the message says which and how."""


def kind_of(value: Any) -> str:
    """What a JSON value is, in words: ``a number``, ``a list``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__  # pragma: no cover - json.loads makes nothing else


def first_choice(data: dict[str, Any]) -> dict[str, Any] | None:
    """``choices[0]`` of a chat-completion object, ``None`` when there is none."""
    choices = data.get("choices")
    if choices is None:
        return None
    if type(choices) is not list:
        raise Malformed(f"'choices' was {kind_of(choices)}, not a list")
    if not choices:
        return None
    choice = choices[0]
    if type(choice) is not dict:
        raise Malformed(f"first choice was {kind_of(choice)}, not an object")
    return choice


def object_field(parent: dict[str, Any], name: str) -> dict[str, Any] | None:
    """``parent[name]`` when it is an object, ``None`` when absent or null; else refused."""
    value = parent.get(name)
    if value is None or type(value) is dict:
        return value
    raise Malformed(f"'{name}' was {kind_of(value)}, not an object")


def text_field(parent: dict[str, Any], name: str) -> str | None:
    """``parent[name]`` when it is text, ``None`` when absent or null; else refused."""
    value = parent.get(name)
    if value is None or type(value) is str:
        return value
    raise Malformed(f"'{name}' was {kind_of(value)}, not text")


def optional_text(parent: dict[str, Any], name: str) -> str | None:
    """``parent[name]`` when it is non-empty text; any other value is ignored."""
    value = parent.get(name)
    return value if type(value) is str and value else None


def finish_reason(choice: dict[str, Any]) -> str | None:
    """A choice's ``finish_reason``: a short word, ``None`` when absent; else refused."""
    value = text_field(choice, "finish_reason")
    return value[:MAX_FINISH_REASON] if value else None


def token_count(value: Any) -> int | None:
    """A whole, non-negative, sane number of tokens; ``None`` for anything else."""
    if type(value) is int:
        return value if 0 <= value < MAX_TOKENS else None
    if type(value) is float and math.isfinite(value) and value.is_integer():
        return int(value) if 0 <= value < MAX_TOKENS else None
    return None


def usage_field(data: dict[str, Any]) -> dict[str, Any] | None:
    """A reply's ``usage`` object; any other value is ignored (it is only informational)."""
    value = data.get("usage")
    return value if type(value) is dict and value else None


def malformed(ctx: ErrorContext, where: str, problem: ValueError, body: str) -> ProviderError:
    """The sentence for a field of the wrong type, or JSON that cannot be used.

    ``where`` is a possessive (``"a stream event's "``) and ``problem``'s message reads
    after it: ``'content' was a number, not text``, ``first choice was null, ...``.
    """
    return ProviderError(
        ErrorKind.BAD_RESPONSE,
        f"{ctx.provider} sent a reply llamachat could not read ({where}{problem}): "
        "check that the base URL points at the right API.",
        body=redact(body[:_SAMPLE], ctx.secrets) or None,
    )


def empty_reply(ctx: ErrorContext, status: int = 200, what: str = "") -> ProviderError:
    """A reply with nothing in it: no body at all, or ``what`` (a stream with no text)."""
    return ProviderError(
        ErrorKind.EMPTY_REPLY,
        f"{ctx.provider} sent an empty reply ({what or f'HTTP {status} with no body'}): "
        "check the base URL, or try again.",
        status=status,
        retryable=True,
    )


def not_json(ctx: ErrorContext, body: str, status: int = 200) -> ProviderError:
    """A reply that is neither JSON nor an event stream."""
    return ProviderError(
        ErrorKind.BAD_RESPONSE,
        f"{ctx.provider}'s reply was not JSON (HTTP {status}, it began "
        f"'{ctx.clean(body.lstrip(), 60)}'): check that the base URL points at the right API.",
        status=status,
        body=redact(body[:_SAMPLE], ctx.secrets),
    )


def unreadable_body(ctx: ErrorContext, body: str, status: int = 200) -> ProviderError:
    """The sentence for a body that is empty, a web page, or not JSON."""
    from llamachat.providers.reply_errors import html_page_error

    if not body.strip():
        return empty_reply(ctx, status)
    if looks_like_html(body):
        return html_page_error(ctx, status, body)
    return not_json(ctx, body, status)


def redirect_error(ctx: ErrorContext, response: httpx.Response) -> ProviderError:
    """A 3xx: redirects are never followed (the key must not travel), so say where it led."""
    import httpx

    location = response.headers.get("location", "")
    where = ""
    if location:
        try:
            url = response.url.join(location)
            shown = str(url.copy_with(username=None, password=None, query=None, fragment=None))
        except (httpx.InvalidURL, ValueError, TypeError):  # shown as it came
            shown = location
        where = f" to {ctx.clean(shown, 160)}"
    return ProviderError(
        ErrorKind.REDIRECT,
        f"{ctx.provider} answered with a redirect (HTTP {response.status_code}){where}, "
        "which llamachat does not follow so the key stays with its host: check the base URL "
        "(https:// instead of http://, or a missing /v1).",
        status=response.status_code,
    )
