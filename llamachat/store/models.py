"""Domain objects for conversations and messages, separate from database rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from llamachat.messages import ChatMessage, ContentPart, ImagePart, TextPart


class MessageStatus(StrEnum):
    """Where a message is in its life."""

    QUEUED = "queued"
    STREAMING = "streaming"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Message:
    """One stored message, with everything known about how it was produced."""

    id: int
    conversation_id: int
    parent_id: int | None
    role: str
    content: str
    images: tuple[str, ...] = ()
    provider: str | None = None
    model: str | None = None
    params: dict[str, Any] | None = None
    status: MessageStatus = MessageStatus.COMPLETE
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    credits_usd: float | None = None
    job_id: str | None = None
    job_status: str | None = None
    error: str | None = None
    error_detail: str | None = None
    raw: dict[str, Any] | None = None
    #: ``None`` when the stored time cannot be read (shown as "unknown").
    created_at: float | None = 0.0
    completed_at: float | None = None
    ttft: float | None = None
    tokens_per_second: float | None = None
    #: The model's reasoning ("thinking"), shown apart and never sent back to a model.
    reasoning: str = ""
    #: How long the model thought before answering, in seconds.
    reasoning_seconds: float | None = None

    def to_chat(self) -> ChatMessage:
        """The message as sent to a provider."""
        role = self.role if self.role in ("system", "user", "assistant") else "user"
        if not self.images:
            return ChatMessage(role, self.content)  # type: ignore[arg-type]
        parts: list[ContentPart] = [TextPart(self.content)] if self.content else []
        parts.extend(ImagePart(url) for url in self.images)
        return ChatMessage(role, tuple(parts))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation's own settings and flags."""

    id: int
    title: str
    created_at: float | None
    updated_at: float | None
    system_prompt: str | None = None
    provider: str | None = None
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    archived: bool = False
    pinned: bool = False
    draft: str = ""
    active_leaf_id: int | None = None


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """A row of the conversation list."""

    id: int
    title: str
    updated_at: float | None
    message_count: int
    providers: tuple[str, ...]
    pinned: bool
    archived: bool


@dataclass(frozen=True, slots=True)
class Branch:
    """Where a message sits among its siblings: ``index`` of ``count`` (1-based)."""

    index: int
    count: int
    sibling_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Totals:
    """Tokens in and out over a conversation's active path, and what all its branches cost."""

    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class ConversationView:
    """A conversation loaded for display: the active path and branch positions.

    A windowed load (``Store.load(id, last=N)``) holds only the newest N messages of the
    active path in ``path`` (and in ``all_messages``); ``earlier`` counts the ones before.
    """

    conversation: Conversation
    path: list[Message]
    branches: dict[int, Branch]
    all_messages: list[Message]
    #: Messages of the active path before ``path`` that were not loaded; None when there
    #: are some but they were not counted (``Store.path_totals`` counts them).
    earlier: int | None = 0
    #: The totals, when counted in SQL (a windowed load) rather than from the messages.
    counted: Totals | None = None

    @property
    def totals(self) -> Totals:
        """Tokens over the whole active path and the cost of every branch."""
        if self.counted is not None:
            return self.counted
        return Totals(
            sum(m.prompt_tokens or 0 for m in self.path),
            sum(m.completion_tokens or 0 for m in self.path),
            sum(m.cost_usd or 0 for m in self.all_messages),
        )


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: a conversation, and the matching message if the hit is in one."""

    conversation_id: int
    title: str
    message_id: int | None
    role: str | None
    snippet: str
    rank: float
    updated_at: float | None


#: Highlight markers around matches in search snippets; consumers turn them into styles.
MATCH_START = "\x02"
MATCH_END = "\x03"
