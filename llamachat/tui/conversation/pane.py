"""One open conversation on screen: its messages, its prompt, and its own streaming worker.

The rules of the conversation (what is sent, where a prompt attaches, what a
regenerate costs) are the :class:`~llamachat.session.ChatSession`'s; the pane draws
what the session does and turns keys into its actions. Each pane streams on its own
(a worker group per pane), so a reply keeps streaming in a pane you are not looking at.
"""

from __future__ import annotations

import time
from contextlib import suppress
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message as TextualMessage
from textual.timer import Timer

from llamachat.attach_files import with_files
from llamachat.context.tokens import TokenCache
from llamachat.session import ChatSession, ResumeOrPay
from llamachat.store.db import StoreError
from llamachat.store.health import not_sent
from llamachat.store.models import Message, MessageStatus
from llamachat.tui.conversation.attaching import IMAGES_REMEDY, Attaching
from llamachat.tui.conversation.attachments import Attachments
from llamachat.tui.conversation.message import MessageView
from llamachat.tui.conversation.message_list import LOAD, MessageList
from llamachat.tui.conversation.notice import Notice
from llamachat.tui.conversation.prompt import PromptInput
from llamachat.tui.conversation.recall import RECALL_LIMIT
from llamachat.tui.conversation.replies import ReplyDrawer
from llamachat.tui.themes import code_style
from llamachat.tui.unsaved import repeats, told_if_refused
from llamachat.tui.widgets.status_bar import PaneStatus

BUSY = "A reply is still arriving: press Esc to stop it first."


