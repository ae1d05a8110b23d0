"""Recording a reply as it arrives: every piece of text reaches the store within 250 ms.

A failure keeps the text received and the error; a stop keeps the text as
``interrupted``; a queued job that is stopped keeps its id so it can be resumed. A
write the store refuses never stops the reply (a :class:`ReplyNotSaved` says so once).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing, suppress
from dataclasses import dataclass
from typing import Any

from llamachat.providers.base import (
    Credits,
    Finished,
    JobQueued,
    JobStatus,
    ProviderEvent,
    ReasoningDelta,
    TextDelta,
    Usage,
)
from llamachat.providers.errors import ErrorKind, ProviderError
from llamachat.store.db import Store, StoreError
from llamachat.store.health import not_saved
from llamachat.store.models import MessageStatus

FLUSH_INTERVAL = 0.25
#: ``job_status`` of a queued job nobody is waiting for: its wait ran out or polling failed.
JOB_PAUSED = "paused"
#: ``job_status`` of a queued job the person stopped waiting for (Esc): resumed only on ``r``.
JOB_STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ReplyNotSaved:
    """The store refused a write (full disk, read-only, damaged file): the reply goes on,
    shown but not (wholly) saved. ``sentence`` says why and what to do; sent once."""

    sentence: str


class ReplyRecorder:
    """Accumulates a reply's events and writes them to the store as they arrive."""

    def __init__(self, store: Store | None, message_id: int | None) -> None:
        self.store = store
        self.message_id = message_id
        self.parts: list[str] = []
        self.reasoning_parts: list[str] = []
        self.thinking_since: float | None = None
        self.thinking_seconds: float | None = None
        self.started = time.monotonic()
        self.first_token_at: float | None = None
        self.status = MessageStatus.STREAMING
        self.job_id: str | None = None
        self.usage: Usage | None = None
        self.credits: float | None = None
        self.finish_reason: str | None = None
        self.raw: Any = None
        self._dirty = self._reasoning_dirty = False
        self._last_flush = self.started
        #: Why the store refused a write, once it has: later flushes are skipped and the
        #: final write is tried once more (space may have been freed meanwhile).
        self.unsaved: str | None = None
        self._unsaved_told = False

    @property
    def text(self) -> str:
        """The reply so far."""
        return "".join(self.parts)

    @property
    def reasoning(self) -> str:
        """The reasoning so far."""
        return "".join(self.reasoning_parts)

    def _write(self, *, final: bool = False, **fields: Any) -> None:
        """Store ``fields``; a refused write marks the reply unsaved instead of raising."""
        if self.store is None or self.message_id is None:
            return
        if self.unsaved is not None and not final:
            return
        try:
            self.store.update_message(self.message_id, **fields)
        except StoreError as error:
            self.unsaved = not_saved(str(error))
            if final:
                self._abandon()
        else:
            if final:
                self.unsaved = None  # the whole reply made it in after all

    def _abandon(self) -> None:
        """The final write failed: at least take the row out of ``streaming`` if the
        store takes so small a write (else the next start marks it interrupted).

        A queued job's reply can be fetched again: its row stays queued and paused, with
        its id, for ``r`` or ``history resume`` once there is room, rather than failed.
        """
        assert self.store is not None and self.message_id is not None
        if self.job_id:
            with suppress(StoreError):
                self.store.update_message(
                    self.message_id,
                    status=MessageStatus.QUEUED,
                    job_status=JOB_PAUSED,
                    error=self.unsaved,
                )
            with suppress(StoreError):
                self.store.release(self.message_id)
            return
        # A failed reply's text is indexed for search, which takes room too: if that does
        # not fit, the part stored before goes (the reply is on the screen, not the disk).
        for fields in ({}, {"content": "", "reasoning": None}):
            with suppress(StoreError):
                self.store.update_message(
                    self.message_id, status=MessageStatus.FAILED, error=self.unsaved, **fields
                )
                return

    def untold(self) -> ReplyNotSaved | None:
        """The not-saved notice, the first time it is asked for after a refused write."""
        if self.unsaved is None or self._unsaved_told:
            return None
        self._unsaved_told = True
        return ReplyNotSaved(self.unsaved)

    def feed(self, event: ProviderEvent) -> None:
        """Take one event; text is flushed to the store at most every 250 ms."""
        if type(event) is TextDelta or type(event) is ReasoningDelta:
            now = time.monotonic()
            if type(event) is TextDelta:
                self.parts.append(event.text)
                if self.thinking_since is not None and self.thinking_seconds is None:
                    self.thinking_seconds = now - self.thinking_since
            else:
                self.reasoning_parts.append(event.text)
                self._reasoning_dirty = True
                if self.thinking_since is None:
                    self.thinking_since = now
            self._dirty = True
            if self.first_token_at is None:
                self.first_token_at = now
                if self.status is MessageStatus.QUEUED:
                    self.status = MessageStatus.STREAMING
                self.flush(now)
            elif now - self._last_flush >= FLUSH_INTERVAL:
                self.flush(now)
        elif isinstance(event, JobQueued):
            self.job_id = event.job_id
            self.status = MessageStatus.QUEUED
            self._write(status=self.status, job_id=event.job_id, job_status="QUEUED")
        elif isinstance(event, JobStatus):
            self._write(job_status=event.status)
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, Credits):
            self.credits = event.remaining_usd
        elif isinstance(event, Finished):
            self.finish_reason = event.finish_reason
            self.raw = dict(event.raw) if event.raw is not None else None

    def flush(self, now: float | None = None) -> None:
        """Write the text received so far."""
        self._last_flush = time.monotonic() if now is None else now
        if self._dirty:
            thoughts = self._reasoning_fields() if self._reasoning_dirty else {}
            self._write(content=self.text, status=self.status, **thoughts)
            self._dirty = self._reasoning_dirty = False

    def _reasoning_fields(self) -> dict[str, Any]:
        if not self.reasoning_parts:
            return {}
        seconds = self.thinking_seconds
        if seconds is None and self.thinking_since is not None and self.parts:
            seconds = time.monotonic() - self.thinking_since
        return {"reasoning": self.reasoning, "reasoning_seconds": seconds}

    def _end_thinking(self) -> None:
        """The reply ended: thoughts that never gave way to an answer end here."""
        if self.thinking_since is not None and self.thinking_seconds is None:
            self.thinking_seconds = time.monotonic() - self.thinking_since

    def _metrics(self) -> dict[str, Any]:
        end = time.monotonic()
        fields: dict[str, Any] = {"completed_at": time.time()}
        if self.first_token_at is not None:
            fields["ttft"] = self.first_token_at - self.started
            tokens = (self.usage.completion_tokens if self.usage else None) or len(self.parts)
            duration = end - self.first_token_at
            if duration > 0.001 and tokens > 1:
                fields["tokens_per_second"] = tokens / duration
        if self.usage is not None:
            fields["prompt_tokens"] = self.usage.prompt_tokens
            fields["completion_tokens"] = self.usage.completion_tokens
            fields["cost_usd"] = self.usage.cost_usd
        if self.credits is not None:
            fields["credits_usd"] = self.credits
        return fields

    def complete(self) -> None:
        """The reply finished normally."""
        self._end_thinking()
        self._write(
            final=True,
            content=self.text,
            **self._reasoning_fields(),
            status=MessageStatus.COMPLETE,
            finish_reason=self.finish_reason,
            raw=self.raw,
            **self._metrics(),
        )

    def fail(self, error: ProviderError) -> None:
        """The reply failed; what arrived is kept with the error sentence and details.

        A queued job that may still be running (its wait ran out, or polling kept
        failing) is not a failed reply: it stays queued, ``paused``, with its id, for
        ``r`` or the next start to poll again. Nothing ever submits it again.
        """
        self._end_thinking()
        job_id = self.job_id or error.job_id
        if error.resumable and job_id and not self.parts:
            self._write(
                status=MessageStatus.QUEUED,
                job_id=job_id,
                job_status=JOB_PAUSED,
                error=error.message,
                error_detail=error.details(),
            )
            self._release()
            return
        self._write(
            final=True,
            content=self.text,
            **self._reasoning_fields(),
            status=MessageStatus.FAILED,
            error=error.message,
            error_detail=error.details(),
            job_id=job_id,
            **self._metrics(),
        )

    def _release(self) -> None:
        if self.store is not None and self.message_id is not None:
            try:
                self.store.release(self.message_id)
            except StoreError as error:
                self.unsaved = not_saved(str(error))

    def stop(self) -> None:
        """The reply was stopped or its process is ending: text is kept as ``interrupted``.

        A queued job with no text yet is only left: its job runs on at the provider, and
        the next start (or ``history resume``) polls it again. When the person chose to
        stop waiting (Esc), :func:`stop_waiting` marks it so it waits for ``r`` instead.
        """
        if (
            self.status is MessageStatus.QUEUED
            and self.job_id
            and not self.parts
            and not self.reasoning_parts
        ):
            self._release()
            return
        self._end_thinking()
        self._write(
            final=True,
            content=self.text,
            **self._reasoning_fields(),
            status=MessageStatus.INTERRUPTED,
            error="Stopped before the reply was complete.",
            **self._metrics(),
        )


async def record(
    recorder: ReplyRecorder, events: AsyncGenerator[ProviderEvent, None]
) -> AsyncGenerator[ProviderEvent | ReplyNotSaved, None]:
    """Pass ``events`` through, recording each; finish the row however the stream ends.

    A write the store refuses never stops the reply: a :class:`ReplyNotSaved` follows
    the event that could not be saved, once.
    """
    try:
        async with aclosing(events):
            async for event in events:
                recorder.feed(event)
                yield event
                told = recorder.untold()
                if told is not None:
                    yield told
    except ProviderError as error:
        recorder.fail(error)
        told = recorder.untold()
        if told is not None:
            yield told
        raise
    except (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt):
        recorder.stop()
        raise
    except Exception as error:
        recorder.fail(
            ProviderError(
                ErrorKind.BAD_RESPONSE,
                f"llamachat hit an internal error while receiving the reply "
                f"({type(error).__name__}); the text so far is kept.",
            )
        )
        raise
    else:
        recorder.complete()
        told = recorder.untold()
        if told is not None:
            yield told
