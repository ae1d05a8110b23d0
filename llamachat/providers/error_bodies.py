"""Finding the error inside a server's error body, whatever its shape.

OpenAI's ``{"error": {"message": ...}}``, FastAPI's ``{"detail": ...}``, a bare
string or a line of text; a web page is recognised as one rather than read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llamachat.providers.wirejson import loads

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
