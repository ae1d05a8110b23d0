"""Conversations in motion: send a prompt, record the reply as it arrives, never lose a word.

This ties a provider to the store and is shared by ``ask`` and the TUI. The
person's message is stored before the request is sent; the reply is stored
as it streams (at least every 250 ms, and at the end); a failure keeps the
text received and the error; a stop keeps the text as ``interrupted``; a
queued job that is stopped keeps its id so it can be resumed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing, suppress
from dataclasses import dataclass
from typing import Any

from llamachat.params import SPECS, dropped_params, dropped_sentence, param_problem, stored_value
from llamachat.providers.base import (
    ChatMessage,
    ChatRequest,
    Credits,
    Finished,
    GenerationParams,
    JobQueued,
    JobStatus,
    Provider,
    ProviderEvent,
    ReasoningDelta,
    TextDelta,
    Usage,
)
from llamachat.providers.errors import ErrorKind, ProviderError
from llamachat.store.db import Store, StoreError
from llamachat.store.health import not_saved
from llamachat.store.models import Message, MessageStatus

FLUSH_INTERVAL = 0.25
#: ``job_status`` of a queued job nobody is waiting for: its wait ran out or polling failed.
JOB_PAUSED = "paused"
#: ``job_status`` of a queued job the person stopped waiting for (Esc): resumed only on ``r``.
JOB_STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    """The reply has a row in the store (``reply_id``); ``user_id`` is the prompt's row."""

    reply_id: int | None
    user_id: int | None