class ChatPane(Attaching, Vertical):
    """A conversation being read and written."""

    DEFAULT_CSS = """
    ChatPane { height: 1fr; }
    ChatPane > PromptInput { margin: 0 1; border: tall $panel; }
    ChatPane > PromptInput:focus { border: tall $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop", show=True, id="pane.stop"),
        Binding("ctrl+r", "regenerate", "Regenerate", show=True, id="pane.regenerate"),
        Binding("ctrl+o", "attach", "Attach", show=False, id="pane.attach"),
    ]

    @dataclass
    class StatusChanged(TextualMessage):
        """The pane's status (provider, job, credits, money, tokens) changed."""

        pane: ChatPane

    @dataclass
    class TitleChanged(TextualMessage):
        """The conversation got a title or an id (its first message was stored)."""

        pane: ChatPane

    @dataclass
    class Warning(TextualMessage):
        """A warning worth saying once a session (a parameter a provider does not take)."""

        sentence: str

    def __init__(self, session: ChatSession, *, pane_id: str, background_jobs: set[int]) -> None:
        super().__init__(id=pane_id)
        self.session = session
        #: Queued replies the app fetches in the background (not resumed by this pane).
        self._background_jobs = background_jobs
        self.status = PaneStatus(provider=session.provider_name, model=session.model)
        self.messages = MessageList(session, self._make_view, id="messages")
        self.earlier = self.messages.earlier
        self.notice = Notice(id="notice")
        self.attachments = Attachments(id="attachments")
        self.prompt = PromptInput(
            id="prompt", recall=self._recalled, keymap=session.workspace.keymap
        )
        self.replies = ReplyDrawer(self)
        self._draft_timer: Timer | None = None
        self._meter_timer: Timer | None = None
        self._tokens = TokenCache()  # token estimates, one per message, for the meter

    @property
    def title(self) -> str:
        """The conversation's title ("New chat" until it has one)."""
        return self.session.title

    @property
    def conversation_id(self) -> int | None:
        """The stored conversation shown (``None`` until its first message or draft)."""
        return self.session.conversation_id

    @property
    def busy(self) -> bool:
        """Whether a reply is being received."""
        return self.replies.busy

    def compose(self) -> ComposeResult:
        yield self.messages
        yield self.notice
        yield self.attachments
        yield self.prompt

    def on_mount(self) -> None:
        self.messages.anchor()
        if self.session.conversation_id is not None:
            self.load(self.session.conversation_id)

    def _make_view(self, message: Message) -> MessageView:
        return MessageView(
            message,
            display_name=self.display_name(message.provider) if message.provider else None,
            branch=self.session.branches.get(message.id),
            code_theme=code_style(self.app.current_theme),
        )

    def display_name(self, provider: str | None) -> str:
        """A provider's human name."""
        return self.session.workspace.display_name(provider)

    # --- loading ------------------------------------------------------------------

    def load(self, conversation_id: int, at_message: int | None = None) -> None:
        """Show a stored conversation: its settings, its draft, its last messages."""
        session = self.session
        if session.store is None:
            return
        self._before_show()
        self.messages.open(conversation_id, at_message, then=self.update_meter)
        if session.draft and not self.prompt.text:
            self.prompt.show_text(session.draft)
        self.status_changed()
        if session.totals.credits_usd is None:  # after the first paint: it imports httpx
            self.call_after_refresh(self.refresh_credits)
        self._resume_left_jobs()

    def on_message_list_counted(self, event: MessageList.Counted) -> None:
        event.stop()
        self.status_changed()

    def _resume_left_jobs(self) -> None:
        """Poll again a queued job an earlier run left in this conversation (not one stopped)."""
        if self.busy:
            return
        for message in self.session.left_jobs():
            if message.id in self.messages.views and message.id not in self._background_jobs:
                self.resume_job(message)
                return  # one reply at a time per pane; the others are resumed when asked

    def _before_show(self) -> None:
        focused = self.app.focused
        if isinstance(focused, MessageView) and focused.parent is self.messages:
            self.prompt.focus()  # its view is going: the prompt, not whatever comes next

    def rebuild(self) -> None:
        """Redraw from the store (after a branch switch, an edit or a regenerate)."""
        if self.session.reload(LOAD):
            self._before_show()
            self.messages.show(then=self.update_meter)
            self.status_changed()

    def sync_with_store(self) -> None:
        """Show what another process changed in this conversation (a job's reply, a new
        message, a title), unless a reply is arriving here or a prompt is being edited."""
        if self.busy or self.session.editing:
            return
        moved, retitled = self.session.changes_elsewhere()
        if moved:
            self.rebuild()
        if retitled:
            self.title_changed()

    def title_changed(self) -> None:
        """Tell the app the conversation's title (or id) changed."""
        self.post_message(self.TitleChanged(self))

    def warn(self, sentence: str) -> None:
        """A warning the app says once a session."""
        self.post_message(self.Warning(sentence))

    def status_changed(self) -> None:
        """Bring the status up to date with the session, and tell the app."""
        s, t = self.status, self.session.totals
        s.provider, s.model = self.display_name(self.session.provider_name), self.session.model
        s.persona = self.session.persona or ""
        s.conversation_cost, s.credits = t.cost_usd, t.credits_usd
        s.tokens_in, s.tokens_out = t.prompt_tokens, t.completion_tokens
        self.post_message(self.StatusChanged(self))

    # --- sending ------------------------------------------------------------------

    def on_prompt_input_read_back(self, event: PromptInput.ReadBack) -> None:
        event.stop()
        messages = self.messages
        page = messages.scrollable_content_region.height
        # At once, not after the next refresh: quick presses each move a whole page. Scrolling
        # releases the anchor (the view stops following); at the bottom following resumes.
        messages.scroll_to(y=messages.scroll_y + event.pages * page, animate=False, immediate=True)

    def on_attachments_changed(self, event: Attachments.Changed) -> None:
        event.stop()
        self.update_meter()  # the files attached count in the next request

    def on_prompt_input_problem(self, event: PromptInput.Problem) -> None:
        event.stop()
        self.show_notice(event.sentence, error=True)

    def _recalled(self) -> list[str]:
        """Earlier prompts for Up: this conversation's first, then every conversation's."""
        store = self.session.store
        if store is None:
            return []
        with suppress(StoreError):
            return store.recent_prompts(self.session.conversation_id, RECALL_LIMIT)
        return []

    def on_prompt_input_to_end(self, event: PromptInput.ToEnd) -> None:
        event.stop()
        self.messages.follow() if event.newest else self.messages.action_first()

    def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        event.stop()
        attached = self.attachments.images or self.attachments.files
        if event.text.strip() or attached:  # a file alone is a prompt; blank alone is not
            self.submit(event.text)

    def submit(self, text: str) -> None:
        """Send ``text`` (with any attached images) as the next prompt."""
        if self.busy:
            self.notify(BUSY)
            return
        session = self.session
        try:
            refused = session.images_refused(self.attachments.images, IMAGES_REMEDY)
            if refused is not None:
                self.show_notice(refused, error=True)
                return  # the text and the images stay where they are
            sent = with_files(text, self.attachments.files)
            sending = session.send(sent, self.attachments.images, keep_unsaved=False)
        except StoreError as error:  # a full disk, say: the prompt stays where it is
            self.show_notice(not_sent(str(error)), error=True)
            return
        except Exception as error:  # a provider that cannot be built: said, nothing sent
            self.show_notice(f"{error}", error=True)
            return
        images = self.attachments.take()
        self.attachments.take_files()
        self.prompt.remove_sent(text)
        if sending.draft_set_aside is not None and not self.prompt.text:
            self.prompt.show_text(sending.draft_set_aside)
        for image in sending.images_set_aside:
            self.attachments.add(image)
        self.notice.hide()
        if session.store is not None and session.conversation_id is not None:
            with suppress(StoreError):  # the send below says why
                session.store.save_draft(session.conversation_id, self.prompt.text)
        if session.store is None:  # nothing is stored: show the prompt ourselves
            self.messages.append(
                Message(0, 0, None, "user", sent, tuple(images), created_at=time.time())
            )
        self.replies.start(sending.events, rebuild=sending.branching, user_text=sent, resuming=None)

    def action_regenerate(self) -> None:
        """Ask again for the last reply (the old one is kept as a branch)."""
        last_user = next((m for m in reversed(self.session.path) if m.role == "user"), None)
        if last_user is not None:
            self.regenerate(last_user)

    def regenerate(self, prompt: Message, *, pay_again: bool = False) -> None:
        """A new reply to ``prompt``, beside the existing ones; if a queued job answering it
        may still run, the person chooses between resuming it and paying for a new one."""
        if self.busy:
            self.notify(BUSY)
            return
        try:
            regenerating = self.session.regenerate(prompt, pay_again=pay_again)
        except StoreError:
            return  # nothing stored to answer again
        except Exception as error:
            self.show_notice(f"{error}", error=True)
            return
        if isinstance(regenerating, ResumeOrPay):
            from llamachat.tui.screens.dialogs import ChoiceScreen

            def chosen(answer: str | None) -> None:
                if answer == "resume":
                    self.resume_job(regenerating.running)
                elif answer == "submit":
                    self.regenerate(regenerating.prompt, pay_again=True)

            choices = [("resume", "Resume job"), ("submit", "Submit new (billed)")]
            self.app.push_screen(ChoiceScreen(regenerating.question, choices), chosen)
        else:
            self.replies.start(regenerating, rebuild=True, user_text="", resuming=None)

    def resume_job(self, message: Message) -> None:
        """Poll a queued job of this conversation again (at the provider that queued it)."""
        if self.busy:
            return
        try:
            with told_if_refused(self.app):  # a lock held elsewhere: resumed when asked again
                events = self.session.resume(message)
                if events is not None:
                    self.replies.start(events, rebuild=False, user_text="", resuming=message.id)
        except Exception as error:
            self.show_notice(f"{error}", error=True)

    def action_stop(self) -> None:
        """Stop the reply: what arrived is kept, marked interrupted (Esc also ends an edit)."""
        if self.session.editing and not self.busy:
            draft, images = self.session.cancel_edit()
            self.prompt.show_text(draft)
            self.attachments.clear()
            for image in images:
                self.attachments.add(image)
            self.notice.hide()
            return
        self.replies.stop()

    # --- message actions ----------------------------------------------------------

    def on_message_view_action(self, event: MessageView.Action) -> None:
        """Actions that change the conversation (copying and details are the list's)."""
        event.stop()
        message = event.view.message
        if event.action == "edit" and message.role == "user":
            images = self.session.begin_edit(message, self.prompt.text, self.attachments.take())
            for image in images:  # the edited prompt keeps its images unless removed
                self.attachments.add(image)
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
            prompt = self.session.prompt_of(message)
            if prompt is not None:
                self.regenerate(prompt)
        elif event.action == "branch":
            self._step_branch(message, event.argument)

    def _step_branch(self, message: Message, step: int) -> None:
        if self.busy:
            return
        with told_if_refused(self.app):
            target = self.session.step_branch(message, step)
            if target is None:
                return
        self.rebuild()
        view = self.messages.views.get(target)
        if view is not None:
            self.call_after_refresh(view.focus)

    # --- attachments, notices, drafts ---------------------------------------------

    def show_notice(self, text: str, *, error: bool = False, retry: bool = False) -> None:
        """A line above the prompt (an error sentence, a ``retry`` countdown, an editing hint)."""
        self.notice.say(text, error=error, retry=retry)

    def save_draft(self) -> None:
        """Keep the unsent prompt with the conversation (creating it if needed)."""
        try:
            self.session.save_draft(self.prompt.text)
        except StoreError as error:  # said once: not again when the notice gives the reason
            if not repeats(self.notice.shown, str(error)):
                self.show_notice(f"Your draft could not be kept: {error}", error=True)

    def switch_model(self, provider: str, model: str) -> None:
        """Use another provider or model from the next message on."""
        with told_if_refused(self.app):  # used from now on, kept when there is room
            self.session.switch_model(provider, model)
        self.status_changed()
        self.refresh_credits()
        self.update_meter()  # another model, another window

    def refresh_credits(self) -> None:
        """Ask the provider for its balance, where it has a call for that."""
        if self.session.reports_credits():
            self.run_worker(self._fetch_credits(), group=f"credits-{self.id}", exclusive=True)

    async def _fetch_credits(self) -> None:
        if await self.session.fetch_credits():
            self.status_changed()

    def on_text_area_changed(self, event: PromptInput.Changed) -> None:
        """Keep the draft a second after typing stops, so even a crash loses nothing; the
        meter counts the draft once typing pauses (not per key: a long draft would cost)."""
        if self._meter_timer is not None:
            self._meter_timer.stop()
        self._meter_timer = self.set_timer(0.3, self.update_meter)
        if self.session.conversation_id is None:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(1.0, self.save_draft)

    def update_meter(self) -> None:
        """The status bar's context meter for the branch shown and the draft being typed."""
        draft = with_files(self.prompt.text, self.attachments.files)
        measured = self.session.meter(draft, self._tokens)
        s = self.status
        s.context_used, s.context_window = measured.used, measured.window
        s.context_estimated = measured.estimated
        self.post_message(self.StatusChanged(self))
