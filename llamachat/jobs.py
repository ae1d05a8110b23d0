"""Queued jobs that outlived the process that submitted them."""

from __future__ import annotations

import asyncio
from contextlib import aclosing, suppress

from llamachat.chat import ReplyNotSaved, resume
from llamachat.config import Config
from llamachat.config_errors import ConfigError
from llamachat.providers.errors import ProviderError
from llamachat.providers.registry import provider_from_config
from llamachat.store.db import Store, StoreError
from llamachat.store.models import Message


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


async def resume_all(store: Store, config: Config) -> list[tuple[int, str]]:
    """Resume every queued job young enough to fetch, concurrently."""
    jobs = store.resumable_jobs()
    outcomes = await asyncio.gather(*(resume_one(store, config, m) for m in jobs))
    return list(zip((m.id for m in jobs), outcomes, strict=True))
