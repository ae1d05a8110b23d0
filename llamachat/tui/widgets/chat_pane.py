"""One open conversation: its messages, its prompt, and its own streaming worker.

Each pane streams on its own (a worker group per pane), so a reply keeps
streaming in a pane you are not looking at. Everything is recorded through
:mod:`llamachat.chat`; the pane only draws events. Long conversations mount
their last messages first and older ones as you scroll up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message as TextualMessage
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker

from llamachat.chat import (
    ChatEvent,
    ParamsDropped,
    ReplyNotSaved,
    ReplyStarted,
    discard_failed_prompt,
    params_dict,
    params_from,
    reply,
    resume,
    running_job_reply,
    send,
    stop_waiting,
)
from llamachat.config import ConfigError
from llamachat.context.meter import meter
from llamachat.context.policy import ContextRules
from llamachat.context.settings import CONVERSATION_KEY, conversation_policy
from llamachat.context.tokens import TokenCache
from llamachat.images import ImageError, accepts_images, image_reference
from llamachat.providers.base import (
    Credits,
    Finished,
    GenerationParams,
    JobQueued,
    JobStatus,
    Provider,
    ReasoningDelta,
    Retrying,
    TextDelta,
    Usage,
)
from llamachat.providers.errors import ProviderError
from llamachat.store.db import StoreError
from llamachat.store.health import not_sent
from llamachat.store.models import Branch, ConversationView, Message, MessageStatus, Totals
from llamachat.textsafety import escape_label
from llamachat.tui.unsaved import repeats, shown_unsaved, told_if_refused
from llamachat.tui.widgets.earlier import EarlierRow
from llamachat.tui.widgets.message import MessageView
from llamachat.tui.widgets.prompt import PromptInput
from llamachat.tui.widgets.status_bar import PaneStatus

if TYPE_CHECKING:
    from llamachat.tui.app import LlamaChatApp

#: Messages mounted when a conversation opens (more if they do not fill the screen);
#: older ones load, a batch at a time, as you scroll up.
WINDOW = 8
BATCH = 20
#: Messages read from the store at a time: a conversation of a million messages opens with
#: its newest ones, and older ones are read as scrolling up reaches the first one read.
LOAD = 200


class MessageList(VerticalScroll):
    """The scrolling list of messages; it follows a stream until you scroll up."""

    DEFAULT_CSS = """
    MessageList { height: 1fr; padding: 0 1; scrollbar-gutter: stable; }
    """

    @dataclass
    class NearTop(TextualMessage):
        """Scrolled to the top: time to mount older messages."""

    @property
    def following(self) -> bool:
        """Whether the view keeps to the end (until the person scrolls up to read)."""
        return self.is_anchored and not self._anchor_released  # Textual keeps no public flag

    #: Where the person is reading when scrolled up: the child at the top, how far
    #: into it (a fraction of its height), and the width this was measured at.
    _reading: tuple[Widget, float, int] | None = None

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value:
            self.post_message(self.NearTop())
        if self._reading is not None and self._reading[2] != self.size.width:
            # Mid-resize: the rewrap moved the end to the view, not the person (Textual
            # would follow the stream again); the place kept is restored after the resize.
            if self.following:
                self.release_anchor()
            return
        self._note_reading()

    def _note_reading(self) -> None:
        self._reading = None
        if self.following:
            return
        y = round(self.scroll_y)
        for child in self.children:
            region = child.virtual_region_with_margin
            if child.display and region.y <= y < region.bottom:
                self._reading = (child, (y - region.y) / max(1, region.height), self.size.width)
                return

    def on_resize(self) -> None:
        """Rewrapped text moves every line: keep the message being read at the top."""
        reading = self._reading
        if reading is None or self.following or reading[2] == self.size.width:
            return

        def restore() -> None:
            child, fraction, _ = reading
            if child.parent is self and not self.following:
                region = child.virtual_region_with_margin
                y = region.y + round(fraction * region.height)
                self.scroll_to(y=y, animate=False, immediate=True)
            self._note_reading()

        self.call_after_refresh(restore)


class ChatPane(Vertical):
    """A conversation being read and written."""

    DEFAULT_CSS = """
    ChatPane { height: 1fr; }
    ChatPane > #notice { height: auto; max-height: 12; padding: 0 2; color: $text-muted; }
    ChatPane > #notice.-error { color: $error; }
    ChatPane > #attachments { height: auto; padding: 0 2; color: $accent; }
    ChatPane > PromptInput { margin: 0 1; border: tall $panel; }
    ChatPane > PromptInput:focus { border: tall $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop", show=True),
        Binding("ctrl+r", "regenerate", "Regenerate", show=True),
        Binding("ctrl+o", "attach", "Image", show=False),
    ]

    @dataclass
    class StatusChanged(TextualMessage):
        """The pane's status (provider, job, credits, money, tokens) changed."""

        pane: ChatPane

    @dataclass
    class TitleChanged(TextualMessage):
        """The conversation got a title or an id (its first message was stored)."""

        pane: ChatPane

    def __init__(
        self,
        *,
        conversation_id: int | None,
        provider: str,
        model: str,
        params: GenerationParams,
        system_prompt: str | None,
        pane_id: str,
    ) -> None:
        super().__init__(id=pane_id)
        self.conversation_id = conversation_id
        self.provider_name = provider
        self.model = model
        self.params = params
        self.system_prompt = system_prompt
        self.title = "New chat"
        self.status = PaneStatus(provider=provider, model=model)
        self.earlier = EarlierRow(id="earlier")
        self.messages = MessageList(self.earlier, id="messages")
        self.notice = Static(id="notice")
        self.attachments_label = Static(id="attachments")
        self.prompt = PromptInput(id="prompt")
        # Hidden from the start, not on mount: a notice shown before then (the keyless
        # welcome, on a loaded machine) must not be hidden by the mount.
        self.notice.display = self.earlier.display = self.attachments_label.display = False
        self.attachments: list[str] = []
        self._path: list[Message] = []
        self._first_mounted = 0
        # Messages of the path before self._path, not read from the store yet (None: some,
        # being counted in a thread).
        self._earlier: int | None = 0
        self._views: dict[int, MessageView] = {}
        self._worker: Worker[None] | None = None
        # Where the next prompt attaches when it is not simply the next turn: the parent of an
        # edited prompt, or of a failed one being sent again (a sibling, not a follow-up).
        self._branch_from: tuple[int | None] | None = None
        #: A prompt whose reply failed with no text: the next send takes its place.
        self._failed_prompt: int | None = None
        self._editing = False
        self._draft_before_edit = ""  # what the prompt held when an edit began
        self._retry_notice = False  # the notice is a retry countdown, to clear when it is over
        self._branches: dict[int, Branch] = {}
        self._draft_timer: Timer | None = None
        self._filling = False
        self._tokens = TokenCache()  # token estimates, one per message, for the meter
        #: This conversation's own context_overflow policy (Settings); ``None``: the config's.
        self.context_overflow: str | None = None
        self._meter_timer: Timer | None = None
        self._summarized = False  # the reply now streaming answers a summary branch
        #: Why the store refused this reply's writes (said once, in the notice).
        self._unsaved: str | None = None
        self._notice_text: str | None = None

    @property
    def chat_app(self) -> LlamaChatApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    @property
    def busy(self) -> bool:
        """Whether a reply is being received."""
        return self._worker is not None and self._worker.is_running

    def compose(self) -> ComposeResult:
        yield self.messages
        yield self.notice
        yield self.attachments_label
        yield self.prompt

    def on_mount(self) -> None:
        self.messages.anchor()
        if self.conversation_id is not None:
            self.load(self.conversation_id)

    # --- loading ------------------------------------------------------------------

    def load(self, conversation_id: int, at_message: int | None = None) -> None:
        """Show a stored conversation: its settings, its draft, its last messages."""
        store = self.chat_app.store
        if store is None:
            return
        view = store.load(conversation_id, last=self._window_for(conversation_id, at_message))
        self.conversation_id = conversation_id
        conversation = view.conversation
        self.title = conversation.title or "New chat"
        if conversation.provider:
            self.provider_name = conversation.provider
        if conversation.model:
            self.model = conversation.model
        defaults = self.chat_app.default_params(self.provider_name)
        self.params = defaults.merged(params_from(conversation.params))
        self.context_overflow = conversation_policy(conversation.params)
        self.system_prompt = conversation.system_prompt
        if conversation.draft and not self.prompt.text:
            self.prompt.show_text(conversation.draft)
        self._show(view, at_message)
        self._recount(view)
        if view.earlier is None:
            leaf = view.path[-1].id if view.path else None
            self.run_worker(
                lambda: self._count_path(conversation_id, leaf),
                thread=True,
                group=f"count-{self.id}",
                exclusive=True,
                exit_on_error=False,
            )
        if self.status.credits is None:
            self.refresh_credits()
        self._resume_left_jobs()

    def _window_for(self, conversation_id: int, at_message: int | None) -> int:
        """How many of the newest messages to read: enough to reach ``at_message`` (a search
        hit), after switching to its branch if it is on another one."""
        store = self.chat_app.store
        if store is None or at_message is None:
            return LOAD
        distance = store.distance_from_leaf(conversation_id, at_message)
        if distance is None:
            try:
                store.switch_to(at_message)
            except (KeyError, StoreError):
                return LOAD
            distance = store.distance_from_leaf(conversation_id, at_message)
        return max(LOAD, (distance or 0) + WINDOW)

    def _count_path(self, conversation_id: int, leaf: int | None) -> None:
        """In a thread: count a long path's messages and tokens (a million take seconds)."""
        store = self.chat_app.store
        if store is not None:
            length, totals = store.path_totals(conversation_id)
            self.app.call_from_thread(self._counted, conversation_id, leaf, length, totals)

    def _counted(self, conversation_id: int, leaf: int | None, length: int, totals: Totals) -> None:
        shown = self._path[-1].id if self._path else None
        if conversation_id != self.conversation_id or shown != leaf or self._earlier is not None:
            return  # something else was loaded meanwhile
        self._earlier = max(0, length - len(self._path))
        self._update_earlier(self.earlier)
        s = self.status
        s.conversation_cost = totals.cost_usd
        s.tokens_in, s.tokens_out = totals.prompt_tokens, totals.completion_tokens
        self.post_message(self.StatusChanged(self))

    def _resume_left_jobs(self) -> None:
        """Poll again a queued job an earlier run left in this conversation (not one stopped)."""
        store = self.chat_app.store
        if store is None or self.conversation_id is None or self.busy:
            return
        for message in store.resumable_jobs(
            include_stopped=False, conversation_id=self.conversation_id
        ):
            if message.id in self._views and message.id not in self.chat_app.background_jobs:
                self.resume_job(message)
                return  # one reply at a time per pane; the others are resumed when asked

    def _recount(self, view: ConversationView) -> None:
        s = self.status
        s.provider, s.model = self.chat_app.display_name(self.provider_name), self.model
        totals = view.totals
        s.conversation_cost = totals.cost_usd
        s.tokens_in, s.tokens_out = totals.prompt_tokens, totals.completion_tokens
        credits = [  # another provider's balance would mislead
            m.credits_usd
            for m in view.path
            if m.credits_usd is not None and m.provider == self.provider_name
        ]
        s.credits = credits[-1] if credits else s.credits
        self.post_message(self.StatusChanged(self))

    def _show(self, view: ConversationView, at_message: int | None = None) -> None:
        self._path = view.path
        self._earlier = view.earlier
        self._branches = view.branches
        start = max(0, len(self._path) - WINDOW)
        if at_message is not None:
            index = next((i for i, m in enumerate(self._path) if m.id == at_message), None)
            if index is None:  # load() switched to its branch and read up to it: gone since
                at_message = None
            else:
                start = min(start, max(0, index - 5))
        focused = self.app.focused
        if isinstance(focused, MessageView) and focused.parent is self.messages:
            self.prompt.focus()  # its view is going: the prompt, not whatever comes next
        self.messages.query(MessageView).remove()
        self._views.clear()
        self._first_mounted = start
        self._update_earlier(self.earlier)
        self.messages.mount_all([self._view_for(m) for m in self._path[start:]])
        if at_message is not None and at_message in self._views:
            target = self._views[at_message]
            self.call_after_refresh(lambda: self._focus_message(target))
        else:
            self.call_after_refresh(self._fill_screen)
        self.call_after_refresh(self.update_meter)

    def _fill_screen(self, attempts: int = 20) -> None:
        """Mount older messages until the view can scroll (so scrolling up can load more)."""
        mounted = list(self._views.values())
        if attempts and any(not view.size.height for view in mounted):
            self.call_after_refresh(self._fill_screen, attempts - 1)  # not laid out yet
            return
        filled = sum(view.outer_size.height for view in mounted) > self.messages.size.height
        if (self._first_mounted > 0 or self._earlier != 0) and not filled:
            self._filling = True
            self._mount_earlier(keep_position=False)
            self.call_after_refresh(self._fill_screen, attempts)
        else:
            self._filling = False
            if self.messages.following:  # not when the person already scrolled up to read
                self.messages.scroll_end(animate=False)

    def _focus_message(self, target: MessageView) -> None:
        self.messages.scroll_to_widget(target, animate=False, top=True)
        target.focus()

    def _update_earlier(self, label: Static) -> None:
        count = "" if self._earlier is None else f"{self._first_mounted + self._earlier:,} "
        label.update(Text(f"↑ {count}earlier messages: scroll up or click to load them"))
        label.display = self._first_mounted > 0 or self._earlier != 0

    def _view_for(self, message: Message) -> MessageView:
        view = MessageView(
            message,
            display_name=self.chat_app.display_name(message.provider) if message.provider else None,
            branch=self._branches.get(message.id),
            code_theme=self.chat_app.code_theme,
        )
        self._views[message.id] = view
        return view

    def on_message_list_near_top(self, event: MessageList.NearTop) -> None:
        event.stop()
        if not self._filling:
            self.action_load_earlier()

    def on_earlier_row_pressed(self, event: EarlierRow.Pressed) -> None:
        event.stop()
        self.action_load_earlier()

    def action_load_earlier(self) -> None:
        """Mount the next batch of older messages, keeping the reading position."""
        self._mount_earlier(keep_position=True)

    def _mount_earlier(self, *, keep_position: bool) -> None:
        if self._first_mounted <= 0:
            self._read_earlier()
        if self._first_mounted <= 0:
            return
        start = max(0, self._first_mounted - BATCH)
        batch = [self._view_for(m) for m in self._path[start : self._first_mounted]]
        anchor = self._views.get(self._path[self._first_mounted].id)
        self._first_mounted = start
        self.messages.mount_all(batch, after=self.earlier)
        self._update_earlier(self.earlier)
        if anchor is not None and keep_position:
            self.call_after_refresh(
                lambda: self.messages.scroll_to_widget(anchor, animate=False, top=True)
            )

    def _read_earlier(self) -> None:
        """Read the next ``LOAD`` older messages of the path from the store."""
        store = self.chat_app.store
        older: list[Message] = []
        branches: dict[int, Branch] = {}
        if store is not None and self._earlier != 0 and self._path and self._path[0].id:
            with contextlib.suppress(KeyError):  # deleted meanwhile: nothing more to read
                older, branches = store.earlier(self._path[0].id, LOAD)
        self._path[:0] = older
        self._branches.update(branches)
        self._first_mounted += len(older)
        if len(older) < LOAD:
            self._earlier = 0  # the first message has been read
        elif self._earlier is not None:
            self._earlier = max(0, self._earlier - len(older))

    def rebuild(self) -> None:
        """Redraw from the store (after a branch switch, an edit or a regenerate)."""
        store = self.chat_app.store
        if store is not None and self.conversation_id is not None:
            view = store.load(self.conversation_id, last=max(LOAD, len(self._path)))
            self._show(view)
            self._recount(view)

    def sync_with_store(self) -> None:
        """Show what another process changed in this conversation (a job's reply, a new
        message, a title), unless a reply is arriving here or a prompt is being edited."""
        from llamachat.tui.external import changed_elsewhere

        store = self.chat_app.store
        if store is None or self.conversation_id is None or self.busy or self._editing:
            return
        try:
            title = store.conversation(self.conversation_id).title or "New chat"
        except KeyError:
            return  # deleted by another process: what is shown stays until the tab closes
        if changed_elsewhere(store, self.conversation_id, self._path):
            self.rebuild()
        if title != self.title:
            self.title = title
            self.post_message(self.TitleChanged(self))

    # --- sending ------------------------------------------------------------------

    def on_prompt_input_read_back(self, event: PromptInput.ReadBack) -> None:
        event.stop()
        messages = self.messages
        page = messages.scrollable_content_region.height
        # At once, not after the next refresh: quick presses each move a whole page. Scrolling
        # releases the anchor (the view stops following); at the bottom following resumes.
        messages.scroll_to(y=messages.scroll_y + event.pages * page, animate=False, immediate=True)

    def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        event.stop()
        self.submit(event.text)

    def submit(self, text: str) -> None:
        """Send ``text`` (with any attached images) as the next prompt."""
        if self.busy:
            self.chat_app.notify("A reply is still arriving: press Esc to stop it first.")
            return
        provider = self._provider()
        if provider is None or (self.attachments and not self._refuse_images(provider)):
            return  # the text and the images stay where they are
        store = self.chat_app.store
        last = self._path[-1].id if self._path else None
        parent = self._branch_from[0] if self._branch_from is not None else last
        branching = parent != last
        was_editing = self._editing
        try:
            if store is not None and self.conversation_id is None:
                self.conversation_id = store.create_conversation(
                    system_prompt=self.system_prompt,
                    provider=self.provider_name,
                    model=self.model,
                    params=self.stored_params(),
                ).id
            if self._failed_prompt is not None and store is not None and not was_editing:
                discard_failed_prompt(store, self._failed_prompt)  # not a branch beside it
        except StoreError as error:  # a full disk, say: the prompt stays where it is
            self.show_notice(not_sent(str(error)), error=True)
            return
        self._branch_from, self._editing, self._failed_prompt = None, False, None
        images = list(self.attachments)
        self.attachments.clear()
        self._show_attachments()
        self.prompt.remove_sent(text)
        if was_editing and not self.prompt.text:
            self.prompt.show_text(self._draft_before_edit)  # the draft the edit set aside
        self._hide_notice()
        if store is not None and self.conversation_id is not None:
            with contextlib.suppress(StoreError):  # the send below says why
                store.save_draft(self.conversation_id, self.prompt.text)
        events = send(
            store,
            provider,
            conversation_id=self.conversation_id,
            prompt=text,
            images=images,
            model=self.model,
            params=self.params,
            system_prompt=self.system_prompt,
            parent_id=parent,
            ask_unsaved=False,  # a prompt the store refuses goes back to the input, unsent
            context=self._context_rules(),
        )
        if store is None:
            # Nothing is stored: show the prompt ourselves.
            self._append_view(
                Message(0, 0, None, "user", text, tuple(images), created_at=time.time())
            )
        self._start(events, rebuild=branching, user_text=text)

    def _provider(self, name: str | None = None) -> Provider | None:
        try:
            return self.chat_app.get_provider(name or self.provider_name)
        except Exception as error:
            self.show_notice(f"{error}", error=True)
            return None

    def action_regenerate(self) -> None:
        """Ask again for the last reply (the old one is kept as a branch)."""
        last_user = next((m for m in reversed(self._path) if m.role == "user"), None)
        if last_user is not None:
            self.regenerate(last_user)

    def regenerate(self, user_message: Message, *, pay_again: bool = False) -> None:
        """A new reply to ``user_message``, beside the existing ones.

        If a queued job answering it may still run, a new submit would be billed twice:
        the person chooses between resuming that job and paying for a new one.
        """
        if self.busy:
            self.chat_app.notify("A reply is still arriving: press Esc to stop it first.")
            return
        store = self.chat_app.store
        self._failed_prompt = None  # answered again: that prompt stays
        running = running_job_reply(store, user_message) if store is not None else None
        if running is not None and not pay_again:
            self._ask_resume_or_pay(user_message, running)
            return
        provider = self._provider()
        if provider is None or store is None or self.conversation_id is None:
            return
        events = reply(
            store,
            provider,
            conversation_id=self.conversation_id,
            parent=user_message,
            model=self.model,
            params=self.params,
            system_prompt=self.system_prompt,
            user_id=user_message.id,
            context=self._context_rules(),
        )
        self._start(events, rebuild=True)

    def _ask_resume_or_pay(self, prompt: Message, running: Message) -> None:
        from llamachat.tui.screens.dialogs import ChoiceScreen

        def chosen(answer: str | None) -> None:
            if answer == "resume":
                self.resume_job(running)
            elif answer == "submit":
                self.regenerate(prompt, pay_again=True)

        question = (
            f"Job {running.job_id} for this prompt may still be running, and it is billed "
            "either way. Resume waiting for its reply, or submit a new job (billed again)?"
        )
        choices = [("resume", "Resume job"), ("submit", "Submit new (billed)")]
        self.app.push_screen(ChoiceScreen(question, choices), chosen)

    def resume_job(self, message: Message) -> None:
        """Poll a queued job of this conversation again (at the provider that queued it)."""
        store = self.chat_app.store
        provider = self._provider(message.provider)
        if store is None or provider is None or self.busy:
            return
        with told_if_refused(self.app):  # a lock held elsewhere: resumed when asked again
            if store.claim(message.id):
                self._start(resume(store, provider, message), rebuild=False, resuming=message.id)

    def _start(
        self,
        events: AsyncGenerator[ChatEvent, None],
        *,
        rebuild: bool,
        user_text: str = "",
        resuming: int | None = None,
    ) -> None:
        self._unsaved = None
        self._worker = self.run_worker(
            self._consume(events, rebuild=rebuild, user_text=user_text, resuming=resuming),
            group=f"reply-{self.id}",
            exclusive=True,
            exit_on_error=False,
        )

    def action_stop(self) -> None:
        """Stop the reply: what arrived is kept, marked interrupted."""
        if self._editing and not self.busy:
            self._branch_from, self._editing = None, False
            self.prompt.show_text(self._draft_before_edit)
            self._hide_notice()
            return
        if self._worker is not None and self._worker.is_running:
            self._stop_waiting_for_job()
            self._worker.cancel()

    def _stop_waiting_for_job(self) -> None:
        """Esc on a queued job: it is kept for ``r``, not polled again at the next start."""
        store = self.chat_app.store
        job_id = self.status.job_id
        view = next(
            (v for v in self._views.values() if job_id and v.message.job_id == job_id), None
        )
        if store is not None and view is not None:
            refused = stop_waiting(store, store.message(view.message.id))
            if refused is not None:
                self._unsaved = refused
                self.show_notice(refused, error=True)

    # --- receiving ----------------------------------------------------------------

    async def _consume(
        self,
        events: AsyncGenerator[ChatEvent, None],
        *,
        rebuild: bool,
        user_text: str,
        resuming: int | None,
    ) -> None:
        store = self.chat_app.store
        status = self.status
        status.streaming = True
        status.waiting_since = time.time() if resuming is None else None
        status.retry_attempt = ""
        status.provider = self.chat_app.display_name(self.provider_name)
        status.model = self.model
        self.post_message(self.StatusChanged(self))
        view: MessageView | None = self._views.get(resuming) if resuming else None
        reply_id: int | None = resuming
        user_id: int | None = None
        try:
            async with aclosing(events):
                async for event in events:
                    if type(event) is TextDelta:
                        if view is not None:
                            view.append(event.text)
                        if self._retry_notice:  # the retry worked
                            self._hide_notice()
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
                        if store is not None and self.conversation_id is not None:
                            self.title = store.conversation(self.conversation_id).title
                            self.post_message(self.TitleChanged(self))
                    else:
                        self._on_event(event, view)
        except ProviderError as error:
            if view is not None:
                view.finish()
            self._failed(error, user_id, user_text, shown=view is not None and bool(reply_id))
        except StoreError as error:  # the prompt could not be stored: nothing was sent
            self._prompt_back(user_text)
            self.show_notice(not_sent(str(error)), error=True)
        except asyncio.CancelledError:
            if view is not None:
                view.finish()
            raise
        else:
            if view is not None:
                view.finish()
        finally:
            if self._retry_notice:  # stopped, or done, while waiting to retry
                self._hide_notice()
            status.streaming = False
            status.retry_at = status.waiting_since = None
            status.job_id = status.job_status = None
            self._refresh_reply(view, reply_id)
            if self._summarized:  # the prompt was moved onto the summary's branch: show it
                self._summarized = False
                self.rebuild()
            self.post_message(self.StatusChanged(self))

    def _first_token(self) -> None:
        """Text arrived: no longer waiting (nor retrying), streaming."""
        self.status.waiting_since, self.status.retry_attempt = None, ""
        self.post_message(self.StatusChanged(self))

    def _reply_started(self, event: ReplyStarted, rebuild: bool) -> MessageView:
        store = self.chat_app.store
        if store is not None and event.reply_id is not None and rebuild:
            self.rebuild()
            return self._views[event.reply_id]
        if store is not None and event.user_id is not None and event.user_id not in self._views:
            self._append_view(store.message(event.user_id))  # kept even if its reply is not
        if store is not None and event.reply_id is not None:
            return self._append_view(store.message(event.reply_id))
        transient = Message(
            0,
            0,
            None,
            "assistant",
            "",
            provider=self.provider_name,
            model=self.model,
            status=MessageStatus.STREAMING,
            created_at=time.time(),
        )
        return self._append_view(transient)

    def _append_view(self, message: Message) -> MessageView:
        self._path.append(message)
        view = self._view_for(message)
        self.messages.mount(view)
        if self.messages.is_anchored:
            self.messages.scroll_end(animate=False)
        return view

    def _on_event(self, event: object, view: MessageView | None) -> None:
        s = self.status
        now = time.time()
        from llamachat.context.apply import (  # loaded by the first send, not at start-up
            ContextMeasured,
            ContextRetried,
            ContextSummarized,
            ContextTrimmed,
        )

        if isinstance(event, ParamsDropped):
            self.chat_app.tell_once(event.sentence)
        elif isinstance(event, ContextTrimmed | ContextSummarized | ContextRetried):
            self.chat_app.notify(event.sentence, timeout=8)  # nothing was deleted
            self._summarized = self._summarized or isinstance(event, ContextSummarized)
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
            self.show_notice(f"Retrying in {event.delay:.0f} s: {event.reason}", retry=True)
        elif isinstance(event, Usage):
            s.tokens_in += event.prompt_tokens or 0
            s.tokens_out += event.completion_tokens or 0
            if event.cost_usd is not None:
                s.conversation_cost += event.cost_usd
                self.chat_app.add_session_cost(event.cost_usd)
        elif isinstance(event, Credits):
            s.credits = event.remaining_usd
        elif isinstance(event, Finished) and self._unsaved is None:
            self._hide_notice()
        elif isinstance(event, ReplyNotSaved) and self._unsaved is None:
            self._unsaved = event.sentence
            self.show_notice(event.sentence, error=True)
        self.post_message(self.StatusChanged(self))

    def _refresh_reply(self, view: MessageView | None, reply_id: int | None) -> None:
        store = self.chat_app.store
        if view is None:
            return
        if store is not None and reply_id:
            stored = store.message(reply_id)
            if self._unsaved is not None:  # the reply stays whole on screen
                stored = shown_unsaved(stored, view.text, self._unsaved)
            view.update_message(stored)
            self._path = [stored if m.id == stored.id else m for m in self._path]
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
        if error.resumable:
            self.show_notice(error.message, error=True)
            return
        self._prompt_back(user_text)
        store = self.chat_app.store
        if user_text and store is not None and user_id is not None:
            # What is sent next goes where the failed prompt was, never after it.
            self._branch_from = (store.message(user_id).parent_id,)
            self._failed_prompt = user_id
        back = "Your prompt is back in the input: Enter sends it again."
        self.show_notice(back if shown else f"{error.message} {back}", error=True)

    def _prompt_back(self, user_text: str) -> None:
        """Put a prompt that was not answered back in the input, before what was typed since."""
        if user_text and user_text not in self.prompt.text:
            typed = self.prompt.text.strip("\n")  # typed since, or a draft set aside by an edit
            self.prompt.show_text(f"{user_text}\n\n{typed}" if typed else user_text)

    # --- message actions ----------------------------------------------------------

    def on_message_view_action(self, event: MessageView.Action) -> None:
        event.stop()
        message = event.view.message
        app = self.chat_app
        if event.action == "copy":
            app.copy_to_clipboard(message.content)
            app.notify("Message copied to the clipboard.")
        elif event.action == "copy_code":
            blocks = event.view.code_blocks
            if 1 <= event.argument <= len(blocks):
                app.copy_to_clipboard(blocks[event.argument - 1].code)
                app.notify(f"Code block {event.argument} copied to the clipboard.")
            else:
                app.notify(f"This message has no code block {event.argument}.", severity="warning")
        elif event.action == "edit" and message.role == "user":
            if not self._editing:
                self._draft_before_edit = self.prompt.text
            self._branch_from, self._editing = (message.parent_id,), True
            self.prompt.show_text(message.content)
            self.prompt.focus()
            self.show_notice("Editing: Enter sends it as a new branch; Esc cancels.")
        elif (
            event.action == "regenerate"
            and message.job_id
            and message.status is MessageStatus.QUEUED
        ):
            self.resume_job(message)  # a stopped queued job: fetch its reply rather than pay again
        elif event.action == "regenerate":
            target = message if message.role == "user" else None
            if target is None and message.parent_id is not None and app.store is not None:
                target = app.store.message(message.parent_id)
            if target is not None:
                self.regenerate(target)
        elif event.action == "branch":
            self._step_branch(message, event.argument)
        elif event.action == "details":
            app.show_details(message)

    def _step_branch(self, message: Message, step: int) -> None:
        branch = self._branches.get(message.id)
        store = self.chat_app.store
        if branch is None or branch.count < 2 or store is None or self.busy:
            return
        index = (branch.index - 1 + step) % branch.count
        with told_if_refused(self.app):
            store.switch_to(branch.sibling_ids[index])
        self.rebuild()
        target = self._views.get(branch.sibling_ids[index])
        if target is not None:
            self.call_after_refresh(target.focus)

    # --- attachments, notices, drafts ---------------------------------------------

    def action_attach(self) -> None:
        """Ask for an image path or URL to send with the next prompt."""
        self.chat_app.ask_image_path(self)

    def attach_image(self, path_text: str) -> None:
        """Attach the image file or https URL ``path_text`` if the model accepts images."""
        provider = self._provider()
        if provider is None:
            return
        if not self._refuse_images(provider):
            return
        try:
            self.attachments.append(image_reference(path_text))
        except ImageError as error:
            self.show_notice(str(error), error=True)
            return
        self._show_attachments()

    def _refuse_images(self, provider: Provider) -> bool:
        """``True`` if the current model accepts images; else say so and return ``False``."""
        if accepts_images(provider, self.model):
            return True
        self.show_notice(
            f"'{self.model}' on {provider.display_name} does not accept images: pick a model "
            "that does (Ctrl+L), or remove the images (Ctrl+O, then an empty path) to send "
            "text only.",
            error=True,
        )
        return False

    def clear_attachments(self) -> None:
        """Drop the images attached to the next prompt."""
        self.attachments.clear()
        self._show_attachments()
        self._hide_notice()

    def _show_attachments(self) -> None:
        count = len(self.attachments)
        self.attachments_label.update(f"🖼 {count} image{'s' if count != 1 else ''} attached")
        self.attachments_label.display = count > 0

    def show_notice(self, text: str, *, error: bool = False, retry: bool = False) -> None:
        """A line above the prompt (an error sentence, a ``retry`` countdown, an editing hint);
        it quotes model names and server text, so it is shown escaped."""
        self.notice.update(Text(escape_label(text)))
        self.notice.set_class(error, "-error")
        self.notice.display = True
        self._retry_notice = retry
        self._notice_text = text

    def _hide_notice(self) -> None:
        self.notice.display = False
        self._retry_notice = False

    def save_draft(self) -> None:
        """Keep the unsent prompt with the conversation (creating it if needed)."""
        store = self.chat_app.store
        text = self.prompt.text
        if store is None:
            return
        try:
            if self.conversation_id is None:
                if not text.strip():
                    return
                self.conversation_id = store.create_conversation(
                    provider=self.provider_name, model=self.model, system_prompt=self.system_prompt
                ).id
            store.save_draft(self.conversation_id, text)
        except StoreError as error:  # said once: not again when the notice gives the reason
            if not repeats(self._notice_text if self.notice.display else None, str(error)):
                self.show_notice(f"Your draft could not be kept: {error}", error=True)

    def switch_model(self, provider: str, model: str) -> None:
        """Use another provider or model from the next message on."""
        self.provider_name, self.model = provider, model
        store = self.chat_app.store
        if store is not None and self.conversation_id is not None:
            with told_if_refused(self.app):  # used from now on, kept when there is room
                store.update_settings(self.conversation_id, provider=provider, model=model)
        self.status.provider = self.chat_app.display_name(provider)
        self.status.model = model
        self.status.credits = None  # another provider's balance would mislead
        self.post_message(self.StatusChanged(self))
        self.refresh_credits()
        self.update_meter()  # another model, another window

    def refresh_credits(self) -> None:
        """Ask the provider for its balance, where it has a call for that."""
        provider = self._provider()
        if provider is not None and provider.capabilities.reports_credits and provider.has_key:
            self.run_worker(
                self._fetch_credits(provider), group=f"credits-{self.id}", exclusive=True
            )

    async def _fetch_credits(self, provider: Provider) -> None:
        try:
            credits = await provider.fetch_credits()
        except ProviderError:
            return  # the balance is a nicety; a failure here is not worth a message
        if credits is not None and provider.name == self.provider_name:
            self.status.credits = credits.remaining_usd
            self.post_message(self.StatusChanged(self))

    def on_text_area_changed(self, event: PromptInput.Changed) -> None:
        """Keep the draft a second after typing stops, so even a crash loses nothing; the
        meter counts the draft once typing pauses (not per key: a long draft would cost)."""
        if self._meter_timer is not None:
            self._meter_timer.stop()
        self._meter_timer = self.set_timer(0.3, self.update_meter)
        if self.conversation_id is None:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(1.0, self.save_draft)

    # --- context window ------------------------------------------------------------

    def _context_rules(self) -> ContextRules | None:
        """How the next request is fitted into the model's window (``None``: as it is)."""
        try:
            return self.chat_app.context_rules(
                self.provider_name, self.model, self.context_overflow
            )
        except ConfigError:
            return None

    def stored_params(self) -> dict[str, object]:
        """The parameters kept with the conversation, with its own context policy if set."""
        stored: dict[str, object] = dict(params_dict(self.params))
        if self.context_overflow:
            stored[CONVERSATION_KEY] = self.context_overflow
        return stored

    def update_meter(self) -> None:
        """The status bar's context meter for the branch shown and the draft being typed."""
        rules = self._context_rules()
        window = rules.window if rules is not None else None
        measured = meter(self._path, self.system_prompt, window, self.prompt.text, self._tokens)
        s = self.status
        s.context_used, s.context_window = measured.used, measured.window
        s.context_estimated = measured.estimated
        self.post_message(self.StatusChanged(self))
