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
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llamachat.store import validate
from llamachat.store.db import Store, _title_from
from llamachat.store.export import FORMAT_NAME, FORMAT_VERSION
from llamachat.store.models import MessageStatus

#: The largest file ``import`` reads (``--max-size`` raises it).
MAX_IMPORT_BYTES = 512 * 1024 * 1024
#: Messages written per ``executemany``; progress is reported after each batch.
BATCH = 10_000
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

#: Called as ``progress(messages_written, messages_in_all)`` after each batch.
Progress = Callable[[int, int], None]

_COLUMNS = (
    "id", "conversation_id", "parent_id", "role", "content", "images", "provider", "model",
    "params", "status", "finish_reason", "prompt_tokens", "completion_tokens", "cost_usd",
    "credits_usd", "job_id", "job_status", "error", "error_detail", "raw", "created_at",
    "completed_at", "ttft", "tokens_per_second", "reasoning", "reasoning_seconds",
)  # fmt: skip
#: The fields of :data:`_COLUMNS` a message entry supplies as they are (after checking).
_PLAIN = _COLUMNS[10:]
#: The triggers an import does the work of once, for all its messages (see :func:`write`).
_PER_ROW_TRIGGERS = ("messages_fts_insert", "messages_high_water")
#: Where ``created_at`` sits in a planned row (which starts at ``parent_id``).
_CREATED = _COLUMNS.index("created_at") - 2


class ImportError_(ValueError):
    """A file that cannot be imported; the message says why and where."""


@dataclass
class Plan:
    """A checked import, ready to write: nothing in it can fail a column's rules."""

    title: str
    created_at: float
    updated_at: float | None
    system_prompt: str | None = None
    provider: str | None = None
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    archived: bool = False
    pinned: bool = False
    draft: str = ""
    #: Index (into ``messages``) of the active leaf, or ``None`` for the last message.
    active_leaf: int | None = None
    #: One row per message: parent index (or ``None``), then the values of ``_COLUMNS[3:]``.
    messages: list[tuple[Any, ...]] = field(default_factory=list)


# --- reading the file ------------------------------------------------------------


