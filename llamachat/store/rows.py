"""Rows of the database as the store's models: defensive readers (a bad value reads as unknown)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from llamachat.store import validate
from llamachat.store.models import (
    Conversation,
    Message,
    MessageStatus,
)

#: The columns :func:`message_of` reads, in its order.
MESSAGE_COLUMNS = (
    "id, conversation_id, parent_id, role, content, images, provider, model, params, status, "
    "finish_reason, prompt_tokens, completion_tokens, cost_usd, credits_usd, job_id, job_status, "
    "error, error_detail, raw, created_at, completed_at, ttft, tokens_per_second, reasoning, "
    "reasoning_seconds"
)

#: The columns :func:`conversation_of` reads, in its order.
CONVERSATION_COLUMNS = (
    "id, title, created_at, updated_at, system_prompt, provider, model, params, archived, pinned, "
    "draft, active_leaf_id"
)


def title_from(text: str) -> str:
    """A conversation's title from its first prompt: its first line, shortened."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if len(line) > TITLE_LENGTH:
        line = line[: TITLE_LENGTH - 1].rstrip() + "…"
    return line or "New chat"


def json_text(value: Any) -> str | None:
    """``value`` as the JSON text a column keeps (``None`` stays ``None``)."""
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _loads(value: Any) -> Any:
    return validate.loads(value)


def _dict(value: Any) -> dict[str, Any] | None:
    loaded = validate.loads(value)
    return loaded if isinstance(loaded, dict) else None


def _images(value: Any) -> tuple[str, ...]:
    loaded = validate.loads(value)
    if not isinstance(loaded, list):
        return ()
    return tuple(url for url in loaded if isinstance(url, str))


def _status(value: Any) -> MessageStatus:
    try:
        return MessageStatus(value)
    except ValueError:
        return MessageStatus.FAILED


def message_of(row: Sequence[Any]) -> Message:
    """A message row read defensively: a value no reader could use reads as ``None``."""
    text = validate.text
    return Message(
        id=row[0],
        conversation_id=row[1],
        parent_id=row[2] if isinstance(row[2], int) else None,
        role=row[3] if row[3] in ("user", "assistant", "system") else "user",
        content=text(row[4]) or "",
        images=_images(row[5]) if row[5] is not None else (),
        provider=text(row[6]),
        model=text(row[7]),
        params=_dict(row[8]) if row[8] is not None else None,
        status=_status(row[9]),
        finish_reason=text(row[10]),
        prompt_tokens=validate.count(row[11]),
        completion_tokens=validate.count(row[12]),
        cost_usd=validate.amount(row[13]) if row[13] is not None else None,
        credits_usd=validate.amount(row[14]) if row[14] is not None else None,
        job_id=text(row[15]),
        job_status=text(row[16]),
        error=text(row[17]),
        error_detail=text(row[18]),
        raw=_dict(row[19]) if row[19] is not None else None,
        created_at=validate.timestamp(row[20]),
        completed_at=validate.timestamp(row[21]),
        ttft=validate.seconds(row[22]),
        tokens_per_second=validate.seconds(row[23]),
        reasoning=text(row[24]) or "",
        reasoning_seconds=validate.seconds(row[25]),
    )


def conversation_of(row: Sequence[Any]) -> Conversation:
    """A conversation row read defensively: a value no reader could use reads as ``None``."""
    return Conversation(
        id=row[0],
        title=validate.text(row[1]) or "",
        created_at=validate.timestamp(row[2]),
        updated_at=validate.timestamp(row[3]),
        system_prompt=validate.text(row[4]),
        provider=validate.text(row[5]),
        model=validate.text(row[6]),
        params=_dict(row[7]) or {},
        archived=row[8] == 1,
        pinned=row[9] == 1,
        draft=validate.text(row[10]) or "",
        active_leaf_id=row[11] if isinstance(row[11], int) else None,
    )


TITLE_LENGTH = 60