def params_dict(params: GenerationParams) -> dict[str, Any]:
    """The parameters that are set, for storage."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.values().items()}


def params_from(data: dict[str, Any] | None) -> GenerationParams:
    """Stored parameters back into :class:`GenerationParams` (unknown or unusable ones ignored)."""
    values = {}
    for name, value in (data or {}).items():
        if name in SPECS and value is not None:
            value = stored_value(name, value)
            if param_problem(name, value) is None:
                values[name] = value
    return GenerationParams(**values)


@dataclass(frozen=True, slots=True)
class ParamsDropped:
    """Parameters were set that the provider does not take: they were not sent."""

    names: tuple[str, ...]
    sentence: str


@dataclass(frozen=True, slots=True)
class ReplyNotSaved:
    """The store refused a write (full disk, read-only, damaged file): the reply goes on,
    shown but not (wholly) saved. ``sentence`` says why and what to do; sent once."""

    sentence: str


ChatEvent = ProviderEvent | ReplyStarted | ParamsDropped | ReplyNotSaved


def fit_params(
    provider: Provider, params: GenerationParams
) -> tuple[GenerationParams, ParamsDropped | None]:
    """``params`` without those ``provider`` does not take, and the notice saying so."""
    dropped = dropped_params(params.values(), provider.capabilities.params)
    if not dropped:
        return params, None
    return params.without(dropped), ParamsDropped(
        dropped, dropped_sentence(provider.display_name, dropped)
    )


def history(path: Sequence[Message], system_prompt: str | None) -> list[ChatMessage]:
    """What is sent to the provider for a branch: the system prompt, then every usable turn.

    Failed replies and empty ones are left out; an interrupted reply's text is kept.
    Only the content goes: a reply's reasoning is never sent back.
    """
    messages = [ChatMessage("system", system_prompt)] if system_prompt else []
    for m in path:
        if m.role == "user" or (
            m.role == "assistant" and m.content and m.status != MessageStatus.FAILED
        ):
            messages.append(m.to_chat())
    return messages


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


async def reply(
    store: Store | None,
    provider: Provider,
    *,
    conversation_id: int | None,
    parent: Message | None,
    model: str,
    params: GenerationParams,
    system_prompt: str | None,
    stream: bool = True,
    user_id: int | None = None,
) -> AsyncGenerator[ChatEvent, None]:
    """Ask ``provider`` to answer the branch ending at ``parent`` and record the answer."""
    path = store.path_to(parent.id) if store is not None and parent is not None else []
    if parent is not None and not path:
        path = [parent]
    params, dropped = fit_params(provider, params)
    request = ChatRequest(
        tuple(history(path, system_prompt)), model, params, stream and provider.capabilities.streams
    )
    reply_id: int | None = None
    queued_only = provider.capabilities.queued and not provider.capabilities.streams
    initial = MessageStatus.QUEUED if queued_only else MessageStatus.STREAMING
    refused: str | None = None
    if store is not None and conversation_id is not None:
        try:
            reply_id = store.add_message(
                conversation_id,
                "assistant",
                "",
                parent_id=parent.id if parent else None,
                status=initial,
                provider=provider.name,
                model=model,
                params=params_dict(params),
            ).id
        except StoreError as error:
            refused = not_saved(str(error))  # the reply is still asked for and shown
    recorder = ReplyRecorder(store, reply_id)
    recorder.status = initial
    yield ReplyStarted(reply_id, user_id)
    if refused is not None:
        yield ReplyNotSaved(refused)
    if dropped is not None:
        yield dropped
    async with aclosing(record(recorder, provider.stream(request))) as events:
        async for event in events:
            yield event


async def send(
    store: Store | None,
    provider: Provider,
    *,
    conversation_id: int | None,
    prompt: str,
    images: Sequence[str] = (),
    model: str,
    params: GenerationParams,
    system_prompt: str | None,
    parent_id: int | None = None,
    stream: bool = True,
    ask_unsaved: bool = True,
) -> AsyncGenerator[ChatEvent, None]:
    """Store the person's prompt (before anything is sent), then get and record the reply.

    When the store refuses the prompt (a full disk), ``ask`` still asks and shows the
    reply unsaved; with ``ask_unsaved=False`` (the TUI, which keeps the prompt in its
    input) the :class:`StoreError` is raised instead, before anything is sent.
    """
    refused: str | None = None
    if store is not None and conversation_id is not None:
        try:
            user: Message | None = store.add_message(
                conversation_id,
                "user",
                prompt,
                parent_id=parent_id,
                images=images,
                provider=provider.name,
                model=model,
            )
        except StoreError as error:  # a full disk, say: ask anyway, show the reply unsaved
            if not ask_unsaved:
                raise
            user, refused = None, not_saved(str(error))
    if store is None or conversation_id is None or user is None:
        transient = Message(0, 0, None, "user", prompt, tuple(images))
        replying = _transient_reply(provider, transient, model, params, system_prompt, stream)
        async with aclosing(replying):
            async for event in replying:
                yield event
                if refused is not None and isinstance(event, ReplyStarted):
                    yield ReplyNotSaved(refused)
        return
    replying = reply(
        store,
        provider,
        conversation_id=conversation_id,
        parent=user,
        model=model,
        params=params,
        system_prompt=system_prompt,
        stream=stream,
        user_id=user.id,
    )
    async with aclosing(replying):
        async for event in replying:
            yield event


async def _transient_reply(
    provider: Provider,
    prompt: Message,
    model: str,
    params: GenerationParams,
    system_prompt: str | None,
    stream: bool,
) -> AsyncGenerator[ChatEvent, None]:
    params, dropped = fit_params(provider, params)
    request = ChatRequest(
        tuple(history([prompt], system_prompt)),
        model,
        params,
        stream and provider.capabilities.streams,
    )
    yield ReplyStarted(None, None)
    if dropped is not None:
        yield dropped
    async with aclosing(provider.stream(request)) as events:
        async for event in events:
            yield event


async def resume(
    store: Store, provider: Provider, message: Message
) -> AsyncGenerator[ChatEvent, None]:
    """Poll a queued job again (after a restart or a stop) and fill in its reply.

    A store that refuses writes (a full disk, a lock) does not stop the polling: the
    reply is still fetched and shown, with one :class:`ReplyNotSaved`, and the row keeps
    its job id so that it can be resumed again.
    """
    if not message.job_id:
        raise ValueError("only a queued reply with a job id can be resumed")
    recorder = ReplyRecorder(store, message.id)
    recorder.status = MessageStatus.QUEUED
    recorder.job_id = message.job_id
    try:
        store.update_message(message.id, job_status="QUEUED", error=None, error_detail=None)
    except StoreError as error:
        recorder.unsaved = not_saved(str(error))
    waited = max(0.0, time.time() - (message.created_at or 0.0))
    yield ReplyStarted(message.id, message.parent_id)
    told = recorder.untold()
    if told is not None:
        yield told
    polling = provider.resume(message.job_id, message.model or "", waited)
    async with aclosing(record(recorder, polling)) as events:
        async for event in events:
            yield event


def discard_failed_prompt(store: Store, user_id: int) -> bool:
    """Delete prompt ``user_id`` if every reply to it failed before any text arrived.

    Its text went back to the person's input, so what they send next takes its place
    rather than becoming a branch beside an exchange that holds nothing. A reply that
    received text, or has follow-ups, keeps the prompt (and it stays a branch).
    """
    try:
        prompt = store.message(user_id)
    except KeyError:
        return False
    replies = store.replies_to(user_id)
    if prompt.role != "user" or not replies:
        return False
    for answer in replies:
        empty = not answer.content and not answer.reasoning
        if answer.status is not MessageStatus.FAILED or not empty or store.replies_to(answer.id):
            return False
    store.delete_message(user_id)
    return True


def stop_waiting(store: Store, message: Message) -> str | None:
    """The person stopped waiting for a queued job (Esc): keep it for ``r``, not the next start.

    Returns the one sentence to show when the store refused to note it (the job itself
    is untouched: it is polled again at the next start instead of waiting for ``r``).
    """
    if message.status is not MessageStatus.QUEUED or not message.job_id:
        return None
    try:
        store.update_message(
            message.id,
            job_status=JOB_STOPPED,
            error=f"Stopped waiting for job {message.job_id}: press r to resume it "
            "(it is polled, not submitted again).",
        )
    except StoreError as error:
        reason = str(error)
        return (
            f"Stopped waiting for job {message.job_id}, but this could not be saved, so the "
            f"next start polls it again: {reason[:1].lower()}{reason[1:]}"
        )
    return None


def job_may_be_running(message: Message) -> bool:
    """Whether ``message`` is a reply whose queued job may still run (and be billed)."""
    return (
        message.role == "assistant"
        and message.status is MessageStatus.QUEUED
        and bool(message.job_id)
    )


def running_job_reply(store: Store, prompt: Message) -> Message | None:
    """A reply to ``prompt`` whose queued job may still run: regenerating would pay twice."""
    replies = store.messages(prompt.conversation_id)
    return next((m for m in replies if m.parent_id == prompt.id and job_may_be_running(m)), None)
