"""Queued jobs: those that outlived the process that submitted them, one a person stopped
waiting for, and whether one may still run (and be billed) before another is submitted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing, suppress

from llamachat.chat import ReplyNotSaved, resume
from llamachat.config import Config
from llamachat.config_errors import ConfigError
from llamachat.providers.errors import ProviderError
from llamachat.providers.registry import provider_from_config
from llamachat.recording import JOB_STOPPED
from llamachat.store.db import Store, StoreError
from llamachat.store.models import Message, MessageStatus


async def resume_one(store: Store, config: Config, message: Message) -> str:
    """Poll one job to its end and store the reply; a plain sentence saying how it went.

    A store that refuses writes (a full disk, a lock) is that sentence too, never an
    exception: the job keeps its id, to be resumed again once the store takes writes.
    """
    try:
        if not store.claim(message.id):
            return "another llamachat is already fetching this job."
    except StoreError as error:
        return str(error)
    try:
        provider = provider_from_config(config, message.provider or "")
    except ConfigError as error:
        with suppress(StoreError):
            store.update_message(message.id, status="failed", error=str(error))
        return str(error)
    unsaved: str | None = None
    try:
        async with aclosing(resume(store, provider, message)) as events:
            async for event in events:
                if isinstance(event, ReplyNotSaved) and unsaved is None:
                    unsaved = event.sentence
    except ProviderError as error:
        return error.message
    finally:
        await provider.aclose()
    return unsaved or "reply received."


async def resume_left(
    store: Store,
    config: Config,
    jobs: list[Message],
    skip: Callable[[Message], bool],
    running: set[int],
) -> AsyncIterator[tuple[Message, str]]:
    """Fetch the replies of queued ``jobs`` one by one (not those ``skip`` says are shown
    elsewhere, which are resumed there); each is in ``running`` while it is fetched."""
    for message in jobs:
        if skip(message):
            continue
        running.add(message.id)
        try:
            outcome = await resume_one(store, config, message)
        finally:
            running.discard(message.id)
        yield message, outcome


async def resume_all(store: Store, config: Config) -> list[tuple[int, str]]:
    """Resume every queued job young enough to fetch, concurrently."""
    jobs = store.resumable_jobs()
    outcomes = await asyncio.gather(*(resume_one(store, config, m) for m in jobs))
    return list(zip((m.id for m in jobs), outcomes, strict=True))


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
