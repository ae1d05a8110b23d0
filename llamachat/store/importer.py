"""``llamachat import``: a JSON export or an OpenAI-style message list, checked, then stored whole.

Every value is checked before anything is written, and the error names the place
("message 3, field cost_usd"). The conversation and all its messages are then written
in one transaction, in batches (``executemany``), so a file either arrives whole or
leaves nothing behind, and a million messages take seconds, not minutes.

An imported reply whose job was still queued (or streaming) is never fetched: its job
id came from someone else's file, and polling it would send this person's key to ask
about a job they did not submit. It is stored as stopped, with a sentence saying so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from llamachat.store import import_columns, validate
from llamachat.store.db import Store, _title_from
from llamachat.store.export import FORMAT_NAME, FORMAT_VERSION
from llamachat.store.import_file import MAX_IMPORT_BYTES, ImportError_, collector_paused, read_file
from llamachat.store.import_write import COLUMNS, Plan, Progress, columns_of, write
from llamachat.store.models import MessageStatus

ROLES = ("user", "assistant", "system")
#: Roles of an OpenAI-style list that carry no conversation text (tool calls): skipped.
SKIPPED_OPENAI_ROLES = ("tool", "function")

IMPORTED_JOB_SENTENCE = (
    "This reply was still waiting for its job when it was exported; llamachat does not fetch "
    "jobs from an imported file: send the prompt again."
)
IMPORTED_STREAM_SENTENCE = (
    "This reply was still being written when it was exported: the text received so far is "
    "kept; regenerate to get a whole reply."
)
#: The fields of :data:`COLUMNS` a message entry supplies as they are (after checking).
_PLAIN = COLUMNS[10:]

__all__ = [
    "MAX_IMPORT_BYTES", "ImportError_", "Plan", "Progress", "import_data", "plan", "read_file",
    "write",
]  # fmt: skip


# --- checking ------------------------------------------------------------------------


def plan(data: Any, now: float | None = None) -> Plan:
    """Check ``data`` (our export, or an OpenAI-style list) and turn it into rows to write."""
    with collector_paused():
        return _plan(data, time.time() if now is None else now)


def _plan(data: Any, now: float) -> Plan:
    if isinstance(data, dict) and data.get("format") == FORMAT_NAME:
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ImportError_(
                f"The file's export format version is {validate.shown(version)}, not a whole "
                "number from 1: it is not a llamachat export, or it was changed by hand."
            )
        if version > FORMAT_VERSION:
            raise ImportError_(
                f"This file uses export format version {version}, newer than this llamachat "
                f"reads ({FORMAT_VERSION}): upgrade llamachat."
            )
        return _plan_ours(data, now)
    messages = data.get("messages") if isinstance(data, dict) else data
    if isinstance(messages, list) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages
    ):
        title = data.get("title") if isinstance(data, dict) else None
        return _plan_openai(messages, title, now)
    raise ImportError_(
        "This file is neither a llamachat JSON export nor a list of OpenAI-style messages "
        '({"role": ..., "content": ...}).'
    )


def _bad(where: str, name: str, problem: str) -> ImportError_:
    return ImportError_(f"In {where}, field {name!r}: {problem}.")


def _text(where: str, name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _bad(where, name, f"{validate.shown(value)} is not text")
    return value


def _name(where: str, name: str, value: Any) -> str | None:
    """A provider or model name: text with nothing that could rewrite a terminal."""
    problem = validate.name_problem(value)
    if problem:
        raise _bad(where, name, problem)
    return value  # type: ignore[no-any-return]


def _when(where: str, name: str, value: Any, default: float) -> float:
    if value is None:
        return default
    checked = validate.timestamp(value)
    if checked is None:
        raise _bad(
            where, name, f"{validate.shown(value)} is not a time in seconds since 1970 "
            "before the year 9999"
        )  # fmt: skip
    return checked


def _json_object(where: str, name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad(where, name, f"a {_kind(value)} where an object ({{...}}) belongs")
    problem = validate.json_problem(value)
    if problem:
        raise _bad(where, name, f"it holds {problem}")
    return value


def _flag(where: str, name: str, value: Any) -> bool:
    if value is None or (value in (0, 1) and not isinstance(value, float)):
        return bool(value)
    raise _bad(where, name, f"{validate.shown(value)} is not true or false")


def _kind(value: Any) -> str:
    return {list: "list", str: "text", dict: "object", bool: "true/false"}.get(
        type(value), type(value).__name__ if not isinstance(value, int | float) else "number"
    )


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _plan_ours(data: dict[str, Any], now: float) -> Plan:
    conv = data.get("conversation")
    if not isinstance(conv, dict):
        raise ImportError_('The export has no "conversation" object: the file is damaged.')
    messages = data.get("messages")
    if not isinstance(messages, list):
        raise ImportError_('The export has no "messages" list: the file is damaged.')
    where = "the conversation"
    created = _when(where, "created_at", conv.get("created_at"), now)
    result = Plan(
        title=_text(where, "title", conv.get("title")) or "",
        created_at=created,
        updated_at=_when(where, "updated_at", conv.get("updated_at"), created),
        system_prompt=_text(where, "system_prompt", conv.get("system_prompt")),
        provider=_name(where, "provider", conv.get("provider")),
        model=_name(where, "model", conv.get("model")),
        params=_json_object(where, "params", conv.get("params")) or {},
        archived=_flag(where, "archived", conv.get("archived")),
        pinned=_flag(where, "pinned", conv.get("pinned")),
        draft=_text(where, "draft", conv.get("draft")) or "",
    )
    checked = import_columns.check(messages, now, _IMPORTED_LIVE)
    if checked is None:  # something unusual: checked one by one, which names what is wrong
        checked = one_by_one(messages, now)
    result.columns, index = checked
    leaf = conv.get("active_leaf")
    if leaf is not None:
        if not isinstance(leaf, int) or isinstance(leaf, bool) or leaf not in index:
            raise _bad(where, "active_leaf", f"{validate.shown(leaf)} is not a message's id")
        result.active_leaf = index[leaf]
    return result


def one_by_one(messages: list[Any], now: float) -> tuple[list[list[Any]], dict[int, int]]:
    """The messages checked one at a time: the plan's columns and each id's position.

    Slower than :func:`import_columns.check`, but the first bad message raises an
    :class:`ImportError_` naming it and its field.
    """
    index: dict[int, int] = {}
    rows: list[tuple[Any, ...]] = []
    for number, entry in enumerate(messages, 1):
        rows.append(_message_row(f"message {number}", entry, index, now))
        index[entry["id"]] = number - 1
    return columns_of(rows), index


_STATUSES = frozenset(status.value for status in MessageStatus)
#: An imported live reply is stored finished: never polled, never shown as still arriving.
_IMPORTED_LIVE = {
    MessageStatus.QUEUED.value: (MessageStatus.FAILED.value, IMPORTED_JOB_SENTENCE),
    MessageStatus.STREAMING.value: (MessageStatus.INTERRUPTED.value, IMPORTED_STREAM_SENTENCE),
}
_TEXT_COLUMNS = ("provider", "model")
_ERROR = _PLAIN.index("error")
_RAW = _PLAIN.index("raw")
_CREATED_PLAIN = _PLAIN.index("created_at")


def _message_row(where: str, entry: Any, index: dict[int, int], now: float) -> tuple[Any, ...]:
    """One message entry checked, as (parent index, values of ``_COLUMNS[3:]``).

    Written for speed (a million of these run per import): the checks are plain type
    tests, and only a value that fails one is looked at again to say why.
    """
    if not isinstance(entry, dict):
        raise ImportError_(f"{where[0].upper()}{where[1:]} is a {_kind(entry)}, not an object.")
    get = entry.get
    local_id = get("id")
    if type(local_id) is not int:
        raise _bad(where, "id", f"{validate.shown(local_id)} is not a whole number")
    if local_id in index:
        raise _bad(where, "id", f"{local_id} is the id of an earlier message too")
    parent = get("parent")
    if parent is not None and (type(parent) is not int or parent not in index):
        raise _bad(where, "parent", f"{validate.shown(parent)} is not an earlier message's id")
    role = get("role")
    if role not in ROLES:
        raise _bad(where, "role", f"{validate.shown(role)} is not one of {', '.join(ROLES)}")
    content = get("content")
    if type(content) is not str:
        content = _text(where, "content", content) or ""
    images = get("images")
    if images and (type(images) is not list or not all(type(url) is str for url in images)):
        raise _bad(where, "images", "not a list of image addresses (text)")
    status = get("status") or MessageStatus.COMPLETE.value
    if type(status) is not str or status not in _STATUSES:
        raise _bad(
            where, "status", f"{validate.shown(status)} is not one of {', '.join(_STATUSES)}"
        )
    for name in _TEXT_COLUMNS:
        _name(where, name, get(name))
    plain = [get(name) for name in _PLAIN]
    for name, value in zip(_PLAIN, plain, strict=True):
        if value is not None and name in _FIELD_RULES and not _FIELD_RULES[name](value):
            raise _bad(where, name, validate.field_problem(name, value) or "not valid")
    plain[_CREATED_PLAIN] = _when(where, "created_at", plain[_CREATED_PLAIN], now)
    raw = plain[_RAW]
    if raw is not None:
        plain[_RAW] = _json_text(_json_object(where, "raw", raw))
    params = get("params")
    if params is not None:
        params = _json_text(_json_object(where, "params", params))
    if status in _IMPORTED_LIVE:  # never polled: see the module's docstring
        status, plain[_ERROR] = _IMPORTED_LIVE[status]
    return (
        index[parent] if parent is not None else None,
        role,
        content,
        _json_text(images) if images else None,
        get("provider"),
        get("model"),
        params,
        status,
        *plain,
    )


def _is_text(value: Any) -> bool:
    return type(value) is str


def _rule(name: str) -> Callable[[Any], bool] | None:
    """The quick test for field ``name`` (the same rule as :func:`validate.field_problem`)."""
    for fields, read in (
        (validate.COUNT_FIELDS, validate.count),
        (validate.MONEY_FIELDS, validate.amount),
        (validate.SECONDS_FIELDS, validate.seconds),
        (validate.TIME_FIELDS, validate.timestamp),
    ):
        if name in fields:
            return lambda value, read=read: read(value) is not None  # type: ignore[misc]
    return _is_text if name in validate.TEXT_FIELDS else None


_FIELD_RULES = {name: rule for name in _PLAIN if (rule := _rule(name)) is not None}


def _plan_openai(messages: list[dict[str, Any]], title: Any, now: float) -> Plan:
    system: str | None = None
    rows: list[tuple[Any, ...]] = []
    blank = dict.fromkeys(_PLAIN)
    blank["created_at"] = now
    for number, m in enumerate(messages, 1):
        where = f"message {number}"
        role = m["role"]
        if role in SKIPPED_OPENAI_ROLES:
            continue
        if role not in ROLES:
            raise _bad(where, "role", f"{validate.shown(role)} is not user, assistant or system")
        content, images = _openai_content(where, m.get("content"))
        if role == "system":
            system = content if system is None else system
            continue
        parent = len(rows) - 1 if rows else None
        rows.append(
            (parent, role, content, _json_text(images) if images else None, None, None, None,
             MessageStatus.COMPLETE.value, *blank.values())
        )  # fmt: skip
    first_user = next((row[2] for row in rows if row[1] == "user"), "")
    name = title if isinstance(title, str) and title else ""
    return Plan(
        title=name or (_title_from(first_user) if first_user else ""),
        created_at=now,
        updated_at=now,
        system_prompt=system,
        columns=columns_of(rows),
    )


def _openai_content(where: str, content: Any) -> tuple[str, list[str]]:
    if content is None or isinstance(content, str):
        return content or "", []
    if not isinstance(content, list):
        raise _bad(where, "content", f"a {_kind(content)} where text or a list of parts belongs")
    texts: list[str] = []
    images: list[str] = []
    for part in content:
        if not isinstance(part, dict):
            raise _bad(where, "content", f"a part is a {_kind(part)}, not an object")
        if part.get("type") == "text":
            texts.append(_text(where, "content", part.get("text")) or "")
        elif part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str):
                raise _bad(where, "content", "an image part has no address (image_url.url)")
            images.append(url)
    return "".join(texts), images


# --- writing -------------------------------------------------------------------------


def import_data(store: Store, data: Any, progress: Progress | None = None) -> int:
    """Check ``data`` whole, then store it as a new conversation; its id."""
    return write(store, plan(data), progress)
