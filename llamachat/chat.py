"""Conversations in motion: send a prompt, record the reply as it arrives, never lose a word.

This ties a provider to the store and is shared by ``ask`` and the TUI. The
person's message is stored before the request is sent; the reply is stored
as it streams (at least every 250 ms, and at the end); a failure keeps the
text received and the error; a stop keeps the text as ``interrupted``; a
queued job that is stopped keeps its id so it can be resumed (``recording``). With
context rules, a request is fitted into its model's window first (``context``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from llamachat.config_personas import PERSONA_KEY
from llamachat.context.fit import sent_messages
from llamachat.context.policy import ContextRules, Overflow
from llamachat.context.tokens import TokenCache
from llamachat.params import dropped_params, dropped_sentence, params_dict
from llamachat.providers.base import (
    ChatMessage,
    ChatRequest,
    GenerationParams,
    Provider,
    ProviderEvent,
)
from llamachat.providers.errors import ErrorKind, ProviderError
from llamachat.recording import ReplyNotSaved as ReplyNotSaved  # part of ChatEvent
from llamachat.recording import ReplyRecorder, record
from llamachat.store.db import Store, StoreError
from llamachat.store.health import not_saved
from llamachat.store.models import Message, MessageStatus

if TYPE_CHECKING:  # context.apply is read when a request is fitted, not at start-up
    from llamachat.context.apply import ContextEvent, Prepared


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    """The reply has a row in the store (``reply_id``); ``user_id`` is the prompt's row."""

    reply_id: int | None
    user_id: int | None


@dataclass(frozen=True, slots=True)
class ParamsDropped:
    """Parameters were set that the provider does not take: they were not sent."""

    names: tuple[str, ...]
    sentence: str


ChatEvent: TypeAlias = "ProviderEvent | ReplyStarted | ParamsDropped | ReplyNotSaved | ContextEvent"


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
    Only the content goes: a reply's reasoning is never sent back. A branch that starts
    from a summary sends it after the system prompt, and nothing it covers.
    """
    return sent_messages(path, system_prompt)


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
    context: ContextRules | None = None,
    persona: str | None = None,
) -> AsyncGenerator[ChatEvent, None]:
    """Ask ``provider`` to answer the branch ending at ``parent`` and record the answer
    (``persona``: the persona it answers as, kept with its parameters).

    With ``context``, the request is fitted into the model's window under its overflow
    policy (see :mod:`llamachat.context`), and a refusal for length that cost nothing
    (no text, no job) is answered once more under the same policy, never twice.
    """
    from llamachat.context.apply import ContextRetried, learn, measured, prepare

    path = store.path_to(parent.id) if store is not None and parent is not None else []
    if parent is not None and not path:
        path = [parent]
    params, dropped = fit_params(provider, params)
    rules = context
    cache = TokenCache()  # each message is estimated once, whatever is tried
    for attempt in (1, 2):
        prepared: Prepared | None = None
        refusal: ProviderError | None = None
        if rules is not None:
            try:
                prepared = await prepare(
                    store,
                    provider,
                    path=path,
                    parent=parent,
                    system_prompt=system_prompt,
                    model=model,
                    max_tokens=params.max_tokens,
                    rules=rules,
                    cache=cache,
                    learned=attempt == 2,
                )
            except ProviderError as error:
                if error.kind is not ErrorKind.CONTEXT_LENGTH:
                    raise  # the summary failed: nothing of the reply was asked for
                refusal = error
            else:
                if prepared.parent is not parent and prepared.parent is not None:
                    user_id = prepared.parent.id  # the prompt moved onto a summary branch
                path, parent, rules = prepared.path, prepared.parent, prepared.rules
        messages = (
            prepared.messages if prepared is not None else tuple(history(path, system_prompt))
        )
        request = ChatRequest(messages, model, params, stream and provider.capabilities.streams)
        made_with = params_dict(params) | ({PERSONA_KEY: persona} if persona else {})
        recorder, unsaved = _start_reply(store, provider, conversation_id, parent, model, made_with)
        yield ReplyStarted(recorder.message_id, user_id)
        if unsaved is not None:
            yield ReplyNotSaved(unsaved)
        if dropped is not None and attempt == 1:
            yield dropped
        if prepared is not None:
            if attempt == 2:
                yield ContextRetried(
                    f"{provider.display_name} refused the request as longer than the context "
                    f"window of '{model}': sending it once more under {prepared.rules.policy}."
                )
            for notice in prepared.events:
                yield notice
        if refusal is not None:
            recorder.fail(refusal)
            raise refusal
        try:
            async with aclosing(record(recorder, provider.stream(request))) as events:
                async for event in events:
                    yield event
        except ProviderError as error:
            if prepared is None or attempt == 2 or not _nothing_arrived(recorder, error):
                raise
            learned = await learn(error, prepared, provider, model)
            if learned is None:
                raise
            if learned.policy is Overflow.STOP:
                raise _stopped(error, prepared, provider, model, recorder) from None
            _discard(store, recorder.message_id, parent)
            rules = learned
            continue
        if prepared is not None:
            yield measured(prepared, recorder.usage, recorder.text)
        return


def _start_reply(
    store: Store | None,
    provider: Provider,
    conversation_id: int | None,
    parent: Message | None,
    model: str,
    params: dict[str, object],
) -> tuple[ReplyRecorder, str | None]:
    """The recorder of the reply's row (stored before the request is sent), and why the
    store refused the row, if it did (the reply is still asked for and shown)."""
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
                params=params,
            ).id
        except StoreError as error:
            refused = not_saved(str(error))
    recorder = ReplyRecorder(store, reply_id)
    recorder.status = initial
    return recorder, refused


def _nothing_arrived(recorder: ReplyRecorder, error: ProviderError) -> bool:
    """Whether a failed reply produced nothing (no text, no thoughts, no job): a retry
    then pays for nothing twice."""
    return not (recorder.parts or recorder.reasoning_parts or recorder.job_id or error.job_id)


def _discard(store: Store | None, reply_id: int | None, parent: Message | None) -> None:
    """Remove the empty failed row of a refused request that is about to be retried; the
    branch ends at its prompt again (the row was the active leaf)."""
    if store is not None and reply_id is not None:
        with suppress(StoreError, KeyError):
            conversation_id = store.message(reply_id).conversation_id
            store.delete_message(reply_id)
            store.set_active_leaf(conversation_id, parent.id if parent is not None else None)


def _stopped(
    error: ProviderError,
    prepared: Prepared,
    provider: Provider,
    model: str,
    recorder: ReplyRecorder,
) -> ProviderError:
    """The server's refusal for length under ``stop``: today's sentence and the two others."""
    from llamachat.context.apply import stop_sentence

    stopped = ProviderError(
        ErrorKind.CONTEXT_LENGTH,
        stop_sentence(provider, model, prepared.rules.window),
        status=error.status,
        body=error.body,
    )
    recorder.fail(stopped)
    return stopped


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
    context: ContextRules | None = None,
    persona: str | None = None,
) -> AsyncGenerator[ChatEvent, None]:
    """Store the person's prompt (before anything is sent), then get and record the reply.

    When the store refuses the prompt (a full disk), ``ask`` still asks and shows the
    reply unsaved; with ``ask_unsaved=False`` (the TUI, which keeps the prompt in its
    input) the :class:`StoreError` is raised instead, before anything is sent.
    ``context``: fit the request into the model's window (see :func:`reply`).
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
        context=context,
        persona=persona,
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
