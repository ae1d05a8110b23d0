"""What the store accepts, and how it reads back a value it cannot use.

One set of rules for the way in (``add_message``, an import) and the way out (the row
readers): a timestamp is a finite number of seconds between 1970 and the year 9999, a
token count a whole number from 0 to a trillion, money what
:func:`llamachat.numbers.money` accepts. On the way out a value that breaks a
rule reads as ``None`` (shown as "unknown"), so one bad row never takes a command down.
"""

from __future__ import annotations

import json
import math
from typing import Any

from llamachat.numbers import money
from llamachat.textsafety import escape_label

#: 9999-12-31 00:00 UTC: the last day ``datetime`` can show in every time zone.
MAX_TIMESTAMP = 253_402_214_400.0
#: More tokens than any model has read or written in one message.
MAX_TOKENS = 10**12
#: Seconds (time to first token, thinking time) and tokens per second beyond this are broken.
MAX_SECONDS = 1e9
#: How deeply the JSON kept with a message (``params``, ``raw``) may nest.
MAX_JSON_DEPTH = 32

#: Message fields that hold text (or nothing).
TEXT_FIELDS = frozenset(
    {"finish_reason", "job_id", "job_status", "error", "error_detail", "provider", "model",
     "reasoning"}
)  # fmt: skip
#: A provider or model name: one line, no control characters, no longer than this.
MAX_NAME = 500
COUNT_FIELDS = frozenset({"prompt_tokens", "completion_tokens"})
MONEY_FIELDS = frozenset({"cost_usd", "credits_usd"})
SECONDS_FIELDS = frozenset({"ttft", "tokens_per_second", "reasoning_seconds"})
TIME_FIELDS = frozenset({"completed_at"})


def _number(value: Any) -> float | None:
    """``value`` as a finite float if it is a JSON/SQLite number (never a bool or text)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return None
    return None


def timestamp(value: Any) -> float | None:
    """``value`` as seconds since 1970 if it is a plausible time, else ``None``."""
    if type(value) is float and 0.0 <= value <= MAX_TIMESTAMP:  # the common case, fast
        return value
    number = _number(value)
    return number if number is not None and 0.0 <= number <= MAX_TIMESTAMP else None


def count(value: Any) -> int | None:
    """``value`` as a token count if it is a whole number from 0 to :data:`MAX_TOKENS`."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS:
        return value
    return None


def amount(value: Any) -> float | None:
    """``value`` as dollars if it is a number :func:`money` accepts (never a string)."""
    return money(value) if _number(value) is not None else None


def seconds(value: Any) -> float | None:
    """``value`` as a duration or rate if it is a finite number from 0 to :data:`MAX_SECONDS`."""
    number = _number(value)
    return number if number is not None and 0.0 <= number <= MAX_SECONDS else None


def text(value: Any) -> str | None:
    """``value`` if it is text; bytes (a BLOB) decoded; anything else ``None``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def loads(value: Any) -> Any:
    """A JSON column read back; ``None`` when it is not JSON (or nests absurdly deep)."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError, RecursionError):
        return None


def json_problem(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` cannot be kept as JSON (too deep, a number that is not finite), or ``None``."""
    if depth > MAX_JSON_DEPTH:
        return f"nested more than {MAX_JSON_DEPTH} levels deep"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return "a key that is not text"
            problem = json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list | tuple):
        for item in value:
            problem = json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, float) and not math.isfinite(value):
        return f"the number {value}, which is not finite"
    elif value is not None and not isinstance(value, str | int | float):
        return f"a {type(value).__name__}, which JSON cannot hold"
    return None


def is_name(value: Any) -> bool:
    """Whether ``value`` can be a provider or model name (shown in lists, badges, the sidebar)."""
    return isinstance(value, str) and len(value) <= MAX_NAME and escape_label(value) == value


def name_problem(value: Any) -> str | None:
    """Why ``value`` is not a provider or model name (``None`` is always valid)."""
    if value is None or is_name(value):
        return None
    if not isinstance(value, str):
        return f"{shown(value)} is not text"
    return f"{shown(value)} is not a name (at most {MAX_NAME} characters, no control characters)"


def field_problem(name: str, value: Any) -> str | None:
    """Why ``value`` is not a valid message field ``name`` (``None`` is always valid)."""
    if value is None:
        return None
    if name in TEXT_FIELDS:
        ok = isinstance(value, str)
        expected = "text"
    elif name in COUNT_FIELDS:
        ok = count(value) is not None
        expected = f"a whole number from 0 to {MAX_TOKENS:,}"
    elif name in MONEY_FIELDS:
        ok = amount(value) is not None
        expected = "an amount of dollars from 0 to 1,000,000,000"
    elif name in SECONDS_FIELDS:
        ok = seconds(value) is not None
        expected = f"a number from 0 to {MAX_SECONDS:g}"
    elif name in TIME_FIELDS:
        ok = timestamp(value) is not None
        expected = "a time in seconds since 1970, before the year 9999"
    else:
        return None
    return None if ok else f"{shown(value)} is not {expected}"


def shown(value: Any) -> str:
    """A short, safe rendering of a bad value for an error sentence."""
    text_ = json.dumps(value, ensure_ascii=True) if _jsonable(value) else repr(value)
    return text_ if len(text_) <= 40 else text_[:39] + "…"


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


# --- the way in: what Store.add_message / update_message / create_conversation accept ---


def required_time(value: Any) -> float:
    """``value`` if it is a plausible time; ``ValueError`` otherwise."""
    checked = timestamp(value)
    if checked is None:
        raise ValueError(f"not a time the store can keep: {shown(value)}")
    return checked


def check_texts(**values: Any) -> None:
    """``ValueError`` unless every value is text (or ``None``)."""
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be text, not {type(value).__name__}")


def check_json(name: str, value: Any) -> None:
    """``ValueError`` unless ``value`` is ``None`` or a dict JSON can hold, not nested absurdly."""
    if value is None:
        return
    problem = "not an object" if not isinstance(value, dict) else json_problem(value)
    if problem:
        raise ValueError(f"{name} cannot be stored: {problem}")


def message_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Message fields ready to store: text must be text (``ValueError``); a number that is not
    plausible (NaN, negative, ``1e300``, text) is not stored (``None``), so an absurd usage or
    cost from a provider never reaches the history while the reply itself is kept."""
    cleaned = dict(fields)
    for name, value in fields.items():
        if value is None:
            continue
        if name in TEXT_FIELDS or name == "content":
            if not isinstance(value, str):
                raise ValueError(f"{name} must be text, not {type(value).__name__}")
        elif name == "raw":
            if json_problem(value):
                cleaned[name] = None
        elif field_problem(name, value):
            cleaned[name] = None
    return cleaned