def read_file(path: Path, limit: int = MAX_IMPORT_BYTES) -> Any:
    """The JSON in ``path``, read only if it is a regular file of at most ``limit`` bytes."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImportError_(f"There is no file {path}.") from None
    except OSError as error:
        raise ImportError_(f"Cannot read {path}: {error.strerror}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise ImportError_(
            f"{path} is not a regular file (a folder, device or pipe): save the export to a "
            "file and import that."
        )
    too_big = ImportError_(
        f"{path} is larger than {_size(limit)}, the most llamachat imports: pass --max-size "
        "with a larger number of megabytes if this really is an export."
    )
    if info.st_size > limit:
        raise too_big
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as error:
        raise ImportError_(f"Cannot read {path}: {error.strerror}.") from None
    if len(raw) > limit:
        raise too_big
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportError_(f"{path} is not UTF-8 text (byte {error.start:,}).") from None
    del raw
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportError_(
            f"{path} is not JSON (line {error.lineno}, column {error.colno}): {error.msg}."
        ) from None
    except RecursionError:
        raise ImportError_(f"{path} nests its JSON too deeply to be an export.") from None


def _size(limit: int) -> str:
    return f"{limit / 1024**2:,.0f} MB" if limit >= 1024**2 else f"{limit:,} bytes"


# --- checking ------------------------------------------------------------------------


def plan(data: Any, now: float | None = None) -> Plan:
    """Check ``data`` (our export, or an OpenAI-style list) and turn it into rows to write."""
    now = time.time() if now is None else now
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
        provider=_text(where, "provider", conv.get("provider")),
        model=_text(where, "model", conv.get("model")),
        params=_json_object(where, "params", conv.get("params")) or {},
        archived=_flag(where, "archived", conv.get("archived")),
        pinned=_flag(where, "pinned", conv.get("pinned")),
        draft=_text(where, "draft", conv.get("draft")) or "",
    )
    index: dict[int, int] = {}
    rows = result.messages
    for number, entry in enumerate(messages, 1):
        rows.append(_message_row(f"message {number}", entry, index, now))
        index[entry["id"]] = number - 1
    leaf = conv.get("active_leaf")
    if leaf is not None:
        if not isinstance(leaf, int) or isinstance(leaf, bool) or leaf not in index:
            raise _bad(where, "active_leaf", f"{validate.shown(leaf)} is not a message's id")
        result.active_leaf = index[leaf]
    return result


def _message_row(where: str, entry: Any, index: dict[int, int], now: float) -> tuple[Any, ...]:
    """One message entry checked, as (parent index, values of ``_COLUMNS[3:]``)."""
    if not isinstance(entry, dict):
        raise ImportError_(f"{where[0].upper()}{where[1:]} is a {_kind(entry)}, not an object.")
    local_id = entry.get("id")
    if not isinstance(local_id, int) or isinstance(local_id, bool):
        raise _bad(where, "id", f"{validate.shown(local_id)} is not a whole number")
    if local_id in index:
        raise _bad(where, "id", f"{local_id} is the id of an earlier message too")
    parent = entry.get("parent")
    if parent is not None and (isinstance(parent, bool) or parent not in index):
        raise _bad(where, "parent", f"{validate.shown(parent)} is not an earlier message's id")
    role = entry.get("role")
    if role not in ROLES:
        raise _bad(where, "role", f"{validate.shown(role)} is not one of {', '.join(ROLES)}")
    content = _text(where, "content", entry.get("content")) or ""
    images = entry.get("images")
    if images is not None and (
        not isinstance(images, list) or not all(isinstance(url, str) for url in images)
    ):
        raise _bad(where, "images", "not a list of image addresses (text)")
    status_value = entry.get("status") or MessageStatus.COMPLETE.value
    if status_value not in tuple(MessageStatus):
        raise _bad(
            where, "status", f"{validate.shown(status_value)} is not one of "
            f"{', '.join(s.value for s in MessageStatus)}"
        )  # fmt: skip
    values: dict[str, Any] = {}
    for name in _PLAIN:
        value = values[name] = entry.get(name)
        if value is not None:
            problem = validate.field_problem(name, value)
            if problem:
                raise _bad(where, name, problem)
    values["created_at"] = _when(where, "created_at", entry.get("created_at"), now)
    values["raw"] = _json_text(_json_object(where, "raw", entry.get("raw")))
    status = MessageStatus(status_value)
    if status is MessageStatus.QUEUED:  # never polled: see the module's docstring
        status, values["error"] = MessageStatus.FAILED, IMPORTED_JOB_SENTENCE
    elif status is MessageStatus.STREAMING:
        status, values["error"] = MessageStatus.INTERRUPTED, IMPORTED_STREAM_SENTENCE
    return (
        index[parent] if parent is not None else None,
        role,
        content,
        _json_text(images) if images else None,
        _text(where, "provider", entry.get("provider")),
        _text(where, "model", entry.get("model")),
        _json_text(_json_object(where, "params", entry.get("params"))),
        status.value,
        *(values[name] for name in _PLAIN),
    )


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
        messages=rows,
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


def write(store: Store, checked: Plan, progress: Progress | None = None) -> int:
    """Write a checked import in one transaction; the new conversation's id."""
    total = len(checked.messages)
    with store.transaction() as db:
        conversation_id = _next_id(db, "conversations")
        db.execute(
            "INSERT INTO conversations (id, title, created_at, updated_at, system_prompt, "
            "provider, model, params, archived, pinned, draft) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (conversation_id, checked.title, checked.created_at, checked.created_at,
             checked.system_prompt, checked.provider, checked.model,
             json.dumps(checked.params, ensure_ascii=False), int(checked.archived),
             int(checked.pinned), checked.draft),
        )  # fmt: skip
        first = _next_id(db, "messages")
        # Per-row triggers made the import 5x slower: within this transaction (no other
        # connection ever sees it) they are set aside, their work is done once for the
        # whole batch below, and they are put back exactly as they were.
        set_aside = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)",
            _PER_ROW_TRIGGERS,
        ).fetchall()
        for name, _ in set_aside:
            db.execute(f"DROP TRIGGER {name}")
        sql = (
            f"INSERT INTO messages ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
        )
        for start in range(0, total, BATCH):
            batch = checked.messages[start : start + BATCH]
            db.executemany(
                sql,
                (
                    (first + start + offset, conversation_id,
                     None if row[0] is None else first + row[0], *row[1:])
                    for offset, row in enumerate(batch)
                ),
            )  # fmt: skip
            if progress is not None:
                progress(start + len(batch), total)
        dropped = {name for name, _ in set_aside}
        if total and "messages_high_water" in dropped:
            db.execute(
                "UPDATE id_high_water SET last = MAX(last, ?) WHERE tbl = 'messages'",
                (first + total - 1,),
            )
        if total and "messages_fts_insert" in dropped:
            db.execute(  # imported messages are never live (queued, streaming): all are indexed
                "INSERT INTO messages_fts (rowid, content) "
                "SELECT id, content FROM messages WHERE id BETWEEN ? AND ?",
                (first, first + total - 1),
            )
        for _, trigger in set_aside:
            db.execute(trigger)
        leaf = checked.active_leaf if checked.active_leaf is not None else total - 1
        updated = checked.updated_at
        if updated is None:
            updated = max((row[_CREATED] for row in checked.messages), default=checked.created_at)
        db.execute(
            "UPDATE conversations SET active_leaf_id = ?, updated_at = ? WHERE id = ?",
            (first + leaf if total else None, updated, conversation_id),
        )
    return conversation_id


def _next_id(db: Any, table: str) -> int:
    row = db.execute("SELECT last FROM id_high_water WHERE tbl = ?", (table,)).fetchone()
    return int(row[0]) + 1


def import_data(store: Store, data: Any, progress: Progress | None = None) -> int:
    """Check ``data`` whole, then store it as a new conversation; its id."""
    return write(store, plan(data), progress)
