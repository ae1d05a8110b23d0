"""After a crash or a restart: replies left streaming, queued jobs to resume or expire.

Replies being written carry their owner (host and pid), so a restart can tell a reply
another live process is still streaming from one whose process died.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from llamachat.store import validate
from llamachat.store.base import StoreBase, owner_alive
from llamachat.store.models import (
    Message,
    MessageStatus,
)
from llamachat.store.rows import MESSAGE_COLUMNS, message_of

#: Queued jobs older than this are gone at the provider (Segmind keeps results one hour).
JOB_LIFETIME = 3600.0

INTERRUPTED_SENTENCE = (
    "llamachat stopped before this reply was complete: the text received so far is kept; "
    "regenerate to get a whole reply."
)

EXPIRED_SENTENCE = (
    "This queued job is more than an hour old, so the provider no longer keeps its result: "
    "send the prompt again."
)

UNDATED_SENTENCE = (
    "This queued job's start time is unreadable or later than this machine's clock, so it "
    "was not fetched with your key: send the prompt again."
)

UNCONFIRMED_SENTENCE = (
    "llamachat stopped before the provider confirmed the job, so it cannot be resumed: "
    "send the prompt again."
)


@dataclass(frozen=True)
class Recovery:
    """What :meth:`Store.recover` found after a crash or restart."""

    interrupted: int
    expired: int
    resumable: int


#: A job's time may be this far ahead of the clock (a clock stepped back) and still count.
CLOCK_SLACK = 60.0


def _young_job(created_at: Any, now: float) -> bool:
    """Whether a job's stored time is readable, not in the future and under an hour old."""
    when = validate.timestamp(created_at)
    return when is not None and now - JOB_LIFETIME < when <= now + CLOCK_SLACK


class RecoveryMixin(StoreBase):
    """Finding and finishing what a dead process left."""

    def recover(self, now: float | None = None) -> Recovery:
        """After a crash: mark orphaned streaming replies interrupted, expire old queued jobs."""
        now = time.time() if now is None else now
        rows = self._read(
            "SELECT id, status, owner, created_at, job_id FROM messages "
            "WHERE status IN ('queued', 'streaming')"
        )
        interrupted = expired = resumable = 0
        for message_id, status, owner, created_at, job_id in rows:
            if owner_alive(owner) and owner != self.owner:
                continue
            if owner == self.owner:
                continue
            if status == MessageStatus.STREAMING:
                self._finish_orphan(
                    message_id, owner, MessageStatus.INTERRUPTED, INTERRUPTED_SENTENCE
                )
                interrupted += 1
            elif not job_id:
                self._finish_orphan(message_id, owner, MessageStatus.FAILED, UNCONFIRMED_SENTENCE)
                expired += 1
            elif not _young_job(created_at, now):
                when = validate.timestamp(created_at)
                old = when is not None and when <= now + CLOCK_SLACK
                sentence = EXPIRED_SENTENCE if old else UNDATED_SENTENCE
                self._finish_orphan(message_id, owner, MessageStatus.FAILED, sentence)
                expired += 1
            else:
                resumable += 1
        return Recovery(interrupted, expired, resumable)

    def _finish_orphan(
        self, message_id: int, owner: str | None, status: MessageStatus, sentence: str
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE messages SET status = ?, error = ?, "
                "completed_at = COALESCE(heartbeat_at, ?), owner = NULL "
                "WHERE id = ? AND owner IS ? AND status IN ('queued', 'streaming')",
                (status.value, sentence, time.time(), message_id, owner),
            )

    def resumable_jobs(
        self,
        now: float | None = None,
        *,
        include_stopped: bool = True,
        conversation_id: int | None = None,
    ) -> list[Message]:
        """Queued replies with a job id, young enough to fetch, that no live process is polling.

        ``include_stopped=False`` leaves out the jobs a person stopped (Esc): they are
        resumed when asked for, not on their own.
        """
        now = time.time() if now is None else now
        stopped = "" if include_stopped else "AND job_status IS NOT 'stopped' "
        rows = self._read(
            f"SELECT {MESSAGE_COLUMNS}, owner FROM messages "
            "WHERE status IN ('queued', 'streaming') AND status = 'queued' "  # messages_live
            f"AND job_id IS NOT NULL AND created_at > ? {stopped}"
            "AND (? IS NULL OR conversation_id = ?) ORDER BY id",
            (now - JOB_LIFETIME, conversation_id, conversation_id),
        )
        return [
            message_of(r)
            for r in rows
            if _young_job(r[20], now) and (not owner_alive(r[-1]) or r[-1] == self.owner)
        ]

    def release(self, message_id: int) -> None:
        """Give up a queued reply so that a later start (or another process) can resume it."""
        with self._write() as db:
            db.execute("UPDATE messages SET owner = NULL WHERE id = ?", (message_id,))

    def claim(self, message_id: int) -> bool:
        """Take over a queued reply from a dead process; ``False`` if someone else has it."""
        rows = self._read("SELECT owner FROM messages WHERE id = ?", (message_id,))
        if not rows:
            return False
        owner = rows[0][0]
        if owner_alive(owner) and owner != self.owner:
            return False
        with self._write() as db:
            cursor = db.execute(
                "UPDATE messages SET owner = ?, heartbeat_at = ? WHERE id = ? AND owner IS ?",
                (self.owner, time.time(), message_id, owner),
            )
            return cursor.rowcount == 1
