"""Drawing a reply as its events arrive: the text, a queued job's state, retries, failures.

A :class:`ReplyDrawer` belongs to one pane and runs in that pane's reply worker. It
turns the session's events into what the pane shows; it decides nothing about the
conversation (a failed prompt's place is the session's to note).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from contextlib import aclosing
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from textual.worker import Worker

from llamachat.providers.base import (
    Finished,
    JobQueued,
    JobStatus,
    ReasoningDelta,
    Retrying,
    TextDelta,
)
from llamachat.providers.errors import ProviderError
from llamachat.session import ChatSession, Events
from llamachat.store.db import StoreError
from llamachat.store.health import not_sent
from llamachat.store.models import Message, MessageStatus
from llamachat.tui.conversation.message import MessageView
from llamachat.tui.conversation.message_list import MessageList
from llamachat.tui.conversation.notice import Notice
from llamachat.tui.conversation.prompt import PromptInput
from llamachat.tui.unsaved import shown_unsaved
from llamachat.tui.widgets.status_bar import PaneStatus

if TYPE_CHECKING:
    from llamachat.chat import ReplyStarted


class ReplyPane(Protocol):
    """What a reply is drawn in (a :class:`~llamachat.tui.conversation.pane.ChatPane`)."""

    session: ChatSession
    status: PaneStatus
    messages: MessageList
    notice: Notice
    prompt: PromptInput

    @property
    def id(self) -> str | None: ...

    def status_changed(self) -> None: ...

    def title_changed(self) -> None: ...

    def warn(self, sentence: str) -> None: ...

    def rebuild(self) -> None: ...

    def update_meter(self) -> None: ...

    def show_notice(self, text: str, *, error: bool = False, retry: bool = False) -> None: ...

    def notify(self, message: str, *, timeout: float | None = None) -> None: ...

    def run_worker(
        self, work: Awaitable[None], *, group: str, exclusive: bool, exit_on_error: bool
    ) -> Worker[None]: ...


class ReplyDrawer:
    """Shows one pane's replies as they arrive (one at a time)."""

    def __init__(self, pane: ReplyPane) -> None:
        self.pane = pane
        #: Why the store refused this reply's writes (said once, in the notice).
        self._unsaved: str | None = None
        self._worker: Worker[None] | None = None

    @property
    def busy(self) -> bool:
        """Whether a reply is being received."""
        return self._worker is not None and self._worker.is_running

    def start(self, events: Events, *, rebuild: bool, user_text: str, resuming: int | None) -> None:
        """Draw ``events`` in the pane's reply worker (one reply at a time per pane)."""
        self._worker = self.pane.run_worker(
            self.consume(events, rebuild=rebuild, user_text=user_text, resuming=resuming),
            group=f"reply-{self.pane.id}",
            exclusive=True,
            exit_on_error=False,
        )

    def stop(self) -> None:
        """Stop the reply: what arrived is kept, marked interrupted (a queued job waits for r)."""
        if self._worker is not None and self._worker.is_running:
            self.stop_waiting_for_job()
            self._worker.cancel()

    async def consume(
        self,
        events: Events,
        *,
        rebuild: bool,
        user_text: str,
        resuming: int | None,
    ) -> None:
        """Draw ``events`` to the end (``rebuild``: the prompt went to another branch;
        ``resuming``: the id of a queued reply already shown)."""
        from llamachat.chat import ReplyStarted  # loaded by the first send, not at start-up

        pane, session = self.pane, self.pane.session
        asked = (session.provider_name, session.model)
        self._unsaved = None
        status = pane.status
        status.streaming = True
        status.waiting_since = time.time() if resuming is None else None
        status.retry_attempt = ""
        pane.status_changed()
        view: MessageView | None = pane.messages.views.get(resuming) if resuming else None
        reply_id: int | None = resuming
        user_id: int | None = None
        try:
            async with aclosing(events):
                async for event in events:
                    if type(event) is TextDelta:
                        if view is not None:
                            view.append(event.text)
                        if pane.notice.retrying:  # the retry worked
                            pane.notice.hide()
                        if status.waiting_since is not None:
                            self._first_token()
                        continue
                    if type(event) is ReasoningDelta:
                        if view is not None:
                            view.append_reasoning(event.text)
                        if status.waiting_since is not None:
                            self._first_token()
                        continue
                    if isinstance(event, ReplyStarted):
                        reply_id, user_id = event.reply_id, event.user_id
                        view = self._reply_started(event, rebuild) if resuming is None else view
                        if resuming is None and view is not None:
                            view.waiting()
                        if session.store is not None and session.conversation_id is not None:
                            title = session.store.conversation(session.conversation_id).title
                            session.title = title or "New chat"
                            pane.title_changed()
                    else:
                        self._on_event(event, view)
        except ProviderError as error:
            if view is not None:
                view.finish()
            self._failed(error, user_id, user_text, shown=view is not None and bool(reply_id))
        except StoreError as error:  # the prompt could not be stored: nothing was sent
            self._prompt_back(user_text)
            pane.show_notice(not_sent(str(error)), error=True)
        except asyncio.CancelledError:
            if view is not None:
                view.finish()
            raise
        else:
            if view is not None:
                view.finish()
        finally:
            if pane.notice.retrying:  # stopped, or done, while waiting to retry
                pane.notice.hide()
            status.streaming = False
            status.retry_at = status.waiting_since = None
            status.job_id = status.job_status = None
            self._refresh_reply(view, reply_id)
            if session.moved:  # the prompt was moved onto the summary's branch: show it
                session.moved = False
                pane.rebuild()
            elif (session.provider_name, session.model) != asked:
                pane.update_meter()  # switched model meanwhile: its window, not the request's
            pane.status_changed()

    def _first_token(self) -> None:
        """Text arrived: no longer waiting (nor retrying), streaming."""
        self.pane.status.waiting_since, self.pane.status.retry_attempt = None, ""
        self.pane.status_changed()

    def _reply_started(self, event: ReplyStarted, rebuild: bool) -> MessageView:
        pane, session = self.pane, self.pane.session
        store, messages = session.store, pane.messages
        if store is not None and event.reply_id is not None and rebuild:
            pane.rebuild()
            return messages.views[event.reply_id]
        if store is not None and event.user_id is not None and event.user_id not in messages.views:
            messages.append(store.message(event.user_id))  # kept even if its reply is not
        if store is not None and event.reply_id is not None:
            return messages.append(store.message(event.reply_id))
        transient = Message(
            0,
            0,
            None,
            "assistant",
            "",
            provider=session.provider_name,
            model=session.model,
            status=MessageStatus.STREAMING,
            created_at=time.time(),
        )
        return messages.append(transient)

    def _on_event(self, event: object, view: MessageView | None) -> None:
        pane, s = self.pane, self.pane.status
        now = time.time()
        from llamachat.chat import ParamsDropped, ReplyNotSaved
        from llamachat.context.apply import (  # loaded by the first send, not at start-up
            ContextMeasured,
            ContextRetried,
            ContextSummarized,
            ContextTrimmed,
        )

        if isinstance(event, ParamsDropped):
            pane.warn(event.sentence)
        elif isinstance(event, ContextTrimmed | ContextSummarized | ContextRetried):
            pane.notify(event.sentence, timeout=8)  # nothing was deleted
        elif isinstance(event, ContextMeasured):
            s.context_used, s.context_window = event.used, event.window
            s.context_estimated = event.estimated
        elif isinstance(event, JobQueued):
            s.job_id, s.job_status, s.job_since = event.job_id, "QUEUED", now
            if view is not None:
                view.update_message(
                    replace(view.message, status=MessageStatus.QUEUED, job_id=event.job_id)
                )
        elif isinstance(event, JobStatus):
            s.job_id, s.job_status = event.job_id, event.status
            s.job_since = now - event.waited
            s.next_poll_at = now + event.next_poll_in if event.next_poll_in else None
            s.poll_interval = event.next_poll_in
            if view is not None:
                view.update_message(replace(view.message, job_status=event.status))
        elif isinstance(event, Retrying):
            s.retry_at = now + event.delay
            s.retry_attempt = f"{event.attempt}/{event.max_attempts}"
            if view is not None:
                view.retrying(event.attempt, event.max_attempts, event.delay)
            pane.show_notice(f"Retrying in {event.delay:.0f} s: {event.reason}", retry=True)
        elif isinstance(event, Finished) and self._unsaved is None:
            pane.notice.hide()
        elif isinstance(event, ReplyNotSaved) and self._unsaved is None:
            self._unsaved = event.sentence
            pane.show_notice(event.sentence, error=True)
        pane.status_changed()  # usage, cost and credits were counted by the session

    def _refresh_reply(self, view: MessageView | None, reply_id: int | None) -> None:
        store = self.pane.session.store
        if view is None:
            return
        if store is not None and reply_id:
            stored = store.message(reply_id)
            if self._unsaved is not None:  # the reply stays whole on screen
                stored = shown_unsaved(stored, view.text, self._unsaved)
            view.update_message(stored)
            path = self.pane.session.path
            path[:] = [stored if m.id == stored.id else m for m in path]
        else:
            view.update_message(replace(view.message, status=MessageStatus.COMPLETE))

    def _failed(
        self, error: ProviderError, user_id: int | None, user_text: str, *, shown: bool = False
    ) -> None:
        """One sentence in the pane, and the prompt back in the input so nothing is lost.

        The sentence is said once: under the failed reply when it is ``shown`` there, else
        in the notice. A job kept to resume is not a lost reply: its prompt stays out of
        the input, where sending it again would pay for a second job.
        """
        pane = self.pane
        if error.resumable:
            pane.show_notice(error.message, error=True)
            return
        self._prompt_back(user_text)
        if user_text and user_id is not None:
            pane.session.prompt_failed(user_id)  # what is sent next goes where it was
        back = "Your prompt is back in the input: Enter sends it again."
        pane.show_notice(back if shown else f"{error.message} {back}", error=True)

    def _prompt_back(self, user_text: str) -> None:
        """Put a prompt that was not answered back in the input, before what was typed since."""
        prompt = self.pane.prompt
        if user_text and user_text not in prompt.text:
            typed = prompt.text.strip("\n")  # typed since, or a draft set aside by an edit
            prompt.show_text(f"{user_text}\n\n{typed}" if typed else user_text)

    def stop_waiting_for_job(self) -> None:
        """Esc on a queued job: it is kept for ``r``, not polled again at the next start."""
        pane = self.pane
        job_id = pane.status.job_id
        views = pane.messages.views.values()
        view = next((v for v in views if job_id and v.message.job_id == job_id), None)
        if view is not None:
            refused = pane.session.stop_waiting(view.message.id)
            if refused is not None:
                self._unsaved = refused
                pane.show_notice(refused, error=True)
